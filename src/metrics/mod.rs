//! The numbers a shop is judged by (PRODUCT.md C9), as pure functions over stored
//! conversations: each conversation becomes a `Timeline` (its messages and its state
//! changes, in time order), and `Figures::of` computes every formula over a set of
//! timelines. Nothing here reads the clock or the store.
//!
//! Definitions used throughout:
//! - A **buyer turn** is a run of consecutive buyer messages; it starts at the first of
//!   them and is **answered** by the next bot or agent message (system notices such as
//!   queue positions are not answers).
//! - A turn is **in human mode** when the conversation was queued for or served by a
//!   human when the turn started.
//! - A conversation is **transferred** when it entered the queue or was given to an
//!   agent at any point; it is **bot-received** when the bot answered its first turn.

pub mod load;

use crate::model::{BuyerId, StaffedHours};
use crate::model::{ConvId, ConvState, Conversation, Event, EventKind, Message, Sender};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashSet;

/// Within this, a reply counts for the 30-second rates.
pub const FAST_SECS: i64 = 30;
/// Within this, a human reply counts for the 3-minute rate.
pub const HUMAN_SECS: i64 = 180;
/// This many agent messages in a row without a buyer reply risk 消息拒收.
pub const REJECT_RUN: usize = 5;

/// Who wrote a message, as metrics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Buyer,
    Bot,
    /// An agent, by login name.
    Agent(String),
    System,
}

/// One message of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub at: DateTime<Utc>,
    pub who: Who,
    /// For bot messages: `exact`, `guided` or `none`.
    pub band: Option<String>,
}

/// A conversation as metrics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub conv: ConvId,
    pub buyer: BuyerId,
    pub channel: String,
    pub started: DateTime<Utc>,
    /// Messages in time order.
    pub lines: Vec<Line>,
    /// State changes in time order (the start, with the bot, is implied).
    pub modes: Vec<(DateTime<Utc>, ConvState)>,
    pub invited: bool,
    /// The rating level (5 = 很满意 … 1 = 很不满意).
    pub rating: Option<u8>,
}

impl Timeline {
    /// The timeline of `conv` from its messages and its events (other conversations'
    /// events are ignored).
    pub fn build(conv: &Conversation, messages: &[Message], events: &[Event]) -> Timeline {
        let mut lines: Vec<Line> = messages
            .iter()
            .filter(|m| m.conv == conv.id)
            .map(|m| Line {
                at: m.at,
                who: match &m.from {
                    Sender::Buyer => Who::Buyer,
                    Sender::Bot => Who::Bot,
                    Sender::Agent { name, .. } => Who::Agent(name.clone()),
                    Sender::System => Who::System,
                },
                band: m.bot.as_ref().map(|b| b.band.clone()),
            })
            .collect();
        lines.sort_by_key(|l| l.at);
        // Conversations record their state changes; older ones have only the events.
        let mut modes: Vec<(DateTime<Utc>, ConvState)> = if conv.modes.is_empty() {
            events
                .iter()
                .filter(|e| e.conv == conv.id)
                .filter_map(|e| match &e.kind {
                    EventKind::State { to, .. } => Some((e.at, *to)),
                    _ => None,
                })
                .collect()
        } else {
            conv.modes.clone()
        };
        modes.sort_by_key(|(at, _)| *at);
        Timeline {
            conv: conv.id,
            buyer: conv.buyer,
            channel: conv.channel.clone(),
            started: conv.created_at,
            lines,
            modes,
            invited: conv.invited_at.is_some(),
            rating: conv.rating.as_ref().map(|r| r.level),
        }
    }

    /// The state at `at` (bot before the first change). A message at the very instant
    /// of the close was written before it.
    pub fn mode_at(&self, at: DateTime<Utc>) -> ConvState {
        self.modes
            .iter()
            .take_while(|(t, s)| *t < at || (*t == at && *s != ConvState::Closed))
            .last()
            .map(|(_, s)| *s)
            .unwrap_or(ConvState::Bot)
    }

    /// When it first entered the queue or a human's hands.
    pub fn transferred_at(&self) -> Option<DateTime<Utc>> {
        self.modes
            .iter()
            .find(|(_, s)| matches!(s, ConvState::Queued | ConvState::Human))
            .map(|(t, _)| *t)
    }

    /// The buyer turns: (start, index of the answering line if any).
    pub fn turns(&self) -> Vec<Turn> {
        let mut turns = Vec::new();
        let mut open: Option<DateTime<Utc>> = None;
        for l in &self.lines {
            match (&l.who, open) {
                (Who::Buyer, None) => open = Some(l.at),
                (Who::Buyer, Some(_)) | (Who::System, _) => {}
                (who, Some(start)) => {
                    turns.push(Turn {
                        start,
                        answered: Some((l.at, who.clone())),
                        human: self.is_human_at(start),
                    });
                    open = None;
                }
                (_, None) => {}
            }
        }
        if let Some(start) = open {
            turns.push(Turn {
                start,
                answered: None,
                human: self.is_human_at(start),
            });
        }
        turns
    }

    fn is_human_at(&self, at: DateTime<Utc>) -> bool {
        matches!(self.mode_at(at), ConvState::Queued | ConvState::Human)
    }

    /// Whether `agent` wrote in it.
    pub fn served_by(&self, agent: &str) -> bool {
        self.lines
            .iter()
            .any(|l| matches!(&l.who, Who::Agent(n) if n == agent))
    }

    /// The longest run of agent messages without a buyer message between them.
    pub fn longest_agent_run(&self) -> usize {
        let (mut best, mut run) = (0, 0);
        for l in &self.lines {
            match l.who {
                Who::Agent(_) => {
                    run += 1;
                    best = best.max(run);
                }
                Who::Buyer => run = 0,
                _ => {}
            }
        }
        best
    }
}

/// A buyer turn and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub start: DateTime<Utc>,
    /// When and by whom it was answered.
    pub answered: Option<(DateTime<Utc>, Who)>,
    /// Started while the conversation was queued for or served by a human.
    pub human: bool,
}

impl Turn {
    fn wait(&self) -> Option<i64> {
        self.answered
            .as_ref()
            .map(|(at, _)| (*at - self.start).num_seconds())
    }

    fn by_agent(&self) -> bool {
        matches!(self.answered, Some((_, Who::Agent(_))))
    }
}

/// A ratio that knows when it has nothing to divide (`null` in JSON).
fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn mean(v: &[i64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<i64>() as f64 / v.len() as f64)
}

/// Every figure of PRODUCT.md C9 over a set of conversations. Rates are fractions
/// 0..1 and times are seconds; `None` (JSON `null`) where nothing could be measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub conversations: usize,
    /// Distinct buyers who wrote (咨询人数).
    pub consulting_buyers: usize,
    pub buyer_messages: usize,
    /// 首次响应时长: buyer's first message → first reply (bot or agent), mean.
    pub first_response_avg_s: Option<f64>,
    /// 人工首次响应时长: entering the queue → first agent message, mean.
    pub human_first_response_avg_s: Option<f64>,
    /// 平均响应时长: buyer turn → its answer, mean over answered turns.
    pub avg_response_s: Option<f64>,
    /// The same over turns answered by agents.
    pub human_avg_response_s: Option<f64>,
    /// 30秒应答率: turns answered within 30 s ÷ turns.
    pub response_30s_rate: Option<f64>,
    /// 首次30秒应答率: conversations first answered within 30 s ÷ conversations.
    pub first_response_30s_rate: Option<f64>,
    /// 3分钟人工响应率: human-mode turns in staffed hours answered by an agent within
    /// 3 min ÷ such turns.
    pub human_3min_rate: Option<f64>,
    /// 解决率: bot-received conversations never transferred and not rated 不满意 or
    /// 很不满意 ÷ bot-received conversations.
    pub bot_resolution_rate: Option<f64>,
    /// 转人工率: transferred conversations ÷ conversations.
    pub transfer_rate: Option<f64>,
    /// 首问完成率: 1 − transferred buyers ÷ consulting buyers.
    pub first_ask_completion_rate: Option<f64>,
    /// 问答比: agent messages ÷ buyer messages in human mode.
    pub answer_question_ratio: Option<f64>,
    /// 满意率: (很满意 + 满意) ÷ ratings.
    pub satisfaction_rate: Option<f64>,
    /// 评价率: ratings ÷ conversations.
    pub rating_rate: Option<f64>,
    /// 邀评率: invited ÷ conversations.
    pub invite_rate: Option<f64>,
    /// 消息拒收风险: conversations with 5+ agent messages in a row without a buyer reply.
    pub reject_risk_conversations: usize,
    /// Bot 应答率: buyer turns the bot answered with an entry (band exact) ÷ turns the
    /// bot answered.
    pub bot_answer_rate: Option<f64>,
    /// Bot unmatched rate: turns the bot answered with its fallback (band none) ÷ turns
    /// the bot answered.
    pub bot_unmatched_rate: Option<f64>,
    pub ratings: usize,
}

/// What the human-mode rules need to know about the shop.
#[derive(Debug, Clone, Copy)]
pub struct Shop {
    pub tz: Tz,
    pub staffed: StaffedHours,
}

impl Figures {
    /// Every figure over `timelines`.
    pub fn of(timelines: &[Timeline], shop: Shop) -> Figures {
        let mut f = Figures {
            conversations: timelines.len(),
            ..Figures::default()
        };
        let mut buyers = HashSet::new();
        let mut transferred_buyers = HashSet::new();
        let (mut first, mut first_fast, mut first_n) = (Vec::new(), 0, 0);
        let mut human_first = Vec::new();
        let (mut waits, mut human_waits) = (Vec::new(), Vec::new());
        let (mut turns_n, mut fast) = (0, 0);
        let (mut staffed_turns, mut staffed_fast) = (0, 0);
        let (mut bot_received, mut resolved, mut transferred) = (0, 0, 0);
        let (mut human_buyer_msgs, mut human_agent_msgs) = (0, 0);
        let (mut bot_turns, mut bot_exact, mut bot_none) = (0, 0, 0);
        let (mut satisfied, mut invited) = (0, 0);
        for t in timelines {
            let turns = t.turns();
            if turns.is_empty() {
                continue;
            }
            buyers.insert(t.buyer);
            first_n += 1;
            if let Some(w) = turns[0].wait() {
                first.push(w);
                if w <= FAST_SECS {
                    first_fast += 1;
                }
            }
            for turn in &turns {
                turns_n += 1;
                if let Some(w) = turn.wait() {
                    waits.push(w);
                    if w <= FAST_SECS {
                        fast += 1;
                    }
                    if turn.by_agent() {
                        human_waits.push(w);
                    }
                }
                if turn.human && is_staffed(turn.start, shop) {
                    staffed_turns += 1;
                    if turn.by_agent() && turn.wait().is_some_and(|w| w <= HUMAN_SECS) {
                        staffed_fast += 1;
                    }
                }
                if let Some((at, Who::Bot)) = &turn.answered {
                    bot_turns += 1;
                    let band = t
                        .lines
                        .iter()
                        .find(|l| l.at == *at && l.who == Who::Bot)
                        .and_then(|l| l.band.as_deref());
                    match band {
                        Some("exact") => bot_exact += 1,
                        Some("none") => bot_none += 1,
                        _ => {}
                    }
                }
            }
            let moved = t.transferred_at();
            if let Some(at) = moved {
                transferred += 1;
                transferred_buyers.insert(t.buyer);
                if let Some(reply) = t
                    .lines
                    .iter()
                    .find(|l| l.at >= at && matches!(l.who, Who::Agent(_)))
                {
                    human_first.push((reply.at - at).num_seconds());
                }
            }
            if matches!(turns[0].answered, Some((_, Who::Bot))) {
                bot_received += 1;
                if moved.is_none() && t.rating.is_none_or(|r| r > 2) {
                    resolved += 1;
                }
            }
            for l in &t.lines {
                if t.is_human_at(l.at) {
                    match l.who {
                        Who::Buyer => human_buyer_msgs += 1,
                        Who::Agent(_) => human_agent_msgs += 1,
                        _ => {}
                    }
                }
                if l.who == Who::Buyer {
                    f.buyer_messages += 1;
                }
            }
            if t.longest_agent_run() >= REJECT_RUN {
                f.reject_risk_conversations += 1;
            }
            if let Some(level) = t.rating {
                f.ratings += 1;
                if level >= 4 {
                    satisfied += 1;
                }
            }
            if t.invited {
                invited += 1;
            }
        }
        let n = timelines.len();
        f.consulting_buyers = buyers.len();
        f.first_response_avg_s = mean(&first);
        f.first_response_30s_rate = ratio(first_fast, first_n);
        f.human_first_response_avg_s = mean(&human_first);
        f.avg_response_s = mean(&waits);
        f.human_avg_response_s = mean(&human_waits);
        f.response_30s_rate = ratio(fast, turns_n);
        f.human_3min_rate = ratio(staffed_fast, staffed_turns);
        f.bot_resolution_rate = ratio(resolved, bot_received);
        f.transfer_rate = ratio(transferred, n);
        f.first_ask_completion_rate =
            ratio(transferred_buyers.len(), buyers.len()).map(|r| 1.0 - r);
        f.answer_question_ratio = ratio(human_agent_msgs, human_buyer_msgs);
        f.satisfaction_rate = ratio(satisfied, f.ratings);
        f.rating_rate = ratio(f.ratings, n);
        f.invite_rate = ratio(invited, n);
        f.bot_answer_rate = ratio(bot_exact, bot_turns);
        f.bot_unmatched_rate = ratio(bot_none, bot_turns);
        f
    }
}

fn is_staffed(at: DateTime<Utc>, shop: Shop) -> bool {
    shop.staffed
        .contains(at.with_timezone(&shop.tz).naive_local().time())
}

#[cfg(test)]
mod tests;
