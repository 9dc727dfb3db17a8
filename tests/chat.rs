//! The buyer chat through the real app: the page and its buyer cookie, the widget's
//! header token, messages, history and live events for one buyer only, the queue place,
//! suggestions, ratings, and bad input that changes nothing.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, call_service};
use common::*;
use std::time::Duration;
use xiaoer::desk::Actor;
use xiaoer::model::{AgentState, ManualClock, Role};

/// A chat call as the buyer whose cookie is `cookie` (`xiaoer_buyer=…`).
fn chat(method: Method, path: &str, cookie: &str, body: &str) -> TestRequest {
    api(method, path, None, body).insert_header(("cookie", cookie.to_string()))
}

fn say(cookie: &str, text: &str) -> actix_http::Request {
    let body = serde_json::json!({ "text": text, "client_msg_id": format!("c-{}", text.len()) });
    chat(
        Method::POST,
        "/api/v1/chat/messages",
        cookie,
        &body.to_string(),
    )
    .to_request()
}

/// Opens the chat page as a new visitor and returns the buyer cookie it hands out.
async fn new_buyer(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
) -> String {
    let res = call_service(app, TestRequest::get().uri("/chat").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = set_cookie(&res, "xiaoer_buyer").expect("buyer cookie");
    assert!(c.contains("HttpOnly"), "{c}");
    c.split(';').next().unwrap().to_string()
}

#[actix_web::test]
async fn the_page_greets_offers_hot_questions_and_may_be_framed() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let product: xiaoer::model::Product = serde_json::from_value(serde_json::json!({
        "sku": "TEE-01", "name": "纯棉短袖T恤", "price": "79.00", "final_price": "59.00",
        "image": "https://img.example/tee.jpg", "link": "https://shop.example/item/1",
        "stock": 0
    }))
    .unwrap();
    shop.state
        .desk
        .save_product(&Actor::cli(), product)
        .await
        .unwrap();

    let res = call_service(
        &app,
        TestRequest::get().uri("/chat?product=TEE-01").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors *") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(res.headers().get("x-frame-options").is_none());
    let html = text(res).await;
    assert!(html.contains("欢迎光临"), "the greeting");
    assert!(!html.contains("{{"), "variables are filled");
    assert!(
        html.contains("猜你想问") && html.contains("什么时候发货"),
        "hot questions"
    );
    assert!(
        html.contains("纯棉短袖T恤") && html.contains("¥59<"),
        "the product card"
    );
    assert!(html.contains("data-product=\"TEE-01\""));
    // Its picture (allowed by the page's policy), its page and that it is sold out.
    assert!(
        html.contains("src=\"https://img.example/tee.jpg\""),
        "{html}"
    );
    assert!(csp.contains("img-src 'self' data: https:"), "{csp}");
    assert!(
        html.contains("href=\"https://shop.example/item/1\""),
        "{html}"
    );
    assert!(html.contains("已售罄"));

    // An unknown SKU is no error; console pages stay unframeable.
    let res = call_service(
        &app,
        TestRequest::get().uri("/chat?product=NOPE").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!text(res).await.contains("正在咨询"));
    let res = call_service(&app, TestRequest::get().uri("/login").to_request()).await;
    assert_eq!(res.headers().get("x-frame-options").unwrap(), "DENY");

    // A returning buyer keeps their cookie.
    let buyer = new_buyer(&app).await;
    let res = call_service(
        &app,
        TestRequest::get()
            .uri("/chat")
            .insert_header(("cookie", buyer))
            .to_request(),
    )
    .await;
    assert!(set_cookie(&res, "xiaoer_buyer").is_none());

    // The widget script is served and revalidated (shops link it without a version).
    let res = call_service(
        &app,
        TestRequest::get().uri("/static/widget.js").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-cache");
}

#[actix_web::test]
async fn a_buyer_chats_and_sees_only_their_own_conversation() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let (a, b) = (new_buyer(&app).await, new_buyer(&app).await);

    let res = call_service(&app, say(&a, "可以开发票吗")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sent = json(res).await;
    assert_eq!(sent["state"], "bot");
    assert_eq!(sent["replies"][0]["from"], "bot");
    assert!(
        sent["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("发票"),
        "{sent}"
    );
    let conv = sent["conversation_id"].as_u64().unwrap();

    let res = call_service(
        &app,
        chat(Method::GET, "/api/v1/chat/history", &a, "").to_request(),
    )
    .await;
    let h = json(res).await;
    assert_eq!(h["conversation_id"].as_u64(), Some(conv));
    let texts: Vec<&str> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "可以开发票吗");
    assert_eq!(texts.len(), 2);

    // Buyer b sees none of it, and cannot rate it.
    let res = call_service(
        &app,
        chat(Method::GET, "/api/v1/chat/history", &b, "").to_request(),
    )
    .await;
    let h = json(res).await;
    assert!(
        h["conversation_id"].is_null() && h["messages"].as_array().unwrap().is_empty(),
        "{h}"
    );
    let rate = serde_json::json!({ "conversation_id": conv, "level": 1 }).to_string();
    let before = shop.snapshot();
    let res = call_service(
        &app,
        chat(Method::POST, "/api/v1/chat/rating", &b, &rate).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(shop.snapshot(), before);

    // b's event stream from the beginning carries nothing of a's.
    let res = call_service(
        &app,
        chat(Method::GET, "/api/v1/chat/events?after=0", &b, "").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut sse = Sse::new(res);
    assert!(sse.next(Duration::from_millis(300)).await.is_none());
    // a's stream catches up on both messages, then follows.
    let res = call_service(
        &app,
        chat(Method::GET, "/api/v1/chat/events?after=0", &a, "").to_request(),
    )
    .await;
    let mut sse_a = Sse::new(res);
    for from in ["buyer", "bot"] {
        let (_, name, d) = sse_a.next(Duration::from_secs(5)).await.expect("caught up");
        assert_eq!(name, "message");
        assert_eq!(d["message"]["from"], from);
    }
    call_service(&app, say(&b, "包邮吗")).await;
    call_service(&app, say(&a, "发什么快递")).await;
    let (_, _, d) = sse_a.next(Duration::from_secs(5)).await.expect("live");
    assert_eq!(
        d["message"]["text"], "发什么快递",
        "a never hears b's 包邮吗"
    );
    let (_, _, d) = sse
        .next(Duration::from_secs(5))
        .await
        .expect("b hears their own");
    assert_eq!(d["message"]["text"], "包邮吗");

    // The widget's frame: the same buyer by header instead of cookie.
    let token = a.trim_start_matches("xiaoer_buyer=");
    let res = call_service(
        &app,
        api(Method::GET, "/api/v1/chat/history", None, "")
            .insert_header(("x-xiaoer-buyer", token))
            .to_request(),
    )
    .await;
    assert_eq!(json(res).await["conversation_id"].as_u64(), Some(conv));
}

#[actix_web::test]
async fn a_retried_send_is_stored_once() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let a = new_buyer(&app).await;
    let first = json(call_service(&app, say(&a, "在吗")).await).await;
    let again = json(call_service(&app, say(&a, "在吗")).await).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message_id"], first["message_id"]);
    let h = json(
        call_service(
            &app,
            chat(Method::GET, "/api/v1/chat/history", &a, "").to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(h["messages"].as_array().unwrap().len(), 2);
    assert_eq!(h["messages"][0]["client_msg_id"], "c-6");

    // Another buyer's message with the same id is theirs, not a replay of a's.
    let b = new_buyer(&app).await;
    let other = json(call_service(&app, say(&b, "在吗")).await).await;
    assert_eq!(other["duplicate"], false);
    assert_ne!(other["conversation_id"], first["conversation_id"]);
}

#[actix_web::test]
async fn transfer_shows_the_queue_then_the_agent_then_the_rating() {
    // 10:00 in Shanghai: humans are on duty.
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").unwrap();
    let shop = TestShop::with_clock(std::sync::Arc::new(ManualClock::new(at.to_utc()))).await;
    shop.state
        .desk
        .setup_owner(xiaoer::model::NewUser {
            name: "boss".into(),
            nickname: String::new(),
            role: Role::Owner,
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    shop.add("mei", Role::Agent).await;
    let app = app(&shop).await;
    let desk = &shop.state.desk;
    let (a, b) = (new_buyer(&app).await, new_buyer(&app).await);

    let r = json(call_service(&app, say(&a, "转人工")).await).await;
    assert_eq!(r["state"], "queued", "{r}");
    assert_eq!(r["queue_ahead"], 0);
    let r = json(call_service(&app, say(&b, "转人工")).await).await;
    assert_eq!(r["queue_ahead"], 1, "{r}");
    let conv_b = r["conversation_id"].as_u64().unwrap();

    // b waits and hears its place change when an agent comes and takes a.
    let res = call_service(
        &app,
        chat(Method::GET, "/api/v1/chat/events", &b, "").to_request(),
    )
    .await;
    let mut sse_b = Sse::new(res);
    let mei = desk
        .list_users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == "mei")
        .unwrap();
    let admin = xiaoer::model::Reception {
        agent_cap: 1,
        ..desk.reception().unwrap()
    };
    desk.save_reception(&Actor::cli(), admin).await.unwrap();
    desk.set_agent_state(&mei, AgentState::Online)
        .await
        .unwrap();
    let mut place = None;
    while let Some((_, name, d)) = sse_b.next(Duration::from_secs(3)).await {
        if name == "queue" {
            place = d["queue_ahead"].as_u64();
        }
    }
    assert_eq!(place, Some(0), "b is next");

    // a is served by mei; the page's history says so.
    let h = json(
        call_service(
            &app,
            chat(Method::GET, "/api/v1/chat/history", &a, "").to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(h["state"], "human", "{h}");
    assert_eq!(h["agent"], "mei");
    let conv_a = h["conversation_id"].as_u64().unwrap();

    // a's whole stream, read again from the start: queued, then served by mei; events
    // committed together (queued and assigned at once) are not told twice.
    let res = call_service(
        &app,
        chat(Method::GET, "/api/v1/chat/events?after=0", &a, "").to_request(),
    )
    .await;
    let mut sse_a = Sse::new(res);
    let mut states = Vec::new();
    while let Some((_, name, d)) = sse_a.next(Duration::from_millis(500)).await {
        if name == "state" {
            states.push(d);
        }
    }
    assert!(!states.is_empty());
    assert!(
        states.windows(2).all(|w| w[0] != w[1]),
        "no state told twice in a row: {states:?}"
    );
    assert_eq!(states.last().unwrap()["state"], "human");

    // mei closes: a is invited to rate, once.
    desk.close(&mei, xiaoer::model::ConvId(conv_a))
        .await
        .unwrap();
    let h = json(
        call_service(
            &app,
            chat(Method::GET, "/api/v1/chat/history", &a, "").to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(h["invited"], true, "{h}");
    let bad = [
        serde_json::json!({ "conversation_id": conv_a, "level": 9 }),
        serde_json::json!({ "conversation_id": conv_a, "level": 2, "reasons": ["不认识的原因"] }),
        serde_json::json!({ "conversation_id": conv_a, "level": 5, "reasons": ["态度差"] }),
        serde_json::json!({ "conversation_id": conv_b, "level": 5 }),
    ];
    for body in bad {
        let before = shop.snapshot();
        let res = call_service(
            &app,
            chat(Method::POST, "/api/v1/chat/rating", &a, &body.to_string()).to_request(),
        )
        .await;
        assert!(res.status().is_client_error(), "{body}");
        assert_eq!(shop.snapshot(), before, "{body}");
    }
    let ok = serde_json::json!({ "conversation_id": conv_a, "level": 2, "reasons": ["回复慢"], "comment": "<b>慢</b>" });
    let res = call_service(
        &app,
        chat(Method::POST, "/api/v1/chat/rating", &a, &ok.to_string()).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = call_service(
        &app,
        chat(Method::POST, "/api/v1/chat/rating", &a, &ok.to_string()).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "only once");
    let h = json(
        call_service(
            &app,
            chat(Method::GET, "/api/v1/chat/history", &a, "").to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(h["rated"], 2);
    assert_eq!(h["invited"], false);
}

#[actix_web::test]
async fn suggestions_follow_the_typing() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let res = call_service(
        &app,
        TestRequest::get()
            .uri("/api/v1/chat/suggest?q=%E5%8F%91%E7%A5%A8")
            .to_request(),
    )
    .await;
    let s = json(res).await;
    let list = s["suggestions"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(
        list.iter()
            .all(|x| x["question"].as_str().unwrap().contains("发票")),
        "{s}"
    );
    let res = call_service(
        &app,
        TestRequest::get().uri("/api/v1/chat/suggest").to_request(),
    )
    .await;
    assert!(
        json(res).await["suggestions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn bad_chat_input_is_a_clear_json_error_and_changes_nothing() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let a = new_buyer(&app).await;
    let long = "好".repeat(4001);
    let msg = |t: &str| serde_json::json!({ "text": t }).to_string();
    let cases = vec![
        (
            "no buyer token",
            api(Method::POST, "/api/v1/chat/messages", None, &msg("在吗")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a made-up short token",
            api(Method::POST, "/api/v1/chat/messages", None, &msg("在吗"))
                .insert_header(("x-xiaoer-buyer", "abc")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "empty text",
            chat(Method::POST, "/api/v1/chat/messages", &a, &msg(" \n ")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "text over 4000",
            chat(Method::POST, "/api/v1/chat/messages", &a, &msg(&long)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid JSON",
            chat(Method::POST, "/api/v1/chat/messages", &a, "{\"text\":"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a long client id",
            chat(
                Method::POST,
                "/api/v1/chat/messages",
                &a,
                &serde_json::json!({"text": "在吗", "client_msg_id": "x".repeat(65)}).to_string(),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "history without a token",
            api(Method::GET, "/api/v1/chat/history", None, ""),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "events without a token",
            api(Method::GET, "/api/v1/chat/events", None, ""),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "rating an unknown conversation",
            chat(
                Method::POST,
                "/api/v1/chat/rating",
                &a,
                "{\"conversation_id\":999,\"level\":5}",
            ),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (what, req, status) in cases {
        let before = shop.snapshot();
        let res = call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status, "{what}");
        let body = json(res).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
        assert_eq!(shop.snapshot(), before, "{what} changed nothing");
    }

    // A flood from one buyer is slowed down; another buyer is not affected.
    for i in 0..xiaoer::web::chat::SEND_LIMIT {
        let res = call_service(
            &app,
            chat(
                Method::POST,
                "/api/v1/chat/messages",
                &a,
                &msg(&format!("第{i}条")),
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let before = shop.snapshot();
    let res = call_service(
        &app,
        chat(Method::POST, "/api/v1/chat/messages", &a, &msg("再来一条")).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(res).await["error"]["code"], "too_many_requests");
    assert_eq!(shop.snapshot(), before);
    let b = new_buyer(&app).await;
    let res = call_service(
        &app,
        chat(Method::POST, "/api/v1/chat/messages", &b, &msg("在吗")).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}
