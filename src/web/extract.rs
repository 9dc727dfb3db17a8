//! Typed extractors: who is asking (`CurrentUser`), may they (`Require<P>`), and a form
//! that carries a valid CSRF token (`CsrfForm<T>`). A handler cannot forget a check
//! its arguments already perform.

use crate::AppState;
use crate::error::{ApiError, AppError};
use crate::model::{Role, Session, User};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::ops::Deref;
use std::pin::Pin;

/// The session cookie.
pub const SESSION_COOKIE: &str = "xiaoer_session";
/// The anonymous visitor's CSRF cookie (login and setup forms).
pub const PRE_COOKIE: &str = "xiaoer_pre";

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

/// The shared application state of a request.
pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("application state missing".into()))
}

/// A logged-in user with a live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
    /// The session's cookie token (needed to log out).
    pub token: String,
}

#[derive(Clone)]
struct Resolved(Option<CurrentUser>);

/// A new anonymous CSRF token to set as the `xiaoer_pre` cookie on the response.
#[derive(Clone)]
pub struct NewPreToken(pub String);

/// The request's logged-in user, if any; looked up once per request.
pub async fn resolve(req: &HttpRequest) -> Result<Option<CurrentUser>, AppError> {
    if let Some(r) = req.extensions().get::<Resolved>() {
        return Ok(r.0.clone());
    }
    let found = match req.cookie(SESSION_COOKIE) {
        Some(c) => {
            let token = c.value().to_string();
            state(req)?
                .desk
                .authenticate(&token)
                .await?
                .map(|(user, session)| CurrentUser {
                    user,
                    session,
                    token,
                })
        }
        None => None,
    };
    req.extensions_mut().insert(Resolved(found.clone()));
    Ok(found)
}

/// The error for an anonymous visitor: log in, or create the owner first.
fn login_required(req: &HttpRequest) -> AppError {
    let needs_setup = state(req)
        .ok()
        .and_then(|s| s.desk.needs_setup().ok())
        .unwrap_or(false);
    if needs_setup {
        return AppError::SetupRequired;
    }
    let next = match req.method().as_str() {
        // After a POST, return to the page, not to the action.
        "GET" => req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        _ => "/".into(),
    };
    AppError::LoginRequired { next }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalFuture<CurrentUser>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await?.ok_or_else(|| login_required(&req)) })
    }
}

/// Which roles may use a route. `None` means anyone, logged in or not.
pub trait Policy: 'static {
    const ROLES: Option<&'static [Role]>;
}

/// Anyone, without logging in.
pub struct Public;
impl Policy for Public {
    const ROLES: Option<&'static [Role]> = None;
}

/// Any logged-in user.
pub struct AnyUser;
impl Policy for AnyUser {
    const ROLES: Option<&'static [Role]> = Some(&Role::ALL);
}

/// The shop owner only.
pub struct OwnerOnly;
impl Policy for OwnerOnly {
    const ROLES: Option<&'static [Role]> = Some(&[Role::Owner]);
}

/// Channel bridges with an API token (not console users: the route table records them
/// apart so the tests check them as token routes).
pub struct Token;
impl Policy for Token {
    const ROLES: Option<&'static [Role]> = Some(&[]);
}

/// Those who run the service floor: the owner and supervisors.
pub struct Supervisors;
impl Policy for Supervisors {
    const ROLES: Option<&'static [Role]> = Some(&[Role::Owner, Role::Supervisor]);
}

/// Those who serve buyers: everyone but trainers.
pub struct Staff;
impl Policy for Staff {
    const ROLES: Option<&'static [Role]> = Some(&[Role::Owner, Role::Supervisor, Role::Agent]);
}

/// Those who train the bot: the owner and trainers.
pub struct Trainers;
impl Policy for Trainers {
    const ROLES: Option<&'static [Role]> = Some(&[Role::Owner, Role::Trainer]);
}

/// Those who look after the bot's results: the owner, supervisors and trainers.
pub struct BotWatchers;
impl Policy for BotWatchers {
    const ROLES: Option<&'static [Role]> = Some(&[Role::Owner, Role::Supervisor, Role::Trainer]);
}

/// A logged-in user whose role `P` allows; anonymous visitors are sent to log in,
/// other roles get 403.
pub struct Require<P: Policy> {
    pub current: CurrentUser,
    _policy: PhantomData<P>,
}

impl<P: Policy> Deref for Require<P> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.current
    }
}

impl<P: Policy> FromRequest for Require<P> {
    type Error = AppError;
    type Future = LocalFuture<Require<P>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let current = resolve(&req).await?.ok_or_else(|| login_required(&req))?;
            match P::ROLES {
                Some(roles) if !roles.contains(&current.user.role) => Err(AppError::Forbidden),
                _ => Ok(Require {
                    current,
                    _policy: PhantomData,
                }),
            }
        })
    }
}

/// `Require<P>` for JSON routes: every error is JSON, and a missing login is 401.
pub struct ApiUser<P: Policy>(pub Require<P>);

impl<P: Policy> Deref for ApiUser<P> {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0.current
    }
}

impl<P: Policy> FromRequest for ApiUser<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiUser<P>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = Require::<P>::from_request(req, payload);
        Box::pin(async move { inner.await.map(ApiUser).map_err(ApiError) })
    }
}

/// A channel bridge, authenticated by its API token (`Authorization: Bearer xr_…`).
pub struct ApiChannel(pub crate::model::ApiToken);

impl FromRequest for ApiChannel {
    type Error = ApiError;
    type Future = std::future::Ready<Result<ApiChannel, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = || -> Result<ApiChannel, AppError> {
            let header = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .ok_or(AppError::NoToken)?;
            // The scheme is case-insensitive (RFC 9110): `bearer` and `BEARER` too.
            let secret = header
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, secret)| secret)
                .ok_or(AppError::BadToken)?;
            let token = state(req)?
                .desk
                .token_for(secret.trim())?
                .ok_or(AppError::BadToken)?;
            Ok(ApiChannel(token))
        };
        std::future::ready(found().map_err(ApiError))
    }
}

/// A JSON body (`Content-Type: application/json`, at most `MAX_BODY` bytes). Requiring
/// the JSON content type is also what keeps cookie-authenticated JSON routes safe from
/// cross-site forms, which cannot send it.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiJson<T>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| ApiError(body_error(&e)))?;
            if !is_json {
                return Err(ApiError(AppError::BadRequest(
                    "需要 JSON 请求体（Content-Type: application/json）".into(),
                )));
            }
            crate::model::json::parse(&body)
                .map(ApiJson)
                .map_err(|why| ApiError(AppError::BadRequest(format!("JSON 有误：{why}"))))
        })
    }
}

fn body_error(e: &actix_web::Error) -> AppError {
    if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest("无法读取提交的内容".into())
    }
}

/// A urlencoded form whose `_csrf` field matches the session's token (or, before login,
/// the `xiaoer_pre` cookie). Anything else is 403 and the handler never runs.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalFuture<CsrfForm<T>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| body_error(&e))?;
            let is_form = req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !is_form {
                return Err(AppError::BadRequest("需要表单提交".into()));
            }
            let expected = match resolve(&req).await? {
                Some(cu) => Some(cu.session.csrf),
                None => req.cookie(PRE_COOKIE).map(|c| c.value().to_string()),
            };
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|_| AppError::BadRequest("表单格式有误".into()))?;
            let sent = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v);
            match (expected, sent) {
                (Some(e), Some(s)) if !e.is_empty() && same(e.as_bytes(), s.as_bytes()) => {}
                _ => return Err(AppError::Csrf),
            }
            let form = serde_urlencoded::from_bytes(&body).map_err(|e| {
                let why = crate::model::json::data_trouble(&e.to_string());
                AppError::BadRequest(format!("表单格式有误：{why}"))
            })?;
            Ok(CsrfForm(form))
        })
    }
}

/// The CSRF token of a request whose body is not a urlencoded form (a file upload sends
/// it in the `X-CSRF-Token` header) or is a form read by hand. The handler calls
/// `check` or `check_form` before acting.
pub struct CsrfHeader {
    expected: Option<String>,
    header: Option<String>,
}

impl CsrfHeader {
    fn matches(&self, sent: Option<&str>) -> Result<(), AppError> {
        match (&self.expected, sent) {
            (Some(e), Some(s)) if !e.is_empty() && same(e.as_bytes(), s.as_bytes()) => Ok(()),
            _ => Err(AppError::Csrf),
        }
    }

    /// The `X-CSRF-Token` header matches the session's token.
    pub fn check(&self) -> Result<(), AppError> {
        self.matches(self.header.as_deref())
    }

    /// The form's `_csrf` field matches the session's token.
    pub fn check_form(&self, pairs: &[(String, String)]) -> Result<(), AppError> {
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str());
        self.matches(sent)
    }
}

impl FromRequest for CsrfHeader {
    type Error = AppError;
    type Future = LocalFuture<CsrfHeader>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let expected = resolve(&req).await?.map(|cu| cu.session.csrf);
            let header = req
                .headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            Ok(CsrfHeader { expected, header })
        })
    }
}

/// Constant-time equality, so the token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address: the socket peer, or — when the config trusts a proxy — the
/// last `X-Forwarded-For` hop, the one our proxy added (earlier hops are the client's
/// to invent).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let trust = state(req).map(|s| s.config.trust_proxy).unwrap_or(false);
    if trust {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// A cookie with the house flags: HttpOnly, SameSite, path `/`, Secure behind https.
pub fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    same_site: SameSite,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .finish()
}

/// The session cookie for `token`, living as long as the session can.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    let mut c = cookie(SESSION_COOKIE, token, secure, SameSite::Lax);
    c.set_max_age(CookieDuration::days(30));
    c
}

/// A cookie that deletes the session cookie.
pub fn clear_session_cookie(secure: bool) -> Cookie<'static> {
    let mut c = cookie(SESSION_COOKIE, String::new(), secure, SameSite::Lax);
    c.make_removal();
    c
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn constant_time_compare() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
