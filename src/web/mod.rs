//! The HTTP adapter: the one route table, middleware, and one file per area.

pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod channels;
pub mod chat;
pub mod dashboard;
pub mod extract;
pub mod groups;
pub mod health;
pub mod home;
pub mod kb;
pub mod limiter;
pub mod live;
pub mod monitor;
pub mod page;
pub mod products;
pub mod qa;
pub mod scenes;
pub mod search;
pub mod tickets;
pub mod training;
pub mod transcript;
pub mod webhooks;
pub mod workspace;

use crate::error::AppError;
use crate::model::Role;
use actix_web::body::MessageBody;
use actix_web::cookie::SameSite;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use extract::{
    AnyUser, BotWatchers, OwnerOnly, Policy, Public, Staff, Supervisors, Token, Trainers,
};

/// One row of the route table, as data: the tests walk it to check that every route
/// enforces login, roles and CSRF as declared.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    /// Roles allowed; `None` for public routes.
    pub roles: Option<&'static [Role]>,
}

macro_rules! routes {
    ($($method:ident $path:literal => $handler:path, $policy:ty;)*) => {
        /// Every route: method, path and who may call it.
        pub const ROUTES: &[RouteInfo] = &[$(RouteInfo {
            method: stringify!($method),
            path: $path,
            roles: <$policy as Policy>::ROLES,
        }),*];

        /// Registers every route of [`ROUTES`].
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(routes!(@route cfg, $method, $path, $handler);)*
        }
    };
    (@route $cfg:ident, GET, $path:literal, $handler:path) => {
        $cfg.route($path, web::get().to($handler));
    };
    (@route $cfg:ident, POST, $path:literal, $handler:path) => {
        $cfg.route($path, web::post().to($handler));
    };
}

routes! {
    // Health, then the busiest calls: actix tries routes in this order, and every
    // pattern with a parameter tried costs a regular-expression match.
    GET  "/healthz" => health::healthz, Public;

    // JSON API v1 (channel bridges authenticate with API tokens)
    POST "/api/v1/messages" => api::post_message, Token;
    GET  "/api/v1/conversations/{id}/messages" => api::conversation_messages, Token;
    POST "/api/v1/conversations/{id}/rating" => api::rate_conversation, Token;
    POST "/api/v1/orders" => api::post_order, Token;
    GET  "/api/v1/events" => api::events, Token;
    POST "/api/v1/bot/try" => api::bot_try, Trainers;

    // Static files
    GET  "/static/{path:.*}" => assets::serve, Public;

    // Owner setup, login, account
    GET  "/setup" => auth::setup_form, Public;
    POST "/setup" => auth::setup, Public;
    GET  "/login" => auth::login_form, Public;
    POST "/login" => auth::login, Public;
    POST "/logout" => auth::logout, AnyUser;
    GET  "/account" => auth::account, AnyUser;
    POST "/account/password" => auth::change_password, AnyUser;
    POST "/account/state" => auth::set_state, Staff;

    // Console home
    GET  "/" => home::home, AnyUser;

    // The buyer's chat page and its calls (the buyer's token, no login)
    GET  "/chat" => chat::page, Public;
    GET  "/api/v1/chat/history" => chat::history, Public;
    POST "/api/v1/chat/messages" => chat::send, Public;
    GET  "/api/v1/chat/events" => chat::events, Public;
    GET  "/api/v1/chat/suggest" => chat::suggest, Public;
    POST "/api/v1/chat/rating" => chat::rate, Public;

    // 对话: the agent workspace (agents, supervisors, the owner)
    GET  "/desk" => workspace::home, Staff;
    GET  "/desk/lists" => workspace::lists, Staff;
    GET  "/desk/events" => workspace::events, Staff;
    GET  "/desk/monitor" => monitor::page, Supervisors;
    GET  "/desk/monitor/board" => monitor::live_board, Supervisors;
    GET  "/desk/c/{id}" => workspace::conversation, Staff;
    GET  "/desk/c/{id}/messages" => workspace::messages, Staff;
    GET  "/desk/c/{id}/assist" => workspace::assist, Staff;
    POST "/desk/c/{id}/take" => workspace::take, Staff;
    POST "/desk/c/{id}/send" => workspace::send, Staff;
    POST "/desk/c/{id}/takeover" => workspace::take_over, Staff;
    POST "/desk/c/{id}/release" => workspace::release, Staff;
    POST "/desk/c/{id}/close" => workspace::close, Staff;
    POST "/desk/c/{id}/invite" => workspace::invite, Staff;
    POST "/desk/c/{id}/contact" => workspace::contact, Staff;
    POST "/desk/c/{id}/transfer" => workspace::transfer, Staff;
    POST "/desk/buyers/{id}" => workspace::save_buyer, Staff;
    GET  "/desk/quick" => workspace::quick, Staff;
    POST "/desk/quick" => workspace::save_quick, Staff;
    POST "/desk/quick/{id}/delete" => workspace::delete_quick, Staff;

    // 会话记录: one conversation, read-only (whoever may see it, and trainers)
    GET  "/conversations/{id}" => transcript::page, AnyUser;

    // 工单: tickets (staff); their types (supervisors)
    GET  "/tickets" => tickets::list, Staff;
    GET  "/tickets/new" => tickets::new_form, Staff;
    POST "/tickets" => tickets::create, Staff;
    GET  "/tickets/types" => tickets::types, Supervisors;
    POST "/tickets/types" => tickets::save_type, Supervisors;
    GET  "/tickets/{id}" => tickets::show, Staff;
    POST "/tickets/{id}" => tickets::update, Staff;
    POST "/tickets/{id}/details" => tickets::details, Staff;
    POST "/tickets/{id}/comments" => tickets::comment, Staff;

    // 知识库: the KB editor, products, lexicon, import/export, training (owner, trainers)
    GET  "/kb" => kb::list, Trainers;
    POST "/kb/bulk" => kb::bulk, Trainers;
    GET  "/kb/new" => kb::new_form, Trainers;
    POST "/kb/new" => kb::create, Trainers;
    GET  "/kb/e/{id}" => kb::entry, Trainers;
    POST "/kb/e/{id}" => kb::save, Trainers;
    POST "/kb/e/{id}/delete" => kb::delete, Trainers;
    GET  "/kb/try" => kb::try_bot, Trainers;
    GET  "/kb/synonyms" => kb::synonyms, Trainers;
    POST "/kb/synonyms" => kb::save_lexicon, Trainers;
    GET  "/kb/words" => kb::words, Trainers;
    POST "/kb/words" => kb::save_lexicon, Trainers;
    GET  "/kb/io" => kb::io_page, Trainers;
    GET  "/kb/export" => kb::export, Trainers;
    POST "/kb/import" => kb::import, Trainers;
    GET  "/kb/products" => products::list, Trainers;
    POST "/kb/products" => products::save, Trainers;
    GET  "/kb/products/new" => products::new_form, Trainers;
    GET  "/kb/products/export" => products::export, Trainers;
    POST "/kb/products/import" => products::import, Trainers;
    GET  "/kb/products/{sku}" => products::show, Trainers;
    POST "/kb/products/{sku}/delete" => products::delete, Trainers;
    GET  "/kb/training" => training::page, Trainers;
    POST "/kb/training/add" => training::add, Trainers;
    POST "/kb/training/ignore" => training::ignore, Trainers;
    GET  "/kb/hot" => training::hot, Trainers;
    GET  "/kb/marks" => training::marks, Trainers;
    POST "/kb/marks" => training::mark, Trainers;

    // 数据看板: staff see the overview (agents: their own numbers); supervisors the rest
    GET  "/dashboard" => dashboard::overview, Staff;
    GET  "/dashboard/agents" => dashboard::agents, Supervisors;
    GET  "/dashboard/bot" => dashboard::bot, BotWatchers;
    GET  "/dashboard/export" => dashboard::export, Staff;
    POST "/dashboard/targets" => dashboard::save_targets, OwnerOnly;
    GET  "/dashboard/live" => dashboard::live, Supervisors;
    GET  "/dashboard/live/board" => dashboard::live_fragment, Supervisors;

    // 质检 (owner and supervisors)
    GET  "/qa" => qa::page, Supervisors;
    POST "/qa/red-lines" => qa::save_red_lines, Supervisors;
    GET  "/qa/scoring" => qa::scoring, Supervisors;
    POST "/qa/samples/draw" => qa::draw, Supervisors;
    POST "/qa/samples/{id}" => qa::score, Supervisors;
    POST "/qa/rubric" => qa::save_rubric, Supervisors;
    GET  "/qa/examples" => qa::examples, Staff;

    // 搜索: history search (every console role)
    GET  "/search" => search::page, search::Searchers;

    // 场景开关 (owner and supervisors)
    GET  "/scenes" => scenes::page, Supervisors;
    POST "/scenes/switch" => scenes::switch, Supervisors;
    POST "/scenes/toggle" => scenes::toggle, Supervisors;
    POST "/scenes/reception" => scenes::save_reception, Supervisors;

    // 设置 (owner)
    GET  "/settings" => admin::settings, OwnerOnly;
    POST "/settings" => admin::save_settings, OwnerOnly;
    GET  "/settings/users" => admin::users, OwnerOnly;
    POST "/settings/users" => admin::add_user, OwnerOnly;
    POST "/settings/users/{id}" => admin::change_user, OwnerOnly;
    GET  "/settings/groups" => groups::page, OwnerOnly;
    POST "/settings/groups" => groups::save, OwnerOnly;
    POST "/settings/groups/{id}/delete" => groups::delete, OwnerOnly;
    GET  "/settings/channels" => channels::page, OwnerOnly;
    POST "/settings/channels/tokens" => channels::create_token, OwnerOnly;
    POST "/settings/channels/tokens/{id}/revoke" => channels::revoke_token, OwnerOnly;
    POST "/settings/channels/webhooks" => channels::save_webhook, OwnerOnly;
    POST "/settings/channels/webhooks/{channel}/delete" => channels::delete_webhook, OwnerOnly;
    POST "/settings/channels/webhooks/{channel}/retry" => channels::retry_failed, OwnerOnly;
    GET  "/settings/audit" => admin::audit, OwnerOnly;
    GET  "/settings/backup" => backup::page, OwnerOnly;
    GET  "/settings/backup/download" => backup::download, OwnerOnly;
    POST "/settings/backup/history" => backup::import_history, OwnerOnly;
}

/// The 404 for every unknown route (a 405 for a known address with another method):
/// the page, or JSON under `/api/`.
pub async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    static PATTERNS: std::sync::OnceLock<Vec<(&str, actix_web::dev::ResourceDef)>> =
        std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        ROUTES
            .iter()
            .map(|r| (r.method, actix_web::dev::ResourceDef::new(r.path)))
            .collect()
    });
    let mut allowed: Vec<&str> = patterns
        .iter()
        .filter(|(_, def)| def.is_match(req.path()))
        .map(|(method, _)| *method)
        .collect();
    allowed.sort_unstable();
    allowed.dedup();
    if allowed.is_empty() || allowed.contains(&req.method().as_str()) {
        answer_error(&req, AppError::NotFound)
    } else {
        answer_error(&req, AppError::MethodNotAllowed(allowed.join(", ")))
    }
}

/// `err` answered the way `req`'s area answers errors (JSON under `/api/`).
pub fn answer_error(req: &actix_web::HttpRequest, err: AppError) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    if req.path().starts_with("/api/") {
        crate::error::ApiError(err).error_response()
    } else {
        err.error_response()
    }
}

/// Extractor errors (bad query strings, path segments) as our own errors, not actix's
/// plain text: an unparsable path segment is an unknown page.
pub fn input_errors(cfg: &mut web::ServiceConfig) {
    fn wrap(req: &actix_web::HttpRequest, err: AppError) -> actix_web::Error {
        actix_web::error::InternalError::from_response(err.to_string(), answer_error(req, err))
            .into()
    }
    cfg.app_data(web::QueryConfig::default().error_handler(|e, req| {
        let msg = e.to_string().replace("Query deserialize error: ", "");
        let why = crate::model::json::data_trouble(&msg);
        wrap(req, AppError::BadRequest(format!("查询参数有误：{why}")))
    }))
    .app_data(web::PathConfig::default().error_handler(|_, req| wrap(req, AppError::NotFound)));
}

/// Sets the anonymous CSRF cookie when a page handed out a new token.
pub async fn set_pre_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let secure = extract::state(req.request())
        .map(|s| s.config.secure_cookies())
        .unwrap_or(false);
    let mut res = next.call(req).await?;
    let token = res
        .request()
        .extensions()
        .get::<extract::NewPreToken>()
        .map(|t| t.0.clone());
    if let Some(t) = token {
        let c = extract::cookie(extract::PRE_COOKIE, t, secure, SameSite::Strict);
        let _ = res.response_mut().add_cookie(&c);
    }
    Ok(res)
}

/// Logs one structured line per request: method, path (without the query, which may
/// carry tokens), status and duration.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let res = next.call(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    match &res {
        Ok(r) => {
            let status = r.status().as_u16();
            if status >= 500 {
                tracing::warn!(%method, %path, status, ms, "request");
            } else {
                tracing::info!(%method, %path, status, ms, "request");
            }
        }
        Err(e) => tracing::warn!(%method, %path, error = %e, ms, "request failed"),
    }
    res
}

/// The content security policy of every page that does not set its own: scripts and
/// styles only from this origin (buyer text can never run as script), no framing.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; \
    object-src 'none'";

/// Security headers for every response: no sniffing, no referrer to other sites, and
/// the default CSP with no framing unless the handler chose its own policy (the chat
/// page, which the widget frames).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use actix_web::http::header::{HeaderName, HeaderValue};
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let own_policy = h.contains_key("content-security-policy");
    let mut set = |name: &'static str, value: &'static str| {
        let name = HeaderName::from_static(name);
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "same-origin");
    if !own_policy {
        set("x-frame-options", "DENY");
        set("content-security-policy", CSP);
    }
    Ok(res)
}
