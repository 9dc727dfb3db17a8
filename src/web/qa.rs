//! 质检: what the automatic rules found (filters by rule and agent), counts per agent,
//! and the red-line words (supervisors and the owner).

use super::extract::{CsrfForm, Require, Supervisors};
use super::page::PageCtx;
use crate::AppState;
use crate::desk::Actor;
use crate::desk::qa::RuleCounts;
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::{Finding, QaRule};
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct QaQuery {
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub agent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa.html")]
pub struct QaPage {
    pub ctx: PageCtx,
    pub findings: Vec<(Finding, String)>,
    pub by_agent: Vec<(String, RuleCounts)>,
    pub rules: [QaRule; 6],
    pub q: QaQuery,
    pub red_lines: String,
}

/// GET /qa
pub async fn page(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
    q: web::Query<QaQuery>,
) -> Result<QaPage, AppError> {
    let q = q.into_inner();
    let rule = match q.rule.as_str() {
        "" => None,
        r => Some(
            QaRule::parse(r).ok_or_else(|| AppError::BadRequest(format!("未知的质检规则：{r}")))?,
        ),
    };
    let agent = Some(q.agent.trim()).filter(|a| !a.is_empty());
    let tz = state.desk.settings()?.tz();
    Ok(QaPage {
        findings: state
            .desk
            .findings(rule, agent, 200)?
            .into_iter()
            .map(|f| {
                let at = local_label(f.at, tz);
                (f, at)
            })
            .collect(),
        by_agent: state.desk.findings_by_agent()?,
        rules: QaRule::ALL,
        red_lines: state.desk.qa_settings()?.red_lines.join("\n"),
        q,
        ctx,
    })
}

#[derive(Debug, Deserialize)]
pub struct RedLinesForm {
    pub red_lines: String,
}

/// POST /qa/red-lines
pub async fn save_red_lines(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    CsrfForm(f): CsrfForm<RedLinesForm>,
) -> Result<HttpResponse, AppError> {
    let words = f.red_lines.lines().map(String::from).collect();
    state
        .desk
        .save_red_lines(&Actor::user(&me.user), words)
        .await?;
    Ok(redirect("/qa?done=saved"))
}
