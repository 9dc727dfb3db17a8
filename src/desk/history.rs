//! 搜索: search over conversation history. Agents, trainers, supervisors and the owner
//! search every message by Chinese substring, word or order number, with filters; an
//! agent sees hits only in conversations the workspace would show them. The index is
//! kept by `search::indexer`, off the store's writer.

use super::workspace::{HISTORY, may_see};
use super::{Desk, Error, Result};
use crate::model::{ConvId, ConvState, Conversation, Group, Invalid, Message, Role, User};
use crate::search::{self, Convs, Filter, History, Phrase, text::Piece};
use crate::store::prelude::*;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Longest query, in characters.
pub const MAX_QUERY: usize = 100;
/// Results per page.
pub const PAGE: usize = 20;
/// Characters of text around a hit.
const SNIPPET: usize = 80;
/// Hits an agent's search examines for one page before offering "more".
const MAX_EXAMINED: usize = 2_000;
/// Messages shown around a hit in the history view.
const AROUND: u64 = 50;
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
#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    pub hits: Vec<HistoryHit>,
    /// Every match (not counted for agents, whose hits are filtered afterwards).
    pub total: Option<usize>,
    /// The cursor of the next page, when there may be more.
    pub more: Option<u64>,
    /// The index is far behind the store (being rebuilt).
    pub rebuilding: bool,
}

/// A stretch of one conversation around a message.
#[derive(Debug, Clone)]
pub struct HistoryView {
    pub conv: Conversation,
    pub messages: Vec<Message>,
    pub at: u64,
    pub in_desk: bool,
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
    if text.is_empty() {
        inv.add("q", "请输入要搜索的内容");
    } else if text.chars().count() > MAX_QUERY {
        inv.add("q", format!("搜索内容最多 {MAX_QUERY} 个字"));
    } else if phrases.is_empty() {
        inv.add("q", "请输入汉字、字母或数字");
    }
    let day = |s: &str, field: &'static str, inv: &mut Invalid| -> Option<NaiveDate> {
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
    let (from, to) = (day(&q.from, "from", &mut inv), day(&q.to, "to", &mut inv));
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        inv.add("to", "结束日期不能早于开始日期");
    }
    let number = |s: &str, field: &'static str, msg: &str, inv: &mut Invalid| match s.trim() {
        "" => None,
        n => n.parse::<u64>().map_err(|_| inv.add(field, msg)).ok(),
    };
    let agent = number(&q.agent, "agent", "客服选择有误", &mut inv);
    let before = number(&q.before, "before", "翻页参数有误", &mut inv);
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
    inv.into_result()?;
    let midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.timestamp_micros())
    };
    let filter = Filter {
        from: from.and_then(midnight),
        to: to.and_then(|d| d.succ_opt()).and_then(midnight),
        channel: Some(q.channel.trim().to_string()).filter(|c| !c.is_empty()),
        sender,
        agent,
        convs: Convs::All,
        before,
    };
    Ok((phrases, filter, state))
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
            history.clone(),
            self.store.clone(),
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
        let (history, store) = (self.history()?.clone(), self.store.clone());
        Ok(
            tokio::task::spawn_blocking(move || history.catch_up(&store))
                .await
                .map_err(|e| Error::Search(e.to_string()))??,
        )
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
        if let Some(state) = state {
            let open = r.list_open_convs()?;
            let ids = |keep: &dyn Fn(&Conversation) -> bool| {
                open.iter().filter(|c| keep(c)).map(|c| c.id).collect()
            };
            filter.convs = match state {
                ConvState::Closed => Convs::Except(ids(&|_| true)),
                s => Convs::Only(ids(&|c| c.state == s)),
            };
        }
        let groups = r.list_groups()?;
        let filtered = user.role == Role::Agent;
        let chunk = if filtered { PAGE * 4 } else { PAGE + 1 };
        let mut page = HistoryPage::default();
        let mut convs: HashMap<ConvId, Option<Conversation>> = HashMap::new();
        let (mut examined, mut cursor) = (0, filter.before);
        loop {
            let found = history.search(
                &phrases,
                &Filter {
                    before: cursor,
                    ..filter.clone()
                },
                chunk,
                !filtered && cursor == filter.before,
            )?;
            page.total = page.total.or(found.total);
            let exhausted = found.hits.len() < chunk;
            for hit in found.hits {
                examined += 1;
                cursor = Some(hit.order);
                let conv = match convs.get(&hit.conv) {
                    Some(c) => c.clone(),
                    None => {
                        let c = r.get_conv(hit.conv)?;
                        convs.insert(hit.conv, c.clone());
                        c
                    }
                };
                let Some(conv) = conv.filter(|c| !filtered || may_see(user, c, &groups)) else {
                    continue;
                };
                if page.hits.len() == PAGE {
                    page.more = page.hits.last().map(|h| h.order);
                    break;
                }
                let Some(found) = self.hit(&r, user, conv, hit, &phrases, &groups)? else {
                    continue;
                };
                page.hits.push(found);
            }
            if page.more.is_some() || exhausted {
                break;
            }
            if examined >= MAX_EXAMINED {
                page.more = cursor;
                break;
            }
        }
        let behind = r
            .last_event_seq()?
            .saturating_sub(history.indexed_through());
        page.rebuilding = behind > REBUILDING;
        Ok(page)
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

    /// Messages of conversation `id` around message `at`, for `user` (an agent only
    /// where the workspace would show the conversation).
    pub fn history_view(&self, user: &User, id: ConvId, at: u64) -> Result<HistoryView> {
        if !may_search(user) {
            return Err(Error::Forbidden);
        }
        let r = self.store.read()?;
        let conv = r.get_conv(id)?.ok_or(Error::NotFound)?;
        let groups = r.list_groups()?;
        if user.role == Role::Agent && !may_see(user, &conv, &groups) {
            return Err(Error::Forbidden);
        }
        let first = at.saturating_sub(AROUND).max(1);
        let messages = r.messages_after(id, first - 1, (2 * AROUND + 1) as usize)?;
        let in_desk = user.role != Role::Trainer
            && may_see(user, &conv, &groups)
            && at >= conv.next_seq.saturating_sub(HISTORY as u64);
        Ok(HistoryView {
            conv,
            messages,
            at,
            in_desk,
        })
    }
}
