//! The schema version of the data file and the steps that bring an older file up to date.
//!
//! The version lives in the `meta` table. A fresh file gets every table and the current
//! version. An older file runs each step from its version up, one transaction per step.
//! A file from a newer build is refused: it may hold data this build would damage.

use super::tables::{self, AnyTable};
use super::{Error, ReadTx, Reads, Result, WriteTx};
use redb::{Database, ReadableTable};
use std::path::Path;

/// The schema version this build writes.
pub const CURRENT: u64 = 3;

/// The meta key holding the schema version.
pub const VERSION_KEY: &str = "schema_version";

/// One upgrade step: turns a file at version `from` into version `from + 1`.
pub struct Migration {
    pub from: u64,
    pub run: fn(&WriteTx) -> Result<()>,
}

/// The upgrade steps, oldest first. Version 1 is the first released schema.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        run: index_conv_starts,
    },
    Migration {
        from: 2,
        run: move_receipts,
    },
];

/// 1 → 2: conversations indexed by when they started (`conv_starts`).
fn index_conv_starts(w: &WriteTx) -> Result<()> {
    let convs: Vec<crate::model::Conversation> = {
        let t = w.table(tables::CONVERSATIONS)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            let (_, doc) = row?;
            v.push(super::codec::decode("conversations", doc.value())?);
        }
        v
    };
    for c in &convs {
        w.index_conv_start(c)?;
    }
    Ok(())
}

/// 2 → 3: message receipts move from `client_msgs` (by key) to `receipts` (in the
/// order written). Their age is unknown, so they count as written now: a retry is
/// recognised for the next 24 hours.
fn move_receipts(w: &WriteTx) -> Result<()> {
    let old: Vec<(String, super::convs::ClientMsg)> = {
        let t = w.table(tables::CLIENT_MSGS)?;
        let mut v = Vec::new();
        for row in t.iter()? {
            let (k, doc) = row?;
            v.push((
                k.value().to_string(),
                super::codec::decode("client_msgs", doc.value())?,
            ));
        }
        v
    };
    let now = chrono::Utc::now();
    for (key, msg) in &old {
        w.put_client_msg(key, msg, now)?;
    }
    w.table(tables::CLIENT_MSGS)?.retain(|_, _| false)?;
    Ok(())
}

/// Brings the file to `target`, creating missing tables.
pub(crate) fn migrate(db: &Database, path: &Path, target: u64, steps: &[Migration]) -> Result<()> {
    let mut version = {
        let tx = db.begin_write()?;
        let found = {
            let w = WriteTx::new(&tx);
            let meta = w.table(tables::META)?;
            meta.get(VERSION_KEY)?.map(|g| g.value())
        };
        if let Some(v) = found
            && v > target
        {
            // Write nothing into a file from a newer build.
            let _ = tx.abort();
            return Err(too_new(path, v, target));
        }
        {
            let w = WriteTx::new(&tx);
            create_tables(&w)?;
            if found.is_none() {
                // A brand-new file starts at the newest schema.
                w.table(tables::META)?.insert(VERSION_KEY, target)?;
            }
            w.flush()?;
        }
        tx.commit()?;
        found.unwrap_or(target)
    };
    while version < target {
        let step = steps
            .iter()
            .find(|s| s.from == version)
            .ok_or_else(|| Error::Open {
                path: path.to_path_buf(),
                message: format!("no upgrade step from schema version {version}"),
            })?;
        let tx = db.begin_write()?;
        {
            let w = WriteTx::new(&tx);
            (step.run)(&w)?;
            create_tables(&w)?;
            w.table(tables::META)?.insert(VERSION_KEY, version + 1)?;
            w.flush()?;
        }
        tx.commit()?;
        tracing::info!(
            from = version,
            to = version + 1,
            "upgraded data file schema"
        );
        version += 1;
    }
    Ok(())
}

/// Refuses a snapshot of a file newer than this build.
pub(crate) fn check_readable(tx: &ReadTx, path: &Path) -> Result<()> {
    let v = tx.schema_version()?;
    if v > CURRENT {
        return Err(too_new(path, v, CURRENT));
    }
    Ok(())
}

fn too_new(path: &Path, found: u64, supported: u64) -> Error {
    Error::TooNew {
        path: path.to_path_buf(),
        found,
        supported,
    }
}

pub(crate) fn create_tables(w: &WriteTx) -> Result<()> {
    for t in tables::ALL {
        match *t {
            AnyTable::StrNum(d) => drop(w.table(*d)?),
            AnyTable::NumDoc(d) => drop(w.table(*d)?),
            AnyTable::StrDoc(d) => drop(w.table(*d)?),
            AnyTable::NumNum(d) => drop(w.table(*d)?),
            AnyTable::PairDoc(d) => drop(w.table(*d)?),
            AnyTable::PairNum(d) => drop(w.table(*d)?),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, testing::temp_store};

    fn add_marker(w: &WriteTx) -> Result<()> {
        w.table(tables::META)?.insert("migrated_from_1", 1)?;
        Ok(())
    }

    #[test]
    fn fresh_file_gets_the_current_version() {
        let (_dir, store) = temp_store();
        assert_eq!(store.check().unwrap(), CURRENT);
    }

    #[test]
    fn an_older_file_is_upgraded_step_by_step() {
        let (dir, store) = temp_store();
        drop(store);
        // Pretend this build is one schema ahead, with a step up from the current one.
        let next = CURRENT + 1;
        let steps = [Migration {
            from: CURRENT,
            run: add_marker,
        }];
        let store = Store::open_with(dir.path(), next, &steps).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.schema_version().unwrap(), next);
        let meta = r.table(tables::META).unwrap();
        assert_eq!(
            meta.get("migrated_from_1").unwrap().map(|g| g.value()),
            Some(1)
        );
        drop(meta);
        drop(r);
        drop(store);
        // Opening again runs nothing more and keeps the version.
        let store = Store::open_with(dir.path(), next, &steps).unwrap();
        assert_eq!(store.check().unwrap(), next);
    }

    #[actix_web::test]
    async fn version_1_files_get_their_conversations_indexed_by_start() {
        use crate::model::{BuyerId, ConvId, Conversation};
        use crate::store::prelude::*;
        use chrono::{TimeZone, Utc};
        let (dir, store) = temp_store();
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
        // A version 1 file: conversations without the index.
        store
            .write(move |tx| {
                for id in 1..=3 {
                    let c = Conversation::start(ConvId(id), BuyerId(id), "web", 0, at);
                    tx.put_conv(&c)?;
                }
                tx.table(tables::META)?.insert(VERSION_KEY, 1)?;
                Ok(())
            })
            .await
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.schema_version().unwrap(), CURRENT);
        let day = chrono::Duration::days(1);
        let found = r.convs_started(at - day, at + day).unwrap();
        assert_eq!(found, vec![ConvId(1), ConvId(2), ConvId(3)]);
    }

    #[actix_web::test]
    async fn version_2_receipts_move_to_the_receipt_log() {
        use crate::model::ConvId;
        use crate::store::convs::ClientMsg;
        use redb::ReadableTableMetadata;
        let (dir, store) = temp_store();
        let msg = ClientMsg {
            conv: ConvId(7),
            seq: 3,
            replies: vec![4, 5],
        };
        let m = msg.clone();
        // A version 2 file: receipts by key in `client_msgs`.
        store
            .write(move |tx| {
                tx.table(tables::CLIENT_MSGS)?.insert(
                    "web\u{1f}b1\u{1f}c-1",
                    super::super::codec::encode(&m)?.as_slice(),
                )?;
                tx.table(tables::META)?.insert(VERSION_KEY, 2)?;
                Ok(())
            })
            .await
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.check().unwrap(), CURRENT);
        assert_eq!(store.receipt("web\u{1f}b1\u{1f}c-1"), Some(msg));
        assert_eq!(store.receipt("web\u{1f}b1\u{1f}c-2"), None);
        let r = store.read().unwrap();
        assert_eq!(r.table(tables::CLIENT_MSGS).unwrap().len().unwrap(), 0);
        assert_eq!(r.table(tables::RECEIPTS).unwrap().len().unwrap(), 1);
    }

    #[test]
    fn a_newer_file_is_refused_with_a_clear_message() {
        let (dir, store) = temp_store();
        drop(store);
        let steps = [Migration {
            from: CURRENT,
            run: add_marker,
        }];
        drop(Store::open_with(dir.path(), CURRENT + 1, &steps).unwrap());
        let err = Store::open(dir.path()).err().expect("must refuse");
        let msg = err.to_string();
        assert!(
            matches!(err, Error::TooNew { found, .. } if found == CURRENT + 1),
            "{msg}"
        );
        assert!(
            msg.contains("xiaoer.redb") && msg.contains("newer"),
            "{msg}"
        );
    }

    #[test]
    fn a_missing_step_is_an_error_not_a_silent_skip() {
        let (dir, store) = temp_store();
        drop(store);
        let err = Store::open_with(dir.path(), CURRENT + 2, &[])
            .err()
            .expect("must fail");
        assert!(err.to_string().contains("no upgrade step"), "{err}");
    }
}
