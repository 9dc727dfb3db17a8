//! One-time owner setup, login, logout and the user's own account page.

use super::extract::{
    AnyUser, CsrfForm, PRE_COOKIE, Require, Staff, clear_session_cookie, client_ip, session_cookie,
};
use super::limiter::wait_label;
use super::page::{PageCtx, local_path, render};
use crate::AppState;
use crate::desk::{self, auth::Login};
use crate::error::{AppError, redirect};
use crate::model::{AgentState, Invalid, NewUser, Role};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

/// A redirect that also sets the new session's cookie and drops the anonymous one.
fn logged_in(state: &AppState, login: Login, to: &str) -> HttpResponse {
    let mut res = redirect(to);
    let secure = state.config.secure_cookies();
    let _ = res.add_cookie(&session_cookie(login.token, secure));
    let mut pre = Cookie::new(PRE_COOKIE, "");
    pre.set_path("/");
    pre.make_removal();
    let _ = res.add_cookie(&pre);
    res
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    pub ctx: PageCtx,
    pub form: SetupForm,
    pub errors: Invalid,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    pub name: String,
    pub nickname: String,
    pub password: String,
    pub password2: String,
}

/// GET /setup — only while no user exists.
pub async fn setup_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
) -> Result<HttpResponse, AppError> {
    if !state.desk.needs_setup()? {
        return Ok(redirect("/login"));
    }
    let page = SetupPage {
        ctx,
        form: SetupForm::default(),
        errors: Invalid::default(),
    };
    render(StatusCode::OK, &page)
}

/// POST /setup
pub async fn setup(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<HttpResponse, AppError> {
    if !state.desk.needs_setup()? {
        return Err(AppError::Conflict(
            "店主账号已经创建过了，请直接登录".into(),
        ));
    }
    let new = NewUser {
        name: form.name.clone(),
        nickname: form.nickname.clone(),
        role: Role::Owner,
        password: form.password.clone(),
    };
    let mut errors = new
        .clone()
        .normalized()
        .validate()
        .err()
        .unwrap_or_default();
    if form.password != form.password2 {
        errors.add("password2", "两次输入的密码不一致");
    }
    if errors.0.is_empty() {
        match state.desk.setup_owner(new).await {
            Ok(login) => return Ok(logged_in(&state, login, "/?done=welcome")),
            Err(desk::Error::Invalid(i)) => errors = i,
            Err(e) => return Err(e.into()),
        }
    }
    let page = SetupPage {
        ctx,
        form: SetupForm {
            password: String::new(),
            password2: String::new(),
            ..form
        },
        errors,
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub name: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
    pub next: String,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// GET /login
pub async fn login_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    if state.desk.needs_setup()? {
        return Ok(redirect("/setup"));
    }
    let next = local_path(q.next.as_deref()).to_string();
    if ctx.user.is_some() {
        return Ok(redirect(&next));
    }
    let page = LoginPage {
        ctx,
        name: String::new(),
        next,
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// POST /login — rate-limited per client address and per account.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let ip = client_ip(&req);
    let next = local_path(Some(&form.next)).to_string();
    let (status, error) = match state.limiter.attempt(ip, &form.name) {
        Err(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("登录失败次数过多，请 {} 后再试", wait_label(wait)),
        ),
        Ok(attempt) => match state.desk.login(form.name.trim(), &form.password).await {
            Ok(login) => {
                state.limiter.succeeded(attempt, &form.name);
                return Ok(logged_in(&state, login, &next));
            }
            Err(e @ (desk::Error::BadCredentials | desk::Error::Disabled)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            Err(e) => return Err(e.into()),
        },
    };
    let page = LoginPage {
        ctx,
        name: form.name,
        next,
        error: Some(error),
    };
    render(status, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

/// POST /logout
pub async fn logout(
    state: web::Data<AppState>,
    me: Require<AnyUser>,
    _form: CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    state.desk.logout(&me.token).await?;
    // Logging out ends the shift: no new buyers are routed to an absent agent.
    if state.desk.agent_state(me.user.id)? != AgentState::Offline {
        state
            .desk
            .set_agent_state(&me.user, AgentState::Offline)
            .await?;
    }
    let mut res = redirect("/login");
    let _ = res.add_cookie(&clear_session_cookie(state.config.secure_cookies()));
    Ok(res)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub errors: Invalid,
}

/// GET /account
pub async fn account(_me: Require<AnyUser>, ctx: PageCtx) -> AccountPage {
    AccountPage {
        ctx,
        errors: Invalid::default(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub old_password: String,
    pub new_password: String,
    pub new_password2: String,
}

/// POST /account/password — the current-password check is rate-limited like logins.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: Require<AnyUser>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Invalid::default();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if form.new_password != form.new_password2 {
        errors.add("new_password2", "两次输入的新密码不一致");
    } else {
        match state.limiter.attempt(client_ip(&req), &me.user.name) {
            Err(wait) => {
                errors.add(
                    "old_password",
                    format!("尝试次数过多，请 {} 后再试", wait_label(wait)),
                );
                status = StatusCode::TOO_MANY_REQUESTS;
            }
            Ok(attempt) => {
                let changed = state
                    .desk
                    .change_own_password(&me.user, &form.old_password, &form.new_password)
                    .await;
                match changed {
                    Ok(login) => {
                        state.limiter.succeeded(attempt, &me.user.name);
                        return Ok(logged_in(&state, login, "/account?done=password_changed"));
                    }
                    Err(desk::Error::Invalid(i)) => errors = i,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    render(status, &AccountPage { ctx, errors })
}

#[derive(Debug, Deserialize)]
pub struct StateForm {
    pub state: String,
}

/// POST /account/state — 在线/忙碌/离开/离线; going online takes waiting buyers.
pub async fn set_state(
    state: web::Data<AppState>,
    me: Require<Staff>,
    req: HttpRequest,
    CsrfForm(f): CsrfForm<StateForm>,
) -> Result<HttpResponse, AppError> {
    let new =
        AgentState::parse(&f.state).ok_or_else(|| AppError::BadRequest("未知的接待状态".into()))?;
    state.desk.set_agent_state(&me.user, new).await?;
    // Back to the page the switch was used on.
    let back = req
        .headers()
        .get(actix_web::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    Ok(redirect(local_path(back.as_deref())))
}
