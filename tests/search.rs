//! 搜索, history search, through the real app: buyers' messages posted over the API
//! are found by substring and order number, each hit links to its conversation at the
//! message, filters narrow, agents see only their groups' conversations, trainers read
//! hits in the history view, bad input is a 400 that changes nothing, and visitors
//! without a console login are sent to log in.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::call_service;
use common::*;
use xiaoer::model::Role;

async fn shop() -> TestShop {
    let staff = [
        ("lead", Role::Supervisor),
        ("mei", Role::Agent),
        ("tao", Role::Agent),
        ("xun", Role::Trainer),
    ];
    TestShop::with_team(staffed_clock(), &staff).await
}

/// A buyer's message over the channel API: (conversation, message seq).
async fn buyer_says<S, B>(app: &S, token: &str, buyer: &str, region: &str, text: &str) -> (u64, u64)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let body = serde_json::json!({
        "channel": "qianniu", "buyer_id": buyer, "text": text, "region": region,
    });
    let req = api(
        Method::POST,
        "/api/v1/messages",
        Some(token),
        &body.to_string(),
    );
    let r = json(call_service(app, req.to_request()).await).await;
    (
        r["conversation_id"].as_u64().expect("conversation"),
        r["message_id"].as_u64().expect("message"),
    )
}

/// `GET /search?…` as `sess`: status and page.
async fn search<S, B>(app: &S, sess: &Sess, query: &[(&str, &str)]) -> (StatusCode, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let qs = serde_urlencoded::to_string(query).unwrap();
    let res = call_service(app, get(&format!("/search?{qs}"), Some(sess)).to_request()).await;
    let status = res.status();
    (status, text(res).await)
}

#[actix_web::test]
async fn an_agent_finds_messages_and_opens_the_conversation_at_the_hit() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let mei = shop.session("mei").await;
    let (c1, s1) = buyer_says(&app, &token, "b1", "", "我买的云朵拖鞋有线头").await;
    let (c2, s2) = buyer_says(&app, &token, "b2", "", "订单TB2026112200123还没发货").await;
    buyer_says(
        &app,
        &token,
        "b3",
        "",
        "<b>线</b>和头<script>x</script>线头",
    )
    .await;
    shop.state.desk.flush_history().await.unwrap();

    let (status, html) = search(&app, &mei, &[("q", "云朵拖鞋")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<mark>云朵拖鞋</mark>有线头"), "{html}");
    let link = format!("href=\"/desk/c/{c1}#m{s1}\"");
    assert!(html.contains(&link), "{html}");
    assert!(
        !html.contains("共找到"),
        "agents' hits are filtered, not counted"
    );
    assert!(!html.contains("TB2026112200123"));

    let (_, html) = search(&app, &mei, &[("q", "tb2026112200123")]).await;
    assert!(html.contains("<mark>TB2026112200123</mark>"), "{html}");
    assert!(html.contains(&format!("/desk/c/{c2}#m{s2}")));

    // Newest first; buyer text is escaped, only the match is marked.
    let (_, html) = search(&app, &mei, &[("q", "线头")]).await;
    assert!(
        html.contains("&#60;script&#62;x&#60;/script&#62;<mark>线头</mark>"),
        "{html}"
    );
    assert!(!html.contains("<script>x"));
    let newest = html.find("&#60;script&#62;").unwrap();
    assert!(newest < html.find("云朵拖鞋").unwrap(), "newest first");

    // Filters: the channel, the conversation's state, the sender, the date.
    let lead = shop.session("lead").await;
    let (_, html) = search(&app, &lead, &[("q", "线头")]).await;
    assert!(html.contains("共找到 2 条消息"), "{html}");
    let (_, html) = search(&app, &mei, &[("q", "线头"), ("channel", "web")]).await;
    assert!(html.contains("没有找到符合条件的消息"), "{html}");
    let (_, html) = search(&app, &mei, &[("q", "线头"), ("state", "closed")]).await;
    assert!(html.contains("没有找到符合条件的消息"));
    let (_, html) = search(
        &app,
        &lead,
        &[("q", "线头"), ("state", "bot"), ("sender", "buyer")],
    )
    .await;
    assert_eq!(html.matches("<li class=\"card\">").count(), 2, "{html}");
    let (_, html) = search(&app, &lead, &[("q", "线头"), ("state", "human")]).await;
    assert!(html.contains("没有找到符合条件的消息"));
    let (_, html) = search(&app, &lead, &[("q", "线头"), ("state", "closed")]).await;
    assert!(html.contains("共找到 0 条消息"), "{html}");
    let (_, html) = search(&app, &lead, &[("q", "线头"), ("sender", "bot")]).await;
    assert!(html.contains("共找到 0 条消息"), "{html}");
    let (_, html) = search(&app, &mei, &[("q", "线头"), ("from", "2999-01-01")]).await;
    assert!(html.contains("没有找到符合条件的消息"));

    // The workspace anchors every message, so the link lands on the hit.
    let res = call_service(&app, get(&format!("/desk/c/{c1}"), Some(&mei)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains(&format!("id=\"m{s1}\"")));
}

#[actix_web::test]
async fn messages_become_searchable_without_a_flush() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let lead = shop.session("lead").await;
    buyer_says(&app, &token, "b1", "", "冰丝凉席怎么洗").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, html) = search(&app, &lead, &[("q", "冰丝凉席")]).await;
        if html.contains("<mark>冰丝凉席</mark>") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not indexed in time");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn agents_search_only_their_groups_and_trainers_read_the_history_view() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let (mei_id, tao_id) = (shop.user_id("mei"), shop.user_id("tao"));
    regional_groups(
        &shop,
        &[("华南组", "广东", mei_id), ("华东组", "上海", tao_id)],
    )
    .await;
    let (conv, _) = buyer_says(&app, &token, "sh1", "上海", "转人工").await;
    let (_, seq) = buyer_says(&app, &token, "sh1", "上海", "退货地址在哪里").await;
    shop.state.desk.flush_history().await.unwrap();
    let (mei, tao, xun) = (
        shop.session("mei").await,
        shop.session("tao").await,
        shop.session("xun").await,
    );

    let (_, html) = search(&app, &mei, &[("q", "退货地址")]).await;
    assert!(
        html.contains("没有找到符合条件的消息"),
        "another group's buyer"
    );
    let view = format!("/conversations/{conv}");
    let res = call_service(&app, get(&view, Some(&mei)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, html) = search(&app, &tao, &[("q", "退货地址")]).await;
    assert!(html.contains(&format!("/desk/c/{conv}#m{seq}")), "{html}");

    // Trainers do not use the workspace: their hits open the read-only conversation
    // page at the message.
    let (_, html) = search(&app, &xun, &[("q", "退货地址")]).await;
    assert!(html.contains(&format!("href=\"{view}#m{seq}\"")), "{html}");
    let res = call_service(&app, get(&view, Some(&xun)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains(&format!("id=\"m{seq}\"")), "{html}");
    assert!(!html.contains("在对话工作台打开"));
    let res = call_service(
        &app,
        get(&format!("/conversations/{}", conv + 99), Some(&xun)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn buyers_are_found_by_nickname_or_platform_id() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let (mei_id, tao_id) = (shop.user_id("mei"), shop.user_id("tao"));
    regional_groups(
        &shop,
        &[("华南组", "广东", mei_id), ("华东组", "上海", tao_id)],
    )
    .await;
    let say = |buyer: &str, nickname: &str, region: &str| {
        serde_json::json!({
            "channel": "qianniu", "buyer_id": buyer, "nickname": nickname,
            "region": region, "text": "转人工",
        })
        .to_string()
    };
    let mut convs = Vec::new();
    for (buyer, nickname, region) in [
        ("tb-8812", "爱吃橘子的猫", "上海"),
        ("tb-9901", "Orange小王", "广东"),
    ] {
        let req = api(
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            &say(buyer, nickname, region),
        );
        let r = json(call_service(&app, req.to_request()).await).await;
        convs.push(r["conversation_id"].as_u64().expect("conversation"));
    }
    shop.state.desk.flush_history().await.unwrap();
    let lead = shop.session("lead").await;

    // By a part of the nickname, and by platform id in any case: the buyer's record and
    // conversations, without a message search.
    let (status, html) = search(&app, &lead, &[("buyer", "橘子")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("爱吃橘子的猫"), "{html}");
    assert!(html.contains("tb-8812"), "{html}");
    assert!(
        html.contains(&format!("href=\"/desk/c/{}\"", convs[0])),
        "{html}"
    );
    assert!(!html.contains("Orange小王"));
    assert!(
        !html.contains("没有找到符合条件的消息"),
        "no message search asked"
    );
    let (_, html) = search(&app, &lead, &[("buyer", "TB-9901")]).await;
    assert!(html.contains("Orange小王"), "{html}");
    let (_, html) = search(&app, &lead, &[("buyer", "orange")]).await;
    assert!(html.contains("Orange小王"), "{html}");
    let (_, html) = search(&app, &lead, &[("buyer", "ＯＲＡＮＧＥ")]).await;
    assert!(html.contains("Orange小王"), "full-width letters: {html}");
    let (_, html) = search(&app, &lead, &[("buyer", "没这个人")]).await;
    assert!(html.contains("没有找到这位买家"), "{html}");
    // With words: only that buyer's messages.
    let (_, html) = search(&app, &lead, &[("q", "转人工")]).await;
    assert!(html.contains("共找到 2 条消息"), "{html}");
    let (_, html) = search(&app, &lead, &[("q", "转人工"), ("buyer", "橘子")]).await;
    assert!(html.contains(&format!("/desk/c/{}#m", convs[0])), "{html}");
    assert!(!html.contains(&format!("/desk/c/{}#m", convs[1])), "{html}");
    // Another channel's filter leaves them out.
    let (_, html) = search(&app, &lead, &[("buyer", "橘子"), ("channel", "web")]).await;
    assert!(!html.contains("爱吃橘子的猫"), "{html}");
    // An agent finds only buyers of conversations the workspace shows them.
    let tao = shop.session("tao").await;
    let (_, html) = search(&app, &tao, &[("buyer", "tb-")]).await;
    assert!(html.contains("爱吃橘子的猫"), "{html}");
    assert!(!html.contains("Orange小王"), "another group's buyer");
    // Trainers open the read-only conversation page.
    let xun = shop.session("xun").await;
    let (_, html) = search(&app, &xun, &[("buyer", "橘子")]).await;
    assert!(
        html.contains(&format!("href=\"/conversations/{}\"", convs[0])),
        "{html}"
    );
    let long = "长".repeat(65);
    let (status, html) = search(&app, &lead, &[("buyer", long.as_str())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("买家昵称或ID最多 64 个字"), "{html}");
}

#[actix_web::test]
async fn bad_input_is_a_400_with_a_message_and_changes_nothing() {
    let shop = shop().await;
    let app = app(&shop).await;
    let mei = shop.session("mei").await;
    let (status, html) = search(&app, &mei, &[]).await;
    assert_eq!(status, StatusCode::OK, "the empty form");
    assert!(html.contains("name=\"q\""));
    let before = shop.snapshot();
    let long = "长".repeat(101);
    for (query, message) in [
        (vec![("q", "  ")], "请输入要搜索的内容"),
        (vec![("q", long.as_str())], "搜索内容最多 100 个字"),
        (vec![("q", "，。！")], "请输入汉字、字母或数字"),
        (vec![("q", "发货"), ("from", "2026-13-01")], "日期格式应为"),
        (
            vec![("q", "发货"), ("from", "2026-11-02"), ("to", "2026-11-01")],
            "结束日期不能早于开始日期",
        ),
        (vec![("q", "发货"), ("state", "gone")], "会话状态选择有误"),
        (vec![("q", "发货"), ("agent", "x")], "客服选择有误"),
        (vec![("q", "发货"), ("agent", "999")], "客服选择有误"),
        (vec![("q", "发货"), ("channel", "nope")], "渠道选择有误"),
    ] {
        let (status, html) = search(&app, &mei, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}");
        assert!(html.contains(message), "{query:?}: {html}");
        assert!(html.contains("name=\"q\""), "the form is shown again");
    }
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn visitors_without_a_console_login_are_sent_to_log_in() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    for path in ["/search?q=%E5%8F%91%E8%B4%A7", "/conversations/1"] {
        let res = call_service(&app, get(path, None).to_request()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login?next="), "{path}");
        // A channel's API token is no console login either.
        let req = api(Method::GET, path, Some(&token), "").to_request();
        let res = call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
    }
}

#[actix_web::test]
async fn a_restart_on_the_same_folder_reuses_the_index() {
    let shop = shop().await;
    let token = api_token(&shop, "qianniu").await;
    {
        let app = app(&shop).await;
        buyer_says(&app, &token, "b1", "", "能开专票吗").await;
    }
    shop.state.desk.flush_history().await.unwrap();
    let TestShop { dir, state } = shop;
    drop(state);
    let store = reopen(dir.path()).await;
    let config = xiaoer::config::Config::new(dir.path());
    let state = xiaoer::AppState::open(config, store, staffed_clock())
        .await
        .expect("restart");
    assert_eq!(
        state.desk.flush_history().await.unwrap(),
        0,
        "nothing re-indexed"
    );
    let shop = TestShop {
        dir,
        state: actix_web::web::Data::new(state),
    };
    let app = app(&shop).await;
    let lead = shop.session("lead").await;
    let (_, html) = search(&app, &lead, &[("q", "专票")]).await;
    assert!(html.contains("<mark>专票</mark>"), "{html}");
}
