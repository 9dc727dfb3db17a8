//! History import: past conversations from another system (JSON Lines, one conversation
//! per line) become closed conversations with their messages and state changes, so
//! they count in every metric exactly like live ones. Every line is checked first; a bad
//! line stops the whole file; a conversation imported before (same channel and id) is
//! skipped, so importing a file twice does not duplicate anything.

use super::{Actor, Desk, Result};
use crate::model::conv::RATING_LEVELS;
use crate::model::{
    BotMeta, ConvState, Conversation, EventKind, Invalid, Message, Rating, Sender, UserId,
    service::valid_channel,
};
use crate::store::{self, WriteTx};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

/// A problem with one line of a file.
pub type BadLine = (usize, String);

/// Longest message text an import takes, in characters.
const MAX_TEXT: usize = 4000;
/// Most messages in one imported conversation.
const MAX_MESSAGES: usize = 5000;

/// One conversation as another system exports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastConversation {
    pub id: String,
    pub channel: String,
    pub buyer_id: String,
    pub messages: Vec<PastMessage>,
    #[serde(default)]
    pub transferred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub rating: Option<PastRating>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastMessage {
    pub at: DateTime<Utc>,
    /// `buyer`, `bot` or `agent:NAME`.
    pub from: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastRating {
    /// 5 = 很满意 … 1 = 很不满意.
    pub level: u8,
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Who wrote a past message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Author {
    Buyer,
    Bot,
    Agent(String),
}

fn who(from: &str) -> Option<Author> {
    match from {
        "buyer" => Some(Author::Buyer),
        "bot" => Some(Author::Bot),
        other => other
            .strip_prefix("agent:")
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= 64)
            .map(|n| Author::Agent(n.to_string())),
    }
}

impl PastConversation {
    /// The line's own problems (empty when good).
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.id.trim().is_empty() || self.id.chars().count() > 128 {
            p.push("id 应为 1–128 个字符".to_string());
        }
        if !valid_channel(&self.channel) {
            p.push(format!(
                "渠道“{}”只能含小写字母、数字、- 和 _",
                self.channel
            ));
        }
        if self.buyer_id.trim().is_empty() || self.buyer_id.chars().count() > 128 {
            p.push("buyer_id 应为 1–128 个字符".to_string());
        }
        if self.messages.is_empty() || self.messages.len() > MAX_MESSAGES {
            p.push(format!("messages 应有 1–{MAX_MESSAGES} 条"));
        }
        for (i, m) in self.messages.iter().enumerate() {
            if who(&m.from).is_none() {
                p.push(format!(
                    "第 {} 条消息的 from“{}”应为 buyer、bot 或 agent:客服名",
                    i + 1,
                    m.from
                ));
            }
            let n = m.text.trim().chars().count();
            if n == 0 || n > MAX_TEXT {
                p.push(format!("第 {} 条消息的 text 应为 1–{MAX_TEXT} 个字", i + 1));
            }
            if i > 0 && m.at < self.messages[i - 1].at {
                p.push(format!("第 {} 条消息的时间早于上一条", i + 1));
            }
        }
        if let Some(r) = &self.rating
            && !RATING_LEVELS.iter().any(|(l, _)| *l == r.level)
        {
            p.push("rating.level 应为 1–5".to_string());
        }
        p
    }
}

/// Reads and checks every line; all bad lines are reported by number. Conversations are
/// unique by channel and id within the file.
pub fn read(input: impl BufRead) -> Result<Vec<PastConversation>, Vec<BadLine>> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut seen = HashSet::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                bad.push((n, format!("无法读取：{e}")));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match crate::model::json::parse_line::<PastConversation>(&line) {
            Err(why) => bad.push((n, format!("JSON 有误：{why}"))),
            Ok(c) => {
                let problems = c.problems();
                if !problems.is_empty() {
                    bad.push((n, problems.join("；")));
                } else if !seen.insert((c.channel.clone(), c.id.clone())) {
                    bad.push((n, format!("会话 {} 在文件中重复", c.id)));
                } else {
                    out.push(c);
                }
            }
        }
    }
    if bad.is_empty() { Ok(out) } else { Err(bad) }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistorySummary {
    pub imported: usize,
    /// Already imported before: left as they were.
    pub skipped: usize,
    pub messages: usize,
}

/// The store key that remembers an imported conversation.
fn import_key(channel: &str, id: &str) -> String {
    format!("{channel}\u{1f}{id}")
}

impl Desk {
    /// Imports past conversations in one transaction (all or nothing).
    pub async fn import_history(
        &self,
        actor: &Actor,
        convs: Vec<PastConversation>,
    ) -> Result<HistorySummary> {
        let mut inv = Invalid::default();
        for c in &convs {
            let p = c.problems();
            if !p.is_empty() {
                inv.add("file", format!("{}：{}", c.id, p.join("；")));
            }
        }
        inv.into_result()?;
        let agents: HashMap<String, UserId> = self
            .list_users()?
            .into_iter()
            .map(|u| (u.name, u.id))
            .collect();
        let audit_at = self.clock.now();
        let actor = actor.clone();
        let tz = self.settings()?.tz();
        let summary = self
            .store
            .write(move |tx| {
                let mut s = HistorySummary {
                    imported: 0,
                    skipped: 0,
                    messages: 0,
                };
                for c in &convs {
                    let key = import_key(&c.channel, &c.id);
                    if tx.imported_conv(&key)?.is_some() {
                        s.skipped += 1;
                        continue;
                    }
                    s.messages += store_past(tx, c, &agents, &key)?;
                    s.imported += 1;
                    // The day's kept figures no longer hold.
                    let day = c.messages[0].at.with_timezone(&tz).format("%Y-%m-%d");
                    tx.forget_daily(&day.to_string())?;
                }
                tx.append_audit(&crate::model::NewAudit {
                    at: audit_at,
                    actor_id: actor.id,
                    actor_name: actor.name.clone(),
                    action: "history.import",
                    target: "会话".into(),
                    detail: format!(
                        "导入 {} 个会话（{} 条消息），跳过已导入的 {} 个",
                        s.imported, s.messages, s.skipped
                    ),
                })?;
                Ok(s)
            })
            .await?;
        Ok(summary)
    }
}

/// Stores one past conversation, closed, with its state changes as events; returns how
/// many messages it had.
fn store_past(
    tx: &WriteTx,
    c: &PastConversation,
    agents: &HashMap<String, UserId>,
    key: &str,
) -> store::Result<usize> {
    let first = c.messages[0].at;
    let last = c.messages[c.messages.len() - 1].at;
    let mut buyer = tx.buyer_for(&c.channel, &c.buyer_id, first)?;
    let id = tx.new_conv_id()?;
    buyer.remember_conv(id);
    buyer.last_seen = buyer.last_seen.max(last);
    tx.put_buyer(&buyer)?;
    let mut conv = Conversation::start(id, buyer.id, &c.channel, buyer.member_level, first);
    tx.index_conv_start(&conv)?;
    let event = |tx: &WriteTx, conv: &Conversation, at, kind| tx.append_event(at, conv, kind);
    // A human took over at the transfer, or else at the first agent message.
    let first_agent = c.messages.iter().find_map(|m| match who(&m.from) {
        Some(Author::Agent(name)) => Some((m.at, name)),
        _ => None,
    });
    let handover = c.transferred_at.or(first_agent.as_ref().map(|(at, _)| *at));
    let mut state = ConvState::Bot;
    let mut changes: Vec<(DateTime<Utc>, EventKind)> = Vec::new();
    if let Some(at) = handover {
        changes.push((
            at,
            EventKind::State {
                from: ConvState::Bot,
                to: ConvState::Queued,
                reason: "导入：转人工".into(),
            },
        ));
        conv.queued_at = Some(at);
        conv.transfer_reason = Some("导入：转人工".into());
        if let Some((at, name)) = first_agent.as_ref().filter(|(t, _)| *t >= at) {
            let agent = agents.get(name).copied().unwrap_or(UserId(0));
            changes.push((*at, EventKind::Assigned { agent, group: None }));
            changes.push((
                *at,
                EventKind::State {
                    from: ConvState::Queued,
                    to: ConvState::Human,
                    reason: format!("导入：{name} 接待"),
                },
            ));
            conv.assigned_at = Some(*at);
            conv.last_agent = Some(agent);
        }
    }
    for (at, kind) in &changes {
        if let EventKind::State { to, .. } = kind {
            state = *to;
            conv.enter(*to, *at);
        }
        event(tx, &conv, *at, kind.clone())?;
    }
    for m in &c.messages {
        let from = match who(&m.from) {
            Some(Author::Buyer) | None => Sender::Buyer,
            Some(Author::Bot) => Sender::Bot,
            Some(Author::Agent(name)) => Sender::Agent {
                id: agents.get(&name).copied().unwrap_or(UserId(0)),
                name,
            },
        };
        match &from {
            Sender::Buyer => conv.last_buyer_at = Some(m.at),
            Sender::Agent { .. } => conv.last_agent_at = Some(m.at),
            _ => {}
        }
        let is_bot = from == Sender::Bot;
        let msg = Message {
            conv: id,
            seq: 0,
            at: m.at,
            from,
            text: m.text.trim().to_string(),
            client_msg_id: None,
            // History does not record how the bot matched: metrics leave these out.
            bot: is_bot.then(|| BotMeta {
                band: "unknown".into(),
                entry: None,
                also: Vec::new(),
                intent: None,
                confidence: 0.0,
                menu: Vec::new(),
                follow_ups: Vec::new(),
            }),
        };
        let stored = tx.append_message(&mut conv, msg)?;
        event(
            tx,
            &conv,
            m.at,
            EventKind::Message {
                seq: stored.seq,
                from: stored.from.kind().to_string(),
            },
        )?;
    }
    if let Some(r) = &c.rating {
        conv.rating = Some(Rating {
            level: r.level,
            reasons: r.reasons.clone(),
            comment: String::new(),
            at: last,
            agent: conv.last_agent,
        });
        event(tx, &conv, last, EventKind::Rated { level: r.level })?;
    }
    event(
        tx,
        &conv,
        last,
        EventKind::State {
            from: state,
            to: ConvState::Closed,
            reason: "导入：已结束".into(),
        },
    )?;
    conv.enter(ConvState::Closed, last);
    conv.closed_at = Some(last);
    conv.updated_at = last;
    tx.put_conv(&conv)?;
    tx.mark_imported(key, id)?;
    Ok(c.messages.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::testing::desk;
    use crate::store::prelude::*;

    const FILE: &str = r#"{"id":"t1","channel":"taobao","buyer_id":"u1","messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"在吗"},{"at":"2026-11-20T02:00:20Z","from":"agent:mei","text":"在的亲"}],"transferred_at":"2026-11-20T02:00:05Z","rating":{"level":5,"reasons":[]}}
{"id":"t2","channel":"taobao","buyer_id":"u2","messages":[{"at":"2026-11-20T03:00:00Z","from":"buyer","text":"包邮吗"},{"at":"2026-11-20T03:00:01Z","from":"bot","text":"满59包邮"}]}
"#;

    #[actix_web::test]
    async fn a_history_file_imports_once_with_its_state_changes() {
        let (_dir, desk, _clock) = desk();
        let convs = read(FILE.as_bytes()).unwrap();
        let s = desk
            .import_history(&Actor::cli(), convs.clone())
            .await
            .unwrap();
        assert_eq!((s.imported, s.skipped, s.messages), (2, 0, 4));
        let again = desk.import_history(&Actor::cli(), convs).await.unwrap();
        assert_eq!((again.imported, again.skipped), (0, 2), "no duplicates");

        let r = desk.store().read().unwrap();
        let ids = r.recent_conv_ids(10).unwrap();
        assert_eq!(ids.len(), 2);
        let c = r.get_conv(ids[1]).unwrap().unwrap();
        assert_eq!(c.state, ConvState::Closed);
        assert_eq!(c.rating.as_ref().map(|r| r.level), Some(5));
        let msgs = r.messages_after(c.id, 0, 10).unwrap();
        assert!(matches!(&msgs[1].from, Sender::Agent { name, .. } if name == "mei"));
        let events = r.events_after(0, 100).unwrap();
        let states: Vec<ConvState> = events
            .iter()
            .filter(|e| e.conv == c.id)
            .filter_map(|e| match &e.kind {
                EventKind::State { to, .. } => Some(*to),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            vec![ConvState::Queued, ConvState::Human, ConvState::Closed]
        );
        assert!(r.list_open_convs().unwrap().is_empty());
        // The bot's messages record that their band is unknown: the bot rates leave
        // them out instead of reading 0%.
        let t2 = r.get_conv(ids[0]).unwrap().unwrap();
        let msgs = r.messages_after(t2.id, 0, 10).unwrap();
        assert_eq!(msgs[1].from, Sender::Bot);
        assert_eq!(
            msgs[1].bot.as_ref().map(|b| b.band.as_str()),
            Some("unknown")
        );
        drop(r);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let v = desk.range_metrics(day, day, None).await.unwrap();
        assert_eq!(v.total.bot_unknown, 1);
        assert_eq!(v.total.figures().bot_answer_rate, None);
    }

    #[test]
    fn bad_lines_are_all_reported_by_number() {
        let bad = concat!(
            r#"{"id":"a","channel":"taobao","buyer_id":"u","messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"x"}]}"#,
            "\n",
            r#"{"id":"b","channel":"Tao Bao","buyer_id":"u","messages":[]}"#,
            "\n\n",
            r#"{"id":"c","channel":"taobao","buyer_id":"u","messages":[{"at":"2026-11-20T02:00:00Z","from":"robot","text":""}],"rating":{"level":9}}"#,
            "\n",
            "not json\n",
            r#"{"id":"a","channel":"taobao","buyer_id":"u","messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"x"}]}"#,
            "\n",
            r#"{"id":"d","channel":"taobao","buyer_id":"u","messages":[{"at":"2026-11-20T02:00:09Z","from":"buyer","text":"x"},{"at":"2026-11-20T02:00:00Z","from":"bot","text":"y"}]}"#,
            "\n",
        );
        let lines: Vec<usize> = read(bad.as_bytes())
            .unwrap_err()
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(lines, vec![2, 4, 5, 6, 7]);
    }
}
