//! 数据看板 through the real app: a history file with known timings is imported and the
//! dashboard, its CSV export and the agents and bot pages show the figures it must give;
//! agents see only their own numbers; targets are the owner's; the live board refreshes
//! from a fragment.

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::test::call_service;
use common::*;
use xiaoer::model::Role;

/// Two conversations 小美 (mei) served, first answered after 35 s and 21 s, and one the
/// bot answered after 18 s, all on 2026-11-20 (Shanghai).
const FILE: &str = r#"{"id":"h1","channel":"taobao","buyer_id":"u1","transferred_at":"2026-11-20T02:00:00Z","rating":{"level":5,"reasons":[]},"messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"在吗，我要改地址"},{"at":"2026-11-20T02:00:35Z","from":"agent:mei","text":"亲，请发新地址"}]}
{"id":"h2","channel":"taobao","buyer_id":"u2","transferred_at":"2026-11-20T03:00:00Z","rating":{"level":2,"reasons":["回复慢"]},"messages":[{"at":"2026-11-20T03:00:00Z","from":"buyer","text":"退款怎么还没到"},{"at":"2026-11-20T03:00:21Z","from":"agent:mei","text":"亲，帮您催一下"}]}
{"id":"h3","channel":"jd","buyer_id":"u3","messages":[{"at":"2026-11-20T04:00:00Z","from":"buyer","text":"包邮吗"},{"at":"2026-11-20T04:00:18Z","from":"bot","text":"满59包邮"}]}
"#;

const RANGE: &str = "from=2026-11-20&to=2026-11-20";

async fn shop() -> TestShop {
    let staff = [
        ("lead", Role::Supervisor),
        ("mei", Role::Agent),
        ("tao", Role::Agent),
        ("ling", Role::Trainer),
    ];
    let shop = TestShop::with_team(staffed_clock(), &staff).await;
    let convs = xiaoer::desk::import::read(FILE.as_bytes()).unwrap();
    shop.state
        .desk
        .import_history(&xiaoer::desk::Actor::cli(), convs)
        .await
        .unwrap();
    shop
}

#[actix_web::test]
async fn hot_and_untrained_questions_follow_the_chosen_dates() {
    let shop = shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let token = api_token(&shop, "qianniu").await;
    // Today (2026-11-23): one answered question, one the bot could not answer.
    buyer_says(&app, &token, "b1", "", "发什么快递").await;
    buyer_says(&app, &token, "b2", "", "你们店的猫叫什么名字").await;
    let export = |table: &str, range: &str| {
        get(
            &format!("/dashboard/export?table={table}&{range}"),
            Some(&boss),
        )
        .to_request()
    };
    let today = "from=2026-11-23&to=2026-11-23";
    let hot = text(call_service(&app, export("hot", today)).await).await;
    assert!(hot.contains("所选日期") && hot.contains(",1,1"), "{hot}");
    let asked = text(call_service(&app, export("unmatched", today)).await).await;
    assert!(asked.contains("你们店的猫叫什么名字,1"), "{asked}");
    for table in ["hot", "unmatched"] {
        let csv = text(call_service(&app, export(table, RANGE)).await).await;
        assert_eq!(
            csv.lines().count(),
            1,
            "{table} on 11-20 is the header only: {csv}"
        );
    }
    let html = text(
        call_service(
            &app,
            get(&format!("/dashboard?{today}"), Some(&boss)).to_request(),
        )
        .await,
    )
    .await;
    assert!(html.contains("你们店的猫叫什么名字"), "{html}");
    let html = text(
        call_service(
            &app,
            get(&format!("/dashboard?{RANGE}"), Some(&boss)).to_request(),
        )
        .await,
    )
    .await;
    assert!(!html.contains("你们店的猫叫什么名字"), "{html}");
}

#[actix_web::test]
async fn the_dashboard_shows_the_figures_of_imported_history() {
    let shop = shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let page = |path: &str, s: &Sess| get(&format!("{path}?{RANGE}"), Some(s)).to_request();

    let res = call_service(&app, page("/dashboard", &boss)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    // 首次30秒应答率 2 of 3, 平均响应 (35+21+18)/3, 满意率 1 of 2.
    assert!(html.contains("会话 3 · 咨询 3 人 · 评价 2"), "{html}");
    for shown in [
        "66.7%",
        "24.7 秒",
        "50.0%",
        "回复慢",
        "<svg class=\"chart\"",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    // Against the default targets: 首次30秒应答率 66.7% < 80% is red.
    let card =
        html.find("<div class=\"kpi bad\">\n    <div class=\"kpi-name\">首次30秒应答率</div>");
    assert!(card.is_some(), "{html}");

    // The CSV export (UTF-8 with BOM) carries the same numbers.
    let res = call_service(&app, page("/dashboard/export", &boss)).await;
    let body = actix_web::test::read_body(res).await;
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let csv = String::from_utf8(body[3..].to_vec()).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.starts_with("2026-11-20,3,3,24.7,28.0,24.7,28.0,66.67,"),
        "{row}"
    );

    // Agents page: mei served two conversations; the scatter plots her.
    let html = text(call_service(&app, page("/dashboard/agents", &boss)).await).await;
    assert!(
        html.contains("<span class=\"muted small\">mei</span></td><td>2</td>"),
        "{html}"
    );
    assert!(html.contains("<circle"));
    let csv = text(
        call_service(
            &app,
            get(
                &format!("/dashboard/export?table=agents&{RANGE}"),
                Some(&boss),
            )
            .to_request(),
        )
        .await,
    )
    .await;
    assert!(csv.contains("\nmei,2,"), "{csv}");
    // No bot or hand-over rates for one agent: every buyer they served was handed over.
    let mei: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("mei,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!((mei[10], mei[11], mei[12]), ("", "", ""), "{csv}");
    let csv = text(
        call_service(
            &app,
            get(
                &format!("/dashboard/export?table=channels&{RANGE}"),
                Some(&boss),
            )
            .to_request(),
        )
        .await,
    )
    .await;
    assert!(
        csv.contains("\n京东,1,") && csv.contains("\n淘宝,2,"),
        "{csv}"
    );

    // The other tables export too.
    let export = |table: &str| {
        get(
            &format!("/dashboard/export?table={table}&{RANGE}"),
            Some(&boss),
        )
        .to_request()
    };
    let csv = text(call_service(&app, export("ratings")).await).await;
    assert!(
        csv.contains("很满意,1") && csv.contains("不满意,1"),
        "{csv}"
    );
    let csv = text(call_service(&app, export("reasons")).await).await;
    assert!(csv.contains("回复慢,1"), "{csv}");
    for table in ["scenes", "hot", "unmatched", "groups"] {
        let res = call_service(&app, export(table)).await;
        assert_eq!(res.status(), StatusCode::OK, "{table}");
    }
    let res = call_service(&app, export("nope")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The bot page: one turn, answered (imported bot messages carry no band).
    let ling = shop.session("ling").await;
    let res = call_service(&app, page("/dashboard/bot", &ling)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(
        html.contains("机器人接待的提问</div><div class=\"kpi-value\">1</div>"),
        "{html}"
    );
    // A trainer finds the page from the menu, and its tabs offer no page the trainer
    // may not open.
    assert!(html.contains("href=\"/dashboard/bot\""), "{html}");
    let tabs = html
        .split("aria-label=\"数据看板\"")
        .nth(1)
        .and_then(|t| t.split("</nav>").next())
        .unwrap_or_default();
    assert!(tabs.contains("/dashboard/bot?"), "{tabs}");
    for other in ["/dashboard?", "/dashboard/agents", "/dashboard/live"] {
        assert!(!tabs.contains(other), "{other} in {tabs}");
    }
    let kb = text(call_service(&app, page("/kb", &ling)).await).await;
    assert!(kb.contains(">机器人数据</a>"), "{kb}");
}

#[actix_web::test]
async fn agents_see_only_their_own_numbers() {
    let shop = shop().await;
    let app = app(&shop).await;
    let mei = shop.session("mei").await;
    let tao = shop.session("tao").await;
    let html = text(
        call_service(
            &app,
            get(&format!("/dashboard?{RANGE}"), Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        html.contains("（mei 本人的数据）") && html.contains("会话 2 · 咨询 2 人"),
        "{html}"
    );
    assert!(
        !html.contains("热门问题"),
        "shop-wide lists are not an agent's"
    );
    // Every conversation of theirs reached a human: the bot's figures mean nothing.
    for bot_figure in [
        "机器人解决率",
        "转人工率",
        "首问完成率",
        "询单转化率（机器人）",
    ] {
        assert!(!html.contains(bot_figure), "{bot_figure}");
    }
    assert!(html.contains("3分钟人工响应率") && html.contains("满意率"));
    let html = text(
        call_service(
            &app,
            get(&format!("/dashboard?{RANGE}"), Some(&tao)).to_request(),
        )
        .await,
    )
    .await;
    assert!(html.contains("会话 0 · 咨询 0 人"), "{html}");
    let csv = text(
        call_service(
            &app,
            get(
                &format!("/dashboard/export?table=agents&{RANGE}"),
                Some(&tao),
            )
            .to_request(),
        )
        .await,
    )
    .await;
    assert!(!csv.contains("mei"), "{csv}");
    for table in ["channels", "hot", "unmatched", "groups"] {
        let uri = format!("/dashboard/export?table={table}&{RANGE}");
        let res = call_service(&app, get(&uri, Some(&tao)).to_request()).await;
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{table} is not an agent's"
        );
    }
    for path in ["/dashboard/agents", "/dashboard/bot", "/dashboard/live"] {
        let res = call_service(&app, get(path, Some(&mei)).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let ling = shop.session("ling").await;
    let res = call_service(&app, get("/dashboard", Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Live today: mei (shown to buyers by her nickname) serves a buyer; her numbers
    // count it, tao's do not.
    let token = api_token(&shop, "qianniu").await;
    let r = buyer_says(&app, &token, "b9", "", "转人工").await;
    let conv = r["conversation_id"].as_u64().unwrap();
    let take = post(
        &format!("/desk/c/{conv}/take"),
        Some(&mei),
        &[("_csrf", &mei.csrf)],
    );
    call_service(&app, take.to_request()).await;
    let send = post(
        &format!("/desk/c/{conv}/send"),
        Some(&mei),
        &[("_csrf", &mei.csrf), ("text", "亲，在的")],
    );
    assert_eq!(
        call_service(&app, send.to_request()).await.status(),
        StatusCode::SEE_OTHER
    );
    // The buyer orders within the day: mei's conversation converted.
    let order = serde_json::json!({"order_id": "T1", "buyer_id": "b9",
        "items": [{"name": "T恤"}], "status": "paid"});
    let res = call_service(
        &app,
        api(
            actix_web::http::Method::POST,
            "/api/v1/orders",
            Some(&token),
            &order.to_string(),
        )
        .to_request(),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    let today = |s: &Sess| get("/dashboard?from=2026-11-23&to=2026-11-23", Some(s)).to_request();
    let html = text(call_service(&app, today(&mei)).await).await;
    assert!(html.contains("会话 1 · 咨询 1 人"), "{html}");
    let card = "<div class=\"kpi-name\">询单转化率（人工）</div>\n    <div class=\"kpi-value\">100.0%</div>";
    assert!(html.contains(card), "{html}");
    let html = text(call_service(&app, today(&tao)).await).await;
    assert!(html.contains("会话 0 · 咨询 0 人"), "{html}");
}

#[actix_web::test]
async fn targets_are_the_owners_and_bad_input_changes_nothing() {
    let shop = shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let lead = shop.session("lead").await;
    let form = |s: &Sess, first: &str| {
        post(
            "/dashboard/targets",
            Some(s),
            &[
                ("_csrf", s.csrf.as_str()),
                ("avg_response_s", "20"),
                ("first_response_30s_pct", first),
                ("human_3min_pct", "90"),
                ("answer_question_pct", "150"),
                ("invite_pct", "40"),
                ("satisfaction_pct", "90"),
                ("bot_resolution_pct", "50"),
            ],
        )
        .to_request()
    };
    let before = shop.snapshot();
    assert_eq!(
        call_service(&app, form(&lead, "60")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_service(&app, form(&boss, "abc")).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call_service(&app, form(&boss, "101")).await.status(),
        StatusCode::BAD_REQUEST
    );
    let bad_date = get("/dashboard?from=2026-13-01", Some(&boss)).to_request();
    assert_eq!(
        call_service(&app, bad_date).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(shop.snapshot(), before);
    // Dates picked the wrong way round show the same days.
    let page = |q: &str| get(&format!("/dashboard?{q}"), Some(&boss)).to_request();
    let backwards = call_service(&app, page("from=2026-11-21&to=2026-11-20")).await;
    assert_eq!(backwards.status(), StatusCode::OK);
    let forwards = call_service(&app, page("from=2026-11-20&to=2026-11-21")).await;
    assert_eq!(text(backwards).await, text(forwards).await);

    // 60%: now 66.7% meets the target and the card turns green.
    let res = call_service(&app, form(&boss, "60")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(
        call_service(
            &app,
            get(&format!("/dashboard?{RANGE}"), Some(&boss)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        html.contains("<div class=\"kpi ok\">\n    <div class=\"kpi-name\">首次30秒应答率</div>")
    );
    assert!(html.contains("目标 ≥ 60%"));

    // The live board (supervisors): today's figures, and the fragment it refreshes from.
    let res = call_service(&app, get("/dashboard/live", Some(&lead)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        text(res)
            .await
            .contains("data-src=\"/dashboard/live/board\"")
    );
    let res = call_service(&app, get("/dashboard/live/board", Some(&lead)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(header::CONTENT_TYPE).is_some());
    assert!(text(res).await.contains("首次30秒应答率"));
}
