//! 质检: the automatic rules a conversation is inspected by, and what they find.

use super::ConvId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An automatic inspection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QaRule {
    /// An agent wrote a red-line (banned) word.
    RedLine,
    /// The first human answer came more than 30 s after the hand-over (or never).
    SlowFirst,
    /// A buyer waited more than 3 minutes for a human in staffed hours.
    SlowReply,
    /// Five or more agent messages in a row without a buyer reply (消息拒收 risk).
    AgentRun,
    /// A complaining or angry buyer message no human answered.
    NegativeUnanswered,
    /// Handed to humans twice or more.
    TransferredTwice,
}

impl QaRule {
    /// Every rule, in the order pages list them.
    pub const ALL: [QaRule; 6] = [
        QaRule::RedLine,
        QaRule::NegativeUnanswered,
        QaRule::SlowFirst,
        QaRule::SlowReply,
        QaRule::AgentRun,
        QaRule::TransferredTwice,
    ];

    /// The rule's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            QaRule::RedLine => "红线词",
            QaRule::SlowFirst => "人工首次响应超过30秒",
            QaRule::SlowReply => "人工回复超过3分钟",
            QaRule::AgentRun => "连续5条以上无买家回复",
            QaRule::NegativeUnanswered => "买家负面情绪未获人工回应",
            QaRule::TransferredTwice => "多次转人工",
        }
    }

    /// The rule's name in URLs and files.
    pub fn as_str(self) -> &'static str {
        match self {
            QaRule::RedLine => "red_line",
            QaRule::SlowFirst => "slow_first",
            QaRule::SlowReply => "slow_reply",
            QaRule::AgentRun => "agent_run",
            QaRule::NegativeUnanswered => "negative_unanswered",
            QaRule::TransferredTwice => "transferred_twice",
        }
    }

    /// How serious a finding of this rule is.
    pub fn severity(self) -> Severity {
        match self {
            QaRule::RedLine | QaRule::NegativeUnanswered => Severity::High,
            QaRule::SlowFirst | QaRule::SlowReply | QaRule::AgentRun => Severity::Medium,
            QaRule::TransferredTwice => Severity::Low,
        }
    }

    /// Parses a rule name.
    pub fn parse(s: &str) -> Option<QaRule> {
        QaRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::High => "严重",
            Severity::Medium => "一般",
            Severity::Low => "提示",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// What a rule found in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub conv: ConvId,
    pub rule: QaRule,
    pub severity: Severity,
    /// The agent concerned (login name), if one is.
    #[serde(default)]
    pub agent: Option<String>,
    /// The message concerned.
    #[serde(default)]
    pub seq: Option<u64>,
    pub at: DateTime<Utc>,
    pub detail: String,
}

/// The editable part of the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaSettings {
    /// Words an agent must never write: rudeness, and the platforms' red lines
    /// (taking the buyer off the platform).
    pub red_lines: Vec<String>,
    /// Closed conversations drawn for scoring each day.
    #[serde(default = "default_sample")]
    pub daily_sample: u32,
    /// What a scorer scores, with the most points each item gives.
    #[serde(default = "default_rubric")]
    pub rubric: Vec<RubricItem>,
}

fn default_sample() -> u32 {
    50
}

fn default_rubric() -> Vec<RubricItem> {
    [
        ("服务态度", 20),
        ("响应及时", 20),
        ("解决问题", 30),
        ("话术规范", 15),
        ("主动服务与推荐", 15),
    ]
    .into_iter()
    .map(|(name, points)| RubricItem {
        name: name.into(),
        points,
    })
    .collect()
}

/// One item of the scoring rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricItem {
    pub name: String,
    /// The most points the item gives (its weight).
    pub points: u32,
}

/// A conversation drawn for scoring, and its score once given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub conv: ConvId,
    /// The shop-local day it was drawn for (YYYY-MM-DD).
    pub day: String,
    /// The agent scored (login name).
    pub agent: String,
    #[serde(default)]
    pub score: Option<Score>,
    /// Marked as a good example for the 训练场.
    #[serde(default)]
    pub example: bool,
}

/// A scorer's verdict on a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Points per rubric item, in rubric order.
    pub items: Vec<(String, u32)>,
    pub total: u32,
    /// The most points possible (the rubric's sum when scored).
    pub out_of: u32,
    #[serde(default)]
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Default for QaSettings {
    fn default() -> QaSettings {
        QaSettings {
            red_lines: [
                "滚",
                "傻逼",
                "神经病",
                "有病",
                "白痴",
                "垃圾",
                "爱买不买",
                "关我什么事",
                "去死",
                "加微信",
                "加我微信",
                "vx",
                "支付宝转账",
                "线下交易",
                "私下交易",
                "加qq",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            daily_sample: default_sample(),
            rubric: default_rubric(),
        }
    }
}
