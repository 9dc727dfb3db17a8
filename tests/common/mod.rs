//! Shared helpers for the in-process app tests: a real store in a temp folder, the real
//! `App`, and logged-in sessions for each role.
#![allow(dead_code)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test::{self, TestRequest};
use actix_web::web::Data;
use std::sync::Arc;
use xiaoer::config::Config;
use xiaoer::desk::Actor;
use xiaoer::model::{Clock, NewUser, Role, SystemClock};
use xiaoer::store::Store;
use xiaoer::{AppState, build_app};

pub const PASSWORD: &str = "password-123";

/// A clock at 10:00 Shanghai time on a Monday: inside the default staffed hours.
pub fn staffed_clock() -> Arc<xiaoer::model::ManualClock> {
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").expect("time");
    Arc::new(xiaoer::model::ManualClock::new(at.to_utc()))
}

/// Opens the store in `dir` once the app state that had it is gone. Letting go of the
/// state closes the store at once, unless the background history indexer is in the
/// middle of a catch-up (it holds the store until the catch-up ends): allow it a moment.
pub async fn reopen(dir: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(dir) {
            Ok(store) => return store,
            Err(e) if std::time::Instant::now() > deadline => panic!("still in use: {e}"),
            Err(_) => actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// A temp data folder with its app state.
pub struct TestShop {
    pub dir: tempfile::TempDir,
    pub state: Data<AppState>,
}

impl TestShop {
    /// A fresh shop with no users (and the starter KB).
    pub async fn empty() -> TestShop {
        TestShop::with_config(|_| {}).await
    }

    /// A fresh shop whose config `adjust` changes.
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> TestShop {
        TestShop::build(adjust, Arc::new(SystemClock)).await
    }

    /// A fresh shop telling time by `clock`.
    pub async fn with_clock(clock: Arc<dyn Clock>) -> TestShop {
        TestShop::build(|_| {}, clock).await
    }

    async fn build(adjust: impl FnOnce(&mut Config), clock: Arc<dyn Clock>) -> TestShop {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let mut config = Config::new(dir.path());
        adjust(&mut config);
        let state = AppState::open(config, store, clock)
            .await
            .expect("app state");
        TestShop {
            dir,
            state: Data::new(state),
        }
    }

    /// A shop whose owner `boss` exists.
    pub async fn with_owner() -> TestShop {
        TestShop::with_team(Arc::new(SystemClock), &[]).await
    }

    /// A shop telling time by `clock`, with its owner `boss` and the users in `staff`
    /// (login name and role; each password is `PASSWORD`).
    pub async fn with_team(clock: Arc<dyn Clock>, staff: &[(&str, Role)]) -> TestShop {
        let shop = TestShop::with_clock(clock).await;
        shop.state
            .desk
            .setup_owner(NewUser {
                name: "boss".into(),
                nickname: "老板".into(),
                role: Role::Owner,
                password: PASSWORD.into(),
            })
            .await
            .expect("owner");
        for (name, role) in staff {
            shop.add(name, *role).await;
        }
        shop
    }

    /// Adds a user with `role` named after it, unless it is the owner.
    pub async fn add(&self, name: &str, role: Role) {
        self.state
            .desk
            .add_user(
                &Actor::cli(),
                NewUser {
                    name: name.into(),
                    nickname: String::new(),
                    role,
                    password: PASSWORD.into(),
                },
            )
            .await
            .expect("add user");
    }

    /// The user logged in as `name`.
    pub fn user(&self, name: &str) -> xiaoer::model::User {
        let users = self.state.desk.list_users().unwrap();
        users.into_iter().find(|u| u.name == name).unwrap()
    }

    pub fn user_id(&self, name: &str) -> xiaoer::model::UserId {
        self.user(name).id
    }

    /// Logs `name` in and returns the session (cookie token and CSRF token).
    pub async fn session(&self, name: &str) -> Sess {
        let login = self.state.desk.login(name, PASSWORD).await.expect("login");
        Sess {
            cookie: format!("xiaoer_session={}", login.token),
            csrf: login.session.csrf,
        }
    }

    /// Every table as JSON Lines: equal before and after means nothing changed.
    pub fn snapshot(&self) -> String {
        let mut out = Vec::new();
        xiaoer::store::export::export(&self.state.desk.store().read().expect("read"), &mut out)
            .expect("export");
        String::from_utf8(out).expect("utf-8")
    }
}

/// A logged-in browser: its cookie header and CSRF token.
#[derive(Clone)]
pub struct Sess {
    pub cookie: String,
    pub csrf: String,
}

/// The real app over the shop's state.
pub async fn app(
    shop: &TestShop,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(build_app(shop.state.clone())).await
}

/// A GET, with the session if given.
pub fn get(path: &str, sess: Option<&Sess>) -> TestRequest {
    let mut r = TestRequest::get().uri(path);
    if let Some(s) = sess {
        r = r.insert_header((header::COOKIE, s.cookie.clone()));
    }
    r
}

/// A urlencoded POST of `pairs`, with the session if given (its CSRF token is NOT added:
/// put `("_csrf", …)` in `pairs`).
pub fn post(path: &str, sess: Option<&Sess>, pairs: &[(&str, &str)]) -> TestRequest {
    let body = serde_urlencoded::to_string(pairs).expect("form");
    let mut r = TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(body);
    if let Some(s) = sess {
        r = r.insert_header((header::COOKIE, s.cookie.clone()));
    }
    r
}

/// The response's Location header.
pub fn location<B>(res: &ServiceResponse<B>) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The response body as text.
pub async fn text<B: MessageBody>(res: ServiceResponse<B>) -> String {
    let bytes = test::read_body(res).await;
    String::from_utf8(bytes.to_vec()).expect("utf-8 body")
}

/// The value of `name="_csrf"` in a rendered form.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("csrf field") + marker.len();
    html[start..].split('"').next().unwrap_or("").to_string()
}

/// The `Set-Cookie` value for `name`, if the response sets it.
pub fn set_cookie<B>(res: &ServiceResponse<B>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(String::from)
}

/// Skill groups routed by buyer region: (name, region, the one member) each.
pub async fn regional_groups(shop: &TestShop, groups: &[(&str, &str, xiaoer::model::UserId)]) {
    for (name, region, member) in groups {
        let g = xiaoer::model::Group {
            id: xiaoer::model::GroupId(0),
            name: name.to_string(),
            members: vec![*member],
            scenes: vec![],
            regions: vec![region.to_string()],
            is_default: false,
        };
        shop.state
            .desk
            .save_group(&Actor::cli(), g)
            .await
            .expect("group");
    }
}

/// An API token for `channel` (its secret).
pub async fn api_token(shop: &TestShop, channel: &str) -> String {
    shop.state
        .desk
        .create_token(&Actor::cli(), channel, channel)
        .await
        .expect("token")
        .1
}

/// A JSON request with a bearer token (if given).
pub fn api(
    method: actix_web::http::Method,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> TestRequest {
    let mut r = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_string());
    if let Some(t) = token {
        r = r.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
    }
    r
}

/// `GET /api/v1/conversations/{conv}/messages` with the channel's API token.
pub fn conv_messages(token: &str, conv: impl std::fmt::Display) -> TestRequest {
    api(
        actix_web::http::Method::GET,
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(token),
        "",
    )
}

/// The response body as JSON.
pub async fn json<B: MessageBody>(res: ServiceResponse<B>) -> serde_json::Value {
    let body = text(res).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Reads a server-sent event stream as it arrives.
pub struct Sse<B> {
    body: std::pin::Pin<Box<B>>,
    buf: String,
}

impl<B: MessageBody> Sse<B> {
    pub fn new(res: ServiceResponse<B>) -> Sse<B> {
        Sse {
            body: Box::pin(res.into_body()),
            buf: String::new(),
        }
    }

    /// The next event (id, name, data), skipping comments and `retry`; `None` when
    /// nothing arrives within `wait`.
    pub async fn next(
        &mut self,
        wait: std::time::Duration,
    ) -> Option<(u64, String, serde_json::Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (None, String::new(), None);
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(v).ok();
                    }
                }
                if let (Some(id), Some(data)) = (id, data) {
                    return Some((id, name, data));
                }
            }
            let mut body = self.body.as_mut();
            let chunk = tokio::time::timeout_at(
                deadline,
                std::future::poll_fn(|cx| body.as_mut().poll_next(cx)),
            )
            .await
            .ok()??;
            let bytes = chunk.ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

/// `sess` switches to 在线 from the console header (taking waiting buyers).
pub async fn go_online<S, B>(app: &S, sess: &Sess)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = post(
        "/account/state",
        Some(sess),
        &[("_csrf", &sess.csrf), ("state", "online")],
    );
    let res = test::call_service(app, req.to_request()).await;
    assert_eq!(res.status(), actix_web::http::StatusCode::SEE_OTHER);
}

/// A buyer's message on the `qianniu` channel over the API; returns the answer.
pub async fn buyer_says<S, B>(
    app: &S,
    token: &str,
    buyer: &str,
    region: &str,
    text: &str,
) -> serde_json::Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let body = serde_json::json!({
        "channel": "qianniu", "buyer_id": buyer, "text": text,
        "nickname": format!("{buyer}的昵称"), "region": region,
    });
    let req = api(
        actix_web::http::Method::POST,
        "/api/v1/messages",
        Some(token),
        &body.to_string(),
    )
    .to_request();
    json(test::call_service(app, req).await).await
}

/// A file upload as the import pages send it: the body as is, the CSRF token in a
/// header.
pub fn upload(path: &str, sess: &Sess, csrf: &str, body: &str) -> actix_http::Request {
    test::TestRequest::post()
        .uri(path)
        .insert_header((header::COOKIE, sess.cookie.clone()))
        .insert_header(("X-CSRF-Token", csrf.to_string()))
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .set_payload(body.to_string())
        .to_request()
}

/// The line numbers an import report rejected (`{"rejected":[{"line",…}]}`).
pub fn rejected_lines(report: &serde_json::Value) -> Vec<u64> {
    report["rejected"]
        .as_array()
        .expect("a report of rejected rows")
        .iter()
        .map(|x| x["line"].as_u64().expect("a line number"))
        .collect()
}
