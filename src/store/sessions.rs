//! Login sessions, keyed by the hex SHA-256 of the cookie token.

use super::codec::{decode, encode};
use super::tables::SESSIONS;
use super::{Reads, Result, WriteTx};
use crate::model::{Session, UserId};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableHandle};

/// Reads of this file's tables, in a read or a write transaction.
pub trait SessionReads: Reads {
    /// The session stored under `key`.
    fn get_session(&self, key: &str) -> Result<Option<Session>> {
        self.table(SESSIONS)?
            .get(key)?
            .map(|v| decode(SESSIONS.name(), v.value()))
            .transpose()
    }
}

impl<T: Reads> SessionReads for T {}

impl WriteTx<'_> {
    /// Stores (or replaces) the session under `key`.
    pub fn put_session(&self, key: &str, session: &Session) -> Result<()> {
        self.table(SESSIONS)?
            .insert(key, encode(session)?.as_slice())?;
        Ok(())
    }

    /// Removes the session under `key`, if any.
    pub fn delete_session(&self, key: &str) -> Result<()> {
        self.table(SESSIONS)?.remove(key)?;
        Ok(())
    }

    /// Removes every session of `user`; returns how many.
    pub fn delete_sessions_of(&self, user: UserId) -> Result<usize> {
        self.delete_sessions_where(|s| s.user_id == user)
    }

    /// Removes sessions that ended before `now` or were idle since before `idle_cutoff`.
    pub fn purge_sessions(&self, now: DateTime<Utc>, idle_cutoff: DateTime<Utc>) -> Result<usize> {
        self.delete_sessions_where(|s| s.expires_at <= now || s.last_seen < idle_cutoff)
    }

    fn delete_sessions_where(&self, doomed: impl Fn(&Session) -> bool) -> Result<usize> {
        let mut table = self.table(SESSIONS)?;
        let mut keys = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            let s: Session = decode(SESSIONS.name(), v.value())?;
            if doomed(&s) {
                keys.push(k.value().to_string());
            }
        }
        for k in &keys {
            table.remove(k.as_str())?;
        }
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;
    use chrono::Duration;

    fn session(user: u64, created: DateTime<Utc>) -> Session {
        Session {
            user_id: UserId(user),
            csrf: format!("csrf{user}"),
            created_at: created,
            last_seen: created,
            expires_at: created + Duration::days(30),
        }
    }

    #[actix_web::test]
    async fn sessions_round_trip_and_purge() {
        let (_dir, store) = temp_store();
        let t0 = Utc::now();
        let (a, b, c) = (
            session(1, t0),
            session(2, t0),
            session(1, t0 - Duration::days(40)),
        );
        let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());
        store
            .write(move |tx| {
                tx.put_session("ka", &a2)?;
                tx.put_session("kb", &b2)?;
                tx.put_session("kc", &c2)
            })
            .await
            .unwrap();
        assert_eq!(store.read().unwrap().get_session("ka").unwrap(), Some(a));

        // kc expired ten days ago.
        let n = store
            .write(move |tx| tx.purge_sessions(t0, t0 - Duration::days(7)))
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(store.read().unwrap().get_session("kc").unwrap(), None);

        let n = store
            .write(|tx| tx.delete_sessions_of(UserId(1)))
            .await
            .unwrap();
        assert_eq!(n, 1);
        let r = store.read().unwrap();
        assert_eq!(r.get_session("ka").unwrap(), None);
        assert_eq!(r.get_session("kb").unwrap(), Some(b));
    }
}
