//! The KB editor's reads and bulk changes: the filtered entry list with answer counts,
//! bulk on/off and move, how the bot answers each phrasing of an entry (and who else owns
//! it), products removed or imported, and the hot questions.

use super::service::local_day;
use super::{Actor, Desk, Error, Result};
use crate::bot::normalize::normalize;
use crate::bot::{Band, Ctx, Intent};
use crate::model::{Invalid, KbEntry, Product};
use crate::store::prelude::*;
use chrono::Duration;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The entry list's search, filters and order.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KbFilter {
    /// Words to find (all of them) in the id, question, phrasings or answer.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub scene: String,
    /// `on`, `off`, `pending` (not valid yet) or `expired`; empty for all.
    #[serde(default)]
    pub status: String,
    /// Only entries without similar phrasings.
    #[serde(default)]
    pub no_similar: bool,
    /// `yesterday` or `week` (answers, most first); empty for by id.
    #[serde(default)]
    pub sort: String,
}

/// One row of the entry list.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub entry: KbEntry,
    /// Answers yesterday (shop time zone).
    pub yesterday: u64,
    /// Answers over the last seven days, today included.
    pub week: u64,
    /// Past its validity period.
    pub expired: bool,
    /// Its validity period has not begun.
    pub pending: bool,
}

/// A bulk change to chosen entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bulk {
    Enable,
    Disable,
    /// Move to another category (板块).
    Move(String),
}

/// How the bot answers one phrasing of an entry now.
#[derive(Debug, Clone)]
pub struct PhrasingCheck {
    pub text: String,
    /// `标准问`, `相似问`, `行业问法` (lent by a starter entry, see `bot::industry`) or
    /// `排除问法`.
    pub kind: &'static str,
    /// Another entry that has the same phrasing (after normalization): (id, question).
    pub owner: Option<(String, String)>,
    /// The entry the bot answers with: (id, question).
    pub answered_by: Option<(String, String)>,
    pub band: Band,
    /// The built-in intent that takes the phrasing before the knowledge base, if any.
    pub intent: Option<Intent>,
    pub confidence: f32,
    /// The answer is what the entry wants: this entry for its phrasings, any other
    /// for its negative ones.
    pub ok: bool,
}

/// How the bot answers every phrasing of an entry, and where its borrowed ones come from.
#[derive(Debug, Clone, Default)]
pub struct PhrasingChecks {
    pub rows: Vec<PhrasingCheck>,
    /// Why the entry answers nobody now (停用, 未到有效期, 已过期), if it does not: its
    /// phrasings then go to other entries or nowhere, which is no conflict.
    pub inactive: Option<String>,
    /// Standard questions of the starter entries lending phrasings to the entry.
    pub borrowed_from: Vec<String>,
}

/// Whether every word of `q` occurs in the entry (case-insensitive, 繁→简, half width).
fn matches_words(e: &KbEntry, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let hay = normalize(&format!(
        "{} {} {} {} {}",
        e.id,
        e.question,
        e.similar.join(" "),
        e.answer,
        e.keywords.join(" ")
    ))
    .replace(' ', "");
    words.iter().all(|w| hay.contains(w.as_str()))
}

impl Desk {
    /// The shop's local dates of yesterday and of the last seven days (today first).
    fn recent_days(&self) -> Result<(String, Vec<String>)> {
        let tz = self.settings()?.tz();
        let now = self.clock.now();
        let week: Vec<String> = (0..7)
            .map(|d| local_day(now - Duration::days(d), tz))
            .collect();
        Ok((week[1].clone(), week))
    }

    /// The entries the filter keeps, in its order, with their answer counts.
    pub fn kb_rows(&self, f: &KbFilter) -> Result<Vec<EntryRow>> {
        let (yesterday, week) = self.recent_days()?;
        let r = self.store.read()?;
        let day_hits = r.hits_on_days(std::slice::from_ref(&yesterday))?;
        let week_hits = r.hits_on_days(&week)?;
        let now = self.clock.now();
        let words: Vec<String> = normalize(&f.q)
            .split_whitespace()
            .map(String::from)
            .collect();
        let mut rows: Vec<EntryRow> = r
            .list_entries()?
            .into_iter()
            .filter(|e| f.category.is_empty() || e.category == f.category)
            .filter(|e| f.scene.is_empty() || e.scene == f.scene)
            .filter(|e| !f.no_similar || e.similar.is_empty())
            .filter(|e| matches_words(e, &words))
            .map(|e| EntryRow {
                yesterday: day_hits.get(&e.id).copied().unwrap_or(0),
                week: week_hits.get(&e.id).copied().unwrap_or(0),
                expired: e.valid_until.is_some_and(|u| u <= now),
                pending: e.valid_from.is_some_and(|f| now < f),
                entry: e,
            })
            .filter(|row| match f.status.as_str() {
                "on" => row.entry.enabled,
                "off" => !row.entry.enabled,
                "expired" => row.expired,
                "pending" => row.pending,
                _ => true,
            })
            .collect();
        match f.sort.as_str() {
            "yesterday" => rows.sort_by_key(|r| std::cmp::Reverse(r.yesterday)),
            "week" => rows.sort_by_key(|r| std::cmp::Reverse(r.week)),
            _ => {}
        }
        Ok(rows)
    }

    /// The categories and scenes in use, sorted, for the filters and the entry form.
    pub fn kb_facets(&self) -> Result<(Vec<String>, Vec<String>)> {
        let mut cats = std::collections::BTreeSet::new();
        let mut scenes = std::collections::BTreeSet::new();
        for e in self.store.read()?.list_entries()? {
            if !e.category.is_empty() {
                cats.insert(e.category);
            }
            if !e.scene.is_empty() {
                scenes.insert(e.scene);
            }
        }
        Ok((cats.into_iter().collect(), scenes.into_iter().collect()))
    }

    /// Turns chosen entries on or off, or moves them to a category, in one step.
    /// Returns how many changed.
    pub async fn bulk_entries(&self, actor: &Actor, ids: &[String], change: Bulk) -> Result<usize> {
        let mut inv = Invalid::default();
        if ids.is_empty() {
            inv.add("ids", "请先勾选要处理的问题");
        }
        if let Bulk::Move(to) = &change
            && (to.trim().is_empty() || to.chars().count() > 40)
        {
            inv.add("category", "请填写要移到的板块（最多 40 字）");
        }
        inv.into_result()?;
        let _order = self.kb_lock.lock().await;
        let r = self.store.read()?;
        let mut changed = Vec::new();
        for id in ids {
            let mut e = r.get_entry(id)?.ok_or(Error::NotFound)?;
            match &change {
                Bulk::Enable => e.enabled = true,
                Bulk::Disable => e.enabled = false,
                Bulk::Move(to) => e.category = to.trim().to_string(),
            }
            changed.push(e);
        }
        drop(r);
        let detail = match &change {
            Bulk::Enable => format!("批量启用 {} 条", changed.len()),
            Bulk::Disable => format!("批量停用 {} 条", changed.len()),
            Bulk::Move(to) => format!("{} 条移到板块“{}”", changed.len(), to.trim()),
        };
        let audit = self.audit(actor, "kb.bulk", "知识库", detail);
        let n = changed.len();
        self.store
            .write(move |tx| {
                for e in &changed {
                    tx.put_entry(e)?;
                }
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot().await;
        Ok(n)
    }

    /// For every phrasing of `entry` (question, similar, borrowed industry phrasings,
    /// negative): which other entry owns the same phrasing, and what the bot answers to
    /// it now.
    pub fn check_phrasings(&self, entry: &KbEntry) -> Result<PhrasingChecks> {
        let mut owners: HashMap<String, (String, String)> = HashMap::new();
        for other in self.store.read()?.list_entries()? {
            if other.id == entry.id {
                continue;
            }
            for p in other.phrasings() {
                owners
                    .entry(normalize(p))
                    .or_insert_with(|| (other.id.clone(), other.question.clone()));
            }
        }
        let settings = self.settings()?;
        let ctx = Ctx::new(&settings, self.clock.now());
        let bot = self.bot()?;
        let borrowed = bot.borrowed(&entry.id);
        let lent = borrowed.phrasings;
        let kinds = std::iter::once((entry.question.as_str(), "标准问"))
            .chain(entry.similar.iter().map(|s| (s.as_str(), "相似问")))
            .chain(lent.iter().map(|s| (s.as_str(), "行业问法")))
            .chain(entry.negative.iter().map(|s| (s.as_str(), "排除问法")));
        let rows = kinds
            .map(|(text, kind)| {
                let reply = bot.reply(&ctx, text);
                let answered_by = reply
                    .entry
                    .as_ref()
                    .filter(|_| reply.band == Band::Exact)
                    .map(|id| {
                        let q = bot
                            .question(id, ctx.now)
                            .map(|f| f.question)
                            .unwrap_or_default();
                        (id.clone(), q)
                    });
                let mine = answered_by.as_ref().is_some_and(|(id, _)| *id == entry.id);
                PhrasingCheck {
                    text: text.to_string(),
                    kind,
                    owner: (kind != "排除问法")
                        .then(|| owners.get(&normalize(text)).cloned())
                        .flatten(),
                    answered_by,
                    band: reply.band,
                    intent: reply.intent,
                    confidence: reply.confidence,
                    ok: if kind == "排除问法" { !mine } else { mine },
                }
            })
            .collect();
        let now = self.clock.now();
        let tz = settings.tz();
        let inactive = if !entry.enabled {
            Some("本条已停用".to_string())
        } else if let Some(f) = entry.valid_from.filter(|f| now < *f) {
            Some(format!(
                "本条还未生效（{} 起）",
                crate::model::settings::local_label(f, tz)
            ))
        } else if entry.valid_until.is_some_and(|u| u <= now) {
            Some("本条已过期".to_string())
        } else {
            None
        };
        Ok(PhrasingChecks {
            rows,
            inactive,
            borrowed_from: borrowed.from,
        })
    }

    /// Removes a product.
    pub async fn delete_product(&self, actor: &Actor, sku: &str) -> Result<()> {
        let _order = self.kb_lock.lock().await;
        let audit = self.audit(actor, "product.delete", sku, String::new());
        let key = sku.to_string();
        self.store
            .write(move |tx| {
                if !tx.delete_product(&key)? {
                    return Err(crate::store::Error::NotFound);
                }
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot().await;
        Ok(())
    }

    /// Stores many products in one step (creating or replacing by SKU): all or nothing.
    pub async fn import_products(&self, actor: &Actor, products: Vec<Product>) -> Result<usize> {
        let mut problems = Invalid::default();
        let mut seen = HashSet::new();
        for p in &products {
            if let Err(inv) = p.validate() {
                problems.add("file", format!("{}：{inv}", p.sku));
            } else if !seen.insert(p.sku.clone()) {
                problems.add("file", format!("商品编码 {} 重复", p.sku));
            }
        }
        // Related products must exist, in the file or already stored.
        let stored = self.product_skus()?;
        for p in &products {
            let unknown: Vec<&str> = p
                .related
                .iter()
                .filter(|r| !seen.contains(*r) && !stored.contains(*r))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                problems.add(
                    "file",
                    format!("{}：没有这些相关商品：{}", p.sku, unknown.join("、")),
                );
            }
        }
        problems.into_result()?;
        let _order = self.kb_lock.lock().await;
        let n = products.len();
        let audit = self.audit(actor, "product.import", "商品", format!("导入 {n} 个商品"));
        self.store
            .write(move |tx| {
                for p in &products {
                    tx.put_product(p)?;
                }
                tx.append_audit(&audit)
            })
            .await?;
        self.reload_bot().await;
        Ok(n)
    }

    /// The trainer's synonyms and shop words.
    pub fn lexicon(&self) -> Result<crate::model::Lexicon> {
        Ok(self.store.read()?.get_lexicon()?)
    }

    /// Every product, by SKU.
    pub fn list_products(&self) -> Result<Vec<Product>> {
        Ok(self.store.read()?.list_products()?)
    }

    /// The most answered entries: (entry, answers over 7 days, answers ever), at most
    /// `limit`, most answered first.
    pub fn hot_entries(&self, limit: usize) -> Result<Vec<(KbEntry, u64, u64)>> {
        let (_, week) = self.recent_days()?;
        let mut rows = self.answer_counts(&week)?;
        rows.retain(|(_, _, all)| *all > 0);
        rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.id.cmp(&b.0.id)));
        rows.truncate(limit);
        Ok(rows)
    }

    /// The entries answered on the shop's days `from..=to`, most first: (entry, answers
    /// on those days, answers in all).
    pub fn hot_entries_between(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        limit: usize,
    ) -> Result<Vec<(KbEntry, u64, u64)>> {
        let days: Vec<String> = from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(|d| d.to_string())
            .collect();
        let mut rows = self.answer_counts(&days)?;
        rows.retain(|(_, then, _)| *then > 0);
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.id.cmp(&b.0.id)));
        rows.truncate(limit);
        Ok(rows)
    }

    /// Every entry with its answers on `days` and in all.
    fn answer_counts(&self, days: &[String]) -> Result<Vec<(KbEntry, u64, u64)>> {
        let r = self.store.read()?;
        let on_days = r.hits_on_days(days)?;
        let total = r.all_hits()?;
        Ok(r.list_entries()?
            .into_iter()
            .map(|e| {
                let all = total.get(&e.id).copied().unwrap_or(0);
                let then = on_days.get(&e.id).copied().unwrap_or(0);
                (e, then, all)
            })
            .collect())
    }
}
