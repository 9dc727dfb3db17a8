//! The append-only audit log.

use super::codec::{decode, encode};
use super::tables::AUDIT;
use super::{Reads, Result, WriteTx};
use crate::model::{AuditEntry, NewAudit};
use redb::{ReadableTable, TableHandle};

/// Reads of this file's tables, in a read or a write transaction.
pub trait AuditReads: Reads {
    /// Up to `limit` entries older than `before` (all when `None`), newest first.
    fn list_audit(&self, before: Option<u64>, limit: usize) -> Result<Vec<AuditEntry>> {
        let t = self.table(AUDIT)?;
        let range = match before {
            Some(b) => t.range(..b)?,
            None => t.range(0..)?,
        };
        range
            .rev()
            .take(limit)
            .map(|row| {
                let (_, v) = row?;
                decode(AUDIT.name(), v.value())
            })
            .collect()
    }
}

impl<T: Reads> AuditReads for T {}

impl WriteTx<'_> {
    /// Appends an entry and returns it numbered.
    pub fn append_audit(&self, new: &NewAudit) -> Result<AuditEntry> {
        debug_assert!(
            crate::model::audit::action_label(new.action).is_some(),
            "audit action {} has no name in the UI (model::audit::ACTIONS)",
            new.action
        );
        let seq = self.next_id("audit")?;
        let entry = AuditEntry {
            seq,
            at: new.at,
            actor_id: new.actor_id,
            actor_name: new.actor_name.clone(),
            action: new.action.to_string(),
            target: new.target.clone(),
            detail: new.detail.clone(),
        };
        self.table(AUDIT)?.insert(seq, encode(&entry)?.as_slice())?;
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{NewAudit, UserId};
    use crate::store::prelude::*;
    use crate::store::testing::temp_store;
    use chrono::Utc;

    #[actix_web::test]
    async fn audit_pages_newest_first() {
        let (_dir, store) = temp_store();
        for i in 0..5 {
            let e = NewAudit {
                at: Utc::now(),
                actor_id: Some(UserId(1)),
                actor_name: "boss".into(),
                action: "settings.update",
                target: "shop".into(),
                detail: format!("change {i}"),
            };
            store.write(move |tx| tx.append_audit(&e)).await.unwrap();
        }
        let r = store.read().unwrap();
        let first = r.list_audit(None, 2).unwrap();
        assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 4]);
        let next = r.list_audit(Some(4), 10).unwrap();
        assert_eq!(
            next.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 2, 1]
        );
        assert_eq!(next[2].detail, "change 0");
    }
}
