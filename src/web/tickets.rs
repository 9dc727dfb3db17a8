//! 工单: the ticket list (filters, overdue first and highlighted), a new ticket (often
//! from a conversation, prefilled), one ticket (status, priority, group, assignee,
//! comments, history), and the ticket types with their service times and follow-up
//! messages (supervisors).

use super::extract::{CsrfForm, Require, Staff, Supervisors};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::desk::tickets::{NewTicket, TicketDetails, TicketFilter, TicketUpdate};
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::ticket::{PRIORITIES, priority_label};
use crate::model::{
    ConvId, Group, GroupId, Invalid, Role, Ticket, TicketStatus, TicketType, UserId,
};
use crate::store::prelude::*;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::HashMap;

/// A ticket, ready to show.
pub struct TicketView {
    pub t: Ticket,
    pub kind: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub priority: &'static str,
    pub assignee: String,
    pub group: String,
    /// The buyer's nickname (or 买家N).
    pub buyer: String,
    pub due: String,
    pub overdue: bool,
    pub created: String,
    /// Comments and history with local times.
    pub comments: Vec<(String, String, String)>,
    pub history: Vec<(String, String, String)>,
}

struct Names {
    users: HashMap<UserId, String>,
    groups: Vec<Group>,
    types: Vec<TicketType>,
    tz: Tz,
    read: crate::store::ReadTx,
}

impl Names {
    fn load(state: &AppState) -> Result<Names, AppError> {
        Ok(Names {
            users: state.desk.user_names()?,
            groups: state.desk.groups()?,
            types: state.desk.ticket_types()?,
            tz: state.desk.settings()?.tz(),
            read: state.desk.store().read()?,
        })
    }

    fn view(&self, t: Ticket, now: chrono::DateTime<chrono::Utc>) -> TicketView {
        let tz = self.tz;
        TicketView {
            kind: self
                .types
                .iter()
                .find(|k| k.id == t.kind)
                .map(|k| k.name.clone())
                .unwrap_or_default(),
            status: t.status.as_str(),
            status_label: t.status.label(),
            priority: priority_label(t.priority),
            assignee: t
                .assignee
                .and_then(|a| self.users.get(&a).cloned())
                .unwrap_or_default(),
            group: t
                .group
                .and_then(|g| self.groups.iter().find(|x| x.id == g))
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            buyer: t
                .buyer
                .and_then(|b| self.read.get_buyer(b).ok().flatten())
                .map(|b| super::workspace::buyer_name(&b))
                .unwrap_or_default(),
            due: local_label(t.due_at, tz),
            overdue: t.overdue(now),
            created: local_label(t.created_at, tz),
            comments: t
                .comments
                .iter()
                .map(|c| (local_label(c.at, tz), c.by_name.clone(), c.text.clone()))
                .collect(),
            history: t
                .history
                .iter()
                .map(|h| (local_label(h.at, tz), h.by_name.clone(), h.what.clone()))
                .collect(),
            t,
        }
    }
}

/// Staff who may be given tickets: (id, nickname).
fn staff(state: &AppState) -> Result<Vec<(UserId, String)>, AppError> {
    Ok(state
        .desk
        .list_users()?
        .into_iter()
        .filter(|u| !u.disabled && u.role != Role::Trainer)
        .map(|u| (u.id, u.nickname))
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub tickets: Vec<TicketView>,
    pub filter: TicketFilter,
    pub types: Vec<TicketType>,
    pub statuses: [TicketStatus; 5],
    pub overdue_count: usize,
    pub supervisor: bool,
    pub staff: Vec<(UserId, String)>,
    pub groups: Vec<Group>,
}

/// GET /tickets
pub async fn list(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    filter: web::Query<TicketFilter>,
) -> Result<ListPage, AppError> {
    let filter = filter.into_inner();
    let names = Names::load(&state)?;
    let now = state.desk.clock().now();
    let tickets: Vec<TicketView> = state
        .desk
        .tickets(&me.user, &filter)?
        .into_iter()
        .map(|t| names.view(t, now))
        .collect();
    Ok(ListPage {
        ctx,
        overdue_count: tickets.iter().filter(|t| t.overdue).count(),
        tickets,
        filter,
        types: names.types,
        statuses: TicketStatus::ALL,
        supervisor: matches!(me.user.role, Role::Owner | Role::Supervisor),
        staff: staff(&state)?,
        groups: names.groups,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/new.html")]
pub struct NewPage {
    pub ctx: PageCtx,
    pub form: NewTicket,
    pub types: Vec<TicketType>,
    pub groups: Vec<Group>,
    pub staff: Vec<(UserId, String)>,
    pub priorities: [(u8, &'static str); 4],
    /// The chosen group's and assignee's ids (0 for none).
    pub selected_group: u64,
    pub selected_assignee: u64,
    /// What was wrong with a sent form, by field.
    pub errors: Invalid,
}

impl NewPage {
    /// The form page around `form`.
    fn of(
        state: &AppState,
        ctx: PageCtx,
        form: NewTicket,
        errors: Invalid,
    ) -> Result<NewPage, AppError> {
        Ok(NewPage {
            ctx,
            selected_group: form.group.map(|g| g.0).unwrap_or(0),
            selected_assignee: form.assignee.map(|a| a.0).unwrap_or(0),
            form,
            types: state
                .desk
                .ticket_types()?
                .into_iter()
                .filter(|t| t.enabled)
                .collect(),
            groups: state.desk.groups()?,
            staff: staff(state)?,
            priorities: PRIORITIES,
            errors,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    pub conv: Option<u64>,
}

/// GET /tickets/new?conv=ID — the form, prefilled from the conversation.
pub async fn new_form(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    q: web::Query<NewQuery>,
) -> Result<NewPage, AppError> {
    let form = match q.conv {
        Some(c) => state.desk.ticket_prefill(&me.user, ConvId(c))?,
        None => NewTicket {
            priority: 1,
            assignee: Some(me.user.id),
            ..NewTicket::default()
        },
    };
    NewPage::of(&state, ctx, form, Invalid::default())
}

fn id_or_none<T>(s: &str, f: impl Fn(u64) -> T) -> Result<Option<T>, AppError> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(|n| Some(f(n)))
            .map_err(|_| AppError::BadRequest("表单格式有误".into())),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub conv: String,
    #[serde(default)]
    pub order_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub attachments: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub assignee: String,
}

/// POST /tickets
pub async fn create(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    CsrfForm(f): CsrfForm<NewForm>,
) -> Result<HttpResponse, AppError> {
    let n = NewTicket {
        kind: id_or_none(&f.kind, |n| n)?.unwrap_or(0),
        priority: f.priority.trim().parse().unwrap_or(u8::MAX),
        conv: id_or_none(&f.conv, ConvId)?,
        order_id: f.order_id,
        description: f.description,
        attachments: links(&f.attachments),
        group: id_or_none(&f.group, GroupId)?,
        assignee: id_or_none(&f.assignee, UserId)?,
    };
    match state.desk.create_ticket(&me.user, n.clone()).await {
        Ok(t) => Ok(redirect(&format!("/tickets/{}?done=saved", t.id))),
        // The form comes back as filled in, with what to fix beside each field.
        Err(desk::Error::Invalid(errors)) => {
            let page = NewPage::of(&state, ctx, n, errors)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/show.html")]
pub struct ShowPage {
    pub ctx: PageCtx,
    pub v: TicketView,
    pub next: Vec<TicketStatus>,
    pub groups: Vec<Group>,
    pub staff: Vec<(UserId, String)>,
    pub priorities: [(u8, &'static str); 4],
    pub selected_group: u64,
    pub selected_assignee: u64,
    /// The 编辑 form: the ticket's text, or what was sent when it was refused.
    pub edit: DetailsForm,
    /// Why the sent edit was refused, by field (the form then shows open).
    pub errors: Invalid,
}

impl ShowPage {
    fn of(state: &AppState, ctx: PageCtx, id: u64) -> Result<ShowPage, AppError> {
        let t = state.desk.ticket(id)?;
        let names = Names::load(state)?;
        let next = TicketStatus::ALL
            .into_iter()
            .filter(|s| t.status.may_become(*s))
            .collect();
        Ok(ShowPage {
            ctx,
            selected_group: t.group.map(|g| g.0).unwrap_or(0),
            selected_assignee: t.assignee.map(|a| a.0).unwrap_or(0),
            edit: DetailsForm {
                description: t.description.clone(),
                order_id: t.order_id.clone(),
                attachments: t.attachments.join("\n"),
            },
            errors: Invalid::default(),
            v: names.view(t, state.desk.clock().now()),
            next,
            groups: names.groups,
            staff: staff(state)?,
            priorities: PRIORITIES,
        })
    }
}

/// GET /tickets/{id}
pub async fn show(
    state: web::Data<AppState>,
    _me: Require<Staff>,
    ctx: PageCtx,
    id: web::Path<u64>,
) -> Result<ShowPage, AppError> {
    ShowPage::of(&state, ctx, id.into_inner())
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub assignee: String,
}

/// POST /tickets/{id} — status, priority, group, assignee.
pub async fn update(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<UpdateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let bad = |what: &str| AppError::BadRequest(format!("{what}有误"));
    let u = TicketUpdate {
        status: match f.status.as_str() {
            "" => None,
            s => Some(TicketStatus::parse(s).ok_or_else(|| bad("状态"))?),
        },
        priority: match f.priority.as_str() {
            "" => None,
            p => Some(p.parse().map_err(|_| bad("优先级"))?),
        },
        group: Some(id_or_none(&f.group, GroupId)?),
        assignee: Some(id_or_none(&f.assignee, UserId)?),
        details: None,
    };
    state.desk.update_ticket(&me.user, id, u).await?;
    Ok(redirect(&format!("/tickets/{id}?done=saved")))
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub order_id: String,
    /// One link per line.
    #[serde(default)]
    pub attachments: String,
}

/// The links of a form field, one per line.
fn links(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// POST /tickets/{id}/details — what the ticket says, edited after creation. A refused
/// edit comes back as the page, with the form as sent and why beside each field.
pub async fn details(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<DetailsForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let u = TicketUpdate {
        details: Some(TicketDetails {
            description: f.description.clone(),
            order_id: f.order_id.clone(),
            attachments: links(&f.attachments),
        }),
        ..TicketUpdate::default()
    };
    match state.desk.update_ticket(&me.user, id, u).await {
        Ok(_) => Ok(redirect(&format!("/tickets/{id}?done=saved#edit"))),
        Err(desk::Error::Invalid(errors)) => {
            let mut page = ShowPage::of(&state, ctx, id)?;
            page.edit = f;
            page.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    pub text: String,
}

/// POST /tickets/{id}/comments
pub async fn comment(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    state.desk.comment_ticket(&me.user, id, &f.text).await?;
    Ok(redirect(&format!("/tickets/{id}?done=saved#comments")))
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/types.html")]
pub struct TypesPage {
    pub ctx: PageCtx,
    pub types: Vec<TicketType>,
    pub groups: Vec<Group>,
}

/// GET /tickets/types
pub async fn types(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
) -> Result<TypesPage, AppError> {
    Ok(TypesPage {
        ctx,
        types: state.desk.ticket_types()?,
        groups: state.desk.groups()?,
    })
}

#[derive(Debug, Deserialize)]
pub struct TypeForm {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub sla_hours: String,
    #[serde(default)]
    pub follow_up: String,
    /// Present when the box is ticked.
    #[serde(default)]
    pub enabled: Option<String>,
    /// A skill group id; empty for the conversation's group.
    #[serde(default)]
    pub group: String,
}

/// POST /tickets/types — add or change a type.
pub async fn save_type(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    CsrfForm(f): CsrfForm<TypeForm>,
) -> Result<HttpResponse, AppError> {
    let t = TicketType {
        id: f.id,
        name: f.name,
        sla_hours: f.sla_hours.trim().parse().unwrap_or(0),
        follow_up: f.follow_up,
        enabled: f.enabled.is_some(),
        group: id_or_none(&f.group, GroupId)?,
    };
    state
        .desk
        .save_ticket_type(&Actor::user(&me.user), t)
        .await?;
    Ok(redirect("/tickets/types?done=saved"))
}
