//! How the shop serves buyers: skill groups, agent states, scene switches, reception
//! modes, and the API tokens and webhooks of channel bridges.

use super::conv::GroupId;
use super::{Invalid, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A skill group (售前组, 售后组 …) and what is routed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub members: Vec<UserId>,
    /// KB scenes routed here.
    #[serde(default)]
    pub scenes: Vec<String>,
    /// Buyer regions routed here (广东, 上海 …).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Takes what no rule routes elsewhere.
    #[serde(default)]
    pub is_default: bool,
}

impl Group {
    /// Checks the group's own rules.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        let n = self.name.trim().chars().count();
        if n == 0 || n > 20 {
            inv.add("name", "分组名称为 1–20 个字");
        }
        inv.into_result()
    }
}

/// An agent's availability (ordered as in the menu: online first).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    /// Takes new buyers.
    Online,
    /// Keeps current buyers, takes no new ones.
    Busy,
    /// Away from the desk.
    Away,
    /// Not working.
    #[default]
    Offline,
}

impl AgentState {
    /// Every state, in menu order.
    pub const ALL: [AgentState; 4] = [
        AgentState::Online,
        AgentState::Busy,
        AgentState::Away,
        AgentState::Offline,
    ];

    /// The state's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            AgentState::Online => "在线",
            AgentState::Busy => "忙碌",
            AgentState::Away => "离开",
            AgentState::Offline => "离线",
        }
    }

    /// The state's name in forms and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Online => "online",
            AgentState::Busy => "busy",
            AgentState::Away => "away",
            AgentState::Offline => "offline",
        }
    }

    /// Parses a state name.
    pub fn parse(s: &str) -> Option<AgentState> {
        AgentState::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An agent's state and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub state: AgentState,
    pub since: DateTime<Utc>,
}

/// What a scene does in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneMode {
    /// The bot answers it.
    #[default]
    Bot,
    /// Straight to a human.
    Human,
    /// Not answered automatically (handled as an unmatched question).
    Off,
}

impl SceneMode {
    /// Every mode, in the order the switches show them.
    pub const ALL: [SceneMode; 3] = [SceneMode::Bot, SceneMode::Human, SceneMode::Off];

    /// The mode's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            SceneMode::Bot => "机器人回答",
            SceneMode::Human => "直接转人工",
            SceneMode::Off => "关闭",
        }
    }

    /// The mode's name in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            SceneMode::Bot => "bot",
            SceneMode::Human => "human",
            SceneMode::Off => "off",
        }
    }

    /// Parses a mode name.
    pub fn parse(s: &str) -> Option<SceneMode> {
        SceneMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A scene's switch: one mode for staffed hours, one for the rest of the day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneSwitch {
    pub staffed: SceneMode,
    pub off_hours: SceneMode,
}

/// Who answers a new buyer first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceptionMode {
    /// The bot, handing over when needed (机器人优先).
    #[default]
    BotFirst,
    /// A free agent; the bot only when none is free (人工优先).
    HumanFirst,
    /// A share of new conversations goes to humans first (按比例).
    Ratio,
}

impl ReceptionMode {
    /// Every mode.
    pub const ALL: [ReceptionMode; 3] = [
        ReceptionMode::BotFirst,
        ReceptionMode::HumanFirst,
        ReceptionMode::Ratio,
    ];

    /// The mode's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            ReceptionMode::BotFirst => "机器人优先",
            ReceptionMode::HumanFirst => "人工优先",
            ReceptionMode::Ratio => "按比例分配",
        }
    }

    /// The mode's name in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceptionMode::BotFirst => "bot_first",
            ReceptionMode::HumanFirst => "human_first",
            ReceptionMode::Ratio => "ratio",
        }
    }

    /// Parses a mode name.
    pub fn parse(s: &str) -> Option<ReceptionMode> {
        ReceptionMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The shop's reception settings and global switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reception {
    /// Who answers first during staffed hours.
    pub staffed: ReceptionMode,
    /// Who answers first outside staffed hours.
    pub off_hours: ReceptionMode,
    /// For `Ratio`: the percentage of new conversations that go to humans first.
    pub human_percent: u8,
    /// More buyers than this waiting: every new conversation goes bot-first.
    pub queue_limit: u32,
    /// Most conversations one agent serves at once.
    pub agent_cap: u32,
    /// A queued or assigned buyer without an agent reply for this long is re-routed.
    pub reroute_minutes: u32,
    /// A conversation idle this long is closed.
    pub idle_close_minutes: u32,
    /// Only the bot serves (e.g. at night): no transfers to humans.
    pub bot_only: bool,
    /// When no human can take a transfer, say so honestly with when humans are back.
    pub off_hours_reply: bool,
}

impl Default for Reception {
    fn default() -> Reception {
        Reception {
            staffed: ReceptionMode::BotFirst,
            off_hours: ReceptionMode::BotFirst,
            human_percent: 50,
            queue_limit: 20,
            agent_cap: 10,
            reroute_minutes: 3,
            idle_close_minutes: 30,
            bot_only: false,
            off_hours_reply: true,
        }
    }
}

impl Reception {
    /// Checks the numbers are sensible.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        if self.human_percent > 100 {
            inv.add("human_percent", "比例应在 0–100 之间");
        }
        if !(1..=100).contains(&self.agent_cap) {
            inv.add("agent_cap", "每位客服同时接待 1–100 人");
        }
        if !(1..=120).contains(&self.reroute_minutes) {
            inv.add("reroute_minutes", "超时转接应为 1–120 分钟");
        }
        if !(1..=1440).contains(&self.idle_close_minutes) {
            inv.add("idle_close_minutes", "自动结束应为 1–1440 分钟");
        }
        if self.queue_limit > 10_000 {
            inv.add("queue_limit", "排队上限最多 10000");
        }
        inv.into_result()
    }
}

/// An API token of a channel bridge. The token itself is shown once; the store keeps
/// its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: u64,
    pub name: String,
    /// The channel the token speaks for (qianniu, douyin …).
    pub channel: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub revoked: bool,
}

/// Why `name` or `channel` cannot be a token's.
pub fn token_problems(name: &str, channel: &str) -> Result<(), Invalid> {
    let mut inv = Invalid::default();
    if name.trim().is_empty() || name.chars().count() > 40 {
        inv.add("name", "名称为 1–40 个字");
    }
    if !valid_channel(channel) {
        inv.add("channel", "渠道名为 1–32 个小写字母、数字、-、_");
    }
    inv.into_result()
}

/// Whether `channel` is a usable channel name (`web` is the chat page's own).
pub fn valid_channel(channel: &str) -> bool {
    (1..=32).contains(&channel.len())
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Where a channel's outbound messages are posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub channel: String,
    pub url: String,
    /// The HMAC-SHA256 key of the `X-Xiaoer-Signature` header.
    pub secret: String,
    pub enabled: bool,
}

/// One outbound webhook delivery and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub channel: String,
    /// The JSON body.
    pub body: String,
    pub attempts: u32,
    pub next_at: DateTime<Utc>,
    #[serde(default)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Gave up after the last retry.
    #[serde(default)]
    pub failed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names() {
        assert!(valid_channel("qianniu"));
        assert!(valid_channel("douyin-2"));
        assert!(!valid_channel(""));
        assert!(!valid_channel("千牛"));
        assert!(!valid_channel("Qianniu"));
        assert!(!valid_channel(&"a".repeat(33)));
    }

    #[test]
    fn reception_defaults_are_valid() {
        assert!(Reception::default().validate().is_ok());
        let bad = Reception {
            agent_cap: 0,
            human_percent: 101,
            ..Reception::default()
        };
        let inv = bad.validate().unwrap_err();
        assert!(inv.get("agent_cap").is_some() && inv.get("human_percent").is_some());
    }
}

/// A quick reply (快捷短语): a text an agent inserts by its short key. Team replies
/// (`owner: None`) are kept by supervisors and shared by everyone; personal ones
/// belong to one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub id: u64,
    #[serde(default)]
    pub owner: Option<UserId>,
    /// What the agent types to find it (e.g. `kd`, `发货`).
    pub key: String,
    pub text: String,
}

impl QuickReply {
    /// Team replies a new shop starts with, found by their Chinese keys.
    pub fn starters() -> Vec<QuickReply> {
        [
            ("欢迎", "亲，您好！很高兴为您服务，请问有什么可以帮您？"),
            ("稍等", "亲，请稍等一下，我马上帮您查询～"),
            ("查单", "亲，麻烦发一下您的订单号，我帮您看看具体情况～"),
            (
                "抱歉",
                "亲，非常抱歉给您带来不好的体验，我们一定尽快为您处理好！",
            ),
            ("感谢", "不客气哦亲，有任何问题随时来找我们～祝您生活愉快！"),
            (
                "好评",
                "亲，收到宝贝满意的话，麻烦给个五星好评哦，您的支持是我们最大的动力～",
            ),
        ]
        .into_iter()
        .map(|(key, text)| QuickReply {
            id: 0,
            owner: None,
            key: key.into(),
            text: text.into(),
        })
        .collect()
    }

    /// Most characters of a key and of a text.
    pub const MAX_KEY: usize = 20;
    pub const MAX_TEXT: usize = 1000;

    /// Checks the key and text.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        let key = self.key.trim();
        if key.is_empty()
            || key.chars().count() > Self::MAX_KEY
            || key.contains(char::is_whitespace)
        {
            inv.add(
                "key",
                format!("简码为 1–{} 个字符，不含空格", Self::MAX_KEY),
            );
        }
        let text = self.text.trim();
        if text.is_empty() || text.chars().count() > Self::MAX_TEXT {
            inv.add("text", format!("内容为 1–{} 个字", Self::MAX_TEXT));
        }
        inv.into_result()
    }
}
