//! The training queue, trainers' marks on bot answers, and answers per entry per day.

use super::codec::{decode, encode};
use super::tables::{BOT_MARKS, HIT_DAYS, HITS, META, TRAINING, TRAINING_OPEN};
use super::{Reads, Result, WriteTx};
use crate::model::{BotMark, ConvId, TrainStatus, TrainingItem};
use redb::{ReadableTable, ReadableTableMetadata, TableHandle};
use std::collections::HashMap;

/// The meta key counting training items settled on `day`.
fn cleared_key(day: &str) -> String {
    format!("training.cleared.{day}")
}

/// The `HIT_DAYS` key of `entry` on `day`.
fn day_key(day: &str, entry: &str) -> String {
    format!("{day}\u{1f}{entry}")
}

/// Reads of the training queue and marks, in either kind of transaction.
pub trait TrainingReads: Reads {
    /// The open (待处理) items, oldest first.
    fn open_training(&self) -> Result<Vec<TrainingItem>> {
        let open = self.table(TRAINING_OPEN)?;
        let items = self.table(TRAINING)?;
        let mut out = Vec::new();
        for row in open.iter()? {
            let (id, _) = row?;
            if let Some(v) = items.get(id.value())? {
                out.push(decode(TRAINING.name(), v.value())?);
            }
        }
        Ok(out)
    }

    /// How many items are open (待处理), without reading them.
    fn open_training_count(&self) -> Result<u64> {
        Ok(self.table(TRAINING_OPEN)?.len()?)
    }

    /// The item with `id`.
    fn get_training(&self, id: u64) -> Result<Option<TrainingItem>> {
        self.table(TRAINING)?
            .get(id)?
            .map(|v| decode(TRAINING.name(), v.value()))
            .transpose()
    }

    /// The latest `limit` settled items, newest first.
    fn settled_training(&self, limit: usize) -> Result<Vec<TrainingItem>> {
        let mut out = Vec::new();
        for row in self.table(TRAINING)?.iter()?.rev() {
            let (_, v) = row?;
            let item: TrainingItem = decode(TRAINING.name(), v.value())?;
            if item.status != TrainStatus::Open {
                out.push(item);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// How many items were settled on `day` (YYYY-MM-DD, shop time zone).
    fn cleared_on(&self, day: &str) -> Result<u64> {
        Ok(self
            .table(META)?
            .get(cleared_key(day).as_str())?
            .map(|v| v.value())
            .unwrap_or(0))
    }

    /// The mark on the bot message `seq` of `conv`.
    fn bot_mark(&self, conv: ConvId, seq: u64) -> Result<Option<BotMark>> {
        self.table(BOT_MARKS)?
            .get((conv.0, seq))?
            .map(|v| decode(BOT_MARKS.name(), v.value()))
            .transpose()
    }

    /// Every mark, by conversation and message.
    fn bot_marks(&self) -> Result<Vec<BotMark>> {
        self.table(BOT_MARKS)?
            .iter()?
            .map(|row| {
                let (_, v) = row?;
                decode(BOT_MARKS.name(), v.value())
            })
            .collect()
    }

    /// Answers per entry summed over `days` (YYYY-MM-DD).
    fn hits_on_days(&self, days: &[String]) -> Result<HashMap<String, u64>> {
        let t = self.table(HIT_DAYS)?;
        let mut out: HashMap<String, u64> = HashMap::new();
        for day in days {
            let from = format!("{day}\u{1f}");
            let to = format!("{day}\u{20}");
            for row in t.range(from.as_str()..to.as_str())? {
                let (k, v) = row?;
                if let Some((_, entry)) = k.value().split_once('\u{1f}') {
                    *out.entry(entry.to_string()).or_default() += v.value();
                }
            }
        }
        Ok(out)
    }

    /// Answers per entry since the store began.
    fn all_hits(&self) -> Result<HashMap<String, u64>> {
        self.table(HITS)?
            .iter()?
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value().to_string(), v.value()))
            })
            .collect()
    }
}

impl<T: Reads> TrainingReads for T {}

impl WriteTx<'_> {
    /// Adds a question to the queue (numbering it); returns it.
    pub fn add_training(&self, mut item: TrainingItem) -> Result<TrainingItem> {
        item.id = self.next_id("training")?;
        self.table(TRAINING)?
            .insert(item.id, encode(&item)?.as_slice())?;
        if item.status == TrainStatus::Open {
            self.table(TRAINING_OPEN)?.insert(item.id, 0)?;
        }
        Ok(item)
    }

    /// Stores a settled item: off the open list, counted on `day`'s cleared figure.
    pub fn settle_training(&self, item: &TrainingItem, day: &str) -> Result<()> {
        self.table(TRAINING)?
            .insert(item.id, encode(item)?.as_slice())?;
        if self.table(TRAINING_OPEN)?.remove(item.id)?.is_some() {
            let key = cleared_key(day);
            let mut meta = self.table(META)?;
            let n = meta.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
            meta.insert(key.as_str(), n + 1)?;
        }
        Ok(())
    }

    /// Stores (or replaces) a trainer's mark.
    pub fn put_bot_mark(&self, m: &BotMark) -> Result<()> {
        self.table(BOT_MARKS)?
            .insert((m.conv.0, m.seq), encode(m)?.as_slice())?;
        Ok(())
    }

    /// Counts one answer of entry `id` on `day` (YYYY-MM-DD, shop time zone).
    /// (Written when the transaction is flushed.)
    pub fn count_hit(&self, id: &str, day: &str) -> Result<()> {
        self.add_hit(id, day_key(day, id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{ConvId, TrainReason, TrainStatus, TrainingItem};
    use crate::store::prelude::*;
    use crate::store::testing::temp_store;
    use chrono::Utc;

    fn item(text: &str) -> TrainingItem {
        TrainingItem {
            id: 0,
            at: Utc::now(),
            conv: ConvId(1),
            seq: 1,
            text: text.into(),
            norm: text.into(),
            reason: TrainReason::None,
            candidates: vec![],
            status: TrainStatus::Open,
            entry: None,
            resolved_at: None,
            resolved_by: None,
        }
    }

    #[actix_web::test]
    async fn settled_items_leave_the_open_list_and_count_once_for_their_day() {
        let (_dir, store) = temp_store();
        let (a, b) = (item("能刻字吗"), item("支持定制吗"));
        let added = store
            .write(move |tx| Ok((tx.add_training(a.clone())?, tx.add_training(b.clone())?)))
            .await
            .unwrap();
        assert_eq!((added.0.id, added.1.id), (1, 2));
        assert_eq!(store.read().unwrap().open_training().unwrap().len(), 2);
        let mut done = added.0.clone();
        done.status = TrainStatus::Ignored;
        store
            .write(move |tx| {
                tx.settle_training(&done, "2026-11-22")?;
                // Settling it again does not count twice.
                tx.settle_training(&done, "2026-11-22")
            })
            .await
            .unwrap();
        let r = store.read().unwrap();
        let open = r.open_training().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].text, "支持定制吗");
        assert_eq!(r.cleared_on("2026-11-22").unwrap(), 1);
        assert_eq!(r.cleared_on("2026-11-21").unwrap(), 0);
        assert_eq!(r.settled_training(10).unwrap()[0].id, 1);
    }

    #[actix_web::test]
    async fn hits_are_counted_per_day_and_in_total() {
        let (_dir, store) = temp_store();
        store
            .write(|tx| {
                tx.count_hit("ship", "2026-11-21")?;
                tx.count_hit("ship", "2026-11-22")?;
                tx.count_hit("ship", "2026-11-22")?;
                tx.count_hit("size", "2026-11-22")
            })
            .await
            .unwrap();
        let r = store.read().unwrap();
        let today = r.hits_on_days(&["2026-11-22".into()]).unwrap();
        assert_eq!(today.get("ship"), Some(&2));
        assert_eq!(today.get("size"), Some(&1));
        let both = r
            .hits_on_days(&["2026-11-21".into(), "2026-11-22".into()])
            .unwrap();
        assert_eq!(both.get("ship"), Some(&3));
        assert_eq!(r.all_hits().unwrap().get("ship"), Some(&3));
        assert_eq!(r.top_hits(1).unwrap(), vec![("ship".to_string(), 3)]);
        drop(r);
        // A later transaction adds to what is stored.
        store
            .write(|tx| tx.count_hit("ship", "2026-11-22"))
            .await
            .unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.all_hits().unwrap().get("ship"), Some(&4));
        let today = r.hits_on_days(&["2026-11-22".into()]).unwrap();
        assert_eq!(today.get("ship"), Some(&3));
    }
}
