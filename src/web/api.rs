//! JSON API v1. Errors are `{"error":{"code","message"}}`.

use super::extract::{ApiChannel, ApiJson, ApiUser, Trainers};
use super::live;
use crate::AppState;
use crate::desk::service::check_text;
use crate::error::{ApiError, AppError};
use crate::store::prelude::*;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct TryRequest {
    pub text: String,
    /// SKU of the product the buyer is looking at.
    #[serde(default)]
    pub product: Option<String>,
}

/// POST /api/v1/bot/try — what the bot answers, with candidates, scores and why.
pub async fn bot_try(
    state: web::Data<AppState>,
    _me: ApiUser<Trainers>,
    ApiJson(req): ApiJson<TryRequest>,
) -> Result<HttpResponse, ApiError> {
    check_text(&req.text)?;
    let reply = state.desk.try_bot(&req.text, req.product.as_deref())?;
    Ok(HttpResponse::Ok().json(reply))
}

/// The channel's id limits.
const MAX_ID: usize = 128;
/// Longest buyer nickname or region a bridge may send.
const MAX_PROFILE: usize = 64;

fn check_id(name: &str, value: &str) -> Result<(), ApiError> {
    let n = value.trim().chars().count();
    if n == 0 || n > MAX_ID || value.chars().any(char::is_control) {
        return Err(AppError::BadRequest(format!("{name} 应为 1–{MAX_ID} 个字符")).into());
    }
    Ok(())
}

/// A token speaks for one channel only.
fn same_channel(token: &crate::model::ApiToken, channel: &str) -> Result<(), ApiError> {
    if token.channel != channel {
        return Err(AppError::BadRequest(format!(
            "此令牌属于渠道 {}，不能代表渠道 {channel}",
            token.channel
        ))
        .into());
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct PostMessage {
    pub channel: String,
    pub buyer_id: String,
    pub text: String,
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub client_msg_id: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub member_level: Option<u8>,
}

/// The JSON answer to a stored buyer message.
pub fn outcome_json(o: &crate::desk::service::Outcome) -> OutcomeJson<'_> {
    OutcomeJson {
        conversation_id: o.conv.id.0,
        message_id: o.message.seq,
        state: o.conv.state.as_str(),
        duplicate: o.duplicate,
        replies: o.replies.iter().map(|m| m.wire()).collect(),
        queue_ahead: None,
    }
}

/// The answer to a posted message: `{conversation_id, message_id, state, duplicate,
/// replies}`, and for the web chat `queue_ahead` (a number, or null when not queued).
#[derive(Debug, Serialize)]
pub struct OutcomeJson<'a> {
    conversation_id: u64,
    message_id: u64,
    state: &'static str,
    duplicate: bool,
    replies: Vec<crate::model::Wire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_ahead: Option<Option<usize>>,
}

/// POST /api/v1/messages — a buyer's message from a channel bridge. Acknowledged after
/// the durable commit; the same `client_msg_id` twice is stored once.
pub async fn post_message(
    state: web::Data<AppState>,
    ApiChannel(token): ApiChannel,
    ApiJson(m): ApiJson<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    same_channel(&token, &m.channel)?;
    check_id("buyer_id", &m.buyer_id)?;
    check_text(&m.text)?;
    if let Some(id) = &m.client_msg_id {
        check_id("client_msg_id", id)?;
    }
    for (name, value) in [("nickname", &m.nickname), ("region", &m.region)] {
        if let Some(v) = value
            && (v.chars().count() > MAX_PROFILE || v.chars().any(char::is_control))
        {
            return Err(AppError::BadRequest(format!("{name} 最多 {MAX_PROFILE} 个字符")).into());
        }
    }
    let incoming = crate::desk::service::Incoming {
        channel: m.channel,
        buyer: m.buyer_id.trim().to_string(),
        text: m.text,
        product: m.product_id.filter(|p| !p.trim().is_empty()),
        client_msg_id: m.client_msg_id,
        nickname: m.nickname,
        region: m.region,
        member_level: m.member_level,
    };
    let o = state.desk.on_buyer_message(incoming).await?;
    Ok(HttpResponse::Ok().json(outcome_json(&o)))
}

#[derive(Debug, Deserialize)]
pub struct AfterQuery {
    #[serde(default)]
    pub after: u64,
}

/// GET /api/v1/conversations/{id}/messages?after=SEQ — the conversation's messages
/// after a sequence number (conversations of the token's channel only).
pub async fn conversation_messages(
    state: web::Data<AppState>,
    ApiChannel(token): ApiChannel,
    id: web::Path<String>,
    q: web::Query<AfterQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = conv_id(&id)?;
    let r = state.desk.store().read()?;
    let conv = r
        .get_conv(id)?
        .filter(|c| c.channel == token.channel)
        .ok_or(AppError::Missing("会话"))?;
    let messages = r.messages_after(conv.id, q.after, 500)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "conversation_id": conv.id.0,
        "state": conv.state.as_str(),
        "messages": messages.iter().map(|m| m.wire()).collect::<Vec<_>>(),
    })))
}

/// The conversation id of an API path.
fn conv_id(id: &str) -> Result<crate::model::ConvId, AppError> {
    id.parse()
        .map(crate::model::ConvId)
        .map_err(|_| AppError::BadRequest(format!("会话 id 应为正整数：{id}")))
}

/// POST /api/v1/conversations/{id}/rating — the buyer's rating, relayed by the bridge
/// after the rating invitation: `{level: 1–5, reasons?, comment?}`.
pub async fn rate_conversation(
    state: web::Data<AppState>,
    ApiChannel(token): ApiChannel,
    id: web::Path<String>,
    ApiJson(input): ApiJson<crate::desk::service::RatingInput>,
) -> Result<HttpResponse, ApiError> {
    let id = conv_id(&id)?;
    let rating = state.desk.channel_rate(&token.channel, id, input).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true, "level": rating.level })))
}

#[derive(Debug, Deserialize)]
pub struct PostOrder {
    pub order_id: String,
    pub buyer_id: String,
    #[serde(default)]
    pub items: Vec<crate::model::OrderItem>,
    pub status: String,
    #[serde(default)]
    pub amount: Option<crate::model::Price>,
    #[serde(default)]
    pub paid: Option<crate::model::Price>,
    #[serde(default)]
    pub logistics_status: Option<String>,
}

/// POST /api/v1/orders — an order created or updated on the channel.
pub async fn post_order(
    state: web::Data<AppState>,
    ApiChannel(token): ApiChannel,
    ApiJson(o): ApiJson<PostOrder>,
) -> Result<HttpResponse, ApiError> {
    let order = state
        .desk
        .record_order(crate::desk::service::OrderInput {
            channel: token.channel,
            order_id: o.order_id,
            buyer: o.buyer_id,
            items: o.items,
            status: o.status,
            amount: o.amount,
            paid: o.paid,
            logistics: o.logistics_status,
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true, "order": order })))
}

/// GET /api/v1/events — the channel's outbound messages (bot, agent, service) as
/// server-sent events, resumable with `Last-Event-ID`: the pull alternative to webhooks.
pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiChannel(token): ApiChannel,
) -> Result<HttpResponse, ApiError> {
    let after = live::last_seen(&req, &state)?;
    Ok(live::stream(
        state.into_inner().into(),
        after,
        move |st, e| outbound(st, e, &token.channel),
    ))
}

/// The webhook-shaped frame of an outbound message event of `channel`.
fn outbound(st: &AppState, e: &crate::model::Event, channel: &str) -> Option<live::Frame> {
    let crate::model::EventKind::Message { seq, from } = &e.kind else {
        return None;
    };
    if e.channel != channel || from == "buyer" {
        return None;
    }
    let r = st.desk.store().read().ok()?;
    let m = r
        .messages_after(e.conv, seq - 1, 1)
        .ok()?
        .into_iter()
        .next()?;
    let buyer = r.get_conv(e.conv).ok()??.buyer;
    let buyer = r.get_buyer(buyer).ok()??.external_id;
    Some((
        "message",
        serde_json::json!({
            "event": "message",
            "channel": channel,
            "conversation_id": e.conv.0,
            "buyer_id": buyer,
            "message": m.wire(),
        }),
    ))
}
