//! The owner's and supervisors' switch pages through the real app: 场景开关 (scene
//! modes, global switches, reception settings, the audit trail), skill groups, channel
//! tokens and webhooks, and the agent's own 在线/忙碌 state.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::call_service;
use common::*;

use xiaoer::model::{AgentState, Role, SceneMode};

/// A shop at 10:00 Shanghai time (staffed) with an owner, a supervisor and an agent.
async fn staffed_shop() -> TestShop {
    TestShop::with_team(
        staffed_clock(),
        &[("lead", Role::Supervisor), ("mei", Role::Agent)],
    )
    .await
}

fn buyer_says(token: &str, buyer: &str, text: &str) -> actix_http::Request {
    let body = serde_json::json!({ "channel": "qianniu", "buyer_id": buyer, "text": text });
    api(
        Method::POST,
        "/api/v1/messages",
        Some(token),
        &body.to_string(),
    )
    .to_request()
}

#[actix_web::test]
async fn a_supervisor_flips_a_scene_and_the_next_message_follows_it() {
    let shop = staffed_shop().await;
    let app = app(&shop).await;
    let lead = shop.session("lead").await;
    let token = api_token(&shop, "qianniu").await;

    let res = call_service(&app, get("/scenes", Some(&lead)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(
        html.contains("人工服务时间") && html.contains("现在 10:00"),
        "the status now"
    );
    assert!(html.contains("运费") && html.contains("仅机器人接待"));
    assert!(html.contains("还没有改动过开关"));

    // Before: the bot answers 运费 questions.
    let r = json(call_service(&app, buyer_says(&token, "b1", "运费可以到付吗")).await).await;
    assert_eq!(r["state"], "bot", "{r}");

    let res = call_service(
        &app,
        post(
            "/scenes/switch",
            Some(&lead),
            &[
                ("_csrf", &lead.csrf),
                ("scene", "运费"),
                ("set", "staffed:human"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/scenes?done=saved");
    let row = shop
        .state
        .desk
        .scenes()
        .unwrap()
        .into_iter()
        .find(|r| r.scene == "运费")
        .unwrap();
    assert_eq!(row.switch.staffed, SceneMode::Human);
    assert_eq!(
        row.switch.off_hours,
        SceneMode::Bot,
        "the other period is untouched"
    );

    // At once: the next 运费 question goes straight to a human.
    let r = json(call_service(&app, buyer_says(&token, "b2", "运费可以到付吗")).await).await;
    assert_eq!(r["state"], "queued", "{r}");

    // The page shows the new mode and who changed it.
    let html = text(call_service(&app, get("/scenes", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("value=\"staffed:human\" class=\"on\""),
        "highlighted"
    );
    assert!(
        html.contains("切换场景开关") && html.contains(">lead<"),
        "the trail"
    );

    // Bad switches change nothing.
    for (scene, set) in [
        ("没有这个场景", "staffed:human"),
        ("运费", "noon:human"),
        ("运费", "staffed:maybe"),
        ("运费", ""),
    ] {
        let before = shop.snapshot();
        let res = call_service(
            &app,
            post(
                "/scenes/switch",
                Some(&lead),
                &[("_csrf", &lead.csrf), ("scene", scene), ("set", set)],
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{scene} {set}");
        assert_eq!(shop.snapshot(), before);
    }
}

#[actix_web::test]
async fn global_switches_and_reception_settings() {
    let shop = staffed_shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let token = api_token(&shop, "qianniu").await;

    let toggle = |what: &str, on: &str| {
        post(
            "/scenes/toggle",
            Some(&boss),
            &[("_csrf", &boss.csrf), ("toggle", what), ("on", on)],
        )
        .to_request()
    };
    let page = text(call_service(&app, get("/scenes", Some(&boss)).to_request()).await).await;
    assert!(
        page.contains("name=\"toggle\" value=\"bot_only\">\n      <input type=\"hidden\" name=\"on\" value=\"1\">"),
        "the off switch's form turns it on: {page}"
    );
    // Sent twice (a double click), the switch stays on.
    for _ in 0..2 {
        let res = call_service(&app, toggle("bot_only", "1")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(shop.state.desk.reception().unwrap().bot_only);
    }
    // Bot only: a transfer request stays with the bot.
    let r = json(call_service(&app, buyer_says(&token, "b1", "转人工")).await).await;
    assert_eq!(r["state"], "bot", "{r}");
    call_service(&app, toggle("bot_only", "0")).await;
    assert!(!shop.state.desk.reception().unwrap().bot_only);
    let before = shop.snapshot();
    for (what, on) in [("everything", "1"), ("bot_only", ""), ("bot_only", "yes")] {
        let res = call_service(&app, toggle(what, on)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what} {on}");
    }
    assert_eq!(shop.snapshot(), before);

    // Reception: bad numbers are shown back with reasons; good ones are saved.
    let form = |cap: &str, reroute: &str| {
        post(
            "/scenes/reception",
            Some(&boss),
            &[
                ("_csrf", &boss.csrf),
                ("staffed", "human_first"),
                ("off_hours", "bot_first"),
                ("human_percent", "50"),
                ("queue_limit", "15"),
                ("agent_cap", cap),
                ("reroute_minutes", reroute),
                ("idle_close_minutes", "30"),
            ],
        )
        .to_request()
    };
    let before = shop.snapshot();
    let res = call_service(&app, form("0", "abc")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("请填写整数"), "reroute_minutes");
    assert!(html.contains("value=\"abc\""), "the typed value is kept");
    assert_eq!(shop.snapshot(), before);
    let res = call_service(&app, form("0", "5")).await;
    assert!(text(res).await.contains("每位客服同时接待 1–100 人"));
    let res = call_service(&app, form("6", "5")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = shop.state.desk.reception().unwrap();
    assert_eq!((r.agent_cap, r.reroute_minutes, r.queue_limit), (6, 5, 15));
    assert_eq!(r.staffed, xiaoer::model::ReceptionMode::HumanFirst);
    let html = text(call_service(&app, get("/scenes", Some(&boss)).to_request()).await).await;
    assert!(
        html.contains("修改接待设置") && html.contains("仅机器人接待：开"),
        "{html}"
    );

    // Agents and trainers do not see the page.
    for role in ["mei"] {
        let s = shop.session(role).await;
        let res = call_service(&app, get("/scenes", Some(&s)).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}

#[actix_web::test]
async fn the_owner_manages_skill_groups() {
    let shop = staffed_shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let mei = shop
        .state
        .desk
        .list_users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == "mei")
        .unwrap();
    let mei_id = mei.id.0.to_string();

    let res = call_service(
        &app,
        post(
            "/settings/groups",
            Some(&boss),
            &[
                ("_csrf", &boss.csrf),
                ("name", "售后组"),
                ("members", &mei_id),
                ("scenes", "退换货"),
                ("scenes", "退款"),
                ("regions", "广东、上海"),
                ("is_default", "on"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let groups = shop.state.desk.groups().unwrap();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.members, vec![mei.id]);
    assert_eq!(g.scenes, vec!["退换货", "退款"]);
    assert_eq!(g.regions, vec!["广东", "上海"]);
    assert!(g.is_default);
    let html =
        text(call_service(&app, get("/settings/groups", Some(&boss)).to_request()).await).await;
    assert!(
        html.contains("售后组") && html.contains("默认组") && html.contains("成员：mei"),
        "{html}"
    );
    // The edit form shows the group's scenes ticked, so saving it again keeps them.
    for scene in ["退换货", "退款"] {
        assert!(
            html.contains(&format!("name=\"scenes\" value=\"{scene}\" checked")),
            "{scene}: {html}"
        );
    }

    // A second group with the same name, or a member who is no user, is refused.
    for (name, member) in [("售后组", mei_id.as_str()), ("售前组", "999")] {
        let before = shop.snapshot();
        let res = call_service(
            &app,
            post(
                "/settings/groups",
                Some(&boss),
                &[("_csrf", &boss.csrf), ("name", name), ("members", member)],
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(shop.snapshot(), before);
    }
    let res = call_service(
        &app,
        post(
            "/settings/groups",
            Some(&boss),
            &[
                ("_csrf", &boss.csrf),
                ("name", "x"),
                ("members", "not-a-number"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let path = format!("/settings/groups/{}/delete", g.id);
    let res = call_service(
        &app,
        post(&path, Some(&boss), &[("_csrf", &boss.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(shop.state.desk.groups().unwrap().is_empty());
    let res = call_service(
        &app,
        post(&path, Some(&boss), &[("_csrf", &boss.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Its edit form, still open in another tab, does not bring it back.
    let before = shop.snapshot();
    let id = g.id.0.to_string();
    let res = call_service(
        &app,
        post(
            "/settings/groups",
            Some(&boss),
            &[("_csrf", &boss.csrf), ("id", &id), ("name", "售后组")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(text(res).await.contains("已被删除"));
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn the_owner_creates_tokens_and_webhooks_and_sees_failures() {
    let shop = staffed_shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;

    let res = call_service(
        &app,
        post(
            "/settings/channels/tokens",
            Some(&boss),
            &[
                ("_csrf", &boss.csrf),
                ("name", "千牛桥接"),
                ("channel", "qianniu"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let html = text(res).await;
    let start = html
        .find("<pre id=\"new-secret\">")
        .expect("the secret, once")
        + 21;
    let secret = html[start..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("xr_"));
    // The secret works, and is never shown again.
    let r = call_service(&app, buyer_says(&secret, "b1", "在吗")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html =
        text(call_service(&app, get("/settings/channels", Some(&boss)).to_request()).await).await;
    assert!(!html.contains(&secret) && html.contains("千牛桥接"));
    // The bridge developer finds the API on the page itself.
    assert!(
        html.contains("接口速览") && html.contains("<code>POST /api/v1/messages</code>"),
        "{html}"
    );

    // Bad token and webhook forms are shown back; nothing is stored.
    let long_url = format!("https://bridge.example/{}", "a".repeat(5000));
    for (path, pairs) in [
        (
            "/settings/channels/tokens",
            vec![("name", "x"), ("channel", "千牛")],
        ),
        (
            "/settings/channels/tokens",
            vec![("name", "x"), ("channel", "web")],
        ),
        (
            "/settings/channels/webhooks",
            vec![("channel", "qianniu"), ("url", "ftp://bridge")],
        ),
        (
            "/settings/channels/webhooks",
            vec![("channel", "qianniu"), ("url", "http://")],
        ),
        (
            "/settings/channels/webhooks",
            vec![("channel", "qianniu"), ("url", &long_url)],
        ),
    ] {
        let before = shop.snapshot();
        let mut form = vec![("_csrf", boss.csrf.as_str())];
        form.extend(pairs);
        let res = call_service(&app, post(path, Some(&boss), &form).to_request()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let html = text(res).await;
        assert!(
            html.contains("class=\"error\"") || html.contains("class=\"alert\""),
            "{path}"
        );
        if form.iter().any(|(_, v)| v.len() > 5000) {
            assert!(html.contains("地址太长"), "the reason given is the length");
        } else if form.iter().any(|(_, v)| *v == "http://") {
            assert!(html.contains("请填写完整的"), "an address without a host");
        }
        assert_eq!(shop.snapshot(), before);
    }

    let res = call_service(
        &app,
        post(
            "/settings/channels/webhooks",
            Some(&boss),
            &[
                ("_csrf", &boss.csrf),
                ("channel", "qianniu"),
                ("url", "http://127.0.0.1:9/hook"),
                ("enabled", "on"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let hook = shop.state.desk.webhooks().unwrap().pop().unwrap();
    assert!(hook.enabled && !hook.secret.is_empty());

    // A delivery being retried shows on the webhook's row, with the error and the next
    // try; one that fails to the end is listed for the owner, who can send it again.
    call_service(&app, buyer_says(&secret, "b1", "发什么快递")).await;
    let due = || {
        shop.state
            .desk
            .due_deliveries(chrono::Utc::now() + chrono::Duration::days(1))
            .unwrap()
            .pop()
            .unwrap()
    };
    shop.state
        .desk
        .delivery_failed(due(), "HTTP 503".into(), false)
        .await
        .unwrap();
    let html =
        text(call_service(&app, get("/settings/channels", Some(&boss)).to_request()).await).await;
    assert!(
        html.contains("投递失败，重试中") && html.contains("已失败 1 次：HTTP 503"),
        "{html}"
    );
    // The owner's home page says messages are not getting through.
    let home = text(call_service(&app, get("/", Some(&boss)).to_request()).await).await;
    assert!(
        home.contains("Webhook 未送达买家的消息</a> <strong class=\"badge warn\">1</strong>"),
        "{home}"
    );
    shop.state
        .desk
        .delivery_failed(due(), "HTTP 502".into(), true)
        .await
        .unwrap();
    let html =
        text(call_service(&app, get("/settings/channels", Some(&boss)).to_request()).await).await;
    assert!(
        html.contains("HTTP 502") && html.contains("&#34;event&#34;"),
        "{html}"
    );
    assert!(!html.contains("投递失败，重试中"));
    let res = call_service(
        &app,
        post(
            "/settings/channels/webhooks/qianniu/retry",
            Some(&boss),
            &[("_csrf", &boss.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(shop.state.desk.failed_deliveries().unwrap().is_empty());
    assert_eq!(due().attempts, 0, "sent again from the first attempt");

    // Deleting the webhook; a second delete finds nothing.
    for expected in [StatusCode::SEE_OTHER, StatusCode::NOT_FOUND] {
        let res = call_service(
            &app,
            post(
                "/settings/channels/webhooks/qianniu/delete",
                Some(&boss),
                &[("_csrf", &boss.csrf)],
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), expected);
    }
    assert!(shop.state.desk.webhooks().unwrap().is_empty());

    // Revoking stops the token.
    let id = shop.state.desk.tokens().unwrap()[0].id;
    let res = call_service(
        &app,
        post(
            &format!("/settings/channels/tokens/{id}/revoke"),
            Some(&boss),
            &[("_csrf", &boss.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = call_service(&app, buyer_says(&secret, "b1", "在吗")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn an_agent_switches_state_and_logging_out_goes_offline() {
    let shop = staffed_shop().await;
    let app = app(&shop).await;
    let mei = shop.session("mei").await;
    let id = shop
        .state
        .desk
        .list_users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == "mei")
        .unwrap()
        .id;

    let html = text(call_service(&app, get("/", Some(&mei)).to_request()).await).await;
    assert!(
        html.contains("name=\"state\"") && html.contains("value=\"offline\" selected"),
        "the switch"
    );

    let res = call_service(
        &app,
        post(
            "/account/state",
            Some(&mei),
            &[("_csrf", &mei.csrf), ("state", "online")],
        )
        .insert_header(("referer", "http://shop.local/account"))
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account");
    assert_eq!(shop.state.desk.agent_state(id).unwrap(), AgentState::Online);

    let before = shop.snapshot();
    let res = call_service(
        &app,
        post(
            "/account/state",
            Some(&mei),
            &[("_csrf", &mei.csrf), ("state", "asleep")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(shop.snapshot(), before);

    let res = call_service(
        &app,
        post("/logout", Some(&mei), &[("_csrf", &mei.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        shop.state.desk.agent_state(id).unwrap(),
        AgentState::Offline
    );
}
