//! 场景开关: every KB scene with one-click modes for staffed and off-hours, the global
//! switches, the reception settings, what applies right now, and the audit trail.
//! For the owner and supervisors; a change applies to the next buyer message.

use super::extract::{CsrfForm, Require, Supervisors};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::desk::switches::{SceneRow, ServiceNow};
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::{AuditEntry, Invalid, Reception, ReceptionMode, SceneMode};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

/// Trail entries shown.
const TRAIL: usize = 30;

/// The reception form as typed (numbers as text, so a bad one is shown back).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReceptionForm {
    pub staffed: String,
    pub off_hours: String,
    pub human_percent: String,
    pub queue_limit: String,
    pub agent_cap: String,
    pub reroute_minutes: String,
    pub idle_close_minutes: String,
}

impl ReceptionForm {
    fn from(r: &Reception) -> ReceptionForm {
        ReceptionForm {
            staffed: r.staffed.as_str().into(),
            off_hours: r.off_hours.as_str().into(),
            human_percent: r.human_percent.to_string(),
            queue_limit: r.queue_limit.to_string(),
            agent_cap: r.agent_cap.to_string(),
            reroute_minutes: r.reroute_minutes.to_string(),
            idle_close_minutes: r.idle_close_minutes.to_string(),
        }
    }

    /// The settings it describes on top of `current` (the global switches stay).
    fn apply(&self, current: &Reception) -> Result<Reception, Invalid> {
        let mut inv = Invalid::default();
        let mut mode = |field: &'static str, v: &str| {
            ReceptionMode::parse(v).unwrap_or_else(|| {
                inv.add(field, "请选择接待模式");
                ReceptionMode::BotFirst
            })
        };
        let staffed = mode("staffed", &self.staffed);
        let off_hours = mode("off_hours", &self.off_hours);
        let mut num = |field: &'static str, v: &str| -> u32 {
            v.trim().parse().unwrap_or_else(|_| {
                inv.add(field, "请填写整数");
                0
            })
        };
        let human_percent = num("human_percent", &self.human_percent);
        let r = Reception {
            staffed,
            off_hours,
            human_percent: u8::try_from(human_percent).unwrap_or(u8::MAX),
            queue_limit: num("queue_limit", &self.queue_limit),
            agent_cap: num("agent_cap", &self.agent_cap),
            reroute_minutes: num("reroute_minutes", &self.reroute_minutes),
            idle_close_minutes: num("idle_close_minutes", &self.idle_close_minutes),
            ..current.clone()
        };
        inv.into_result()?;
        r.validate()?;
        Ok(r)
    }
}

/// One period's switch of a scene, as a cell of the table.
pub struct Cell {
    /// `staffed` or `off_hours`.
    pub period: &'static str,
    pub mode: SceneMode,
    /// The period in force now.
    pub now: bool,
}

/// A scene's row: its name, entries, and a cell per period.
pub struct SceneView {
    pub scene: String,
    pub entries: usize,
    pub cells: [Cell; 2],
}

impl SceneView {
    fn new(row: SceneRow, staffed_now: bool) -> SceneView {
        SceneView {
            cells: [
                Cell {
                    period: "staffed",
                    mode: row.switch.staffed,
                    now: staffed_now,
                },
                Cell {
                    period: "off_hours",
                    mode: row.switch.off_hours,
                    now: !staffed_now,
                },
            ],
            scene: row.scene,
            entries: row.entries,
        }
    }
}

/// A reception-mode select: field name, label, chosen value.
pub type ModeSelect = (&'static str, &'static str, String);

#[derive(Template, WebTemplate)]
#[template(path = "scenes.html")]
pub struct ScenesPage {
    pub ctx: PageCtx,
    pub now: ServiceNow,
    pub reception: Reception,
    pub scenes: Vec<SceneView>,
    pub selects: [ModeSelect; 2],
    pub modes: [SceneMode; 3],
    pub reception_modes: [ReceptionMode; 3],
    pub form: ReceptionForm,
    pub errors: Invalid,
    pub trail: Vec<(String, AuditEntry)>,
}

fn scenes_page(
    state: &AppState,
    ctx: PageCtx,
    form: Option<ReceptionForm>,
    errors: Invalid,
) -> Result<ScenesPage, AppError> {
    let desk = &state.desk;
    let reception = desk.reception()?;
    let tz = desk.settings()?.tz();
    let now = desk.service_now()?;
    let form = form.unwrap_or_else(|| ReceptionForm::from(&reception));
    Ok(ScenesPage {
        ctx,
        scenes: desk
            .scenes()?
            .into_iter()
            .map(|r| SceneView::new(r, now.staffed))
            .collect(),
        selects: [
            ("staffed", "人工服务时间", form.staffed.clone()),
            ("off_hours", "非人工时间", form.off_hours.clone()),
        ],
        now,
        form,
        reception,
        modes: SceneMode::ALL,
        reception_modes: ReceptionMode::ALL,
        errors,
        trail: desk
            .switch_trail(TRAIL)?
            .into_iter()
            .map(|e| (local_label(e.at, tz), e))
            .collect(),
    })
}

/// GET /scenes
pub async fn page(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
) -> Result<ScenesPage, AppError> {
    scenes_page(&state, ctx, None, Invalid::default())
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    pub scene: String,
    /// `staffed:human`, `off_hours:bot` …: the period and its new mode.
    pub set: String,
}

/// POST /scenes/switch — one click: one scene, one period, one mode.
pub async fn switch(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    CsrfForm(f): CsrfForm<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    let bad = || AppError::BadRequest("未知的开关".into());
    let (period, mode) = f.set.split_once(':').ok_or_else(bad)?;
    let mode = SceneMode::parse(mode).ok_or_else(bad)?;
    let known = state.desk.scenes()?;
    let row = known.iter().find(|r| r.scene == f.scene).ok_or_else(bad)?;
    let mut sw = row.switch.clone();
    match period {
        "staffed" => sw.staffed = mode,
        "off_hours" => sw.off_hours = mode,
        _ => return Err(bad()),
    }
    state
        .desk
        .set_scene(&Actor::user(&me.user), &f.scene, sw)
        .await?;
    Ok(redirect("/scenes?done=saved"))
}

#[derive(Debug, Deserialize)]
pub struct ToggleForm {
    /// `bot_only` or `off_hours_reply`.
    pub toggle: String,
    /// The state wanted, `1` (on) or `0` (off): the form carries it, so a form sent
    /// twice (a double click, a second tab) sets the same state, never flips it back.
    #[serde(default)]
    pub on: String,
}

/// POST /scenes/toggle — turns a global switch on or off.
pub async fn toggle(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    CsrfForm(f): CsrfForm<ToggleForm>,
) -> Result<HttpResponse, AppError> {
    let on = match f.on.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("开关状态有误（应为 1 或 0）".into())),
    };
    let mut r = state.desk.reception()?;
    match f.toggle.as_str() {
        "bot_only" => r.bot_only = on,
        "off_hours_reply" => r.off_hours_reply = on,
        _ => return Err(AppError::BadRequest("未知的开关".into())),
    }
    state.desk.save_reception(&Actor::user(&me.user), r).await?;
    Ok(redirect("/scenes?done=saved"))
}

/// POST /scenes/reception — the reception settings.
pub async fn save_reception(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<ReceptionForm>,
) -> Result<HttpResponse, AppError> {
    let current = state.desk.reception()?;
    let result = match form.apply(&current) {
        Ok(r) => state.desk.save_reception(&Actor::user(&me.user), r).await,
        Err(inv) => Err(desk::Error::Invalid(inv)),
    };
    match result {
        Ok(()) => Ok(redirect("/scenes?done=saved")),
        Err(desk::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &scenes_page(&state, ctx, Some(form), errors)?,
        ),
        Err(e) => Err(e.into()),
    }
}
