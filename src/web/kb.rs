//! 知识库: the entry list (search, filters, answer counts, bulk on/off and move), the
//! entry page (every field, and how the bot answers each phrasing now), synonyms and
//! shop words, import/export, and the "try the bot" box every KB page carries.

use super::extract::{CsrfForm, CsrfHeader, Require, Trainers};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::bot::kbfile::{self, Format, lines};
use crate::bot::{Band, Reply};
use crate::desk::kbedit::{Bulk, EntryRow, KbFilter, PhrasingChecks};
use crate::desk::training::parse_ids;
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::model::{Invalid, KbEntry, Lexicon, MatchMode};
use actix_web::http::StatusCode;
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Largest KB or product file the import takes.
pub const MAX_IMPORT: usize = 32 * 1024 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "kb/list.html")]
pub struct ListPage {
    pub ctx: PageCtx,
    pub rows: Vec<EntryRow>,
    pub total: usize,
    pub filter: KbFilter,
    pub categories: Vec<String>,
    pub scenes: Vec<String>,
    /// Why a bulk change was refused; the rows that were ticked stay ticked.
    pub error: Option<String>,
    pub chosen: Vec<String>,
}

impl ListPage {
    fn new(state: &AppState, ctx: PageCtx, filter: KbFilter) -> Result<ListPage, AppError> {
        let rows = state.desk.kb_rows(&filter)?;
        let (categories, scenes) = state.desk.kb_facets()?;
        Ok(ListPage {
            ctx,
            total: rows.len(),
            rows,
            filter,
            categories,
            scenes,
            error: None,
            chosen: Vec::new(),
        })
    }

    pub fn is_chosen(&self, id: &str) -> bool {
        self.chosen.iter().any(|c| c == id)
    }
}

/// GET /kb
pub async fn list(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
    filter: web::Query<KbFilter>,
) -> Result<ListPage, AppError> {
    ListPage::new(&state, ctx, filter.into_inner())
}

#[derive(Debug, Default, Deserialize)]
pub struct BulkForm {
    /// Chosen entry ids (one `ids` field per checkbox).
    #[serde(default)]
    pub ids: Vec<String>,
    /// `on`, `off` or `move`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub category: String,
    /// The list's query string, to return to.
    #[serde(default)]
    pub back: String,
}

/// POST /kb/bulk
pub async fn bulk(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    ctx: PageCtx,
    body: web::Bytes,
    csrf: CsrfHeader,
) -> Result<HttpResponse, AppError> {
    // Repeated `ids` fields need the list-aware parser, so this form is read by hand.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("表单格式有误".into()))?;
    csrf.check_form(&pairs)?;
    let mut f = BulkForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "ids" => f.ids.push(v),
            "action" => f.action = v,
            "category" => f.category = v,
            "back" => f.back = v,
            _ => {}
        }
    }
    let change = match f.action.as_str() {
        "on" => Ok(Bulk::Enable),
        "off" => Ok(Bulk::Disable),
        "move" => Ok(Bulk::Move(f.category.clone())),
        _ => Err(AppError::BadRequest("请选择批量操作".into())),
    };
    let done = match change {
        Ok(change) => state
            .desk
            .bulk_entries(&Actor::user(&me.user), &f.ids, change)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    // A refused change shows the list again, with why and the rows still ticked.
    if let Err(AppError::BadRequest(why)) = done {
        let filter: KbFilter =
            serde_urlencoded::from_str(f.back.trim_start_matches('?')).unwrap_or_default();
        let mut page = ListPage::new(&state, ctx, filter)?;
        page.error = Some(why);
        page.chosen = f.ids;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    done?;
    let back = if f.back.starts_with('?') || f.back.is_empty() {
        f.back
    } else {
        String::new()
    };
    let sep = if back.is_empty() { "?" } else { "&" };
    Ok(redirect(&format!("/kb{back}{sep}done=saved")))
}

/// The entry form's fields, as text.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct EntryForm {
    pub id: String,
    pub question: String,
    /// One per line.
    pub similar: String,
    pub negative: String,
    pub answer: String,
    pub pre_sale_answer: String,
    pub after_sale_answer: String,
    /// `SKU=answer`, one per line.
    pub product_answers: String,
    /// Entry ids, one per line.
    pub follow_ups: String,
    pub category: String,
    pub scene: String,
    /// `2026-11-11 00:00` (or the browser's `2026-11-11T00:00`), shop time zone.
    pub valid_from: String,
    pub valid_until: String,
    pub match_mode: String,
    pub keywords: String,
    pub pattern: String,
    pub enabled: String,
    pub notify_human: String,
    /// Borrow industry phrasings (checkbox: non-empty when ticked).
    pub industry: String,
    /// Training questions this entry settles (comma-separated ids).
    pub train_ids: String,
}

fn local_input(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A checkbox's form value: `1` when ticked, empty (as a browser omits it) when not.
fn ticked(on: bool) -> String {
    if on { "1".into() } else { String::new() }
}

impl EntryForm {
    /// The form showing `e`.
    pub fn from_entry(e: &KbEntry, tz: Tz) -> EntryForm {
        EntryForm {
            id: e.id.clone(),
            question: e.question.clone(),
            similar: e.similar.join("\n"),
            negative: e.negative.join("\n"),
            answer: e.answer.clone(),
            pre_sale_answer: e.pre_sale_answer.clone().unwrap_or_default(),
            after_sale_answer: e.after_sale_answer.clone().unwrap_or_default(),
            product_answers: e
                .product_answers
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            follow_ups: e.follow_ups.join("\n"),
            category: e.category.clone(),
            scene: e.scene.clone(),
            valid_from: local_input(e.valid_from, tz),
            valid_until: local_input(e.valid_until, tz),
            match_mode: e.match_mode.as_str().into(),
            keywords: e.keywords.join("\n"),
            pattern: e.pattern.clone().unwrap_or_default(),
            enabled: ticked(e.enabled),
            notify_human: ticked(e.notify_human),
            industry: ticked(e.industry),
            train_ids: String::new(),
        }
    }

    /// The entry the form describes, and the phrasings typed twice (dropped).
    pub fn to_entry(&self, tz: Tz) -> Result<(KbEntry, Vec<String>), Invalid> {
        let mut inv = Invalid::default();
        let mut product_answers = BTreeMap::new();
        for l in lines(&self.product_answers) {
            match l.split_once(['=', '＝']) {
                Some((sku, a)) if !sku.trim().is_empty() && !a.trim().is_empty() => {
                    product_answers.insert(sku.trim().to_string(), a.trim().to_string());
                }
                _ => inv.add("product_answers", format!("“{l}”应写成 商品编码=答案")),
            }
        }
        let mut time = |field: &'static str, s: &str| {
            kbfile::parse_time(&s.replace('T', " "), tz).unwrap_or_else(|m| {
                inv.add(field, m);
                None
            })
        };
        let valid_from = time("valid_from", &self.valid_from);
        let valid_until = time("valid_until", &self.valid_until);
        let match_mode = MatchMode::parse(&self.match_mode).unwrap_or_else(|| {
            inv.add("match_mode", "未知的匹配方式");
            MatchMode::Intelligent
        });
        let similar = lines(&self.similar);
        let mut seen = std::collections::HashSet::new();
        seen.insert(self.question.trim().to_string());
        let mut dups: Vec<String> = Vec::new();
        for s in &similar {
            // A phrasing typed three times is one note, not two.
            if !seen.insert(s.to_string()) && !dups.contains(s) {
                dups.push(s.clone());
            }
        }
        let entry = KbEntry {
            id: self.id.trim().to_string(),
            question: self.question.clone(),
            similar,
            negative: lines(&self.negative),
            answer: self.answer.clone(),
            pre_sale_answer: Some(self.pre_sale_answer.clone()),
            after_sale_answer: Some(self.after_sale_answer.clone()),
            product_answers,
            follow_ups: lines(&self.follow_ups),
            category: self.category.clone(),
            scene: self.scene.clone(),
            enabled: !self.enabled.is_empty(),
            notify_human: !self.notify_human.is_empty(),
            valid_from,
            valid_until,
            match_mode,
            keywords: lines(&self.keywords),
            pattern: Some(self.pattern.clone()),
            industry: !self.industry.is_empty(),
        }
        .normalized();
        if let Err(more) = entry.validate() {
            inv.0.extend(more.0);
        }
        inv.into_result().map(|_| (entry, dups))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/entry.html")]
pub struct EntryPage {
    pub ctx: PageCtx,
    /// Creating (no entry stored under this id yet).
    pub new: bool,
    pub form: EntryForm,
    pub errors: Invalid,
    pub modes: [MatchMode; 4],
    pub categories: Vec<String>,
    pub scenes: Vec<String>,
    /// How the bot answers each phrasing now (stored entries only).
    pub checks: PhrasingChecks,
    /// Notes after a save (phrasings typed twice).
    pub notes: Vec<String>,
    /// The `{{name}}` variables an answer may use.
    pub variables: Vec<&'static str>,
}

impl EntryPage {
    fn new(
        state: &AppState,
        ctx: PageCtx,
        new: bool,
        form: EntryForm,
    ) -> Result<EntryPage, AppError> {
        let (categories, scenes) = state.desk.kb_facets()?;
        Ok(EntryPage {
            ctx,
            new,
            form,
            errors: Invalid::default(),
            modes: MatchMode::ALL,
            categories,
            scenes,
            checks: PhrasingChecks::default(),
            notes: Vec::new(),
            variables: crate::model::ShopSettings::variable_names().collect(),
        })
    }

    /// How many phrasings the bot does not answer with this entry.
    pub fn conflicts(&self) -> usize {
        self.checks.rows.iter().filter(|c| !c.ok).count()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// Training question ids to start from.
    #[serde(default)]
    pub from: String,
}

/// GET /kb/new — an empty form, or one prefilled from training questions (the buyer's
/// words as the question and phrasings, the agent's actual answer as the answer).
pub async fn new_form(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
    q: web::Query<NewQuery>,
) -> Result<EntryPage, AppError> {
    let mut form = EntryForm {
        enabled: ticked(true),
        industry: ticked(true),
        match_mode: MatchMode::Intelligent.as_str().into(),
        ..EntryForm::default()
    };
    if !q.from.is_empty() {
        let ids = parse_ids(&q.from)?;
        let items = state.desk.open_training_items(&ids)?;
        let queue = state.desk.training_queue(usize::MAX)?;
        let answer = queue
            .groups
            .iter()
            .find(|g| g.items.iter().any(|i| i.id == items[0].id))
            .and_then(|g| g.agent_answer.clone());
        // The buyer's words without the trailing "?" or "！" a phrasing does not need.
        let mut texts: Vec<String> = Vec::new();
        for i in &items {
            let t = i
                .text
                .trim()
                .trim_end_matches(['?', '？', '!', '！', '.', '。', '~', '～'])
                .to_string();
            if !t.is_empty() && !texts.contains(&t) {
                texts.push(t);
            }
        }
        if texts.is_empty() {
            texts.extend(items.first().map(|i| i.text.clone()));
        }
        form.question = texts.remove(0);
        form.similar = texts.join("\n");
        form.answer = answer.unwrap_or_default();
        form.train_ids = items
            .iter()
            .map(|i| i.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
    }
    EntryPage::new(&state, ctx, true, form)
}

/// POST /kb/new
pub async fn create(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    ctx: PageCtx,
    CsrfForm(mut form): CsrfForm<EntryForm>,
) -> Result<HttpResponse, AppError> {
    let tz = state.desk.settings()?.tz();
    let actor = Actor::user(&me.user);
    if form.id.trim().is_empty() {
        form.id = state.desk.new_entry_id()?;
    }
    let settle = if form.train_ids.trim().is_empty() {
        None
    } else {
        Some(parse_ids(&form.train_ids)?)
    };
    let saved = match form.to_entry(tz) {
        Ok((entry, dups)) => match settle {
            Some(ids) => state.desk.train_create_entry(&actor, &ids, entry).await,
            None => state.desk.create_entry(&actor, entry, None).await,
        }
        .map(|e| (e, dups)),
        Err(inv) => Err(desk::Error::Invalid(inv)),
    };
    match saved {
        Ok((e, dups)) => {
            let back = if form.train_ids.trim().is_empty() {
                let mut to = format!("/kb/e/{}?done=saved", super::page::url_encode(&e.id));
                if !dups.is_empty() {
                    to.push_str("&merged=");
                    to.push_str(&super::page::url_encode(&dups.join("\n")));
                }
                to
            } else {
                "/kb/training?done=saved".to_string()
            };
            Ok(redirect(&back))
        }
        Err(desk::Error::Invalid(errors)) => {
            let mut page = EntryPage::new(&state, ctx, true, form)?;
            page.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

fn stored_entry(state: &AppState, id: &str) -> Result<KbEntry, AppError> {
    use crate::store::prelude::*;
    state
        .desk
        .store()
        .read()?
        .get_entry(id)?
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub struct EntryQuery {
    /// Phrasings typed twice on the form that created the entry, one per line.
    #[serde(default)]
    pub merged: String,
}

/// The notes for phrasings typed twice and stored once.
fn merged_notes<'a>(dups: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    dups.into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| format!("“{d}”重复填写，已合并为一条"))
        .collect()
}

/// GET /kb/e/{id}
pub async fn entry(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
    id: web::Path<String>,
    q: web::Query<EntryQuery>,
) -> Result<EntryPage, AppError> {
    let e = stored_entry(&state, &id)?;
    let tz = state.desk.settings()?.tz();
    let mut page = EntryPage::new(&state, ctx, false, EntryForm::from_entry(&e, tz))?;
    page.checks = state.desk.check_phrasings(&e)?;
    page.notes = merged_notes(q.merged.lines());
    Ok(page)
}

/// POST /kb/e/{id} — saves; the page comes back with how the bot now answers.
pub async fn save(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    mut ctx: PageCtx,
    id: web::Path<String>,
    CsrfForm(mut form): CsrfForm<EntryForm>,
) -> Result<HttpResponse, AppError> {
    stored_entry(&state, &id)?;
    form.id = id.into_inner();
    let tz = state.desk.settings()?.tz();
    let saved = match form.to_entry(tz) {
        Ok((entry, dups)) => state
            .desk
            .save_entry(&Actor::user(&me.user), entry)
            .await
            .map(|e| (e, dups)),
        Err(inv) => Err(desk::Error::Invalid(inv)),
    };
    match saved {
        Ok((e, dups)) => {
            ctx.flash = Some("已保存，机器人已按新内容回答");
            let mut page = EntryPage::new(&state, ctx, false, EntryForm::from_entry(&e, tz))?;
            page.checks = state.desk.check_phrasings(&e)?;
            page.notes = merged_notes(dups.iter().map(String::as_str));
            render(StatusCode::OK, &page)
        }
        Err(desk::Error::Invalid(errors)) => {
            let mut page = EntryPage::new(&state, ctx, false, form)?;
            page.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

/// POST /kb/e/{id}/delete
pub async fn delete(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    id: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    state.desk.delete_entry(&Actor::user(&me.user), &id).await?;
    Ok(redirect("/kb?done=deleted"))
}

/// What the try box shows.
pub struct TryView {
    pub text: String,
    pub reply: Option<Reply>,
    pub error: Option<String>,
}

impl TryView {
    pub fn band_label(&self) -> &'static str {
        self.reply.as_ref().map(|r| r.band.label()).unwrap_or("")
    }

    pub fn band(&self) -> &'static str {
        self.reply.as_ref().map(|r| r.band.as_str()).unwrap_or("")
    }

    pub fn is_exact(&self) -> bool {
        self.reply.as_ref().is_some_and(|r| r.band == Band::Exact)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/try.html")]
pub struct TryPage {
    pub ctx: PageCtx,
    pub t: TryView,
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/try_result.html")]
pub struct TryFragment {
    pub t: TryView,
}

#[derive(Debug, Default, Deserialize)]
pub struct TryQuery {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub product: String,
    /// `1`: only the result, for the box's script.
    #[serde(default)]
    pub fragment: String,
}

/// GET /kb/try — the bot's reply with band, candidates and why; a page, or (with
/// `fragment=1`) the part the try box shows.
pub async fn try_bot(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
    q: web::Query<TryQuery>,
) -> Result<HttpResponse, AppError> {
    let text = q.text.trim().to_string();
    let product = Some(q.product.trim()).filter(|p| !p.is_empty());
    let (reply, error) = match desk::service::check_text(&text) {
        Ok(_) => (Some(state.desk.try_bot(&text, product)?), None),
        Err(desk::Error::Invalid(i)) => (None, Some(i.to_string())),
        Err(e) => return Err(e.into()),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let t = TryView { text, reply, error };
    if q.fragment == "1" {
        render(status, &TryFragment { t })
    } else {
        render(status, &TryPage { ctx, t })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/lexicon.html")]
pub struct LexiconPage {
    pub ctx: PageCtx,
    /// `synonyms` or `words`.
    pub tab: &'static str,
    pub text: String,
    pub count: usize,
    pub error: Option<String>,
}

fn synonyms_text(l: &Lexicon) -> String {
    l.synonyms
        .iter()
        .map(|g| g.join("，"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// GET /kb/synonyms
pub async fn synonyms(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
) -> Result<LexiconPage, AppError> {
    let l = state.desk.lexicon()?;
    Ok(LexiconPage {
        ctx,
        tab: "synonyms",
        text: synonyms_text(&l),
        count: l.synonyms.len(),
        error: None,
    })
}

/// GET /kb/words
pub async fn words(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
) -> Result<LexiconPage, AppError> {
    let l = state.desk.lexicon()?;
    Ok(LexiconPage {
        ctx,
        tab: "words",
        text: l.words.join("\n"),
        count: l.words.len(),
        error: None,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct LexiconForm {
    #[serde(default)]
    pub text: String,
}

/// Most synonym groups or shop words.
const MAX_LEXICON: usize = 5000;

/// POST /kb/synonyms and /kb/words (the path says which list is replaced).
pub async fn save_lexicon(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    ctx: PageCtx,
    req: actix_web::HttpRequest,
    CsrfForm(f): CsrfForm<LexiconForm>,
) -> Result<HttpResponse, AppError> {
    let tab = if req.path().ends_with("/words") {
        "words"
    } else {
        "synonyms"
    };
    let mut l = state.desk.lexicon()?;
    let error = if tab == "words" {
        let mut seen = std::collections::HashSet::new();
        l.words = lines(&f.text)
            .into_iter()
            .filter(|w| seen.insert(w.clone()))
            .collect();
        let bad = l
            .words
            .iter()
            .find(|w| w.chars().count() > 20 || w.chars().any(char::is_whitespace));
        bad.map(|w| format!("“{w}”不是一个词（最多 20 个字，不能有空格）"))
    } else {
        l.synonyms = kbfile::read_synonyms(&f.text);
        synonym_problem(&f.text)
    };
    let error = error.or_else(|| {
        (l.words.len() > MAX_LEXICON || l.synonyms.len() > MAX_LEXICON)
            .then(|| format!("最多 {MAX_LEXICON} 条"))
    });
    if let Some(error) = error {
        let page = LexiconPage {
            ctx,
            tab,
            count: 0,
            text: f.text,
            error: Some(error),
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    state.desk.save_lexicon(&Actor::user(&me.user), l).await?;
    Ok(redirect(&format!("/kb/{tab}?done=saved")))
}

/// The first problem of a synonym list, by line: a group of one word, or a word in two
/// groups (it would map to one of them only: "跑绒" in 钻绒 and 掉毛).
fn synonym_problem(text: &str) -> Option<String> {
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let Some(group) = kbfile::read_synonyms(content).pop() else {
            return Some(format!("第 {n} 行“{content}”至少要有两个词，用逗号分开"));
        };
        let mut in_line = std::collections::HashSet::new();
        for w in group.into_iter().filter(|w| in_line.insert(w.clone())) {
            if let Some(m) = first_seen.insert(w.clone(), n) {
                return Some(format!(
                    "“{w}”同时出现在第 {m} 行和第 {n} 行：一个词只能属于一组同义词，请合并成一行或删去一处"
                ));
            }
        }
    }
    None
}

#[derive(Template, WebTemplate)]
#[template(path = "kb/io.html")]
pub struct IoPage {
    pub ctx: PageCtx,
    pub entries: usize,
    pub products: usize,
}

/// GET /kb/io — import and export.
pub async fn io_page(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    ctx: PageCtx,
) -> Result<IoPage, AppError> {
    Ok(IoPage {
        ctx,
        entries: state.desk.list_entries()?.len(),
        products: state.desk.list_products()?.len(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    /// `csv` or `jsonl`.
    #[serde(default)]
    pub format: String,
    /// For imports: `replace` drops entries not in the file.
    #[serde(default)]
    pub mode: String,
}

fn format_of(s: &str) -> Result<Format, AppError> {
    match s {
        "csv" => Ok(Format::Csv),
        "jsonl" | "" => Ok(Format::JsonLines),
        other => Err(AppError::BadRequest(format!("未知的文件格式：{other}"))),
    }
}

/// A file download.
pub fn attachment(name: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name.to_string())],
        })
        .body(body)
}

/// A download's file name with the shop's date, e.g. `xiaoer-kb-20261124.csv`: a
/// seller keeping several exports tells them apart.
pub fn dated_name(state: &AppState, stem: &str, ext: &str) -> Result<String, AppError> {
    let day = state.desk.today()?.format("%Y%m%d");
    Ok(format!("xiaoer-{stem}-{day}.{ext}"))
}

/// GET /kb/export?format=csv|jsonl
pub async fn export(
    state: web::Data<AppState>,
    _me: Require<Trainers>,
    q: web::Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let format = format_of(&q.format)?;
    let tz = state.desk.settings()?.tz();
    let entries = state.desk.list_entries()?;
    let mut out = Vec::new();
    kbfile::write(&mut out, &entries, format, tz).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(match format {
        Format::Csv => attachment(
            &dated_name(&state, "kb", "csv")?,
            "text/csv; charset=utf-8",
            out,
        ),
        Format::JsonLines => attachment(
            &dated_name(&state, "kb", "jsonl")?,
            "application/x-ndjson; charset=utf-8",
            out,
        ),
    })
}

/// Reads an uploaded file's bytes (up to `MAX_IMPORT`).
pub async fn read_upload(payload: web::Payload) -> Result<web::Bytes, AppError> {
    let body = payload
        .to_bytes_limited(MAX_IMPORT)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?
        .map_err(|_| AppError::BadRequest("上传中断，请重试".into()))?;
    if body.is_empty() {
        return Err(AppError::BadRequest("请选择要导入的文件".into()));
    }
    Ok(body)
}

/// The JSON an import answers: what it did, or every rejected row.
pub fn import_report(result: Result<serde_json::Value, Vec<(usize, String)>>) -> HttpResponse {
    match result {
        Ok(done) => HttpResponse::Ok().json(serde_json::json!({ "ok": true, "done": done })),
        Err(bad) => HttpResponse::UnprocessableEntity().json(serde_json::json!({
            "ok": false,
            "rejected": bad.iter().map(|(line, msg)| serde_json::json!({"line": line, "message": msg})).collect::<Vec<_>>(),
        })),
    }
}

/// POST /kb/import?format=csv|jsonl&mode=merge|replace — the file is the body (the page
/// uploads it with a progress bar); all rows are checked and nothing is stored unless
/// every row is good.
pub async fn import(
    state: web::Data<AppState>,
    me: Require<Trainers>,
    csrf: CsrfHeader,
    q: web::Query<FormatQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    csrf.check()?;
    let format = format_of(&q.format)?;
    let replace = match q.mode.as_str() {
        "replace" => true,
        "merge" | "" => false,
        other => return Err(AppError::BadRequest(format!("未知的导入方式：{other}"))),
    };
    let body = read_upload(payload).await?;
    let tz = state.desk.settings()?.tz();
    // Every bad row at once: the file's own, then those against the KB.
    let (rows, mut bad) = kbfile::read_checked(&body[..], format, tz);
    bad.extend(state.desk.kb_import_problems(&rows, replace)?);
    if !bad.is_empty() {
        bad.sort_by_key(|(line, _)| *line);
        return Ok(import_report(Err(bad)));
    }
    let entries = rows.into_iter().map(|(_, e)| e).collect();
    match state
        .desk
        .import_kb(&Actor::user(&me.user), entries, replace)
        .await
    {
        Ok(s) => Ok(import_report(Ok(serde_json::json!({
            "added": s.added, "replaced": s.replaced, "unchanged": s.unchanged,
            "removed": s.removed,
        })))),
        Err(desk::Error::Invalid(inv)) => Ok(import_report(Err(inv
            .0
            .iter()
            .map(|f| (0, f.message.clone()))
            .collect()))),
        Err(e) => Err(e.into()),
    }
}
