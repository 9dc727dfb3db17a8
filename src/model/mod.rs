//! Plain data shared by every layer: ids, records, request/patch structs and their
//! validation rules. Nothing here knows about storage or HTTP.

pub mod audit;
pub mod clock;
pub mod conv;
pub mod json;
pub mod kb;
pub mod product;
pub mod qa;
pub mod service;
pub mod settings;
pub mod stamp;
pub mod ticket;
pub mod training;
pub mod user;

pub use audit::{AuditEntry, NewAudit};
pub use clock::{Clock, ManualClock, SystemClock};
pub use conv::{
    BotMeta, Buyer, BuyerId, ConvId, ConvState, Conversation, Event, EventKind, GroupId, Message,
    Order, OrderItem, Rating, Sender, Wire, WireItem,
};
pub use kb::{KbEntry, Lexicon, MatchMode};
pub use product::{Price, Product};
pub use qa::{Finding, QaRule, QaSettings, RubricItem, Sample, Score, Severity};
pub use service::{
    AgentState, AgentStatus, ApiToken, Delivery, Group, QuickReply, Reception, ReceptionMode,
    SceneMode, SceneSwitch, Webhook,
};
pub use settings::{ShopSettings, StaffedHours, Targets};
pub use ticket::{Ticket, TicketComment, TicketStatus, TicketType};
pub use training::{BotMark, TrainReason, TrainStatus, TrainingItem};
pub use user::{NewUser, Role, Session, User, UserId, UserPatch};

/// One problem with submitted data, shown beside the form field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field name (`name`, `password`, …).
    pub field: &'static str,
    /// A short message for the user, in Simplified Chinese.
    pub message: String,
}

/// Every problem found in one submission; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// `Ok(())` when nothing was recorded, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The message recorded for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// A single problem not tied to one field.
    pub fn general(message: impl Into<String>) -> Invalid {
        let mut inv = Invalid::default();
        inv.add("", message);
        inv
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&parts.join("；"))
    }
}

impl std::error::Error for Invalid {}
