//! Buyers, conversations, messages, the event log and orders: the live service's data.

use super::UserId;
use super::product::Price;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A buyer's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BuyerId(pub u64);

/// A conversation's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConvId(pub u64);

/// A skill group's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(pub u64);

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ConvId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The web chat page's channel name.
pub const WEB_CHANNEL: &str = "web";

/// How pages name a channel: the platforms' Chinese names for their usual ids
/// (qianniu → 千牛), any other channel by its id.
pub fn channel_label(channel: impl AsRef<str>) -> String {
    let id = channel.as_ref();
    match id {
        WEB_CHANNEL => "网页聊天",
        "qianniu" => "千牛",
        "taobao" => "淘宝",
        "tmall" => "天猫",
        "douyin" | "doudian" => "抖店",
        "pdd" | "pinduoduo" => "拼多多",
        "jd" | "jingdong" => "京东",
        "wechat" | "weixin" | "wecom" | "wxkf" => "微信客服",
        "kuaishou" => "快手",
        "xiaohongshu" | "xhs" => "小红书",
        "youzan" => "有赞",
        _ => id,
    }
    .to_string()
}

/// A buyer, known per channel by the channel's own id for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub id: BuyerId,
    pub channel: String,
    /// The channel's id for the buyer (for the web chat: a hash of its secret token).
    pub external_id: String,
    #[serde(default)]
    pub nickname: String,
    #[serde(default)]
    pub region: String,
    /// 0 = ordinary; higher = VIP levels, served first.
    #[serde(default)]
    pub member_level: u8,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// Keys of the buyer's orders (see `Order::key`).
    #[serde(default)]
    pub orders: Vec<String>,
    /// The buyer's latest conversations, oldest first (at most `KEEP_CONVS`).
    #[serde(default)]
    pub convs: Vec<ConvId>,
    #[serde(with = "crate::model::stamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::stamp")]
    pub last_seen: DateTime<Utc>,
}

/// Conversations a buyer record remembers.
pub const KEEP_CONVS: usize = 50;

impl Buyer {
    /// Remembers a new conversation of the buyer (forgetting the oldest beyond
    /// `KEEP_CONVS`).
    pub fn remember_conv(&mut self, id: ConvId) {
        if !self.convs.contains(&id) {
            self.convs.push(id);
        }
        if self.convs.len() > KEEP_CONVS {
            self.convs.drain(..self.convs.len() - KEEP_CONVS);
        }
    }
}

/// Who serves a conversation now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvState {
    /// The bot answers.
    Bot,
    /// Waiting for a human.
    Queued,
    /// An agent serves.
    Human,
    /// Over.
    Closed,
}

impl ConvState {
    /// The state's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            ConvState::Bot => "机器人接待",
            ConvState::Queued => "排队中",
            ConvState::Human => "人工接待",
            ConvState::Closed => "已结束",
        }
    }

    /// The state's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ConvState::Bot => "bot",
            ConvState::Queued => "queued",
            ConvState::Human => "human",
            ConvState::Closed => "closed",
        }
    }
}

/// A conversation between a buyer and the shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConvId,
    pub buyer: BuyerId,
    pub channel: String,
    pub state: ConvState,
    /// The skill group it was routed to.
    #[serde(default)]
    pub group: Option<GroupId>,
    /// The agent serving it (state human).
    #[serde(default)]
    pub agent: Option<UserId>,
    /// Queue priority (the buyer's member level).
    #[serde(default)]
    pub priority: u8,
    /// Handed over for a complaint: served before buyers of the same priority.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// The product the buyer came from or named.
    #[serde(default)]
    pub product: Option<String>,
    /// The product page the buyer's last message came from: a message from the same
    /// page keeps the product talked about since ("白茶口感是啥样的", then "那这个煮着喝
    /// 放多少" on the 铁观音's page), one from another page makes it the product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// The scene of the last matched KB entry.
    #[serde(default)]
    pub scene: Option<String>,
    /// Why it went to a human.
    #[serde(default)]
    pub transfer_reason: Option<String>,
    /// Entry ids of the last guided menu.
    #[serde(default)]
    pub menu: Vec<String>,
    /// Unanswered buyer turns in a row.
    #[serde(default)]
    pub unmatched_streak: u32,
    /// The entry the bot answered the last buyer turn with.
    #[serde(default)]
    pub last_entry: Option<String>,
    /// What the last buyer turn's product question asked (`bot::Reply::asked`).
    #[serde(default)]
    pub last_ask: Option<String>,
    /// The buyer said they bought or received the goods ("收到了", "才买三天"): the
    /// bot answers as after the sale even without an order from the API.
    #[serde(default)]
    pub bought: bool,
    /// The next message's sequence number.
    pub next_seq: u64,
    #[serde(with = "crate::model::stamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::stamp")]
    pub updated_at: DateTime<Utc>,
    #[serde(default, with = "crate::model::stamp::option")]
    pub last_buyer_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::model::stamp::option")]
    pub last_agent_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::model::stamp::option")]
    pub queued_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::model::stamp::option")]
    pub assigned_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::model::stamp::option")]
    pub closed_at: Option<DateTime<Utc>>,
    /// How it ended: "小美 结束会话", "主管老王 强制结束", "超时自动结束".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    /// The last agent who served (credited with the rating).
    #[serde(default)]
    pub last_agent: Option<UserId>,
    /// When the buyer was invited to rate (at most once).
    #[serde(default, with = "crate::model::stamp::option")]
    pub invited_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub rating: Option<Rating>,
    /// Every state change, in order: (when, the new state). Metrics read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<(DateTime<Utc>, ConvState)>,
    /// Every assignment, in order: (when, the agent given it). Metrics give each agent
    /// the part they held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<(DateTime<Utc>, UserId)>,
    /// Agents this buyer was moved away from for not answering, while still waiting
    /// for a first answer; not offered the buyer again until it goes back to the bot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<UserId>,
    /// A supervisor took it over (接管): the re-route of unanswered buyers leaves it with
    /// them. Any other assignment clears it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub taken_over: bool,
}

impl Conversation {
    /// A new conversation of `buyer` on `channel`, with the bot, at `now`.
    pub fn start(
        id: ConvId,
        buyer: BuyerId,
        channel: &str,
        priority: u8,
        now: DateTime<Utc>,
    ) -> Conversation {
        Conversation {
            id,
            buyer,
            channel: channel.to_string(),
            state: ConvState::Bot,
            group: None,
            agent: None,
            priority,
            urgent: false,
            product: None,
            page: None,
            scene: None,
            transfer_reason: None,
            menu: Vec::new(),
            unmatched_streak: 0,
            last_entry: None,
            last_ask: None,
            bought: false,
            next_seq: 1,
            created_at: now,
            updated_at: now,
            last_buyer_at: None,
            last_agent_at: None,
            queued_at: None,
            assigned_at: None,
            closed_at: None,
            closed_by: None,
            taken_over: false,
            last_agent: None,
            invited_at: None,
            rating: None,
            modes: Vec::new(),
            holders: Vec::new(),
            passed_over: Vec::new(),
        }
    }

    /// Moves to `to` at `at`, remembering the change.
    /// When the buyer was last handed to humans: the start of the current run of
    /// queued and human states (a re-queue or a transfer between agents does not
    /// restart it). `None` outside such a run, or for conversations from before state
    /// changes were recorded.
    pub fn handed_over_at(&self) -> Option<DateTime<Utc>> {
        self.modes
            .iter()
            .rev()
            .take_while(|(_, s)| matches!(s, ConvState::Queued | ConvState::Human))
            .last()
            .map(|(at, _)| *at)
    }

    pub fn enter(&mut self, to: ConvState, at: DateTime<Utc>) {
        self.state = to;
        self.modes.push((at, to));
        if matches!(to, ConvState::Bot | ConvState::Closed) {
            // A complaint's priority lasts until humans let the buyer go.
            self.urgent = false;
        }
    }
}

/// The five satisfaction levels, best first (5 = 很满意 … 1 = 很不满意).
pub const RATING_LEVELS: [(u8, &str); 5] = [
    (5, "很满意"),
    (4, "满意"),
    (3, "一般"),
    (2, "不满意"),
    (1, "很不满意"),
];

/// Reasons a buyer may give for a bad rating.
pub const RATING_REASONS: [&str; 6] = [
    "答不对题",
    "问题未解决",
    "发货慢",
    "售后慢",
    "态度差",
    "回复慢",
];

/// A buyer's satisfaction rating of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// 1 (很不满意) to 5 (很满意).
    pub level: u8,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    #[serde(with = "crate::model::stamp")]
    pub at: DateTime<Utc>,
    /// The agent credited; `None` means the bot.
    #[serde(default)]
    pub agent: Option<UserId>,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Sender {
    Buyer,
    Bot,
    Agent {
        id: UserId,
        name: String,
    },
    /// Notices from the service itself (queue position, transfers).
    System,
}

impl Sender {
    /// `buyer`, `bot`, `agent` or `system`.
    pub fn kind(&self) -> &'static str {
        match self {
            Sender::Buyer => "buyer",
            Sender::Bot => "bot",
            Sender::Agent { .. } => "agent",
            Sender::System => "system",
        }
    }
}

/// What the bot knew when it wrote a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotMeta {
    /// `exact`, `guided`, `none`, or `unknown` for imported history (which does not
    /// record how the bot matched).
    pub band: String,
    #[serde(default)]
    pub entry: Option<String>,
    /// Entries that answered other parts of the message (see `Reply::also`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    #[serde(default)]
    pub intent: Option<String>,
    #[serde(default)]
    pub confidence: f32,
    /// Menu options offered (entry id, question).
    #[serde(default)]
    pub menu: Vec<(String, String)>,
    /// Follow-up suggestions (entry id, question).
    #[serde(default)]
    pub follow_ups: Vec<(String, String)>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub conv: ConvId,
    /// Position in the conversation: 1, 2, 3 …
    pub seq: u64,
    #[serde(with = "crate::model::stamp")]
    pub at: DateTime<Utc>,
    pub from: Sender,
    pub text: String,
    /// The channel's id for the message, which makes retries safe.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    #[serde(default)]
    pub bot: Option<BotMeta>,
}

impl Message {
    /// The message as channels and pages receive it: `{id, from, agent?, text, at,
    /// menu[], follow_ups[], client_msg_id?}` (menu items and follow-ups are
    /// `{id, question}`).
    pub fn wire(&self) -> Wire<'_> {
        let bot = self.bot.as_ref();
        Wire {
            id: self.seq,
            from: self.from.kind(),
            agent: match &self.from {
                Sender::Agent { name, .. } => Some(name),
                _ => None,
            },
            text: &self.text,
            at: self.at,
            menu: bot.map(|b| wire_items(&b.menu)).unwrap_or_default(),
            follow_ups: bot.map(|b| wire_items(&b.follow_ups)).unwrap_or_default(),
            client_msg_id: self.client_msg_id.as_deref(),
        }
    }
}

/// A message as channels and pages receive it (see [`Message::wire`]); serialized
/// straight from the message, without building a `serde_json::Value`.
#[derive(Debug, Serialize)]
pub struct Wire<'a> {
    pub id: u64,
    pub from: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<&'a str>,
    pub text: &'a str,
    #[serde(with = "crate::model::stamp")]
    pub at: DateTime<Utc>,
    pub menu: Vec<WireItem<'a>>,
    pub follow_ups: Vec<WireItem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<&'a str>,
}

fn wire_items(v: &[(String, String)]) -> Vec<WireItem<'_>> {
    v.iter()
        .map(|(id, question)| WireItem { id, question })
        .collect()
}

/// A menu option or follow-up on the wire.
#[derive(Debug, Serialize)]
pub struct WireItem<'a> {
    pub id: &'a str,
    pub question: &'a str,
}

/// What happened, in order, for live updates and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A message was added.
    Message { seq: u64, from: String },
    /// The conversation changed state.
    State {
        from: ConvState,
        to: ConvState,
        reason: String,
    },
    /// An agent (and group) took it.
    Assigned {
        agent: UserId,
        group: Option<GroupId>,
    },
    /// The buyer was invited to rate.
    Invited,
    /// The buyer rated.
    Rated { level: u8 },
    /// Quality inspection found something that needs a supervisor now (a red line).
    Alert {
        rule: String,
        agent: String,
        detail: String,
    },
}

/// One entry of the global event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Global position, 1, 2, 3 …
    pub seq: u64,
    #[serde(with = "crate::model::stamp")]
    pub at: DateTime<Utc>,
    pub conv: ConvId,
    pub channel: String,
    pub kind: EventKind,
}

/// A line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    #[serde(default)]
    pub sku: String,
    pub name: String,
    #[serde(default = "one")]
    pub qty: u32,
    #[serde(default)]
    pub price: Option<Price>,
}

fn one() -> u32 {
    1
}

/// An order reported by a channel (for the CRM and after-sale answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub channel: String,
    pub order_id: String,
    pub buyer: BuyerId,
    #[serde(default)]
    pub items: Vec<OrderItem>,
    /// One of `ORDER_STATUSES` (orders stored before statuses were checked may hold
    /// other words).
    pub status: String,
    #[serde(default)]
    pub amount: Option<Price>,
    #[serde(default)]
    pub paid: Option<Price>,
    #[serde(default)]
    pub logistics: Option<String>,
    #[serde(with = "crate::model::stamp")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::stamp")]
    pub updated_at: DateTime<Utc>,
}

/// The order statuses a bridge may send, with their labels. Bridges map the platform's
/// own codes (Taobao's `WAIT_SELLER_SEND_GOODS`, …) to these; created and unpaid orders
/// leave the buyer pre-sale, cancelled and closed ones count for nothing, and the rest
/// make the buyer an after-sale buyer.
pub const ORDER_STATUSES: [(&str, &str); 10] = [
    ("created", "已下单"),
    ("unpaid", "待付款"),
    ("paid", "已付款"),
    ("shipped", "已发货"),
    ("delivered", "已签收"),
    ("completed", "已完成"),
    ("refunding", "退款中"),
    ("refunded", "已退款"),
    ("cancelled", "已取消"),
    ("closed", "已关闭"),
];

impl Order {
    /// The store key of an order: channel and order id.
    pub fn key(channel: &str, order_id: &str) -> String {
        format!("{channel}\u{1f}{order_id}")
    }

    /// The status in Chinese for the console (`已发货`), else as stored.
    pub fn status_label(&self) -> &str {
        ORDER_STATUSES
            .iter()
            .find(|(code, _)| *code == self.status)
            .map_or(self.status.as_str(), |(_, label)| label)
    }

    /// Whether the order is on its way to the buyer or being refunded: paid, shipped,
    /// delivered (not yet confirmed) or refunding.
    pub fn in_progress(&self) -> bool {
        matches!(
            self.status.as_str(),
            "paid" | "shipped" | "delivered" | "refunding"
        )
    }

    /// Whether the order makes its buyer an after-sale buyer (paid or beyond).
    pub fn is_after_sale(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "created" | "unpaid" | "cancelled" | "closed"
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn channels_are_named_as_sellers_know_them() {
        assert_eq!(super::channel_label("qianniu"), "千牛");
        assert_eq!(super::channel_label(super::WEB_CHANNEL), "网页聊天");
        assert_eq!(super::channel_label("myshop"), "myshop");
    }

    use super::*;

    #[test]
    fn urgency_ends_when_the_conversation_goes_back_to_the_bot_or_closes() {
        for to in [ConvState::Bot, ConvState::Closed] {
            let mut c = Conversation::start(ConvId(1), BuyerId(1), "web", 0, DateTime::UNIX_EPOCH);
            c.urgent = true;
            c.enter(ConvState::Queued, DateTime::UNIX_EPOCH);
            c.enter(ConvState::Human, DateTime::UNIX_EPOCH);
            assert!(c.urgent, "still urgent while humans have it");
            c.enter(to, DateTime::UNIX_EPOCH);
            assert!(!c.urgent, "{to:?}");
        }
    }

    #[test]
    fn the_handover_is_the_start_of_the_run_of_queue_and_agents() {
        let at = |s: i64| DateTime::UNIX_EPOCH + chrono::Duration::seconds(s);
        let mut c = Conversation::start(ConvId(1), BuyerId(1), "web", 0, at(0));
        assert_eq!(c.handed_over_at(), None);
        c.enter(ConvState::Queued, at(10));
        c.enter(ConvState::Human, at(12));
        // The agent goes offline: back in the queue, then another agent.
        c.enter(ConvState::Queued, at(50));
        c.enter(ConvState::Human, at(55));
        assert_eq!(c.handed_over_at(), Some(at(10)));
        c.enter(ConvState::Bot, at(90));
        assert_eq!(c.handed_over_at(), None);
        c.enter(ConvState::Queued, at(100));
        assert_eq!(c.handed_over_at(), Some(at(100)), "a new hand-over");
    }

    #[test]
    fn order_statuses_have_labels_and_only_paid_or_later_ones_are_after_sale() {
        let order = |status: &str| Order {
            channel: "qianniu".into(),
            order_id: "A1".into(),
            buyer: BuyerId(1),
            items: Vec::new(),
            status: status.into(),
            amount: None,
            paid: None,
            logistics: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        let after: Vec<&str> = ORDER_STATUSES
            .iter()
            .map(|(code, _)| *code)
            .filter(|code| order(code).is_after_sale())
            .collect();
        assert_eq!(
            after,
            [
                "paid",
                "shipped",
                "delivered",
                "completed",
                "refunding",
                "refunded"
            ]
        );
        assert_eq!(order("shipped").status_label(), "已发货");
        assert_eq!(order("legacy-word").status_label(), "legacy-word");
    }

    fn message(from: Sender, bot: Option<BotMeta>, client_msg_id: Option<&str>) -> Message {
        Message {
            conv: ConvId(3),
            seq: 7,
            at: "2026-11-23T08:30:00Z".parse().unwrap(),
            from,
            text: "<b>亲</b> \"在的\"".into(),
            client_msg_id: client_msg_id.map(String::from),
            bot,
        }
    }

    #[test]
    fn a_message_on_the_wire_has_the_documented_fields_and_no_more() {
        let meta = BotMeta {
            band: "guided".into(),
            entry: None,
            also: Vec::new(),
            intent: None,
            confidence: 0.5,
            menu: vec![
                ("12".into(), "几天发货".into()),
                ("13".into(), "发什么快递".into()),
            ],
            follow_ups: vec![("20".into(), "包邮吗".into())],
        };
        let bot =
            serde_json::to_value(message(Sender::Bot, Some(meta), Some("c-1")).wire()).unwrap();
        assert_eq!(
            bot,
            serde_json::json!({
                "id": 7,
                "from": "bot",
                "text": "<b>亲</b> \"在的\"",
                "at": "2026-11-23T08:30:00Z",
                "menu": [{"id": "12", "question": "几天发货"}, {"id": "13", "question": "发什么快递"}],
                "follow_ups": [{"id": "20", "question": "包邮吗"}],
                "client_msg_id": "c-1",
            })
        );
        let agent = Sender::Agent {
            id: UserId(2),
            name: "小美".into(),
        };
        let agent = serde_json::to_value(message(agent, None, None).wire()).unwrap();
        assert_eq!(
            agent,
            serde_json::json!({
                "id": 7,
                "from": "agent",
                "agent": "小美",
                "text": "<b>亲</b> \"在的\"",
                "at": "2026-11-23T08:30:00Z",
                "menu": [],
                "follow_ups": [],
            })
        );
    }
}
