//! 监控大屏: the supervisor's live view of the queue per group, the agents and every
//! open conversation (filter by group, region, state). A row opens the conversation in
//! the workspace, where a supervisor may barge in, take over, force-close or reassign.

use super::extract::{Require, Supervisors};
use super::page::PageCtx;
use crate::AppState;
use crate::desk::monitor::{Filter, Monitor};
use crate::error::AppError;
use crate::model::{ConvState, Group, QaRule};
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};

/// A queue row, ready to show.
pub struct QueueView {
    pub name: String,
    pub queued: usize,
    pub longest: String,
    pub online: usize,
}

/// An agent row.
pub struct AgentView {
    pub name: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub load: u32,
    pub groups: String,
}

/// A conversation row.
pub struct ConvView {
    pub id: u64,
    pub buyer: String,
    pub channel: String,
    pub region: String,
    pub state: ConvState,
    pub group: String,
    pub agent: String,
    pub waiting: String,
    pub vip: u8,
    /// Handed over for a complaint: served first among equals.
    pub urgent: bool,
}

/// The live part of the page (refreshed in place).
#[derive(Template)]
#[template(path = "desk/board.html")]
pub struct Board {
    pub queues: Vec<QueueView>,
    pub agents: Vec<AgentView>,
    pub convs: Vec<ConvView>,
    pub open_total: usize,
    pub cap: u32,
    pub queued_total: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk/monitor.html")]
pub struct MonitorPage {
    pub ctx: PageCtx,
    pub board_html: String,
    pub filter: Filter,
    pub groups: Vec<Group>,
    pub query: String,
    /// Today's red-line alerts so far, newest first: (time, agent, detail, conv).
    pub alerts: Vec<(String, String, String, u64)>,
}

fn wait(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    super::workspace::ago(since, now)
}

fn board(state: &AppState, filter: &Filter) -> Result<Board, AppError> {
    let Monitor {
        queues,
        agents,
        convs,
        open_total,
        cap,
    } = state.desk.monitor(filter)?;
    let now = state.desk.clock().now();
    Ok(Board {
        queued_total: queues.iter().map(|q| q.queued).sum(),
        queues: queues
            .into_iter()
            .map(|q| QueueView {
                longest: wait(q.longest_since, now),
                name: q.name,
                queued: q.queued,
                online: q.online,
            })
            .collect(),
        agents: agents
            .into_iter()
            .map(|a| AgentView {
                name: a.name,
                state: a.state.as_str(),
                state_label: a.state.label(),
                load: a.load,
                groups: a.groups.join("、"),
            })
            .collect(),
        convs: convs
            .into_iter()
            .map(|o| ConvView {
                id: o.conv.id.0,
                buyer: super::workspace::buyer_name(&o.buyer),
                channel: o.conv.channel.clone(),
                region: o.buyer.region.clone(),
                state: o.conv.state,
                group: o.group,
                agent: o.agent,
                waiting: wait(o.waiting_since, now),
                vip: o.buyer.member_level,
                urgent: o.conv.urgent,
            })
            .collect(),
        open_total,
        cap,
    })
}

/// GET /desk/monitor
pub async fn page(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
    filter: web::Query<Filter>,
) -> Result<MonitorPage, AppError> {
    let filter = filter.into_inner();
    // The alerts of the day so far: a supervisor opening the page later still sees
    // them (live ones are added by the page's script).
    let tz = state.desk.settings()?.tz();
    let today = state.desk.today()?;
    let nick = state.desk.nicknames_by_login()?;
    let alerts = state
        .desk
        .findings(Some(QaRule::RedLine), None, 200)?
        .into_iter()
        .filter(|f| f.at.with_timezone(&tz).date_naive() == today)
        .take(20)
        .map(|f| {
            (
                f.at.with_timezone(&tz).format("%H:%M").to_string(),
                f.agent
                    .map(|a| super::qa::shown(&nick, &a))
                    .unwrap_or_default(),
                f.detail,
                f.conv.0,
            )
        })
        .collect();
    Ok(MonitorPage {
        alerts,
        ctx,
        board_html: board(&state, &filter)?.render()?,
        query: serde_urlencoded::to_string([
            ("group", filter.group.as_str()),
            ("region", filter.region.as_str()),
            ("state", filter.state.as_str()),
        ])
        .unwrap_or_default(),
        filter,
        groups: state.desk.groups()?,
    })
}

/// GET /desk/monitor/board — the live part, for the page's refresh.
pub async fn live_board(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, AppError> {
    super::workspace::fragment(&board(&state, &filter)?)
}
