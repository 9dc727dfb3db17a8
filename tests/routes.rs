//! Walks the route table: every protected route sends anonymous visitors to log in,
//! refuses roles it does not allow, and every POST refuses a missing or wrong CSRF token
//! without changing anything.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::call_service;
use common::*;
use xiaoer::model::Role;
use xiaoer::web::{ROUTES, RouteInfo};

/// A concrete URL for a route pattern.
fn url(r: &RouteInfo) -> String {
    r.path.replace("{path:.*}", "app.css").replace("{id}", "1")
}

fn is_api(r: &RouteInfo) -> bool {
    r.path.starts_with("/api/")
}

/// Routes for channel bridges: an API token, not a console role, opens them.
fn is_token(r: &RouteInfo) -> bool {
    r.roles.is_some_and(|roles| roles.is_empty())
}

fn request(r: &RouteInfo, sess: Option<&Sess>, csrf: Option<&str>) -> actix_web::test::TestRequest {
    match r.method {
        "GET" => get(&url(r), sess),
        "POST" if is_api(r) => {
            let mut req = actix_web::test::TestRequest::post()
                .uri(&url(r))
                .insert_header(("content-type", "application/json"))
                .set_payload(r#"{"text":"什么时候发货"}"#);
            if let Some(s) = sess {
                req = req.insert_header(("cookie", s.cookie.clone()));
            }
            req
        }
        "POST" => {
            let mut pairs = vec![("action", "role"), ("role", "agent"), ("name", "x")];
            if let Some(c) = csrf {
                pairs.push(("_csrf", c));
            }
            post(&url(r), sess, &pairs)
        }
        other => panic!("route table has an untested method {other}"),
    }
}

#[actix_web::test]
async fn the_route_table_is_not_empty_and_has_protected_routes() {
    assert!(ROUTES.iter().filter(|r| r.roles.is_some()).count() >= 10);
    assert!(ROUTES.iter().any(|r| r.method == "POST"));
}

#[actix_web::test]
async fn anonymous_visitors_are_sent_to_login_from_every_protected_route() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    for r in ROUTES.iter().filter(|r| r.roles.is_some()) {
        let res = call_service(&app, request(r, None, None).to_request()).await;
        if is_api(r) {
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{} {}",
                r.method,
                r.path
            );
            assert!(
                text(res).await.contains("\"code\":\"unauthorized\""),
                "{}",
                r.path
            );
            continue;
        }
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{} {}",
            r.method,
            r.path
        );
        assert!(
            location(&res).starts_with("/login"),
            "{} {} → {}",
            r.method,
            r.path,
            location(&res)
        );
    }
}

#[actix_web::test]
async fn before_setup_every_protected_route_leads_to_setup() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    for r in ROUTES.iter().filter(|r| r.roles.is_some() && !is_api(r)) {
        let res = call_service(&app, request(r, None, None).to_request()).await;
        assert_eq!(location(&res), "/setup", "{} {}", r.method, r.path);
    }
}

#[actix_web::test]
async fn roles_outside_a_route_get_403() {
    let shop = TestShop::with_owner().await;
    for role in [Role::Supervisor, Role::Agent, Role::Trainer] {
        shop.add(role.as_str(), role).await;
    }
    let app = app(&shop).await;
    let mut checked = 0;
    for role in Role::ALL {
        let name = if role == Role::Owner {
            "boss"
        } else {
            role.as_str()
        };
        let sess = shop.session(name).await;
        for r in ROUTES {
            let Some(allowed) = r.roles else { continue };
            if is_token(r) {
                // A console login is no API token.
                let res = call_service(&app, request(r, Some(&sess), None).to_request()).await;
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{role} {} {}",
                    r.method,
                    r.path
                );
                continue;
            }
            if allowed.contains(&role) {
                continue;
            }
            let before = shop.snapshot();
            let req = request(r, Some(&sess), Some(&sess.csrf));
            let res = call_service(&app, req.to_request()).await;
            assert_eq!(
                res.status(),
                StatusCode::FORBIDDEN,
                "{role} {} {}",
                r.method,
                r.path
            );
            let body = text(res).await;
            assert!(body.contains("无权"), "{role} {} {}", r.method, r.path);
            if is_api(r) {
                assert!(body.contains("\"code\":\"forbidden\""), "{body}");
            }
            assert_eq!(
                shop.snapshot(),
                before,
                "{role} {} {} changed data",
                r.method,
                r.path
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} role checks ran");
}

#[actix_web::test]
async fn every_post_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let owner = shop.session("boss").await;
    for r in ROUTES.iter().filter(|r| r.method == "POST" && !is_api(r)) {
        // Public forms (login, setup) are checked anonymously, the rest as the owner.
        let sess = r.roles.map(|_| &owner);
        for csrf in [None, Some("forged-token")] {
            let before = shop.snapshot();
            let res = call_service(&app, request(r, sess, csrf).to_request()).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{} {csrf:?}", r.path);
            assert!(text(res).await.contains("表单已过期"), "{}", r.path);
            assert_eq!(shop.snapshot(), before, "{} changed data", r.path);
        }
    }
}

#[actix_web::test]
async fn json_routes_refuse_form_posts_so_cross_site_forms_cannot_call_them() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let owner = shop.session("boss").await;
    let (_, secret) = shop
        .state
        .desk
        .create_token(&xiaoer::desk::Actor::cli(), "bridge", "qianniu")
        .await
        .unwrap();
    for r in ROUTES.iter().filter(|r| r.method == "POST" && is_api(r)) {
        let before = shop.snapshot();
        let req = post(&url(r), Some(&owner), &[("text", "什么时候发货")])
            .insert_header(("authorization", format!("Bearer {secret}")));
        let res = call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", r.path);
        assert!(
            text(res).await.contains("\"code\":\"bad_request\""),
            "{}",
            r.path
        );
        assert_eq!(shop.snapshot(), before);
    }
}

#[actix_web::test]
async fn a_known_address_with_another_method_is_a_405_naming_the_methods_it_takes() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let mut checked = 0;
    for r in ROUTES {
        let wrong = if r.method == "GET" { "POST" } else { "GET" };
        // Skip addresses that another route of that method takes (`/tickets/new` is
        // also `/tickets/{id}`).
        let taken = ROUTES.iter().any(|o| {
            o.method == wrong && actix_web::dev::ResourceDef::new(o.path).is_match(&url(r))
        });
        if taken {
            continue;
        }
        let method = actix_web::http::Method::from_bytes(wrong.as_bytes()).unwrap();
        let before = shop.snapshot();
        let req = actix_web::test::TestRequest::default()
            .method(method)
            .uri(&url(r))
            .to_request();
        let res = call_service(&app, req).await;
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{wrong} {}",
            r.path
        );
        let body = text(res).await;
        assert!(body.contains(r.method), "{wrong} {}: {body}", r.path);
        if is_api(r) {
            assert!(body.contains("\"method_not_allowed\""), "{body}");
        }
        assert_eq!(
            shop.snapshot(),
            before,
            "{wrong} {} changed nothing",
            r.path
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
    // An unknown address is still a 404.
    let res = call_service(&app, get("/api/v1/nothing-here", None).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
