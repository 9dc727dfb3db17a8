//! 工单 through the real app: a ticket made from a conversation (prefilled), due after
//! its type's service time, worked through its statuses with comments and a history,
//! overdue ones first and highlighted, the buyer told when it is resolved, the types
//! edited by supervisors, and bad input refused without changing anything.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::call_service;
use chrono::Duration;
use common::*;
use std::sync::Arc;
use xiaoer::model::{ManualClock, Role};

async fn shop(clock: Arc<ManualClock>) -> TestShop {
    let staff = [
        ("lead", Role::Supervisor),
        ("mei", Role::Agent),
        ("ling", Role::Trainer),
    ];
    TestShop::with_team(clock, &staff).await
}

fn clock() -> Arc<ManualClock> {
    staffed_clock()
}

/// The number in a `/tickets/N?…` redirect.
fn ticket_id(location: &str) -> u64 {
    location
        .trim_start_matches("/tickets/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn a_ticket_from_a_conversation_is_worked_through_and_the_buyer_is_told() {
    let clock = clock();
    let shop = shop(clock.clone()).await;
    let app = app(&shop).await;
    let token = api_token(&shop, "qianniu").await;
    let mei = shop.session("mei").await;
    let order = |body: serde_json::Value| {
        api(
            Method::POST,
            "/api/v1/orders",
            Some(&token),
            &body.to_string(),
        )
        .to_request()
    };
    call_service(
        &app,
        order(
            serde_json::json!({"order_id": "TB001", "buyer_id": "b1", "status": "paid",
            "items": [{"name": "纯棉T恤", "qty": 1}], "amount": "59"}),
        ),
    )
    .await;
    let say = |text: &str| {
        let body = serde_json::json!({"channel": "qianniu", "buyer_id": "b1", "text": text});
        api(
            Method::POST,
            "/api/v1/messages",
            Some(&token),
            &body.to_string(),
        )
        .to_request()
    };
    // A newer order: the buyer writes about the older one, by its number.
    call_service(
        &app,
        order(
            serde_json::json!({"order_id": "TB002", "buyer_id": "b1", "status": "paid",
            "items": [{"name": "帽子", "qty": 1}]}),
        ),
    )
    .await;
    call_service(&app, say("转人工")).await;
    let r = json(call_service(&app, say("TB001 地址写错了，要改成杭州市西湖区文三路 1 号")).await)
        .await;
    let conv = r["conversation_id"].as_u64().unwrap();

    // The form is prefilled from the conversation.
    let res = call_service(
        &app,
        get(&format!("/tickets/new?conv={conv}"), Some(&mei)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(
        html.contains("value=\"TB001\""),
        "the order the buyer named, not the newer one: {html}"
    );
    assert!(html.contains("文三路 1 号"), "the buyer's words");
    assert!(html.contains("改地址（2 小时内）"));

    let res = call_service(
        &app,
        post(
            "/tickets",
            Some(&mei),
            &[
                ("_csrf", &mei.csrf),
                ("kind", "1"),
                ("priority", "2"),
                ("conv", &conv.to_string()),
                ("order_id", "TB001"),
                ("description", "买家要改地址：杭州市西湖区文三路 1 号"),
                ("attachments", "https://img.example.com/a.png\n"),
                ("group", ""),
                ("assignee", ""),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = ticket_id(&location(&res));
    let page = format!("/tickets/{id}");
    let html = text(call_service(&app, get(&page, Some(&mei)).to_request()).await).await;
    assert!(
        html.contains("改地址") && html.contains("新建") && html.contains("2026-11-23 12:00"),
        "due in 2 h"
    );
    assert!(html.contains("https://img.example.com/a.png"));
    assert!(
        html.contains("<dt>买家</dt><dd>b1</dd>"),
        "the buyer, by the platform's id"
    );

    // Overdue after 2 h: first in the list, highlighted.
    clock.advance(Duration::hours(3));
    let html = text(call_service(&app, get("/tickets", Some(&mei)).to_request()).await).await;
    assert!(html.contains("1 个工单已超过处理时限") && html.contains("已超时"));
    let html = text(
        call_service(
            &app,
            get("/tickets?overdue=1&status=open", Some(&mei)).to_request(),
        )
        .await,
    )
    .await;
    assert!(html.contains(&format!("#{id}")));
    // A filter no link makes says so rather than showing an empty list.
    for bad in ["status=xyz", "kind=abc", "assignee=bob"] {
        let res = call_service(
            &app,
            get(&format!("/tickets?{bad}"), Some(&mei)).to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(text(res).await.contains("选择有误"), "{bad}");
    }

    // The buyer has since started a new conversation: the follow-up goes there, where
    // they are, not into the closed one.
    go_online(&app, &mei).await;
    let res = call_service(
        &app,
        post(
            &format!("/desk/c/{conv}/close"),
            Some(&mei),
            &[("_csrf", &mei.csrf)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = json(call_service(&app, say("还有个问题，运费谁出")).await).await;
    let latest = r["conversation_id"].as_u64().unwrap();
    assert_ne!(latest, conv);

    // Work it: 处理中, a comment, then 已解决 sends the buyer the follow-up.
    let update = |s: &Sess, status: &str| {
        post(
            &page,
            Some(s),
            &[
                ("_csrf", &s.csrf),
                ("status", status),
                ("priority", "2"),
                ("group", ""),
                ("assignee", ""),
            ],
        )
        .to_request()
    };
    assert_eq!(
        call_service(&app, update(&mei, "processing"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Assigned to mei, the ticket is on her 待办 until it is resolved.
    let todo = "指派给我、尚未解决的工单</a> <strong class=\"badge";
    let home = text(call_service(&app, get("/", Some(&mei)).to_request()).await).await;
    assert!(home.contains(&format!("{todo}\">0</strong>")), "{home}");
    let mei_id = shop.user_id("mei").0.to_string();
    let res = call_service(
        &app,
        post(
            &page,
            Some(&mei),
            &[
                ("_csrf", &mei.csrf),
                ("status", "processing"),
                ("priority", "2"),
                ("group", ""),
                ("assignee", &mei_id),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let home = text(call_service(&app, get("/", Some(&mei)).to_request()).await).await;
    assert!(
        home.contains(&format!("{todo} warn\">1</strong>")),
        "{home}"
    );
    let res = call_service(
        &app,
        post(
            &format!("{page}/comments"),
            Some(&mei),
            &[("_csrf", &mei.csrf), ("text", "已联系仓库改单")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        call_service(&app, update(&mei, "resolved")).await.status(),
        StatusCode::SEE_OTHER
    );
    let msgs = json(call_service(&app, conv_messages(&token, latest).to_request()).await).await;
    let last = msgs["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from"], "bot");
    assert!(
        last["text"]
            .as_str()
            .unwrap()
            .contains(&format!("工单 {id}")),
        "{last}"
    );

    let html = text(call_service(&app, get(&page, Some(&mei)).to_request()).await).await;
    assert!(html.contains("已联系仓库改单"));
    for line in [
        "创建工单",
        "状态：新建 → 处理中",
        "状态：处理中 → 已解决",
        "已主动告知买家处理结果",
    ] {
        assert!(html.contains(line), "history: {line}");
    }
    // Reopened and resolved again: the buyer is not told twice.
    call_service(&app, update(&mei, "processing")).await;
    call_service(&app, update(&mei, "resolved")).await;
    let again = json(call_service(&app, conv_messages(&token, latest).to_request()).await).await;
    assert_eq!(
        again["messages"].as_array().unwrap().len(),
        msgs["messages"].as_array().unwrap().len()
    );

    // Closed stays closed.
    assert_eq!(
        call_service(&app, update(&mei, "closed")).await.status(),
        StatusCode::SEE_OTHER
    );
    let before = shop.snapshot();
    let res = call_service(&app, update(&mei, "processing")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(text(res).await.contains("不能改为"));
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn bad_tickets_are_refused_and_types_belong_to_supervisors() {
    let shop = shop(clock()).await;
    let app = app(&shop).await;
    let (mei, lead, ling) = (
        shop.session("mei").await,
        shop.session("lead").await,
        shop.session("ling").await,
    );
    let before = shop.snapshot();
    let long = "长".repeat(2001);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("kind", "1"), ("priority", "1"), ("description", "  ")],
        vec![("kind", "1"), ("priority", "1"), ("description", &long)],
        vec![("kind", "99"), ("priority", "1"), ("description", "x")],
        vec![("kind", ""), ("priority", "1"), ("description", "x")],
        vec![("kind", "1"), ("priority", "9"), ("description", "x")],
        vec![
            ("kind", "1"),
            ("priority", "1"),
            ("description", "x"),
            ("attachments", "javascript:alert(1)"),
        ],
        vec![
            ("kind", "1"),
            ("priority", "1"),
            ("description", "x"),
            ("assignee", "999"),
        ],
        vec![
            ("kind", "1"),
            ("priority", "1"),
            ("description", "x"),
            ("group", "abc"),
        ],
    ];
    for mut pairs in cases {
        pairs.push(("_csrf", &mei.csrf));
        // What a person got wrong comes back as the form, filled in as sent, with the
        // reason beside the field; a tampered form (a group id that is not a number)
        // is a bad request.
        let tampered = pairs.contains(&("group", "abc"));
        pairs.push(("order_id", "T-778899"));
        let res = call_service(&app, post("/tickets", Some(&mei), &pairs).to_request()).await;
        if tampered {
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{pairs:?}");
            continue;
        }
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pairs:?}");
        let html = text(res).await;
        assert!(
            html.contains("工单没有创建") && html.contains("class=\"error\""),
            "{pairs:?}"
        );
        assert!(
            html.contains("value=\"T-778899\""),
            "the form keeps what was typed"
        );
        if pairs.contains(&("attachments", "javascript:alert(1)")) {
            assert!(html.contains(">javascript:alert(1)</textarea>"));
        }
    }
    let res = call_service(
        &app,
        post(
            "/tickets",
            Some(&mei),
            &[
                ("_csrf", &mei.csrf),
                ("kind", "1"),
                ("priority", "1"),
                ("description", "x"),
                ("conv", "999"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = call_service(
        &app,
        post(
            "/tickets/999",
            Some(&mei),
            &[("_csrf", &mei.csrf), ("status", "closed")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = call_service(&app, get("/tickets", Some(&ling)).to_request()).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "trainers have no tickets"
    );
    let res = call_service(&app, get("/tickets/types", Some(&mei)).to_request()).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "agents do not edit types"
    );
    assert_eq!(shop.snapshot(), before, "nothing stored");

    // A supervisor edits a type (the defaults are kept) and adds one.
    let save = |pairs: &[(&str, &str)]| {
        let mut all = vec![("_csrf", lead.csrf.as_str())];
        all.extend_from_slice(pairs);
        post("/tickets/types", Some(&lead), &all).to_request()
    };
    let res = call_service(
        &app,
        save(&[
            ("id", "1"),
            ("name", "改地址"),
            ("sla_hours", "1"),
            ("follow_up", "地址已改好"),
            ("enabled", "1"),
        ]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = call_service(
        &app,
        save(&[
            ("name", "退款跟进"),
            ("sla_hours", "12"),
            ("follow_up", ""),
            ("enabled", "1"),
        ]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html =
        text(call_service(&app, get("/tickets/types", Some(&lead)).to_request()).await).await;
    for name in ["改地址", "赠品登记", "物流异常", "退款跟进"] {
        assert!(html.contains(name), "{name}");
    }
    assert!(html.contains("value=\"1\" min=\"1\""), "改地址 now 1 hour");
    let before = shop.snapshot();
    for pairs in [
        vec![("name", "赠品登记"), ("sla_hours", "5")],
        vec![("name", ""), ("sla_hours", "5")],
        vec![("name", "新类型"), ("sla_hours", "0")],
        vec![("id", "77"), ("name", "新类型"), ("sla_hours", "5")],
    ] {
        let res = call_service(&app, save(&pairs)).await;
        assert!(
            res.status().is_client_error(),
            "{pairs:?}: {}",
            res.status()
        );
    }
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn tickets_are_edited_after_creation_and_filtered_by_assignee_and_group() {
    let shop = shop(clock()).await;
    let app = app(&shop).await;
    let (mei, lead) = (shop.session("mei").await, shop.session("lead").await);
    let users = shop.state.desk.list_users().unwrap();
    let id_of = |name: &str| users.iter().find(|u| u.name == name).unwrap().id.0;
    let mut made = Vec::new();
    for (assignee, text) in [(id_of("mei"), "改地址"), (id_of("lead"), "补发赠品")] {
        let a = assignee.to_string();
        let res = call_service(
            &app,
            post(
                "/tickets",
                Some(&mei),
                &[
                    ("_csrf", mei.csrf.as_str()),
                    ("kind", "1"),
                    ("priority", "1"),
                    ("description", text),
                    ("assignee", &a),
                ],
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        made.push(ticket_id(&location(&res)));
    }

    // Edit what the first says: the history names each change.
    let page = format!("/tickets/{}", made[0]);
    let edit = |pairs: &[(&str, &str)]| {
        let mut all = vec![("_csrf", mei.csrf.as_str())];
        all.extend_from_slice(pairs);
        post(&format!("{page}/details"), Some(&mei), &all).to_request()
    };
    let res = call_service(
        &app,
        edit(&[
            ("description", "买家要改收货地址到杭州"),
            ("order_id", "TB2026"),
            ("attachments", "https://img.example/1.jpg\n"),
        ]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, get(&page, Some(&mei)).to_request()).await).await;
    assert!(html.contains("买家要改收货地址到杭州"), "{html}");
    for what in ["修改了问题描述", "订单号改为TB2026", "附件改为 1 个"] {
        assert!(html.contains(what), "{what}: {html}");
    }
    // Bad edits are refused and change nothing.
    let before = shop.snapshot();
    for pairs in [
        vec![("description", "  ")],
        vec![("description", "x"), ("attachments", "javascript:alert(1)")],
        vec![("description", "x"), ("order_id", &"9".repeat(65))],
    ] {
        // The page comes back with why and with what was typed.
        let res = call_service(&app, edit(&pairs)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pairs:?}");
        let html = text(res).await;
        assert!(
            html.contains("修改没有保存") && html.contains("class=\"error\""),
            "{html}"
        );
        if pairs.contains(&("attachments", "javascript:alert(1)")) {
            assert!(html.contains(">javascript:alert(1)</textarea>"), "{html}");
        }
    }
    assert_eq!(shop.snapshot(), before);

    // Filters: a named assignee, nobody's, a group; a value naming nobody is a 400.
    let list = |q: &str| get(&format!("/tickets?{q}"), Some(&lead)).to_request();
    let lead_id = format!("assignee={}", id_of("lead"));
    let html = text(call_service(&app, list(&lead_id)).await).await;
    assert!(
        html.contains("补发赠品") && !html.contains("买家要改收货地址"),
        "{html}"
    );
    let html = text(call_service(&app, list("assignee=none")).await).await;
    assert!(html.contains("没有符合条件的工单"), "{html}");
    let html = text(call_service(&app, list("group=none")).await).await;
    assert!(html.contains("补发赠品") && html.contains("买家要改收货地址"));
    for q in ["assignee=999", "assignee=x", "group=999"] {
        let res = call_service(&app, list(q)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
    }
}

#[actix_web::test]
async fn a_ticket_goes_to_the_group_its_type_names() {
    let shop = shop(clock()).await;
    shop.add("tao", Role::Agent).await;
    let (mei_id, tao_id) = (shop.user_id("mei"), shop.user_id("tao"));
    regional_groups(
        &shop,
        &[("售前组", "上海", mei_id), ("售后组", "广东", tao_id)],
    )
    .await;
    let groups = shop.state.desk.groups().unwrap();
    let after_sale = groups.iter().find(|g| g.name == "售后组").unwrap().id;
    let app = app(&shop).await;
    let lead = shop.session("lead").await;
    let mei = shop.session("mei").await;
    // 退款退货 is handled by 售后组; a group that does not exist is refused.
    let save = |group: &str| {
        post(
            "/tickets/types",
            Some(&lead),
            &[
                ("_csrf", lead.csrf.as_str()),
                ("id", "6"),
                ("name", "退款退货"),
                ("sla_hours", "24"),
                ("follow_up", ""),
                ("enabled", "1"),
                ("group", group),
            ],
        )
        .to_request()
    };
    let before = shop.snapshot();
    assert!(
        call_service(&app, save("999"))
            .await
            .status()
            .is_client_error()
    );
    assert_eq!(shop.snapshot(), before);
    let res = call_service(&app, save(&after_sale.0.to_string())).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html =
        text(call_service(&app, get("/tickets/types", Some(&lead)).to_request()).await).await;
    assert!(
        html.contains(&format!(
            "<option value=\"{}\" selected>售后组</option>",
            after_sale.0
        )),
        "{html}"
    );

    // A buyer in 上海 is served by 售前组; their refund ticket goes to 售后组.
    let token = api_token(&shop, "qianniu").await;
    let r = buyer_says(&app, &token, "b1", "上海", "转人工").await;
    let conv = r["conversation_id"].as_u64().unwrap();
    let res = call_service(
        &app,
        post(
            "/tickets",
            Some(&mei),
            &[
                ("_csrf", mei.csrf.as_str()),
                ("kind", "6"),
                ("priority", "1"),
                ("conv", &conv.to_string()),
                ("order_id", ""),
                ("description", "买家要退货退款"),
                ("attachments", ""),
                ("group", ""),
                ("assignee", ""),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = ticket_id(&location(&res));
    assert_eq!(shop.state.desk.ticket(id).unwrap().group, Some(after_sale));
}
