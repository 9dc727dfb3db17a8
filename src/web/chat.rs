//! The buyer's chat: the page (`/chat`, also inside the widget's frame) and its JSON
//! calls under `/api/v1/chat/`. A buyer is known by a secret token: the `xiaoer_buyer`
//! cookie of the chat page, or, inside the widget on a shop's own site (where browsers
//! may withhold the cookie), the token the widget keeps, sent as the `X-Xiaoer-Buyer`
//! header (or `?b=` for the event stream). Buyers only ever see their own conversation.

use super::api::outcome_json;
use super::extract::{self, ApiJson};
use super::live;
use crate::AppState;
use crate::bot::FollowUp;
use crate::desk::service::RatingInput;
use crate::desk::webchat::{ChatView, WebBuyer};
use crate::error::{ApiError, AppError};
use crate::model::conv::{RATING_LEVELS, RATING_REASONS, WEB_CHANNEL};
use crate::model::{ConvId, Event, EventKind};
use crate::store::prelude::*;
use actix_web::cookie::{SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::cell::{Cell, RefCell};

/// The buyer's cookie.
pub const BUYER_COOKIE: &str = "xiaoer_buyer";
/// The header the widget's frame sends the buyer's token in.
pub const BUYER_HEADER: &str = "x-xiaoer-buyer";
/// Messages one buyer may send per `SEND_WINDOW_SECS`.
pub const SEND_LIMIT: usize = 20;
pub const SEND_WINDOW_SECS: i64 = 30;
/// Hot questions on the page.
const HOT: usize = 6;

/// The buyer making a chat call.
pub struct Buyer(pub WebBuyer);

impl FromRequest for Buyer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Buyer, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(buyer_of(req).map(Buyer).map_err(ApiError))
    }
}

fn buyer_of(req: &HttpRequest) -> Result<WebBuyer, AppError> {
    let header = req
        .headers()
        .get(BUYER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let query = || {
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("b").cloned())
    };
    let cookie = || req.cookie(BUYER_COOKIE).map(|c| c.value().to_string());
    let token = header
        .or_else(query)
        .or_else(cookie)
        .ok_or(AppError::NoBuyer)?;
    WebBuyer::new(&token).map_err(|_| AppError::NoBuyer)
}

#[derive(Debug, Deserialize)]
pub struct ChatQuery {
    /// SKU of the product the buyer came from.
    #[serde(default)]
    pub product: Option<String>,
    /// Shown inside the widget's frame (no page chrome).
    #[serde(default)]
    pub embed: Option<String>,
}

/// The product card at the top of the chat.
pub struct ProductCard {
    pub sku: String,
    pub name: String,
    pub price: Option<String>,
    pub image: Option<String>,
    /// The product page, opened outside the chat.
    pub link: Option<String>,
    /// Stock recorded as 0.
    pub sold_out: bool,
}

#[derive(Template)]
#[template(path = "chat.html")]
pub struct ChatPage {
    pub shop_name: String,
    pub greeting: String,
    pub hot: Vec<FollowUp>,
    pub product: Option<ProductCard>,
    pub embed: bool,
    pub staffed_label: String,
    pub levels: &'static [(u8, &'static str)],
    pub reasons: &'static [&'static str],
}

impl ChatPage {
    fn asset(&self, name: &str) -> String {
        super::assets::url(name)
    }
}

/// GET /chat — the buyer's chat page; gives a new visitor their buyer cookie.
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ChatQuery>,
) -> Result<HttpResponse, AppError> {
    let desk = &state.desk;
    let settings = desk.settings()?;
    let product = q
        .product
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|sku| desk.bot().ok()?.product(sku))
        .map(|p| ProductCard {
            price: p.pay_price().map(|v| format!("¥{v}")),
            sold_out: p.stock == Some(0),
            sku: p.sku,
            name: p.name,
            image: p.image,
            link: p.link,
        });
    let page = ChatPage {
        shop_name: settings.shop_name.clone(),
        greeting: desk.greeting()?,
        hot: desk.hot_questions(HOT)?,
        product,
        embed: q.embed.is_some(),
        staffed_label: settings.staffed.label(),
        levels: &RATING_LEVELS,
        reasons: &RATING_REASONS,
    };
    let mut res = HttpResponse::Ok();
    res.content_type(actix_web::http::header::ContentType::html())
        // Any shop page may show the chat in the widget's frame.
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; \
             frame-ancestors *; form-action 'self'; base-uri 'none'; object-src 'none'",
        ))
        .insert_header(("Cache-Control", "no-store"));
    if req
        .cookie(BUYER_COOKIE)
        .is_none_or(|c| WebBuyer::new(c.value()).is_err())
    {
        let secure = state.config.secure_cookies();
        // In a frame on another site only a `SameSite=None` cookie is sent, and browsers
        // take those over HTTPS only; the widget's header covers the rest.
        let same_site = if secure {
            SameSite::None
        } else {
            SameSite::Lax
        };
        let mut c = extract::cookie(
            BUYER_COOKIE,
            WebBuyer::fresh().token().to_string(),
            secure,
            same_site,
        );
        c.set_max_age(CookieDuration::days(365));
        res.cookie(c);
    }
    Ok(res.body(page.render()?))
}

/// The chat state as the page's script reads it.
fn view_json(v: &ChatView) -> serde_json::Value {
    let conv = v.conv.as_ref();
    serde_json::json!({
        "conversation_id": conv.map(|c| c.id.0),
        "state": conv.map(|c| c.state.as_str()),
        "queue_ahead": v.queue_ahead,
        "agent": v.agent,
        "invited": conv.is_some_and(|c| c.invited_at.is_some() && c.rating.is_none()),
        "rated": conv.and_then(|c| c.rating.as_ref()).map(|r| r.level),
        "messages": v.messages.iter().map(|m| m.wire()).collect::<Vec<_>>(),
        "last_event": v.last_event,
    })
}

/// GET /api/v1/chat/history — the buyer's latest conversation.
pub async fn history(
    state: web::Data<AppState>,
    Buyer(buyer): Buyer,
) -> Result<HttpResponse, ApiError> {
    let view = state.desk.chat_view(&buyer)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(view_json(&view)))
}

#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    pub text: String,
    #[serde(default)]
    pub client_msg_id: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
}

/// POST /api/v1/chat/messages — the buyer writes; answered after the durable commit.
pub async fn send(
    state: web::Data<AppState>,
    ApiJson(m): ApiJson<ChatMessage>,
    Buyer(buyer): Buyer,
) -> Result<HttpResponse, ApiError> {
    crate::desk::service::check_text(&m.text)?;
    if let Some(id) = &m.client_msg_id
        && (id.is_empty() || id.len() > 64)
    {
        return Err(AppError::BadRequest("client_msg_id 为 1–64 个字符".into()).into());
    }
    state
        .chat_throttle
        .hit(buyer.token())
        .map_err(|_| AppError::TooMany("发送太快了，请稍等片刻再发".into()))?;
    let o = state
        .desk
        .chat_send(&buyer, &m.text, m.client_msg_id, m.product)
        .await?;
    let mut body = outcome_json(&o);
    body.queue_ahead = Some(state.desk.queue_ahead(&o.conv)?);
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    pub q: String,
}

/// GET /api/v1/chat/suggest?q= — standard questions for what the buyer is typing.
pub async fn suggest(
    state: web::Data<AppState>,
    q: web::Query<SuggestQuery>,
) -> Result<HttpResponse, ApiError> {
    let typed: String = q.q.chars().take(50).collect();
    let list = state.desk.suggest(&typed, 6)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "suggestions": list })))
}

#[derive(Debug, Deserialize)]
pub struct ChatRating {
    pub conversation_id: u64,
    #[serde(flatten)]
    pub rating: RatingInput,
}

/// POST /api/v1/chat/rating — the buyer rates the conversation they were invited for.
pub async fn rate(
    state: web::Data<AppState>,
    ApiJson(r): ApiJson<ChatRating>,
    Buyer(buyer): Buyer,
) -> Result<HttpResponse, ApiError> {
    let rating = state
        .desk
        .chat_rate(&buyer, ConvId(r.conversation_id), r.rating)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true, "level": rating.level })))
}

/// GET /api/v1/chat/events — live updates of the buyer's conversation (server-sent
/// events, resumable with `Last-Event-ID` or `?after=`).
pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    Buyer(buyer): Buyer,
) -> Result<HttpResponse, ApiError> {
    let after = live::last_seen(&req, &state)?;
    let known = Cell::new(state.desk.web_buyer_id(&buyer)?);
    let external = buyer.external_id();
    // State and queue frames describe the conversation as it is when they are made, so
    // events committed together (queued, then assigned) make the same frame: each is
    // sent only when it says something new.
    let said: RefCell<Vec<live::Frame>> = RefCell::new(Vec::new());
    Ok(live::stream(
        state.into_inner().into(),
        after,
        move |st, e| {
            if known.get().is_none() {
                // The buyer's first message creates them.
                let found = st
                    .desk
                    .store()
                    .read()
                    .ok()?
                    .find_buyer(WEB_CHANNEL, &external);
                known.set(found.ok().flatten().map(|b| b.id));
            }
            let (name, data) = buyer_frame(st, e, known.get()?)?;
            if matches!(name, "state" | "queue") {
                let mut said = said.borrow_mut();
                match said.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, last)) if *last == data => return None,
                    Some((_, last)) => *last = data.clone(),
                    None => said.push((name, data.clone())),
                }
            }
            Some((name, data))
        },
    ))
}

/// What a buyer's page hears of event `e`: their own conversation's messages, state,
/// rating invitation; and, while they wait in the queue, their new place.
fn buyer_frame(st: &AppState, e: &Event, buyer: crate::model::BuyerId) -> Option<live::Frame> {
    let moved = matches!(e.kind, EventKind::State { .. } | EventKind::Assigned { .. });
    if e.channel != WEB_CHANNEL && !moved {
        return None;
    }
    let r = st.desk.store().read().ok()?;
    let conv = r.get_conv(e.conv).ok()??;
    if conv.buyer != buyer {
        // Another buyer moved: only our queue place may have changed.
        if !moved {
            return None;
        }
        let mine = r.open_conv_of(buyer).ok()??;
        let ahead = st.desk.queue_ahead(&mine).ok()??;
        return Some((
            "queue",
            serde_json::json!({ "conversation_id": mine.id.0, "queue_ahead": ahead }),
        ));
    }
    let data = match &e.kind {
        EventKind::Message { seq, .. } => {
            let m = r
                .messages_after(conv.id, seq - 1, 1)
                .ok()?
                .into_iter()
                .next()?;
            return Some((
                "message",
                serde_json::json!({ "conversation_id": conv.id.0, "message": m.wire() }),
            ));
        }
        EventKind::State { .. } | EventKind::Assigned { .. } => {
            let agent = match conv.agent {
                Some(a) if conv.state == crate::model::ConvState::Human => {
                    r.get_user(a).ok()?.map(|u| u.nickname)
                }
                _ => None,
            };
            (
                "state",
                serde_json::json!({
                    "conversation_id": conv.id.0,
                    "state": conv.state.as_str(),
                    "queue_ahead": st.desk.queue_ahead(&conv).ok()?,
                    "agent": agent,
                }),
            )
        }
        EventKind::Invited => (
            "invite",
            serde_json::json!({ "conversation_id": conv.id.0 }),
        ),
        EventKind::Rated { level } => (
            "rated",
            serde_json::json!({ "conversation_id": conv.id.0, "level": level }),
        ),
        // Inspection is the shop's business, never the buyer's.
        EventKind::Alert { .. } => return None,
    };
    Some(data)
}
