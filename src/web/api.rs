//! JSON API v1. Errors are `{"error":{"code","message"}}`.

use super::extract::{ApiJson, ApiUser, Trainers};
use crate::AppState;
use crate::error::{ApiError, AppError};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// Longest message accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

#[derive(Debug, Deserialize)]
pub struct TryRequest {
    pub text: String,
    /// SKU of the product the buyer is looking at.
    #[serde(default)]
    pub product: Option<String>,
}

/// Checks a buyer message: not empty, not too long.
pub fn check_text(text: &str) -> Result<(), ApiError> {
    let n = text.trim().chars().count();
    if n == 0 {
        return Err(AppError::BadRequest("text 不能为空".into()).into());
    }
    if n > MAX_TEXT_CHARS {
        return Err(AppError::BadRequest(format!("text 最多 {MAX_TEXT_CHARS} 个字")).into());
    }
    Ok(())
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
