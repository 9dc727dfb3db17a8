//! The engine's in-memory view of the knowledge base: entries with their phrasings
//! analyzed once, products, the analyzer and the typo corrector.

use super::index::Doc;
use super::industry;
use super::normalize::normalize;
use super::tokenize::{Analyzer, is_stop};
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
    /// Its canonical words joined (synonyms applied), as characters: compared with
    /// the message by longest common subsequence.
    pub seg: Vec<char>,
    /// The characters of `seg` that are not stop words.
    pub content: HashSet<char>,
    /// Lent by a starter entry (see `industry`), not written for this entry.
    pub industry: bool,
}

impl Phrase {
    pub fn new(text: &str, analyzer: &Analyzer) -> Phrase {
        let norm = normalize(text);
        let seg: Vec<char> = analyzer.words(&norm).concat().chars().collect();
        Phrase {
            text: text.to_string(),
            compact: norm.replace(' ', ""),
            content: content_chars(&seg),
            seg,
            industry: false,
        }
    }
}

/// The characters of `seg` that are not stop words.
pub fn content_chars(seg: &[char]) -> HashSet<char> {
    let mut buf = [0u8; 4];
    seg.iter()
        .copied()
        .filter(|c| !is_stop(c.encode_utf8(&mut buf)))
        .collect()
}

/// An entry ready for matching.
pub struct Prepared {
    pub entry: KbEntry,
    /// The entry's own phrasings, then those lent by `industry`.
    pub phrasings: Vec<Phrase>,
    /// The starter entries lending their phrasings (see `industry`).
    pub industry: Vec<String>,
    pub negatives: Vec<Phrase>,
    /// Canonical words of every phrasing (vocabulary for typo correction).
    pub words: Vec<String>,
    /// How often each character occurs over all phrasings (the in-memory unigram
    /// channel's term frequencies), sorted by character.
    pub chars: Vec<(char, u32)>,
    /// The number of characters over all phrasings.
    pub char_len: u32,
    /// Content characters of the answers (every variant): a weak hint to order close
    /// candidates by.
    pub answer_chars: HashSet<char>,
    /// Normalized keywords (keyword mode).
    pub keywords: Vec<String>,
    /// The compiled pattern (regex mode).
    pub regex: Option<Regex>,
}

impl Prepared {
    fn new(entry: KbEntry, analyzer: &Analyzer, lenders: Vec<String>) -> Prepared {
        let lent = industry::phrasings(&lenders, &entry);
        let mut phrasings: Vec<Phrase> = entry
            .phrasings()
            .map(|p| Phrase::new(p, analyzer))
            .collect();
        phrasings.extend(lent.iter().map(|p| Phrase {
            industry: true,
            ..Phrase::new(p, analyzer)
        }));
        let negatives = entry
            .negative
            .iter()
            .map(|p| Phrase::new(p, analyzer))
            .collect();
        let words = entry
            .phrasings()
            .chain(lent.iter().map(String::as_str))
            .flat_map(|p| analyzer.words(&normalize(p)))
            .collect();
        let keywords = entry
            .keywords
            .iter()
            .map(|k| normalize(k).replace(' ', ""))
            .filter(|k| !k.is_empty())
            .collect();
        let mut chars: Vec<(char, u32)> = Vec::new();
        for c in phrasings
            .iter()
            .flat_map(|p: &Phrase| p.seg.iter().copied())
        {
            match chars.binary_search_by_key(&c, |(k, _)| *k) {
                Ok(i) => chars[i].1 += 1,
                Err(i) => chars.insert(i, (c, 1)),
            }
        }
        let char_len = chars.iter().map(|(_, n)| n).sum();
        let answers = [&entry.answer]
            .into_iter()
            .chain(&entry.pre_sale_answer)
            .chain(&entry.after_sale_answer);
        let answer_chars = answers
            .flat_map(|a| content_chars(&normalize(a).chars().collect::<Vec<_>>()))
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
            industry: lenders,
            negatives,
            words,
            chars,
            char_len,
            answer_chars,
            keywords,
            regex,
        }
    }

    /// How often `c` occurs in the entry's phrasings.
    pub fn char_tf(&self, c: char) -> u32 {
        self.chars
            .binary_search_by_key(&c, |(k, _)| *k)
            .map(|i| self.chars[i].1)
            .unwrap_or(0)
    }

    /// Whether intelligent matching (the index) covers this entry.
    pub fn indexed(&self) -> bool {
        indexed(&self.entry)
    }

    /// The index document's text: every phrasing, one per line.
    fn doc_text(&self) -> String {
        let texts: Vec<&str> = self.phrasings.iter().map(|p| p.text.as_str()).collect();
        texts.join("\n")
    }
}

/// The knowledge base as the engine sees it.
#[derive(Clone)]
pub struct State {
    pub analyzer: Analyzer,
    pub corrector: Arc<Corrector>,
    /// Homophone typos of the products' names, aliases and attribute names ("沙法" for
    /// 沙发), corrected before a message is matched with the products.
    pub product_typos: Arc<Corrector>,
    pub entries: HashMap<String, Arc<Prepared>>,
    /// Entries by their index key (see `index::key`).
    pub by_key: HashMap<u64, Arc<Prepared>>,
    /// Entries matched by rule (exact, keyword, regex), not by the index.
    pub rules: Vec<Arc<Prepared>>,
    pub products: HashMap<String, Product>,
    /// Word counts over indexed phrasings and synonym lists.
    vocab: HashMap<String, u32>,
    /// Character statistics over indexed entries, for the unigram channel.
    pub chars: CharStats,
    pub generation: u64,
    /// Every instant an entry starts or stops answering, sorted: replies can only
    /// change with the time across one of these.
    pub boundaries: Vec<DateTime<Utc>>,
    /// Whether entries borrow industry phrasings (not for the starter engine itself).
    borrow: bool,
    /// Each borrowing candidate's votes for starter entries (see `industry`).
    votes: HashMap<String, industry::Votes>,
}

impl State {
    /// Whether `word` occurs in the knowledge base's phrasings: as a word, or inside
    /// one as the dictionary cuts it ("提额" in "怎么提额度", cut 提/额度).
    pub fn knows(&self, word: &str) -> bool {
        self.vocab.contains_key(word)
            || self.entries.values().any(|p| {
                p.entry.question.contains(word)
                    || p.phrasings.iter().any(|ph| ph.text.contains(word))
            })
    }

    /// The product with `sku`, or with `sku` in another letter case (a link typed by
    /// hand: `?product=tx001` for TX001).
    pub fn product(&self, sku: &str) -> Option<&Product> {
        self.products.get(sku).or_else(|| {
            self.products
                .values()
                .find(|p| p.sku.eq_ignore_ascii_case(sku))
        })
    }

    /// Analyzes every entry of `data`; sparse entries borrow industry phrasings.
    pub fn build(data: KbData) -> State {
        State::build_with(data, true)
    }

    /// Analyzes every entry of `data` with its own phrasings only.
    pub fn build_plain(data: KbData) -> State {
        State::build_with(data, false)
    }

    fn build_with(data: KbData, borrow: bool) -> State {
        let names = data
            .products
            .iter()
            .flat_map(|p| p.names().map(String::as_str));
        // The shop's own words: product names and aliases, and the entries' keywords.
        let keywords = data
            .entries
            .iter()
            .flat_map(|e| e.keywords.iter().map(String::as_str));
        let analyzer = Analyzer::new(&data.lexicon, names.chain(keywords));
        let mut vocab: HashMap<String, u32> = HashMap::new();
        for w in analyzer.synonym_words() {
            *vocab.entry(w.to_string()).or_default() += 1;
        }
        let votes: HashMap<String, industry::Votes> = if borrow {
            data.entries
                .iter()
                .map(|e| (e.id.clone(), industry::votes(e)))
                .filter(|(_, v)| !v.is_empty())
                .collect()
        } else {
            HashMap::new()
        };
        // Prepared with their own phrasings first; `relink` below lends the rest.
        let entries: HashMap<String, Arc<Prepared>> = data
            .entries
            .into_iter()
            .map(|e| {
                (
                    e.id.clone(),
                    Arc::new(Prepared::new(e, &analyzer, Vec::new())),
                )
            })
            .collect();
        let mut chars = CharStats::default();
        for p in entries.values().filter(|p| p.indexed()) {
            count(&mut vocab, p, 1);
            chars.count(p, 1);
        }
        let product_words: HashMap<String, u32> = data
            .products
            .iter()
            .flat_map(|p| {
                p.names()
                    .chain(p.attributes.keys())
                    .map(|w| super::normalize::normalize(w))
                    .collect::<Vec<_>>()
            })
            .map(|w| (w, 1))
            .collect();
        let mut state = State {
            corrector: Arc::new(Corrector::new(&vocab)),
            product_typos: Arc::new(Corrector::new(&product_words)),
            analyzer,
            by_key: HashMap::new(),
            rules: Vec::new(),
            entries,
            products: data
                .products
                .into_iter()
                .map(|p| (p.sku.clone(), p))
                .collect(),
            vocab,
            chars,
            generation: data.generation,
            boundaries: Vec::new(),
            borrow,
            votes,
        };
        if state.relink().is_empty() {
            state.reindex();
        } else {
            // Borrowed words join the typo corrector's vocabulary.
            state.refresh(data.generation);
        }
        state
    }

    /// Recomputes `by_key` and `rules` from `entries`.
    fn reindex(&mut self) {
        self.by_key = self
            .entries
            .values()
            .map(|p| (super::index::key(&p.entry.id), p.clone()))
            .collect();
        self.rules = self
            .entries
            .values()
            .filter(|p| p.entry.match_mode != MatchMode::Intelligent)
            .cloned()
            .collect();
        // Exact before keyword before regex, then by id, for a stable choice.
        self.rules
            .sort_by_key(|p| (p.entry.match_mode as u8, p.entry.id.clone()));
        self.boundaries = self
            .entries
            .values()
            .flat_map(|p| [p.entry.valid_from, p.entry.valid_until])
            .flatten()
            .collect();
        self.boundaries.sort();
        self.boundaries.dedup();
    }

    /// Which stretch between validity boundaries `now` falls in.
    pub fn epoch(&self, now: DateTime<Utc>) -> usize {
        self.boundaries.partition_point(|b| *b <= now)
    }

    /// The index documents of every indexed entry.
    pub fn docs(&self) -> Vec<Doc<'_>> {
        self.entries
            .values()
            .filter(|p| p.indexed())
            .map(|p| Doc {
                id: &p.entry.id,
                text: p.doc_text(),
            })
            .collect()
    }

    /// The index text of entry `id`, `None` when it should not be indexed.
    pub fn doc_text(&self, id: &str) -> Option<String> {
        self.entries
            .get(id)
            .filter(|p| p.indexed())
            .map(|p| p.doc_text())
    }

    /// Adds or replaces an entry. Returns the other entries whose borrowed industry
    /// phrasings changed with it (their index documents need rewriting too).
    pub fn put(&mut self, entry: KbEntry, generation: u64) -> Vec<String> {
        let id = entry.id.clone();
        if self.borrow {
            let v = industry::votes(&entry);
            if v.is_empty() {
                self.votes.remove(&id);
            } else {
                self.votes.insert(id.clone(), v);
            }
        }
        let prepared = Arc::new(Prepared::new(entry, &self.analyzer, Vec::new()));
        self.tally(&prepared, 1);
        if let Some(old) = self.entries.insert(id.clone(), prepared) {
            self.tally(&old, -1);
        }
        let mut changed = self.relink();
        changed.retain(|c| *c != id);
        self.refresh(generation);
        changed
    }

    /// Removes an entry. Returns the other entries whose borrowed industry phrasings
    /// changed with it.
    pub fn remove(&mut self, id: &str, generation: u64) -> Vec<String> {
        self.votes.remove(id);
        if let Some(old) = self.entries.remove(id) {
            self.tally(&old, -1);
        }
        let changed = self.relink();
        self.refresh(generation);
        changed
    }

    /// Re-resolves which entries borrow which starter entries and re-prepares every
    /// entry whose lenders changed; returns their ids.
    fn relink(&mut self) -> Vec<String> {
        if !self.borrow {
            return Vec::new();
        }
        let mut links = industry::resolve(
            &self.votes,
            &self.entries.keys().map(String::as_str).collect(),
            self.entries.values().filter(|p| p.indexed()).count(),
        );
        let stale: Vec<(String, Vec<String>)> = self
            .entries
            .values()
            .filter_map(|p| {
                let want = links.remove(&p.entry.id).unwrap_or_default();
                (want != p.industry).then(|| (p.entry.id.clone(), want))
            })
            .collect();
        let mut changed = Vec::new();
        for (id, lent) in stale {
            let Some(old) = self.entries.get(&id).cloned() else {
                continue;
            };
            let prepared = Arc::new(Prepared::new(old.entry.clone(), &self.analyzer, lent));
            self.tally(&old, -1);
            self.tally(&prepared, 1);
            self.entries.insert(id.clone(), prepared);
            changed.push(id);
        }
        changed
    }

    /// Adds (`delta` 1) or removes (-1) an indexed entry's words and characters.
    fn tally(&mut self, p: &Prepared, delta: i32) {
        if p.indexed() {
            count(&mut self.vocab, p, delta);
            self.chars.count(p, delta);
        }
    }

    /// Rebuilds what derives from the entries after a change.
    fn refresh(&mut self, generation: u64) {
        self.corrector = Arc::new(Corrector::new(&self.vocab));
        self.generation = generation;
        self.reindex();
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

/// Document frequencies and lengths of the character channel over indexed entries.
#[derive(Clone, Default)]
pub struct CharStats {
    /// Entries containing each character.
    pub df: HashMap<char, u32>,
    /// Indexed entries.
    pub docs: u64,
    /// Characters over all indexed entries.
    pub total_len: u64,
    /// Entries whose phrasings hold each pair of adjacent Chinese characters: what the
    /// knowledge base writes is no typo ("加钱" in "开发票要加钱吗" is not 价钱).
    pub pairs: HashMap<[char; 2], u32>,
}

impl CharStats {
    fn count(&mut self, p: &Prepared, delta: i32) {
        self.docs = self.docs.saturating_add_signed(i64::from(delta));
        self.total_len = self
            .total_len
            .saturating_add_signed(i64::from(delta) * i64::from(p.char_len));
        for (c, _) in &p.chars {
            let n = self.df.entry(*c).or_default();
            *n = n.saturating_add_signed(delta);
            if *n == 0 {
                self.df.remove(c);
            }
        }
        let pairs: HashSet<[char; 2]> = p
            .phrasings
            .iter()
            .flat_map(|ph| {
                let chars: Vec<char> = ph.compact.chars().collect();
                chars
                    .windows(2)
                    .filter(|w| w.iter().all(|&c| super::typo::is_han(c)))
                    .map(|w| [w[0], w[1]])
                    .collect::<Vec<_>>()
            })
            .collect();
        for pair in pairs {
            let n = self.pairs.entry(pair).or_default();
            *n = n.saturating_add_signed(delta);
            if *n == 0 {
                self.pairs.remove(&pair);
            }
        }
    }

    /// The average number of characters per entry.
    pub fn avg_len(&self) -> f32 {
        (self.total_len as f32 / self.docs.max(1) as f32).max(1.0)
    }
}

/// Whether intelligent matching covers entry `e` (see `Prepared::indexed`).
pub(super) fn indexed(e: &KbEntry) -> bool {
    e.enabled && e.match_mode == MatchMode::Intelligent
}
