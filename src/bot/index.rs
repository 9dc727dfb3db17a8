//! The tantivy index of the knowledge base: one document per entry whose `words`,
//! `unigrams` and `bigrams` fields hold every positive phrasing. It is derived data: rebuilt from the
//! store when missing, when its schema changes, or when the KB generation it recorded
//! differs from the store's (a crash between the two writes). A warm start reuses it.

use super::tokenize::{
    Analyzer, BIGRAMS, BigramTokenizer, UNIGRAMS, UnigramTokenizer, WORDS, WordTokenizer,
};
use super::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

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

/// The schema identity: bump `ANALYZER_VERSION` when tokenization changes; the built-in
/// synonym list is part of it, so a new list re-indexes.
fn schema_id() -> String {
    const ANALYZER_VERSION: u32 = 1;
    let h = super::tokenize::BUILTIN_SYNONYMS
        .bytes()
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
    fields: Fields,
}

/// The three scored fields: jieba words, character unigrams, character bigrams.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub words: Field,
    pub unigrams: Field,
    pub bigrams: Field,
}

impl Fields {
    /// In channel order.
    pub fn all(&self) -> [Field; 3] {
        [self.words, self.unigrams, self.bigrams]
    }
}

/// One document to index: an entry id and its phrasings joined by newlines.
pub struct Doc<'a> {
    pub id: &'a str,
    pub text: String,
}

const WRITER_MEMORY: usize = 15_000_000;

fn schema() -> (Schema, Field, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let fields = Fields {
        words: b.add_text_field("words", text(WORDS)),
        unigrams: b.add_text_field("unigrams", text(UNIGRAMS)),
        bigrams: b.add_text_field("bigrams", text(BIGRAMS)),
    };
    (b.build(), id, fields)
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
        let (schema, id, fields) = schema();
        let want = Payload {
            schema: schema_id(),
            generation,
        };
        let (index, fresh) = match loc {
            Location::Ram => (Index::create_in_ram(schema), true),
            Location::Dir(dir) => open_dir(dir, schema, &want)?,
        };
        index
            .tokenizers()
            .register(WORDS, WordTokenizer(analyzer.clone()));
        index
            .tokenizers()
            .register(UNIGRAMS, UnigramTokenizer(analyzer.clone()));
        index
            .tokenizers()
            .register(BIGRAMS, BigramTokenizer(analyzer.clone()));
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| Error::Index(format!("cannot lock the search index: {e}")))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let si = SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            id,
            fields,
        };
        if fresh {
            si.rebuild(docs(), generation)?;
        }
        Ok((si, fresh))
    }

    /// Replaces every document.
    pub fn rebuild(&self, docs: Vec<Doc<'_>>, generation: u64) -> Result<()> {
        let mut w = self.writer();
        w.delete_all_documents()?;
        for d in docs {
            w.add_document(self.document(&d))?;
        }
        self.commit(&mut w, generation)
    }

    /// Adds or replaces one entry's document (`None` text removes it).
    pub fn put(&self, id: &str, text: Option<String>, generation: u64) -> Result<()> {
        let mut w = self.writer();
        w.delete_term(Term::from_field_text(self.id, id));
        if let Some(text) = text {
            w.add_document(self.document(&Doc { id, text }))?;
        }
        self.commit(&mut w, generation)
    }

    fn document(&self, d: &Doc<'_>) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, d.id);
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

    /// The `k` best entries for weighted terms: `(field, term, boost)`.
    pub fn search(
        &self,
        searcher: &Searcher,
        terms: &[(Field, &str, f32)],
        k: usize,
    ) -> Result<Vec<(String, f32)>> {
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
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(self.id).and_then(|v| v.as_str()) {
                out.push((id.to_string(), score));
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
