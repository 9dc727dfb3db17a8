//! 设置 › 技能组: skill groups with their members and routing rules (scenes, buyer
//! regions, the default group).

use super::extract::{CsrfForm, OwnerOnly, Require};
use super::page::{PageCtx, render};
use crate::AppState;
use crate::desk::{self, Actor};
use crate::error::{AppError, redirect};
use crate::model::{Group, GroupId, Invalid, Role, User, UserId};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "admin/groups.html")]
pub struct GroupsPage {
    pub ctx: PageCtx,
    pub groups: Vec<Group>,
    /// Who may be a member: enabled agents and supervisors.
    pub staff: Vec<User>,
    pub scenes: Vec<String>,
    /// The group whose form shows `errors` (0 for the new-group form).
    pub failed: Option<Group>,
    pub errors: Invalid,
}

impl GroupsPage {
    fn member_names(&self, g: &Group) -> String {
        let names: Vec<&str> = g
            .members
            .iter()
            .filter_map(|id| self.staff.iter().find(|u| u.id == *id))
            .map(|u| u.nickname.as_str())
            .collect();
        if names.is_empty() {
            "—".into()
        } else {
            names.join("、")
        }
    }

    /// The group as its form shows it: the failed submission when it is this one.
    fn shown(&self, g: &Group) -> Group {
        match &self.failed {
            Some(f) if f.id == g.id => f.clone(),
            _ => g.clone(),
        }
    }

    fn new_group(&self) -> Group {
        self.shown(&Group {
            id: GroupId(0),
            name: String::new(),
            members: Vec::new(),
            scenes: Vec::new(),
            regions: Vec::new(),
            is_default: false,
        })
    }

    fn errors_for(&self, g: &Group) -> Option<&Invalid> {
        self.failed
            .as_ref()
            .filter(|f| f.id == g.id)
            .map(|_| &self.errors)
    }
}

fn groups_page(
    state: &AppState,
    ctx: PageCtx,
    failed: Option<Group>,
    errors: Invalid,
) -> Result<GroupsPage, AppError> {
    let staff = state
        .desk
        .list_users()?
        .into_iter()
        .filter(|u| !u.disabled && u.role != Role::Trainer)
        .collect();
    Ok(GroupsPage {
        ctx,
        groups: state.desk.groups()?,
        staff,
        scenes: state.desk.scenes()?.into_iter().map(|r| r.scene).collect(),
        failed,
        errors,
    })
}

/// GET /settings/groups
pub async fn page(
    state: web::Data<AppState>,
    _me: Require<OwnerOnly>,
    ctx: PageCtx,
) -> Result<GroupsPage, AppError> {
    groups_page(&state, ctx, None, Invalid::default())
}

/// A group from its form's fields (members and scenes are repeated checkboxes).
fn group_from(pairs: &[(String, String)]) -> Result<Group, AppError> {
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let bad = |_| AppError::BadRequest("表单格式有误".into());
    let id = match one("id") {
        "" => 0,
        v => v.parse().map_err(bad)?,
    };
    let mut members = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "members") {
        members.push(UserId(v.parse().map_err(bad)?));
    }
    Ok(Group {
        id: GroupId(id),
        name: one("name").to_string(),
        members,
        scenes: pairs
            .iter()
            .filter(|(k, _)| k == "scenes")
            .map(|(_, v)| v.clone())
            .collect(),
        regions: one("regions")
            .split([',', '，', '、', ' ', '\n'])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
            .collect(),
        is_default: one("is_default") == "on",
    })
}

/// POST /settings/groups — create (no id) or update a group.
pub async fn save(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    ctx: PageCtx,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let g = group_from(&pairs)?;
    match state
        .desk
        .save_group(&Actor::user(&me.user), g.clone())
        .await
    {
        Ok(_) => Ok(redirect("/settings/groups?done=saved")),
        Err(desk::Error::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &groups_page(&state, ctx, Some(g), errors)?,
        ),
        Err(e) => Err(e.into()),
    }
}

/// POST /settings/groups/{id}/delete
pub async fn delete(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    id: web::Path<u64>,
    _form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    state
        .desk
        .delete_group(&Actor::user(&me.user), GroupId(*id))
        .await?;
    Ok(redirect("/settings/groups?done=deleted"))
}
