//! The JSON API through the real app: "try the bot" for trainers, and its bad input.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, call_service};
use common::*;
use xiaoer::model::Role;

fn try_bot(sess: &Sess, body: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/bot/try")
        .insert_header(("cookie", sess.cookie.clone()))
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string())
}

async fn json(
    res: actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
) -> serde_json::Value {
    serde_json::from_str(&text(res).await).expect("JSON body")
}

#[actix_web::test]
async fn a_trainer_sees_the_reply_its_candidates_and_why() {
    let shop = TestShop::with_owner().await;
    shop.add("trainer1", Role::Trainer).await;
    let app = app(&shop).await;
    let s = shop.session("trainer1").await;

    let res = call_service(
        &app,
        try_bot(&s, r#"{"text":"亲，運費可以到付嗎？"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r = json(res).await;
    assert_eq!(r["band"], "exact", "{r}");
    assert_eq!(r["entry"], "ship-freight-collect", "{r}");
    assert!(r["candidates"].as_array().unwrap().len() >= 2);
    assert!(r["confidence"].as_f64().unwrap() >= 0.72);
    assert_eq!(r["explain"]["normalized"], "亲 运费可以到付吗");
    assert_eq!(r["explain"]["route"], "match");

    // Shop settings fill the answer's variables.
    let res = call_service(&app, try_bot(&s, r#"{"text":"什么时候发货"}"#).to_request()).await;
    let r = json(res).await;
    assert!(r["answer"].as_str().unwrap().contains("48小时"), "{r}");
    assert!(!r["answer"].as_str().unwrap().contains("{{"), "{r}");

    let res = call_service(&app, try_bot(&s, r#"{"text":"转人工"}"#).to_request()).await;
    let r = json(res).await;
    assert_eq!(r["intent"], "transfer");
    assert_eq!(r["offer_transfer"], true);
}

#[actix_web::test]
async fn bad_input_is_a_clear_json_error() {
    let shop = TestShop::with_owner().await;
    let app = app(&shop).await;
    let s = shop.session("boss").await;
    let long = format!(r#"{{"text":"{}"}}"#, "好".repeat(4001));
    for (body, needle) in [
        (r#"{"text":"   "}"#, "不能为空"),
        (long.as_str(), "最多 4000"),
        (
            r#"{"text": 12}"#,
            "JSON 有误：字段 text 的类型不对：应为文字，却是数字",
        ),
        ("{not json", "JSON 有误：不是合法的 JSON（第 1 行第 2 列）"),
        (r#"{"product":"A1"}"#, "JSON 有误：缺少字段 text"),
        ("[]", "JSON 有误：应为一个 JSON 对象"),
        (r#"{"text":"#, "JSON 有误：JSON 不完整"),
    ] {
        let res = call_service(&app, try_bot(&s, body).to_request()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let r = json(res).await;
        assert_eq!(r["error"]["code"], "bad_request");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(needle),
            "{body}: {r}"
        );
    }
    let huge = format!(r#"{{"text":"{}"}}"#, "x".repeat(300 * 1024));
    let res = call_service(&app, try_bot(&s, &huge).to_request()).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(res).await["error"]["code"], "payload_too_large");
}
