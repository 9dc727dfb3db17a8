//! Group commit: every write request goes over a channel to one thread, which applies
//! as many queued requests as it finds in one redb write transaction, commits it durably
//! and only then answers each caller. Many concurrent writers share one fsync.

use super::hot::Hot;
use super::receipts::Recent;
use super::{Error, Result, WriteTx};
use redb::Database;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// Most requests applied in one transaction; bounds the latency one batch adds.
const MAX_BATCH: usize = 1024;
/// Requests that may wait in the queue before senders wait too (back-pressure).
const QUEUE: usize = 8192;

/// One queued write request, type-erased.
trait Op: Send {
    /// Applies the request's changes; may be called again after an aborted batch.
    fn apply(&mut self, tx: &WriteTx) -> Result<()>;
    /// Answers the caller once the outcome is final.
    fn finish(self: Box<Self>, outcome: Result<()>);
}

struct TypedOp<F, R> {
    f: F,
    out: Option<R>,
    reply: oneshot::Sender<Result<R>>,
}

impl<F, R> Op for TypedOp<F, R>
where
    F: FnMut(&WriteTx) -> Result<R> + Send,
    R: Send,
{
    fn apply(&mut self, tx: &WriteTx) -> Result<()> {
        self.out = Some((self.f)(tx)?);
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        let TypedOp { out, reply, .. } = *self;
        let result = outcome
            .and_then(|()| out.ok_or_else(|| Error::Batch("request produced no result".into())));
        // The caller may have gone away (request cancelled); nothing to do then.
        let _ = reply.send(result);
    }
}

/// The sending side of the writer; dropping it stops the thread after the queue drains.
pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Box<dyn Op>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread for `db`.
    pub(crate) fn start(db: Arc<Database>, recent: Arc<Recent>, hot: Arc<Hot>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("xiaoer-writer".into())
            .spawn(move || run(&db, &recent, &hot, rx))
            .ok();
        Writer {
            tx: Some(tx),
            thread,
        }
    }

    /// Queues `f` and waits for its durable outcome.
    pub(crate) async fn submit<R, F>(&self, f: F) -> Result<R>
    where
        F: FnMut(&WriteTx) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let sender = self.tx.as_ref().ok_or(Error::WriterGone)?;
        let (reply, answer) = oneshot::channel();
        let op: Box<dyn Op> = Box::new(TypedOp {
            f,
            out: None,
            reply,
        });
        sender.send(op).await.map_err(|_| Error::WriterGone)?;
        answer.await.map_err(|_| Error::WriterGone)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(db: &Database, recent: &Recent, hot: &Hot, mut rx: mpsc::Receiver<Box<dyn Op>>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(db, recent, hot, batch);
    }
}

/// Why a batch did not commit.
enum Failure {
    /// Request `i` failed (or panicked); nothing was written.
    Op(usize, Error),
    /// The transaction itself failed (I/O).
    Commit(String),
}

fn commit_batch(db: &Database, recent: &Recent, hot: &Hot, mut batch: Vec<Box<dyn Op>>) {
    loop {
        match apply_and_commit(db, recent, hot, &mut batch) {
            Ok(()) => {
                batch.into_iter().for_each(|op| op.finish(Ok(())));
                return;
            }
            // A failing request is answered and dropped; the rest are applied again, still
            // as one batch, so one bad request costs its neighbours one retry, not an
            // fsync each.
            Err(Failure::Op(i, e)) => {
                batch.remove(i).finish(Err(e));
                if batch.is_empty() {
                    return;
                }
            }
            Err(Failure::Commit(msg)) => {
                batch
                    .into_iter()
                    .for_each(|op| op.finish(Err(Error::Batch(msg.clone()))));
                return;
            }
        }
    }
}

fn apply_and_commit(
    db: &Database,
    recent: &Recent,
    hot: &Hot,
    ops: &mut [Box<dyn Op>],
) -> Result<(), Failure> {
    let tx = db
        .begin_write()
        .map_err(|e| Failure::Commit(e.to_string()))?;
    // The transaction's tables close with `w`, before the transaction ends.
    let w = WriteTx::of_store(&tx, recent, hot);
    for (i, op) in ops.iter_mut().enumerate() {
        let applied = catch_unwind(AssertUnwindSafe(|| op.apply(&w)));
        let failed = match applied {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(_) => Error::Batch("a write request panicked".into()),
        };
        drop(w);
        let _ = tx.abort();
        return Err(Failure::Op(i, failed));
    }
    if let Err(e) = w.flush() {
        drop(w);
        let _ = tx.abort();
        return Err(Failure::Commit(e.to_string()));
    }
    let (receipts, staged) = (w.take_receipts(), w.take_staged());
    drop(w);
    if let Err(e) = tx.commit() {
        // The commit may have reached the file all the same.
        hot.clear();
        return Err(Failure::Commit(e.to_string()));
    }
    // Before anyone is answered: a retry of an acknowledged message must find it, and
    // the buyer's next message its conversation as this one left it.
    recent.publish(receipts);
    hot.publish(staged);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::temp_store;
    use super::super::{Error, Store, tables};
    use crate::store::prelude::*;

    async fn put(store: &Store, key: String, n: u64) -> super::Result<u64> {
        store
            .write(move |tx| {
                tx.table(tables::META)?.insert(key.as_str(), n)?;
                Ok(n)
            })
            .await
    }

    #[actix_web::test]
    async fn ids_taken_in_shared_batches_are_unique_and_survive_a_restart() {
        let (dir, store) = temp_store();
        let mut tasks = Vec::new();
        for i in 0..300u64 {
            let s = store.clone();
            tasks.push(actix_web::rt::spawn(async move {
                s.write(move |tx| {
                    let a = tx.next_id("test")?;
                    let b = tx.next_id("test")?;
                    // Every fifth request fails after taking ids: they are not kept.
                    if i % 5 == 0 {
                        return Err(Error::Conflict("no".into()));
                    }
                    Ok((a, b))
                })
                .await
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            if let Ok((a, b)) = t.await.unwrap() {
                assert_eq!(b, a + 1, "one request's ids follow each other");
                ids.extend([a, b]);
            }
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=480).collect::<Vec<u64>>());
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        let next = store.write(|tx| tx.next_id("test")).await.unwrap();
        assert_eq!(next, 481);
    }

    #[actix_web::test]
    async fn concurrent_writers_are_all_acknowledged_and_durable() {
        let (dir, store) = temp_store();
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let s = store.clone();
            tasks.push(actix_web::rt::spawn(async move {
                put(&s, format!("k{i}"), i).await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), i as u64);
        }
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        let r = store.read().unwrap();
        let meta = r.table(tables::META).unwrap();
        for i in 0..200u64 {
            let v = meta
                .get(format!("k{i}").as_str())
                .unwrap()
                .map(|g| g.value());
            assert_eq!(v, Some(i), "k{i} lost after reopen");
        }
    }

    #[actix_web::test]
    async fn a_failing_request_does_not_fail_its_batch_neighbours() {
        let (_dir, store) = temp_store();
        let mut tasks = Vec::new();
        for i in 0..50u64 {
            let s = store.clone();
            tasks.push(actix_web::rt::spawn(async move {
                s.write(move |tx| {
                    tx.table(tables::META)?
                        .insert(format!("n{i}").as_str(), i)?;
                    if i % 10 == 3 {
                        return Err(Error::Conflict(format!("no {i}")));
                    }
                    Ok(i)
                })
                .await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let res = t.await.unwrap();
            if i % 10 == 3 {
                assert!(matches!(res, Err(Error::Conflict(_))));
            } else {
                assert_eq!(res.unwrap(), i as u64);
            }
        }
        let r = store.read().unwrap();
        let meta = r.table(tables::META).unwrap();
        for i in 0..50u64 {
            let v = meta
                .get(format!("n{i}").as_str())
                .unwrap()
                .map(|g| g.value());
            // The failed requests' writes were rolled back; everyone else's are there.
            assert_eq!(v.is_some(), i % 10 != 3, "n{i}");
        }
    }

    #[actix_web::test]
    async fn a_panicking_request_is_an_error_not_a_dead_writer() {
        let (_dir, store) = temp_store();
        let res: super::Result<()> = store
            .write(|_tx| -> super::Result<()> { panic!("boom") })
            .await;
        assert!(matches!(res, Err(Error::Batch(_))));
        assert_eq!(put(&store, "after".into(), 1).await.unwrap(), 1);
    }
}
