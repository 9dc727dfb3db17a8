//! 搜索: search over conversation history. Agents, trainers, supervisors and the owner
//! search every message by Chinese substring, word or order number, with filters; an
//! agent sees hits only in conversations the workspace would show them. The index is
//! kept by `search::indexer`, off the store's writer.

use super::workspace::{HISTORY, may_see};
use super::{Desk, Error, Result};
use crate::model::{
    Buyer, ConvId, ConvState, Conversation, Group, Invalid, Message, Role, User, UserId,
};
use crate::search::{self, Convs, Filter, History, Phrase, text::Piece};
use crate::store::ReadTx;
use crate::store::prelude::*;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::sync::Arc;

/// Longest query, in characters.
pub const MAX_QUERY: usize = 100;
/// Longest buyer nickname or id searched for.
pub const MAX_BUYER: usize = 64;
/// Results per page.
pub const PAGE: usize = 20;
/// Characters of text around a hit.
const SNIPPET: usize = 80;
/// Hits an agent's search examines for one page before offering "more".
const MAX_EXAMINED: usize = 2_000;
/// Messages shown around a hit in the history view.
/// Unindexed events beyond which the page says the index is being rebuilt.
const REBUILDING: u64 = 1_000;

/// The search form; empty fields mean any.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct HistoryQuery {
    pub q: String,
    /// First day, `YYYY-MM-DD` in the shop's time zone.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// A user id.
    pub agent: String,
    pub channel: String,
    /// The conversation's state now: `bot`, `queued`, `human` or `closed`.
    pub state: String,
    /// `buyer`, `bot` or `agent`.
    pub sender: String,
    /// A buyer's nickname or platform id: their conversations only.
    pub buyer: String,
    /// Where the previous page ended (the cursor of `HistoryPage::more`).
    pub before: String,
}

/// One message found.
#[derive(Debug, Clone)]
pub struct HistoryHit {
    pub conv: Conversation,
    pub message: Message,
    /// The text around the hit, the matched parts marked.
    pub snippet: Vec<Piece>,
    /// The user may open it in the workspace, where the message is still shown.
    pub in_desk: bool,
    /// Its place in the event log (the cursor after it).
    pub order: u64,
}

/// A page of hits, newest first.
/// A buyer whose nickname or platform id holds the search text.
#[derive(Debug, Clone)]
pub struct BuyerHit {
    pub buyer: Buyer,
    /// Their latest conversations that `user` may read, newest first (at most
    /// `BUYER_CONVS`), each with whether it opens in the workspace (else the history
    /// view).
    pub convs: Vec<(Conversation, bool)>,
}

/// Conversations listed per buyer found.
pub const BUYER_CONVS: usize = 5;

/// Buyers shown above the message hits at most.
pub const BUYERS: usize = 10;
/// Newest buyer records searched by nickname and id: a lookup stays a few
/// milliseconds however long the history. Older buyers are found by their exact
/// platform id.
pub const BUYER_SCAN: usize = 20_000;

#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    /// Buyers found by nickname or platform id (first page only).
    pub buyers: Vec<BuyerHit>,
    pub hits: Vec<HistoryHit>,
    /// Every match (not counted for agents, whose hits are filtered afterwards).
    pub total: Option<usize>,
    /// The cursor of the next page, when there may be more.
    pub more: Option<u64>,
    /// The index is far behind the store (being rebuilt).
    pub rebuilding: bool,
}

/// A parsed search: phrases, the index filter, and the state hits must be in.
struct Parsed<'a> {
    phrases: &'a [Phrase],
    filter: &'a Filter,
    only: Option<ConvState>,
}

fn may_search(user: &User) -> bool {
    match user.role {
        Role::Owner | Role::Supervisor | Role::Agent | Role::Trainer => true,
    }
}

/// The parsed form: phrases, the filter without the state, and the state.
fn parse_query(q: &HistoryQuery, tz: Tz) -> Result<(Vec<Phrase>, Filter, Option<ConvState>)> {
    let mut inv = Invalid::default();
    let text = q.q.trim();
    let phrases = search::text::parse(text);
    let buyer = q.buyer.trim().chars().count();
    if text.is_empty() && buyer == 0 {
        inv.add("q", "请输入要搜索的内容");
    } else if text.is_empty() {
        // A buyer alone: their record and conversations, no message search.
    } else if text.chars().count() > MAX_QUERY {
        inv.add("q", format!("搜索内容最多 {MAX_QUERY} 个字"));
    } else if phrases.is_empty() {
        inv.add("q", "请输入汉字、字母或数字");
    }
    if buyer > MAX_BUYER {
        inv.add("buyer", format!("买家昵称或ID最多 {MAX_BUYER} 个字"));
    }
    let (from, to) = parse_days(q, tz, &mut inv);
    let number = |s: &str, field: &'static str, msg: &str, inv: &mut Invalid| match s.trim() {
        "" => None,
        n => n.parse::<u64>().map_err(|_| inv.add(field, msg)).ok(),
    };
    let agent = number(&q.agent, "agent", "客服选择有误", &mut inv);
    let before = number(&q.before, "before", "翻页参数有误", &mut inv);
    let (state, sender) = parse_choices(q, &mut inv);
    inv.into_result()?;
    let filter = Filter {
        from,
        to,
        channel: Some(q.channel.trim().to_string()).filter(|c| !c.is_empty()),
        sender,
        agent,
        convs: Convs::All,
        before,
    };
    Ok((phrases, filter, state))
}

/// The date range as microseconds: from the first day's start to the end of the last
/// day, in the shop's time zone.
fn parse_days(q: &HistoryQuery, tz: Tz, inv: &mut Invalid) -> (Option<i64>, Option<i64>) {
    let mut day = |s: &str, field: &'static str| -> Option<NaiveDate> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        if d.is_none() {
            inv.add(field, "日期格式应为 2026-11-22");
        }
        d
    };
    let (from, to) = (day(&q.from, "from"), day(&q.to, "to"));
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        inv.add("to", "结束日期不能早于开始日期");
    }
    let midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.timestamp_micros())
    };
    (
        from.and_then(midnight),
        to.and_then(|d| d.succ_opt()).and_then(midnight),
    )
}

/// The state and sender selects, and the channel's length.
fn parse_choices(q: &HistoryQuery, inv: &mut Invalid) -> (Option<ConvState>, Option<String>) {
    let state = match q.state.as_str() {
        "" => None,
        "bot" => Some(ConvState::Bot),
        "queued" => Some(ConvState::Queued),
        "human" => Some(ConvState::Human),
        "closed" => Some(ConvState::Closed),
        _ => {
            inv.add("state", "会话状态选择有误");
            None
        }
    };
    let sender = match q.sender.as_str() {
        "" => None,
        s @ ("buyer" | "bot" | "agent") => Some(s.to_string()),
        _ => {
            inv.add("sender", "发送方选择有误");
            None
        }
    };
    if q.channel.chars().count() > 64 {
        inv.add("channel", "渠道选择有误");
    }
    (state, sender)
}

/// The conversations in `state` now, as an index filter plus the state hits must
/// still be checked for. Open conversations are few and their ids are read without
/// decoding them: "closed" is "none of the open ones"; another state is "one of the
/// open ones, in that state".
fn in_state(r: &ReadTx, state: ConvState) -> Result<(Convs, Option<ConvState>)> {
    let open = r.open_conv_ids()?;
    Ok(match state {
        ConvState::Closed => (Convs::Except(open), None),
        s => (Convs::Only(open), Some(s)),
    })
}

impl Desk {
    /// Opens the history index in `dir` and starts keeping it current from the event
    /// bus (the first catch-up, a rebuild when the index is missing, runs in the
    /// background). Call inside a tokio runtime.
    pub async fn open_history(mut self, dir: PathBuf) -> Result<Desk> {
        let store = self.store.clone();
        let history = tokio::task::spawn_blocking(move || History::open(&dir, &store))
            .await
            .map_err(|e| Error::Search(format!("cannot open the search index: {e}")))??;
        let history = Arc::new(history);
        let rx = self.bus.subscribe();
        tokio::spawn(search::indexer::follow(
            Arc::downgrade(&history),
            rx,
            search::indexer::EVERY,
        ));
        self.history = Some(history);
        Ok(self)
    }

    fn history(&self) -> Result<&Arc<History>> {
        self.history
            .as_ref()
            .ok_or_else(|| Error::Refused("历史搜索未在此进程中启用".into()))
    }

    /// Indexes what is not yet searchable, now; returns how many messages it added.
    /// (The background indexer does this within a second; tests call it to wait.)
    pub async fn flush_history(&self) -> Result<usize> {
        let history = self.history()?.clone();
        Ok(tokio::task::spawn_blocking(move || history.catch_up())
            .await
            .map_err(|e| Error::Search(e.to_string()))??)
    }

    /// The channels with messages in the index.
    pub fn history_channels(&self) -> Result<Vec<String>> {
        Ok(self.history()?.channels()?)
    }

    /// One page of messages matching `q` that `user` may read, newest first.
    pub fn search_history(&self, user: &User, q: &HistoryQuery) -> Result<HistoryPage> {
        if !may_search(user) {
            return Err(Error::Forbidden);
        }
        let history = self.history()?;
        let r = self.store.read()?;
        let (phrases, mut filter, state) = parse_query(q, r.get_settings()?.tz())?;
        // A filter naming nobody and nothing would quietly find nothing: say so.
        let mut inv = Invalid::default();
        if let Some(id) = filter.agent
            && r.get_user(UserId(id))?.is_none()
        {
            inv.add("agent", "客服选择有误");
        }
        if let Some(ch) = &filter.channel
            && ch != crate::model::conv::WEB_CHANNEL
            && !history.channels()?.contains(ch)
        {
            inv.add("channel", "渠道选择有误");
        }
        inv.into_result()?;
        let mut only = None;
        if let Some(state) = state {
            (filter.convs, only) = in_state(&r, state)?;
        }
        let mut buyers = Vec::new();
        if !q.buyer.trim().is_empty() {
            let channels = history.channels()?;
            // Ａｌｉｃｅ is alice: full-width letters as typed on a phone.
            let text: String = q
                .buyer
                .trim()
                .chars()
                .map(crate::bot::normalize::half_width)
                .collect();
            let found = buyer_hits(&r, user, &text, &channels, filter.channel.as_deref())?;
            let theirs = found.iter().flat_map(|b| b.buyer.convs.iter().copied());
            filter.convs = match filter.convs {
                Convs::All => Convs::Only(theirs.collect()),
                Convs::Only(v) => Convs::Only(theirs.filter(|c| v.contains(c)).collect()),
                Convs::Except(v) => Convs::Only(theirs.filter(|c| !v.contains(c)).collect()),
            };
            buyers = found;
        }
        if phrases.is_empty() {
            return Ok(HistoryPage {
                buyers,
                ..HistoryPage::default()
            });
        }
        let parsed = Parsed {
            phrases: &phrases,
            filter: &filter,
            only,
        };
        let mut page = self.collect(&r, user, history, &parsed)?;
        page.buyers = buyers;
        let behind = r
            .last_event_seq()?
            .saturating_sub(history.indexed_through());
        page.rebuilding = behind > REBUILDING;
        Ok(page)
    }

    /// Reads hits newest first until a page of ones `user` may read is full (agents
    /// skip other groups' conversations, a state filter other states; at most
    /// `MAX_EXAMINED` hits per page). Hits checked this way are not counted.
    fn collect(
        &self,
        r: &ReadTx,
        user: &User,
        history: &History,
        q: &Parsed<'_>,
    ) -> Result<HistoryPage> {
        let (phrases, filter) = (q.phrases, q.filter);
        let groups = r.list_groups()?;
        let agent = user.role == Role::Agent;
        let filtered = agent || q.only.is_some();
        let chunk = if filtered { PAGE * 4 } else { PAGE + 1 };
        let mut page = HistoryPage::default();
        let mut convs: HashMap<ConvId, Option<Conversation>> = HashMap::new();
        let (mut examined, mut cursor) = (0, filter.before);
        loop {
            let count = !filtered && cursor == filter.before;
            let f = Filter {
                before: cursor,
                ..filter.clone()
            };
            let found = history.search(phrases, &f, chunk, count)?;
            page.total = page.total.or(found.total);
            let exhausted = found.hits.len() < chunk;
            for hit in found.hits {
                examined += 1;
                cursor = Some(hit.order);
                let conv = match convs.entry(hit.conv) {
                    Entry::Occupied(e) => e.get().clone(),
                    Entry::Vacant(e) => e.insert(r.get_conv(hit.conv)?).clone(),
                };
                let readable = |c: &Conversation| {
                    q.only.is_none_or(|s| c.state == s) && (!agent || may_see(user, c, &groups))
                };
                let Some(conv) = conv.filter(readable) else {
                    continue;
                };
                if page.hits.len() == PAGE {
                    page.more = page.hits.last().map(|h| h.order);
                    return Ok(page);
                }
                if let Some(found) = self.hit(r, user, conv, hit, phrases, &groups)? {
                    page.hits.push(found);
                }
            }
            if exhausted {
                return Ok(page);
            }
            if examined >= MAX_EXAMINED {
                page.more = cursor;
                return Ok(page);
            }
        }
    }

    fn hit(
        &self,
        r: &impl Reads,
        user: &User,
        conv: Conversation,
        hit: search::Hit,
        phrases: &[Phrase],
        groups: &[Group],
    ) -> Result<Option<HistoryHit>> {
        let found = r.messages_after(conv.id, hit.seq.saturating_sub(1), 1)?;
        let Some(message) = found.into_iter().find(|m| m.seq == hit.seq) else {
            return Ok(None);
        };
        let in_desk = user.role != Role::Trainer
            && may_see(user, &conv, groups)
            && hit.seq >= conv.next_seq.saturating_sub(HISTORY as u64);
        Ok(Some(HistoryHit {
            snippet: search::text::snippet(&message.text, phrases, SNIPPET),
            conv,
            message,
            in_desk,
            order: hit.order,
        }))
    }
}

/// Buyers named by `text` (nickname or platform id) that `user` may look up: an agent
/// only those with a conversation the workspace would show them.
fn buyer_hits(
    r: &ReadTx,
    user: &User,
    text: &str,
    channels: &[String],
    channel: Option<&str>,
) -> Result<Vec<BuyerHit>> {
    let groups = r.list_groups()?;
    let mut found = Vec::new();
    for ch in channels
        .iter()
        .filter(|c| *c != crate::model::conv::WEB_CHANNEL)
    {
        found.extend(r.find_buyer(ch, text)?);
    }
    for b in r.find_buyers(text, BUYERS * 4, BUYER_SCAN)? {
        if !found.iter().any(|f: &Buyer| f.id == b.id) {
            found.push(b);
        }
    }
    let mut out = Vec::new();
    for buyer in found {
        if out.len() == BUYERS {
            break;
        }
        if channel.is_some_and(|c| c != buyer.channel) {
            continue;
        }
        let mut convs = Vec::new();
        for id in buyer.convs.iter().rev() {
            if convs.len() == BUYER_CONVS {
                break;
            }
            let Some(c) = r.get_conv(*id)? else { continue };
            let seen = may_see(user, &c, &groups);
            if user.role == Role::Agent && !seen {
                continue;
            }
            convs.push((c, seen && user.role != Role::Trainer));
        }
        if user.role == Role::Agent && convs.is_empty() {
            continue;
        }
        out.push(BuyerHit { buyer, convs });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn query(pairs: &[(&str, &str)]) -> HistoryQuery {
        let qs = serde_urlencoded::to_string(pairs).unwrap();
        serde_urlencoded::from_str(&qs).unwrap()
    }

    #[test]
    fn days_are_whole_days_in_the_shop_time_zone() {
        let q = query(&[("q", "发货"), ("from", "2026-11-22"), ("to", "2026-11-22")]);
        let (phrases, f, state) = parse_query(&q, chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(phrases, search::text::parse("发货"));
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 21, h, 0, 0).unwrap();
        assert_eq!(f.from, Some(at(16).timestamp_micros()));
        assert_eq!(
            f.to,
            Some((at(16) + chrono::Duration::days(1)).timestamp_micros())
        );
        assert_eq!(state, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let q = query(&[
            ("q", ""),
            ("from", "11/22"),
            ("agent", "x"),
            ("state", "gone"),
            ("sender", "system"),
        ]);
        let Err(Error::Invalid(inv)) = parse_query(&q, chrono_tz::Asia::Shanghai) else {
            panic!("invalid");
        };
        for field in ["q", "from", "agent", "state", "sender"] {
            assert!(inv.get(field).is_some(), "{field}: {inv}");
        }
        let q = query(&[("q", "退款"), ("state", "closed"), ("channel", "taobao")]);
        let (_, f, state) = parse_query(&q, chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(state, Some(ConvState::Closed));
        assert_eq!(f.channel.as_deref(), Some("taobao"));
    }
}
