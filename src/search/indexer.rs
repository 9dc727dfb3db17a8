//! Keeping the history index current. [`History::catch_up`] reads the store's event
//! log after the last event indexed and adds every message it names; [`follow`] runs it
//! on a blocking thread after the first start and then whenever the live bus announces
//! a message, at most once per interval, so many messages share one commit. The bus
//! only rings the bell: what gets indexed always comes from the store, so a lagged
//! receiver or a restart loses nothing.

use super::{History, Payload, Result, SCHEMA_VERSION};
use crate::model::{ConvId, ConvState, Event, EventKind, Sender, UserId};
use crate::store::{ReadTx, Store, prelude::*};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tantivy::{IndexWriter, TantivyDocument};
use tokio::sync::broadcast::{self, error::RecvError};

/// How often the live indexer commits at most. Each commit writes a segment that is
/// merged later; every 3 s rather than every second left 13% more messages per second
/// to the database writer under load (README, "Service speed").
pub const EVERY: Duration = Duration::from_secs(3);

/// While a catch-up runs and another is already due, the follower stops listening to
/// the bus this long at a time: it need not hear of more messages, only, in the end,
/// that the bus closed.
const QUIET: Duration = Duration::from_millis(250);

/// Events read per read transaction.
const CHUNK: usize = 2_000;
/// A long catch-up (a rebuild) commits after this many messages, so it resumes there.
const COMMIT_DOCS: usize = 200_000;
/// Conversations whose serving agent is tracked; beyond, the record is asked instead.
const MAX_TRACKED: usize = 100_000;

/// The writer and what it has read, behind one lock.
pub(crate) struct Indexing {
    writer: IndexWriter,
    /// The last event read (indexed or skipped) and its time.
    last: u64,
    last_at: i64,
    /// Who served each conversation at the last event read, as the log tells it.
    agents: HashMap<ConvId, Option<UserId>>,
}

impl Indexing {
    pub(crate) fn new(writer: IndexWriter, last: u64, last_at: i64) -> Indexing {
        Indexing {
            writer,
            last,
            last_at,
            agents: HashMap::new(),
        }
    }

    fn track(&mut self, conv: ConvId, agent: Option<UserId>) {
        if self.agents.len() >= MAX_TRACKED && !self.agents.contains_key(&conv) {
            self.agents.clear();
        }
        self.agents.insert(conv, agent);
    }

    /// The agent serving `conv` now (in log order); a conversation that started before
    /// this catch-up began is looked up in its record.
    fn agent_of(&mut self, conv: ConvId, r: &ReadTx) -> Result<Option<UserId>> {
        if let Some(a) = self.agents.get(&conv) {
            return Ok(*a);
        }
        let agent = r.get_conv(conv)?.and_then(|c| c.agent);
        self.track(conv, agent);
        Ok(agent)
    }
}

impl History {
    /// Indexes every message written after the last event indexed, commits, and returns
    /// how many it added. Runs one at a time (callers wait for each other); call it from
    /// a thread that may block.
    pub fn catch_up(&self) -> Result<usize> {
        lowly(|| self.catch_up_here())
    }

    fn catch_up_here(&self) -> Result<usize> {
        let mut ing = self.indexing.lock().unwrap_or_else(|p| p.into_inner());
        let committed = (ing.last, ing.last_at);
        let done = self.read_log(&mut ing, &self.store);
        if done.is_err() {
            // Back to the last commit: what was added since is read again next time.
            let _ = ing.writer.rollback();
            (ing.last, ing.last_at) = committed;
            ing.agents.clear();
        }
        done
    }

    fn read_log(&self, ing: &mut Indexing, store: &Store) -> Result<usize> {
        let (mut added, mut pending) = (0, 0);
        loop {
            let r = store.read()?;
            let events = r.events_after(ing.last, CHUNK)?;
            for e in &events {
                if self.apply(ing, &r, e)? {
                    added += 1;
                    pending += 1;
                }
                ing.last = e.seq;
                ing.last_at = e.at.timestamp_micros();
            }
            if pending >= COMMIT_DOCS {
                self.commit(ing)?;
                pending = 0;
            }
            if events.len() < CHUNK || self.stop.load(Ordering::Acquire) {
                break;
            }
        }
        if pending > 0 {
            self.commit(ing)?;
        }
        self.committed.store(ing.last, Ordering::Release);
        Ok(added)
    }

    /// Takes one event into account; true when it added a document.
    fn apply(&self, ing: &mut Indexing, r: &ReadTx, e: &Event) -> Result<bool> {
        match &e.kind {
            EventKind::Message { seq, from } => {
                if *seq == 1 && !ing.agents.contains_key(&e.conv) {
                    // Seen from its first message: nobody serves it unless the log says.
                    ing.track(e.conv, None);
                }
                if from == "system" {
                    return Ok(false);
                }
                let Some(m) = r.message_as::<Indexed>(e.conv, *seq)? else {
                    return Ok(false);
                };
                let agent = match &m.from {
                    Sender::Agent { id, .. } => Some(*id),
                    _ => ing.agent_of(e.conv, r)?,
                };
                ing.writer.add_document(self.document(e, &m, agent))?;
                Ok(true)
            }
            EventKind::Assigned { agent, .. } => {
                ing.track(e.conv, Some(*agent));
                Ok(false)
            }
            EventKind::State { to, .. } => {
                match to {
                    ConvState::Bot | ConvState::Queued => ing.track(e.conv, None),
                    ConvState::Closed => {
                        ing.agents.remove(&e.conv);
                    }
                    ConvState::Human => {}
                }
                Ok(false)
            }
            EventKind::Invited | EventKind::Rated { .. } | EventKind::Alert { .. } => Ok(false),
        }
    }

    fn document(&self, e: &Event, m: &Indexed, agent: Option<UserId>) -> TantivyDocument {
        let f = self.f;
        let mut d = TantivyDocument::default();
        d.add_text(f.text, &m.text);
        d.add_u64(f.conv, e.conv.0);
        d.add_u64(f.seq, m.seq);
        d.add_u64(f.order, e.seq);
        d.add_i64(f.at, m.at.timestamp_micros());
        d.add_text(f.channel, &e.channel);
        d.add_text(f.sender, m.from.kind());
        d.add_u64(f.agent, agent.map_or(0, |a| a.0));
        d
    }

    fn commit(&self, ing: &mut Indexing) -> Result<()> {
        let payload = Payload {
            schema: SCHEMA_VERSION,
            last: ing.last,
            stamp: ing.last_at,
        };
        let mut prepared = ing.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).unwrap_or_default());
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }
}

/// What the index takes from a stored [`Message`](crate::model::Message). Decoding
/// only these fields skips building the rest (a bot reply's menu and follow-ups): the
/// decode was over half of the catch-up thread's time under load.
#[derive(serde::Deserialize)]
struct Indexed {
    seq: u64,
    #[serde(with = "crate::model::stamp")]
    at: chrono::DateTime<chrono::Utc>,
    from: Sender,
    text: String,
}

enum Wake {
    Message,
    Closed,
}

/// Waits for a message worth indexing (or a lag, after which the log tells).
async fn wake(rx: &mut broadcast::Receiver<Arc<Event>>) -> Wake {
    loop {
        match rx.recv().await {
            Ok(e) if matches!(&e.kind, EventKind::Message { from, .. } if from != "system") => {
                return Wake::Message;
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return Wake::Message,
            Err(RecvError::Closed) => return Wake::Closed,
        }
    }
}

/// Keeps `history` current until the bus closes or the index is dropped: a catch-up
/// now (the rebuild, when the index was missing), then one per `every` while messages
/// arrive. `rx` must be subscribed before the first catch-up reads the log, so nothing
/// falls between. Only a catch-up in progress holds the index (and with it the store):
/// when the desk lets go, both close at once, and the data folder can be opened again.
pub async fn follow(
    history: Weak<History>,
    mut rx: broadcast::Receiver<Arc<Event>>,
    every: Duration,
) {
    let mut again = true;
    let mut last_run: Option<tokio::time::Instant> = None;
    loop {
        if !again && matches!(wake(&mut rx).await, Wake::Closed) {
            return;
        }
        if let Some(t) = last_run {
            tokio::time::sleep_until(t + every).await;
        }
        last_run = Some(tokio::time::Instant::now());
        again = false;
        let Some(h) = history.upgrade() else {
            return;
        };
        let mut job = std::pin::pin!(tokio::task::spawn_blocking(move || h.catch_up()));
        let outcome = loop {
            tokio::select! {
                done = &mut job => break done,
                w = wake(&mut rx) => match w {
                    Wake::Message => {
                        // Another catch-up is due either way: hear nothing more for a
                        // while, or every message published meanwhile wakes this task
                        // (a cross-thread wake, a system call each, on the web workers).
                        again = true;
                        tokio::select! {
                            done = &mut job => break done,
                            () = tokio::time::sleep(QUIET) => {}
                        }
                    }
                    Wake::Closed => {
                        // Shutting down: let a long rebuild stop at its next chunk.
                        if let Some(h) = history.upgrade() {
                            h.stop.store(true, Ordering::Release);
                        }
                        let _ = job.await;
                        return;
                    }
                },
            }
        };
        match outcome {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::debug!(messages = n, "history search index updated"),
            Ok(Err(e)) => tracing::warn!(error = %e, "history search index update failed"),
            Err(e) => tracing::warn!(error = %e, "history search indexer failed"),
        }
    }
}

/// Runs `f` on a thread of its own at the lowest CPU priority (nice 19) and returns
/// what it returns. Threads it starts inherit the priority: tantivy's merge and
/// segment threads when the index writer is made here, its indexing workers when a
/// commit remakes them. At normal priority, each commit's burst of segment work took a
/// core from the database writer and the web workers for a few hundred milliseconds,
/// every `EVERY`, and buyers' answers waited (README, "Service speed"). Linux only:
/// elsewhere the priority applies to the whole process, so `f` runs as is.
pub(crate) fn lowly<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let work = std::sync::Mutex::new(Some(f));
    let take = || work.lock().unwrap_or_else(|p| p.into_inner()).take();
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("history-index".into())
            .spawn_scoped(s, || {
                // On Linux, "the calling process" is the calling thread here.
                #[cfg(target_os = "linux")]
                let _ = rustix::process::setpriority_process(None, 19);
                take().map(|f| f())
            });
        let done = match worker {
            Ok(worker) => worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        // No thread to be had: the work is done here, at this thread's priority.
        done.unwrap_or_else(|| take().map(|f| f()).unwrap_or_else(|| unreachable!()))
    })
}
