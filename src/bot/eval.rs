//! Measuring the bot on a labelled query set (`xiaoer eval`).

use super::kbfile::BadLine;
use super::{Band, Ctx, Engine, Intent};
use crate::model::ShopSettings;
use chrono::Utc;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::time::Instant;

/// One labelled query.
#[derive(Debug, Clone, Deserialize)]
pub struct EvalQuery {
    pub query: String,
    /// The entry that should answer; `null` for out-of-scope questions.
    #[serde(default, deserialize_with = "opt_id")]
    pub expected_id: Option<String>,
    /// `transfer`, `complaint` or `positive` for built-in intents.
    #[serde(default)]
    pub expected_intent: Option<String>,
    /// A free label for per-kind figures.
    #[serde(default)]
    pub kind: Option<String>,
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(i64),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    }))
}

/// Reads a query file; every bad line is reported.
pub fn read_queries(input: impl BufRead) -> Result<Vec<EvalQuery>, Vec<BadLine>> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let Ok(line) = line else {
            bad.push((i + 1, "不是有效的 UTF-8 文本".into()));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match crate::model::json::parse_line::<EvalQuery>(line.trim_start_matches('\u{feff}')) {
            Ok(q) => match q.expected_intent.as_deref().map(Intent::parse) {
                Some(None) => bad.push((
                    i + 1,
                    "expected_intent 应为 transfer/complaint/positive".into(),
                )),
                _ => out.push(q),
            },
            Err(why) => bad.push((i + 1, format!("JSON 有误：{why}"))),
        }
    }
    if bad.is_empty() { Ok(out) } else { Err(bad) }
}

/// The figures of `xiaoer eval --json` (counts for `answerable`, `out_of_scope`,
/// `intents`; fractions 0..1 otherwise).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Report {
    pub answerable: usize,
    pub top1: f64,
    pub answered_correct: f64,
    pub answered_wrong: f64,
    pub guided_hit: f64,
    pub fallback: f64,
    pub out_of_scope: usize,
    pub false_answer: f64,
    pub intents: usize,
    pub intent_correct: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// Per-kind top-1 and exact-answer rates, for the text output.
pub type ByKind = BTreeMap<String, (usize, f64, f64)>;

/// A query the bot got wrong, for `xiaoer eval --errors`.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub query: String,
    pub expected: String,
    pub got: String,
    pub band: Band,
    pub confidence: f32,
    /// Where the expected entry stood among the first five candidates (1-based).
    pub rank: Option<usize>,
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        ((n as f64 / of as f64) * 10_000.0).round() / 10_000.0
    }
}

/// Replies to every query and computes the report.
pub fn run(
    engine: &Engine,
    queries: &[EvalQuery],
    settings: &ShopSettings,
) -> (Report, ByKind, Vec<Miss>) {
    let ctx = Ctx::new(settings, Utc::now());
    let (mut answerable, mut top1, mut correct, mut wrong, mut guided, mut fallback) =
        (0, 0, 0, 0, 0, 0);
    let (mut oos, mut false_answer, mut intents, mut intent_ok) = (0, 0, 0, 0);
    let mut kinds: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut times = Vec::with_capacity(queries.len());
    let mut misses = Vec::new();
    for q in queries {
        let start = Instant::now();
        let r = engine.reply(&ctx, &q.query);
        times.push(start.elapsed().as_micros() as u64);
        let got = match (r.intent, &r.entry, r.candidates.first()) {
            (Some(i), _, _) => format!("intent:{}", i.as_str()),
            (None, Some(e), _) => e.clone(),
            (None, None, Some(c)) => format!("({})", c.id),
            (None, None, None) => "-".into(),
        };
        let mut miss = |expected: &str| {
            misses.push(Miss {
                query: q.query.clone(),
                expected: expected.to_string(),
                got: got.clone(),
                band: r.band,
                confidence: r.confidence,
                rank: r
                    .candidates
                    .iter()
                    .position(|c| c.id == expected)
                    .map(|i| i + 1),
            })
        };
        if let Some(want) = &q.expected_intent {
            intents += 1;
            let ok = r.intent.map(Intent::as_str) == Some(want.as_str());
            intent_ok += usize::from(ok);
            if !ok {
                miss(&format!("intent:{want}"));
            }
            continue;
        }
        match &q.expected_id {
            Some(want) => {
                answerable += 1;
                // The entry that answered (menu, rule or match), else the best candidate.
                let top = r.entry.as_ref().or(r.candidates.first().map(|c| &c.id));
                let is_top = top == Some(want);
                top1 += usize::from(is_top);
                let exact = r.band == Band::Exact && r.intent.is_none();
                let right = exact && r.entry.as_ref() == Some(want);
                correct += usize::from(right);
                wrong += usize::from(exact && !right);
                guided +=
                    usize::from(r.band == Band::Guided && r.menu.iter().any(|m| &m.id == want));
                if !right {
                    miss(want);
                }
                fallback += usize::from(r.band == Band::None);
                let k = kinds
                    .entry(q.kind.clone().unwrap_or_else(|| "-".into()))
                    .or_default();
                k.0 += 1;
                k.1 += usize::from(is_top);
                k.2 += usize::from(right);
            }
            None => {
                oos += 1;
                let answered = r.band == Band::Exact && r.intent.is_none();
                false_answer += usize::from(answered);
                if answered || r.intent.is_some() {
                    miss("-");
                }
            }
        }
    }
    times.sort_unstable();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    let report = Report {
        answerable,
        top1: share(top1, answerable),
        answered_correct: share(correct, answerable),
        answered_wrong: share(wrong, answerable),
        guided_hit: share(guided, answerable),
        fallback: share(fallback, answerable),
        out_of_scope: oos,
        false_answer: share(false_answer, oos),
        intents,
        intent_correct: share(intent_ok, intents),
        p50_us: pct(0.5),
        p99_us: pct(0.99),
    };
    let by_kind = kinds
        .into_iter()
        .map(|(k, (n, t, c))| (k, (n, share(t, n), share(c, n))))
        .collect();
    (report, by_kind, misses)
}
