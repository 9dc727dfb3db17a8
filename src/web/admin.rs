//! The owner's 设置 section: shop settings, users, audit log, backup.

use super::extract::{CsrfForm, OwnerOnly, Require};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::desk::{self, Actor, users::UserChange};
use crate::error::{AppError, redirect};
use crate::model::settings::{SettingsInput, local_label};
use crate::model::{AuditEntry, Invalid, NewUser, Role, User, UserId};
use crate::store::prelude::*;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "admin/settings.html")]
pub struct SettingsPage {
    pub ctx: PageCtx,
    pub form: SettingsInput,
    pub errors: Invalid,
}

/// GET /settings
pub async fn settings(
    state: web::Data<AppState>,
    _me: Require<OwnerOnly>,
    ctx: PageCtx,
) -> Result<SettingsPage, AppError> {
    let form = SettingsInput::from_settings(&state.desk.settings()?);
    let errors = Invalid::default();
    Ok(SettingsPage { ctx, form, errors })
}

/// POST /settings
pub async fn save_settings(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<SettingsInput>,
) -> Result<HttpResponse, AppError> {
    match state
        .desk
        .save_settings(&Actor::user(&me.user), &form)
        .await
    {
        Ok(_) => Ok(redirect("/settings?done=saved")),
        Err(desk::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage { ctx, form, errors },
        ),
        Err(e) => Err(e.into()),
    }
}

/// One row of the users table.
pub struct UserRow {
    pub user: User,
    pub is_me: bool,
    pub created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub ctx: PageCtx,
    pub rows: Vec<UserRow>,
    pub roles: [Role; 4],
    pub form: NewUserForm,
    pub errors: Invalid,
    /// A problem with a change to an existing user.
    pub problem: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    pub name: String,
    pub nickname: String,
    pub role: String,
    pub password: String,
}

fn users_page(
    state: &AppState,
    me: &User,
    ctx: PageCtx,
    form: NewUserForm,
    errors: Invalid,
    problem: Option<String>,
) -> Result<UsersPage, AppError> {
    let tz = state.desk.settings()?.tz();
    let rows = state
        .desk
        .list_users()?
        .into_iter()
        .map(|u| UserRow {
            is_me: u.id == me.id,
            created: local_label(u.created_at, tz),
            user: u,
        })
        .collect();
    Ok(UsersPage {
        ctx,
        rows,
        roles: Role::ALL,
        form,
        errors,
        problem,
    })
}

/// GET /settings/users
pub async fn users(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
) -> Result<UsersPage, AppError> {
    let form = NewUserForm {
        role: Role::Agent.as_str().into(),
        ..NewUserForm::default()
    };
    users_page(&state, &me.user, ctx, form, Invalid::default(), None)
}

/// POST /settings/users — add a user.
pub async fn add_user(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    let errors = match Role::parse(&form.role) {
        None => Invalid::general("请选择角色"),
        Some(role) => {
            let new = NewUser {
                name: form.name.clone(),
                nickname: form.nickname.clone(),
                role,
                password: form.password.clone(),
            };
            match state.desk.add_user(&Actor::user(&me.user), new).await {
                Ok(_) => return Ok(redirect("/settings/users?done=user_added")),
                Err(desk::Error::Invalid(i)) => i,
                Err(e) => return Err(e.into()),
            }
        }
    };
    let form = NewUserForm {
        password: String::new(),
        ..form
    };
    let page = users_page(&state, &me.user, ctx, form, errors, None)?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangeForm {
    pub action: String,
    pub role: String,
    pub password: String,
    pub nickname: String,
}

impl ChangeForm {
    fn change(self) -> Result<UserChange, String> {
        match self.action.as_str() {
            "role" => Role::parse(&self.role)
                .map(UserChange::Role)
                .ok_or_else(|| "未知的角色".to_string()),
            "disable" => Ok(UserChange::Disabled(true)),
            "enable" => Ok(UserChange::Disabled(false)),
            "password" => Ok(UserChange::Password(self.password)),
            "nickname" => Ok(UserChange::Nickname(self.nickname)),
            _ => Err("未知的操作".into()),
        }
    }
}

/// POST /settings/users/{id} — change role, disable/enable, reset password, nickname.
pub async fn change_user(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
    id: web::Path<u64>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<HttpResponse, AppError> {
    let outcome: Result<(), String> = match form.change() {
        Err(msg) => Err(msg),
        Ok(change) => {
            let actor = Actor::user(&me.user);
            match state.desk.change_user(&actor, UserId(*id), change).await {
                Ok(_) => return Ok(redirect("/settings/users?done=user_updated")),
                Err(desk::Error::Invalid(i)) => Err(i.to_string()),
                Err(desk::Error::Refused(m)) => Err(m),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let problem = outcome.err();
    let form = NewUserForm {
        role: Role::Agent.as_str().into(),
        ..NewUserForm::default()
    };
    let page = users_page(&state, &me.user, ctx, form, Invalid::default(), problem)?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub ctx: PageCtx,
    pub entries: Vec<(String, AuditEntry)>,
    /// The `before` cursor of the next (older) page.
    pub older: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub before: Option<u64>,
}

const AUDIT_PAGE: usize = 50;

/// GET /settings/audit
pub async fn audit(
    state: web::Data<AppState>,
    _me: Require<OwnerOnly>,
    ctx: PageCtx,
    q: web::Query<AuditQuery>,
) -> Result<AuditPage, AppError> {
    let tz = state.desk.settings()?.tz();
    let entries = state
        .desk
        .store()
        .read()?
        .list_audit(q.before, AUDIT_PAGE + 1)?;
    let older = (entries.len() > AUDIT_PAGE).then(|| entries[AUDIT_PAGE - 1].seq);
    let entries = entries
        .into_iter()
        .take(AUDIT_PAGE)
        .map(|e| (local_label(e.at, tz), e))
        .collect();
    Ok(AuditPage {
        ctx,
        entries,
        older,
    })
}
