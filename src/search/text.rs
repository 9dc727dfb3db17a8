//! How message text is cut for substring search, and how a hit is shown.
//!
//! Index side: every CJK character is a unigram and, when the next character is CJK
//! too, the start of a bigram at the same position; a run of letters or digits (an order
//! number, a SKU, an English word) is one lower-cased token. Everything else separates.
//! Query side: a CJK run of two or more characters becomes bigrams that cover it (every
//! other one, plus the last), a lone CJK character its unigram, a letter/digit run the
//! whole run, all at their offsets, so a phrase query finds exactly the substring.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The tantivy name of the history tokenizer.
pub const TOKENIZER: &str = "xiaoer_history";

/// Longest letter/digit token, in characters (longer runs are cut, the same way on both
/// sides).
const MAX_WORD: usize = 64;

/// One token of a text: its text, position and byte range in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub text: String,
    pub pos: usize,
    pub from: usize,
    pub to: usize,
}

/// One part of a query (the query split at white space): tokens at offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase(pub Vec<(usize, String)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cjk,
    Word,
}

/// A run of characters of one kind: (byte start, folded char, byte end) each.
struct Run {
    kind: Kind,
    chars: Vec<(usize, char, usize)>,
}

/// Full-width forms to ASCII, ASCII to lower case.
fn fold(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    c.to_ascii_lowercase()
}

/// Han characters (with extensions and compatibility forms) and kana.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

fn kind(c: char) -> Option<Kind> {
    if is_cjk(c) {
        Some(Kind::Cjk)
    } else if c.is_alphanumeric() {
        Some(Kind::Word)
    } else {
        None
    }
}

fn runs(text: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut prev: Option<Kind> = None;
    for (i, raw) in text.char_indices() {
        let c = fold(raw);
        let k = kind(c);
        let end = i + raw.len_utf8();
        match (k, out.last_mut()) {
            (Some(k), Some(run)) if prev == Some(k) => run.chars.push((i, c, end)),
            (Some(k), _) => out.push(Run {
                kind: k,
                chars: vec![(i, c, end)],
            }),
            (None, _) => {}
        }
        prev = k;
    }
    out
}

fn word(chars: &[(usize, char, usize)]) -> String {
    chars
        .iter()
        .take(MAX_WORD)
        .flat_map(|&(_, c, _)| c.to_lowercase())
        .collect()
}

/// The tokens a text is indexed under.
pub fn index_tokens(text: &str) -> Vec<Tok> {
    let mut cut = Cutter::new(text);
    let mut t = Token::default();
    let mut out = Vec::new();
    while cut.next_into(&mut t) {
        out.push(Tok {
            text: t.text.clone(),
            pos: t.position,
            from: t.offset_from,
            to: t.offset_to,
        });
    }
    out
}

/// Cuts a text into its index tokens one at a time, each written into the caller's
/// token: indexing a message then allocates nothing per CJK character.
struct Cutter {
    runs: Vec<Run>,
    /// The run being cut, and the character in it.
    run: usize,
    at: usize,
    /// The unigram at `at` was given; its bigram comes next.
    bigram: bool,
    /// The position of the run's first token.
    pos: usize,
}

impl Cutter {
    fn new(text: &str) -> Cutter {
        Cutter {
            runs: runs(text),
            run: 0,
            at: 0,
            bigram: false,
            pos: 0,
        }
    }

    /// Writes the next token into `tok`; false when there are no more.
    fn next_into(&mut self, tok: &mut Token) -> bool {
        loop {
            let Some(run) = self.runs.get(self.run) else {
                return false;
            };
            tok.text.clear();
            tok.position_length = 1;
            match run.kind {
                Kind::Word => {
                    let (first, last) = (run.chars[0], run.chars[run.chars.len() - 1]);
                    tok.text.push_str(&word(&run.chars));
                    (tok.position, tok.offset_from, tok.offset_to) = (self.pos, first.0, last.2);
                    self.pos += 1;
                    self.run += 1;
                    return true;
                }
                Kind::Cjk => {
                    let Some(&(from, c, to)) = run.chars.get(self.at) else {
                        self.pos += run.chars.len();
                        (self.run, self.at) = (self.run + 1, 0);
                        continue;
                    };
                    tok.text.push(c);
                    tok.position = self.pos + self.at;
                    tok.offset_from = from;
                    match run.chars.get(self.at + 1) {
                        Some(&(_, d, end)) if self.bigram => {
                            tok.text.push(d);
                            tok.offset_to = end;
                            (self.bigram, self.at) = (false, self.at + 1);
                        }
                        next => {
                            tok.offset_to = to;
                            // A bigram follows when the next character is CJK too.
                            self.bigram = next.is_some();
                            if next.is_none() {
                                self.at += 1;
                            }
                        }
                    }
                    return true;
                }
            }
        }
    }
}

/// The query split at white space into phrases; parts without a letter, digit or CJK
/// character are dropped.
pub fn parse(query: &str) -> Vec<Phrase> {
    query
        .split_whitespace()
        .map(phrase)
        .filter(|p| !p.0.is_empty())
        .collect()
}

fn phrase(part: &str) -> Phrase {
    let mut out = Vec::new();
    let mut pos = 0;
    for run in runs(part) {
        let n = run.chars.len();
        match run.kind {
            Kind::Cjk if n == 1 => out.push((pos, run.chars[0].1.to_string())),
            Kind::Cjk => {
                let mut starts: Vec<usize> = (0..n - 1).step_by(2).collect();
                if starts.last() != Some(&(n - 2)) {
                    starts.push(n - 2);
                }
                for s in starts {
                    let bigram = [run.chars[s].1, run.chars[s + 1].1].iter().collect();
                    out.push((pos + s, bigram));
                }
            }
            Kind::Word => out.push((pos, word(&run.chars))),
        }
        pos += if run.kind == Kind::Cjk { n } else { 1 };
    }
    Phrase(out)
}

/// A piece of a snippet: plain text, or text the query matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// Byte ranges of `text` that the phrases match, sorted and merged.
pub fn hit_ranges(text: &str, phrases: &[Phrase]) -> Vec<(usize, usize)> {
    let toks = index_tokens(text);
    let mut at: std::collections::HashMap<(usize, &str), &Tok> = Default::default();
    for t in &toks {
        at.insert((t.pos, t.text.as_str()), t);
    }
    let mut ranges = Vec::new();
    for Phrase(terms) in phrases {
        let Some((rel0, first)) = terms.first() else {
            continue;
        };
        for t in toks.iter().filter(|t| &t.text == first && t.pos >= *rel0) {
            let base = t.pos - rel0;
            let found: Option<Vec<&Tok>> = terms
                .iter()
                .map(|(rel, s)| at.get(&(base + rel, s.as_str())).copied())
                .collect();
            if let Some(found) = found {
                let from = found.iter().map(|t| t.from).min().unwrap_or(t.from);
                let to = found.iter().map(|t| t.to).max().unwrap_or(t.to);
                ranges.push((from, to));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// About `width` characters of `text` around the first hit, cut into plain and hit
/// pieces (with "…" where the text was cut).
pub fn snippet(text: &str, phrases: &[Phrase], width: usize) -> Vec<Piece> {
    const BEFORE: usize = 16;
    let ranges = hit_ranges(text, phrases);
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let chars = bounds.len() - 1;
    let first = ranges
        .first()
        .map(|r| bounds.partition_point(|&b| b < r.0))
        .unwrap_or(0);
    let start = first
        .saturating_sub(BEFORE)
        .min(chars.saturating_sub(width));
    let end = (start + width).min(chars);
    let (from, to) = (bounds[start], bounds[end]);
    let mut pieces = Vec::new();
    let mut push = |s: &str, hit: bool| {
        if !s.is_empty() {
            pieces.push(Piece {
                text: s.to_string(),
                hit,
            });
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut cur = from;
    for &(a, b) in &ranges {
        let (a, b) = (a.clamp(from, to), b.clamp(from, to));
        if a >= b {
            continue;
        }
        push(&text[cur..a], false);
        push(&text[a..b], true);
        cur = b;
    }
    push(&text[cur..to], false);
    if end < chars {
        push("…", false);
    }
    pieces
}

/// The tantivy tokenizer over [`index_tokens`].
#[derive(Debug, Clone, Default)]
pub struct HistoryTokenizer;

/// The token stream of [`HistoryTokenizer`].
pub struct Toks {
    cut: Cutter,
    current: Token,
}

impl Tokenizer for HistoryTokenizer {
    type TokenStream<'a> = Toks;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Toks {
        Toks {
            cut: Cutter::new(text),
            current: Token::default(),
        }
    }
}

impl TokenStream for Toks {
    fn advance(&mut self) -> bool {
        self.cut.next_into(&mut self.current)
    }
    fn token(&self) -> &Token {
        &self.current
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(toks: &[Tok]) -> Vec<(usize, &str)> {
        toks.iter().map(|t| (t.pos, t.text.as_str())).collect()
    }

    #[test]
    fn cjk_is_unigrams_and_bigrams_and_words_stay_whole() {
        let t = index_tokens("要M码，单号TB2026");
        assert_eq!(
            texts(&t),
            [
                (0, "要"),
                (1, "m"),
                (2, "码"),
                (3, "单"),
                (3, "单号"),
                (4, "号"),
                (5, "tb2026"),
            ]
        );
        // Byte ranges point into the original text.
        assert_eq!(&"要M码，单号TB2026"[t[4].from..t[4].to], "单号");
    }

    #[test]
    fn query_phrases_cover_the_text_with_few_bigrams() {
        assert_eq!(
            parse("云朵拖鞋"),
            [Phrase(vec![(0, "云朵".into()), (2, "拖鞋".into())])]
        );
        assert_eq!(
            parse("有线头"),
            [Phrase(vec![(0, "有线".into()), (1, "线头".into())])]
        );
        assert_eq!(
            parse("Ｍ码 TB123"),
            [
                Phrase(vec![(0, "m".into()), (1, "码".into())]),
                Phrase(vec![(0, "tb123".into())]),
            ]
        );
        assert!(parse(" ，。!! ").is_empty());
    }

    #[test]
    fn hits_are_found_and_highlighted_exactly() {
        let q = parse("线头");
        let s = snippet("衣服有线头，袖口也有线头", &q, 40);
        let hits: Vec<&str> = s
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(hits, ["线头", "线头"]);
        assert!(hit_ranges("线很多，头也是", &q).is_empty(), "no false hit");
        let joined: String = s.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "衣服有线头，袖口也有线头");
    }

    #[test]
    fn long_texts_are_cut_around_the_hit() {
        let text = format!("{}订单号TB8844{}", "前".repeat(100), "后".repeat(100));
        let s = snippet(&text, &parse("tb8844"), 30);
        assert_eq!(s.first().map(|p| p.text.as_str()), Some("…"));
        assert_eq!(s.last().map(|p| p.text.as_str()), Some("…"));
        assert!(s.iter().any(|p| p.hit && p.text == "TB8844"));
        let shown: usize = s.iter().map(|p| p.text.chars().count()).sum();
        assert!(shown <= 32, "{shown}");
    }

    #[test]
    fn a_text_without_a_hit_shows_its_start() {
        let s = snippet("短消息", &parse("别的"), 30);
        assert_eq!(
            s,
            [Piece {
                text: "短消息".into(),
                hit: false
            }]
        );
    }
}
