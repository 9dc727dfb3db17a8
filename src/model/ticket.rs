//! Tickets (工单): follow-up work a conversation cannot finish at once — a changed
//! address, a gift to register, a repair, a late shipment, a lost parcel. Each type has
//! a service time (SLA) and the message the bot sends the buyer when it is resolved.

use super::conv::{BuyerId, ConvId, GroupId};
use super::{Invalid, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A kind of ticket, editable by supervisors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketType {
    pub id: u64,
    pub name: String,
    /// Hours from creation to the due time.
    pub sla_hours: u32,
    /// Sent to the buyer when a ticket of this type is resolved (主动跟进); `{{工单号}}`
    /// becomes the ticket number, `{{订单号}}` its order number, and the shop settings'
    /// variables are filled. Empty: no message.
    #[serde(default)]
    pub follow_up: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The skill group that handles tickets of this type (退款退货 → 售后组); `None`:
    /// the group of the conversation the ticket comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
}

fn yes() -> bool {
    true
}

impl TicketType {
    /// Most characters of a name and of a follow-up text.
    pub const MAX_NAME: usize = 20;
    pub const MAX_FOLLOW_UP: usize = 500;

    /// The types a new shop starts with.
    pub fn defaults() -> Vec<TicketType> {
        [
            (
                "改地址",
                2,
                "亲，您的收货地址已经修改好啦（工单 {{工单号}}），请留意物流信息～",
            ),
            (
                "赠品登记",
                24,
                "亲，您的赠品已登记好（工单 {{工单号}}），会随包裹一起发出哦～",
            ),
            (
                "安装维修",
                72,
                "亲，您的安装/维修需求已处理（工单 {{工单号}}），如还有问题随时找小二～",
            ),
            (
                "延期发货",
                24,
                "亲，关于延期发货的问题已经为您处理好了（工单 {{工单号}}），感谢您的耐心等待～",
            ),
            (
                "物流异常",
                48,
                "亲，您反馈的物流异常已经处理（工单 {{工单号}}），请留意最新物流信息～",
            ),
            (
                "退款退货",
                24,
                "亲，您的退款/退货已经处理好了（工单 {{工单号}}），退款会按原支付方式退回，请留意到账哦～",
            ),
            (
                "换货补发",
                48,
                "亲，您的换货/补发已经安排好了（工单 {{工单号}}），新包裹发出后请留意物流信息～",
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (name, sla, text))| TicketType {
            id: i as u64 + 1,
            name: name.into(),
            sla_hours: sla,
            follow_up: text.into(),
            enabled: true,
            group: None,
        })
        .collect()
    }

    /// Checks the name, the SLA and the follow-up text.
    /// The variables a follow-up may use: the ticket's own, then the shop settings'.
    pub fn variables() -> Vec<&'static str> {
        ["工单号", "订单号"]
            .into_iter()
            .chain(
                super::ShopSettings::variable_names()
                    .filter(|v| !super::settings::PRODUCT_VARIABLES.contains(v))
                    .filter(|v| !super::settings::ORDER_VARIABLES.contains(v))
                    .filter(|v| !super::settings::CATALOG_VARIABLES.contains(v)),
            )
            .collect()
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        let n = self.name.trim().chars().count();
        if n == 0 || n > Self::MAX_NAME {
            inv.add("name", format!("类型名称为 1–{} 个字", Self::MAX_NAME));
        }
        if !(1..=24 * 90).contains(&self.sla_hours) {
            inv.add("sla_hours", "处理时限为 1–2160 小时");
        }
        if self.follow_up.chars().count() > Self::MAX_FOLLOW_UP {
            inv.add(
                "follow_up",
                format!("跟进消息最多 {} 个字", Self::MAX_FOLLOW_UP),
            );
        } else if let Some(trouble) =
            super::settings::unknown_variables_among(&self.follow_up, &Self::variables())
        {
            // An unknown {{name}} would reach the buyer as a gap ("{{订单号}} 已处理" →
            // " 已处理").
            inv.add("follow_up", trouble);
        }
        inv.into_result()
    }
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Processing,
    WaitingBuyer,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::New,
        TicketStatus::Processing,
        TicketStatus::WaitingBuyer,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::New => "新建",
            TicketStatus::Processing => "处理中",
            TicketStatus::WaitingBuyer => "待买家",
            TicketStatus::Resolved => "已解决",
            TicketStatus::Closed => "已关闭",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Processing => "processing",
            TicketStatus::WaitingBuyer => "waiting_buyer",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Still to be worked on (counts against the due time).
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    /// Whether a ticket may move from `self` to `to`: forward through the life, back to
    /// 处理中 while not closed, and closed from anywhere; a closed ticket stays closed.
    pub fn may_become(self, to: TicketStatus) -> bool {
        use TicketStatus::*;
        match (self, to) {
            (Closed, _) => false,
            (a, b) if a == b => false,
            (_, Closed) => true,
            (New, Processing | WaitingBuyer | Resolved) => true,
            (Processing, WaitingBuyer | Resolved) => true,
            (WaitingBuyer, Processing | Resolved) => true,
            (Resolved, Processing) => true,
            _ => false,
        }
    }
}

/// How urgent a ticket is.
pub const PRIORITIES: [(u8, &str); 4] = [(0, "低"), (1, "普通"), (2, "高"), (3, "紧急")];

/// The label of priority `p`.
pub fn priority_label(p: u8) -> &'static str {
    PRIORITIES
        .iter()
        .find(|(n, _)| *n == p)
        .map(|(_, l)| *l)
        .unwrap_or("普通")
}

/// A comment on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketComment {
    pub at: DateTime<Utc>,
    pub by: Option<UserId>,
    pub by_name: String,
    pub text: String,
}

/// One line of a ticket's history: who changed what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketChange {
    pub at: DateTime<Utc>,
    pub by_name: String,
    pub what: String,
}

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: u64,
    pub kind: u64,
    pub status: TicketStatus,
    /// 0 低, 1 普通, 2 高, 3 紧急.
    pub priority: u8,
    #[serde(default)]
    pub buyer: Option<BuyerId>,
    #[serde(default)]
    pub conv: Option<ConvId>,
    #[serde(default)]
    pub order_id: String,
    pub description: String,
    /// Links to photos, documents … (text only).
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default)]
    pub group: Option<GroupId>,
    #[serde(default)]
    pub assignee: Option<UserId>,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub created_by: Option<UserId>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the buyer was sent the follow-up message.
    #[serde(default)]
    pub followed_up_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub comments: Vec<TicketComment>,
    #[serde(default)]
    pub history: Vec<TicketChange>,
}

impl Ticket {
    /// Past its due time and still open.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.due_at < now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    #[test]
    fn the_status_table() {
        let allowed = [
            (New, Processing),
            (New, WaitingBuyer),
            (New, Resolved),
            (New, Closed),
            (Processing, WaitingBuyer),
            (Processing, Resolved),
            (Processing, Closed),
            (WaitingBuyer, Processing),
            (WaitingBuyer, Resolved),
            (WaitingBuyer, Closed),
            (Resolved, Processing),
            (Resolved, Closed),
        ];
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn default_types_are_valid_and_named_as_shops_say() {
        let names: Vec<String> = TicketType::defaults().into_iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "改地址",
                "赠品登记",
                "安装维修",
                "延期发货",
                "物流异常",
                "退款退货",
                "换货补发"
            ]
        );
        assert!(TicketType::defaults().iter().all(|t| t.validate().is_ok()));
        let bad = TicketType {
            id: 9,
            name: " ".into(),
            sla_hours: 0,
            follow_up: "长".repeat(501),
            enabled: true,
            group: None,
        };
        assert_eq!(bad.validate().unwrap_err().0.len(), 3);
    }

    #[test]
    fn a_follow_up_may_use_only_variables_that_are_filled() {
        let mut t = TicketType {
            id: 9,
            name: "差评跟进".into(),
            sla_hours: 24,
            follow_up: "亲，订单 {{订单号}} 已处理（工单 {{工单号}}），{{店铺名}}感谢您的耐心"
                .into(),
            enabled: true,
            group: None,
        };
        assert!(t.validate().is_ok());
        for unknown in ["{{订单编号}} 已处理", "{{商品名}}已补发"] {
            t.follow_up = unknown.into();
            let inv = t.validate().unwrap_err();
            let said = inv.get("follow_up").unwrap_or_default();
            assert!(
                said.starts_with("没有变量") && said.contains("{{订单号}}"),
                "{said}"
            );
        }
    }
}
