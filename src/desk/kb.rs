//! The knowledge base as a service: the starter KB on first run, saving and importing
//! entries (store first, then the bot's index), products, the lexicon, and "try the bot".

use super::{Actor, Desk, Error, Result};
use crate::bot::{self, Ctx, Engine, KbData, Reply, index::Location};
use crate::model::{Invalid, KbEntry, Lexicon, Product, QuickReply, TrainStatus};
use crate::store;
use crate::store::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: usize,
    /// Entries with the same id, changed by the file.
    pub replaced: usize,
    /// Entries with the same id that the file holds as they were.
    pub unchanged: usize,
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
                // A new shop's agents start with a few team quick replies too.
                if tx.list_quick_replies()?.is_empty() {
                    for q in QuickReply::starters() {
                        tx.put_quick_reply(q)?;
                    }
                }
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

    /// Checks an entry and the ids it refers to; `known` are entry ids that exist or
    /// arrive together with it, `skus` the products that exist.
    fn check_entry(
        entry: &KbEntry,
        known: &HashSet<String>,
        skus: &HashSet<String>,
    ) -> Result<(), Invalid> {
        let mut inv = entry.validate().err().unwrap_or_default();
        let missing = absent(entry.follow_ups.iter(), known);
        if !missing.is_empty() {
            inv.add(
                "follow_ups",
                format!("引导问题不存在：{}", missing.join("、")),
            );
        }
        // An answer for a SKU no product has would never be given (a typo, most often).
        let strays = absent(entry.product_answers.keys(), skus);
        if !strays.is_empty() {
            inv.add(
                "product_answers",
                format!(
                    "商品不存在：{}（请先在“商品”页添加或导入这些商品）",
                    strays.join("、")
                ),
            );
        }
        inv.into_result()
    }

    fn entry_ids(&self) -> Result<HashSet<String>> {
        Ok(self.store.read()?.entry_ids()?.into_iter().collect())
    }

    pub(super) fn product_skus(&self) -> Result<HashSet<String>> {
        Ok(self.store.read()?.product_skus()?.into_iter().collect())
    }

    /// Creates or replaces an entry: stored first, then answerable at once.
    pub async fn save_entry(&self, actor: &Actor, entry: KbEntry) -> Result<KbEntry> {
        self.store_entry(actor, entry, None, false).await
    }

    /// Creates an entry; an id already taken is refused (an empty id gets a new one).
    pub async fn create_entry(
        &self,
        actor: &Actor,
        mut entry: KbEntry,
        settle: Option<(Vec<u64>, TrainStatus)>,
    ) -> Result<KbEntry> {
        if entry.id.trim().is_empty() {
            entry.id = self.new_entry_id()?;
        }
        self.store_entry(actor, entry, settle, true).await
    }

    /// An id no entry has: `e` and the first free number from the entry count on.
    pub fn new_entry_id(&self) -> Result<String> {
        let ids = self.entry_ids()?;
        Ok((ids.len() + 1..)
            .map(|n| format!("e{n}"))
            .find(|id| !ids.contains(id))
            .unwrap_or_default())
    }

    /// Saves an entry and, in the same transaction, settles the training questions it
    /// answers (`settle`: their ids and what was done), so the queue never shows a
    /// question as open once its phrasing is in the KB.
    pub async fn save_entry_settling(
        &self,
        actor: &Actor,
        entry: KbEntry,
        settle: Option<(Vec<u64>, TrainStatus)>,
    ) -> Result<KbEntry> {
        self.store_entry(actor, entry, settle, false).await
    }

    async fn store_entry(
        &self,
        actor: &Actor,
        entry: KbEntry,
        settle: Option<(Vec<u64>, TrainStatus)>,
        create: bool,
    ) -> Result<KbEntry> {
        let entry = entry.normalized();
        let _order = self.kb_lock.lock().await;
        let mut known = self.entry_ids()?;
        if create && known.contains(&entry.id) {
            let mut inv = Invalid::default();
            inv.add("id", format!("编号 {} 已被其他问题使用", entry.id));
            return Err(inv.into());
        }
        known.insert(entry.id.clone());
        Self::check_entry(&entry, &known, &self.product_skus()?)?;
        // Questions waiting in training that are now one of the entry's phrasings are
        // answered by it, however the phrasing got there (the editor, 新建问题 from
        // another question, an import), besides the questions the caller settles.
        let phrased = if entry.enabled {
            self.open_questions_in(entry.phrasings())?
        } else {
            Vec::new()
        };
        let settle = match settle {
            Some((mut ids, status)) => {
                let more: Vec<u64> = phrased.into_iter().filter(|i| !ids.contains(i)).collect();
                ids.extend(more);
                Some((ids, status))
            }
            None => Some((phrased, TrainStatus::Added)).filter(|(ids, _)| !ids.is_empty()),
        };
        let audit = self.audit(actor, "kb.save", &entry.id, entry.question.clone());
        let stored = entry.clone();
        let settle = settle.map(|(ids, status)| self.settling(actor, ids, status, Some(&entry.id)));
        let generation = self
            .store
            .write(move |tx| {
                let g = tx.put_entry(&stored)?;
                if let Some(s) = &settle {
                    s.apply(tx)?;
                }
                tx.append_audit(&audit)?;
                Ok(g)
            })
            .await?;
        let update = entry.clone();
        self.update_bot(move |bot| bot.put_entry(update, generation))
            .await;
        Ok(entry)
    }

    /// Deletes an entry.
    pub async fn delete_entry(&self, actor: &Actor, id: &str) -> Result<()> {
        let _order = self.kb_lock.lock().await;
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
            .await?;
        let id = id.to_string();
        self.update_bot(move |bot| bot.remove_entry(&id, generation))
            .await;
        Ok(())
    }

    /// Applies a change the store already committed to the bot, off the async workers.
    /// The store is the truth: if the bot cannot take the change, it is rebuilt from the
    /// store (and if even that fails, the next start rebuilds it).
    async fn update_bot(&self, change: impl FnOnce(&Engine) -> bot::Result<()> + Send + 'static) {
        let Some(bot) = self.bot.clone() else { return };
        let data = self.kb_data();
        let outcome = tokio::task::spawn_blocking(move || {
            change(&bot).or_else(|e| {
                tracing::warn!(error = %e, "bot update failed; rebuilding from the store");
                bot.reload(data.map_err(|e| bot::Error::Index(e.to_string()))?)
            })
        })
        .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "bot rebuild failed; it is rebuilt at the next start")
            }
            Err(e) => tracing::error!(error = %e, "bot update panicked"),
        }
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
        let known = import_known(entries.iter().map(|e| e.id.as_str()), &existing, replace);
        let skus = self.product_skus()?;
        let mut problems = Invalid::default();
        for e in &entries {
            if let Err(inv) = Self::check_entry(e, &known, &skus) {
                problems.add("file", format!("{}：{inv}", e.id));
            }
        }
        problems.into_result()?;
        let stored: std::collections::HashMap<String, KbEntry> = self
            .store
            .read()?
            .list_entries()?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let kept = entries.iter().filter(|e| existing.contains(&e.id)).count();
        let unchanged = entries
            .iter()
            .filter(|e| stored.get(&e.id) == Some(*e))
            .count();
        let summary = ImportSummary {
            added: entries.len() - kept,
            replaced: kept - unchanged,
            unchanged,
            removed: if replace { existing.len() - kept } else { 0 },
        };
        let detail = format!(
            "新增 {} 条，更新 {} 条，未变 {} 条，删除 {} 条",
            summary.added, summary.replaced, summary.unchanged, summary.removed
        );
        let audit = self.audit(actor, "kb.import", "知识库", detail);
        // Queued questions the file's entries now hold as phrasings leave the queue.
        let mut settling = Vec::new();
        for e in entries.iter().filter(|e| e.enabled) {
            let ids = self.open_questions_in(e.phrasings())?;
            if !ids.is_empty() {
                settling.push(self.settling(actor, ids, TrainStatus::Added, Some(&e.id)));
            }
        }
        self.store
            .write(move |tx| {
                if replace {
                    tx.clear_entries()?;
                }
                for e in &entries {
                    tx.put_entry(e)?;
                }
                for s in &settling {
                    s.apply(tx)?;
                }
                tx.mark_kb_seeded()?;
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot().await;
        Ok(summary)
    }

    /// The rows of an import file (line number, entry) that [`Desk::import_kb`] would
    /// refuse, with why: checked against the file's other rows and, unless `replace`,
    /// the entries already stored (a follow-up must exist).
    pub fn kb_import_problems(
        &self,
        rows: &[(usize, KbEntry)],
        replace: bool,
    ) -> Result<Vec<(usize, String)>> {
        let ids = rows.iter().map(|(_, e)| e.id.as_str());
        let known = import_known(ids, &self.entry_ids()?, replace);
        let skus = self.product_skus()?;
        Ok(rows
            .iter()
            .filter_map(|(n, e)| {
                let inv = Self::check_entry(e, &known, &skus).err()?;
                Some((*n, inv.to_string()))
            })
            .collect())
    }

    /// Every entry, by id.
    pub fn list_entries(&self) -> Result<Vec<KbEntry>> {
        Ok(self.store.read()?.list_entries()?)
    }

    /// Creates or replaces a product.
    pub async fn save_product(&self, actor: &Actor, product: Product) -> Result<Product> {
        product.validate()?;
        let _order = self.kb_lock.lock().await;
        let audit = self.audit(actor, "product.save", &product.sku, product.name.clone());
        let p = product.clone();
        self.store
            .write(move |tx| {
                tx.put_product(&p)?;
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot().await;
        Ok(product)
    }

    /// Replaces the trainer's synonyms and shop words.
    pub async fn save_lexicon(&self, actor: &Actor, lexicon: Lexicon) -> Result<()> {
        let detail = format!(
            "同义词 {} 组，店铺词 {} 个",
            lexicon.synonyms.len(),
            lexicon.words.len()
        );
        let _order = self.kb_lock.lock().await;
        let audit = self.audit(actor, "lexicon.save", "词库", detail);
        self.store
            .write(move |tx| {
                tx.put_lexicon(&lexicon)?;
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot().await;
        Ok(())
    }

    /// Rebuilds the bot from the store (after imports, product or lexicon changes).
    pub(super) async fn reload_bot(&self) {
        let data = self.kb_data();
        self.update_bot(move |bot| bot.reload(data.map_err(|e| bot::Error::Index(e.to_string()))?))
            .await;
    }
}

fn bot_error(e: bot::Error) -> Error {
    Error::Bot(e.to_string())
}

/// The ids among `ids` that `known` lacks.
fn absent<'a>(ids: impl Iterator<Item = &'a String>, known: &HashSet<String>) -> Vec<&'a str> {
    ids.filter(|id| !known.contains(*id))
        .map(String::as_str)
        .collect()
}

/// The ids a follow-up in an import may name: the file's own, and unless `replace`, the
/// stored ones.
fn import_known<'e>(
    ids: impl Iterator<Item = &'e str>,
    existing: &HashSet<String>,
    replace: bool,
) -> HashSet<String> {
    let mut known: HashSet<String> = ids.map(str::to_string).collect();
    if !replace {
        known.extend(existing.iter().cloned());
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::testing::desk;

    async fn with_bot() -> (tempfile::TempDir, Desk) {
        let (dir, desk, _clock) = desk();
        let desk = desk.open_bot(Location::Ram).await.unwrap();
        (dir, desk)
    }

    fn answered(desk: &Desk, text: &str) -> Option<String> {
        desk.try_bot(text, None).unwrap().entry
    }

    #[actix_web::test]
    async fn the_starter_kb_is_loaded_once() {
        let (_d, desk) = with_bot().await;
        let n = desk.list_entries().unwrap().len();
        assert!(n >= 120);
        assert_eq!(desk.seed_starter_kb().await.unwrap(), 0, "never twice");
        let quick = desk.store().read().unwrap().list_quick_replies().unwrap();
        assert_eq!(
            quick.len(),
            QuickReply::starters().len(),
            "team replies, once"
        );
        assert!(
            quick
                .iter()
                .all(|q| q.owner.is_none() && q.validate().is_ok())
        );
        assert_eq!(answered(&desk, "包邮吗").as_deref(), Some("ship-free"));
    }

    #[actix_web::test]
    async fn saved_entries_answer_at_once_and_deleted_ones_stop() {
        let (_d, desk) = with_bot().await;
        let actor = Actor::cli();
        let mut e = KbEntry::new("pet", "卖宠物粮吗", "亲，本店不卖宠物粮哦");
        e.similar = vec!["有狗粮猫粮吗".into()];
        desk.save_entry(&actor, e).await.unwrap();
        assert_eq!(answered(&desk, "你们卖宠物粮吗").as_deref(), Some("pet"));
        let mut dangling = KbEntry::new("x", "问题", "答案");
        dangling.follow_ups = vec!["nope".into()];
        let err = desk.save_entry(&actor, dangling).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(i) if i.get("follow_ups").is_some()));
        desk.delete_entry(&actor, "pet").await.unwrap();
        assert_ne!(answered(&desk, "你们卖宠物粮吗").as_deref(), Some("pet"));
        assert!(matches!(
            desk.delete_entry(&actor, "pet").await,
            Err(Error::NotFound)
        ));
        let log = desk.store().read().unwrap().list_audit(None, 5).unwrap();
        assert_eq!(log[0].action, "kb.delete");
        assert_eq!(log[1].action, "kb.save");
    }

    #[actix_web::test]
    async fn concurrent_saves_reach_the_bot_in_commit_order() {
        let (_d, desk) = with_bot().await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let d = desk.clone();
            tasks.push(actix_web::rt::spawn(async move {
                let e = KbEntry::new("same", "这款有赠品吗", &format!("答案{i}"));
                d.save_entry(&Actor::cli(), e).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let stored = desk
            .store()
            .read()
            .unwrap()
            .get_entry("same")
            .unwrap()
            .unwrap();
        let r = desk.try_bot("这款有赠品吗", None).unwrap();
        assert_eq!(r.entry.as_deref(), Some("same"));
        assert_eq!(
            r.answer, stored.answer,
            "the bot holds what the store holds"
        );
        assert_eq!(
            desk.bot().unwrap().generation(),
            desk.store().read().unwrap().kb_generation().unwrap()
        );
    }

    #[actix_web::test]
    async fn lexicon_and_product_changes_retokenize_the_index() {
        let (_d, desk) = with_bot().await;
        let actor = Actor::cli();
        // The entry says "xr"; a buyer writes the brand's full name.
        let e = KbEntry::new("brand", "xr", "亲，小二牌是官方正品哦");
        desk.save_entry(&actor, e).await.unwrap();
        assert_ne!(answered(&desk, "小二牌").as_deref(), Some("brand"));
        let lexicon = Lexicon {
            synonyms: vec![vec!["小二牌".into(), "xr".into()]],
            words: vec![],
        };
        desk.save_lexicon(&actor, lexicon).await.unwrap();
        assert_eq!(answered(&desk, "小二牌").as_deref(), Some("brand"));

        let mut p = Product::new("T1", "云朵拖鞋");
        p.stock = Some(0);
        desk.save_product(&actor, p).await.unwrap();
        let r = desk.try_bot("云朵拖鞋有货吗", None).unwrap();
        assert!(r.answer.contains("缺货"), "{}", r.answer);
    }

    #[actix_web::test]
    async fn imports_replace_or_merge_in_one_step() {
        let (_d, desk) = with_bot().await;
        let actor = Actor::cli();
        let a = KbEntry::new("a", "能开发票吗", "可以开电子发票");
        let s = desk.import_kb(&actor, vec![a], true).await.unwrap();
        assert_eq!((s.added, s.replaced), (1, 0));
        assert!(s.removed >= 120);
        assert_eq!(desk.list_entries().unwrap().len(), 1);
        assert_eq!(answered(&desk, "可以开发票吗").as_deref(), Some("a"));
        assert_eq!(answered(&desk, "包邮吗"), None);
        let mut b = KbEntry::new("b", "包邮吗", "满59包邮");
        b.follow_ups = vec!["a".into()];
        let s = desk
            .import_kb(&actor, vec![b.clone()], false)
            .await
            .unwrap();
        assert_eq!((s.added, s.replaced, s.removed), (1, 0, 0));
        assert_eq!(answered(&desk, "包邮吗").as_deref(), Some("b"));
        // The same file again changes nothing and says so; an edited entry is updated.
        let s = desk
            .import_kb(&actor, vec![b.clone()], false)
            .await
            .unwrap();
        assert_eq!((s.added, s.replaced, s.unchanged), (0, 0, 1));
        b.answer = "满69包邮".into();
        let s = desk.import_kb(&actor, vec![b], false).await.unwrap();
        assert_eq!((s.added, s.replaced, s.unchanged), (0, 1, 0));
    }

    #[actix_web::test]
    async fn an_answer_for_a_product_that_does_not_exist_is_refused() {
        let (_d, desk) = with_bot().await;
        let actor = Actor::cli();
        desk.save_product(&actor, Product::new("CUP-1", "马克杯"))
            .await
            .unwrap();
        let mut e = KbEntry::new("engrave", "能刻字吗", "可以刻字");
        e.product_answers
            .insert("CUP-1".into(), "杯身可以刻 6 个字".into());
        e.product_answers.insert("CUP-9".into(), "不能刻".into());
        let err = desk.save_entry(&actor, e.clone()).await.unwrap_err();
        let Error::Invalid(inv) = err else {
            panic!("{err:?}")
        };
        let said = inv.get("product_answers").unwrap_or_default();
        assert!(said.contains("CUP-9") && !said.contains("CUP-1"), "{said}");
        assert!(
            desk.store()
                .read()
                .unwrap()
                .get_entry("engrave")
                .unwrap()
                .is_none()
        );
        // Imports check it the same way, on the row.
        let rows = [(3, e.clone())];
        let problems = desk.kb_import_problems(&rows, false).unwrap();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].1.contains("CUP-9"), "{problems:?}");
        assert!(
            desk.import_kb(&actor, vec![e.clone()], false)
                .await
                .is_err()
        );

        e.product_answers.remove("CUP-9");
        desk.save_entry(&actor, e).await.unwrap();
        let stored = desk.store().read().unwrap().get_entry("engrave").unwrap();
        assert_eq!(
            stored
                .unwrap()
                .product_answers
                .get("CUP-1")
                .map(String::as_str),
            Some("杯身可以刻 6 个字")
        );
    }
}
