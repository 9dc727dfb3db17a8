//! Conversations and buyers as last committed, decoded.
//!
//! Every buyer message reads its buyer and conversation twice (the web worker, to plan
//! the answer, and the writer, to apply it) and writes both back. Finding and decoding
//! them took about a tenth of the server's CPU under load (README, "Service speed"). Only the
//! writer thread changes those two tables, through `put_buyer` and `put_conv`, so the
//! records it puts, published here once their transaction has committed, are what the
//! file holds. A write transaction reads the records it put itself first, then these,
//! and only then the file. A read snapshot uses them only when made with
//! [`Store::read_newest`](super::Store::read_newest): they may be newer than the
//! snapshot.
//!
//! The shop settings, reception settings and scene switches, read by every buyer
//! message too, change rarely: a generation number counts the commits that changed
//! them, so a reader can keep what it decoded until the number moves
//! ([`Store::config_generation`](super::Store::config_generation)).

use crate::model::{Buyer, Conversation};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Records kept at most per kind; when full, the kind starts again empty.
const MAX: usize = 20_000;

/// The committed records of one kind, by id.
pub(crate) struct Records<T>(Mutex<HashMap<u64, Arc<T>>>);

impl<T> Default for Records<T> {
    fn default() -> Self {
        Records(Mutex::new(HashMap::new()))
    }
}

impl<T> Records<T> {
    pub(crate) fn get(&self, id: u64) -> Option<Arc<T>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    fn publish(&self, staged: HashMap<u64, Arc<T>>) {
        if staged.is_empty() {
            return;
        }
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() + staged.len() > MAX {
            all.clear();
        }
        all.extend(staged);
    }

    fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The committed records of the store.
#[derive(Default)]
pub(crate) struct Hot {
    pub(crate) convs: Records<Conversation>,
    pub(crate) buyers: Records<Buyer>,
    /// Commits that changed the settings, reception or scene switches (or may have).
    config: AtomicU64,
}

/// The records a write transaction has put, to publish once it has committed.
#[derive(Default)]
pub(crate) struct Staged {
    pub(crate) convs: HashMap<u64, Arc<Conversation>>,
    pub(crate) buyers: HashMap<u64, Arc<Buyer>>,
    /// The transaction changed the settings, reception or scene switches.
    pub(crate) config: bool,
}

impl Hot {
    /// Takes in what a committed transaction put.
    pub(crate) fn publish(&self, staged: Staged) {
        self.convs.publish(staged.convs);
        self.buyers.publish(staged.buyers);
        if staged.config {
            self.config.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Forgets everything: after a commit that failed, which may still have reached
    /// the file.
    pub(crate) fn clear(&self) {
        self.convs.clear();
        self.buyers.clear();
        self.config.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn config_generation(&self) -> u64 {
        self.config.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::temp_store;
    use super::super::{Error, Store, tables};
    use crate::model::{BuyerId, ConvId, ConvState, Conversation};
    use crate::store::prelude::*;
    use chrono::Utc;

    /// Starts conversation `id` of a new buyer `b{id}`; returns it as stored.
    async fn start(store: &Store, id: u64) -> Conversation {
        store
            .write(move |tx| {
                let b = tx.buyer_for("web", &format!("b{id}"), Utc::now())?;
                let c = Conversation::start(ConvId(id), b.id, "web", 0, Utc::now());
                tx.put_conv(&c)?;
                Ok(c)
            })
            .await
            .unwrap()
    }

    /// The conversation as the file holds it, decoded from its bytes.
    fn in_file(store: &Store, id: u64) -> Conversation {
        let r = store.read().unwrap();
        let t = r.table(tables::CONVERSATIONS).unwrap();
        let bytes = t.get(id).unwrap().unwrap();
        serde_json::from_slice(bytes.value()).unwrap()
    }

    #[actix_web::test]
    async fn committed_records_are_what_the_file_holds_and_failed_ones_never_show() {
        let (_dir, store) = temp_store();
        let mut c = start(&store, 1).await;
        let hot = &store.inner.hot;
        assert_eq!(hot.convs.get(1).as_deref(), Some(&c));
        assert_eq!(hot.convs.get(1).as_deref(), Some(&in_file(&store, 1)));
        assert!(hot.buyers.get(c.buyer.0).is_some());

        // Put, then fail: the transaction is rolled back and so is its record.
        let failed = store
            .write(move |tx| {
                let mut c = tx.get_conv(ConvId(1))?.ok_or(Error::NotFound)?;
                c.state = ConvState::Queued;
                tx.put_conv(&c)?;
                // Read back inside the transaction: its own put.
                let again = tx.get_conv(ConvId(1))?.ok_or(Error::NotFound)?;
                assert_eq!(again.state, ConvState::Queued);
                Err::<(), _>(Error::Conflict("no".into()))
            })
            .await;
        assert!(matches!(failed, Err(Error::Conflict(_))));
        assert_eq!(hot.convs.get(1).map(|c| c.state), Some(ConvState::Bot));
        assert_eq!(in_file(&store, 1).state, ConvState::Bot);

        // The next transaction reads the committed record and changes it.
        c.state = ConvState::Closed;
        let closed = c.clone();
        store
            .write(move |tx| {
                assert_eq!(
                    tx.get_conv(ConvId(1))?.map(|c| c.state),
                    Some(ConvState::Bot)
                );
                tx.put_conv(&closed)
            })
            .await
            .unwrap();
        assert_eq!(hot.convs.get(1).as_deref(), Some(&c));
        assert_eq!(in_file(&store, 1), c);
    }

    #[actix_web::test]
    async fn a_snapshot_keeps_its_records_and_a_newest_read_sees_the_last_commit() {
        let (_dir, store) = temp_store();
        let c = start(&store, 1).await;
        let snapshot = store.read().unwrap();
        let mut changed = c.clone();
        changed.state = ConvState::Queued;
        let put = changed.clone();
        store.write(move |tx| tx.put_conv(&put)).await.unwrap();
        assert_eq!(snapshot.get_conv(ConvId(1)).unwrap(), Some(c.clone()));
        let newest = store.read_newest().unwrap();
        assert_eq!(newest.get_conv(ConvId(1)).unwrap(), Some(changed));
        assert_eq!(
            newest.get_buyer(c.buyer).unwrap().map(|b| b.id),
            Some(c.buyer)
        );
        assert_eq!(newest.get_buyer(BuyerId(999)).unwrap(), None);
    }

    #[actix_web::test]
    async fn a_restart_starts_empty_and_reads_the_file() {
        let (dir, store) = temp_store();
        let c = start(&store, 1).await;
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.inner.hot.convs.len(), 0);
        let r = store.read_newest().unwrap();
        assert_eq!(r.get_conv(ConvId(1)).unwrap(), Some(c));
    }

    /// Whether committing `op` (which must succeed) moved the configuration generation.
    async fn moves<F>(store: &Store, op: F) -> bool
    where
        F: FnMut(&crate::store::WriteTx) -> super::super::Result<()> + Send + 'static,
    {
        let before = store.config_generation();
        store.write(op).await.unwrap();
        store.config_generation() > before
    }

    #[actix_web::test]
    async fn the_configuration_generation_moves_with_committed_configuration_changes_only() {
        use crate::model::{Reception, SceneSwitch, ShopSettings};
        let (_dir, store) = temp_store();
        let g0 = store.config_generation();
        start(&store, 1).await;
        assert_eq!(
            store.config_generation(),
            g0,
            "a conversation is not configuration"
        );
        let failed = store
            .write(|tx| {
                tx.put_settings(&ShopSettings::default())?;
                Err::<(), _>(Error::Conflict("no".into()))
            })
            .await;
        assert!(matches!(failed, Err(Error::Conflict(_))));
        assert_eq!(
            store.config_generation(),
            g0,
            "rolled back, nothing changed"
        );
        assert!(moves(&store, |tx| tx.put_settings(&ShopSettings::default())).await);
        assert!(moves(&store, |tx| tx.put_reception(&Reception::default())).await);
        assert!(
            moves(&store, |tx| tx
                .put_scene_switch("售前", &SceneSwitch::default()))
            .await
        );
    }

    #[test]
    fn a_full_kind_starts_again_empty() {
        let hot = super::Hot::default();
        for round in 0..3u64 {
            let mut staged = super::Staged::default();
            for i in 0..super::MAX as u64 / 2 + 1 {
                let id = round * super::MAX as u64 + i;
                let c = Conversation::start(ConvId(id), BuyerId(1), "web", 0, Utc::now());
                staged.convs.insert(id, std::sync::Arc::new(c));
            }
            hot.publish(staged);
            assert!(hot.convs.len() <= super::MAX);
        }
        assert_eq!(hot.convs.len(), super::MAX / 2 + 1, "only the last round");
    }
}
