//! 问答训练 (the daily-cleared queue of questions the bot could not settle), 答案抽检
//! (trainers mark sampled bot answers right or wrong) and 热门问题 (Top 100 by answers).

use super::extract::{CsrfForm, Require, Trainers};
use super::page::PageCtx;
use crate::AppState;
use crate::desk::Actor;
use crate::desk::training::{MarkSample, TrainGroup, parse_ids};
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::{ConvId, KbEntry, TrainingItem};
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

/// Groups shown at once.
const PAGE: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "kb/training.html")]
pub struct TrainingPage {
    pub ctx: PageCtx,
    pub groups: Vec<(TrainGroup, String)>,
    pub open: usize,
    pub cleared_today: u64,
    /// Recently settled, newest first.
    pub settled: Vec<SettledRow>,
    /// Standard questions to pick from in 加入 (the entry may be named by id too).
    pub questions: Vec<String>,
}

/// GET /kb/training
pub async fn page(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
) -> Result<TrainingPage, AppError> {
    let tz = state.desk.settings()?.tz();
    let q = state.desk.training_queue(PAGE)?;
    Ok(TrainingPage {
        ctx,
        groups: q
            .groups
            .into_iter()
            .map(|g| {
                let at = local_label(g.last_at, tz);
                (g, at)
            })
            .collect(),
        open: q.open,
        cleared_today: q.cleared_today,
        settled: settled_rows(&state, tz)?,
        questions: state
            .desk
            .list_entries()?
            .into_iter()
            .map(|e| e.question)
            .take(MAX_PICK)
            .collect(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct TrainForm {
    #[serde(default)]
    pub ids: String,
    /// The entry to add the questions to.
    #[serde(default)]
    pub entry: String,
}

/// POST /kb/training/add — the group's questions become similar phrasings of `entry`.
pub async fn add(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    CsrfForm(f): CsrfForm<TrainForm>,
) -> Result<HttpResponse, AppError> {
    let ids = parse_ids(&f.ids)?;
    if f.entry.trim().is_empty() {
        return Err(AppError::BadRequest("请选择要加入的问题".into()));
    }
    state
        .desk
        .train_add_phrasing(&Actor::user(&me.user), &ids, f.entry.trim())
        .await?;
    Ok(redirect("/kb/training?done=saved"))
}

/// Most standard questions offered to pick from (a shop's KB is rarely larger).
const MAX_PICK: usize = 3000;

/// The latest settled questions, newest settling first (items are stored in the order
/// asked), with the entry's question and the trainer's nickname.
fn settled_rows(state: &AppState, tz: chrono_tz::Tz) -> Result<Vec<SettledRow>, AppError> {
    let mut items = state.desk.settled_training(100)?;
    items.sort_by_key(|i| std::cmp::Reverse(i.resolved_at.unwrap_or(i.at)));
    items.truncate(20);
    let nick = state.desk.nicknames_by_login()?;
    let questions: std::collections::HashMap<String, String> = state
        .desk
        .list_entries()?
        .into_iter()
        .map(|e| (e.id, e.question))
        .collect();
    Ok(items
        .into_iter()
        .map(|i| SettledRow {
            at: local_label(i.resolved_at.unwrap_or(i.at), tz),
            entry: i.entry.clone().map(|id| {
                (
                    questions.get(&id).cloned().unwrap_or_else(|| id.clone()),
                    id,
                )
            }),
            by: i
                .resolved_by
                .as_deref()
                .map(|b| super::qa::shown(&nick, b))
                .unwrap_or_default(),
            item: i,
        })
        .collect())
}

/// One row of 最近处理.
pub struct SettledRow {
    pub item: TrainingItem,
    /// The entry's question and id.
    pub entry: Option<(String, String)>,
    pub by: String,
    pub at: String,
}

/// POST /kb/training/ignore
pub async fn ignore(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    CsrfForm(f): CsrfForm<TrainForm>,
) -> Result<HttpResponse, AppError> {
    let ids = parse_ids(&f.ids)?;
    state
        .desk
        .train_ignore(&Actor::user(&me.user), &ids)
        .await?;
    Ok(redirect("/kb/training?done=ignored"))
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/hot.html")]
pub struct HotPage {
    pub ctx: PageCtx,
    pub rows: Vec<(KbEntry, u64, u64)>,
}

/// GET /kb/hot — the 100 most answered questions.
pub async fn hot(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
) -> Result<HotPage, AppError> {
    Ok(HotPage {
        ctx,
        rows: state.desk.hot_entries(100)?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/marks.html")]
pub struct MarksPage {
    pub ctx: PageCtx,
    /// Each sample, its local time and the answering entry's question.
    pub samples: Vec<(MarkSample, String, String)>,
    pub right: usize,
    pub marked: usize,
}

impl MarksPage {
    /// The accuracy as a percentage with one decimal.
    pub fn accuracy(&self) -> String {
        if self.marked == 0 {
            "—".into()
        } else {
            format!("{:.1}%", self.right as f64 * 100.0 / self.marked as f64)
        }
    }
}

/// GET /kb/marks — sampled bot answers to mark, and the accuracy so far.
pub async fn marks(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
) -> Result<MarksPage, AppError> {
    let tz = state.desk.settings()?.tz();
    let (right, marked) = state.desk.bot_accuracy()?;
    let questions: std::collections::HashMap<String, String> = state
        .desk
        .list_entries()?
        .into_iter()
        .map(|e| (e.id, e.question))
        .collect();
    Ok(MarksPage {
        ctx,
        samples: state
            .desk
            .mark_samples(20)?
            .into_iter()
            .map(|s| {
                let at = local_label(s.answer.at, tz);
                let q = s
                    .entry
                    .as_ref()
                    .map(|id| questions.get(id).cloned().unwrap_or_else(|| id.clone()))
                    .unwrap_or_default();
                (s, at, q)
            })
            .collect(),
        right,
        marked,
    })
}

#[derive(Debug, Deserialize)]
pub struct MarkForm {
    pub conv: u64,
    pub seq: u64,
    /// `right` or `wrong`.
    pub verdict: String,
}

/// POST /kb/marks
pub async fn mark(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    CsrfForm(f): CsrfForm<MarkForm>,
) -> Result<HttpResponse, AppError> {
    let right = match f.verdict.as_str() {
        "right" => true,
        "wrong" => false,
        _ => return Err(AppError::BadRequest("请标注“正确”或“错误”".into())),
    };
    state
        .desk
        .mark_bot_answer(&me.user, ConvId(f.conv), f.seq, right)
        .await?;
    Ok(redirect("/kb/marks?done=saved"))
}
