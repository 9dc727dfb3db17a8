//! The training queue (问答训练): buyer questions the bot could not settle, waiting for a
//! trainer; and trainers' right/wrong marks on the bot's answers.

use super::{ConvId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a question came to the training queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainReason {
    /// The bot had no answer (band none).
    None,
    /// The bot offered a menu of guesses (band guided).
    Guided,
    /// The question ended with the buyer handed to a human.
    Transfer,
    /// A trainer marked the bot's answer to it wrong (答案抽检).
    Wrong,
}

impl TrainReason {
    /// The reason's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            TrainReason::None => "未识别",
            TrainReason::Guided => "反问引导",
            TrainReason::Transfer => "转人工",
            TrainReason::Wrong => "抽检答错",
        }
    }
}

/// What a trainer did with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainStatus {
    /// Waiting (待处理).
    Open,
    /// Added as a similar phrasing of an entry.
    Added,
    /// A new entry was created from it.
    Created,
    /// Not worth an entry.
    Ignored,
}

impl TrainStatus {
    /// The status's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            TrainStatus::Open => "待处理",
            TrainStatus::Added => "已加为相似问法",
            TrainStatus::Created => "已新建问题",
            TrainStatus::Ignored => "已忽略",
        }
    }
}

/// One buyer question in the training queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingItem {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub conv: ConvId,
    /// The buyer message's sequence number in the conversation.
    pub seq: u64,
    /// What the buyer wrote.
    pub text: String,
    /// The text as the bot normalized it: similar questions group by it.
    pub norm: String,
    pub reason: TrainReason,
    /// The bot's best guesses: (entry id, score).
    #[serde(default)]
    pub candidates: Vec<(String, f32)>,
    pub status: TrainStatus,
    /// The entry it was added to or created as.
    #[serde(default)]
    pub entry: Option<String>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub resolved_by: Option<String>,
}

/// A trainer's verdict on one bot answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotMark {
    pub conv: ConvId,
    /// The bot message's sequence number.
    pub seq: u64,
    /// The entry the bot answered with.
    #[serde(default)]
    pub entry: Option<String>,
    pub right: bool,
    pub by: UserId,
    pub by_name: String,
    pub at: DateTime<Utc>,
}
