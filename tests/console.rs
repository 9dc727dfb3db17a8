//! The console's main flows through the real app: owner setup, login and lockout,
//! settings, users, audit log, backup, static files, errors.

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::test::{TestRequest, call_service};
use common::*;
use xiaoer::model::Role;
use xiaoer::store::prelude::*;

#[actix_web::test]
async fn owner_setup_works_once_and_logs_the_owner_in() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;

    let res = call_service(&app, get("/", None).to_request()).await;
    assert_eq!(location(&res), "/setup");
    let res = call_service(&app, get("/setup", None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pre = set_cookie(&res, "xiaoer_pre").expect("anonymous csrf cookie");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );
    let pre = pre.split(';').next().unwrap().to_string();
    let csrf = csrf_in(&text(res).await);

    // Mismatched passwords: the form again, nothing created.
    let form = [
        ("_csrf", csrf.as_str()),
        ("name", "boss"),
        ("nickname", "老板"),
        ("password", PASSWORD),
        ("password2", "different-1"),
    ];
    let req = post("/setup", None, &form).insert_header((header::COOKIE, pre.clone()));
    let res = call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("两次输入的密码不一致"));
    assert!(html.contains("value=\"boss\""), "name kept");
    assert!(shop.state.desk.needs_setup().unwrap());

    let mut form = form;
    form[4] = ("password2", PASSWORD);
    let req = post("/setup", None, &form).insert_header((header::COOKIE, pre.clone()));
    let res = call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/?done=welcome");
    let cookie = set_cookie(&res, "xiaoer_session").expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http must not set Secure");
    let session = cookie.split(';').next().unwrap().to_string();
    let res = call_service(
        &app,
        get("/?done=welcome", None)
            .insert_header((header::COOKIE, session))
            .to_request(),
    )
    .await;
    let html = text(res).await;
    assert!(
        html.contains("你好，老板") && html.contains("店主账号已创建"),
        "{html}"
    );

    // A second setup is refused and creates nobody.
    form[1] = ("name", "intruder");
    let req = post("/setup", None, &form).insert_header((header::COOKIE, pre));
    let res = call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(shop.state.desk.list_users().unwrap().len(), 1);
    let res = call_service(&app, get("/setup", None).to_request()).await;
    assert_eq!(location(&res), "/login");
}

async fn login_page_csrf(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
) -> (String, String) {
    let res = call_service(app, get("/login?next=/settings", None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pre = set_cookie(&res, "xiaoer_pre").expect("pre cookie");
    let pre = pre.split(';').next().unwrap().to_string();
    (pre, csrf_in(&text(res).await))
}

#[actix_web::test]
async fn login_goes_to_next_and_locks_after_repeated_failures() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let (pre, csrf) = login_page_csrf(&app).await;
    let attempt = |password: &'static str| {
        post(
            "/login",
            None,
            &[
                ("_csrf", &csrf),
                ("name", "boss"),
                ("password", password),
                ("next", "/settings"),
            ],
        )
        .insert_header((header::COOKIE, pre.clone()))
        .to_request()
    };

    let res = call_service(&app, attempt(PASSWORD)).await;
    assert_eq!(location(&res), "/settings");
    assert!(set_cookie(&res, "xiaoer_session").is_some());

    for _ in 0..5 {
        let res = call_service(&app, attempt("wrong-password")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(res).await.contains("用户名或密码错误"));
    }
    // Locked now: even the right password is refused, and no session is made.
    let res = call_service(&app, attempt(PASSWORD)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&res, "xiaoer_session").is_none());
    assert!(text(res).await.contains("登录失败次数过多"));
}

#[actix_web::test]
async fn a_team_behind_one_address_can_log_in_all_day() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let (pre, csrf) = login_page_csrf(&app).await;
    let office: std::net::SocketAddr = "10.9.8.7:40000".parse().unwrap();
    let attempt = |password: &'static str| {
        post(
            "/login",
            None,
            &[("_csrf", &csrf), ("name", "boss"), ("password", password)],
        )
        .insert_header((header::COOKIE, pre.clone()))
        .peer_addr(office)
        .to_request()
    };
    // More right logins than the address may fail (20 in 15 minutes).
    for i in 0..30 {
        let res = call_service(&app, attempt(PASSWORD)).await;
        assert_eq!(location(&res), "/", "login {i}");
    }
    // A wrong password from there is still just that.
    let res = call_service(&app, attempt("wrong-password")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn login_never_redirects_off_site() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let (pre, csrf) = login_page_csrf(&app).await;
    let req = post(
        "/login",
        None,
        &[
            ("_csrf", &csrf),
            ("name", "boss"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ],
    )
    .insert_header((header::COOKIE, pre));
    let res = call_service(&app, req.to_request()).await;
    assert_eq!(location(&res), "/");
}

#[actix_web::test]
async fn a_tab_in_next_cannot_smuggle_an_off_site_redirect() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let res = call_service(
        &app,
        get("/login?next=/%09/evil.example/", Some(&s)).to_request(),
    )
    .await;
    assert_eq!(location(&res), "/");
}

#[actix_web::test]
async fn parallel_wrong_logins_all_count_toward_the_lock() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let (pre, csrf) = login_page_csrf(&app).await;
    let attempt = |password: &'static str| {
        post(
            "/login",
            None,
            &[("_csrf", &csrf), ("name", "boss"), ("password", password)],
        )
        .insert_header((header::COOKIE, pre.clone()))
        .to_request()
    };
    // Five wrong guesses and the right password, all at once: the lock must already
    // count the guesses still being checked.
    let mut all: Vec<_> = (0..5)
        .map(|_| call_service(&app, attempt("wrong-password")))
        .collect();
    all.push(call_service(&app, attempt(PASSWORD)));
    let results = futures_util::future::join_all(all).await;
    assert_eq!(results[5].status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&results[5], "xiaoer_session").is_none());
}

#[actix_web::test]
async fn unknown_api_routes_and_bad_parameters_get_clear_errors() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let res = call_service(&app, get("/api/v1/nope", Some(&s)).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(text(res).await.contains("\"code\":\"not_found\""));
    let res = call_service(&app, get("/settings/audit?before=x", Some(&s)).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("查询参数有误"));
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let res = call_service(
        &app,
        post("/logout", Some(&s), &[("_csrf", &s.csrf)]).to_request(),
    )
    .await;
    assert_eq!(location(&res), "/login");
    let cleared = set_cookie(&res, "xiaoer_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let res = call_service(&app, get("/", Some(&s)).to_request()).await;
    assert!(location(&res).starts_with("/login"));
}

#[actix_web::test]
async fn settings_save_validate_and_audit() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let mut form = vec![
        ("_csrf", s.csrf.as_str()),
        ("shop_name", "小二旗舰店"),
        ("staffed_start", "08:30"),
        ("staffed_end", "22:00"),
        ("time_zone", "Asia/Shanghai"),
        ("greeting", "亲，欢迎光临！"),
        ("off_hours_text", "亲，客服 {{客服时间}} 在线哦"),
        ("couriers", "顺丰"),
        ("ship_within", "24小时"),
        ("free_shipping", "全场包邮"),
        ("return_address", "杭州市余杭区某某路 1 号"),
    ];
    let res = call_service(&app, post("/settings", Some(&s), &form).to_request()).await;
    assert_eq!(location(&res), "/settings?done=saved");
    let res = call_service(&app, get("/settings?done=saved", Some(&s)).to_request()).await;
    let html = text(res).await;
    assert!(html.contains("已保存") && html.contains("value=\"小二旗舰店\""));
    assert!(html.contains("08:30"));

    // Malformed values: the form again with messages, nothing changed.
    let before = shop.snapshot();
    form[2] = ("staffed_start", "8点半");
    form[4] = ("time_zone", "Mars/Olympus");
    let res = call_service(&app, post("/settings", Some(&s), &form).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("时间格式应为 HH:MM") && html.contains("未知的时区"));
    assert!(html.contains("value=\"8点半\""), "typed value kept");
    assert_eq!(shop.snapshot(), before);

    let res = call_service(&app, get("/settings/audit", Some(&s)).to_request()).await;
    let html = text(res).await;
    assert!(html.contains("修改店铺设置"));
    assert!(html.contains("店铺名称：我的小店 → 小二旗舰店"));
    assert!(html.contains("创建店主账号"));
}

#[actix_web::test]
async fn settings_shop_name_shows_in_the_layout() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let res = call_service(&app, get("/", Some(&s)).to_request()).await;
    let html = text(res).await;
    assert!(html.contains("我的小店"));
    assert!(html.contains("href=\"/settings\""), "owner sees 设置");
    // 开店准备: each step links to its page and is ticked once it is done.
    let done = |html: &str, href: &str| {
        let at = html.find(&format!("<a href=\"{href}\">")).expect(href);
        html[at..].split("</li>").next().unwrap().contains("已完成")
    };
    for href in ["/settings/groups", "/kb/products", "/settings/channels"] {
        assert!(!done(&html, href), "{href}");
    }
    api_token(&shop, "qianniu").await;
    let html = text(call_service(&app, get("/", Some(&s)).to_request()).await).await;
    assert!(done(&html, "/settings/channels") && !done(&html, "/settings/groups"));
}

#[actix_web::test]
async fn users_can_be_added_changed_disabled_and_reset() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let add = |name: &'static str, password: &'static str| {
        post(
            "/settings/users",
            Some(&s),
            &[
                ("_csrf", &s.csrf),
                ("name", name),
                ("nickname", "小美<b>"),
                ("role", "agent"),
                ("password", password),
            ],
        )
        .to_request()
    };
    let res = call_service(&app, add("meimei", PASSWORD)).await;
    assert_eq!(location(&res), "/settings/users?done=user_added");

    // Taken name and weak password: the form again, nothing added.
    let before = shop.snapshot();
    let res = call_service(&app, add("MEIMEI", "short")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(
        html.contains("已被使用") && html.contains("密码至少 8 位"),
        "{html}"
    );
    assert_eq!(shop.snapshot(), before);

    let res = call_service(&app, get("/settings/users", Some(&s)).to_request()).await;
    let html = text(res).await;
    assert!(
        html.contains("小美&#60;b&#62;") || html.contains("小美&lt;b&gt;"),
        "nickname escaped"
    );
    assert!(!html.contains("小美<b>"));

    let agent = shop
        .state
        .desk
        .store()
        .read()
        .unwrap()
        .get_user_by_name("meimei")
        .unwrap()
        .unwrap();
    let path = format!("/settings/users/{}", agent.id);
    let change = |pairs: &[(&str, &str)]| {
        let mut all = vec![("_csrf", s.csrf.as_str())];
        all.extend_from_slice(pairs);
        post(&path, Some(&s), &all).to_request()
    };
    let res = call_service(&app, change(&[("action", "role"), ("role", "trainer")])).await;
    assert_eq!(location(&res), "/settings/users?done=user_updated");
    let agent_sess = shop.session("meimei").await;
    let res = call_service(&app, change(&[("action", "disable")])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = call_service(&app, get("/", Some(&agent_sess)).to_request()).await;
    assert!(
        location(&res).starts_with("/login"),
        "disabled user is logged out"
    );

    let res = call_service(&app, change(&[("action", "enable")])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = call_service(
        &app,
        change(&[("action", "password"), ("password", "brand-new-pass")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        shop.state
            .desk
            .login("meimei", "brand-new-pass")
            .await
            .is_ok()
    );

    // Bad changes: the page again with the reason, nothing changed.
    let before = shop.snapshot();
    for bad in [
        vec![("action", "explode")],
        vec![("action", "role"), ("role", "admin")],
        vec![("action", "password"), ("password", "123")],
    ] {
        let res = call_service(&app, change(&bad)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let me = format!(
        "/settings/users/{}",
        shop.state
            .desk
            .store()
            .read()
            .unwrap()
            .get_user_by_name("boss")
            .unwrap()
            .unwrap()
            .id
    );
    let res = call_service(
        &app,
        post(
            &me,
            Some(&s),
            &[("_csrf", &s.csrf), ("action", "role"), ("role", "agent")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("至少需要保留一个启用中的店主账号"));
    let res = call_service(
        &app,
        post(
            "/settings/users/999",
            Some(&s),
            &[("_csrf", &s.csrf), ("action", "disable")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(shop.snapshot(), before);

    let res = call_service(&app, get("/settings/audit", Some(&s)).to_request()).await;
    let html = text(res).await;
    for label in ["添加账号", "修改角色", "停用账号", "启用账号", "重置密码"] {
        assert!(html.contains(label), "audit lists {label}");
    }
}

#[actix_web::test]
async fn own_password_change_keeps_this_browser_logged_in() {
    let shop = TestShop::with_owner().await;
    shop.add("agent1", Role::Agent).await;
    let app = app(&shop).await;
    let s = shop.session("agent1").await;
    let other_device = shop.session("agent1").await;
    let form = [
        ("_csrf", s.csrf.as_str()),
        ("old_password", PASSWORD),
        ("new_password", "new-password-1"),
        ("new_password2", "new-password-1"),
    ];
    let res = call_service(
        &app,
        post("/account/password", Some(&s), &form).to_request(),
    )
    .await;
    assert_eq!(location(&res), "/account?done=password_changed");
    let fresh = set_cookie(&res, "xiaoer_session").unwrap();
    let fresh = fresh.split(';').next().unwrap().to_string();
    let res = call_service(
        &app,
        get("/account", None)
            .insert_header((header::COOKIE, fresh))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = call_service(&app, get("/account", Some(&other_device)).to_request()).await;
    assert!(location(&res).starts_with("/login"));
}

#[actix_web::test]
async fn non_owners_see_no_settings_menu() {
    let shop = TestShop::with_owner().await;
    shop.add("agent1", Role::Agent).await;
    let app = app(&shop).await;
    let s = shop.session("agent1").await;
    let res = call_service(&app, get("/", Some(&s)).to_request()).await;
    let html = text(res).await;
    assert!(html.contains("你好，agent1"));
    assert!(!html.contains("href=\"/settings\""));
}

#[actix_web::test]
async fn backup_download_is_a_full_export() {
    // 10:00 in Shanghai is 02:00 UTC: the file is named in the shop's time.
    let shop = TestShop::with_team(staffed_clock(), &[]).await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let res = call_service(
        &app,
        get("/settings/backup/download", Some(&s)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("attachment")
            && disposition.contains("xiaoer-backup-20261123-100000.jsonl"),
        "{disposition}"
    );
    // It holds every buyer's messages: the download is in the audit log.
    let log = shop
        .state
        .desk
        .store()
        .read()
        .unwrap()
        .list_audit(None, 1)
        .unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].target.as_str()),
        ("backup.download", "xiaoer-backup-20261123-100000.jsonl")
    );
    let body = text(res).await;
    let first = body.lines().next().unwrap();
    assert!(first.contains("\"format\":\"xiaoer-export\""), "{first}");
    assert!(body.contains("\"table\":\"users\""));
    assert_eq!(body, shop.snapshot());
}

#[actix_web::test]
async fn unknown_routes_get_the_404_page() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let res = call_service(&app, get("/no/such/page", None).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        res.headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(text(res).await.contains("页面不存在"));
    let res = call_service(&app, get("/static/missing.css", None).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn malformed_and_oversized_posts_are_refused_cleanly() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let before = shop.snapshot();

    let res = call_service(
        &app,
        TestRequest::post()
            .uri("/settings")
            .insert_header((header::COOKIE, s.cookie.clone()))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(format!("{{\"_csrf\":\"{}\"}}", s.csrf))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let huge = "x".repeat(300 * 1024);
    let res = call_service(
        &app,
        post(
            "/settings",
            Some(&s),
            &[("_csrf", &s.csrf), ("greeting", &huge)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(res).await.contains("提交的内容过大"));

    let res = call_service(
        &app,
        post(
            "/settings/users/not-a-number",
            Some(&s),
            &[("_csrf", &s.csrf), ("action", "disable")],
        )
        .to_request(),
    )
    .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn static_files_have_etag_and_long_cache() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    // Pages link the versioned URL, which never changes.
    let versioned = xiaoer::web::assets::url("app.css");
    assert!(versioned.contains("?v="), "{versioned}");
    let res = call_service(&app, get(&versioned, None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        res.headers()
            .get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let etag = res
        .headers()
        .get(header::ETAG)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let res = call_service(
        &app,
        get("/static/app.css", None)
            .insert_header((header::IF_NONE_MATCH, etag))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // Pages link the versioned URL.
    let res = call_service(&app, get("/setup", None).to_request()).await;
    assert!(text(res).await.contains("/static/app.css?v="));
}

#[actix_web::test]
async fn healthz_reports_version_and_pages_carry_security_headers() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let res = call_service(&app, get("/healthz", None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(res).await;
    assert!(body.contains("\"status\":\"ok\"") && body.contains(env!("CARGO_PKG_VERSION")));
    let res = call_service(&app, get("/setup", None).to_request()).await;
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"));
    assert_eq!(res.headers().get("x-frame-options").unwrap(), "DENY");
}

#[actix_web::test]
async fn cookies_are_secure_behind_https() {
    let shop =
        TestShop::with_config(|c| c.public_url = Some("https://kefu.example.com".into())).await;
    let app = app(&shop).await;
    let res = call_service(&app, get("/setup", None).to_request()).await;
    assert!(set_cookie(&res, "xiaoer_pre").unwrap().contains("Secure"));
}
