//! Search over conversation history: a tantivy index in `data/search/` with one
//! document per message (system notices left out), for substring search in Chinese and
//! exact order numbers, with filters and newest-first results.
//!
//! The index is derived data. Each commit records the last event of the store's event
//! log it covers (and that event's time, to recognise a different data file). On open,
//! an index whose schema or event stamp does not match is wiped; [`History::catch_up`]
//! then indexes every message after the recorded event, so a missing index is rebuilt
//! from redb and a warm start only reads what arrived since. [`indexer::follow`] keeps
//! it current from the live event bus.

pub mod indexer;
pub mod text;

use crate::model::ConvId;
use crate::store::{self, Store, prelude::*};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tantivy::collector::{Collector, Count, FilterCollector, TopDocs};
use tantivy::indexer::IndexWriterOptions;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, Term};
pub use text::Phrase;

/// What can go wrong with the history index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tantivy failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The store failed while indexing.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The index folder cannot be prepared.
    #[error("search index folder {0}")]
    Dir(String),
}

/// Shorthand for search results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bump when the schema or the tokenizer changes: the index is then rebuilt.
const SCHEMA_VERSION: u32 = 1;
/// Indexing memory before tantivy writes a segment.
const WRITER_MEMORY: usize = 48_000_000;

/// What a commit records.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Payload {
    schema: u32,
    /// The last event of the store's log the index covers.
    last: u64,
    /// That event's time (microseconds), to tell this data file from another.
    stamp: i64,
}

/// The indexed fields.
#[derive(Debug, Clone, Copy)]
struct Fields {
    text: Field,
    conv: Field,
    seq: Field,
    /// The message event's global sequence number: the newest-first order.
    order: Field,
    at: Field,
    channel: Field,
    sender: Field,
    agent: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(text::TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let f = Fields {
        text: b.add_text_field("text", text),
        conv: b.add_u64_field("conv", FAST),
        seq: b.add_u64_field("seq", FAST),
        order: b.add_u64_field("order", FAST),
        at: b.add_i64_field("at", FAST),
        channel: b.add_text_field("channel", STRING),
        sender: b.add_text_field("sender", STRING),
        agent: b.add_u64_field("agent", INDEXED),
    };
    (b.build(), f)
}

/// Which conversations a search covers (the state filter, resolved by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Convs {
    #[default]
    All,
    Only(Vec<ConvId>),
    Except(Vec<ConvId>),
}

/// The filters of a search; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Written at or after (microseconds since the epoch).
    pub from: Option<i64>,
    /// Written before (microseconds since the epoch).
    pub to: Option<i64>,
    pub channel: Option<String>,
    /// `buyer`, `bot` or `agent`.
    pub sender: Option<String>,
    /// The agent who wrote the message or served the conversation when it was written.
    pub agent: Option<u64>,
    pub convs: Convs,
    /// Only messages older than this position (the `order` of the last hit shown).
    pub before: Option<u64>,
}

/// One matching message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub conv: ConvId,
    pub seq: u64,
    /// Its position in the event log (newest first; the cursor for the next page).
    pub order: u64,
}

/// A page of hits, newest first, with the number of all matches when asked.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub hits: Vec<Hit>,
    pub total: Option<usize>,
}

/// The history index.
pub struct History {
    index: Index,
    reader: IndexReader,
    f: Fields,
    indexing: Mutex<indexer::Indexing>,
    /// The last event whose messages are searchable.
    committed: AtomicU64,
    /// Set at shutdown: a long catch-up stops at its next chunk.
    stop: AtomicBool,
    /// The store whose messages it indexes.
    store: Store,
}

impl History {
    /// Opens the index of `store`'s messages in `dir` (creating it, or wiping it when
    /// its schema is old or it belongs to another data file). Nothing is indexed yet:
    /// call `catch_up`.
    pub fn open(dir: &Path, store: &Store) -> Result<History> {
        let (schema, f) = schema();
        let (index, last, last_at) = open_dir(dir, schema, store)?;
        index
            .tokenizers()
            .register(text::TOKENIZER, text::HistoryTokenizer);
        // Made at low priority, so tantivy's threads start there too.
        let writer: IndexWriter = indexer::lowly(|| {
            index.writer_with_options(
                IndexWriterOptions::builder()
                    .memory_budget_per_thread(WRITER_MEMORY)
                    .num_worker_threads(1)
                    .num_merge_threads(1)
                    .build(),
            )
        })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(History {
            index,
            reader,
            f,
            indexing: Mutex::new(indexer::Indexing::new(writer, last, last_at)),
            committed: AtomicU64::new(last),
            stop: AtomicBool::new(false),
            store: store.clone(),
        })
    }

    /// The last event of the store's log whose messages are searchable.
    pub fn indexed_through(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// Messages in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index holds no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tantivy index (statistics, benchmarks).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Up to `limit` messages matching every phrase and the filter, newest first; with
    /// `count`, also the number of all matches (ignoring `before`).
    pub fn search(
        &self,
        phrases: &[Phrase],
        filter: &Filter,
        limit: usize,
        count: bool,
    ) -> Result<Found> {
        let Some(paged) = self.query(phrases, filter, filter.before) else {
            return Ok(Found {
                hits: Vec::new(),
                total: count.then_some(0),
            });
        };
        let searcher = self.reader.searcher();
        let top =
            TopDocs::with_limit(limit.max(1)).order_by_fast_field::<u64>("order", Order::Desc);
        let convs = &filter.convs;
        let (docs, total) = match (count, filter.before) {
            (false, _) => (collect(&searcher, &*paged, convs, top)?, None),
            (true, None) => {
                let (n, docs) = collect(&searcher, &*paged, convs, (Count, top))?;
                (docs, Some(n))
            }
            (true, Some(_)) => {
                let n = match self.query(phrases, filter, None) {
                    Some(all) => collect(&searcher, &*all, convs, Count)?,
                    None => 0,
                };
                (collect(&searcher, &*paged, convs, top)?, Some(n))
            }
        };
        let mut hits = Vec::with_capacity(docs.len());
        for (order, addr) in docs {
            let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
            let conv = ff.u64("conv")?.first(addr.doc_id);
            let seq = ff.u64("seq")?.first(addr.doc_id);
            if let (Some(conv), Some(seq), Some(order)) = (conv, seq, order) {
                hits.push(Hit {
                    conv: ConvId(conv),
                    seq,
                    order,
                });
            }
        }
        Ok(Found { hits, total })
    }

    /// The query for `phrases` and `filter` (`None` when nothing can match).
    fn query(
        &self,
        phrases: &[Phrase],
        filter: &Filter,
        before: Option<u64>,
    ) -> Option<Box<dyn Query>> {
        let f = self.f;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for Phrase(terms) in phrases {
            let mut terms: Vec<(usize, Term)> = terms
                .iter()
                .map(|(at, t)| (*at, Term::from_field_text(f.text, t)))
                .collect();
            let q: Box<dyn Query> = match terms.len() {
                0 => continue,
                1 => Box::new(TermQuery::new(terms.remove(0).1, IndexRecordOption::Basic)),
                _ => Box::new(PhraseQuery::new_with_offset(terms)),
            };
            must.push((Occur::Must, q));
        }
        if must.is_empty() {
            return None;
        }
        let term =
            |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
        if let Some(c) = &filter.channel {
            must.push((Occur::Must, term(Term::from_field_text(f.channel, c))));
        }
        if let Some(s) = &filter.sender {
            must.push((Occur::Must, term(Term::from_field_text(f.sender, s))));
        }
        if let Some(a) = filter.agent {
            must.push((Occur::Must, term(Term::from_field_u64(f.agent, a))));
        }
        if filter.from.is_some() || filter.to.is_some() {
            let bound = |v: Option<i64>, inclusive: bool| match v {
                Some(v) if inclusive => Bound::Included(Term::from_field_i64(f.at, v)),
                Some(v) => Bound::Excluded(Term::from_field_i64(f.at, v)),
                None => Bound::Unbounded,
            };
            let range = RangeQuery::new(bound(filter.from, true), bound(filter.to, false));
            must.push((Occur::Must, Box::new(range)));
        }
        if let Some(b) = before {
            let range = RangeQuery::new(
                Bound::Unbounded,
                Bound::Excluded(Term::from_field_u64(f.order, b)),
            );
            must.push((Occur::Must, Box::new(range)));
        }
        if matches!(&filter.convs, Convs::Only(ids) if ids.is_empty()) {
            return None;
        }
        Some(Box::new(BooleanQuery::new(must)))
    }

    /// The channels that have messages in the index.
    pub fn channels(&self) -> Result<Vec<String>> {
        let mut out = std::collections::BTreeSet::new();
        for seg in self.reader.searcher().segment_readers() {
            let inv = seg.inverted_index(self.f.channel)?;
            let mut terms = inv.terms().stream().map_err(|e| Error::Index(e.into()))?;
            while terms.advance() {
                out.insert(String::from_utf8_lossy(terms.key()).into_owned());
            }
        }
        Ok(out.into_iter().collect())
    }
}

/// Runs `collector` over the documents `query` matches in the conversations `convs`
/// allows. The conversation sets are checked on the `conv` fast field while collecting:
/// cheaper than a term-set query over thousands of open conversations.
fn collect<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    convs: &Convs,
    collector: C,
) -> Result<C::Fruit> {
    let set = |ids: &[ConvId]| Arc::new(ids.iter().map(|c| c.0).collect::<HashSet<u64>>());
    Ok(match convs {
        Convs::All => searcher.search(query, &collector)?,
        Convs::Only(ids) => {
            let ids = set(ids);
            let keep = move |c: u64| ids.contains(&c);
            searcher.search(query, &FilterCollector::new("conv".into(), keep, collector))?
        }
        Convs::Except(ids) => {
            let ids = set(ids);
            let keep = move |c: u64| !ids.contains(&c);
            searcher.search(query, &FilterCollector::new("conv".into(), keep, collector))?
        }
    })
}

/// Opens the folder's index when its payload is current for `store`, else wipes and
/// recreates it. Returns the index and the last event it covers, with its time.
fn open_dir(dir: &Path, schema: Schema, store: &Store) -> Result<(Index, u64, i64)> {
    if dir.join("meta.json").exists() {
        let current = Index::open_in_dir(dir).ok().and_then(|index| {
            let metas = index.load_metas().ok()?;
            let payload: Payload = serde_json::from_str(metas.payload.as_deref()?).ok()?;
            let fits = payload.schema == SCHEMA_VERSION
                && index.schema() == schema
                && stamp(store, payload.last).ok()? == payload.stamp;
            fits.then_some((index, payload.last, payload.stamp))
        });
        if let Some(found) = current {
            return Ok(found);
        }
        tracing::info!(dir = %dir.display(), "the history search index is outdated: rebuilding it");
        std::fs::remove_dir_all(dir)
            .map_err(|e| Error::Dir(format!("{} cannot be cleared: {e}", dir.display())))?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Dir(format!("{} cannot be created: {e}", dir.display())))?;
    Ok((Index::create_in_dir(dir, schema)?, 0, 0))
}

/// The time (microseconds) of event `seq` in the store, 0 for event 0, -1 when the
/// store has no such event.
fn stamp(store: &Store, seq: u64) -> Result<i64> {
    if seq == 0 {
        return Ok(0);
    }
    let found = store.read()?.events_after(seq - 1, 1)?;
    Ok(found
        .first()
        .filter(|e| e.seq == seq)
        .map(|e| e.at.timestamp_micros())
        .unwrap_or(-1))
}

#[cfg(test)]
mod tests;
