//! Ranking the knowledge base for one message: the scoring measured step by step in the
//! README's "Bot accuracy" section.
//!
//! 1. The normalized message is typo-corrected and cut into canonical words, per
//!    space-separated segment.
//! 2. Three channels — distinct words, distinct characters, character bigrams within a
//!    segment — each get a BM25 score against every entry's document (all its
//!    phrasings), divided by the message's score against itself. That ratio reads "how
//!    much of the message this entry covers" and means the same for 3 and 30 characters.
//!    Stop words weigh 0.4. The channel ratios are summed 0.35 / 0.30 / 0.35.
//! 3. The best 10 are re-ranked with the closest phrasing: longest common subsequence
//!    over the phrasing's length and over the message's length, and Dice over content
//!    characters (0.2 each).
//! 4. Confidence = r1 + 0.5·(r1 − r2), minus up to 0.2 for messages under 8 characters.

use super::index::SearchIndex;
use super::state::{Phrase, Prepared, State, content_chars};
use super::tokenize::{bigrams, is_stop, is_vague, unigrams};
use super::{Ctx, Explain};
use std::collections::HashSet;
use std::sync::Arc;
use tantivy::Searcher;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;

/// Channel weights: words, character unigrams, character bigrams.
const CHANNELS: [f32; 3] = [0.35, 0.30, 0.35];
/// Weight of stop words and particles in the message.
const STOP_WEIGHT: f32 = 0.4;
/// Candidates read from the index (scored on all channels).
const POOL: usize = 30;
/// Candidates re-ranked by their phrasings.
const TOP_K: usize = 10;
/// Re-rank feature weights: LCS/phrasing, LCS/message, content-character Dice.
const RERANK: [f32; 3] = [0.2, 0.2, 0.2];
/// Weight of the share of the message's content characters found in an entry's
/// answers. It orders close candidates and is left out of the confidence: an answer
/// shares words with many questions it does not answer.
const ANSWER: f32 = 0.05;
/// Weight of the margin over the runner-up in the confidence.
const MARGIN: f32 = 0.5;
/// Messages shorter than this (characters) lose up to `SHORT_PENALTY` confidence.
const SHORT_LEN: usize = 8;
const SHORT_PENALTY: f32 = 0.2;
/// In a large KB, a term found in more than this share of entries is skipped (it tells
/// entries apart too little to pay for its long posting list).
const COMMON_SHARE: f64 = 0.3;
const COMMON_MIN_DOCS: u64 = 1000;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// An entry with its re-ranked score.
pub struct Ranked {
    pub entry: Arc<Prepared>,
    /// The score candidates are ordered by.
    pub score: f32,
    /// The part of `score` from the answers (not counted in the confidence).
    pub answer: f32,
}

/// The ranking of one message.
pub struct Ranking {
    /// Best first.
    pub ranked: Vec<Ranked>,
    /// Calibrated confidence in the first.
    pub confidence: f32,
    pub explain: Explain,
}

/// Ranks the active entries for normalized text `norm`.
pub fn rank(s: &State, index: &SearchIndex, ctx: &Ctx, norm: &str) -> Ranking {
    let mut explain = Explain {
        normalized: norm.to_string(),
        ..Explain::default()
    };
    let (corrected, fixes) = s.corrector.correct(norm, &s.chars.pairs);
    explain.corrections = fixes;
    let pairs = s.analyzer.word_pairs(&corrected);
    explain.synonyms = pairs.iter().filter(|(raw, c)| raw != c).cloned().collect();
    let segments = s.analyzer.segment_words(&corrected);
    let words: Vec<String> = segments.iter().flatten().cloned().collect();
    explain.terms = words.clone();
    let empty = Ranking {
        ranked: Vec::new(),
        confidence: 0.0,
        explain: Explain::default(),
    };
    if words.is_empty() {
        return Ranking { explain, ..empty };
    }
    let searcher = index.searcher();
    let mut hits = search(s, index, &searcher, &channel_terms(&segments));
    hits.retain(|(p, _)| p.entry.active_at(ctx.now));
    hits.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| a.0.entry.id.cmp(&b.0.entry.id))
    });
    hits.truncate(TOP_K);
    let qseg: Vec<char> = words.concat().chars().collect();
    let qcontent = content_chars(&qseg);
    let compact = norm.replace(' ', "");
    let mut ranked: Vec<Ranked> = Vec::new();
    for (p, first_stage) in hits {
        if vetoed(&p, &qseg, &qcontent, &compact) {
            explain.vetoed.push(p.entry.id.clone());
            continue;
        }
        let answer = ANSWER * share(&qcontent, &p.answer_chars);
        ranked.push(Ranked {
            score: first_stage + rerank(&p.phrasings, &qseg, &qcontent) + answer,
            entry: p.clone(),
            answer,
        });
    }
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.entry.entry.id.cmp(&b.entry.entry.id))
    });
    // A message of particles and vague words only ("在？", "老板在吗", "可以吗", "是不
    // 是") says nothing an entry could be about: only an entry with such a phrasing
    // holding all of its words (在吗, 在不) answers it. Otherwise a stray 在 in a long
    // phrasing ("包裹在郑州…") covered all of it, and "可以吗" got "运费可以到付吗".
    if is_vague(&qcontent) {
        ranked.retain(|r| {
            r.entry
                .phrasings
                .iter()
                .any(|ph| is_vague(&ph.content) && qcontent.is_subset(&ph.content))
        });
    }
    let confidence = match ranked.as_slice() {
        [] => 0.0,
        [one, rest @ ..] => {
            let (r1, r2) = (
                one.score - one.answer,
                rest.first().map_or(0.0, |r| r.score - r.answer),
            );
            let len = qseg.len().min(compact.chars().count());
            let short = SHORT_PENALTY * SHORT_LEN.saturating_sub(len) as f32 / SHORT_LEN as f32;
            r1 + MARGIN * (r1 - r2) - short
        }
    };
    if let Some(ph) = ranked.first().and_then(|top| {
        top.entry
            .phrasings
            .iter()
            // On a tie the entry's own phrasing is the one shown.
            .max_by_key(|ph| (lcs(&qseg, &ph.seg), !ph.industry))
    }) {
        explain.phrasing = Some(ph.text.clone());
        explain.industry = ph.industry;
    }
    Ranking {
        ranked,
        confidence,
        explain,
    }
}

/// Weighted, distinct query terms per channel.
fn channel_terms(segments: &[Vec<String>]) -> [Vec<(String, f32)>; 3] {
    fn add(out: &mut Vec<(String, f32)>, term: String, w: f32) {
        match out.iter_mut().find(|(t, _)| *t == term) {
            Some(e) => e.1 = e.1.max(w),
            None => out.push((term, w)),
        }
    }
    let weight = |t: &str| if is_stop(t) { STOP_WEIGHT } else { 1.0 };
    let mut channels: [Vec<(String, f32)>; 3] = Default::default();
    for seg in segments {
        for w in seg {
            add(&mut channels[0], w.clone(), weight(w));
        }
        for c in unigrams(seg) {
            let w = weight(&c);
            add(&mut channels[1], c, w);
        }
        for b in bigrams(seg) {
            add(&mut channels[2], b, 1.0);
        }
    }
    channels
}

/// The first-stage scores of the best entries: each channel's BM25 over the message's
/// own score, weighted and summed. Tantivy scores the word and bigram channels (through
/// per-term boosts) and returns a candidate pool; the unigram channel, whose posting
/// lists are long, is scored in memory on that pool only.
fn search(
    s: &State,
    index: &SearchIndex,
    searcher: &Searcher,
    channels: &[Vec<(String, f32)>; 3],
) -> Vec<(Arc<Prepared>, f32)> {
    let n = Bm25StatisticsProvider::total_num_docs(searcher)
        .unwrap_or(0)
        .max(1);
    let fields = index.fields();
    let mut query: Vec<(Field, &str, f32)> = Vec::new();
    for (field, terms, weight) in [
        (fields.words, &channels[0], CHANNELS[0]),
        (fields.bigrams, &channels[2], CHANNELS[2]),
    ] {
        let tokens = Bm25StatisticsProvider::total_num_tokens(searcher, field).unwrap_or(0);
        let avgdl = (tokens as f32 / n as f32).max(1.0);
        let stats: Vec<(&str, f32, u64)> = terms
            .iter()
            .map(|(t, w)| {
                (
                    t.as_str(),
                    *w,
                    searcher
                        .doc_freq(&tantivy::Term::from_field_text(field, t))
                        .unwrap_or(0)
                        .min(n),
                )
            })
            .filter(|(_, _, df)| !too_common(*df, n))
            .collect();
        let own = self_score(stats.iter().map(|(_, w, df)| (*w, *df)), n, avgdl);
        if own > 0.0 {
            query.extend(stats.iter().map(|(t, w, _)| (field, *t, weight * w / own)));
        }
    }
    let hits = index.search(searcher, &query, POOL).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "index search failed");
        Vec::new()
    });
    let chars = unigram_terms(s, &channels[1]);
    hits.into_iter()
        .filter_map(|(key, score)| {
            s.by_key
                .get(&key)
                .map(|p| (p.clone(), score + chars.score(p)))
        })
        .collect()
}

/// The message's characters with their weights and document frequencies.
struct CharQuery {
    terms: Vec<(char, f32, u64)>,
    /// The channel weight over the message's own score (0 when it has none).
    scale: f32,
    n: u64,
    avgdl: f32,
}

fn unigram_terms(s: &State, terms: &[(String, f32)]) -> CharQuery {
    let n = s.chars.docs.max(1);
    let avgdl = s.chars.avg_len();
    let terms: Vec<(char, f32, u64)> = terms
        .iter()
        .filter_map(|(t, w)| {
            t.chars()
                .next()
                .map(|c| (c, *w, u64::from(s.chars.df.get(&c).copied().unwrap_or(0))))
        })
        .filter(|(_, _, df)| !too_common(*df, n))
        .collect();
    let own = self_score(terms.iter().map(|(_, w, df)| (*w, *df)), n, avgdl);
    CharQuery {
        scale: if own > 0.0 { CHANNELS[1] / own } else { 0.0 },
        terms,
        n,
        avgdl,
    }
}

impl CharQuery {
    /// The entry's weighted, normalized unigram-channel score.
    fn score(&self, p: &Prepared) -> f32 {
        if self.scale == 0.0 {
            return 0.0;
        }
        let norm = K1 * (1.0 - B + B * p.char_len as f32 / self.avgdl);
        let raw: f32 = self
            .terms
            .iter()
            .map(|(c, w, df)| {
                let tf = p.char_tf(*c) as f32;
                w * idf(*df, self.n) * tf * (K1 + 1.0) / (tf + norm)
            })
            .sum();
        raw * self.scale
    }
}

/// Whether a term is in so many entries of a large KB that it is not worth scoring.
fn too_common(df: u64, n: u64) -> bool {
    n >= COMMON_MIN_DOCS && df as f64 > COMMON_SHARE * n as f64
}

/// BM25 of the message against itself: each term's weight is its frequency.
fn self_score(terms: impl Iterator<Item = (f32, u64)> + Clone, n: u64, avgdl: f32) -> f32 {
    let dl: f32 = terms.clone().map(|(w, _)| w).sum();
    let norm = K1 * (1.0 - B + B * dl / avgdl);
    terms
        .map(|(w, df)| w * idf(df, n) * w * (K1 + 1.0) / (w + norm))
        .sum()
}

fn idf(df: u64, n: u64) -> f32 {
    let x = (n.saturating_sub(df) as f32 + 0.5) / (df as f32 + 0.5);
    (1.0 + x).ln()
}

/// The phrasing features of an entry for the message.
fn rerank(phrasings: &[Phrase], qseg: &[char], qcontent: &HashSet<char>) -> f32 {
    let (mut by_phrasing, mut by_message, mut overlap) = (0.0f32, 0.0f32, 0.0f32);
    for ph in phrasings {
        let common = lcs(qseg, &ph.seg) as f32;
        by_phrasing = by_phrasing.max(common / ph.seg.len().max(1) as f32);
        by_message = by_message.max(common / qseg.len().max(1) as f32);
        overlap = overlap.max(dice(qcontent, &ph.content));
    }
    RERANK[0] * by_phrasing + RERANK[1] * by_message + RERANK[2] * overlap
}

/// Whether the message is one of the entry's negative phrasings, or closer to one of
/// them than to any positive phrasing.
fn vetoed(p: &Prepared, qseg: &[char], qcontent: &HashSet<char>, compact: &str) -> bool {
    if p.negatives.is_empty() {
        return false;
    }
    if p.negatives.iter().any(|n| n.compact == compact) {
        return true;
    }
    let closeness = |phrases: &[Phrase]| {
        phrases
            .iter()
            .map(|ph| rerank(std::slice::from_ref(ph), qseg, qcontent))
            .fold(0.0f32, f32::max)
    };
    let neg = closeness(&p.negatives);
    neg >= 0.45 && neg > closeness(&p.phrasings)
}

/// The share of `q`'s characters found in `of` (0 for an empty `q`).
fn share(q: &HashSet<char>, of: &HashSet<char>) -> f32 {
    if q.is_empty() {
        return 0.0;
    }
    q.iter().filter(|c| of.contains(c)).count() as f32 / q.len() as f32
}

/// Length of the longest common subsequence of two character strings.
pub fn lcs(a: &[char], b: &[char]) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for ca in a {
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Dice similarity of two character sets.
pub fn dice(a: &HashSet<char>, b: &HashSet<char>) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * a.intersection(b).count() as f32 / (a.len() + b.len()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_and_dice() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(lcs(&c("什么时候发货"), &c("几天发货")), 2);
        assert_eq!(lcs(&c("abcde"), &c("ace")), 3);
        assert_eq!(lcs(&[], &c("a")), 0);
        let set = |s: &str| s.chars().collect::<HashSet<_>>();
        assert_eq!(dice(&set("发货"), &set("发货")), 1.0);
        assert_eq!(dice(&set("发货"), &set("退款")), 0.0);
    }

    #[test]
    fn channels_are_distinct_weighted_terms() {
        let seg = vec![
            vec!["我".to_string(), "退货".to_string()],
            vec!["退货".to_string()],
        ];
        let [words, unis, bis] = channel_terms(&seg);
        assert_eq!(words, [("我".to_string(), 0.4), ("退货".to_string(), 1.0)]);
        assert_eq!(unis.len(), 3, "{unis:?}");
        assert_eq!(bis, [("我退".to_string(), 1.0), ("退货".to_string(), 1.0)]);
    }
}
