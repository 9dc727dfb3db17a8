//! The channel API v1 through the real app: bearer tokens, messages with safe retries,
//! conversation messages, orders, the SSE event stream with catch-up, signed webhooks
//! with retries, and bad input that changes nothing.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::call_service;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use xiaoer::desk::Actor;
use xiaoer::model::{Clock, ManualClock};
use xiaoer::web::webhooks;

/// `POST /api/v1/messages` with this `Authorization` header and content type.
fn post_as(authorization: &str, content_type: &str, body: String) -> actix_web::test::TestRequest {
    actix_web::test::TestRequest::post()
        .uri("/api/v1/messages")
        .insert_header(("authorization", authorization.to_string()))
        .insert_header(("content-type", content_type.to_string()))
        .set_payload(body)
}

fn message(body: serde_json::Value) -> String {
    body.to_string()
}

#[actix_web::test]
async fn a_bridge_posts_messages_and_a_retry_is_stored_once() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let body = message(serde_json::json!({
        "channel": "qianniu", "buyer_id": "tb-8812", "text": "发什么快递",
        "client_msg_id": "m-1", "nickname": "小花", "region": "浙江"
    }));

    let res = call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let first = json(res).await;
    assert_eq!(first["state"], "bot", "{first}");
    assert_eq!(first["duplicate"], false);
    let replies = first["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "{first}");
    assert_eq!(replies[0]["from"], "bot");
    assert!(
        replies[0]["text"].as_str().unwrap().contains("中通"),
        "{first}"
    );

    // The bridge timed out and sends the same message again: same ids, stored once.
    let res = call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
    )
    .await;
    let again = json(res).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["conversation_id"], first["conversation_id"]);
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(again["replies"], first["replies"]);

    // The same id with other words is a bridge's mistake, not a retry: refused.
    let other = message(serde_json::json!({
        "channel": "qianniu", "buyer_id": "tb-8812", "text": "多久发货",
        "client_msg_id": "m-1"
    }));
    let before = shop.snapshot();
    let res = call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &other).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let err = json(res).await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已用于内容不同的另一条消息"),
        "{err}"
    );
    assert_eq!(shop.snapshot(), before);

    let conv = first["conversation_id"].as_u64().unwrap();
    let res = call_service(&app, conv_messages(&token, conv).to_request()).await;
    let all = json(res).await;
    let msgs = all["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "one buyer message and one reply: {all}");
    assert_eq!(msgs[0]["text"], "发什么快递");
    assert_eq!(msgs[0]["from"], "buyer");

    // `after` pages on.
    let res = call_service(
        &app,
        api(
            Method::GET,
            &format!(
                "/api/v1/conversations/{conv}/messages?after={}",
                msgs[0]["id"]
            ),
            Some(&token),
            "",
        )
        .to_request(),
    )
    .await;
    assert_eq!(json(res).await["messages"].as_array().unwrap().len(), 1);

    // The buyer's profile took the nickname and region.
    let r = shop.state.desk.store().read().unwrap();
    use xiaoer::store::prelude::*;
    let buyer = r.find_buyer("qianniu", "tb-8812").unwrap().unwrap();
    assert_eq!(buyer.nickname, "小花");
    assert_eq!(buyer.region, "浙江");
}

#[actix_web::test]
async fn orders_are_recorded_for_the_buyer() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let order = serde_json::json!({
        "order_id": "TB2026112200001", "buyer_id": "tb-8812", "status": " Shipped",
        "items": [{"sku": "TEE-01", "name": "纯棉T恤", "qty": 2, "price": "59.00"}],
        "amount": "118.00", "paid": "118.00", "logistics_status": "运输中"
    });
    let res = call_service(
        &app,
        api(
            Method::POST,
            "/api/v1/orders",
            Some(&token),
            &order.to_string(),
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r = json(res).await;
    assert_eq!(r["order"]["order_id"], "TB2026112200001", "{r}");
    assert_eq!(r["order"]["status"], "shipped", "stored in lower case: {r}");

    // Bad orders: no status, a price that is not a price.
    for bad in [
        serde_json::json!({"order_id": "A", "buyer_id": "b"}),
        serde_json::json!({"order_id": "A", "buyer_id": "b", "status": "paid", "amount": "lots"}),
        serde_json::json!({"order_id": "", "buyer_id": "b", "status": "paid"}),
        serde_json::json!({"order_id": "A", "buyer_id": "b", "status": "weird"}),
        serde_json::json!({"order_id": "A", "buyer_id": "b", "status": "WAIT_BUYER_PAY"}),
        serde_json::json!({"order_id": "A", "buyer_id": "b", "status": "paid",
            "items": [{"name": "T恤", "qty": 0}]}),
        serde_json::json!({"order_id": "A", "buyer_id": "b", "status": "paid",
            "amount": "100", "paid": "500"}),
    ] {
        let before = shop.snapshot();
        let res = call_service(
            &app,
            api(
                Method::POST,
                "/api/v1/orders",
                Some(&token),
                &bad.to_string(),
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(json(res).await["error"]["code"], "bad_request");
        assert_eq!(shop.snapshot(), before, "{bad} changed nothing");
    }
}

#[actix_web::test]
async fn bad_input_is_a_clear_json_error_and_changes_nothing() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let other = api_token(&shop, "doudian").await;
    let (revoked_token, revoked) = shop
        .state
        .desk
        .create_token(&Actor::cli(), "old", "qianniu")
        .await
        .unwrap();
    shop.state
        .desk
        .revoke_token(&Actor::cli(), revoked_token.id)
        .await
        .unwrap();
    // One conversation each on qianniu and doudian.
    let hello =
        |ch: &str| message(serde_json::json!({"channel": ch, "buyer_id": "b1", "text": "你好"}));
    let res = call_service(
        &app,
        api(
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            &hello("qianniu"),
        )
        .to_request(),
    )
    .await;
    let mine = json(res).await["conversation_id"].as_u64().unwrap();
    let res = call_service(
        &app,
        api(
            Method::POST,
            "/api/v1/messages",
            Some(&other),
            &hello("doudian"),
        )
        .to_request(),
    )
    .await;
    let theirs = json(res).await["conversation_id"].as_u64().unwrap();
    assert_ne!(mine, theirs);

    let long = "好".repeat(4001);
    let post = |t: Option<&str>, body: String| api(Method::POST, "/api/v1/messages", t, &body);
    let msg = |text: &str| {
        message(serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": text}))
    };
    let cases = vec![
        (
            "no token",
            post(None, msg("在吗")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "wrong token",
            post(Some("xr_not-a-token"), msg("在吗")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "revoked token",
            post(Some(&revoked), msg("在吗")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "empty text",
            post(Some(&token), msg("  ")),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "text over 4000",
            post(Some(&token), msg(&long)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "invalid JSON",
            post(Some(&token), "{\"channel\": ".into()),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "missing field",
            post(
                Some(&token),
                "{\"channel\":\"qianniu\",\"text\":\"在吗\"}".into(),
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "another channel",
            post(Some(&other), msg("在吗")),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "empty buyer",
            post(
                Some(&token),
                message(serde_json::json!({"channel": "qianniu", "buyer_id": " ", "text": "在吗"})),
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "a nickname over 64 characters",
            post(
                Some(&token),
                message(serde_json::json!({"channel": "qianniu", "buyer_id": "b9",
                    "text": "在吗", "nickname": "长".repeat(65)})),
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "a member level out of range",
            post(
                Some(&token),
                message(serde_json::json!({"channel": "qianniu", "buyer_id": "b9",
                    "text": "在吗", "member_level": 256})),
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "not JSON",
            post_as(&format!("Bearer {token}"), "text/plain", msg("在吗")),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "too large",
            post(
                Some(&token),
                format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024)),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "unknown conversation",
            api(
                Method::GET,
                "/api/v1/conversations/999/messages",
                Some(&token),
                "",
            ),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "another channel's conversation",
            conv_messages(&token, theirs),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "not a conversation id",
            api(
                Method::GET,
                "/api/v1/conversations/abc/messages",
                Some(&token),
                "",
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "a negative conversation id",
            api(
                Method::GET,
                "/api/v1/conversations/-1/messages",
                Some(&token),
                "",
            ),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "events without a token",
            api(Method::GET, "/api/v1/events", None, ""),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "events after a cursor that is not a number",
            api(Method::GET, "/api/v1/events?after=abc", Some(&token), ""),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "events after a Last-Event-ID that is not a number",
            api(Method::GET, "/api/v1/events", Some(&token), "")
                .insert_header(("last-event-id", "zzz")),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "another scheme than Bearer",
            post_as(&format!("Basic {token}"), "application/json", msg("在吗")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ];
    for (what, req, status, code) in cases {
        let before = shop.snapshot();
        let res = call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status, "{what}");
        let body = json(res).await;
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        assert!(
            !body["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{what}"
        );
        assert_eq!(shop.snapshot(), before, "{what} changed nothing");
    }
    // A value out of range names its field.
    let body = message(serde_json::json!({"channel": "qianniu", "buyer_id": "b9",
        "text": "在吗", "member_level": 256}));
    let res = call_service(&app, post(Some(&token), body).to_request()).await;
    let message = json(res).await["error"]["message"].to_string();
    assert!(
        message.contains("字段 member_level 的取值不对"),
        "{message}"
    );
    // A call without the header is told what is missing, not that its token is bad.
    let res = call_service(&app, post(None, msg("在吗")).to_request()).await;
    let message = json(res).await["error"]["message"].to_string();
    assert!(message.contains("Authorization: Bearer"), "{message}");
    // The scheme is case-insensitive.
    for scheme in ["bearer", "BEARER"] {
        let req = post_as(
            &format!("{scheme} {token}"),
            "application/json",
            msg("在吗"),
        );
        let res = call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
    // Another channel's conversation reads exactly like one that does not exist.
    for id in [theirs, 999] {
        let res = call_service(&app, conv_messages(&token, id).to_request()).await;
        assert_eq!(json(res).await["error"]["message"], "会话不存在");
    }
    // Our own conversation is readable.
    let res = call_service(&app, conv_messages(&token, mine).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn buyer_html_is_stored_as_is() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let text = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let body = message(serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": text}));
    let res = call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
    )
    .await;
    let conv = json(res).await["conversation_id"].as_u64().unwrap();
    let res = call_service(&app, conv_messages(&token, conv).to_request()).await;
    assert_eq!(json(res).await["messages"][0]["text"], text);
}

#[actix_web::test]
async fn the_event_stream_catches_up_and_never_doubles() {
    let shop = TestShop::empty().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let other = api_token(&shop, "doudian").await;
    let say = |t: &str, ch: &str, text: &str| {
        api(
            Method::POST,
            "/api/v1/messages",
            Some(t),
            &message(serde_json::json!({"channel": ch, "buyer_id": "b1", "text": text})),
        )
        .to_request()
    };
    call_service(&app, say(&token, "qianniu", "发什么快递")).await;
    call_service(&app, say(&other, "doudian", "发什么快递")).await;

    // From the beginning: the stored bot reply of this channel only, not the buyer's
    // message and not the other channel's.
    let res = call_service(
        &app,
        api(Method::GET, "/api/v1/events?after=0", Some(&token), "").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut sse = Sse::new(res);
    let (first_id, name, data) = sse.next(Duration::from_secs(5)).await.expect("caught up");
    assert_eq!(name, "message");
    assert_eq!(data["channel"], "qianniu");
    assert_eq!(data["buyer_id"], "b1");
    assert_eq!(data["message"]["from"], "bot");
    assert!(
        sse.next(Duration::from_millis(300)).await.is_none(),
        "nothing else stored"
    );

    // Live: the next reply arrives as it is committed.
    call_service(&app, say(&token, "qianniu", "可以开发票吗")).await;
    let (live_id, _, data) = sse.next(Duration::from_secs(5)).await.expect("live event");
    assert!(live_id > first_id);
    assert_eq!(data["message"]["from"], "bot");
    drop(sse);

    // A reconnect with Last-Event-ID gets what it missed, once.
    call_service(&app, say(&token, "qianniu", "几天能到")).await;
    let res = call_service(
        &app,
        api(Method::GET, "/api/v1/events", Some(&token), "")
            .insert_header(("last-event-id", live_id.to_string()))
            .to_request(),
    )
    .await;
    let mut sse = Sse::new(res);
    let (missed, _, _) = sse
        .next(Duration::from_secs(5))
        .await
        .expect("missed event");
    assert!(missed > live_id);
    assert!(
        sse.next(Duration::from_millis(300)).await.is_none(),
        "no doubles"
    );

    // Without an id, a new subscriber starts from now.
    let res = call_service(
        &app,
        api(Method::GET, "/api/v1/events", Some(&token), "").to_request(),
    )
    .await;
    let mut sse = Sse::new(res);
    assert!(sse.next(Duration::from_millis(300)).await.is_none());
}

/// What the fake bridge received: headers and body of each POST.
type Received = Arc<Mutex<Vec<(Option<String>, Option<String>, String)>>>;

/// A bridge on a free port that fails its first `fail` requests with HTTP 500.
fn fake_bridge(fail: usize) -> (String, Received, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let got: Received = Arc::default();
    let seen = got.clone();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().route(
            "/hook",
            web::post().to(move |req: HttpRequest, body: String| {
                let seen = seen.clone();
                async move {
                    let h = |n: &str| {
                        req.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .map(String::from)
                    };
                    let mut seen = seen.lock().unwrap();
                    seen.push((
                        h(webhooks::SIGNATURE_HEADER),
                        h(webhooks::DELIVERY_HEADER),
                        body,
                    ));
                    if seen.len() <= fail {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().finish()
                    }
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (format!("http://{addr}/hook"), got, handle)
}

#[actix_web::test]
async fn webhooks_are_signed_retried_with_backoff_and_failures_kept() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let shop = TestShop::with_clock(clock.clone()).await;
    let app = app(&shop).await;
    let desk = &shop.state.desk;
    let token = api_token(&shop, "qianniu").await;
    let (url, got, bridge) = fake_bridge(1);
    let hook = desk
        .save_webhook(&Actor::cli(), "qianniu", &url, true, false)
        .await
        .unwrap();
    let client = webhooks::client();

    for text in ["发什么快递", "可以开发票吗"] {
        let body =
            message(serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": text}));
        call_service(
            &app,
            api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
        )
        .await;
    }
    // The first attempt fails (HTTP 500): nothing is delivered, and the second message
    // waits behind the first.
    assert_eq!(webhooks::deliver_due(desk, &client).await, 0);
    assert_eq!(got.lock().unwrap().len(), 1);
    assert_eq!(
        webhooks::deliver_due(desk, &client).await,
        0,
        "not before the back-off"
    );
    assert_eq!(got.lock().unwrap().len(), 1);

    // The owner sees the retry coming, with why; saving the webhook again (say, after
    // fixing the bridge) sends the backlog at once instead of after the back-off.
    let backlog = desk.backlogs().unwrap().remove("qianniu").unwrap();
    assert_eq!(backlog.waiting, 2);
    let retrying = backlog.retrying.expect("the oldest is being retried");
    assert_eq!(retrying.attempts, 1);
    assert_eq!(retrying.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(retrying.next_at, clock.now() + chrono::Duration::seconds(5));
    desk.save_webhook(&Actor::cli(), "qianniu", &url, true, false)
        .await
        .unwrap();
    assert_eq!(webhooks::deliver_due(desk, &client).await, 2);
    assert!(desk.backlogs().unwrap().is_empty());
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].1, got[1].1, "the retry carries the same delivery id");
    let mut texts = Vec::new();
    for (sig, _, body) in &got {
        assert_eq!(
            sig.as_deref(),
            Some(xiaoer::desk::channels::signature(&hook.secret, body.as_bytes()).as_str())
        );
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["event"], "message");
        assert_eq!(v["buyer_id"], "b1");
        texts.push(v["message"]["id"].as_u64().unwrap());
    }
    assert!(texts[1] < texts[2], "in order: {texts:?}");
    assert!(desk.due_deliveries(clock.now()).unwrap().is_empty());

    // A bridge that is down: retried with back-off, then kept as failed for the owner.
    bridge.stop(true).await;
    let body =
        message(serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": "几天能到"}));
    call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
    )
    .await;
    for _ in 0..xiaoer::desk::channels::MAX_ATTEMPTS {
        assert_eq!(webhooks::deliver_due(desk, &client).await, 0);
        clock.advance(chrono::Duration::hours(1));
    }
    let failed = desk.failed_deliveries().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].last_error.is_some());
    assert!(desk.due_deliveries(clock.now()).unwrap().is_empty());

    // Switched off with messages still queued: they are given up at once, visibly.
    let body =
        message(serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": "能便宜点吗"}));
    call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
    )
    .await;
    assert_eq!(desk.due_deliveries(clock.now()).unwrap().len(), 1);
    desk.save_webhook(&Actor::cli(), "qianniu", &url, false, false)
        .await
        .unwrap();
    assert_eq!(webhooks::deliver_due(desk, &client).await, 0);
    let failed = desk.failed_deliveries().unwrap();
    assert_eq!(failed.len(), 2);
    assert!(
        failed[0].last_error.as_deref().unwrap().contains("停用"),
        "{failed:?}"
    );
    assert!(desk.due_deliveries(clock.now()).unwrap().is_empty());

    // A working bridge again: the failed messages can be sent once more, in order.
    let (url, got, _bridge) = fake_bridge(0);
    desk.save_webhook(&Actor::cli(), "qianniu", &url, true, false)
        .await
        .unwrap();
    assert_eq!(
        desk.retry_failed(&Actor::cli(), "qianniu").await.unwrap(),
        2
    );
    assert_eq!(webhooks::deliver_due(desk, &client).await, 2);
    assert!(desk.failed_deliveries().unwrap().is_empty());
    assert_eq!(got.lock().unwrap().len(), 2);

    // A message that could not go out for a day is stale for the buyer: it is given up
    // on, visibly, and not sent again.
    let body =
        message(serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": "还在吗"}));
    call_service(
        &app,
        api(Method::POST, "/api/v1/messages", Some(&token), &body).to_request(),
    )
    .await;
    clock.advance(chrono::Duration::hours(25));
    assert_eq!(webhooks::deliver_due(desk, &client).await, 0);
    assert_eq!(got.lock().unwrap().len(), 2, "nothing sent");
    let failed = desk.failed_deliveries().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some(xiaoer::desk::channels::TOO_OLD)
    );
    assert_eq!(
        desk.retry_failed(&Actor::cli(), "qianniu").await.unwrap(),
        0
    );
    assert_eq!(desk.failed_deliveries().unwrap().len(), 1);
}
