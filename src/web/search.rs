//! 搜索: the history search page (query, filters, hits with the match marked, newest
//! first, "更早的结果" for the next page) and the history view that opens a
//! conversation at a hit.

use super::extract::{Policy, Require};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::desk::{self, history::HistoryHit, history::HistoryPage, history::HistoryQuery};
use crate::error::AppError;
use crate::model::settings::local_label;
use crate::model::{ConvState, Message, Role, Sender};
use crate::search::text::Piece;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono_tz::Tz;

/// Those who may search history: every console role.
pub struct Searchers;
impl Policy for Searchers {
    const ROLES: Option<&'static [Role]> =
        Some(&[Role::Owner, Role::Supervisor, Role::Agent, Role::Trainer]);
}

/// One option of a filter select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts(chosen: &str, all: impl IntoIterator<Item = (String, String)>) -> Vec<Opt> {
    all.into_iter()
        .map(|(value, label)| Opt {
            selected: value == chosen,
            value,
            label,
        })
        .collect()
}

/// A hit, ready to show.
pub struct Row {
    pub time: String,
    pub channel: String,
    pub sender: String,
    pub pieces: Vec<Piece>,
    pub state: &'static str,
    pub state_label: &'static str,
    pub conv: u64,
    pub seq: u64,
    /// The conversation at the hit: the workspace, or the history view.
    pub href: String,
}

fn sender_label(m: &Message) -> String {
    match &m.from {
        Sender::Buyer => "买家".into(),
        Sender::Bot => "机器人".into(),
        Sender::Agent { name, .. } => format!("客服 {name}"),
        Sender::System => "系统".into(),
    }
}

fn row(h: HistoryHit, tz: Tz) -> Row {
    let (conv, seq) = (h.conv.id.0, h.message.seq);
    Row {
        time: local_label(h.message.at, tz),
        channel: h.conv.channel.clone(),
        sender: sender_label(&h.message),
        pieces: h.snippet,
        state: h.conv.state.as_str(),
        state_label: h.conv.state.label(),
        conv,
        seq,
        href: if h.in_desk {
            format!("/desk/c/{conv}#m{seq}")
        } else {
            format!("/conversations/{conv}#m{seq}")
        },
    }
}

/// A buyer found by nickname or platform id, ready to show.
pub struct BuyerRow {
    pub nickname: String,
    pub channel: String,
    /// The platform's id for the buyer (none for the web chat, whose ids are secret).
    pub external_id: Option<String>,
    pub member_level: u8,
    pub region: String,
    pub tags: Vec<String>,
    /// Their latest conversations: page, when it began, state.
    pub convs: Vec<(String, String, &'static str)>,
}

fn buyer_row(h: desk::history::BuyerHit, tz: Tz) -> BuyerRow {
    let b = h.buyer;
    let web = b.channel == crate::model::conv::WEB_CHANNEL;
    BuyerRow {
        convs: h
            .convs
            .into_iter()
            .map(|(c, in_desk)| {
                let href = if in_desk {
                    format!("/desk/c/{}", c.id.0)
                } else {
                    format!("/conversations/{}", c.id.0)
                };
                (href, local_label(c.created_at, tz), c.state.label())
            })
            .collect(),
        nickname: super::workspace::buyer_name(&b),
        external_id: (!web).then_some(b.external_id),
        channel: b.channel,
        member_level: b.member_level,
        region: b.region,
        tags: b.tags,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "search/results.html")]
pub struct SearchPage {
    pub ctx: PageCtx,
    pub q: HistoryQuery,
    pub error: Option<String>,
    pub searched: bool,
    pub rows: Vec<Row>,
    pub buyers: Vec<BuyerRow>,
    pub total: Option<usize>,
    /// The next page's URL.
    pub more: Option<String>,
    pub rebuilding: bool,
    pub agents: Vec<Opt>,
    pub channels: Vec<Opt>,
    pub states: Vec<Opt>,
    pub senders: Vec<Opt>,
}

impl SearchPage {
    fn new(state: &AppState, ctx: PageCtx, q: HistoryQuery) -> Result<SearchPage, AppError> {
        let agents = state
            .desk
            .list_users()?
            .into_iter()
            .filter(|u| u.role != Role::Trainer)
            .map(|u| (u.id.0.to_string(), u.nickname));
        let mut channels = state.desk.history_channels()?;
        if !channels
            .iter()
            .any(|c| c == crate::model::conv::WEB_CHANNEL)
        {
            channels.insert(0, crate::model::conv::WEB_CHANNEL.to_string());
        }
        let states = [
            ConvState::Bot,
            ConvState::Queued,
            ConvState::Human,
            ConvState::Closed,
        ]
        .map(|s| (s.as_str().to_string(), s.label().to_string()));
        let senders = [("buyer", "买家"), ("bot", "机器人"), ("agent", "客服")]
            .map(|(v, l)| (v.to_string(), l.to_string()));
        Ok(SearchPage {
            agents: opts(&q.agent, agents),
            channels: opts(
                &q.channel,
                channels.into_iter().map(|c| {
                    let label = crate::model::conv::channel_label(&c);
                    (c, label)
                }),
            ),
            states: opts(&q.state, states),
            senders: opts(&q.sender, senders),
            ctx,
            q,
            error: None,
            searched: false,
            rows: Vec::new(),
            buyers: Vec::new(),
            total: None,
            more: None,
            rebuilding: false,
        })
    }

    fn show(&mut self, found: HistoryPage, tz: Tz) {
        self.searched = true;
        self.total = found.total;
        self.rebuilding = found.rebuilding;
        self.more = found.more.map(|before| {
            let next = HistoryQuery {
                before: before.to_string(),
                ..self.q.clone()
            };
            format!(
                "/search?{}",
                serde_urlencoded::to_string(&next).unwrap_or_default()
            )
        });
        self.rows = found.hits.into_iter().map(|h| row(h, tz)).collect();
        self.buyers = found.buyers.into_iter().map(|h| buyer_row(h, tz)).collect();
    }
}

/// GET /search — the form; with a query, its hits (400 with the form for bad input).
pub async fn page(
    state: web::Data<AppState>,
    me: Require<Searchers>,
    ctx: PageCtx,
    req: HttpRequest,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let mut page = SearchPage::new(&state, ctx, q.into_inner())?;
    if req.query_string().is_empty() {
        return render(StatusCode::OK, &page);
    }
    match state.desk.search_history(&me.user, &page.q) {
        Ok(found) => {
            page.show(found, state.desk.settings()?.tz());
            render(StatusCode::OK, &page)
        }
        Err(desk::Error::Invalid(inv)) => {
            page.error = Some(inv.to_string());
            render(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => Err(e.into()),
    }
}
