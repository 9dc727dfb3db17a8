//! Layout data every page needs (`PageCtx`), injected once by an extractor, plus the
//! small helpers pages share: rendering with a status, safe redirects, flash messages.

use super::assets;
use super::extract::{self, PRE_COOKIE};
use crate::AppState;
use crate::error::AppError;
use crate::model::{AgentState, Role};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use std::future::Future;
use std::pin::Pin;

/// The logged-in user as the layout shows them.
#[derive(Debug, Clone)]
pub struct Badge {
    pub name: String,
    pub nickname: String,
    pub role: &'static str,
    /// The user's service state, for those who serve buyers.
    pub state: Option<AgentState>,
}

/// One entry of the console navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The console sections, in menu order, with the roles that see them. A section is
/// listed here once it exists.
const SECTIONS: &[(&str, &str, &[Role])] = &[
    (
        "/desk",
        "对话",
        &[Role::Owner, Role::Supervisor, Role::Agent],
    ),
    (
        "/tickets",
        "工单",
        &[Role::Owner, Role::Supervisor, Role::Agent],
    ),
    ("/kb", "知识库", &[Role::Owner, Role::Trainer]),
    (
        "/dashboard",
        "数据看板",
        &[Role::Owner, Role::Supervisor, Role::Agent],
    ),
    // Trainers see the bot's figures only (the other dashboards are not theirs).
    ("/dashboard/bot", "机器人数据", &[Role::Trainer]),
    ("/qa", "质检", &[Role::Owner, Role::Supervisor]),
    (
        "/search",
        "搜索",
        &[Role::Owner, Role::Supervisor, Role::Agent, Role::Trainer],
    ),
    ("/scenes", "场景开关", &[Role::Owner, Role::Supervisor]),
    ("/settings", "设置", &[Role::Owner]),
];

/// Layout data for `base.html`.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user: Option<Badge>,
    /// The token every form on the page carries as `_csrf`.
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// A one-line confirmation after a redirect (`?done=saved`).
    pub flash: Option<&'static str>,
    pub shop_name: String,
}

impl PageCtx {
    /// Layout data without a user or navigation (error pages).
    pub fn bare() -> PageCtx {
        PageCtx {
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
            flash: None,
            shop_name: String::new(),
        }
    }

    /// The service states a user can switch between.
    pub fn agent_states(&self) -> [AgentState; 4] {
        AgentState::ALL
    }

    /// The versioned URL of a static file, e.g. `/static/app.css?v=1a2b3c4d`.
    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    /// The page title suffix: the shop name, or the product name before setup.
    pub fn site(&self) -> &str {
        if self.shop_name.is_empty() {
            "店小二"
        } else {
            &self.shop_name
        }
    }
}

fn flash_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "已保存",
        "deleted" => "已删除",
        "ignored" => "已忽略",
        "revoked" => "令牌已撤销",
        "requeued" => "已重新排入投递队列",
        "transferred" => "会话已转交",
        "drawn" => "已抽取，请在下方评分",
        "drawn_none" => "这一天没有可以再抽取的已结束会话",
        "user_added" => "账号已添加",
        "user_updated" => "账号已更新",
        "password_changed" => "密码已修改",
        "welcome" => "店主账号已创建，欢迎使用店小二！",
        _ => return None,
    })
}

impl FromRequest for PageCtx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<PageCtx, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = extract::state(&req)?;
            let current = extract::resolve(&req).await?;
            let csrf = match &current {
                Some(cu) => cu.session.csrf.clone(),
                None => pre_token(&req),
            };
            let path = req.path();
            let role = current.as_ref().map(|c| c.user.role);
            let nav = SECTIONS
                .iter()
                .filter(|(_, _, roles)| role.is_some_and(|r| roles.contains(&r)))
                .map(|&(href, label, _)| NavItem {
                    href,
                    label,
                    active: path.starts_with(href),
                })
                .collect();
            let flash = web::Query::<FlashQuery>::from_query(req.query_string())
                .ok()
                .and_then(|q| q.done.as_deref().and_then(flash_text));
            let user = match current {
                Some(c) => Some(Badge {
                    state: match c.user.role {
                        Role::Trainer => None,
                        _ => Some(state.desk.agent_state(c.user.id)?),
                    },
                    name: c.user.name.clone(),
                    nickname: c.user.nickname.clone(),
                    role: c.user.role.label(),
                }),
                None => None,
            };
            Ok(PageCtx {
                user,
                csrf,
                nav,
                flash,
                shop_name: shop_name(&state),
            })
        })
    }
}

fn shop_name(state: &AppState) -> String {
    state
        .desk
        .settings()
        .map(|s| s.shop_name)
        .unwrap_or_default()
}

#[derive(serde::Deserialize)]
struct FlashQuery {
    done: Option<String>,
}

/// The anonymous visitor's CSRF token: the pre-session cookie, or a new one that the
/// `set_pre_cookie` middleware attaches to the response.
fn pre_token(req: &HttpRequest) -> String {
    if let Some(c) = req.cookie(PRE_COOKIE) {
        return c.value().to_string();
    }
    if let Some(t) = req.extensions().get::<extract::NewPreToken>() {
        return t.0.clone();
    }
    let t = crate::desk::auth::random_token();
    req.extensions_mut().insert(extract::NewPreToken(t.clone()));
    t
}

/// Renders `t` with `status` (for forms shown again with errors, use 422).
pub fn render(status: StatusCode, t: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(t.render()?))
}

/// Percent-encodes `s` for a query string.
pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// `next` if it is a path on this site, else `/` (no open redirects).
pub fn local_path(next: Option<&str>) -> &str {
    // Browsers drop tabs and newlines from URLs, so "/\t/evil" would become "//evil":
    // any whitespace or control character disqualifies the path, as do "//" and "\".
    let safe = |n: &str| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    };
    match next {
        Some(n) if safe(n) => n,
        _ => "/",
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: PageCtx,
    pub status: u16,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/settings?x=1")), "/settings?x=1");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil")), "/");
        assert_eq!(local_path(Some("/\t/evil.example/")), "/");
        assert_eq!(local_path(Some("/\n")), "/");
        assert_eq!(local_path(Some("/ok path")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn url_encode_escapes_query_characters() {
        assert_eq!(url_encode("/a?b=c&d"), "%2Fa%3Fb%3Dc%26d");
    }
}
