//! Tickets (工单): created by agents (often from a conversation), assigned to a group
//! and an agent, worked through 新建 → 处理中 → 待买家 → 已解决 → 已关闭 with comments and
//! a history, due by their type's service time. Resolving one sends the buyer the
//! type's follow-up message through their channel, recorded in the conversation.

use super::agents::conflict;
use super::service::Changes;
use super::{Actor, Desk, Error, Result};
use crate::bot::compose;
use crate::model::ticket::{PRIORITIES, TicketChange, priority_label};
use crate::model::{
    ConvId, GroupId, Invalid, Role, Sender, Ticket, TicketComment, TicketStatus, TicketType, User,
    UserId,
};
use crate::store::{self, WriteTx, prelude::*};
use chrono::Duration;

/// Most characters of a description and of a comment.
pub const MAX_TEXT: usize = 2000;
/// Most attachment links, and characters per link.
const MAX_LINKS: usize = 10;
const MAX_LINK: usize = 500;
/// Buyer messages copied into a ticket made from a conversation.
const PREFILL_MESSAGES: usize = 3;

/// A ticket as the form submits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTicket {
    pub kind: u64,
    pub priority: u8,
    pub conv: Option<ConvId>,
    pub order_id: String,
    pub description: String,
    pub attachments: Vec<String>,
    pub group: Option<GroupId>,
    pub assignee: Option<UserId>,
}

/// What the ticket list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct TicketFilter {
    /// A status, or `open` for every status still to be worked on; empty for all.
    pub status: String,
    /// A type id; empty for all.
    pub kind: String,
    /// `me` for the user's own, `none` for nobody's, or a user id; empty for all.
    pub assignee: String,
    /// A skill group id, or `none` for tickets of no group; empty for all.
    pub group: String,
    /// `1` for overdue ones only.
    pub overdue: String,
}

/// A change to a ticket's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketUpdate {
    pub status: Option<TicketStatus>,
    pub priority: Option<u8>,
    pub group: Option<Option<GroupId>>,
    pub assignee: Option<Option<UserId>>,
    /// What the ticket says, edited after creation.
    pub details: Option<TicketDetails>,
}

/// A ticket's own text: the problem, the order and attachment links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketDetails {
    pub description: String,
    pub order_id: String,
    pub attachments: Vec<String>,
}

fn check_people(
    tx: &impl Reads,
    group: Option<GroupId>,
    assignee: Option<UserId>,
    inv: &mut Invalid,
) -> store::Result<()> {
    if let Some(g) = group
        && tx.get_group(g)?.is_none()
    {
        inv.add("group", "没有这个技能组");
    }
    if let Some(a) = assignee
        && !tx
            .get_user(a)?
            .is_some_and(|u| !u.disabled && u.role != Role::Trainer)
    {
        inv.add("assignee", "没有这位客服");
    }
    Ok(())
}

fn check_fields(n: &NewTicket, inv: &mut Invalid) {
    check_details(&n.description, &n.order_id, &n.attachments, inv);
    if !PRIORITIES.iter().any(|(p, _)| *p == n.priority) {
        inv.add("priority", "请选择优先级");
    }
}

/// Checks what a ticket says: description, order number, attachment links.
fn check_details(description: &str, order_id: &str, attachments: &[String], inv: &mut Invalid) {
    let d = description.trim().chars().count();
    if d == 0 || d > MAX_TEXT {
        inv.add("description", format!("问题描述为 1–{MAX_TEXT} 个字"));
    }
    if order_id.trim().chars().count() > 64 {
        inv.add("order_id", "订单号最多 64 个字符");
    }
    if attachments.len() > MAX_LINKS
        || attachments.iter().any(|l| {
            !(l.starts_with("https://") || l.starts_with("http://")) || l.chars().count() > MAX_LINK
        })
    {
        inv.add(
            "attachments",
            format!("附件为 http(s) 链接，每行一个，最多 {MAX_LINKS} 个"),
        );
    }
}

impl Desk {
    /// The ticket types (the defaults until a supervisor edits one).
    pub fn ticket_types(&self) -> Result<Vec<TicketType>> {
        Ok(self.store.read()?.ticket_types()?)
    }

    /// Adds or changes a ticket type.
    pub async fn save_ticket_type(&self, actor: &Actor, t: TicketType) -> Result<TicketType> {
        let t = TicketType {
            name: t.name.trim().to_string(),
            follow_up: t.follow_up.trim().to_string(),
            ..t
        };
        t.validate()?;
        let audit = self.audit(
            actor,
            "ticket_type.save",
            &t.name,
            format!("{} 小时", t.sla_hours),
        );
        self.store
            .write(move |tx| {
                let types = tx.ticket_types()?;
                if t.id != 0 && !types.iter().any(|x| x.id == t.id) {
                    return Err(store::Error::NotFound);
                }
                if types.iter().any(|x| x.id != t.id && x.name == t.name) {
                    return Err(store::Error::Conflict(format!("已有类型“{}”", t.name)));
                }
                if let Some(g) = t.group
                    && tx.get_group(g)?.is_none()
                {
                    return Err(store::Error::Conflict("没有这个技能组".into()));
                }
                tx.append_audit(&audit)?;
                tx.put_ticket_type(t.clone())
            })
            .await
            .map_err(conflict)
    }

    /// A new ticket's fields taken from conversation `conv`: its buyer's latest order
    /// and last messages. The group is left to the type (see `create_ticket`).
    pub fn ticket_prefill(&self, user: &User, conv: ConvId) -> Result<NewTicket> {
        let c = self.check_visible(user, conv)?;
        let r = self.store.read()?;
        let profile = self.buyer_profile(c.buyer)?;
        let msgs = r.messages_after(c.id, c.next_seq.saturating_sub(50), 50)?;
        let mut said: Vec<&str> = msgs
            .iter()
            .rev()
            .filter(|m| m.from == Sender::Buyer)
            .take(PREFILL_MESSAGES)
            .map(|m| m.text.as_str())
            .collect();
        said.reverse();
        // The order the buyer named, else their latest.
        let norm = crate::bot::normalize::normalize(&said.join(" "));
        let order = crate::bot::compose::named_orders(&norm, &profile.orders)
            .first()
            .copied()
            .or(profile.orders.first());
        Ok(NewTicket {
            kind: 0,
            priority: 1,
            conv: Some(c.id),
            order_id: order.map(|o| o.order_id.clone()).unwrap_or_default(),
            description: if said.is_empty() {
                String::new()
            } else {
                format!("买家说：{}", said.join(" / "))
            },
            attachments: Vec::new(),
            group: None,
            assignee: Some(user.id),
        })
    }

    /// Creates a ticket, due after its type's service time.
    pub async fn create_ticket(&self, user: &User, n: NewTicket) -> Result<Ticket> {
        let mut inv = Invalid::default();
        check_fields(&n, &mut inv);
        let r = self.store.read()?;
        let kind = r
            .ticket_types()?
            .into_iter()
            .find(|t| t.id == n.kind && t.enabled);
        if kind.is_none() {
            inv.add("kind", "请选择工单类型");
        }
        check_people(&r, n.group, n.assignee, &mut inv)?;
        let from = match n.conv {
            Some(c) => Some(self.check_visible(user, c)?),
            None => None,
        };
        let buyer = from.as_ref().map(|c| c.buyer);
        // No group chosen: the type's (退款退货 → 售后组), else the conversation's.
        let group = n
            .group
            .or(kind.as_ref().and_then(|k| k.group))
            .or(from.and_then(|c| c.group));
        inv.into_result()?;
        drop(r);
        let sla = kind.map(|k| k.sla_hours).unwrap_or(24);
        let now = self.clock.now();
        let t = Ticket {
            id: 0,
            kind: n.kind,
            status: TicketStatus::New,
            priority: n.priority,
            buyer,
            conv: n.conv,
            order_id: n.order_id.trim().to_string(),
            description: n.description.trim().to_string(),
            attachments: n.attachments,
            group,
            assignee: n.assignee,
            due_at: now + Duration::hours(i64::from(sla)),
            created_at: now,
            updated_at: now,
            created_by: Some(user.id),
            resolved_at: None,
            followed_up_at: None,
            comments: Vec::new(),
            history: vec![TicketChange {
                at: now,
                by_name: user.nickname.clone(),
                what: "创建工单".into(),
            }],
        };
        Ok(self.store.write(move |tx| tx.put_ticket(t.clone())).await?)
    }

    /// Tickets `filter` keeps, overdue first, then by due time.
    pub fn tickets(&self, user: &User, filter: &TicketFilter) -> Result<Vec<Ticket>> {
        // A filter value no link makes would quietly show nothing: say so.
        let mut inv = Invalid::default();
        let status = filter.status.as_str();
        if !matches!(status, "" | "open") && !TicketStatus::ALL.iter().any(|s| s.as_str() == status)
        {
            inv.add("status", "工单状态选择有误");
        }
        if !filter.kind.is_empty() && filter.kind.parse::<u64>().is_err() {
            inv.add("kind", "工单类型选择有误");
        }
        let r = self.store.read()?;
        let assignee = match filter.assignee.as_str() {
            "" => None,
            "me" => Some(Some(user.id)),
            "none" => Some(None),
            id => match id.parse().map(UserId) {
                Ok(id) if r.get_user(id)?.is_some() => Some(Some(id)),
                _ => {
                    inv.add("assignee", "处理人选择有误");
                    None
                }
            },
        };
        let group = match filter.group.as_str() {
            "" => None,
            "none" => Some(None),
            id => match id.parse().map(GroupId) {
                Ok(id) if r.get_group(id)?.is_some() => Some(Some(id)),
                _ => {
                    inv.add("group", "技能组选择有误");
                    None
                }
            },
        };
        if !matches!(filter.overdue.as_str(), "" | "1" | "0") {
            inv.add("overdue", "超时筛选有误");
        }
        inv.into_result()?;
        let now = self.clock.now();
        let mut all: Vec<Ticket> = r
            .list_tickets()?
            .into_iter()
            .filter(|t| match filter.status.as_str() {
                "" => true,
                "open" => t.status.is_open(),
                s => t.status.as_str() == s,
            })
            .filter(|t| filter.kind.is_empty() || filter.kind == t.kind.to_string())
            .filter(|t| assignee.is_none_or(|a| t.assignee == a))
            .filter(|t| group.is_none_or(|g| t.group == g))
            .filter(|t| filter.overdue != "1" || t.overdue(now))
            .collect();
        all.sort_by_key(|t| {
            (
                !t.overdue(now),
                !t.status.is_open(),
                std::cmp::Reverse(t.priority),
                t.due_at,
                t.id,
            )
        });
        Ok(all)
    }

    /// One ticket.
    pub fn ticket(&self, id: u64) -> Result<Ticket> {
        self.store.read()?.get_ticket(id)?.ok_or(Error::NotFound)
    }

    /// Changes a ticket's status, priority, group or assignee, with a history line per
    /// change. Resolving it sends the buyer the type's follow-up message (once).
    pub async fn update_ticket(&self, user: &User, id: u64, u: TicketUpdate) -> Result<Ticket> {
        let mut inv = Invalid::default();
        if let Some(p) = u.priority
            && !PRIORITIES.iter().any(|(n, _)| *n == p)
        {
            inv.add("priority", "请选择优先级");
        }
        check_people(
            &self.store.read()?,
            u.group.flatten(),
            u.assignee.flatten(),
            &mut inv,
        )?;
        if let Some(d) = &u.details {
            check_details(&d.description, &d.order_id, &d.attachments, &mut inv);
        }
        inv.into_result()?;
        let settings = self.settings()?;
        let (now, name) = (self.clock.now(), user.nickname.clone());
        let (t, events, deliveries) = self
            .store
            .write(move |tx| {
                let mut t = tx.get_ticket(id)?.ok_or(store::Error::NotFound)?;
                let mut c = Changes::new(tx, now);
                let mut log: Vec<String> = Vec::new();
                if let Some(p) = u.priority.filter(|p| *p != t.priority) {
                    log.push(format!("优先级改为{}", priority_label(p)));
                    t.priority = p;
                }
                if let Some(g) = u.group.filter(|g| *g != t.group) {
                    let label = match g {
                        Some(g) => tx.get_group(g)?.map(|g| g.name).unwrap_or_default(),
                        None => "无".into(),
                    };
                    log.push(format!("技能组改为{label}"));
                    t.group = g;
                }
                if let Some(a) = u.assignee.filter(|a| *a != t.assignee) {
                    let label = match a {
                        Some(a) => tx.get_user(a)?.map(|u| u.nickname).unwrap_or_default(),
                        None => "无".into(),
                    };
                    log.push(format!("处理人改为{label}"));
                    t.assignee = a;
                }
                if let Some(d) = &u.details {
                    let description = d.description.trim();
                    if description != t.description {
                        log.push("修改了问题描述".into());
                        t.description = description.to_string();
                    }
                    let order_id = d.order_id.trim();
                    if order_id != t.order_id {
                        log.push(if order_id.is_empty() {
                            "删除了订单号".into()
                        } else {
                            format!("订单号改为{order_id}")
                        });
                        t.order_id = order_id.to_string();
                    }
                    if d.attachments != t.attachments {
                        log.push(format!("附件改为 {} 个", d.attachments.len()));
                        t.attachments = d.attachments.clone();
                    }
                }
                if let Some(s) = u.status.filter(|s| *s != t.status) {
                    if !t.status.may_become(s) {
                        return Err(store::Error::Conflict(format!(
                            "工单当前为“{}”，不能改为“{}”",
                            t.status.label(),
                            s.label()
                        )));
                    }
                    log.push(format!("状态：{} → {}", t.status.label(), s.label()));
                    t.status = s;
                    if s == TicketStatus::Resolved {
                        t.resolved_at = Some(now);
                        if t.followed_up_at.is_none() && follow_up(tx, &mut c, &t, &settings)? {
                            t.followed_up_at = Some(now);
                            log.push("已主动告知买家处理结果".into());
                        }
                    }
                }
                t.history.extend(log.into_iter().map(|what| TicketChange {
                    at: now,
                    by_name: name.clone(),
                    what,
                }));
                t.updated_at = now;
                let t = tx.put_ticket(t)?;
                let queued = c.queued;
                Ok((t, c.events, queued))
            })
            .await
            .map_err(conflict)?;
        self.publish(&events, deliveries);
        Ok(t)
    }

    /// Adds a comment.
    pub async fn comment_ticket(&self, user: &User, id: u64, text: &str) -> Result<Ticket> {
        let text = text.trim().to_string();
        let n = text.chars().count();
        if n == 0 || n > MAX_TEXT {
            let mut inv = Invalid::default();
            inv.add("text", format!("备注为 1–{MAX_TEXT} 个字"));
            return Err(inv.into());
        }
        let c = TicketComment {
            at: self.clock.now(),
            by: Some(user.id),
            by_name: user.nickname.clone(),
            text,
        };
        self.store
            .write(move |tx| {
                let mut t = tx.get_ticket(id)?.ok_or(store::Error::NotFound)?;
                t.comments.push(c.clone());
                t.updated_at = c.at;
                tx.put_ticket(t)
            })
            .await
            .map_err(conflict)
    }
}

/// A follow-up `template` with the ticket's number and order number filled in; without
/// an order number, "订单 {{订单号}} 已处理" says 您的订单已处理.
fn follow_up_text(template: &str, ticket: u64, order_id: &str) -> String {
    let text = if order_id.is_empty() {
        template
            .replace("订单 {{订单号}} ", "您的订单")
            .replace("订单{{订单号}}", "您的订单")
            .replace("{{订单号}}", "您的订单")
    } else {
        template.replace("{{订单号}}", order_id)
    };
    text.replace("{{工单号}}", &ticket.to_string())
}

/// Sends the buyer of `t` its type's follow-up message in the buyer's latest
/// conversation (the ticket's, unless the buyer has started another since: a closed
/// one is not where the buyer reads); false when there is no conversation or no text.
fn follow_up(
    tx: &WriteTx,
    c: &mut Changes,
    t: &Ticket,
    settings: &crate::model::ShopSettings,
) -> store::Result<bool> {
    let Some(conv_id) = t.conv else {
        return Ok(false);
    };
    let Some(kind) = tx.ticket_types()?.into_iter().find(|k| k.id == t.kind) else {
        return Ok(false);
    };
    if kind.follow_up.is_empty() {
        return Ok(false);
    }
    let Some(conv) = tx.get_conv(conv_id)? else {
        return Ok(false);
    };
    let mut conv = tx
        .convs_of_buyer(conv.buyer, 1)?
        .into_iter()
        .next()
        .unwrap_or(conv);
    let text = compose::fill(
        &follow_up_text(&kind.follow_up, t.id, &t.order_id),
        settings,
        None,
        &[],
    );
    c.say(&mut conv, Sender::Bot, &text, None, None)?;
    tx.put_conv(&conv)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::follow_up_text;

    #[test]
    fn a_follow_up_without_an_order_number_speaks_of_the_buyers_order() {
        let default = "亲，订单 {{订单号}} 已处理（工单 {{工单号}}）";
        assert_eq!(
            follow_up_text(default, 7, "TB001"),
            "亲，订单 TB001 已处理（工单 7）"
        );
        assert_eq!(
            follow_up_text(default, 7, ""),
            "亲，您的订单已处理（工单 7）"
        );
        assert_eq!(
            follow_up_text("亲，订单{{订单号}}的发票已经补开好啦", 7, ""),
            "亲，您的订单的发票已经补开好啦"
        );
    }
}
