//! 数据看板: the overview (today and the chosen range against the shop's targets, daily
//! charts, scenes, ratings, hot and unmatched questions), the agents table with a
//! satisfaction-vs-volume plot, the bot's figures, CSV exports of every table, the
//! targets form, and the live 大屏.

use super::extract::{BotWatchers, CsrfForm, OwnerOnly, Require, Staff, Supervisors};
use super::kb::attachment;
use super::page::PageCtx;
use crate::AppState;
use crate::desk::dashboard::MetricsView;
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::metrics::chart::{self, Series, Unit};
use crate::metrics::{Figures, Tally};
use crate::model::conv::RATING_LEVELS;
use crate::model::{Invalid, KbEntry, Role, Targets};
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use serde::Deserialize;

/// The range in the query string (`from`, `to`: YYYY-MM-DD; default the last 7 days;
/// either order).
#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl RangeQuery {
    fn dates(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
        let parse = |s: &str, default: NaiveDate| -> Result<NaiveDate, AppError> {
            match s.trim() {
                "" => Ok(default),
                t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
                    AppError::BadRequest(format!("日期“{t}”的格式应为 年-月-日，例如 2026-11-22"))
                }),
            }
        };
        let to = parse(&self.to, today)?;
        let from = parse(&self.from, to - chrono::Duration::days(6))?;
        // Dates picked the wrong way round mean the same days.
        Ok((from.min(to), from.max(to)))
    }
}

/// One figure on a card: its value, the target, and whether it meets it.
pub struct Kpi {
    pub name: &'static str,
    pub value: String,
    pub target: String,
    /// `ok`, `bad` or `none` (nothing measured or no target).
    pub status: &'static str,
    /// The healthy band the articles give, if any.
    pub band: &'static str,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn secs(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1} 秒"))
        .unwrap_or_else(|| "—".into())
}

fn status(v: Option<f64>, ok: impl Fn(f64) -> bool) -> &'static str {
    match v {
        None => "none",
        Some(v) if ok(v) => "ok",
        Some(_) => "bad",
    }
}

/// The cards for `f` against `t`.
/// Figures about the bot's share of the work, left off an agent's own dashboard.
const BOT_KPIS: &[&str] = &[
    "机器人解决率",
    "转人工率",
    "首问完成率",
    "询单转化率（机器人）",
];

pub fn kpis(f: &Figures, t: &Targets) -> Vec<Kpi> {
    let p = |n: u32| f64::from(n) / 100.0;
    let at_least = |v: Option<f64>, n: u32| status(v, |x| x + 1e-9 >= p(n));
    vec![
        Kpi {
            name: "首次30秒应答率",
            value: pct(f.first_response_30s_rate),
            target: format!("≥ {}%", t.first_response_30s_pct),
            status: at_least(f.first_response_30s_rate, t.first_response_30s_pct),
            band: "",
        },
        Kpi {
            name: "平均响应时长",
            value: secs(f.avg_response_s),
            target: format!("≤ {} 秒", t.avg_response_s),
            status: status(f.avg_response_s, |x| x <= f64::from(t.avg_response_s)),
            band: "健康值 10–20 秒",
        },
        Kpi {
            name: "3分钟人工响应率",
            value: pct(f.human_3min_rate),
            target: format!("≥ {}%", t.human_3min_pct),
            status: at_least(f.human_3min_rate, t.human_3min_pct),
            band: "平台要求 ≥ 90%",
        },
        Kpi {
            name: "问答比",
            value: pct(f.answer_question_ratio),
            target: format!("≥ {}%", t.answer_question_pct),
            status: at_least(f.answer_question_ratio, t.answer_question_pct),
            band: "健康值 150–200%",
        },
        Kpi {
            name: "邀评率",
            value: pct(f.invite_rate),
            target: format!("≥ {}%", t.invite_pct),
            status: at_least(f.invite_rate, t.invite_pct),
            band: "健康值 40–50%",
        },
        Kpi {
            name: "满意率",
            value: pct(f.satisfaction_rate),
            target: format!("≥ {}%", t.satisfaction_pct),
            status: at_least(f.satisfaction_rate, t.satisfaction_pct),
            band: "",
        },
        Kpi {
            name: "机器人解决率",
            value: pct(f.bot_resolution_rate),
            target: format!("≥ {}%", t.bot_resolution_pct),
            status: at_least(f.bot_resolution_rate, t.bot_resolution_pct),
            band: "行业常见 50–80%",
        },
        Kpi {
            name: "人工首次响应",
            value: secs(f.human_first_response_avg_s),
            target: String::new(),
            status: "none",
            band: "",
        },
        Kpi {
            name: "30秒应答率",
            value: pct(f.response_30s_rate),
            target: String::new(),
            status: "none",
            band: "",
        },
        Kpi {
            name: "转人工率",
            value: pct(f.transfer_rate),
            target: String::new(),
            status: "none",
            band: "",
        },
        Kpi {
            name: "首问完成率",
            value: pct(f.first_ask_completion_rate),
            target: String::new(),
            status: "none",
            band: "",
        },
        Kpi {
            name: "询单转化率（机器人）",
            value: pct(f.bot_conversion_rate),
            target: String::new(),
            status: "none",
            band: "24 小时内下单",
        },
        Kpi {
            name: "询单转化率（人工）",
            value: pct(f.human_conversion_rate),
            target: String::new(),
            status: "none",
            band: "24 小时内下单",
        },
        Kpi {
            name: "消息拒收风险",
            value: format!("{} 个会话", f.reject_risk_conversations),
            target: "0".into(),
            status: if f.reject_risk_conversations == 0 {
                "ok"
            } else {
                "bad"
            },
            band: "连续 5 条以上客服消息无买家回复",
        },
    ]
}

/// One row of the per-day table.
pub struct DayRow {
    pub day: String,
    pub f: Figures,
}

impl DayRow {
    pub fn pct(&self, v: &Option<f64>) -> String {
        pct(*v)
    }
    pub fn secs(&self, v: &Option<f64>) -> String {
        v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/overview.html")]
pub struct OverviewPage {
    pub ctx: PageCtx,
    pub from: String,
    pub to: String,
    pub today: Vec<Kpi>,
    pub range: Vec<Kpi>,
    pub range_figures: Figures,
    pub days: Vec<DayRow>,
    /// Set when these are one agent's own numbers.
    pub agent: Option<String>,
    pub charts: Vec<(&'static str, String)>,
    pub scenes: Vec<(String, u64)>,
    pub levels: Vec<(&'static str, u64)>,
    pub reasons: Vec<(String, u64)>,
    pub hot: Vec<(KbEntry, u64, u64)>,
    pub unmatched: Vec<(String, u64)>,
    pub owner: bool,
    pub supervisor: bool,
    pub targets: Targets,
    pub errors: Invalid,
}

fn day_labels(v: &MetricsView) -> Vec<String> {
    v.days
        .iter()
        .map(|(d, _)| d.format("%m-%d").to_string())
        .collect()
}

/// The overview's charts over the days of `v`.
fn charts(v: &MetricsView) -> Vec<(&'static str, String)> {
    let labels = day_labels(v);
    let figs: Vec<Figures> = v.days.iter().map(|(_, t)| t.figures()).collect();
    let series = |name, f: fn(&Figures) -> Option<f64>| Series {
        name,
        values: figs.iter().map(f).collect(),
    };
    vec![
        (
            "每日会话数",
            chart::bars(
                "每日会话数",
                &labels,
                &figs
                    .iter()
                    .map(|f| f.conversations as f64)
                    .collect::<Vec<_>>(),
                Unit::Count,
            ),
        ),
        (
            "响应时长",
            chart::lines(
                "响应时长",
                &labels,
                &[
                    series("首次响应", |f| f.first_response_avg_s),
                    series("平均响应", |f| f.avg_response_s),
                    series("人工平均响应", |f| f.human_avg_response_s),
                ],
                Unit::Seconds,
            ),
        ),
        (
            "应答与满意",
            chart::lines(
                "应答与满意",
                &labels,
                &[
                    series("首次30秒应答率", |f| f.first_response_30s_rate),
                    series("满意率", |f| f.satisfaction_rate),
                ]
                .into_iter()
                // An agent's own conversations all reached a human.
                .chain(
                    v.agent
                        .is_none()
                        .then(|| {
                            [
                                series("机器人解决率", |f| f.bot_resolution_rate),
                                series("转人工率", |f| f.transfer_rate),
                            ]
                        })
                        .into_iter()
                        .flatten(),
                )
                .collect::<Vec<_>>(),
                Unit::Percent,
            ),
        ),
    ]
}

fn sorted(m: &std::collections::BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = m.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// GET /dashboard
pub async fn overview(
    state: web::Data<AppState>,
    me: Require<Staff>,
    ctx: PageCtx,
    q: web::Query<RangeQuery>,
) -> Result<OverviewPage, AppError> {
    let desk = &state.desk;
    let today = desk.today()?;
    let (from, to) = q.dates(today)?;
    let v = desk.metrics(&me.user, from, to).await?;
    let now = desk.metrics(&me.user, today, today).await?;
    let targets = desk.settings()?.targets;
    let range_figures = v.total.figures();
    let staff_view = v.agent.is_none();
    let unmatched = if staff_view {
        desk.open_questions_between(from, to, 10)?
    } else {
        Vec::new()
    };
    // An agent's own conversations all reached a human: the bot's figures say nothing
    // about them.
    let own = |mut k: Vec<Kpi>| {
        if !staff_view {
            k.retain(|k| !BOT_KPIS.contains(&k.name));
        }
        k
    };
    Ok(OverviewPage {
        today: own(kpis(&now.total.figures(), &targets)),
        range: own(kpis(&range_figures, &targets)),
        charts: charts(&v),
        scenes: sorted(&v.total.scenes),
        levels: RATING_LEVELS
            .iter()
            .map(|(l, name)| (*name, v.total.levels[usize::from(*l - 1)]))
            .collect(),
        reasons: sorted(&v.total.reasons),
        hot: if staff_view {
            desk.hot_entries_between(from, to, 10)?
        } else {
            Vec::new()
        },
        unmatched,
        days: v
            .days
            .iter()
            .map(|(d, t)| DayRow {
                day: d.format("%Y-%m-%d").to_string(),
                f: t.figures(),
            })
            .collect(),
        range_figures,
        agent: v.agent,
        owner: me.user.role == Role::Owner,
        supervisor: matches!(me.user.role, Role::Owner | Role::Supervisor),
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        targets,
        errors: Invalid::default(),
        ctx,
    })
}

/// One row of the agents table.
pub struct AgentRow {
    pub name: String,
    pub nickname: String,
    pub f: Figures,
    /// Average 质检 score (percent of the points possible), all samples scored so far.
    pub qa: String,
}

impl AgentRow {
    pub fn pct(&self, v: &Option<f64>) -> String {
        pct(*v)
    }
    pub fn secs(&self, v: &Option<f64>) -> String {
        v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/agents.html")]
pub struct AgentsPage {
    pub ctx: PageCtx,
    pub from: String,
    pub to: String,
    pub rows: Vec<AgentRow>,
    pub scatter: String,
    pub channels: Vec<(String, Figures)>,
    /// Per skill group (by name).
    pub groups: Vec<(String, Figures)>,
}

fn agent_rows(state: &AppState, v: &MetricsView) -> Result<Vec<AgentRow>, AppError> {
    let names = state.desk.nicknames_by_login()?;
    let scores = state.desk.qa_scores()?;
    let mut rows: Vec<AgentRow> = v
        .agents
        .iter()
        .map(|(name, t)| AgentRow {
            nickname: super::qa::shown(&names, name),
            qa: scores
                .get(name)
                .map(|(pct, n)| format!("{pct:.1}（{n}）"))
                .unwrap_or_else(|| "—".into()),
            name: name.clone(),
            f: t.figures(),
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.f.conversations));
    Ok(rows)
}

/// Table rows of per-key tallies: (key, figures).
fn rows_of(m: &std::collections::BTreeMap<String, Tally>) -> Vec<(String, Figures)> {
    m.iter().map(|(k, t)| (k.clone(), t.figures())).collect()
}

/// Table rows of the per-group tallies, by group name.
fn group_rows(state: &AppState, v: &MetricsView) -> Result<Vec<(String, Figures)>, AppError> {
    let groups = state.desk.groups()?;
    Ok(v.groups
        .iter()
        .map(|(g, t)| {
            let name = groups
                .iter()
                .find(|x| x.id.0 == *g)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| format!("#{g}"));
            (name, t.figures())
        })
        .collect())
}

/// GET /dashboard/agents — supervisors and the owner.
pub async fn agents(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
    q: web::Query<RangeQuery>,
) -> Result<AgentsPage, AppError> {
    let (from, to) = q.dates(state.desk.today()?)?;
    let v = state.desk.range_metrics(from, to, None).await?;
    let rows = agent_rows(&state, &v)?;
    let points: Vec<(f64, f64, String)> = rows
        .iter()
        .filter_map(|r| {
            r.f.satisfaction_rate
                .map(|s| (r.f.conversations as f64, s, r.nickname.clone()))
        })
        .collect();
    Ok(AgentsPage {
        scatter: chart::scatter("满意率与接待量", &points, "接待量（会话）", "满意率"),
        rows,
        channels: rows_of(&v.channels),
        groups: group_rows(&state, &v)?,
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        ctx,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/bot.html")]
pub struct BotPage {
    pub ctx: PageCtx,
    pub from: String,
    pub to: String,
    pub total: Tally,
    pub f: Figures,
    pub shares: String,
    pub top: Vec<(KbEntry, u64, u64)>,
    /// Trainers' marks: (right, marked).
    pub marks: (usize, usize),
    /// The viewer may open the other dashboard pages (a trainer may not).
    pub supervisor: bool,
}

impl BotPage {
    pub fn pct(&self, v: &Option<f64>) -> String {
        pct(*v)
    }
    pub fn accuracy(&self) -> String {
        pct((self.marks.1 > 0).then(|| self.marks.0 as f64 / self.marks.1 as f64))
    }
}

/// GET /dashboard/bot — the bot's figures (owner, supervisors, trainers).
pub async fn bot(
    state: web::Data<AppState>,
    me: Require<BotWatchers>,
    ctx: PageCtx,
    q: web::Query<RangeQuery>,
) -> Result<BotPage, AppError> {
    let supervisor = matches!(me.user.role, Role::Owner | Role::Supervisor);
    let (from, to) = q.dates(state.desk.today()?)?;
    let v = state.desk.range_metrics(from, to, None).await?;
    let t = v.total;
    // Every recorded bot turn in exactly one bar: the bands, the built-in intents, and
    // the service notices (nobody online, bot only, off-hours) that are none of these.
    // Imported turns recorded no band and are left out.
    let notices = t
        .bot_turns
        .saturating_sub(t.bot_exact + t.bot_guided + t.bot_none + t.bot_intent + t.bot_unknown);
    let shares = chart::bars(
        "机器人回答分布",
        &[
            "直接回答".into(),
            "反问引导".into(),
            "未识别".into(),
            "转人工/感谢/投诉".into(),
            "服务提示".into(),
        ],
        &[
            t.bot_exact as f64,
            t.bot_guided as f64,
            t.bot_none as f64,
            t.bot_intent as f64,
            notices as f64,
        ],
        Unit::Count,
    );
    Ok(BotPage {
        f: t.figures(),
        total: t,
        shares,
        top: state.desk.hot_entries_between(from, to, 20)?,
        marks: state.desk.bot_accuracy()?,
        supervisor,
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    /// `days`, `agents` or `channels`.
    #[serde(default)]
    pub table: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// The columns of every exported table after its first.
const COLUMNS: [&str; 19] = [
    "会话数",
    "咨询人数",
    "首次响应时长(秒)",
    "人工首次响应时长(秒)",
    "平均响应时长(秒)",
    "人工平均响应时长(秒)",
    "30秒应答率(%)",
    "首次30秒应答率(%)",
    "3分钟人工响应率(%)",
    "机器人解决率(%)",
    "转人工率(%)",
    "首问完成率(%)",
    "问答比(%)",
    "满意率(%)",
    "评价率(%)",
    "邀评率(%)",
    "消息拒收风险会话",
    "询单转化率(机器人)(%)",
    "询单转化率(人工)(%)",
];

/// One CSV row of figures: seconds to one decimal, rates as percentages (as the pages
/// show them); empty where nothing was measured.
fn cells(f: &Figures) -> Vec<String> {
    let secs = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let pct = |v: Option<f64>| v.map(|v| format!("{:.2}", v * 100.0)).unwrap_or_default();
    vec![
        f.conversations.to_string(),
        f.consulting_buyers.to_string(),
        secs(f.first_response_avg_s),
        secs(f.human_first_response_avg_s),
        secs(f.avg_response_s),
        secs(f.human_avg_response_s),
        pct(f.response_30s_rate),
        pct(f.first_response_30s_rate),
        pct(f.human_3min_rate),
        pct(f.bot_resolution_rate),
        pct(f.transfer_rate),
        pct(f.first_ask_completion_rate),
        pct(f.answer_question_ratio),
        pct(f.satisfaction_rate),
        pct(f.rating_rate),
        pct(f.invite_rate),
        f.reject_risk_conversations.to_string(),
        pct(f.bot_conversion_rate),
        pct(f.human_conversion_rate),
    ]
}

/// An agent's figures without the ones about the bot or the shop's hand-overs, which
/// say nothing of one agent (every conversation they served was handed over).
fn agent_figures(mut f: Figures) -> Figures {
    f.bot_resolution_rate = None;
    f.transfer_rate = None;
    f.first_ask_completion_rate = None;
    f.bot_conversion_rate = None;
    f.bot_answer_rate = None;
    f.bot_satisfaction_rate = None;
    f.bot_unmatched_rate = None;
    f
}

/// GET /dashboard/export?table=… — any dashboard table as CSV (UTF-8 with BOM): `days`,
/// `agents`, `channels`, `groups`, `ratings`, `reasons`, `scenes`, `hot`, `unmatched`.
/// Agents get their own numbers only (and none of the shop-wide lists).
pub async fn export(
    state: web::Data<AppState>,
    me: Require<Staff>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let range = RangeQuery {
        from: q.from.clone(),
        to: q.to.clone(),
    };
    let (from, to) = range.dates(state.desk.today()?)?;
    let v = state.desk.metrics(&me.user, from, to).await?;
    let staff_view = v.agent.is_none();
    let figures = |first: &str, rows: Vec<(String, Figures)>| -> (Vec<String>, Vec<Vec<String>>) {
        let header = std::iter::once(first)
            .chain(COLUMNS)
            .map(String::from)
            .collect();
        let rows = rows
            .into_iter()
            .map(|(k, f)| std::iter::once(k).chain(cells(&f)).collect())
            .collect();
        (header, rows)
    };
    let counts = |names: [&str; 2], rows: Vec<(String, u64)>| -> (Vec<String>, Vec<Vec<String>>) {
        (
            names.iter().map(|s| s.to_string()).collect(),
            rows.into_iter()
                .map(|(k, n)| vec![k, n.to_string()])
                .collect(),
        )
    };
    let (header, rows) = match q.table.as_str() {
        "days" | "" => figures(
            "日期",
            v.days
                .iter()
                .map(|(d, t)| (d.format("%Y-%m-%d").to_string(), t.figures()))
                .collect(),
        ),
        "agents" => figures(
            "客服",
            agent_rows(&state, &v)?
                .into_iter()
                .map(|r| (r.nickname, agent_figures(r.f)))
                .collect(),
        ),
        "channels" if staff_view => figures(
            "渠道",
            rows_of(&v.channels)
                .into_iter()
                .map(|(c, f)| (crate::model::conv::channel_label(&c), f))
                .collect(),
        ),
        "groups" if staff_view => figures("技能组", group_rows(&state, &v)?),
        "ratings" => counts(
            ["评价", "数量"],
            RATING_LEVELS
                .iter()
                .map(|(l, name)| (name.to_string(), v.total.levels[usize::from(*l - 1)]))
                .collect(),
        ),
        "reasons" => counts(["差评原因", "数量"], sorted(&v.total.reasons)),
        "scenes" => counts(["场景", "会话数"], sorted(&v.total.scenes)),
        "hot" if staff_view => (
            vec!["问题".into(), "所选日期".into(), "累计".into()],
            state
                .desk
                .hot_entries_between(from, to, 100)?
                .into_iter()
                .map(|(e, w, t)| vec![e.question, w.to_string(), t.to_string()])
                .collect(),
        ),
        "unmatched" if staff_view => counts(
            ["买家问题", "次数"],
            state.desk.open_questions_between(from, to, 100)?,
        ),
        other => return Err(AppError::BadRequest(format!("没有可导出的表格“{other}”"))),
    };
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let fail = |e: csv::Error| AppError::Internal(e.to_string());
        w.write_record(&header).map_err(fail)?;
        for row in &rows {
            w.write_record(row).map_err(fail)?;
        }
        w.flush().map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let name = format!(
        "{}-{from}-{to}.csv",
        if q.table.is_empty() { "days" } else { &q.table }
    );
    Ok(attachment(&name, "text/csv; charset=utf-8", out))
}

#[derive(Debug, Deserialize)]
pub struct TargetsForm {
    pub avg_response_s: String,
    pub first_response_30s_pct: String,
    pub human_3min_pct: String,
    pub answer_question_pct: String,
    pub invite_pct: String,
    pub satisfaction_pct: String,
    pub bot_resolution_pct: String,
}

/// POST /dashboard/targets — the owner sets the shop's targets.
pub async fn save_targets(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    CsrfForm(f): CsrfForm<TargetsForm>,
) -> Result<HttpResponse, AppError> {
    let mut inv = Invalid::default();
    let mut num = |field: &'static str, s: &str| -> u32 {
        s.trim().parse().unwrap_or_else(|_| {
            inv.add(field, "请填写整数");
            0
        })
    };
    let t = Targets {
        avg_response_s: num("avg_response_s", &f.avg_response_s),
        first_response_30s_pct: num("first_response_30s_pct", &f.first_response_30s_pct),
        human_3min_pct: num("human_3min_pct", &f.human_3min_pct),
        answer_question_pct: num("answer_question_pct", &f.answer_question_pct),
        invite_pct: num("invite_pct", &f.invite_pct),
        satisfaction_pct: num("satisfaction_pct", &f.satisfaction_pct),
        bot_resolution_pct: num("bot_resolution_pct", &f.bot_resolution_pct),
    };
    if !inv.0.is_empty() {
        return Err(AppError::BadRequest(format!("目标有误：{inv}")));
    }
    match state.desk.save_targets(&Actor::user(&me.user), t).await {
        Ok(()) => Ok(redirect("/dashboard?done=saved")),
        Err(desk::Error::Invalid(inv)) => Err(AppError::BadRequest(format!("目标有误：{inv}"))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/live.html")]
pub struct LivePage {
    pub ctx: PageCtx,
    /// The board, rendered (the same markup the refresh fetches).
    pub board: String,
}

#[derive(Template)]
#[template(path = "dashboard/live_board.html")]
pub struct LiveBoard {
    pub kpis: Vec<Kpi>,
    pub f: Figures,
    pub updated: String,
}

async fn live_board(state: &AppState) -> Result<LiveBoard, AppError> {
    let today = state.desk.today()?;
    let v = state.desk.range_metrics(today, today, None).await?;
    let f = v.total.figures();
    let settings = state.desk.settings()?;
    Ok(LiveBoard {
        kpis: kpis(&f, &settings.targets),
        f,
        updated: crate::model::settings::local_label(state.desk.clock().now(), settings.tz()),
    })
}

/// GET /dashboard/live — today's figures on a wall screen, refreshed as events arrive.
pub async fn live(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
    ctx: PageCtx,
) -> Result<LivePage, AppError> {
    Ok(LivePage {
        board: live_board(&state).await?.render()?,
        ctx,
    })
}

/// GET /dashboard/live/board — the board alone, for the page's refresh.
pub async fn live_fragment(
    state: web::Data<AppState>,
    _me: Require<Supervisors>,
) -> Result<HttpResponse, AppError> {
    super::workspace::fragment(&live_board(&state).await?)
}
