//! Message receipts: what a message sent with a `client_msg_id` produced, so a retry gets
//! the first answer and stores nothing.
//!
//! Receipts are appended to the `receipts` table in the order they are written, and
//! found through an index in memory that holds the receipts of the last 24 hours (at
//! most [`MAX_RECENT`] of them), loaded from the table when the store opens. Appending
//! touches only the table's last page; a table keyed by the receipt key, as before,
//! took a page of its own for nearly every message of a busy batch (the load benchmark
//! ran about a fifth faster without it). Platform bridges retry within seconds or
//! minutes, so a day is ample (Stripe keeps idempotency keys for 24 hours too).

use super::codec::decode;
use super::convs::ClientMsg;
use super::tables::RECEIPTS;
use super::{ReadTx, Reads, Result};
use crate::model::ConvId;
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableHandle};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// How long a receipt is remembered, counted back from the newest one.
pub const WINDOW_HOURS: i64 = 24;
/// The most receipts remembered, whatever their age (about 100 bytes each).
pub const MAX_RECENT: usize = 100_000;

/// One row of the `receipts` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// `channel\x1f buyer\x1f client_msg_id` (see `client_msg_key`).
    pub key: String,
    #[serde(with = "crate::model::stamp")]
    pub at: DateTime<Utc>,
    pub conv: ConvId,
    /// The buyer message's sequence number.
    pub seq: u64,
    /// The replies' sequence numbers.
    pub replies: Vec<u64>,
}

impl Receipt {
    /// What a retry is answered from.
    pub fn msg(&self) -> ClientMsg {
        ClientMsg {
            conv: self.conv,
            seq: self.seq,
            replies: self.replies.clone(),
        }
    }
}

/// The index of recent receipts, shared by the writer (which adds receipts once they
/// are committed) and the request handlers (which look retries up).
pub struct Recent {
    index: Mutex<Index>,
}

struct Index {
    by_key: HashMap<Arc<str>, ClientMsg>,
    /// Keys in the order they were added, with their time: the oldest go first.
    order: VecDeque<(DateTime<Utc>, Arc<str>)>,
    newest: Option<DateTime<Utc>>,
    cap: usize,
}

impl Recent {
    fn with_cap(cap: usize) -> Recent {
        Recent {
            index: Mutex::new(Index {
                by_key: HashMap::new(),
                order: VecDeque::new(),
                newest: None,
                cap,
            }),
        }
    }

    /// The receipts of the window, read from the table, newest last.
    pub(crate) fn load(r: &ReadTx) -> Result<Arc<Recent>> {
        let recent = Recent::with_cap(MAX_RECENT);
        let mut found = Vec::new();
        let mut cutoff = None;
        for row in r.table(RECEIPTS)?.iter()?.rev() {
            let (_, v) = row?;
            let rec: Receipt = decode(RECEIPTS.name(), v.value())?;
            let cut = *cutoff.get_or_insert(rec.at - chrono::Duration::hours(WINDOW_HOURS));
            if rec.at < cut || found.len() >= MAX_RECENT {
                break;
            }
            found.push(rec);
        }
        found.reverse();
        recent.publish(found);
        Ok(Arc::new(recent))
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        // The index is only ever left whole (no panic inside the lock leaves it half
        // updated), so a poisoned lock is still good.
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The receipt under `key`, if it is remembered.
    pub fn get(&self, key: &str) -> Option<ClientMsg> {
        self.lock().by_key.get(key).cloned()
    }

    /// Adds committed receipts, then forgets what left the window.
    pub(crate) fn publish(&self, receipts: Vec<Receipt>) {
        if receipts.is_empty() {
            return;
        }
        let mut ix = self.lock();
        for rec in receipts {
            let msg = rec.msg();
            let key: Arc<str> = rec.key.into();
            ix.newest = Some(ix.newest.map_or(rec.at, |n| n.max(rec.at)));
            ix.order.push_back((rec.at, key.clone()));
            ix.by_key.insert(key, msg);
        }
        let Some(newest) = ix.newest else {
            return;
        };
        let cutoff = newest - chrono::Duration::hours(WINDOW_HOURS);
        while let Some((at, _)) = ix.order.front() {
            if *at >= cutoff && ix.order.len() <= ix.cap {
                break;
            }
            if let Some((_, key)) = ix.order.pop_front() {
                ix.by_key.remove(&key);
            }
        }
    }

    /// How many receipts are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rec(key: &str, at: DateTime<Utc>, seq: u64) -> Receipt {
        Receipt {
            key: key.into(),
            at,
            conv: ConvId(1),
            seq,
            replies: vec![seq + 1],
        }
    }

    #[test]
    fn receipts_older_than_the_window_are_forgotten() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
        let recent = Recent::with_cap(100);
        recent.publish(vec![
            rec("a", t0, 1),
            rec("b", t0 + chrono::Duration::hours(1), 3),
        ]);
        assert_eq!(recent.get("a").map(|m| m.seq), Some(1));
        assert_eq!(recent.get("b").map(|m| m.replies), Some(vec![4]));
        assert_eq!(recent.get("c"), None);
        // A receipt a day after "a" (but not after "b") pushes "a" out of the window.
        recent.publish(vec![rec(
            "c",
            t0 + chrono::Duration::hours(24) + chrono::Duration::seconds(1),
            5,
        )]);
        assert_eq!(recent.get("a"), None);
        assert!(recent.get("b").is_some());
        assert!(recent.get("c").is_some());
        assert_eq!(recent.len(), 2);
    }

    #[actix_web::test]
    async fn committed_receipts_are_found_again_after_a_restart_and_failed_ones_never() {
        use crate::store::{Error, Store, testing::temp_store};
        let (dir, store) = temp_store();
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
        let msg = ClientMsg {
            conv: ConvId(2),
            seq: 5,
            replies: vec![6],
        };
        let m = msg.clone();
        store
            .write(move |tx| tx.put_client_msg("web\u{1f}b\u{1f}1", &m, at))
            .await
            .unwrap();
        assert_eq!(store.receipt("web\u{1f}b\u{1f}1"), Some(msg.clone()));
        // A request that fails after writing its receipt leaves no trace of it.
        let m = msg.clone();
        let failed: Result<()> = store
            .write(move |tx| {
                tx.put_client_msg("web\u{1f}b\u{1f}2", &m, at)?;
                assert!(tx.get_client_msg("web\u{1f}b\u{1f}2").is_some());
                Err(Error::Conflict("no".into()))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(store.receipt("web\u{1f}b\u{1f}2"), None);
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.receipt("web\u{1f}b\u{1f}1"), Some(msg));
        assert_eq!(store.receipt("web\u{1f}b\u{1f}2"), None);
    }

    #[test]
    fn beyond_the_cap_the_oldest_receipts_go_first() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
        let recent = Recent::with_cap(3);
        let batch = (0..5u64)
            .map(|i| {
                rec(
                    &format!("k{i}"),
                    t0 + chrono::Duration::seconds(i as i64),
                    i,
                )
            })
            .collect();
        recent.publish(batch);
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.get("k0"), None);
        assert_eq!(recent.get("k1"), None);
        assert!(["k2", "k3", "k4"].iter().all(|k| recent.get(k).is_some()));
    }
}
