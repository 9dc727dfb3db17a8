//! Industry phrasings (行业通用问法): an entry of the shop's own knowledge base with few
//! similar phrasings borrows the phrasings of the starter entry it clearly asks the same
//! question as.
//!
//! Sellers write "发什么快递？" and rarely the ten ways buyers ask it; the starter
//! knowledge base shipped in the binary already has them. For each entry with at most
//! `SPARSE` similar phrasings, every phrasing of 4 or more characters is put to an engine
//! over the starter entries; a reply in the exact band with a confidence of at least
//! `STRONG` (about twice the answering threshold) is a vote for that starter entry. A
//! starter entry is lent to the entry with the most votes for it, and to none on a tie,
//! so two of the shop's entries never share its phrasings. Nothing is lent when:
//! - the knowledge base holds the starter entry itself (same id): it answers for itself;
//! - fewer than a tenth of the shop's entries find a starter entry: the knowledge base
//!   is not about online shopping (a bank's FAQ), and the few matches would be chance;
//! - the starter entry is a greeting or a call for a human, which are conversation,
//!   not a topic.
//!
//! Measured on two shops' knowledge bases written by sellers, not by us (README, "Bot
//! accuracy"): the share answered right rose by about a fifth, with one more false answer
//! in 119 out-of-scope questions; the finance FAQ and the starter KB itself are unchanged.

use super::index::{Location, SearchIndex};
use super::state::{self, State};
use super::{Band, Ctx, KbData, matcher, starter};
use crate::model::{KbEntry, ShopSettings};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

/// Entries with more similar phrasings than this have enough of their own.
const SPARSE: usize = 5;
/// The confidence a phrasing must reach against the starter entries to vote.
const STRONG: f32 = 1.5;
/// Phrasings shorter than this (in letters and digits) do not vote: "不放" is not a topic.
const MIN_CHARS: usize = 4;
/// The share of entries that must find a starter entry before any borrows.
const MIN_SHARE: f32 = 0.1;
/// Starter entries never lent: conversation, not a topic.
const NOT_LENT: [&str; 2] = ["cs-hello", "cs-human"];

/// Phrasings whose vote is remembered at most (see `Starter::memo`).
const MEMO_SIZE: usize = 200_000;

/// An engine over the starter entries, built once.
struct Starter {
    state: State,
    index: SearchIndex,
    entries: HashMap<String, KbEntry>,
    /// Each phrasing's vote, once worked out (about 0.2 ms each). The starter engine
    /// does not change while the process runs, so a vote holds until then, and
    /// rebuilding the shop's engine (an import, a synonym edit) asks again only about
    /// phrasings it has not seen.
    memo: Mutex<HashMap<String, Option<String>>>,
}

fn starter_engine() -> Option<&'static Starter> {
    static STARTER: OnceLock<Option<Starter>> = OnceLock::new();
    STARTER
        .get_or_init(|| {
            let entries = starter::entries();
            let data = KbData {
                entries: entries.clone(),
                products: Vec::new(),
                lexicon: Default::default(),
                generation: 1,
            };
            let state = State::build_plain(data);
            let index = match SearchIndex::open(&Location::Ram, &state.analyzer, 1, || {
                state.docs()
            }) {
                Ok((index, _)) => index,
                Err(e) => {
                    tracing::error!(error = %e, "cannot index the starter KB for industry phrasings");
                    return None;
                }
            };
            let entries = entries.into_iter().map(|e| (e.id.clone(), e)).collect();
            Some(Starter {
                state,
                index,
                entries,
                memo: Mutex::default(),
            })
        })
        .as_ref()
}

/// Votes of one entry: starter entry id → how many of its phrasings found it.
pub type Votes = BTreeMap<String, u32>;

/// The votes of `entry`, empty when it does not take part (the trainer switched
/// borrowing off, it has enough phrasings, is not matched intelligently, or is itself a
/// starter entry).
pub fn votes(entry: &KbEntry) -> Votes {
    let mut out = Votes::new();
    let Some(st) = starter_engine() else {
        return out;
    };
    if !entry.industry
        || !state::indexed(entry)
        || entry.similar.len() > SPARSE
        || st.entries.contains_key(&entry.id)
    {
        return out;
    }
    let mut memo = st.memo.lock().unwrap_or_else(|p| p.into_inner());
    if memo.len() > MEMO_SIZE {
        memo.clear();
    }
    for phrasing in entry.phrasings() {
        if phrasing.chars().filter(|c| c.is_alphanumeric()).count() < MIN_CHARS {
            continue;
        }
        let found = memo
            .entry(phrasing.to_string())
            .or_insert_with(|| vote(st, phrasing));
        if let Some(id) = found {
            *out.entry(id.clone()).or_default() += 1;
        }
    }
    out
}

/// The starter entry `phrasing` votes for, if any.
fn vote(st: &Starter, phrasing: &str) -> Option<String> {
    let settings = ShopSettings::default();
    let ctx = Ctx::new(&settings, chrono::Utc::now());
    let r = matcher::reply(&st.state, &st.index, &ctx, phrasing);
    if r.band != Band::Exact || r.intent.is_some() || r.confidence < STRONG {
        return None;
    }
    r.entry.filter(|id| !NOT_LENT.contains(&id.as_str()))
}

/// Which starter entries each entry borrows from, given every entry's votes and the
/// ids of all entries (`total` of them take part in matching).
pub fn resolve(
    votes: &HashMap<String, Votes>,
    ids: &HashSet<&str>,
    total: usize,
) -> HashMap<String, Vec<String>> {
    // starter id → (votes, entry id) of every claimant
    let mut claims: BTreeMap<&str, Vec<(u32, &str)>> = BTreeMap::new();
    for (entry, v) in votes {
        for (sid, n) in v {
            if !ids.contains(sid.as_str()) {
                claims.entry(sid).or_default().push((*n, entry));
            }
        }
    }
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (sid, mut c) in claims {
        c.sort_by(|a, b| b.cmp(a));
        if c.len() > 1 && c[0].0 == c[1].0 {
            continue;
        }
        out.entry(c[0].1.to_string())
            .or_default()
            .push(sid.to_string());
    }
    if (out.len() as f32) < MIN_SHARE * total as f32 {
        out.clear();
    }
    out
}

/// The phrasings lent by starter entries `ids` to `entry`: their standard and similar
/// questions, minus any the entry already has or rules out.
pub fn phrasings(ids: &[String], entry: &KbEntry) -> Vec<String> {
    // Checked first: the starter engine's own entries borrow nothing while it is built.
    if ids.is_empty() {
        return Vec::new();
    }
    let Some(st) = starter_engine() else {
        return Vec::new();
    };
    let mut seen: HashSet<&str> = entry
        .phrasings()
        .chain(entry.negative.iter().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for e in ids.iter().filter_map(|id| st.entries.get(id)) {
        for p in e.phrasings() {
            if seen.insert(p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// The standard questions of starter entries `ids`, for showing where lent phrasings
/// come from.
pub fn questions(ids: &[String]) -> Vec<String> {
    let Some(st) = starter_engine() else {
        return Vec::new();
    };
    ids.iter()
        .filter_map(|id| st.entries.get(id))
        .map(|e| e.question.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::Reply;

    fn entry(id: &str, question: &str) -> KbEntry {
        KbEntry::new(id, question, &format!("{id} 的答案"))
    }

    /// A small shop's knowledge base as sellers write it: standard questions only.
    fn shop() -> Vec<KbEntry> {
        vec![
            entry("kd", "你们发什么快递？"),
            entry("yf", "包邮吗？"),
            entry("fp", "可以开发票吗？"),
            entry("bx", "保修多久？"),
            entry("tf", "退货运费谁出？"),
        ]
    }

    fn engine(entries: Vec<KbEntry>, borrow: bool) -> (State, SearchIndex) {
        let data = KbData {
            entries,
            products: Vec::new(),
            lexicon: Default::default(),
            generation: 1,
        };
        let state = if borrow {
            State::build(data)
        } else {
            State::build_plain(data)
        };
        let (index, _) =
            SearchIndex::open(&Location::Ram, &state.analyzer, 1, || state.docs()).unwrap();
        (state, index)
    }

    fn ask(e: &(State, SearchIndex), text: &str) -> Reply {
        let settings = ShopSettings::default();
        matcher::reply(&e.0, &e.1, &Ctx::new(&settings, chrono::Utc::now()), text)
    }

    fn lenders(e: &(State, SearchIndex), id: &str) -> Vec<String> {
        e.0.entries[id].industry.clone()
    }

    #[test]
    fn sparse_entries_answer_buyers_in_the_starter_phrasings() {
        let plain = engine(shop(), false);
        let lent = engine(shop(), true);
        assert_eq!(lenders(&lent, "kd"), ["ship-courier"]);
        assert_eq!(lenders(&lent, "tf"), ["after-return-fee"]);
        for (text, id) in [
            ("拍了之后想知道寄的是圆通还是中通呀", "kd"),
            ("裙子不喜欢要退回去，寄回的快递费我要自己掏吗", "tf"),
            ("电吹风买了十个月坏了，还在保修期吗", "bx"),
        ] {
            let before = ask(&plain, text);
            assert!(
                before.band != Band::Exact || before.entry.as_deref() != Some(id),
                "{text} was answered without help: {before:?}"
            );
            let after = ask(&lent, text);
            assert_eq!(after.band, Band::Exact, "{text}: {after:?}");
            assert_eq!(after.entry.as_deref(), Some(id), "{text}");
            assert!(after.explain.industry, "{text}: {:?}", after.explain);
        }
        // The seller's own words still answer as their own.
        let own = ask(&lent, "你们发什么快递？");
        assert_eq!(own.entry.as_deref(), Some("kd"));
        assert!(!own.explain.industry);
    }

    #[test]
    fn a_knowledge_base_not_about_shopping_borrows_nothing() {
        // One invoice question among a bank's FAQ is chance, not a shop.
        let mut entries = vec![entry("fp", "可以开发票吗？")];
        for (i, q) in [
            "怎么提高信用额度",
            "逾期一天会影响征信吗",
            "提前还款有手续费吗",
            "借款利息怎么计算",
            "银行卡被冻结怎么办",
            "怎么修改绑定的手机号",
            "为什么借款审核没通过",
            "还款日可以改吗",
            "怎么注销账户",
            "最低还款是多少",
            "放款要多久",
        ]
        .into_iter()
        .enumerate()
        {
            entries.push(entry(&format!("f{i}"), q));
        }
        let e = engine(entries.clone(), true);
        assert!(e.0.entries.values().all(|p| p.industry.is_empty()));
        // The same invoice entry in a shop's knowledge base does borrow.
        let mut shop = shop();
        shop.extend(entries.into_iter().skip(1).take(4));
        assert_eq!(lenders(&engine(shop, true), "fp"), ["inv-can"]);
    }

    #[test]
    fn a_starter_entry_is_lent_to_one_entry_only_and_never_over_itself() {
        // The starter entry itself is in the knowledge base: it answers for itself.
        let mut with_starter = shop();
        with_starter.push(entry("ship-courier", "发什么快递"));
        let e = engine(with_starter, true);
        assert!(lenders(&e, "kd").is_empty());
        assert!(lenders(&e, "ship-courier").is_empty());
        // Two entries ask the same thing equally often: neither gets it.
        let mut twice = shop();
        twice.push(entry("kd2", "默认发什么快递？"));
        let e = engine(twice, true);
        assert!(lenders(&e, "kd").is_empty() && lenders(&e, "kd2").is_empty());
        // One asks it more often: that one gets it.
        let mut more = shop();
        let mut kd2 = entry("kd2", "默认发什么快递？");
        kd2.similar = vec!["用的哪家快递".into()];
        more.push(kd2);
        let e = engine(more, true);
        assert!(lenders(&e, "kd").is_empty());
        assert_eq!(lenders(&e, "kd2"), ["ship-courier"]);
    }

    #[test]
    fn an_entry_switched_off_borrows_nothing_and_its_phrasing_goes_to_no_one_else() {
        let mut entries = shop();
        entries[0].industry = false;
        let e = engine(entries, true);
        assert!(lenders(&e, "kd").is_empty());
        assert!(
            e.0.entries
                .values()
                .all(|p| !p.industry.contains(&"ship-courier".into()))
        );
        assert_eq!(
            lenders(&e, "tf"),
            ["after-return-fee"],
            "the others still borrow"
        );
        let r = ask(&e, "拍了之后想知道寄的是圆通还是中通呀");
        assert_ne!(
            (r.band, r.entry.as_deref()),
            (Band::Exact, Some("kd")),
            "{r:?}"
        );
        assert!(votes(&shop()[0]).contains_key("ship-courier"));
        let mut off = entry("kd", "你们发什么快递？");
        off.industry = false;
        assert!(votes(&off).is_empty());
    }

    #[test]
    fn greetings_short_phrasings_and_full_entries_take_no_part() {
        let mut hello = entry("hi", "在吗在吗？");
        hello.similar = vec!["有人在吗".into()];
        let mut full = entry("full", "包邮吗？");
        full.similar = (0..6).map(|i| format!("包邮吗{i}")).collect();
        assert!(votes(&hello).is_empty(), "{:?}", votes(&hello));
        assert!(votes(&full).is_empty());
        assert!(votes(&entry("short", "包邮？")).is_empty());
        assert_eq!(
            votes(&entry("ok", "买一件包邮吗？"))
                .into_iter()
                .collect::<Vec<_>>(),
            [("ship-free".to_string(), 1)]
        );
    }
}
