//! 对话: the agent workspace. Left, my conversations and the queue (others' too for
//! supervisors); centre, the open conversation with its whole history and the reply box
//! with quick replies; right, smart-assist answers and the buyer (profile, tags, notes,
//! orders, previous conversations). Every action is a plain form post; `desk.js` adds
//! live updates over SSE, Enter to send and one-click answers.

use super::extract::{CsrfForm, Require, Staff};
use super::live;
use super::page::{PageCtx, render};
use crate::AppState;
use crate::bot::Assist;
use crate::desk::agents::Target;
use crate::desk::workspace::{ConvDetail, ConvRow, Lists};
use crate::desk::{Actor, crm::BuyerProfile};
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::{
    BuyerId, ConvId, ConvState, Event, EventKind, Group, GroupId, Message, QuickReply, Role,
    Sender, User, UserId,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// A conversation in the lists, ready to show.
pub struct RowView {
    pub id: u64,
    pub buyer: String,
    pub vip: u8,
    /// Handed over for a complaint (served first among its level).
    pub urgent: bool,
    pub unread: usize,
    pub waiting: String,
    pub last_text: String,
    pub agent: String,
    pub active: bool,
}

/// A message, ready to show.
pub struct MsgView {
    pub seq: u64,
    /// `buyer`, `bot`, `agent` or `system` (the CSS class).
    pub kind: &'static str,
    pub who: String,
    pub time: String,
    pub text: String,
    /// For bot messages: band and entry (`exact · ship-time`).
    pub note: String,
}

/// The workspace lists fragment.
#[derive(Template)]
#[template(path = "desk/lists.html")]
pub struct ListsFrag {
    pub mine: Vec<RowView>,
    pub queue: Vec<RowView>,
    pub others: Vec<RowView>,
    pub supervisor: bool,
    /// For the queue's 接入 buttons.
    pub csrf: String,
}

/// Messages fragment (the live tail of a conversation).
#[derive(Template)]
#[template(path = "desk/messages.html")]
pub struct MessagesFrag {
    pub messages: Vec<MsgView>,
}

/// Smart-assist fragment.
#[derive(Template)]
#[template(path = "desk/assist.html")]
pub struct AssistFrag {
    pub assist: Vec<Assist>,
    pub assist_for: Option<String>,
}

/// The open conversation's header, actions and buyer.
pub struct Open {
    pub id: u64,
    pub state: ConvState,
    pub buyer: String,
    pub channel: String,
    pub group: String,
    pub agent: String,
    pub reason: String,
    pub product: String,
    pub mine: bool,
    pub oversee: bool,
    pub can_reply: bool,
    pub can_take: bool,
    pub invited: bool,
    pub rating: String,
    pub last_seq: u64,
    pub profile: BuyerProfile,
    pub orders: Vec<OrderView>,
    pub previous: Vec<PrevView>,
    pub tags: String,
}

pub struct OrderView {
    pub order_id: String,
    pub status: String,
    pub amount: String,
    pub logistics: String,
    pub items: String,
}

pub struct PrevView {
    pub id: u64,
    pub when: String,
    pub state: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk/workspace.html")]
pub struct WorkspacePage {
    pub ctx: PageCtx,
    /// The fragments, rendered (the page and the live updates share them).
    pub lists_html: String,
    pub messages_html: String,
    pub assist_html: String,
    pub open: Option<Open>,
    pub quick: Vec<QuickReply>,
    pub agents: Vec<(UserId, String)>,
    pub groups: Vec<Group>,
    /// The user is a member of a skill group (or the shop has none), so buyers are
    /// assigned to them.
    pub in_group: bool,
}

pub fn ago(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(since) = since else {
        return String::new();
    };
    let s = (now - since).num_seconds().max(0);
    match s {
        0..=59 => format!("{s}秒"),
        60..=3599 => format!("{}分{}秒", s / 60, s % 60),
        _ => format!("{}小时{}分", s / 3600, s % 3600 / 60),
    }
}

fn row(r: ConvRow, now: DateTime<Utc>, open: Option<u64>) -> RowView {
    RowView {
        id: r.conv.id.0,
        buyer: buyer_name(&r.buyer),
        vip: r.buyer.member_level,
        urgent: r.conv.urgent,
        unread: r.unread,
        waiting: ago(r.waiting_since, now),
        last_text: r.last_text.chars().take(40).collect(),
        agent: r.agent_name.unwrap_or_default(),
        active: open == Some(r.conv.id.0),
    }
}

/// How the console names a buyer: their nickname, else the platform's id for them
/// (`tb-8812`, which the agent can look up there), else 买家N (the web chat's ids are
/// secret).
pub fn buyer_name(b: &crate::model::Buyer) -> String {
    if !b.nickname.is_empty() {
        b.nickname.clone()
    } else if b.channel != crate::model::conv::WEB_CHANNEL && !b.external_id.is_empty() {
        b.external_id.clone()
    } else {
        format!("买家{}", b.id.0)
    }
}

fn lists_frag(
    state: &AppState,
    user: &User,
    csrf: &str,
    open: Option<u64>,
) -> Result<ListsFrag, AppError> {
    let Lists {
        mine,
        queue,
        others,
    } = state.desk.workspace(user)?;
    let now = state.desk.clock().now();
    let view = |v: Vec<ConvRow>| v.into_iter().map(|r| row(r, now, open)).collect();
    Ok(ListsFrag {
        mine: view(mine),
        queue: view(queue),
        others: view(others),
        supervisor: matches!(user.role, Role::Owner | Role::Supervisor),
        csrf: csrf.to_string(),
    })
}

pub fn msg_view(m: Message, tz: Tz) -> MsgView {
    let (kind, who) = match &m.from {
        Sender::Buyer => ("buyer", "买家".to_string()),
        Sender::Bot => ("bot", "机器人".to_string()),
        Sender::Agent { name, .. } => ("agent", name.clone()),
        Sender::System => ("system", "系统".to_string()),
    };
    let note = m
        .bot
        .as_ref()
        .map(|b| {
            let band = match b.band.as_str() {
                "exact" => "直接回答",
                "guided" => "引导选择",
                "unknown" => "导入的记录",
                _ => "未匹配",
            };
            match (&b.intent, &b.entry) {
                // An intent's reply is no KB match, found or missed: just the intent.
                (Some(i), _) => {
                    let i = crate::bot::Intent::parse(i).map_or(i.as_str(), |i| i.label());
                    format!("意图 · {i}")
                }
                (None, Some(e)) => format!("{band} · {e}"),
                (None, None) => band.to_string(),
            }
        })
        .unwrap_or_default();
    MsgView {
        seq: m.seq,
        kind,
        who,
        time: local_label(m.at, tz),
        text: m.text,
        note,
    }
}

fn open_view(d: &ConvDetail, tz: Tz) -> Open {
    let c = &d.conv;
    let b = &d.profile.buyer;
    Open {
        id: c.id.0,
        state: c.state,
        buyer: buyer_name(b),
        channel: c.channel.clone(),
        group: d.group_name.clone().unwrap_or_default(),
        agent: d.agent_name.clone().unwrap_or_default(),
        reason: c.transfer_reason.clone().unwrap_or_default(),
        product: c.product.clone().unwrap_or_default(),
        mine: d.mine,
        oversee: d.oversee,
        can_reply: d.can_reply,
        can_take: d.can_take,
        invited: c.invited_at.is_some(),
        rating: c
            .rating
            .as_ref()
            .map(|r| {
                let label = crate::model::conv::RATING_LEVELS
                    .iter()
                    .find(|(l, _)| *l == r.level)
                    .map(|(_, s)| *s)
                    .unwrap_or_default();
                if r.reasons.is_empty() {
                    label.to_string()
                } else {
                    format!("{label}（{}）", r.reasons.join("、"))
                }
            })
            .unwrap_or_default(),
        last_seq: d.messages.last().map(|m| m.seq).unwrap_or(0),
        orders: d
            .profile
            .orders
            .iter()
            .map(|o| OrderView {
                order_id: o.order_id.clone(),
                status: o.status_label().to_string(),
                amount: o.amount.map(|p| format!("¥{p}")).unwrap_or_default(),
                logistics: o.logistics.clone().unwrap_or_default(),
                items: o
                    .items
                    .iter()
                    .map(|i| format!("{}×{}", i.name, i.qty))
                    .collect::<Vec<_>>()
                    .join("，"),
            })
            .collect(),
        previous: d
            .profile
            .conversations
            .iter()
            .filter(|p| p.id != c.id)
            .map(|p| PrevView {
                id: p.id.0,
                when: local_label(p.created_at, tz),
                state: p.state.label(),
            })
            .collect(),
        tags: b.tags.join(" "),
        profile: d.profile.clone(),
    }
}

fn page(
    state: &AppState,
    ctx: PageCtx,
    user: &User,
    conv: Option<ConvId>,
) -> Result<WorkspacePage, AppError> {
    let desk = &state.desk;
    let tz = desk.settings()?.tz();
    let detail = conv.map(|id| desk.conv_detail(user, id)).transpose()?;
    let lists = lists_frag(state, user, &ctx.csrf, conv.map(|c| c.0))?;
    // A conversation goes straight only to a colleague who is online (the desk refuses
    // the others); groups queue it for whoever comes.
    let states = desk.agent_states()?;
    let online = |id: &UserId| states.get(id) == Some(&crate::model::AgentState::Online);
    let mut agents: Vec<(UserId, String)> = desk
        .list_users()?
        .into_iter()
        .filter(|u| !u.disabled && u.id != user.id && u.role != Role::Trainer && online(&u.id))
        .map(|u| (u.id, u.nickname))
        .collect();
    agents.sort();
    let quick = desk.quick_replies_for(user, detail.as_ref())?;
    let (open, messages, assist) = match detail {
        Some(d) => {
            let open = open_view(&d, tz);
            let messages = MessagesFrag {
                messages: d.messages.into_iter().map(|m| msg_view(m, tz)).collect(),
            };
            let assist = AssistFrag {
                assist: d.assist,
                assist_for: d.assist_for,
            };
            (Some(open), messages.render()?, assist.render()?)
        }
        None => (None, String::new(), String::new()),
    };
    let groups = desk.groups()?;
    Ok(WorkspacePage {
        ctx,
        lists_html: lists.render()?,
        messages_html: messages,
        assist_html: assist,
        open,
        quick,
        agents,
        in_group: groups.is_empty() || groups.iter().any(|g| g.members.contains(&user.id)),
        groups,
    })
}

/// GET /desk
pub async fn home(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
) -> Result<WorkspacePage, AppError> {
    page(&state, ctx, &me.user, None)
}

/// GET /desk/c/{id}
pub async fn conversation(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    id: web::Path<u64>,
) -> Result<WorkspacePage, AppError> {
    page(&state, ctx, &me.user, Some(ConvId(id.into_inner())))
}

#[derive(Debug, Deserialize)]
pub struct ListsQuery {
    pub c: Option<u64>,
}

/// GET /desk/lists — the lists fragment (live refresh).
pub async fn lists(
    state: web::Data<AppState>,
    me: Require<Staff>,
    q: web::Query<ListsQuery>,
) -> Result<HttpResponse, AppError> {
    fragment(&lists_frag(&state, &me.user, &me.session.csrf, q.c)?)
}

#[derive(Debug, Deserialize)]
pub struct AfterQuery {
    #[serde(default)]
    pub after: u64,
}

/// GET /desk/c/{id}/messages?after=SEQ — the messages fragment after `SEQ`.
pub async fn messages(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    q: web::Query<AfterQuery>,
) -> Result<HttpResponse, AppError> {
    let tz = state.desk.settings()?.tz();
    let msgs = state
        .desk
        .conv_messages(&me.user, ConvId(id.into_inner()), q.after)?;
    fragment(&MessagesFrag {
        messages: msgs.into_iter().map(|m| msg_view(m, tz)).collect(),
    })
}

/// GET /desk/c/{id}/assist — smart-assist answers for the buyer's latest message.
pub async fn assist(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
) -> Result<HttpResponse, AppError> {
    let d = state.desk.conv_detail(&me.user, ConvId(id.into_inner()))?;
    fragment(&AssistFrag {
        assist: d.assist,
        assist_for: d.assist_for,
    })
}

pub fn fragment(t: &impl Template) -> Result<HttpResponse, AppError> {
    let mut r = render(StatusCode::OK, t)?;
    r.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// GET /desk/events — SSE: `{conv, kind}` for each event of a conversation the user
/// may see; the page then fetches what changed.
pub async fn events(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: Require<Staff>,
) -> Result<HttpResponse, AppError> {
    let after = live::last_seen(&req, &state)?;
    let user = me.user.clone();
    Ok(live::stream(
        state.into_inner().into(),
        after,
        move |st, e| console_frame(st, &user, e),
    ))
}

fn console_frame(st: &AppState, user: &User, e: &Event) -> Option<live::Frame> {
    if !st.desk.can_see(user, e.conv).ok()? {
        return None;
    }
    let (kind, from) = match &e.kind {
        EventKind::Message { from, .. } => ("message", from.as_str()),
        EventKind::State { .. } => ("state", ""),
        EventKind::Assigned { .. } => ("assigned", ""),
        EventKind::Invited => ("invited", ""),
        EventKind::Rated { .. } => ("rated", ""),
        EventKind::Alert {
            rule,
            agent,
            detail,
        } => {
            // Red lines reach supervisors and the owner at once.
            if !matches!(user.role, Role::Owner | Role::Supervisor) {
                return None;
            }
            return Some((
                "alert",
                serde_json::json!({ "conv": e.conv.0, "rule": rule, "agent": agent, "detail": detail }),
            ));
        }
    };
    Some((
        "change",
        serde_json::json!({ "conv": e.conv.0, "kind": kind, "from": from }),
    ))
}

/// Where an action returns to: the conversation.
fn back(id: u64) -> HttpResponse {
    redirect(&format!("/desk/c/{id}"))
}

/// The one-click actions on a conversation.
enum Act {
    Take,
    TakeOver,
    Release,
    Close,
    Invite,
}

/// Runs `what` on conversation `id` for `user` (403 when it is not theirs to see) and
/// returns to the conversation.
async fn act(state: &AppState, user: &User, id: u64, what: Act) -> Result<HttpResponse, AppError> {
    let (desk, conv) = (&state.desk, ConvId(id));
    desk.check_visible(user, conv)?;
    match what {
        Act::Take => desk.claim(user, conv).await.map(drop),
        Act::TakeOver => desk.take_over(user, conv).await.map(drop),
        Act::Release => desk.release(user, conv).await,
        Act::Close => desk.close(user, conv).await,
        Act::Invite => desk.invite_rating(user, conv).await,
    }?;
    Ok(back(id))
}

/// POST /desk/c/{id}/take — 接入.
pub async fn take(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(&state, &me.user, id.into_inner(), Act::Take).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    pub text: String,
}

/// POST /desk/c/{id}/send — a reply to the buyer.
pub async fn send(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<SendForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    state.desk.check_visible(&me.user, ConvId(id))?;
    state.desk.agent_send(&me.user, ConvId(id), &f.text).await?;
    Ok(back(id))
}

/// POST /desk/c/{id}/contact — 主动联系: write to the buyer of this (ended)
/// conversation first, in a new conversation the writer serves.
pub async fn contact(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<SendForm>,
) -> Result<HttpResponse, AppError> {
    let conv = state
        .desk
        .check_visible(&me.user, ConvId(id.into_inner()))?;
    let started = state
        .desk
        .start_conversation(&me.user, conv.buyer, &f.text)
        .await?;
    Ok(back(started.0))
}

/// POST /desk/c/{id}/takeover — a supervisor takes it over (接管).
pub async fn take_over(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(&state, &me.user, id.into_inner(), Act::TakeOver).await
}

/// POST /desk/c/{id}/release — back to the bot.
pub async fn release(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(&state, &me.user, id.into_inner(), Act::Release).await
}

/// POST /desk/c/{id}/close — end it (the buyer is invited to rate).
pub async fn close(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(&state, &me.user, id.into_inner(), Act::Close).await
}

/// POST /desk/c/{id}/invite — invite the buyer to rate now.
pub async fn invite(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(&state, &me.user, id.into_inner(), Act::Invite).await
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    /// `agent:ID` or `group:ID`.
    pub to: String,
    #[serde(default)]
    pub note: String,
}

/// POST /desk/c/{id}/transfer — to another agent or a group, with a note.
pub async fn transfer(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<TransferForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    state.desk.check_visible(&me.user, ConvId(id))?;
    let bad = || AppError::BadRequest("请选择要转给的客服或技能组".into());
    let (kind, n) = f.to.split_once(':').ok_or_else(bad)?;
    let n: u64 = n.parse().map_err(|_| bad())?;
    let target = match kind {
        "agent" => Target::Agent(UserId(n)),
        "group" => Target::Group(GroupId(n)),
        _ => return Err(bad()),
    };
    if f.note.chars().count() > 200 {
        return Err(AppError::BadRequest("转交备注最多 200 个字".into()));
    }
    state
        .desk
        .transfer_to(&me.user, ConvId(id), target, &f.note)
        .await
        .map_err(|e| match e {
            crate::desk::Error::NotFound => AppError::Missing(match target {
                Target::Agent(_) => "要转给的客服",
                Target::Group(_) => "要转给的技能组",
            }),
            other => other.into(),
        })?;
    // The conversation may no longer be this user's to see: back to the workspace,
    // which says it went.
    Ok(redirect("/desk?done=transferred"))
}

#[derive(Debug, Deserialize)]
pub struct BuyerForm {
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub notes: String,
    /// The conversation to return to.
    pub conv: u64,
}

/// POST /desk/buyers/{id} — the buyer's tags and notes.
pub async fn save_buyer(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(f): CsrfForm<BuyerForm>,
) -> Result<HttpResponse, AppError> {
    let buyer = BuyerId(id.into_inner());
    // The buyer of a conversation the user may see (without working out its assist).
    let conv = state.desk.check_visible(&me.user, ConvId(f.conv))?;
    if conv.buyer != buyer {
        return Err(AppError::Forbidden);
    }
    let tags = f
        .tags
        .split([' ', ',', '，', '、'])
        .map(str::to_string)
        .collect();
    state
        .desk
        .save_buyer_notes(&Actor::user(&me.user), buyer, tags, &f.notes)
        .await?;
    Ok(back(f.conv))
}

/// The quick replies page.
#[derive(Template, WebTemplate)]
#[template(path = "desk/quick.html")]
pub struct QuickPage {
    pub ctx: PageCtx,
    pub quick: Vec<QuickReply>,
    pub supervisor: bool,
    /// Why the new reply was not saved, with what was typed (shown again).
    pub error: Option<String>,
    pub typed: Option<QuickForm>,
}

/// GET /desk/quick
pub async fn quick(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
) -> Result<QuickPage, AppError> {
    Ok(QuickPage {
        ctx,
        quick: state.desk.quick_replies(&me.user)?,
        supervisor: matches!(me.user.role, Role::Owner | Role::Supervisor),
        error: None,
        typed: None,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuickForm {
    #[serde(default)]
    pub id: u64,
    pub key: String,
    pub text: String,
    /// `team` for a team reply.
    #[serde(default)]
    pub scope: String,
}

/// POST /desk/quick — add or change a quick reply.
pub async fn save_quick(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    CsrfForm(f): CsrfForm<QuickForm>,
) -> Result<HttpResponse, AppError> {
    let saved = state
        .desk
        .save_quick_reply(&me.user, f.id, f.scope == "team", &f.key, &f.text)
        .await;
    match saved.map_err(AppError::from) {
        Ok(_) => Ok(redirect("/desk/quick?done=saved")),
        // A key in use or a bad field: the page again, with why and what was typed.
        Err(e @ (AppError::Conflict(_) | AppError::BadRequest(_))) => {
            let page = QuickPage {
                ctx,
                quick: state.desk.quick_replies(&me.user)?,
                supervisor: matches!(me.user.role, Role::Owner | Role::Supervisor),
                error: Some(e.to_string()),
                typed: Some(f),
            };
            render(actix_web::ResponseError::status_code(&e), &page)
        }
        Err(e) => Err(e),
    }
}

/// POST /desk/quick/{id}/delete
pub async fn delete_quick(
    state: web::Data<AppState>,
    me: Require<Staff>,
    id: web::Path<u64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    state
        .desk
        .delete_quick_reply(&me.user, id.into_inner())
        .await?;
    Ok(redirect("/desk/quick?done=deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BotMeta, ConvId};

    #[test]
    fn a_bots_reply_to_an_intent_is_labelled_by_the_intent_alone() {
        let meta = |band: &str, intent: Option<&str>, entry: Option<&str>| BotMeta {
            band: band.into(),
            entry: entry.map(String::from),
            intent: intent.map(String::from),
            ..BotMeta::default()
        };
        let msg = |bot| Message {
            conv: ConvId(1),
            seq: 1,
            at: Utc::now(),
            from: Sender::Bot,
            text: "感谢您的支持".into(),
            client_msg_id: None,
            bot: Some(bot),
        };
        let tz = chrono_tz::Asia::Shanghai;
        let note = |b| msg_view(msg(b), tz).note;
        assert_eq!(
            note(meta("none", Some("positive"), None)),
            "意图 · 致谢好评"
        );
        assert_eq!(
            note(meta("exact", None, Some("ship-free"))),
            "直接回答 · ship-free"
        );
        assert_eq!(note(meta("none", None, None)), "未匹配");
    }
}
