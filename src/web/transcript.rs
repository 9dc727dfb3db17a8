//! 会话记录: one conversation's whole record, read-only, with an anchor per message
//! (`#m{seq}`), for everyone who may see it: agents (their groups), supervisors and the
//! owner, and trainers, who learn from conversations without serving them. The
//! training queue, answer marks and history search link here.

use super::extract::{AnyUser, Require};
use super::page::PageCtx;
use super::workspace::{MsgView, buyer_name, msg_view};
use crate::AppState;
use crate::error::AppError;
use crate::model::settings::local_label;
use crate::model::{ConvId, ConvState, Role};
use crate::store::prelude::*;
use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "transcript.html")]
pub struct TranscriptPage {
    pub ctx: PageCtx,
    pub id: u64,
    pub buyer: String,
    pub channel: String,
    pub state: &'static str,
    pub started: String,
    pub agent: String,
    /// When and how it ended ("11-22 15:02 · 主管老王 强制结束").
    pub ended: Option<String>,
    pub messages: Vec<MsgView>,
    /// Staff may open it in the workspace to act on it.
    pub staff: bool,
    /// What quality inspection found (shown to supervisors and the owner), with the
    /// agent's nickname.
    pub findings: Vec<(crate::model::Finding, String)>,
}

/// GET /conversations/{id}
pub async fn page(
    state: web::Data<AppState>,
    me: Require<AnyUser>,
    ctx: PageCtx,
    id: web::Path<u64>,
) -> Result<TranscriptPage, AppError> {
    let (conv, msgs) = state.desk.transcript(&me.user, ConvId(id.into_inner()))?;
    let tz = state.desk.settings()?.tz();
    let buyer = state
        .desk
        .store()
        .read()?
        .get_buyer(conv.buyer)?
        .map(|b| buyer_name(&b))
        .unwrap_or_default();
    let names = state.desk.user_names()?;
    Ok(TranscriptPage {
        ctx,
        id: conv.id.0,
        buyer,
        channel: conv.channel.clone(),
        state: conv.state.label(),
        started: local_label(conv.created_at, tz),
        agent: conv
            .agent
            .or(conv.last_agent)
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_default(),
        ended: conv
            .closed_at
            .filter(|_| conv.state == ConvState::Closed)
            .map(|at| {
                let how = conv.closed_by.as_deref().unwrap_or("已结束");
                format!("{} · {how}", local_label(at, tz))
            }),
        messages: msgs.into_iter().map(|m| msg_view(m, tz)).collect(),
        staff: me.user.role != Role::Trainer,
        findings: if matches!(me.user.role, Role::Owner | Role::Supervisor) {
            let nick = state.desk.nicknames_by_login()?;
            let found = state.desk.store().read()?.findings_of(conv.id)?;
            found
                .into_iter()
                .map(|f| {
                    let who = f.agent.as_deref().map(|a| super::qa::shown(&nick, a));
                    (f, who.unwrap_or_default())
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}
