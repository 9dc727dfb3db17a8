//! Matching a message against the knowledge base, and the reply built from the match.
//!
//! Scoring (measured step by step in the README's "Bot accuracy" section): the message is
//! normalized, typo-corrected and analyzed into three channels — jieba words (synonyms
//! canonicalized), character unigrams and character bigrams. Each channel's BM25 score
//! against an entry's document (all its phrasings) is divided by the message's score
//! against itself, so it reads as "how much of the message this entry covers", whatever
//! the message's length; the channels are summed with fixed weights. The confidence adds
//! the margin over the runner-up (`2·s1 − s2`), so a clear winner is trusted more than
//! one of several look-alikes.

use super::compose::{self, COMPLAINT_TEXT, POSITIVE_TEXT, TRANSFER_TEXT};
use super::index::SearchIndex;
use super::intents::{self, Intent};
use super::normalize::{normalize, simplify};
use super::product;
use super::state::{Prepared, State, gram_set};
use super::tokenize::{STOP, bigrams, unigrams};
use super::{Band, Candidate, Ctx, Explain, FollowUp, Reply};
use crate::model::MatchMode;
use std::collections::HashSet;
use tantivy::Searcher;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;

/// Channel weights: words, character unigrams, character bigrams.
const CHANNELS: [f32; 3] = [0.4, 0.4, 0.2];
/// Weight of stop words and particles in the message.
const STOP_WEIGHT: f32 = 0.4;
/// Confidence from which one entry answers.
pub const EXACT: f32 = 0.62;
/// Confidence from which a menu of likely entries is offered.
pub const GUIDED: f32 = 0.45;
/// Candidates read from the index.
const TOP_K: usize = 20;
/// Most options in a guided menu.
const MENU: usize = 3;
/// A menu option must score at least this share of the best.
const MENU_SHARE: f32 = 0.75;
/// Characters of a message considered (a pasted essay is not a question).
const MAX_CHARS: usize = 300;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// The reply to `text` (see `Engine::reply`).
pub fn reply(s: &State, index: &SearchIndex, ctx: &Ctx, text: &str) -> Reply {
    let text: String = text.chars().take(MAX_CHARS).collect();
    let simple = simplify(&text);
    let norm = normalize(&text);
    let mut r = blank(&norm);

    let (ranked, explain) = rank(s, index, ctx, &norm);
    r.explain = explain;
    r.candidates = ranked
        .iter()
        .take(5)
        .map(|(p, score)| candidate(p, *score))
        .collect();
    r.confidence = ranked.first().map(|(_, c)| *c).unwrap_or(0.0);

    if let Some(p) = menu_pick(s, ctx, &norm) {
        r.explain.route = "menu";
        return answer(s, ctx, r, &p, 1.0);
    }
    if let Some(intent) = intents::detect(&simple, &norm) {
        r.explain.route = "intent";
        r.intent = Some(intent);
        match intent {
            Intent::Transfer => {
                r.answer = TRANSFER_TEXT.into();
                r.offer_transfer = true;
            }
            Intent::Complaint => {
                r.answer = COMPLAINT_TEXT.into();
                r.offer_transfer = true;
            }
            Intent::Positive => {
                r.answer = POSITIVE_TEXT.into();
                r.rating_invite = true;
            }
        }
        return r;
    }
    let product = ctx
        .product
        .and_then(|sku| s.products.get(sku))
        .or_else(|| product::mentioned(&norm, s.products.values()));
    if let Some(p) = product
        && let Some(ask) = product::ask(&norm, p)
    {
        let related: Vec<_> = p
            .related
            .iter()
            .filter_map(|sku| s.products.get(sku))
            .collect();
        r.explain.route = "product";
        r.band = Band::Exact;
        r.confidence = 1.0;
        r.product = Some(p.sku.clone());
        r.answer = product::answer(&ask, p, &related);
        return r;
    }
    if let Some(p) = rule_match(s, ctx, &norm) {
        r.explain.route = "rule";
        return answer(s, ctx, r, &p, 1.0);
    }
    r.explain.route = "match";
    match ranked.first() {
        Some((top, conf)) if *conf >= EXACT => {
            let (top, conf) = (top.clone(), *conf);
            answer(s, ctx, r, &top, conf)
        }
        Some((_, conf)) if *conf >= GUIDED => {
            let floor = conf * MENU_SHARE;
            let options: Vec<&Prepared> = ranked
                .iter()
                .take(MENU)
                .filter(|(_, c)| *c >= floor)
                .map(|(p, _)| p.as_ref())
                .collect();
            r.band = Band::Guided;
            r.menu = options.iter().map(|p| p.entry.id.clone()).collect();
            let questions: Vec<&str> = options.iter().map(|p| p.entry.question.as_str()).collect();
            r.answer = compose::menu(&questions);
            r
        }
        _ => {
            r.offer_transfer = ctx.unmatched_streak >= 1;
            r.answer = compose::fallback(r.offer_transfer).into();
            r
        }
    }
}

fn blank(norm: &str) -> Reply {
    Reply {
        band: Band::None,
        intent: None,
        entry: None,
        confidence: 0.0,
        candidates: Vec::new(),
        answer: String::new(),
        follow_ups: Vec::new(),
        menu: Vec::new(),
        offer_transfer: false,
        notify_human: false,
        rating_invite: false,
        product: None,
        explain: Explain {
            normalized: norm.to_string(),
            ..Explain::default()
        },
    }
}

fn candidate(p: &Prepared, score: f32) -> Candidate {
    Candidate {
        id: p.entry.id.clone(),
        question: p.entry.question.clone(),
        score: (score * 1000.0).round() / 1000.0,
    }
}

/// The reply answering with entry `p`.
fn answer(s: &State, ctx: &Ctx, mut r: Reply, p: &Prepared, confidence: f32) -> Reply {
    let product = ctx.product.and_then(|sku| s.products.get(sku));
    r.band = Band::Exact;
    r.entry = Some(p.entry.id.clone());
    r.confidence = confidence;
    r.notify_human = p.entry.notify_human;
    r.product = product.map(|p| p.sku.clone());
    let text = compose::choose(&p.entry, product, ctx.has_order);
    r.answer = compose::fill(text, ctx.settings, product);
    r.follow_ups = p
        .entry
        .follow_ups
        .iter()
        .filter_map(|id| s.entries.get(id))
        .filter(|f| f.entry.active_at(ctx.now))
        .map(|f| FollowUp {
            id: f.entry.id.clone(),
            question: f.entry.question.clone(),
        })
        .collect();
    r
}

/// The entry picked from the previous menu by number ("2", "第二个") or by its text.
fn menu_pick(s: &State, ctx: &Ctx, norm: &str) -> Option<std::sync::Arc<Prepared>> {
    if ctx.menu.is_empty() {
        return None;
    }
    let compact = norm.replace(' ', "");
    let n = pick_number(&compact);
    ctx.menu
        .iter()
        .enumerate()
        .filter_map(|(i, id)| s.entries.get(id).map(|p| (i, p)))
        .find(|(i, p)| n == Some(i + 1) || p.phrasings.iter().any(|ph| ph.compact == compact))
        .map(|(_, p)| p.clone())
        .filter(|p| p.entry.active_at(ctx.now))
}

/// `2`, `2号`, `第2个`, `二`, `第二个` → 2.
fn pick_number(compact: &str) -> Option<usize> {
    let core = compact
        .trim_start_matches('第')
        .trim_end_matches(['个', '号', '条', '项', '吧', '呢', '啊']);
    if let Ok(n) = core.parse::<usize>() {
        return Some(n);
    }
    const DIGITS: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    DIGITS.iter().position(|d| *d == core).map(|i| i + 1)
}

/// An active exact/keyword/regex entry that the message satisfies.
fn rule_match(s: &State, ctx: &Ctx, norm: &str) -> Option<std::sync::Arc<Prepared>> {
    let compact = norm.replace(' ', "");
    let mut hits: Vec<&std::sync::Arc<Prepared>> = s
        .entries
        .values()
        .filter(|p| p.entry.match_mode != MatchMode::Intelligent && p.entry.active_at(ctx.now))
        .filter(|p| match p.entry.match_mode {
            MatchMode::Exact => p.phrasings.iter().any(|ph| ph.compact == compact),
            MatchMode::Keyword => {
                !p.keywords.is_empty() && p.keywords.iter().all(|k| compact.contains(k.as_str()))
            }
            MatchMode::Regex => p.regex.as_ref().is_some_and(|re| re.is_match(norm)),
            MatchMode::Intelligent => false,
        })
        .collect();
    // Exact before keyword before regex; then by id for a stable choice.
    hits.sort_by_key(|p| (p.entry.match_mode as u8, p.entry.id.clone()));
    hits.first().map(|p| (*p).clone())
}

/// Weighted query terms per channel.
fn channel_terms(words: &[String]) -> [Vec<(String, f32)>; 3] {
    fn dedup(terms: impl Iterator<Item = (String, f32)>) -> Vec<(String, f32)> {
        let mut out: Vec<(String, f32)> = Vec::new();
        for (t, w) in terms {
            match out.iter_mut().find(|(u, _)| *u == t) {
                Some(e) => e.1 = e.1.max(w),
                None => out.push((t, w)),
            }
        }
        out
    }
    let weight = |t: &str| if STOP.contains(&t) { STOP_WEIGHT } else { 1.0 };
    [
        dedup(words.iter().map(|w| (w.clone(), weight(w)))),
        dedup(unigrams(words).into_iter().map(|c| {
            let w = weight(&c);
            (c, w)
        })),
        dedup(bigrams(words).into_iter().map(|b| (b, 1.0))),
    ]
}

/// The message's BM25 score against itself in `field`: the most an entry can reach.
fn self_score(searcher: &Searcher, field: Field, terms: &[(String, f32)]) -> f32 {
    let n = Bm25StatisticsProvider::total_num_docs(searcher)
        .unwrap_or(0)
        .max(1);
    let tokens = Bm25StatisticsProvider::total_num_tokens(searcher, field).unwrap_or(0);
    let avgdl = (tokens as f32 / n as f32).max(1.0);
    let dl: f32 = terms.iter().map(|(_, w)| w).sum();
    let norm = K1 * (1.0 - B + B * dl / avgdl);
    terms
        .iter()
        .map(|(t, w)| {
            let df = searcher
                .doc_freq(&tantivy::Term::from_field_text(field, t))
                .unwrap_or(0)
                .min(n);
            w * idf_of(df, n) * w * (K1 + 1.0) / (w + norm)
        })
        .sum()
}

fn idf_of(df: u64, n: u64) -> f32 {
    let x = ((n - df) as f32 + 0.5) / (df as f32 + 0.5);
    (1.0 + x).ln()
}

/// Entries ranked by confidence, best first, with the explanation of the analysis.
fn rank(
    s: &State,
    index: &SearchIndex,
    ctx: &Ctx,
    norm: &str,
) -> (Vec<(std::sync::Arc<Prepared>, f32)>, Explain) {
    let mut explain = Explain {
        normalized: norm.to_string(),
        ..Explain::default()
    };
    let (corrected, fixes) = s.corrector.correct(norm);
    explain.corrections = fixes;
    let pairs = s.analyzer.word_pairs(&corrected);
    explain.synonyms = pairs.iter().filter(|(raw, c)| raw != c).cloned().collect();
    let words: Vec<String> = pairs.into_iter().map(|(_, c)| c).collect();
    explain.terms = words.clone();
    if words.is_empty() {
        return (Vec::new(), explain);
    }
    let searcher = index.searcher();
    let fields = index.fields().all();
    let channels = channel_terms(&words);
    let mut query: Vec<(Field, &str, f32)> = Vec::new();
    for ((field, terms), weight) in fields.iter().zip(&channels).zip(CHANNELS) {
        let own = self_score(&searcher, *field, terms);
        if own <= 0.0 {
            continue;
        }
        for (t, w) in terms {
            query.push((*field, t.as_str(), weight * w / own));
        }
    }
    let hits = index.search(&searcher, &query, TOP_K).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "index search failed");
        Vec::new()
    });
    let grams = gram_set(&words);
    let compact = norm.replace(' ', "");
    let mut scored: Vec<(std::sync::Arc<Prepared>, f32)> = Vec::new();
    for (id, score) in hits {
        let Some(p) = s.entries.get(&id) else {
            continue;
        };
        if !p.entry.active_at(ctx.now) {
            continue;
        }
        if vetoed(p, &grams, &compact) {
            explain.vetoed.push(id);
            continue;
        }
        scored.push((p.clone(), score));
    }
    // Confidence: the score plus its margin over the next entry.
    let mut ranked: Vec<(std::sync::Arc<Prepared>, f32)> = Vec::with_capacity(scored.len());
    for (i, (p, sc)) in scored.iter().enumerate() {
        let next = scored.get(i + 1).map(|(_, n)| *n).unwrap_or(0.0);
        let conf = if i == 0 {
            (2.0 * sc - next).clamp(0.0, 1.0)
        } else {
            sc.clamp(0.0, 1.0)
        };
        ranked.push((p.clone(), conf));
    }
    if let Some((p, _)) = ranked.first() {
        explain.phrasing = p
            .phrasings
            .iter()
            .max_by(|a, b| dice(&a.grams, &grams).total_cmp(&dice(&b.grams, &grams)))
            .map(|ph| ph.text.clone());
    }
    (ranked, explain)
}

/// Whether the message is one of the entry's negative phrasings, or closer to one of
/// them than to any positive phrasing.
fn vetoed(p: &Prepared, grams: &HashSet<String>, compact: &str) -> bool {
    if p.negatives.is_empty() {
        return false;
    }
    if p.negatives.iter().any(|n| n.compact == compact) {
        return true;
    }
    let best = |phrases: &[super::state::Phrase]| {
        phrases
            .iter()
            .map(|ph| dice(&ph.grams, grams))
            .fold(0.0f32, f32::max)
    };
    let neg = best(&p.negatives);
    neg >= 0.6 && neg > best(&p.phrasings)
}

/// Dice similarity of two term sets.
pub fn dice(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.intersection(b).count();
    2.0 * common as f32 / (a.len() + b.len()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_numbers() {
        for (t, n) in [("2", 2), ("2号", 2), ("第二个", 2), ("三", 3), ("第1条", 1)] {
            assert_eq!(pick_number(t), Some(n), "{t}");
        }
        assert_eq!(pick_number("退货"), None);
    }
}
