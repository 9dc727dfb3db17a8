//! 对话, the agent workspace, through the real app: the lists, taking a waiting buyer,
//! the history with the bot's part and the transfer reason, smart assist, replying,
//! inviting a rating, closing, transferring, buyer notes, quick replies, who may see
//! what (an agent of another group gets 403), and bad input that changes nothing.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::call_service;
use common::*;

use xiaoer::desk::Actor;
use xiaoer::model::{Group, GroupId, Role};

/// A staffed shop (10:00 Shanghai) with an owner, a supervisor and two agents; nobody
/// online, so a buyer asking for a human waits in the queue.
async fn shop() -> TestShop {
    shop_and_clock().await.0
}

async fn shop_and_clock() -> (TestShop, std::sync::Arc<xiaoer::model::ManualClock>) {
    let staff = [
        ("lead", Role::Supervisor),
        ("mei", Role::Agent),
        ("tao", Role::Agent),
    ];
    let clock = staffed_clock();
    (TestShop::with_team(clock.clone(), &staff).await, clock)
}

#[actix_web::test]
async fn an_agent_takes_a_waiting_buyer_answers_with_smart_assist_and_closes() {
    let (shop, clock) = shop_and_clock().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let mei = shop.session("mei").await;

    let r = buyer_says(&app, &token, "b1", "", "发什么快递").await;
    assert_eq!(r["state"], "bot", "{r}");
    clock.advance(chrono::Duration::seconds(5));
    let r = buyer_says(&app, &token, "b1", "", "转人工").await;
    assert_eq!(r["state"], "queued", "{r}");
    let conv = r["conversation_id"].as_u64().unwrap();

    // The queue lists the buyer; nobody serves them yet.
    let html = text(call_service(&app, get("/desk", Some(&mei)).to_request()).await).await;
    assert!(
        html.contains("排队中 <span class=\"count\">1</span>"),
        "{html}"
    );
    assert!(html.contains("b1的昵称") && html.contains(&format!("/desk/c/{conv}/take")));
    assert!(html.contains("我的会话 <span class=\"count\">0</span>"));
    // A complaint is handed over too, and listed first, marked 投诉.
    let r = buyer_says(&app, &token, "b2", "", "我要投诉你们").await;
    assert_eq!(r["state"], "queued", "{r}");
    let html = text(call_service(&app, get("/desk", Some(&mei)).to_request()).await).await;
    let (angry, calm) = (html.find("1. b2的昵称"), html.find("2. b1的昵称"));
    assert!(angry.is_some() && calm.is_some(), "{html}");
    assert!(html.contains("title=\"因投诉转人工，优先接待\">投诉</span>"));

    // The conversation: the bot's part, the transfer reason, and 接入.
    let page = format!("/desk/c/{conv}");
    let html = text(call_service(&app, get(&page, Some(&mei)).to_request()).await).await;
    assert!(
        html.contains("发什么快递") && html.contains("机器人"),
        "bot part"
    );
    assert!(html.contains("转人工原因"), "transfer reason");
    assert!(
        html.contains("<dt>平台买家ID</dt><dd><code>b1</code></dd>"),
        "the channel's id for the buyer"
    );
    assert!(html.contains(&format!("/desk/c/{conv}/take")));
    assert!(
        !html.contains("id=\"ws-send\""),
        "no reply box before taking"
    );

    let take = format!("/desk/c/{conv}/take");
    let res = call_service(
        &app,
        post(&take, Some(&mei), &[("_csrf", &mei.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), page);
    // Taking it again: someone (here, mei) already serves the buyer.
    let res = call_service(
        &app,
        post(&take, Some(&mei), &[("_csrf", &mei.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // The buyer is mei's now and waits for her first word: the request is unanswered,
    // and the row shows it rather than the service's notice.
    let html = text(call_service(&app, get("/desk/lists", Some(&mei)).to_request()).await).await;
    let mine = &html[..html.find("id=\"ws-queue\"").unwrap()];
    assert!(
        mine.contains("title=\"未回复的买家消息\">1</span>"),
        "{mine}"
    );
    assert!(
        mine.contains("<span class=\"ws-last\">转人工</span>"),
        "{mine}"
    );

    // Smart assist helps with the question, not with "转人工" after it.
    let html = text(
        call_service(
            &app,
            get(&format!("{page}/assist"), Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        html.contains("<q class=\"assist-for\">发什么快递</q>") && html.contains("快递"),
        "{html}"
    );
    assert!(
        !html.contains(">0.00<"),
        "no suggestion that matched nothing: {html}"
    );

    // The buyer asks; smart assist offers the KB's answers for it.
    buyer_says(&app, &token, "b1", "", "可以开发票吗").await;
    let html = text(
        call_service(
            &app,
            get(&format!("{page}/assist"), Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(html.contains("可以开发票吗"), "{html}");
    let answers: Vec<&str> = html.split("data-use-answer=\"").skip(1).collect();
    assert!(!answers.is_empty() && answers.len() <= 3, "{html}");
    let first = answers[0].split('"').next().unwrap();
    assert!(first.contains("发票"), "{first}");

    // The agent sends it (after editing), and the buyer's channel has it.
    let reply = format!("{first}（客服小美）");
    let send = format!("{page}/send");
    let res = call_service(
        &app,
        post(&send, Some(&mei), &[("_csrf", &mei.csrf), ("text", &reply)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let req = conv_messages(&token, conv);
    let msgs = json(call_service(&app, req.to_request()).await).await;
    let last = msgs["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].as_str(), last["text"].as_str()),
        (Some("agent"), Some(reply.as_str()))
    );
    // The row's preview marks it as the agent's, not the buyer's.
    let html = text(call_service(&app, get("/desk/lists", Some(&mei)).to_request()).await).await;
    assert!(html.contains("<span class=\"ws-last\">客服："), "{html}");
    // The messages fragment shows it too, after the last seq the page had.
    let after = last["id"].as_u64().unwrap() - 1;
    let frag = text(
        call_service(
            &app,
            get(&format!("{page}/messages?after={after}"), Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        frag.contains("（客服小美）") && frag.matches("<li").count() == 1,
        "{frag}"
    );

    // Invite to rate: once.
    let invite = format!("{page}/invite");
    let res = call_service(
        &app,
        post(&invite, Some(&mei), &[("_csrf", &mei.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = call_service(
        &app,
        post(&invite, Some(&mei), &[("_csrf", &mei.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(text(res).await.contains("已被邀请过评价"));

    // Close: the conversation ends; no second invitation.
    let res = call_service(
        &app,
        post(
            &format!("{page}/close"),
            Some(&mei),
            &[("_csrf", &mei.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let msgs = json(call_service(&app, conv_messages(&token, conv).to_request()).await).await;
    assert_eq!(msgs["state"], "closed");
    let invites = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == xiaoer::desk::agents::INVITE_TEXT)
        .count();
    assert_eq!(invites, 1);
    let html = text(call_service(&app, get("/desk", Some(&mei)).to_request()).await).await;
    assert!(html.contains("我的会话 <span class=\"count\">0</span>"));

    // The bridge relays the buyer's rating: bad input and another channel's token
    // change nothing; then it counts, once, for mei.
    let rate = |token: &str, body: &str| {
        api(
            actix_web::http::Method::POST,
            &format!("/api/v1/conversations/{conv}/rating"),
            Some(token),
            body,
        )
        .to_request()
    };
    let other = api_token(&shop, "douyin").await;
    let before = shop.snapshot();
    let res = call_service(&app, rate(&token, r#"{"level":9}"#)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("请选择 1–5 星"));
    let res = call_service(&app, rate(&token, "{level")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = call_service(&app, rate(&other, r#"{"level":5}"#)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(shop.snapshot(), before);
    let res = call_service(&app, rate(&token, r#"{"level":5,"comment":"很快"}"#)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["level"], 5);
    let res = call_service(&app, rate(&token, r#"{"level":1}"#)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = text(call_service(&app, get(&page, Some(&mei)).to_request()).await).await;
    assert!(html.contains("买家评价：<strong>很满意</strong>"), "{html}");
}

#[actix_web::test]
async fn agents_see_only_their_groups_and_supervisors_see_all() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let (mei_id, tao_id) = (shop.user_id("mei"), shop.user_id("tao"));
    regional_groups(
        &shop,
        &[("华南组", "广东", mei_id), ("华东组", "上海", tao_id)],
    )
    .await;
    let r = buyer_says(&app, &token, "sh1", "上海", "转人工").await;
    assert_eq!(r["state"], "queued", "{r}");
    let conv = r["conversation_id"].as_u64().unwrap();
    let page = format!("/desk/c/{conv}");
    let (mei, tao, lead) = (
        shop.session("mei").await,
        shop.session("tao").await,
        shop.session("lead").await,
    );

    // mei (华南组) neither sees nor may touch a 华东组 buyer.
    let html = text(call_service(&app, get("/desk", Some(&mei)).to_request()).await).await;
    assert!(!html.contains("sh1的昵称"), "not in mei's queue");
    let before = shop.snapshot();
    for path in [
        page.clone(),
        format!("{page}/messages"),
        format!("{page}/assist"),
    ] {
        let res = call_service(&app, get(&path, Some(&mei)).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            text(res).await.contains("您没有权限查看或处理这个会话"),
            "the reason is the conversation, not mei's role: {path}"
        );
    }
    for action in ["take", "send", "release", "close", "invite"] {
        let res = call_service(
            &app,
            post(
                &format!("{page}/{action}"),
                Some(&mei),
                &[("_csrf", &mei.csrf), ("text", "你好")],
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(shop.snapshot(), before, "refused actions change nothing");

    // tao (华东组) and the supervisor see it.
    let html = text(call_service(&app, get("/desk", Some(&tao)).to_request()).await).await;
    assert!(html.contains("sh1的昵称"));
    let res = call_service(&app, get(&page, Some(&lead)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);

    // tao takes it and hands it to mei with a note: now mei serves it, and sees it.
    let res = call_service(
        &app,
        post(&format!("{page}/take"), Some(&tao), &[("_csrf", &tao.csrf)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, get("/desk", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("其他客服接待中 <span class=\"count\">1</span>"),
        "the supervisor sees tao's buyer"
    );
    let to = format!("agent:{}", mei_id.0);
    let transfer = || {
        post(
            &format!("{page}/transfer"),
            Some(&tao),
            &[("_csrf", &tao.csrf), ("to", &to), ("note", "要开专票")],
        )
        .to_request()
    };
    // mei is offline: not offered, and refused (the buyer would hear "connected").
    let html = text(call_service(&app, get(&page, Some(&tao)).to_request()).await).await;
    assert!(
        !html.contains(&format!("value=\"{to}\"")),
        "offline mei offered"
    );
    let before = shop.snapshot();
    let res = call_service(&app, transfer()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(text(res).await.contains("不在线"));
    assert_eq!(shop.snapshot(), before);
    go_online(&app, &mei).await;
    let html = text(call_service(&app, get(&page, Some(&tao)).to_request()).await).await;
    assert!(
        html.contains(&format!("value=\"{to}\"")),
        "online mei offered"
    );
    let res = call_service(&app, transfer()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // tao is told it went.
    let back = location(&res);
    assert_eq!(back, "/desk?done=transferred");
    let html = text(call_service(&app, get(&back, Some(&tao)).to_request()).await).await;
    assert!(html.contains("会话已转交"), "{html}");
    let html = text(call_service(&app, get(&page, Some(&mei)).to_request()).await).await;
    assert!(html.contains("要开专票"), "the transfer note is the reason");
    assert!(html.contains("id=\"ws-send\""), "mei may reply now");
    let html = text(call_service(&app, get("/desk", Some(&mei)).to_request()).await).await;
    assert!(html.contains("我的会话 <span class=\"count\">1</span>"));

    // A trainer has no workspace.
    shop.add("ling", Role::Trainer).await;
    let ling = shop.session("ling").await;
    let res = call_service(&app, get("/desk", Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A request path, its form fields, and the status expected.
type Case<'a> = (String, Vec<(&'a str, &'a str)>, StatusCode);

#[actix_web::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let mei = shop.session("mei").await;
    let conv = buyer_says(&app, &token, "b2", "", "转人工").await["conversation_id"]
        .as_u64()
        .unwrap();
    let page = format!("/desk/c/{conv}");
    // Not taken yet: mei may not reply.
    let before = shop.snapshot();
    let res = call_service(
        &app,
        post(
            &format!("{page}/send"),
            Some(&mei),
            &[("_csrf", &mei.csrf), ("text", "你好")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(text(res).await.contains("请先接入"));
    call_service(
        &app,
        post(&format!("{page}/take"), Some(&mei), &[("_csrf", &mei.csrf)]).to_request(),
    )
    .await;
    let before_after_take = shop.snapshot();
    assert_ne!(before, before_after_take);

    let long = "长".repeat(4001);
    let cases: Vec<Case> = vec![
        (
            format!("{page}/send"),
            vec![("text", "   ")],
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{page}/send"),
            vec![("text", &long)],
            StatusCode::BAD_REQUEST,
        ),
        (format!("{page}/send"), vec![], StatusCode::BAD_REQUEST),
        (
            "/desk/c/999999/send".into(),
            vec![("text", "你好")],
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{page}/transfer"),
            vec![("to", "")],
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{page}/transfer"),
            vec![("to", "agent:abc")],
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{page}/transfer"),
            vec![("to", "agent:999")],
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{page}/transfer"),
            vec![("to", "group:999")],
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, mut pairs, status) in cases {
        pairs.push(("_csrf", &mei.csrf));
        let unknown = pairs
            .iter()
            .find(|(k, v)| *k == "to" && v.ends_with(":999"));
        let expected = unknown.map(|(_, v)| {
            if v.starts_with("agent") {
                "要转给的客服不存在"
            } else {
                "要转给的技能组不存在"
            }
        });
        let res = call_service(&app, post(&path, Some(&mei), &pairs).to_request()).await;
        assert_eq!(res.status(), status, "{path} {pairs:?}");
        if let Some(expected) = expected {
            assert!(text(res).await.contains(expected), "{pairs:?}");
        }
    }
    // Without the CSRF token: 403.
    let res = call_service(
        &app,
        post(&format!("{page}/send"), Some(&mei), &[("text", "你好")]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(shop.snapshot(), before_after_take, "nothing stored");
}

#[actix_web::test]
async fn buyer_html_is_shown_as_text_and_notes_are_kept() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let lead = shop.session("lead").await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    buyer_says(&app, &token, "b3", "", "转人工").await;
    let r = buyer_says(&app, &token, "b3", "", evil).await;
    let conv = r["conversation_id"].as_u64().unwrap();
    let page = format!("/desk/c/{conv}");
    let html = text(call_service(&app, get(&page, Some(&lead)).to_request()).await).await;
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{html}"
    );
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    let frag = text(
        call_service(
            &app,
            get(&format!("{page}/messages"), Some(&lead)).to_request(),
        )
        .await,
    )
    .await;
    assert!(!frag.contains("<img src=x") && frag.contains("&#60;img src=x"));

    // Tags and notes on the buyer, from the sidebar.
    let buyer = shop.state.desk.store().read().unwrap();
    let buyer_id = {
        use xiaoer::store::prelude::*;
        buyer
            .get_conv(xiaoer::model::ConvId(conv))
            .unwrap()
            .unwrap()
            .buyer
            .0
    };
    let res = call_service(
        &app,
        post(
            &format!("/desk/buyers/{buyer_id}"),
            Some(&lead),
            &[
                ("_csrf", &lead.csrf),
                ("conv", &conv.to_string()),
                ("tags", "老客户 爱砍价"),
                ("notes", "只发顺丰"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, get(&page, Some(&lead)).to_request()).await).await;
    assert!(html.contains("老客户 爱砍价") && html.contains("只发顺丰"));
    // The form of another conversation cannot edit this buyer.
    let other = buyer_says(&app, &token, "b4", "", "你好").await["conversation_id"]
        .as_u64()
        .unwrap();
    let res = call_service(
        &app,
        post(
            &format!("/desk/buyers/{buyer_id}"),
            Some(&lead),
            &[
                ("_csrf", &lead.csrf),
                ("conv", &other.to_string()),
                ("tags", "x"),
                ("notes", ""),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn quick_replies_are_personal_or_shared_by_the_team() {
    let shop = shop().await;
    let app = app(&shop).await;
    let (lead, mei, tao) = (
        shop.session("lead").await,
        shop.session("mei").await,
        shop.session("tao").await,
    );
    let save = |s: &Sess, pairs: &[(&str, &str)]| {
        let mut all = vec![("_csrf", s.csrf.as_str())];
        all.extend_from_slice(pairs);
        post("/desk/quick", Some(s), &all).to_request()
    };
    let res = call_service(
        &app,
        save(
            &lead,
            &[
                ("key", "kd"),
                ("text", "默认发中通，可加钱发顺丰"),
                ("scope", "team"),
            ],
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = call_service(
        &app,
        save(
            &mei,
            &[("key", "hi"), ("text", "亲，我是小美，很高兴为您服务")],
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let html = text(call_service(&app, get("/desk/quick", Some(&mei)).to_request()).await).await;
    assert!(html.contains("默认发中通") && html.contains("我是小美"));
    let html = text(call_service(&app, get("/desk/quick", Some(&tao)).to_request()).await).await;
    assert!(
        html.contains("默认发中通") && !html.contains("我是小美"),
        "personal stays personal"
    );

    let before = shop.snapshot();
    // An agent cannot add or change team replies; keys are unique per owner; bad input.
    let res = call_service(
        &app,
        save(&mei, &[("key", "t2"), ("text", "x"), ("scope", "team")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = call_service(&app, save(&mei, &[("key", "hi"), ("text", "again")])).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // The page comes back with why, and what was typed is still there.
    let html = text(res).await;
    assert!(
        html.contains("简码“hi”已经在用了")
            && html.contains("value=\"hi\"")
            && html.contains(">again</textarea>"),
        "{html}"
    );
    // A personal key may not hide a team one.
    let res = call_service(&app, save(&mei, &[("key", "kd"), ("text", "我的快递话术")])).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    for (key, text_) in [
        ("", "x"),
        ("a b", "x"),
        ("ok", ""),
        ("toolongkey-toolongkey", "x"),
        ("var", "亲，{{不存在}}"),
    ] {
        let res = call_service(&app, save(&mei, &[("key", key), ("text", text_)])).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{key:?} {text_:?}");
    }
    let tao_user = shop.user("tao");
    let team_id = shop
        .state
        .desk
        .quick_replies(&tao_user)
        .unwrap()
        .into_iter()
        .find(|q| q.key == "kd")
        .unwrap()
        .id;
    let res = call_service(
        &app,
        post(
            &format!("/desk/quick/{team_id}/delete"),
            Some(&mei),
            &[("_csrf", &mei.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(shop.snapshot(), before, "nothing changed");

    // The supervisor may delete the team's.
    let res = call_service(
        &app,
        post(
            &format!("/desk/quick/{team_id}/delete"),
            Some(&lead),
            &[("_csrf", &lead.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, get("/desk/quick", Some(&tao)).to_request()).await).await;
    assert!(!html.contains("默认发中通"));

    // Variables are filled in the workspace, as the buyer will read them.
    let res = call_service(
        &app,
        save(
            &tao,
            &[
                ("key", "dp"),
                ("text", "欢迎光临{{店铺名}}，默认发{{快递}}"),
            ],
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let filled = shop.state.desk.quick_replies_for(&tao_user, None).unwrap();
    let dp = filled.iter().find(|q| q.key == "dp").unwrap();
    assert!(
        dp.text.starts_with("欢迎光临我的小店，默认发中通"),
        "{}",
        dp.text
    );
}

#[actix_web::test]
async fn a_supervisor_monitors_barges_in_takes_over_and_force_closes() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let mei_id = shop.user_id("mei");
    shop.state
        .desk
        .save_group(
            &Actor::cli(),
            Group {
                id: GroupId(0),
                name: "华南组".into(),
                members: vec![mei_id],
                scenes: vec![],
                regions: vec!["广东".into()],
                is_default: false,
            },
        )
        .await
        .unwrap();
    let (mei, lead) = (shop.session("mei").await, shop.session("lead").await);
    go_online(&app, &mei).await;
    let served = buyer_says(&app, &token, "gd1", "广东", "转人工").await;
    assert_eq!(served["state"], "human", "mei is online: {served}");
    let served = served["conversation_id"].as_u64().unwrap();
    let bot = buyer_says(&app, &token, "bj1", "北京", "发什么快递").await;
    assert_eq!(bot["state"], "bot");
    let bot = bot["conversation_id"].as_u64().unwrap();

    // The monitor: queues per group, agents with their load, every open conversation.
    let res = call_service(&app, get("/desk/monitor", Some(&lead)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(
        html.contains("华南组") && html.contains("1/10"),
        "mei serves one of 10"
    );
    assert!(html.contains("gd1的昵称") && html.contains("bj1的昵称"));
    for (query, shows, hides) in [
        ("state=bot", "bj1的昵称", "gd1的昵称"),
        ("region=%E5%B9%BF%E4%B8%9C", "gd1的昵称", "bj1的昵称"),
        ("group=none", "bj1的昵称", "gd1的昵称"),
    ] {
        let html = text(
            call_service(
                &app,
                get(&format!("/desk/monitor/board?{query}"), Some(&lead)).to_request(),
            )
            .await,
        )
        .await;
        assert!(html.contains(shows) && !html.contains(hides), "{query}");
    }
    // Agents have no monitor.
    let res = call_service(&app, get("/desk/monitor", Some(&mei)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Barge in (强插) on mei's buyer: the buyer gets the supervisor's message.
    let page = format!("/desk/c/{served}");
    let html = text(call_service(&app, get(&page, Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("强插")
            && html.contains("接管")
            && html.contains("强拆")
            && html.contains("改派给")
    );
    let res = call_service(
        &app,
        post(
            &format!("{page}/send"),
            Some(&lead),
            &[("_csrf", &lead.csrf), ("text", "我是主管，马上为您处理")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let msgs = json(call_service(&app, conv_messages(&token, served).to_request()).await).await;
    let last = msgs["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["text"].as_str(), last["agent"].as_str()),
        (Some("我是主管，马上为您处理"), Some("lead"))
    );

    // An agent cannot take over; the supervisor can, and then serves the buyer.
    let res = call_service(
        &app,
        post(
            &format!("{page}/takeover"),
            Some(&mei),
            &[("_csrf", &mei.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = call_service(
        &app,
        post(
            &format!("{page}/takeover"),
            Some(&lead),
            &[("_csrf", &lead.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, get("/desk", Some(&lead)).to_request()).await).await;
    assert!(html.contains("我的会话 <span class=\"count\">1</span>"));
    let html = text(call_service(&app, get(&page, Some(&lead)).to_request()).await).await;
    assert!(html.contains("lead 接管"), "the reason says who took over");
    let res = call_service(
        &app,
        post(
            &format!("{page}/takeover"),
            Some(&lead),
            &[("_csrf", &lead.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "already theirs");

    // Force close (强拆) a conversation the bot is serving.
    let res = call_service(
        &app,
        post(
            &format!("/desk/c/{bot}/close"),
            Some(&lead),
            &[("_csrf", &lead.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let msgs = json(call_service(&app, conv_messages(&token, bot).to_request()).await).await;
    assert_eq!(msgs["state"], "closed");
    // The conversation page says who ended it.
    let view = format!("/conversations/{bot}");
    let html = text(call_service(&app, get(&view, Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("结束于") && html.contains("lead 结束会话"),
        "{html}"
    );
}

fn conv_of(shop: &TestShop, id: u64) -> xiaoer::model::Conversation {
    use xiaoer::store::prelude::*;
    let r = shop.state.desk.store().read().unwrap();
    r.get_conv(xiaoer::model::ConvId(id)).unwrap().unwrap()
}

/// 主动联系: after a conversation ends, the agent writes to the buyer first, in a new
/// conversation they serve; the buyer's answer lands there; the buyer is invited to
/// rate only once they have answered.
#[actix_web::test]
async fn an_agent_contacts_a_buyer_after_the_conversation_ended() {
    let shop = shop().await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let mei = shop.session("mei").await;
    let r = buyer_says(&app, &token, "b1", "", "转人工").await;
    let old = r["conversation_id"].as_u64().unwrap();
    let act = |sess: &Sess, conv: u64, path: &str, text: &str| {
        let mut form = vec![("_csrf", sess.csrf.clone())];
        if !text.is_empty() {
            form.push(("text", text.to_string()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(&format!("/desk/c/{conv}/{path}"), Some(sess), &pairs).to_request()
    };
    for (path, text) in [("take", ""), ("send", "亲，在的"), ("close", "")] {
        let res = call_service(&app, act(&mei, old, path, text)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
    }
    let page = text(
        call_service(
            &app,
            get(&format!("/desk/c/{old}"), Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        page.contains(&format!("action=\"/desk/c/{old}/contact\"")),
        "{page}"
    );

    // Bad input changes nothing: empty text, a conversation mei may not see.
    let before = shop.snapshot();
    let res = call_service(&app, act(&mei, old, "contact", "")).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = call_service(&app, act(&mei, 999, "contact", "在吗")).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(shop.snapshot(), before);

    let res = call_service(&app, act(&mei, old, "contact", "亲，您的订单已经补发了")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let new: u64 = location(&res)
        .trim_start_matches("/desk/c/")
        .parse()
        .unwrap();
    assert_ne!(new, old);
    let c = conv_of(&shop, new);
    assert_eq!(c.state, xiaoer::model::ConvState::Human);
    assert_eq!(c.agent, Some(shop.user_id("mei")));
    // The bridge sees mei's message; the buyer's answer lands in that conversation
    // and the bot stays out of it.
    let msgs = json(call_service(&app, conv_messages(&token, new).to_request()).await).await;
    let said: Vec<&str> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        said,
        ["亲，您的订单已经补发了"],
        "no notice of a hand-over the buyer never asked for"
    );
    let r = buyer_says(&app, &token, "b1", "", "好的收到").await;
    assert_eq!(r["conversation_id"].as_u64(), Some(new));
    assert_eq!(r["state"], "human");
    assert!(r["replies"].as_array().unwrap().is_empty(), "{r}");
    // While it is open, contacting again refuses another agent and goes on for mei.
    let res = call_service(&app, act(&mei, old, "contact", "还有别的问题吗")).await;
    assert_eq!(location(&res), format!("/desk/c/{new}"));
    let lead = shop.session("lead").await;
    let before = shop.snapshot();
    let res = call_service(&app, act(&lead, old, "contact", "您好")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(shop.snapshot(), before);

    // Closed after the buyer answered: invited. Contacted again and never answered:
    // not invited.
    call_service(&app, act(&mei, new, "close", "")).await;
    assert!(conv_of(&shop, new).invited_at.is_some());
    let res = call_service(&app, act(&mei, new, "contact", "亲，赠品也寄出了")).await;
    let quiet: u64 = location(&res)
        .trim_start_matches("/desk/c/")
        .parse()
        .unwrap();
    call_service(&app, act(&mei, quiet, "close", "")).await;
    let c = conv_of(&shop, quiet);
    assert_eq!(c.state, xiaoer::model::ConvState::Closed);
    assert!(c.invited_at.is_none(), "the buyer never answered");
}
