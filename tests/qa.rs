//! 质检 through the real app: a red line an agent writes is recorded and alerts
//! supervisors live (not the agent, not the buyer); a closed conversation is inspected;
//! the findings page filters by rule and agent; red-line words are editable; agents
//! cannot see any of it; bad input changes nothing.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::call_service;
use common::*;
use std::time::Duration;
use xiaoer::model::{QaRule, Role};

#[actix_web::test]
async fn red_lines_alert_supervisors_live_and_closed_conversations_are_inspected() {
    let clock = staffed_clock();
    let staff = [("lead", Role::Supervisor), ("mei", Role::Agent)];
    let shop = TestShop::with_team(clock.clone(), &staff).await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let lead = shop.session("lead").await;
    let mei = shop.session("mei").await;

    let r = buyer_says(&app, &token, "b1", "", "转人工").await;
    let conv = r["conversation_id"].as_u64().unwrap();
    call_service(
        &app,
        post(
            &format!("/desk/c/{conv}/take"),
            Some(&mei),
            &[("_csrf", &mei.csrf)],
        )
        .to_request(),
    )
    .await;
    let mut lead_stream =
        Sse::new(call_service(&app, get("/desk/events", Some(&lead)).to_request()).await);
    let mut mei_stream =
        Sse::new(call_service(&app, get("/desk/events", Some(&mei)).to_request()).await);

    // 40 s after the hand-over, mei writes a red line.
    clock.advance(chrono::Duration::seconds(40));
    let send = post(
        &format!("/desk/c/{conv}/send"),
        Some(&mei),
        &[("_csrf", &mei.csrf), ("text", "有事加我ＶＸ聊")],
    );
    assert_eq!(
        call_service(&app, send.to_request()).await.status(),
        StatusCode::SEE_OTHER
    );
    let mut alert = None;
    while let Some((_, name, data)) = lead_stream.next(Duration::from_secs(2)).await {
        if name == "alert" {
            alert = Some(data);
            break;
        }
    }
    let alert = alert.expect("the supervisor is alerted");
    assert_eq!(alert["conv"], conv);
    assert!(
        alert["detail"].as_str().unwrap().contains("加微信")
            || alert["detail"].as_str().unwrap().contains("vx"),
        "{alert}"
    );
    while let Some((_, name, _)) = mei_stream.next(Duration::from_millis(300)).await {
        assert_ne!(name, "alert", "agents are not alerted about themselves");
    }
    let findings = shop.state.desk.findings(None, Some("mei"), 10).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, QaRule::RedLine);
    // A supervisor opening the monitor later still sees the day's alert.
    let html = text(call_service(&app, get("/desk/monitor", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("<section class=\"card alerts\" id=\"alerts\" aria-live")
            && html.contains("mei：使用了红线词"),
        "{html}"
    );

    // At close the whole conversation is inspected (by the task the server runs): the
    // red line again, and the slow first answer (40 s).
    let inspector = actix_web::rt::spawn(
        shop.state
            .desk
            .clone()
            .inspect_closes(shop.state.desk.bus().subscribe_closes()),
    );
    let close = post(
        &format!("/desk/c/{conv}/close"),
        Some(&mei),
        &[("_csrf", &mei.csrf)],
    );
    call_service(&app, close.to_request()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let rules = loop {
        let findings = shop.state.desk.findings(None, None, 10).unwrap();
        let rules: Vec<QaRule> = findings.iter().map(|f| f.rule).collect();
        if rules.contains(&QaRule::SlowFirst) || std::time::Instant::now() > deadline {
            break rules;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    inspector.abort();
    assert!(
        rules.contains(&QaRule::RedLine) && rules.contains(&QaRule::SlowFirst),
        "{rules:?}"
    );

    // The page, filtered; the transcript shows the findings to supervisors.
    let html =
        text(call_service(&app, get("/qa?rule=slow_first", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("人工首次响应超过30秒") && html.contains("转人工后 40 秒才首次回复"),
        "{html}"
    );
    assert!(!html.contains("使用了红线词"), "filtered by rule");
    // Agents are filtered by login name and shown by nickname.
    let mei_id = shop.user_id("mei");
    shop.state
        .desk
        .change_user(
            &xiaoer::desk::Actor::cli(),
            mei_id,
            xiaoer::desk::users::UserChange::Nickname("小美".into()),
        )
        .await
        .unwrap();
    let html = text(call_service(&app, get("/qa", Some(&lead)).to_request()).await).await;
    assert!(html.contains("使用了红线词") && html.contains("<td>小美</td>"));
    assert!(
        html.contains("<td><a href=\"/qa?agent=mei\">小美</a></td><td>1</td>"),
        "{html}"
    );
    let html = text(
        call_service(
            &app,
            get(&format!("/conversations/{conv}"), Some(&lead)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        html.contains("质检发现") && html.contains("（小美）"),
        "{html}"
    );
    assert!(
        html.contains("渠道 千牛"),
        "the channel by its name: {html}"
    );
    let html = text(
        call_service(
            &app,
            get(&format!("/conversations/{conv}"), Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(!html.contains("质检发现"), "agents do not see findings");
}

#[actix_web::test]
async fn red_line_words_are_editable_by_supervisors_only() {
    let staff = [("lead", Role::Supervisor), ("mei", Role::Agent)];
    let shop = TestShop::with_team(staffed_clock(), &staff).await;
    let app = app(&shop).await;
    let lead = shop.session("lead").await;
    let mei = shop.session("mei").await;
    let save = |s: &Sess, words: &str| {
        post(
            "/qa/red-lines",
            Some(s),
            &[("_csrf", s.csrf.as_str()), ("red_lines", words)],
        )
        .to_request()
    };
    let before = shop.snapshot();
    assert_eq!(
        call_service(&app, get("/qa", Some(&mei)).to_request())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_service(&app, save(&mei, "差评")).await.status(),
        StatusCode::FORBIDDEN
    );
    let long = "字".repeat(21);
    assert_eq!(
        call_service(&app, save(&lead, &long)).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call_service(&app, get("/qa?rule=nope", Some(&lead)).to_request())
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(shop.snapshot(), before);

    let res = call_service(&app, save(&lead, "差评\n\n 威胁 \n")).await;
    assert_eq!(location(&res), "/qa?done=saved");
    assert_eq!(
        shop.state.desk.qa_settings().unwrap().red_lines,
        vec!["差评", "威胁"]
    );
}

#[actix_web::test]
async fn drawn_conversations_are_scored_and_good_ones_become_examples() {
    let staff = [
        ("lead", Role::Supervisor),
        ("mei", Role::Agent),
        ("tao", Role::Agent),
    ];
    let shop = TestShop::with_team(staffed_clock(), &staff).await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let lead = shop.session("lead").await;
    let mei = shop.session("mei").await;
    let tao = shop.session("tao").await;
    let r = buyer_says(&app, &token, "b1", "", "转人工").await;
    let conv = r["conversation_id"].as_u64().unwrap();
    // mei takes the buyer and passes them to tao, who finishes: the sample is tao's,
    // as the buyer's rating would be.
    let to_tao = format!("agent:{}", shop.user_id("tao").0);
    let steps = [
        (&mei, "take", "", ""),
        (&mei, "send", "text", "亲，马上为您处理"),
        (&mei, "transfer", "to", to_tao.as_str()),
        (&tao, "send", "text", "亲，已为您处理好了"),
        (&tao, "close", "", ""),
    ];
    for (i, (who, path, field, text)) in steps.into_iter().enumerate() {
        if i == 2 {
            go_online(&app, &tao).await;
        }
        let mut form = vec![("_csrf", who.csrf.as_str())];
        if !field.is_empty() {
            form.push((field, text));
        }
        let res = call_service(
            &app,
            post(&format!("/desk/c/{conv}/{path}"), Some(who), &form).to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
    }
    // A conversation still open, or with no agent, is not drawn.
    buyer_says(&app, &token, "b2", "", "包邮吗").await;
    let res = call_service(
        &app,
        post(
            "/qa/samples/draw",
            Some(&lead),
            &[("_csrf", &lead.csrf), ("day", "2026-11-23")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/qa/scoring?done=drawn");
    let samples = shop.state.desk.samples().unwrap();
    assert_eq!(samples.len(), 1);
    // Drawing again finds nothing new and says so; a day to come is refused.
    let draw = |day: &str| {
        post(
            "/qa/samples/draw",
            Some(&lead),
            &[("_csrf", lead.csrf.as_str()), ("day", day)],
        )
        .to_request()
    };
    let res = call_service(&app, draw("2026-11-23")).await;
    assert_eq!(location(&res), "/qa/scoring?done=drawn_none");
    let res = call_service(&app, draw("2026-12-25")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("只能抽取今天及以前的会话"));
    assert_eq!(shop.state.desk.samples().unwrap().len(), 1);
    assert_eq!(samples[0].agent, "tao");
    let html = text(call_service(&app, get("/qa/scoring", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains(&format!("action=\"/qa/samples/{conv}\"")) && html.contains("待评分（1）"),
        "{html}"
    );

    // Bad scores change nothing: over an item's maximum, missing items.
    let before = shop.snapshot();
    let score = |points: &[&str], example: bool| {
        let mut form: Vec<(String, String)> = vec![("_csrf".into(), lead.csrf.clone())];
        for (i, p) in points.iter().enumerate() {
            form.push((format!("p{i}"), p.to_string()));
        }
        form.push(("note".into(), "态度很好".into()));
        if example {
            form.push(("example".into(), "1".into()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        post(&format!("/qa/samples/{conv}"), Some(&lead), &pairs).to_request()
    };
    assert_eq!(
        call_service(&app, score(&["21", "20", "30", "15", "15"], false))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call_service(&app, score(&["20", "20"], false))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let res = call_service(
        &app,
        post(
            &format!("/qa/samples/{conv}"),
            Some(&mei),
            &[("_csrf", &mei.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(shop.snapshot(), before);

    let res = call_service(&app, score(&["20", "18", "27", "15", "10"], true)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, get("/qa/scoring", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains("<td>tao</td><td>90.0</td><td>1</td>"),
        "{html}"
    );
    assert!(html.contains("90/100"));
    // Scored once: a second score is refused, and the first (an example) stays.
    let before = shop.snapshot();
    let res = call_service(&app, score(&["10", "10", "10", "10", "10"], false)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(text(res).await.contains("不能再次评分"));
    assert_eq!(shop.snapshot(), before);
    let html =
        text(call_service(&app, get("/dashboard/agents", Some(&lead)).to_request()).await).await;
    assert!(html.contains("<td>90.0（1）</td>"), "{html}");

    // 训练场: every agent sees it and may read the example, even one it did not serve.
    let html = text(call_service(&app, get("/qa/examples", Some(&tao)).to_request()).await).await;
    assert!(html.contains(&format!("/conversations/{conv}")) && html.contains("态度很好"));
    let res = call_service(
        &app,
        get(&format!("/conversations/{conv}"), Some(&tao)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The rubric is editable; a bad one changes nothing.
    let rubric = |text: &str| {
        post(
            "/qa/rubric",
            Some(&lead),
            &[
                ("_csrf", lead.csrf.as_str()),
                ("rubric", text),
                ("daily_sample", "10"),
            ],
        )
        .to_request()
    };
    let before = shop.snapshot();
    assert_eq!(
        call_service(&app, rubric("态度")).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call_service(&app, rubric("态度=0")).await.status(),
        StatusCode::BAD_REQUEST
    );
    let res = call_service(&app, rubric("服务态度=20\n服务态度=30")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("评分项“服务态度”重复了"));
    assert_eq!(shop.snapshot(), before);
    assert_eq!(
        call_service(&app, rubric("态度=50\n解决=50"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let s = shop.state.desk.qa_settings().unwrap();
    assert_eq!((s.rubric.len(), s.daily_sample), (2, 10));
}
