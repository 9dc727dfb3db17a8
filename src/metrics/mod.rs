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

pub mod chart;
pub mod load;

use crate::model::{BuyerId, GroupId, StaffedHours, UserId};
use crate::model::{ConvId, ConvState, Conversation, Event, EventKind, Message, Sender};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// For bot messages: `exact`, `guided`, `none` (the fallback) or `intent` (the reply
    /// to 转人工, thanks or a complaint), `unknown` (imported history); `None` for service
    /// notices (nobody online, bot only, off-hours).
    pub band: Option<String>,
}

/// An agent's hold on a conversation: from when, until when and into what state (open
/// while they still hold it).
type Hold = (DateTime<Utc>, Option<(DateTime<Utc>, ConvState)>);

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
    /// The buyer's reasons for the rating.
    pub reasons: Vec<String>,
    /// The scene (场景) of the last matched KB entry.
    pub scene: Option<String>,
    /// The skill group it was routed to.
    pub group: Option<GroupId>,
    /// The buyer placed an order within 24 hours of the conversation's start.
    pub ordered: bool,
    /// Who held it, by login name: (when assigned, agent), in order. Empty for
    /// conversations from before assignments were recorded.
    pub holders: Vec<(DateTime<Utc>, String)>,
    /// The last agent who served, by login name (credited with the rating).
    pub last_agent: Option<String>,
}

impl Timeline {
    /// The timeline of `conv` from its messages, and from its events when the
    /// conversation predates recorded state changes (other conversations' events are
    /// ignored). Agents are known by login name: `logins` maps their ids (messages
    /// carry the nickname shown to buyers, which may change).
    pub fn build(
        conv: &Conversation,
        messages: &[Message],
        events: &[Event],
        logins: &HashMap<UserId, String>,
    ) -> Timeline {
        let mut lines: Vec<Line> = messages
            .iter()
            .filter(|m| m.conv == conv.id)
            .map(|m| Line {
                at: m.at,
                who: match &m.from {
                    Sender::Buyer => Who::Buyer,
                    Sender::Bot => Who::Bot,
                    Sender::Agent { .. } => {
                        Who::Agent(agent_login(&m.from, logins).unwrap_or_default())
                    }
                    Sender::System => Who::System,
                },
                band: m.bot.as_ref().map(|b| {
                    if b.intent.is_some() {
                        "intent".to_string()
                    } else {
                        b.band.clone()
                    }
                }),
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
            reasons: conv
                .rating
                .as_ref()
                .map(|r| r.reasons.clone())
                .unwrap_or_default(),
            scene: conv.scene.clone(),
            group: conv.group,
            ordered: false,
            holders: conv
                .holders
                .iter()
                .filter_map(|(at, id)| Some((*at, logins.get(id)?.clone())))
                .collect(),
            last_agent: conv.last_agent.and_then(|id| logins.get(&id).cloned()),
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

    /// Whether it is over (closed).
    pub fn closed(&self) -> bool {
        self.modes
            .last()
            .is_some_and(|(_, s)| *s == ConvState::Closed)
    }

    /// The agents who wrote in it, by login name, each once.
    pub fn agents(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in &self.lines {
            if let Who::Agent(n) = &l.who
                && !out.contains(&n.as_str())
            {
                out.push(n);
            }
        }
        out
    }

    /// The agents who served it, by login name, each once: those who held it or wrote
    /// in it.
    pub fn served(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let held = self.holders.iter().map(|(_, a)| a.as_str());
        for a in held.chain(self.agents()).chain(self.last_agent.as_deref()) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// Who the rating is credited to: the last agent who served (the last who wrote, in
    /// history that does not say).
    pub fn credited(&self) -> Option<&str> {
        self.last_agent
            .as_deref()
            .or_else(|| self.agents().last().copied())
    }

    /// `agent`'s part of it, `None` when they did not serve it: the time they held it
    /// (from each assignment to the next one, or to the buyer leaving human hands),
    /// with what was written then, and the rating when it is theirs. A conversation
    /// passed from one agent to another counts for both; each answers for their own
    /// replies. History without recorded assignments is the agent's whole.
    pub fn share(&self, agent: &str) -> Option<Cow<'_, Timeline>> {
        if !self.served().contains(&agent) {
            return None;
        }
        let theirs = self.credited() == Some(agent);
        if self.holders.is_empty() {
            return Some(if theirs || self.rating.is_none() {
                Cow::Borrowed(self)
            } else {
                Cow::Owned(Timeline {
                    rating: None,
                    reasons: Vec::new(),
                    ..self.clone()
                })
            });
        }
        // (start, end, how it ended) of each hold.
        let mut holds: Vec<Hold> = Vec::new();
        for (i, (start, who)) in self.holders.iter().enumerate() {
            if who != agent {
                continue;
            }
            let next = self.holders.get(i + 1).map(|(at, _)| *at);
            let left = self
                .modes
                .iter()
                .find(|(at, s)| *at > *start && *s != ConvState::Human)
                .map(|(at, s)| (*at, *s));
            let end = match (next, left) {
                (Some(n), Some((l, s))) if l <= n => Some((l, s)),
                (Some(n), _) => Some((n, ConvState::Bot)),
                (None, l) => l,
            };
            holds.push((*start, end));
        }
        let within = |at: DateTime<Utc>| {
            holds.iter().any(|(s, e)| {
                at >= *s
                    && match e {
                        // A message at the very instant of the close was written before it.
                        Some((e, ConvState::Closed)) => at <= *e,
                        Some((e, _)) => at < *e,
                        None => true,
                    }
            })
        };
        let lines = self
            .lines
            .iter()
            .filter(|l| within(l.at) || matches!(&l.who, Who::Agent(n) if n == agent))
            .cloned()
            .collect();
        let mut modes = Vec::new();
        for (s, e) in &holds {
            modes.push((*s, ConvState::Human));
            if let Some((at, state)) = e {
                let state = if *state == ConvState::Human {
                    ConvState::Bot
                } else {
                    *state
                };
                modes.push((*at, state));
            }
        }
        Some(Cow::Owned(Timeline {
            lines,
            modes,
            invited: self.invited && theirs,
            rating: self.rating.filter(|_| theirs),
            reasons: if theirs {
                self.reasons.clone()
            } else {
                Vec::new()
            },
            ..self.clone()
        }))
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
        // What is written after the close (a ticket's follow-up) answers nothing before.
        let closed_between = |from: DateTime<Utc>, to: DateTime<Utc>| {
            self.modes
                .iter()
                .any(|(at, s)| *s == ConvState::Closed && *at >= from && *at < to)
        };
        let mut turns: Vec<Turn> = Vec::new();
        let mut open: Option<DateTime<Utc>> = None;
        // The last turn answered by the bot, which an agent may still answer ("非常抱歉，
        // 正在为您转接" and then the agent) until the buyer writes again.
        let mut agentless: Option<usize> = None;
        for l in &self.lines {
            match (&l.who, open) {
                (Who::Buyer, None) => {
                    open = Some(l.at);
                    agentless = None;
                }
                (Who::Buyer, Some(_)) | (Who::System, _) => {}
                (who, Some(start)) => {
                    let human = self.is_human_at(start);
                    open = None;
                    if closed_between(start, l.at) {
                        turns.push(Turn {
                            start,
                            answered: None,
                            agent: None,
                            human,
                        });
                        continue;
                    }
                    let agent = match who {
                        Who::Agent(n) => Some((l.at, n.clone())),
                        _ => None,
                    };
                    agentless = agent.is_none().then_some(turns.len());
                    turns.push(Turn {
                        start,
                        answered: Some((l.at, who.clone())),
                        agent,
                        human,
                    });
                }
                (Who::Agent(n), None) => {
                    if let Some(k) = agentless.take()
                        && !closed_between(turns[k].start, l.at)
                    {
                        turns[k].agent = Some((l.at, n.clone()));
                    }
                }
                (_, None) => {}
            }
        }
        if let Some(start) = open {
            turns.push(Turn {
                start,
                answered: None,
                agent: None,
                human: self.is_human_at(start),
            });
        }
        turns
    }

    fn is_human_at(&self, at: DateTime<Utc>) -> bool {
        matches!(self.mode_at(at), ConvState::Queued | ConvState::Human)
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

/// The login name of the agent who wrote as `from` (messages carry the nickname shown
/// to buyers; `logins` maps agent ids to login names, the nickname standing in for
/// agents without an account, e.g. imported ones).
pub fn agent_login(from: &Sender, logins: &HashMap<UserId, String>) -> Option<String> {
    match from {
        Sender::Agent { id, name } => Some(logins.get(id).unwrap_or(name).clone()),
        _ => None,
    }
}

/// A buyer turn and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub start: DateTime<Utc>,
    /// When and by whom it was answered.
    pub answered: Option<(DateTime<Utc>, Who)>,
    /// When and which agent answered it: the answer, or an agent's reply after the
    /// bot's (a complaint's apology, then the agent) before the buyer wrote again.
    pub agent: Option<(DateTime<Utc>, String)>,
    /// Started while the conversation was queued for or served by a human.
    pub human: bool,
}

impl Turn {
    fn wait(&self) -> Option<i64> {
        self.answered
            .as_ref()
            .map(|(at, _)| (*at - self.start).num_seconds())
    }

    /// Seconds until an agent answered it.
    pub fn agent_wait(&self) -> Option<i64> {
        self.agent
            .as_ref()
            .map(|(at, _)| (*at - self.start).num_seconds())
    }
}

/// A ratio that knows when it has nothing to divide (`null` in JSON).
fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
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
    /// 人工30秒应答率: human-mode turns an agent answered within 30 s ÷ human-mode turns.
    pub human_response_30s_rate: Option<f64>,
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
    /// The bot's 满意率: the same over ratings of conversations no agent served.
    pub bot_satisfaction_rate: Option<f64>,
    /// 评价率: ratings ÷ conversations.
    pub rating_rate: Option<f64>,
    /// 邀评率: invited ÷ conversations.
    pub invite_rate: Option<f64>,
    /// 消息拒收风险: conversations with 5+ agent messages in a row without a buyer reply.
    pub reject_risk_conversations: usize,
    /// Bot 应答率: buyer turns the bot answered with an entry (band exact) ÷ turns the
    /// bot answered (imported turns, whose band is unknown, are left out).
    pub bot_answer_rate: Option<f64>,
    /// Bot unmatched rate: turns the bot answered with its fallback (band none) ÷ turns
    /// the bot answered.
    pub bot_unmatched_rate: Option<f64>,
    /// 询单转化率 (bot): conversations only the bot served whose buyer ordered within
    /// 24 h of the start ÷ such conversations.
    pub bot_conversion_rate: Option<f64>,
    /// 询单转化率 (human): the same for conversations an agent served.
    pub human_conversion_rate: Option<f64>,
    pub ratings: usize,
}

/// Each figure of `Figures` as people read it: its JSON key, its name on the pages,
/// and its unit (rates are fractions shown as percentages).
pub const FIGURE_NAMES: &[(&str, &str, chart::Unit)] = {
    use chart::Unit::{Count, Percent, Seconds};
    &[
        ("conversations", "会话数", Count),
        ("consulting_buyers", "咨询人数", Count),
        ("buyer_messages", "买家消息数", Count),
        ("first_response_avg_s", "首次响应时长", Seconds),
        ("human_first_response_avg_s", "人工首次响应时长", Seconds),
        ("avg_response_s", "平均响应时长", Seconds),
        ("human_avg_response_s", "人工平均响应时长", Seconds),
        ("response_30s_rate", "30秒应答率", Percent),
        ("human_response_30s_rate", "人工30秒应答率", Percent),
        ("first_response_30s_rate", "首次30秒应答率", Percent),
        ("human_3min_rate", "3分钟人工响应率", Percent),
        ("bot_resolution_rate", "机器人解决率", Percent),
        ("transfer_rate", "转人工率", Percent),
        ("first_ask_completion_rate", "首问完成率", Percent),
        ("answer_question_ratio", "问答比", Percent),
        ("satisfaction_rate", "满意率", Percent),
        ("bot_satisfaction_rate", "满意率（机器人）", Percent),
        ("rating_rate", "评价率", Percent),
        ("invite_rate", "邀评率", Percent),
        ("reject_risk_conversations", "消息拒收风险会话", Count),
        ("bot_answer_rate", "机器人应答率", Percent),
        ("bot_unmatched_rate", "未识别率", Percent),
        ("bot_conversion_rate", "询单转化率（机器人）", Percent),
        ("human_conversion_rate", "询单转化率（人工）", Percent),
        ("ratings", "评价数", Count),
    ]
};

/// `value` of a figure in `unit` as the pages show it: "66.7%", "12.5 秒", "—" for
/// nothing measured.
pub fn shown(value: Option<f64>, unit: chart::Unit) -> String {
    match (value, unit) {
        (None, _) => "—".into(),
        (Some(v), chart::Unit::Percent) => format!("{:.1}%", v * 100.0),
        (Some(v), chart::Unit::Seconds) => format!("{v:.1} 秒"),
        (Some(v), chart::Unit::Count) => format!("{v:.0}"),
    }
}

/// What the human-mode rules need to know about the shop.
#[derive(Debug, Clone, Copy)]
pub struct Shop {
    pub tz: Tz,
    pub staffed: StaffedHours,
}

/// The additive counts behind the figures: tallies of days, agents or channels add up
/// to the tally of their union (distinct buyers through their ids).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tally {
    pub conversations: u64,
    pub buyers: u64,
    pub transferred_buyers: u64,
    /// The buyers counted in `buyers` and `transferred_buyers`: a buyer who came on
    /// two days of a range is one buyer.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub buyer_ids: BTreeSet<u64>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub transferred_ids: BTreeSet<u64>,
    pub buyer_messages: u64,
    /// Conversations with at least one buyer turn.
    pub asked: u64,
    pub first_n: u64,
    pub first_sum_s: i64,
    pub first_fast: u64,
    pub human_first_n: u64,
    pub human_first_sum_s: i64,
    pub turns: u64,
    pub answered: u64,
    pub wait_sum_s: i64,
    pub fast: u64,
    pub human_turns: u64,
    pub agent_answered: u64,
    pub agent_wait_sum_s: i64,
    pub agent_fast: u64,
    pub staffed_turns: u64,
    pub staffed_fast: u64,
    pub bot_received: u64,
    pub resolved: u64,
    pub transferred: u64,
    pub human_buyer_messages: u64,
    pub human_agent_messages: u64,
    pub bot_turns: u64,
    /// Bot turns whose band was never recorded (imported history): out of the rates.
    pub bot_unknown: u64,
    pub bot_exact: u64,
    pub bot_guided: u64,
    pub bot_none: u64,
    /// Bot turns answered by a built-in intent (转人工, thanks, complaint).
    pub bot_intent: u64,
    pub ratings: u64,
    pub satisfied: u64,
    /// Ratings of conversations no agent served (credited to the bot), and the good ones.
    pub bot_ratings: u64,
    pub bot_satisfied: u64,
    pub invited: u64,
    pub reject_risk: u64,
    /// Conversations only the bot served, and those whose buyer ordered within 24 h.
    pub bot_only: u64,
    pub bot_only_ordered: u64,
    /// Conversations a human served, and those whose buyer ordered within 24 h.
    pub human_served: u64,
    pub human_served_ordered: u64,
    /// Ratings by level: index 0 = 1 (很不满意) … 4 = 5 (很满意).
    pub levels: [u64; 5],
    /// Bad-rating reasons by count.
    pub reasons: BTreeMap<String, u64>,
    /// Conversations by scene (场景) of the last matched entry.
    pub scenes: BTreeMap<String, u64>,
}

impl Tally {
    /// The tally of `timelines`.
    pub fn of<'a>(timelines: impl IntoIterator<Item = &'a Timeline>, shop: Shop) -> Tally {
        let mut t = Tally::default();
        for tl in timelines {
            t.add(tl, shop);
            t.buyer_ids.insert(tl.buyer.0);
            if tl.transferred_at().is_some() {
                t.transferred_ids.insert(tl.buyer.0);
            }
        }
        t.buyers = t.buyer_ids.len() as u64;
        t.transferred_buyers = t.transferred_ids.len() as u64;
        t
    }

    /// Counts one conversation (not its buyer: see `of`).
    fn add(&mut self, t: &Timeline, shop: Shop) {
        self.conversations += 1;
        if t.agents().is_empty() {
            self.bot_only += 1;
            self.bot_only_ordered += u64::from(t.ordered);
        } else {
            self.human_served += 1;
            self.human_served_ordered += u64::from(t.ordered);
        }
        if t.invited {
            self.invited += 1;
        }
        if let Some(level) = t.rating {
            self.ratings += 1;
            if level >= 4 {
                self.satisfied += 1;
            }
            if (1..=5).contains(&level) {
                self.levels[usize::from(level - 1)] += 1;
            }
            if t.served().is_empty() {
                self.bot_ratings += 1;
                self.bot_satisfied += u64::from(level >= 4);
            }
            if level <= 2 {
                for r in &t.reasons {
                    *self.reasons.entry(r.clone()).or_default() += 1;
                }
            }
        }
        if let Some(scene) = &t.scene {
            *self.scenes.entry(scene.clone()).or_default() += 1;
        }
        if t.longest_agent_run() >= REJECT_RUN {
            self.reject_risk += 1;
        }
        for l in &t.lines {
            let human = t.is_human_at(l.at);
            match l.who {
                Who::Buyer => {
                    self.buyer_messages += 1;
                    if human {
                        self.human_buyer_messages += 1;
                    }
                }
                Who::Agent(_) if human => self.human_agent_messages += 1,
                _ => {}
            }
        }
        let moved = t.transferred_at();
        if let Some(at) = moved {
            self.transferred += 1;
            if let Some(reply) = t
                .lines
                .iter()
                .find(|l| l.at >= at && matches!(l.who, Who::Agent(_)))
            {
                self.human_first_n += 1;
                self.human_first_sum_s += (reply.at - at).num_seconds();
            }
        }
        let turns = t.turns();
        let Some(first) = turns.first() else {
            return;
        };
        self.asked += 1;
        if let Some(w) = first.wait() {
            self.first_n += 1;
            self.first_sum_s += w;
            if w <= FAST_SECS {
                self.first_fast += 1;
            }
        }
        if matches!(first.answered, Some((_, Who::Bot))) {
            self.bot_received += 1;
            if moved.is_none() && t.rating.is_none_or(|r| r > 2) {
                self.resolved += 1;
            }
        }
        for turn in &turns {
            self.turns += 1;
            if turn.human {
                self.human_turns += 1;
            }
            if let Some(w) = turn.wait() {
                self.answered += 1;
                self.wait_sum_s += w;
                if w <= FAST_SECS {
                    self.fast += 1;
                }
            }
            if let Some(w) = turn.agent_wait() {
                self.agent_answered += 1;
                self.agent_wait_sum_s += w;
                if w <= FAST_SECS {
                    self.agent_fast += 1;
                }
            }
            if turn.human && is_staffed(turn.start, shop) {
                self.staffed_turns += 1;
                if turn.agent_wait().is_some_and(|w| w <= HUMAN_SECS) {
                    self.staffed_fast += 1;
                }
            }
            if let Some((at, Who::Bot)) = &turn.answered {
                self.bot_turns += 1;
                let band = t
                    .lines
                    .iter()
                    .find(|l| l.at == *at && l.who == Who::Bot)
                    .and_then(|l| l.band.as_deref());
                match band {
                    Some("exact") => self.bot_exact += 1,
                    Some("guided") => self.bot_guided += 1,
                    Some("none") => self.bot_none += 1,
                    Some("intent") => self.bot_intent += 1,
                    Some("unknown") => self.bot_unknown += 1,
                    // Service notices: counted as bot turns, in no band.
                    _ => {}
                }
            }
        }
    }

    /// Adds another tally (another day, agent or channel).
    pub fn merge(&mut self, o: &Tally) {
        macro_rules! sum {
            ($($f:ident),*) => { $( self.$f += o.$f; )* };
        }
        sum!(
            conversations,
            buyer_messages,
            asked,
            first_n,
            first_sum_s,
            first_fast,
            human_first_n,
            human_first_sum_s,
            turns,
            answered,
            wait_sum_s,
            fast,
            human_turns,
            agent_answered,
            agent_wait_sum_s,
            agent_fast,
            staffed_turns,
            staffed_fast,
            bot_received,
            resolved,
            transferred,
            human_buyer_messages,
            human_agent_messages,
            bot_turns,
            bot_unknown,
            bot_exact,
            bot_guided,
            bot_none,
            bot_intent,
            ratings,
            satisfied,
            bot_ratings,
            bot_satisfied,
            invited,
            reject_risk,
            bot_only,
            bot_only_ordered,
            human_served,
            human_served_ordered
        );
        self.buyer_ids.extend(&o.buyer_ids);
        self.transferred_ids.extend(&o.transferred_ids);
        self.buyers = self.buyer_ids.len() as u64;
        self.transferred_buyers = self.transferred_ids.len() as u64;
        for (i, n) in o.levels.iter().enumerate() {
            self.levels[i] += n;
        }
        for (k, n) in &o.reasons {
            *self.reasons.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &o.scenes {
            *self.scenes.entry(k.clone()).or_default() += n;
        }
    }

    /// The figures these counts give.
    pub fn figures(&self) -> Figures {
        let r = |n: u64, d: u64| ratio(n as usize, d as usize);
        let avg = |sum: i64, n: u64| (n > 0).then(|| sum as f64 / n as f64);
        Figures {
            conversations: self.conversations as usize,
            consulting_buyers: self.buyers as usize,
            buyer_messages: self.buyer_messages as usize,
            first_response_avg_s: avg(self.first_sum_s, self.first_n),
            human_first_response_avg_s: avg(self.human_first_sum_s, self.human_first_n),
            avg_response_s: avg(self.wait_sum_s, self.answered),
            human_avg_response_s: avg(self.agent_wait_sum_s, self.agent_answered),
            response_30s_rate: r(self.fast, self.turns),
            human_response_30s_rate: r(self.agent_fast, self.human_turns),
            first_response_30s_rate: r(self.first_fast, self.asked),
            human_3min_rate: r(self.staffed_fast, self.staffed_turns),
            bot_resolution_rate: r(self.resolved, self.bot_received),
            transfer_rate: r(self.transferred, self.conversations),
            first_ask_completion_rate: r(self.transferred_buyers, self.buyers).map(|x| 1.0 - x),
            answer_question_ratio: r(self.human_agent_messages, self.human_buyer_messages),
            satisfaction_rate: r(self.satisfied, self.ratings),
            bot_satisfaction_rate: r(self.bot_satisfied, self.bot_ratings),
            rating_rate: r(self.ratings, self.conversations),
            invite_rate: r(self.invited, self.conversations),
            reject_risk_conversations: self.reject_risk as usize,
            bot_answer_rate: r(self.bot_exact, self.bot_turns - self.bot_unknown),
            bot_unmatched_rate: r(self.bot_none, self.bot_turns - self.bot_unknown),
            bot_conversion_rate: r(self.bot_only_ordered, self.bot_only),
            human_conversion_rate: r(self.human_served_ordered, self.human_served),
            ratings: self.ratings as usize,
        }
    }
}

/// One day's tallies: the whole shop, and per agent, channel and skill group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayTally {
    /// `YYYY-MM-DD`, shop time zone.
    pub day: String,
    /// Every conversation of the day was closed when it was counted (it will not change).
    pub complete: bool,
    /// How it was counted (`DayTally::VERSION`); a kept day counted otherwise is counted
    /// again.
    pub version: u32,
    /// The shop time zone it was counted in: the day's bounds move with it.
    pub tz: String,
    pub all: Tally,
    pub agents: BTreeMap<String, Tally>,
    pub channels: BTreeMap<String, Tally>,
    /// By skill group id.
    pub groups: BTreeMap<u64, Tally>,
}

impl DayTally {
    /// The counting rules' version: 2 counts guided and intent bot turns apart; 3 gives
    /// each agent their own part of a conversation and keeps buyer ids.
    pub const VERSION: u32 = 3;

    /// Whether this kept day is final: complete, and counted by today's rules.
    pub fn is_final(&self) -> bool {
        self.complete && self.version == DayTally::VERSION
    }

    /// The tallies of one day's `timelines`.
    pub fn of(day: &str, timelines: &[Timeline], shop: Shop, past: bool) -> DayTally {
        let mut d = DayTally {
            day: day.to_string(),
            complete: past && timelines.iter().all(Timeline::closed),
            version: DayTally::VERSION,
            tz: shop.tz.name().to_string(),
            all: Tally::of(timelines, shop),
            ..DayTally::default()
        };
        let mut agents: BTreeMap<&str, Vec<Cow<Timeline>>> = BTreeMap::new();
        let mut channels: BTreeMap<&str, Vec<&Timeline>> = BTreeMap::new();
        let mut groups: BTreeMap<u64, Vec<&Timeline>> = BTreeMap::new();
        for t in timelines {
            // Each agent their own part; the rating to the last who served.
            for a in t.served() {
                if let Some(mine) = t.share(a) {
                    agents.entry(a).or_default().push(mine);
                }
            }
            channels.entry(&t.channel).or_default().push(t);
            if let Some(g) = t.group {
                groups.entry(g.0).or_default().push(t);
            }
        }
        d.agents = agents
            .into_iter()
            .map(|(k, v)| (k.to_string(), Tally::of(v.iter().map(|t| &**t), shop)))
            .collect();
        d.channels = channels
            .into_iter()
            .map(|(k, v)| (k.to_string(), Tally::of(v, shop)))
            .collect();
        d.groups = groups
            .into_iter()
            .map(|(k, v)| (k, Tally::of(v, shop)))
            .collect();
        d
    }
}

impl Figures {
    /// Every figure over `timelines`.
    pub fn of(timelines: &[Timeline], shop: Shop) -> Figures {
        Tally::of(timelines, shop).figures()
    }
}

fn is_staffed(at: DateTime<Utc>, shop: Shop) -> bool {
    shop.staffed
        .contains(at.with_timezone(&shop.tz).naive_local().time())
}

#[cfg(test)]
mod tests;
