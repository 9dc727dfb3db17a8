//! 设置 › 渠道接入: API tokens for platform bridges (the secret shown once), each
//! channel's signed webhook, and the deliveries that failed.

use super::extract::{CsrfForm, OwnerOnly, Require};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::desk::channels::max_age;
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::model::settings::local_label;
use crate::model::{ApiToken, Delivery, Invalid, Webhook};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;
use std::collections::BTreeSet;

/// A token row: the token and its creation time in shop time.
pub type TokenRow = (ApiToken, String);
/// A failed delivery row: the delivery, when it was created, and the start of its body.
pub type FailedRow = (Delivery, String, String);

/// A webhook's row: the webhook, how many messages wait, and, while the oldest is being
/// retried, its attempts, last error and next try in shop time.
pub struct HookRow {
    pub hook: Webhook,
    pub waiting: usize,
    pub retrying: Option<(u32, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/channels.html")]
pub struct ChannelsPage {
    pub ctx: PageCtx,
    pub tokens: Vec<TokenRow>,
    pub webhooks: Vec<HookRow>,
    pub failed: Vec<FailedRow>,
    /// Channels with failed messages that may still be sent again.
    pub retryable: BTreeSet<String>,
    /// A token just created: its name and secret, shown this once.
    pub created: Option<(String, String)>,
    pub token_form: TokenForm,
    pub hook_form: HookForm,
    pub token_errors: Invalid,
    pub hook_errors: Invalid,
    /// The site's address for the API examples.
    pub base: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
    pub channel: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HookForm {
    pub channel: String,
    pub url: String,
    pub enabled: Option<String>,
    pub renew: Option<String>,
}

/// Characters of a failed body shown.
const BODY_PREVIEW: usize = 160;

struct Extra {
    created: Option<(String, String)>,
    token_form: TokenForm,
    hook_form: HookForm,
    token_errors: Invalid,
    hook_errors: Invalid,
}

fn channels_page(
    state: &AppState,
    ctx: PageCtx,
    req: &actix_web::HttpRequest,
    extra: Extra,
) -> Result<ChannelsPage, AppError> {
    let desk = &state.desk;
    let tz = desk.settings()?.tz();
    let mut backlogs = desk.backlogs()?;
    let webhooks = desk
        .webhooks()?
        .into_iter()
        .map(|hook| {
            let b = backlogs.remove(&hook.channel).unwrap_or_default();
            HookRow {
                waiting: b.waiting,
                retrying: b.retrying.map(|d| {
                    let next = local_label(d.next_at, tz);
                    (d.attempts, d.last_error.unwrap_or_default(), next)
                }),
                hook,
            }
        })
        .collect();
    let failed = desk.failed_deliveries()?;
    let now = desk.clock().now();
    let retryable = failed
        .iter()
        .filter(|d| now - d.created_at < max_age())
        .map(|d| d.channel.clone())
        .collect();
    let conn = req.connection_info();
    Ok(ChannelsPage {
        ctx,
        tokens: desk
            .tokens()?
            .into_iter()
            .rev()
            .map(|t| {
                let at = local_label(t.created_at, tz);
                (t, at)
            })
            .collect(),
        webhooks,
        retryable,
        failed: failed
            .into_iter()
            .map(|d| {
                let at = local_label(d.created_at, tz);
                let body: String = d.body.chars().take(BODY_PREVIEW).collect();
                (d, at, body)
            })
            .collect(),
        created: extra.created,
        token_form: extra.token_form,
        hook_form: extra.hook_form,
        token_errors: extra.token_errors,
        hook_errors: extra.hook_errors,
        base: format!("{}://{}", conn.scheme(), conn.host()),
    })
}

impl Extra {
    fn none() -> Extra {
        Extra {
            created: None,
            token_form: TokenForm::default(),
            hook_form: HookForm {
                enabled: Some("on".into()),
                ..HookForm::default()
            },
            token_errors: Invalid::default(),
            hook_errors: Invalid::default(),
        }
    }
}

/// GET /settings/channels
pub async fn page(
    state: web::Data<AppState>,
    _me: Require<OwnerOnly>,
    ctx: PageCtx,
    req: actix_web::HttpRequest,
) -> Result<ChannelsPage, AppError> {
    channels_page(&state, ctx, &req, Extra::none())
}

/// POST /settings/channels/tokens — a new token; its secret is shown on the answer
/// page only.
pub async fn create_token(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
    req: actix_web::HttpRequest,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::user(&me.user);
    let mut extra = Extra::none();
    let status = match state
        .desk
        .create_token(&actor, &form.name, &form.channel)
        .await
    {
        Ok((t, secret)) => {
            extra.created = Some((t.name, secret));
            StatusCode::OK
        }
        Err(desk::Error::Invalid(errors)) => {
            extra.token_errors = errors;
            extra.token_form = form;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e) => return Err(e.into()),
    };
    let page = channels_page(&state, ctx, &req, extra)?;
    let mut res = render(status, &page)?;
    // The secret must not linger in caches.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// POST /settings/channels/tokens/{id}/revoke
pub async fn revoke_token(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    id: web::Path<u64>,
    _form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    state.desk.revoke_token(&Actor::user(&me.user), *id).await?;
    Ok(redirect("/settings/channels?done=revoked"))
}

/// POST /settings/channels/webhooks — set a channel's webhook.
pub async fn save_webhook(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
    req: actix_web::HttpRequest,
    CsrfForm(form): CsrfForm<HookForm>,
) -> Result<HttpResponse, AppError> {
    let saved = state
        .desk
        .save_webhook(
            &Actor::user(&me.user),
            &form.channel,
            &form.url,
            form.enabled.is_some(),
            form.renew.is_some(),
        )
        .await;
    match saved {
        Ok(_) => Ok(redirect("/settings/channels?done=saved")),
        Err(desk::Error::Invalid(errors)) => {
            let mut extra = Extra::none();
            extra.hook_errors = errors;
            extra.hook_form = form;
            let page = channels_page(&state, ctx, &req, extra)?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /settings/channels/webhooks/{channel}/delete
pub async fn delete_webhook(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    channel: web::Path<String>,
    _form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    state
        .desk
        .delete_webhook(&Actor::user(&me.user), &channel)
        .await
        .map_err(|e| match e {
            desk::Error::NotFound => AppError::Missing("该渠道没有 webhook"),
            other => other.into(),
        })?;
    Ok(redirect("/settings/channels?done=deleted"))
}

/// POST /settings/channels/webhooks/{channel}/retry — send the channel's failed
/// messages again.
pub async fn retry_failed(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    channel: web::Path<String>,
    _form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    state
        .desk
        .retry_failed(&Actor::user(&me.user), &channel)
        .await?;
    Ok(redirect("/settings/channels?done=requeued"))
}
