//! The tantivy index of the knowledge base: one document per entry whose `words` and
//! `bigrams` fields hold every positive phrasing. It is derived data: rebuilt from the
//! store when missing, when its schema changes, or when the KB generation it recorded
//! differs from the store's (a crash between the two writes). A warm start reuses it.

use super::tokenize::{Analyzer, BIGRAMS, BigramTokenizer, WORDS, WordTokenizer};
use super::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

/// Where the index lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A folder (`data/index/`).
    Dir(PathBuf),
    /// Memory only (tests, eval).
    Ram,
}

/// What a commit records, to tell a current index from a stale one.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Payload {
    schema: String,
    generation: u64,
}

/// The schema identity: bump `ANALYZER_VERSION` when tokenization or the documents'
/// make-up changes; the built-in synonym list and the starter KB (which lends industry
/// phrasings) are part of it, so a new list or starter KB re-indexes.
fn schema_id() -> String {
    const ANALYZER_VERSION: u32 = 4;
    let h = super::tokenize::BUILTIN_SYNONYMS
        .bytes()
        .chain(super::starter::KB.bytes())
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
    format!("{ANALYZER_VERSION}-{h:016x}")
}

/// The index with its writer and reader.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    id: Field,
    key: Field,
    fields: Fields,
}

/// The number a document carries for its entry id (64-bit FNV-1a), read from a fast
/// field so a search never touches the document store.
pub fn key(id: &str) -> u64 {
    id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// The indexed fields: jieba words and character bigrams. (The character-unigram
/// channel is scored in memory, on the candidates only: its posting lists are long.)
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub words: Field,
    pub bigrams: Field,
}

impl Fields {
    /// Both fields.
    pub fn all(&self) -> [Field; 2] {
        [self.words, self.bigrams]
    }
}

/// One document to index: an entry id and its phrasings joined by newlines.
pub struct Doc<'a> {
    pub id: &'a str,
    pub text: String,
}

const WRITER_MEMORY: usize = 15_000_000;

fn schema() -> (Schema, Field, Field, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING);
    let key = b.add_u64_field("key", FAST);
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let fields = Fields {
        words: b.add_text_field("words", text(WORDS)),
        bigrams: b.add_text_field("bigrams", text(BIGRAMS)),
    };
    (b.build(), id, key, fields)
}

impl SearchIndex {
    /// Opens the index at `loc`, rebuilding it from `docs` unless it is current for
    /// `generation`. Returns the index and whether it was rebuilt.
    pub fn open<'a>(
        loc: &Location,
        analyzer: &Analyzer,
        generation: u64,
        docs: impl FnOnce() -> Vec<Doc<'a>>,
    ) -> Result<(SearchIndex, bool)> {
        let (schema, id, key, fields) = schema();
        let want = Payload {
            schema: schema_id(),
            generation,
        };
        let (index, fresh) = match loc {
            Location::Ram => (Index::create_in_ram(schema), true),
            Location::Dir(dir) => open_dir(dir, schema, &want)?,
        };
        register(&index, analyzer);
        let writer: IndexWriter = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| Error::Index(format!("cannot lock the search index: {e}")))?;
        // Merges are explicit (see `compact`), so none runs behind our back.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let si = SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            id,
            key,
            fields,
        };
        if fresh {
            si.rebuild(docs(), generation)?;
        }
        Ok((si, fresh))
    }

    /// Tokenizes from now on with `analyzer` (after the lexicon or products changed;
    /// call `rebuild` next so old documents are re-tokenized too).
    pub fn use_analyzer(&self, analyzer: &Analyzer) {
        register(&self.index, analyzer);
    }

    /// Replaces every document, leaving one segment (a query visits each segment, so
    /// one is fastest).
    pub fn rebuild(&self, docs: Vec<Doc<'_>>, generation: u64) -> Result<()> {
        let mut w = self.writer();
        w.delete_all_documents()?;
        for d in docs {
            w.add_document(self.document(&d))?;
        }
        self.commit(&mut w, generation)?;
        self.compact(&mut w, true)
    }

    /// Merges segments: all of them (`all`), or all but the largest, so single-entry
    /// saves collect in one small segment beside the big one.
    fn compact(&self, w: &mut IndexWriter, all: bool) -> Result<()> {
        let mut metas = self.index.searchable_segment_metas()?;
        metas.sort_by_key(|m| std::cmp::Reverse(m.num_docs()));
        let keep = usize::from(!all);
        if metas.len() <= keep + 1 {
            return Ok(());
        }
        let ids: Vec<_> = metas.iter().skip(keep).map(|m| m.id()).collect();
        w.merge(&ids).wait()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Adds or replaces entries' documents (`None` text removes one), in one commit.
    pub fn put(&self, docs: &[(&str, Option<String>)], generation: u64) -> Result<()> {
        let mut w = self.writer();
        for (id, text) in docs {
            w.delete_term(Term::from_field_text(self.id, id));
            if let Some(text) = text {
                w.add_document(self.document(&Doc {
                    id,
                    text: text.clone(),
                }))?;
            }
        }
        self.commit(&mut w, generation)?;
        self.compact(&mut w, false)
    }

    fn document(&self, d: &Doc<'_>) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, d.id);
        doc.add_u64(self.key, key(d.id));
        for f in self.fields.all() {
            doc.add_text(f, &d.text);
        }
        doc
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn commit(&self, w: &mut IndexWriter, generation: u64) -> Result<()> {
        let payload = Payload {
            schema: schema_id(),
            generation,
        };
        let mut prepared = w.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).unwrap_or_default());
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// A searcher over the last commit.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// The scored fields.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// The `k` best entries (by `key`) for weighted terms: `(field, term, boost)`.
    pub fn search(
        &self,
        searcher: &Searcher,
        terms: &[(Field, &str, f32)],
        k: usize,
    ) -> Result<Vec<(u64, f32)>> {
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .filter(|(_, _, boost)| *boost > 0.0)
            .map(|(field, text, boost)| {
                let q = TermQuery::new(
                    Term::from_field_text(*field, text),
                    IndexRecordOption::WithFreqs,
                );
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), *boost)) as Box<dyn Query>,
                )
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search(&query, &TopDocs::with_limit(k).order_by_score())?;
        let mut columns = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(top.len());
        for (
            score,
            DocAddress {
                segment_ord,
                doc_id,
            },
        ) in top
        {
            let column = match columns.entry(segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    searcher
                        .segment_reader(segment_ord)
                        .fast_fields()
                        .u64("key")?,
                ),
            };
            if let Some(k) = column.first(doc_id) {
                out.push((k, score));
            }
        }
        Ok(out)
    }

    /// Documents in the index.
    pub fn len(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index handle (statistics).
    pub fn index(&self) -> &Index {
        &self.index
    }
}

fn register(index: &Index, analyzer: &Analyzer) {
    index
        .tokenizers()
        .register(WORDS, WordTokenizer(analyzer.clone()));
    index
        .tokenizers()
        .register(BIGRAMS, BigramTokenizer(analyzer.clone()));
}

/// Opens the folder's index when its payload matches, else wipes and recreates it.
fn open_dir(dir: &std::path::Path, schema: Schema, want: &Payload) -> Result<(Index, bool)> {
    if dir.join("meta.json").exists() {
        let current = Index::open_in_dir(dir).ok().and_then(|index| {
            let metas = index.load_metas().ok()?;
            let payload: Payload = serde_json::from_str(metas.payload.as_deref()?).ok()?;
            (payload == *want && index.schema() == schema).then_some(index)
        });
        if let Some(index) = current {
            return Ok((index, false));
        }
        std::fs::remove_dir_all(dir)
            .map_err(|e| Error::Index(format!("cannot clear {}: {e}", dir.display())))?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Index(format!("cannot create {}: {e}", dir.display())))?;
    Ok((Index::create_in_dir(dir, schema)?, true))
}
