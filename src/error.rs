//! `AppError`: the one error type of the web layer, and its mapping to HTTP.

use crate::desk;
use crate::store;
use crate::web::page::{ErrorPage, PageCtx};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such page or record.
    #[error("页面不存在")]
    NotFound,
    /// A named record that does not exist or is not the caller's ("会话不存在").
    #[error("{0}不存在")]
    Missing(&'static str),
    /// The visitor must log in first; `next` is where to return afterwards.
    #[error("请先登录")]
    LoginRequired { next: String },
    /// No user exists yet: the owner must be created first.
    #[error("请先创建店主账号")]
    SetupRequired,
    /// An API call without an `Authorization` header.
    #[error("缺少 API 令牌：请带上请求头 Authorization: Bearer xr_…")]
    NoToken,
    /// An unknown or revoked API token.
    #[error("API 令牌无效或已撤销")]
    BadToken,
    /// A web-chat call without the buyer's token.
    #[error("请先打开聊天页面")]
    NoBuyer,
    /// Too many requests in a short time.
    #[error("{0}")]
    TooMany(String),
    /// Logged in, but the role may not do this.
    #[error("您的角色无权访问此页面")]
    Forbidden,
    /// Not allowed for a reason the desk gives (another group's conversation, a
    /// disabled account).
    #[error("{0}")]
    Denied(String),
    /// The form's CSRF token is missing or wrong.
    #[error("表单已过期或来源不明，请刷新页面后重试")]
    Csrf,
    /// Malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// A known address called with another method; the methods it takes.
    #[error("此地址不支持这种请求方法，可用：{0}")]
    MethodNotAllowed(String),
    /// A rule forbids the action (message for the user).
    #[error("{0}")]
    Conflict(String),
    /// Body over the size limit.
    #[error("提交的内容过大")]
    PayloadTooLarge,
    /// A store or other internal failure; details go to the log, not to the visitor.
    #[error("服务器内部错误：{0}")]
    Internal(String),
}

impl From<store::Error> for AppError {
    fn from(e: store::Error) -> AppError {
        match e {
            store::Error::NotFound => AppError::NotFound,
            store::Error::Conflict(m) => AppError::Conflict(m),
            other @ (store::Error::Db(_)
            | store::Error::Codec { .. }
            | store::Error::TooNew { .. }
            | store::Error::InUse { .. }
            | store::Error::Open { .. }
            | store::Error::WriterGone
            | store::Error::Batch(_)) => AppError::Internal(other.to_string()),
        }
    }
}

impl From<desk::Error> for AppError {
    fn from(e: desk::Error) -> AppError {
        match e {
            desk::Error::Store(s) => s.into(),
            desk::Error::Invalid(i) => AppError::BadRequest(i.to_string()),
            desk::Error::NotFound => AppError::NotFound,
            desk::Error::Refused(m) => AppError::Conflict(m),
            e @ (desk::Error::BadCredentials | desk::Error::Disabled | desk::Error::Forbidden) => {
                AppError::Denied(e.to_string())
            }
            desk::Error::Hash(m) | desk::Error::Bot(m) | desk::Error::Search(m) => {
                AppError::Internal(m)
            }
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        AppError::Internal(format!("template: {e}"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::Missing(_) => StatusCode::NOT_FOUND,
            AppError::LoginRequired { .. } | AppError::SetupRequired => StatusCode::SEE_OTHER,
            AppError::NoToken | AppError::BadToken | AppError::NoBuyer => StatusCode::UNAUTHORIZED,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden | AppError::Denied(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            AppError::LoginRequired { next } => {
                let to = format!("/login?next={}", crate::web::page::url_encode(next));
                return redirect(&to);
            }
            AppError::SetupRequired => return redirect("/setup"),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "服务器内部错误，请稍后再试；如果一直出现，请查看服务器日志。".to_string()
            }
            AppError::NotFound
            | AppError::Missing(_)
            | AppError::NoToken
            | AppError::BadToken
            | AppError::NoBuyer
            | AppError::TooMany(_)
            | AppError::Forbidden
            | AppError::Denied(_)
            | AppError::Csrf
            | AppError::BadRequest(_)
            | AppError::MethodNotAllowed(_)
            | AppError::Conflict(_)
            | AppError::PayloadTooLarge => self.to_string(),
        };
        let page = ErrorPage {
            ctx: PageCtx::bare(),
            status: status.as_u16(),
            message,
        };
        match page.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type(ContentType::html())
                .body(html),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                HttpResponse::build(status)
                    .content_type(ContentType::plaintext())
                    .body(format!(
                        "{} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ))
            }
        }
    }
}

impl AppError {
    /// A short machine-readable code for JSON errors.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound | AppError::Missing(_) => "not_found",
            AppError::LoginRequired { .. }
            | AppError::SetupRequired
            | AppError::NoToken
            | AppError::BadToken
            | AppError::NoBuyer => "unauthorized",
            AppError::TooMany(_) => "too_many_requests",
            AppError::Forbidden | AppError::Denied(_) => "forbidden",
            AppError::Csrf => "csrf",
            AppError::BadRequest(_) => "bad_request",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Internal(_) => "internal",
        }
    }
}

/// An `AppError` answered as JSON (`/api/*`): `{"error":{"code","message"}}`, and 401
/// instead of a redirect for a missing login.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

impl From<desk::Error> for ApiError {
    fn from(e: desk::Error) -> ApiError {
        ApiError(e.into())
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> ApiError {
        ApiError(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::LoginRequired { .. } | AppError::SetupRequired => StatusCode::UNAUTHORIZED,
            other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match &self.0 {
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "服务器内部错误".to_string()
            }
            AppError::LoginRequired { .. } | AppError::SetupRequired => "请先登录".to_string(),
            // Under /api/ there are no pages: an unknown route or record.
            AppError::NotFound => "接口或对象不存在".to_string(),
            other @ (AppError::Missing(_)
            | AppError::NoToken
            | AppError::BadToken
            | AppError::NoBuyer
            | AppError::TooMany(_)
            | AppError::Forbidden
            | AppError::Denied(_)
            | AppError::Csrf
            | AppError::BadRequest(_)
            | AppError::MethodNotAllowed(_)
            | AppError::Conflict(_)
            | AppError::PayloadTooLarge) => other.to_string(),
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({
            "error": { "code": self.0.code(), "message": message }
        }))
    }
}

/// A 303 See Other to `to`.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
