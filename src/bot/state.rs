//! The engine's in-memory view of the knowledge base: entries with their phrasings
//! analyzed once, products, the analyzer and the typo corrector.

use super::index::Doc;
use super::normalize::normalize;
use super::tokenize::{Analyzer, bigrams, unigrams};
use super::typo::Corrector;
use super::{FollowUp, KbData};
use crate::model::{KbEntry, MatchMode, Product};
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A phrasing, analyzed.
pub struct Phrase {
    pub text: String,
    /// Normalized without spaces, for exact comparison.
    pub compact: String,
    /// Character unigrams and bigrams of its canonical words.
    pub grams: HashSet<String>,
}

impl Phrase {
    pub fn new(text: &str, analyzer: &Analyzer) -> Phrase {
        let norm = normalize(text);
        let words = analyzer.words(&norm);
        Phrase {
            text: text.to_string(),
            compact: norm.replace(' ', ""),
            grams: gram_set(&words),
        }
    }
}

/// Character unigrams and bigrams of words, as a set.
pub fn gram_set(words: &[String]) -> HashSet<String> {
    unigrams(words).into_iter().chain(bigrams(words)).collect()
}

/// An entry ready for matching.
pub struct Prepared {
    pub entry: KbEntry,
    pub phrasings: Vec<Phrase>,
    pub negatives: Vec<Phrase>,
    /// Canonical words of every phrasing (vocabulary for typo correction).
    pub words: Vec<String>,
    /// Normalized keywords (keyword mode).
    pub keywords: Vec<String>,
    /// The compiled pattern (regex mode).
    pub regex: Option<Regex>,
}

impl Prepared {
    fn new(entry: KbEntry, analyzer: &Analyzer) -> Prepared {
        let phrasings: Vec<Phrase> = entry
            .phrasings()
            .map(|p| Phrase::new(p, analyzer))
            .collect();
        let negatives = entry
            .negative
            .iter()
            .map(|p| Phrase::new(p, analyzer))
            .collect();
        let words = entry
            .phrasings()
            .flat_map(|p| analyzer.words(&normalize(p)))
            .collect();
        let keywords = entry
            .keywords
            .iter()
            .map(|k| normalize(k).replace(' ', ""))
            .filter(|k| !k.is_empty())
            .collect();
        let regex = match entry.match_mode {
            MatchMode::Regex => entry
                .pattern
                .as_deref()
                .and_then(|p| regex::RegexBuilder::new(p).size_limit(1 << 20).build().ok()),
            _ => None,
        };
        Prepared {
            entry,
            phrasings,
            negatives,
            words,
            keywords,
            regex,
        }
    }

    /// Whether intelligent matching (the index) covers this entry.
    pub fn indexed(&self) -> bool {
        self.entry.enabled && self.entry.match_mode == MatchMode::Intelligent
    }
}

/// The knowledge base as the engine sees it.
#[derive(Clone)]
pub struct State {
    pub analyzer: Analyzer,
    pub corrector: Arc<Corrector>,
    pub entries: HashMap<String, Arc<Prepared>>,
    pub products: HashMap<String, Product>,
    /// Word counts over indexed phrasings and synonym lists.
    vocab: HashMap<String, u32>,
    pub generation: u64,
}

impl State {
    /// Analyzes every entry of `data`.
    pub fn build(data: KbData) -> State {
        let names = data.products.iter().flat_map(|p| {
            std::iter::once(p.name.as_str()).chain(p.aliases.iter().map(String::as_str))
        });
        let analyzer = Analyzer::new(&data.lexicon, names);
        let mut vocab: HashMap<String, u32> = HashMap::new();
        for w in analyzer.synonym_words() {
            *vocab.entry(w.to_string()).or_default() += 1;
        }
        let entries: HashMap<String, Arc<Prepared>> = data
            .entries
            .into_iter()
            .map(|e| (e.id.clone(), Arc::new(Prepared::new(e, &analyzer))))
            .collect();
        for p in entries.values().filter(|p| p.indexed()) {
            count(&mut vocab, p, 1);
        }
        State {
            corrector: Arc::new(Corrector::new(&vocab)),
            analyzer,
            entries,
            products: data
                .products
                .into_iter()
                .map(|p| (p.sku.clone(), p))
                .collect(),
            vocab,
            generation: data.generation,
        }
    }

    /// The index documents of every indexed entry.
    pub fn docs(&self) -> Vec<Doc<'_>> {
        self.entries
            .values()
            .filter(|p| p.indexed())
            .map(|p| Doc {
                id: &p.entry.id,
                text: p.entry.phrasings().collect::<Vec<_>>().join("\n"),
            })
            .collect()
    }

    /// The index text of entry `id`, `None` when it should not be indexed.
    pub fn doc_text(&self, id: &str) -> Option<String> {
        self.entries
            .get(id)
            .filter(|p| p.indexed())
            .map(|p| p.entry.phrasings().collect::<Vec<_>>().join("\n"))
    }

    /// Adds or replaces an entry.
    pub fn put(&mut self, entry: KbEntry, generation: u64) {
        let prepared = Arc::new(Prepared::new(entry, &self.analyzer));
        if prepared.indexed() {
            count(&mut self.vocab, &prepared, 1);
        }
        if let Some(old) = self.entries.insert(prepared.entry.id.clone(), prepared)
            && old.indexed()
        {
            count(&mut self.vocab, &old, -1);
        }
        self.corrector = Arc::new(Corrector::new(&self.vocab));
        self.generation = generation;
    }

    /// Removes an entry.
    pub fn remove(&mut self, id: &str, generation: u64) {
        if let Some(old) = self.entries.remove(id)
            && old.indexed()
        {
            count(&mut self.vocab, &old, -1);
            self.corrector = Arc::new(Corrector::new(&self.vocab));
        }
        self.generation = generation;
    }

    /// Standard questions containing `prefix`, those starting with it first.
    pub fn suggest(&self, prefix: &str, limit: usize, now: DateTime<Utc>) -> Vec<FollowUp> {
        let needle = normalize(prefix).replace(' ', "");
        if needle.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(bool, usize, &KbEntry)> = self
            .entries
            .values()
            .filter(|p| p.entry.active_at(now))
            .filter_map(|p| {
                let q = normalize(&p.entry.question).replace(' ', "");
                q.find(&needle)
                    .map(|at| (at != 0, q.chars().count(), &p.entry))
            })
            .collect();
        hits.sort_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
        hits.into_iter()
            .take(limit)
            .map(|(_, _, e)| FollowUp {
                id: e.id.clone(),
                question: e.question.clone(),
            })
            .collect()
    }
}

fn count(vocab: &mut HashMap<String, u32>, p: &Prepared, delta: i32) {
    for w in &p.words {
        if delta > 0 {
            *vocab.entry(w.clone()).or_default() += 1;
        } else if let Some(n) = vocab.get_mut(w) {
            *n -= 1;
            if *n == 0 {
                vocab.remove(w);
            }
        }
    }
}
