//! The knowledge base as a service: the starter KB on first run, saving and importing
//! entries (store first, then the bot's index), products, the lexicon, and "try the bot".

use super::{Actor, Desk, Error, Result};
use crate::bot::{self, Ctx, Engine, KbData, Reply, index::Location};
use crate::model::{Invalid, KbEntry, Lexicon, Product};
use crate::store;
use crate::store::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: usize,
    pub replaced: usize,
    pub removed: usize,
}

impl Desk {
    /// Loads the starter KB into an empty store (once), then opens the bot over the
    /// store's KB with its index at `loc`.
    pub async fn open_bot(mut self, loc: Location) -> Result<Desk> {
        let seeded = self.seed_starter_kb().await?;
        if seeded > 0 {
            tracing::info!(entries = seeded, "loaded the starter knowledge base");
        }
        let data = self.kb_data()?;
        let started = std::time::Instant::now();
        let engine = tokio::task::spawn_blocking(move || Engine::open(loc, data))
            .await
            .map_err(|e| Error::Refused(format!("bot start failed: {e}")))?
            .map_err(bot_error)?;
        let ms = started.elapsed().as_millis() as u64;
        if engine.rebuilt_on_open() {
            tracing::info!(entries = engine.entry_count(), ms, "built the search index");
        } else {
            tracing::info!(
                entries = engine.entry_count(),
                ms,
                "reused the search index"
            );
        }
        self.bot = Some(Arc::new(engine));
        Ok(self)
    }

    /// Puts the starter KB into a store that never had one offered and holds no entry;
    /// returns how many entries it added.
    pub async fn seed_starter_kb(&self) -> Result<usize> {
        let entries = bot::starter::entries();
        Ok(self
            .store
            .write(move |tx| {
                if tx.kb_seeded()? {
                    return Ok(0);
                }
                tx.mark_kb_seeded()?;
                if tx.count_entries()? > 0 {
                    return Ok(0);
                }
                for e in &entries {
                    tx.put_entry(e)?;
                }
                Ok(entries.len())
            })
            .await?)
    }

    /// Everything the bot is built from, read in one snapshot.
    pub fn kb_data(&self) -> Result<KbData> {
        let r = self.store.read()?;
        Ok(KbData {
            entries: r.list_entries()?,
            products: r.list_products()?,
            lexicon: r.get_lexicon()?,
            generation: r.kb_generation()?,
        })
    }

    /// The bot (absent in command-line tools, which leave the index to the server).
    pub fn bot(&self) -> Result<&Arc<Engine>> {
        self.bot
            .as_ref()
            .ok_or_else(|| Error::Refused("the bot is not running in this process".into()))
    }

    /// What the bot would answer to `text` for a pre-sale buyer looking at `product`.
    pub fn try_bot(&self, text: &str, product: Option<&str>) -> Result<Reply> {
        let settings = self.settings()?;
        let mut ctx = Ctx::new(&settings, self.clock.now());
        ctx.product = product;
        Ok(self.bot()?.reply(&ctx, text))
    }

    /// Checks an entry and the ids it refers to; `known` are ids that exist or arrive
    /// together with it.
    fn check_entry(entry: &KbEntry, known: &HashSet<String>) -> Result<(), Invalid> {
        let mut inv = entry.validate().err().unwrap_or_default();
        let missing: Vec<&str> = entry
            .follow_ups
            .iter()
            .filter(|f| !known.contains(*f))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            inv.add(
                "follow_ups",
                format!("引导问题不存在：{}", missing.join("、")),
            );
        }
        inv.into_result()
    }

    fn entry_ids(&self) -> Result<HashSet<String>> {
        Ok(self
            .store
            .read()?
            .list_entries()?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    /// Creates or replaces an entry: stored first, then answerable at once.
    pub async fn save_entry(&self, actor: &Actor, entry: KbEntry) -> Result<KbEntry> {
        let entry = entry.normalized();
        let mut known = self.entry_ids()?;
        known.insert(entry.id.clone());
        Self::check_entry(&entry, &known)?;
        let audit = self.audit(actor, "kb.save", &entry.id, entry.question.clone());
        let stored = entry.clone();
        let generation = self
            .store
            .write(move |tx| {
                let g = tx.put_entry(&stored)?;
                tx.append_audit(&audit)?;
                Ok(g)
            })
            .await?;
        if let Some(bot) = &self.bot {
            bot.put_entry(entry.clone(), generation)
                .map_err(bot_error)?;
        }
        Ok(entry)
    }

    /// Deletes an entry.
    pub async fn delete_entry(&self, actor: &Actor, id: &str) -> Result<()> {
        let audit = self.audit(actor, "kb.delete", id, String::new());
        let key = id.to_string();
        let generation = self
            .store
            .write(move |tx| {
                if !tx.delete_entry(&key)? {
                    return Err(store::Error::NotFound);
                }
                tx.append_audit(&audit)?;
                tx.kb_generation()
            })
            .await
            .map_err(|e| match e {
                store::Error::NotFound => Error::NotFound,
                other => other.into(),
            })?;
        if let Some(bot) = &self.bot {
            bot.remove_entry(id, generation).map_err(bot_error)?;
        }
        Ok(())
    }

    /// Imports entries in one transaction: all or nothing. With `replace`, entries not
    /// in the file are removed; otherwise entries with the same id are replaced.
    pub async fn import_kb(
        &self,
        actor: &Actor,
        entries: Vec<KbEntry>,
        replace: bool,
    ) -> Result<ImportSummary> {
        let existing = self.entry_ids()?;
        let mut known: HashSet<String> = entries.iter().map(|e| e.id.clone()).collect();
        if !replace {
            known.extend(existing.iter().cloned());
        }
        let mut problems = Invalid::default();
        for e in &entries {
            if let Err(inv) = Self::check_entry(e, &known) {
                problems.add("file", format!("{}：{inv}", e.id));
            }
        }
        problems.into_result()?;
        let replaced = entries.iter().filter(|e| existing.contains(&e.id)).count();
        let summary = ImportSummary {
            added: entries.len() - replaced,
            replaced,
            removed: if replace {
                existing.len() - replaced
            } else {
                0
            },
        };
        let detail = format!(
            "新增 {} 条，覆盖 {} 条，删除 {} 条",
            summary.added, summary.replaced, summary.removed
        );
        let audit = self.audit(actor, "kb.import", "知识库", detail);
        self.store
            .write(move |tx| {
                if replace {
                    tx.clear_entries()?;
                }
                for e in &entries {
                    tx.put_entry(e)?;
                }
                tx.mark_kb_seeded()?;
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot()?;
        Ok(summary)
    }

    /// Every entry, by id.
    pub fn list_entries(&self) -> Result<Vec<KbEntry>> {
        Ok(self.store.read()?.list_entries()?)
    }

    /// Creates or replaces a product.
    pub async fn save_product(&self, actor: &Actor, product: Product) -> Result<Product> {
        product.validate()?;
        let audit = self.audit(actor, "product.save", &product.sku, product.name.clone());
        let p = product.clone();
        self.store
            .write(move |tx| {
                tx.put_product(&p)?;
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot()?;
        Ok(product)
    }

    /// Replaces the trainer's synonyms and shop words.
    pub async fn save_lexicon(&self, actor: &Actor, lexicon: Lexicon) -> Result<()> {
        let detail = format!(
            "同义词 {} 组，店铺词 {} 个",
            lexicon.synonyms.len(),
            lexicon.words.len()
        );
        let audit = self.audit(actor, "lexicon.save", "词库", detail);
        self.store
            .write(move |tx| {
                tx.put_lexicon(&lexicon)?;
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot()
    }

    /// Rebuilds the bot from the store (after imports, product or lexicon changes).
    fn reload_bot(&self) -> Result<()> {
        if let Some(bot) = &self.bot {
            bot.reload(self.kb_data()?).map_err(bot_error)?;
        }
        Ok(())
    }
}

fn bot_error(e: bot::Error) -> Error {
    Error::Bot(e.to_string())
}
