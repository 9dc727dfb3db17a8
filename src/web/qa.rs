//! 质检: what the automatic rules found (filters by rule and agent), counts per agent,
//! and the red-line words (supervisors and the owner).

use super::extract::{CsrfForm, Require, Staff, Supervisors};
use super::page::PageCtx;
use crate::AppState;
use crate::desk::Actor;
use crate::desk::qa::RuleCounts;
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::{Finding, QaRule, RubricItem, Sample};
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
    /// (finding, local time, the agent's nickname)
    pub findings: Vec<(Finding, String, String)>,
    /// (login name, nickname, counts)
    pub by_agent: Vec<(String, String, RuleCounts)>,
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
    let nick = state.desk.nicknames_by_login()?;
    Ok(QaPage {
        findings: state
            .desk
            .findings(rule, agent, 200)?
            .into_iter()
            .map(|f| {
                let at = local_label(f.at, tz);
                let who = f
                    .agent
                    .as_deref()
                    .map(|a| shown(&nick, a))
                    .unwrap_or_default();
                (f, at, who)
            })
            .collect(),
        by_agent: state
            .desk
            .findings_by_agent()?
            .into_iter()
            .map(|(a, counts)| {
                let who = shown(&nick, &a);
                (a, who, counts)
            })
            .collect(),
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

/// A sample as the scoring page shows it.
pub struct SampleView {
    pub s: Sample,
    /// The nicknames of the agent scored and of who scored.
    pub agent: String,
    pub by: String,
    /// `12/20` per item, once scored.
    pub items: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "qa_scoring.html")]
pub struct ScoringPage {
    pub ctx: PageCtx,
    pub waiting: Vec<SampleView>,
    pub scored: Vec<SampleView>,
    pub rubric: Vec<RubricItem>,
    pub rubric_text: String,
    pub daily_sample: u32,
    /// (agent, average %, scored samples)
    pub averages: Vec<(String, String, usize)>,
    pub yesterday: String,
}

/// The nickname of the user logged in as `login` (the login name of one since removed).
pub fn shown(nick: &std::collections::HashMap<String, String>, login: &str) -> String {
    nick.get(login)
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| login.to_string())
}

fn views(state: &AppState, samples: Vec<Sample>) -> Result<Vec<SampleView>, AppError> {
    let nick = state.desk.nicknames_by_login()?;
    Ok(samples
        .into_iter()
        .map(|s| SampleView {
            agent: shown(&nick, &s.agent),
            by: s
                .score
                .as_ref()
                .map(|sc| shown(&nick, &sc.by))
                .unwrap_or_default(),
            items: s
                .score
                .as_ref()
                .map(|sc| {
                    sc.items
                        .iter()
                        .map(|(n, p)| (n.clone(), p.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            s,
        })
        .collect())
}

/// GET /qa/scoring — the samples to score, the scored ones, averages per agent, and
/// the rubric.
pub async fn scoring(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
) -> Result<ScoringPage, AppError> {
    let settings = state.desk.qa_settings()?;
    let (waiting, scored): (Vec<Sample>, Vec<Sample>) = state
        .desk
        .samples()?
        .into_iter()
        .partition(|s| s.score.is_none());
    let nick = state.desk.nicknames_by_login()?;
    let mut averages: Vec<(String, String, usize)> = state
        .desk
        .qa_scores()?
        .into_iter()
        .map(|(a, (pct, n))| (shown(&nick, &a), format!("{pct:.1}"), n))
        .collect();
    averages.sort();
    let today = state.desk.today()?;
    Ok(ScoringPage {
        waiting: views(&state, waiting)?,
        scored: views(&state, scored.into_iter().take(100).collect())?,
        rubric_text: settings
            .rubric
            .iter()
            .map(|i| format!("{}={}", i.name, i.points))
            .collect::<Vec<_>>()
            .join("\n"),
        rubric: settings.rubric,
        daily_sample: settings.daily_sample,
        averages,
        yesterday: today
            .pred_opt()
            .unwrap_or(today)
            .format("%Y-%m-%d")
            .to_string(),
        ctx,
    })
}

#[derive(Debug, Deserialize)]
pub struct DrawForm {
    pub day: String,
}

/// POST /qa/samples/draw — draws a day's sample now.
pub async fn draw(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    CsrfForm(f): CsrfForm<DrawForm>,
) -> Result<HttpResponse, AppError> {
    let day = chrono::NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest(format!(
            "日期“{}”的格式应为 年-月-日，例如 2026-11-22",
            f.day
        ))
    })?;
    let drawn = state.desk.draw_samples(day).await?;
    Ok(redirect(if drawn > 0 {
        "/qa/scoring?done=drawn"
    } else {
        "/qa/scoring?done=drawn_none"
    }))
}

/// POST /qa/samples/{id} — a score: `p0`, `p1` … per rubric item, `note`, `example`.
pub async fn score(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    conv: web::Path<u64>,
    body: web::Bytes,
    csrf: super::extract::CsrfHeader,
) -> Result<HttpResponse, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("表单格式有误".into()))?;
    csrf.check_form(&pairs)?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let items = state.desk.qa_settings()?.rubric.len();
    let mut points = Vec::with_capacity(items);
    for i in 0..items {
        let v = get(&format!("p{i}")).unwrap_or("").trim();
        points.push(
            v.parse::<u32>()
                .map_err(|_| AppError::BadRequest("请为每个评分项填写整数分".into()))?,
        );
    }
    state
        .desk
        .score_sample(
            &me.user,
            crate::model::ConvId(conv.into_inner()),
            &points,
            get("note").unwrap_or(""),
            get("example") == Some("1"),
        )
        .await?;
    Ok(redirect("/qa/scoring?done=saved"))
}

#[derive(Debug, Deserialize)]
pub struct RubricForm {
    pub rubric: String,
    pub daily_sample: String,
}

/// POST /qa/rubric — `name=points` per line, and the daily sample size.
pub async fn save_rubric(
    state: web::Data<AppState>,
    me: Require<Supervisors>,
    CsrfForm(f): CsrfForm<RubricForm>,
) -> Result<HttpResponse, AppError> {
    let mut items = Vec::new();
    for line in f.rubric.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, points) = line
            .split_once(['=', '＝'])
            .ok_or_else(|| AppError::BadRequest(format!("“{line}”应写成 名称=分值")))?;
        let points = points
            .trim()
            .parse()
            .map_err(|_| AppError::BadRequest(format!("“{line}”的分值应为整数")))?;
        items.push(RubricItem {
            name: name.trim().to_string(),
            points,
        });
    }
    let n = f
        .daily_sample
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest("每日抽检数应为整数".into()))?;
    state
        .desk
        .save_rubric(&Actor::user(&me.user), items, n)
        .await?;
    Ok(redirect("/qa/scoring?done=saved"))
}

#[derive(Template, WebTemplate)]
#[template(path = "qa_examples.html")]
pub struct ExamplesPage {
    pub ctx: PageCtx,
    pub examples: Vec<SampleView>,
}

/// GET /qa/examples — 训练场: conversations marked as good examples (all staff).
pub async fn examples(
    state: web::Data<AppState>,
    _me: Require<Staff>,
    ctx: PageCtx,
) -> Result<ExamplesPage, AppError> {
    let examples = state
        .desk
        .samples()?
        .into_iter()
        .filter(|s| s.example)
        .collect();
    Ok(ExamplesPage {
        examples: views(&state, examples)?,
        ctx,
    })
}
