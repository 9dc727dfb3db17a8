//! History import through the real app (设置 → 备份与导出): a file of past conversations
//! with known timings is uploaded, counts in the metrics exactly like live
//! conversations, and a second upload duplicates nothing; bad files and other roles
//! change nothing.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::call_service;
use common::*;
use xiaoer::metrics::{Figures, Shop, load};
use xiaoer::model::Role;
use xiaoer::store::prelude::*;

/// Three conversations on 2026-11-20 (Shanghai): two handed to 小美 and first answered
/// after 35 s and 21 s, one the bot answered after 18 s and again after 1 s.
const FILE: &str = r#"{"id":"h1","channel":"taobao","buyer_id":"u1","transferred_at":"2026-11-20T02:00:00Z","rating":{"level":5,"reasons":[]},"messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"在吗，我要改地址"},{"at":"2026-11-20T02:00:35Z","from":"agent:mei","text":"亲，请发新地址"}]}
{"id":"h2","channel":"taobao","buyer_id":"u2","transferred_at":"2026-11-20T03:00:00Z","rating":{"level":2,"reasons":["回复慢"]},"messages":[{"at":"2026-11-20T03:00:00Z","from":"buyer","text":"退款怎么还没到"},{"at":"2026-11-20T03:00:21Z","from":"agent:mei","text":"亲，帮您催一下"}]}
{"id":"h3","channel":"taobao","buyer_id":"u3","messages":[{"at":"2026-11-20T04:00:00Z","from":"buyer","text":"包邮吗"},{"at":"2026-11-20T04:00:18Z","from":"bot","text":"满59包邮"},{"at":"2026-11-20T04:01:00Z","from":"buyer","text":"好的谢谢"},{"at":"2026-11-20T04:01:01Z","from":"bot","text":"不客气"}]}
"#;

fn figures(shop: &TestShop) -> Figures {
    let r = shop.state.desk.store().read().unwrap();
    let settings = r.get_settings().unwrap();
    let shop_info = Shop {
        tz: settings.tz(),
        staffed: settings.staffed,
    };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    Figures::of(
        &load::timelines(&r, day, day, shop_info.tz).unwrap(),
        shop_info,
    )
}

#[actix_web::test]
async fn imported_history_counts_in_the_metrics_once() {
    let shop = TestShop::with_team(staffed_clock(), &[("mei", Role::Agent)]).await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;

    let res = call_service(
        &app,
        upload("/settings/backup/history", &boss, &boss.csrf, FILE),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r = json(res).await;
    assert_eq!(r["done"]["conversations"], 3, "{r}");
    assert_eq!(r["done"]["messages"], 8);

    let f = figures(&shop);
    assert_eq!(f.conversations, 3);
    assert_eq!(
        format!("{:.2}", f.first_response_30s_rate.unwrap() * 100.0),
        "66.67"
    );
    let near = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
    assert!(
        near(f.first_response_avg_s, (35.0 + 21.0 + 18.0) / 3.0),
        "{f:?}"
    );
    assert!(near(f.human_first_response_avg_s, 28.0));
    assert!(near(f.avg_response_s, (35.0 + 21.0 + 18.0 + 1.0) / 4.0));
    assert!(near(f.response_30s_rate, 0.75));
    assert!(near(f.transfer_rate, 2.0 / 3.0));
    assert!(near(f.bot_resolution_rate, 1.0));
    assert!(near(f.answer_question_ratio, 1.0));
    assert!(near(f.satisfaction_rate, 0.5));
    assert!(near(f.rating_rate, 2.0 / 3.0));
    assert!(
        near(f.human_3min_rate, 1.0),
        "10:00 and 11:00 are staffed hours"
    );

    // The same file again: nothing new.
    let before = shop.snapshot();
    let r = json(
        call_service(
            &app,
            upload("/settings/backup/history", &boss, &boss.csrf, FILE),
        )
        .await,
    )
    .await;
    assert_eq!(r["done"]["conversations"], 0);
    assert_eq!(r["done"]["skipped"], 3);
    assert_eq!(figures(&shop).conversations, 3);
    let after = shop.snapshot();
    // Only the audit log grew.
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.contains("\"table\":\"audit\"") && !l.contains("seq.audit"))
            .map(String::from)
            .collect()
    };
    assert_eq!(strip(&before), strip(&after));

    // The imported conversation reads like a live one.
    let page = call_service(&app, get("/conversations/1", Some(&boss)).to_request()).await;
    let html = text(page).await;
    assert!(
        html.contains("在吗，我要改地址") && html.contains("亲，请发新地址"),
        "{html}"
    );
}

#[actix_web::test]
async fn bad_history_files_and_other_roles_change_nothing() {
    let shop = TestShop::with_team(staffed_clock(), &[("lead", Role::Supervisor)]).await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let lead = shop.session("lead").await;
    let before = shop.snapshot();
    let bad = FILE
        .replace("agent:mei", "agent:")
        .replace("\"level\":2", "\"level\":7");
    let res = call_service(
        &app,
        upload("/settings/backup/history", &boss, &boss.csrf, &bad),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = json(res).await;
    assert_eq!(rejected_lines(&r), vec![1, 2], "{r}");
    let res = call_service(
        &app,
        upload("/settings/backup/history", &lead, &lead.csrf, FILE),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let no_csrf = upload("/settings/backup/history", &boss, "", FILE);
    assert_eq!(
        call_service(&app, no_csrf).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(shop.snapshot(), before);
}
