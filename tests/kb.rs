//! 知识库 through the real app: the entry list (search, filters, bulk changes), the entry
//! page (saving answers at once, how the bot answers each phrasing, conflicts and
//! duplicates flagged), synonyms and shop words, products, import/export with rejected
//! rows, the training queue (grouped questions, the agent's answer, one-click fixes,
//! 待处理/今日已清), answer marks, hot questions, and who may do what.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::call_service;
use common::*;
use xiaoer::model::Role;

async fn shop() -> TestShop {
    let staff = [("ling", Role::Trainer), ("mei", Role::Agent)];
    TestShop::with_team(staffed_clock(), &staff).await
}

fn enc(s: &str) -> String {
    xiaoer::web::page::url_encode(s)
}

/// The try box's verdict: the entry id it answered with, if any.
async fn tried<S, B>(app: &S, sess: &Sess, question: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let uri = format!("/kb/try?fragment=1&text={}", enc(question));
    let res = call_service(app, get(&uri, Some(sess)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    text(res).await
}

#[actix_web::test]
async fn a_trainer_creates_an_entry_that_answers_at_once_and_sees_conflicts() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let csrf = ling.csrf.clone();

    let html = tried(&app, &ling, "可以刻字吗").await;
    assert!(
        html.contains("未识别") || html.contains("反问引导"),
        "{html}"
    );

    // A new entry, with a phrasing typed twice and one the starter KB already owns.
    let form = [
        ("_csrf", csrf.as_str()),
        ("id", "engrave"),
        ("question", "可以刻字吗"),
        ("similar", "能刻字吗\n能不能定制刻字\n能刻字吗"),
        ("answer", "亲，支持免费刻字，下单时备注内容即可"),
        ("category", "售前"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
    ];
    let res = call_service(&app, post("/kb/new", Some(&ling), &form).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    assert!(to.starts_with("/kb/e/engrave?done=saved&merged="), "{to}");
    let html = text(call_service(&app, get(&to, Some(&ling)).to_request()).await).await;
    assert!(html.contains("“能刻字吗”重复填写，已合并为一条"), "{html}");
    let html = tried(&app, &ling, "能刻字吗").await;
    assert!(
        html.contains("/kb/e/engrave") && html.contains("直接回答"),
        "{html}"
    );
    assert!(html.contains("<dt>途径</dt><dd>智能匹配</dd>"), "{html}");

    // The same id again is refused and changes nothing.
    let before = shop.snapshot();
    let res = call_service(&app, post("/kb/new", Some(&ling), &form).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("已被其他问题使用"));
    assert_eq!(shop.snapshot(), before);

    // Saving from the entry page: duplicates are merged and said so; a phrasing that
    // belongs to another entry is flagged with a link to it, and the page shows how the
    // bot answers each phrasing now.
    let edit = [
        ("_csrf", csrf.as_str()),
        ("question", "可以刻字吗"),
        ("similar", "能刻字吗\n能刻字吗\n包邮吗\n能刻字吗"),
        ("answer", "亲，支持免费刻字"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
    ];
    let res = call_service(&app, post("/kb/e/engrave", Some(&ling), &edit).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert_eq!(
        html.matches("“能刻字吗”重复填写，已合并为一条").count(),
        1,
        "typed three times, said once: {html}"
    );
    assert!(
        html.contains("与 <a href=\"/kb/e/ship-free\">"),
        "owner flagged"
    );
    assert!(
        html.contains("机器人现在怎么回答") && html.contains("冲突"),
        "{html}"
    );
    // A phrasing a built-in intent takes says so, not that another entry took it.
    let thanks = [
        ("_csrf", csrf.as_str()),
        ("id", "thanks-gift"),
        ("question", "好评有礼品吗"),
        ("similar", "谢谢"),
        ("answer", "亲，好评返 5 元红包哦"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
    ];
    call_service(&app, post("/kb/new", Some(&ling), &thanks).to_request()).await;
    let res = call_service(&app, get("/kb/e/thanks-gift", Some(&ling)).to_request()).await;
    let html = text(res).await;
    assert!(
        html.contains("内置意图：致谢好评")
            && html.contains("被内置意图“致谢好评”接管，知识库不会回答"),
        "{html}"
    );

    // Bad input: no answer, a bad time, a bad product answer line.
    let before = shop.snapshot();
    let bad = [
        ("_csrf", csrf.as_str()),
        ("question", "可以刻字吗"),
        ("answer", ""),
        ("valid_until", "明天"),
        ("product_answers", "没有等号"),
        ("match_mode", "intelligent"),
    ];
    let res = call_service(&app, post("/kb/e/engrave", Some(&ling), &bad).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(
        html.contains("请填写答案") && html.contains("格式应为") && html.contains("商品编码=答案")
    );
    assert_eq!(shop.snapshot(), before);
    // A variable nothing fills would leave a gap in the buyer's answer: refused, with
    // the variables that exist, which the page's hint lists too.
    let typo = [
        ("_csrf", csrf.as_str()),
        ("question", "可以刻字吗"),
        ("answer", "亲，{{店名}}支持免费刻字"),
        ("match_mode", "intelligent"),
    ];
    let res = call_service(&app, post("/kb/e/engrave", Some(&ling), &typo).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("没有变量 {{店名}}"), "{html}");
    assert_eq!(shop.snapshot(), before);
    let hint = html.split("可用变量：").nth(1).unwrap_or_default();
    for name in xiaoer::model::ShopSettings::variable_names() {
        assert!(
            hint.contains(&format!("{{{{{name}}}}}")),
            "{name} in the hint"
        );
    }

    // An entry whose validity period has not begun answers nobody yet: that is said,
    // not reported as conflicts, and the list shows it as 未生效.
    let later = [
        ("_csrf", csrf.as_str()),
        ("id", "promo-1212"),
        ("question", "双12有什么活动"),
        ("similar", "双十二有优惠吗"),
        ("answer", "双12全场满200减30"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
        ("valid_from", "2026-12-10 00:00"),
    ];
    let res = call_service(&app, post("/kb/new", Some(&ling), &later).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let html =
        text(call_service(&app, get("/kb/e/promo-1212", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("本条还未生效（2026-12-10 00:00 起）") && !html.contains("个冲突"),
        "{html}"
    );
    let list =
        text(call_service(&app, get("/kb?status=pending", Some(&ling)).to_request()).await).await;
    assert!(
        list.contains("/kb/e/promo-1212") && list.contains(">未生效</span>"),
        "{list}"
    );
    let on =
        text(call_service(&app, get("/kb?status=expired", Some(&ling)).to_request()).await).await;
    assert!(!on.contains("/kb/e/promo-1212"));

    // Deleting stops the answers.
    let res = call_service(
        &app,
        post("/kb/e/engrave/delete", Some(&ling), &[("_csrf", &csrf)]).to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb?done=deleted");
    assert!(
        !tried(&app, &ling, "能刻字吗")
            .await
            .contains("/kb/e/engrave")
    );
}

#[actix_web::test]
async fn an_entry_shows_the_industry_phrasings_it_borrows_and_can_stop_borrowing() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let csrf = ling.csrf.clone();
    // The seller's own short knowledge base replaces the starter one.
    let kb = [
        ("kd", "你们发什么快递？"),
        ("yf", "包邮吗？"),
        ("fp", "可以开发票吗？"),
        ("bx", "保修多久？"),
        ("tf", "退货运费谁出？"),
    ]
    .iter()
    .map(|(id, q)| format!("{{\"id\":\"{id}\",\"question\":\"{q}\",\"answer\":\"{id} 的答案\"}}\n"))
    .collect::<String>();
    let res = call_service(
        &app,
        upload("/kb/import?format=jsonl&mode=replace", &ling, &csrf, &kb),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let buyer = "拍了之后想知道寄的是圆通还是中通呀";
    let html = tried(&app, &ling, buyer).await;
    assert!(
        html.contains("/kb/e/kd") && html.contains("直接回答") && html.contains("行业通用问法"),
        "{html}"
    );

    // The entry page lists the borrowed phrasings with how the bot answers each, and
    // where they come from; the switch is on.
    let html = text(call_service(&app, get("/kb/e/kd", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("<td class=\"nowrap\">行业问法</td>"),
        "{html}"
    );
    assert!(html.contains("借自内置通用知识库的“"), "{html}");
    assert!(html.contains("全部命中本条"), "{html}");
    assert!(
        html.contains("name=\"industry\" value=\"1\" checked"),
        "{html}"
    );

    // Saved with the switch off: nothing borrowed, the buyer's phrasing no longer
    // answers with it, and the export says so.
    let form = [
        ("_csrf", csrf.as_str()),
        ("question", "你们发什么快递？"),
        ("answer", "kd 的答案"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
    ];
    let res = call_service(&app, post("/kb/e/kd", Some(&ling), &form).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(
        !html.contains(">行业问法<") && !html.contains("借自内置通用知识库"),
        "{html}"
    );
    assert!(
        !html.contains("name=\"industry\" value=\"1\" checked"),
        "{html}"
    );
    assert!(!tried(&app, &ling, buyer).await.contains("/kb/e/kd\""));
    let res = call_service(&app, get("/kb/export?format=csv", Some(&ling)).to_request()).await;
    let body = actix_web::test::read_body(res).await;
    let tz = chrono_tz::Asia::Shanghai;
    let back = xiaoer::bot::kbfile::read(&body[..], xiaoer::bot::kbfile::Format::Csv, tz).unwrap();
    let off: Vec<&str> = back
        .iter()
        .filter(|e| !e.industry)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(off, ["kd"]);

    // Switched on again: borrowed again.
    let mut on = form.to_vec();
    on.push(("industry", "1"));
    let res = call_service(&app, post("/kb/e/kd", Some(&ling), &on).to_request()).await;
    assert!(text(res).await.contains("借自内置通用知识库"));
    assert!(tried(&app, &ling, buyer).await.contains("/kb/e/kd"));
}

#[actix_web::test]
async fn the_list_searches_filters_and_changes_entries_in_bulk() {
    let shop = shop().await;
    let app = app(&shop).await;
    let boss = shop.session("boss").await;
    let list = |q: &str| get(&format!("/kb?{q}"), Some(&boss)).to_request();

    let html = text(call_service(&app, list(&format!("q={}", enc("包邮")))).await).await;
    assert!(html.contains("/kb/e/ship-free"), "substring search");
    assert!(!html.contains("/kb/e/inv-can\""), "{html}");
    let html = text(call_service(&app, list(&format!("category={}", enc("物流")))).await).await;
    assert!(html.contains("/kb/e/ship-free") && !html.contains("/kb/e/inv-can\""));

    // Answers are counted per day: the buyer's question shows in 近7天.
    let token = api_token(&shop, "qianniu").await;
    let r = buyer_says(&app, &token, "b1", "", "包邮吗").await;
    assert_eq!(r["state"], "bot");
    let html = text(call_service(&app, list("sort=week")).await).await;
    let first = html.find("/kb/e/").unwrap();
    assert!(
        html[first..].starts_with("/kb/e/ship-free"),
        "most answered first"
    );

    // Bulk off, then the bot no longer answers; move to another category.
    let pairs = [
        ("_csrf", boss.csrf.as_str()),
        ("ids", "ship-free"),
        ("ids", "inv-can"),
        ("action", "off"),
        ("back", "?status="),
    ];
    let res = call_service(&app, post("/kb/bulk", Some(&boss), &pairs).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let html = text(call_service(&app, list("status=off")).await).await;
    assert!(html.contains("/kb/e/ship-free") && html.contains("/kb/e/inv-can"));
    assert!(
        !tried(&app, &boss, "包邮吗")
            .await
            .contains("/kb/e/ship-free\"")
    );
    let pairs = [
        ("_csrf", boss.csrf.as_str()),
        ("ids", "inv-can"),
        ("action", "move"),
        ("category", "发票"),
    ];
    call_service(&app, post("/kb/bulk", Some(&boss), &pairs).to_request()).await;
    let html = text(call_service(&app, list(&format!("category={}", enc("发票")))).await).await;
    assert!(html.contains("/kb/e/inv-can"));

    // Bad bulk input changes nothing.
    let before = shop.snapshot();
    for bad in [
        vec![("_csrf", boss.csrf.as_str()), ("action", "on")],
        vec![
            ("_csrf", boss.csrf.as_str()),
            ("ids", "inv-can"),
            ("action", "move"),
        ],
        vec![
            ("_csrf", boss.csrf.as_str()),
            ("ids", "nope"),
            ("action", "on"),
        ],
        vec![("ids", "inv-can"), ("action", "on")],
    ] {
        let res = call_service(&app, post("/kb/bulk", Some(&boss), &bad).to_request()).await;
        assert!(res.status().is_client_error(), "{bad:?}: {}", res.status());
    }
    assert_eq!(shop.snapshot(), before);
    // A move without a 板块 shows the list again, saying why, with the rows still ticked.
    let res = call_service(
        &app,
        post(
            "/kb/bulk",
            Some(&boss),
            &[
                ("_csrf", boss.csrf.as_str()),
                ("ids", "inv-can"),
                ("ids", "inv-when"),
                ("action", "move"),
                ("category", ""),
                ("back", "?category=%E5%8F%91%E7%A5%A8"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("请填写要移到的板块"), "{html}");
    assert!(
        html.contains("value=\"inv-can\" aria-label=\"选择 inv-can\" checked")
            && html.contains("value=\"inv-when\" aria-label=\"选择 inv-when\" checked")
            && !html.contains("value=\"inv-amount\" aria-label=\"选择 inv-amount\" checked"),
        "{html}"
    );
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn agents_cannot_edit_the_kb() {
    let shop = shop().await;
    let app = app(&shop).await;
    let mei = shop.session("mei").await;
    let before = shop.snapshot();
    for path in [
        "/kb",
        "/kb/training",
        "/kb/e/ship-free",
        "/kb/products",
        "/kb/export",
    ] {
        let res = call_service(&app, get(path, Some(&mei)).to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let form = [
        ("_csrf", mei.csrf.as_str()),
        ("question", "x"),
        ("answer", "y"),
    ];
    let res = call_service(
        &app,
        post("/kb/e/ship-free", Some(&mei), &form).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = call_service(&app, upload("/kb/import", &mei, &mei.csrf, "{}")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(shop.snapshot(), before);
    // The menu shows 知识库 to trainers only.
    let html = text(call_service(&app, get("/desk", Some(&mei)).to_request()).await).await;
    assert!(!html.contains("href=\"/kb\""));
    let ling = shop.session("ling").await;
    let html = text(call_service(&app, get("/kb", Some(&ling)).to_request()).await).await;
    assert!(html.contains("href=\"/kb\""));
}

#[actix_web::test]
async fn imports_report_every_bad_row_and_store_nothing_or_everything() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;

    // A cell that cannot be read (line 2) hides none of the other rows' problems.
    let bad = "id,question,answer,match_mode\nok1,能开专票吗,可以,fuzzy\n,没有编号,答案,\nok2,,没有问题,\n";
    let before = shop.snapshot();
    let res = call_service(
        &app,
        upload("/kb/import?format=csv", &ling, &ling.csrf, bad),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = json(res).await;
    assert_eq!(rejected_lines(&r), vec![2, 3, 4], "{r}");
    assert_eq!(shop.snapshot(), before, "nothing half-imported");

    // A line that is not JSON hides no other problem, nor does a follow-up naming an
    // entry that exists neither in the file nor in the shop (line 4): all at once.
    let mixed = "{\"id\":\"m1\",\"question\":\"能开专票吗\",\"answer\":\"可以\"}\nnot json\n{\"id\":\"m2\",\"question\":\"\",\"answer\":\"x\"}\n{\"id\":\"m3\",\"question\":\"几天到\",\"answer\":\"三天\",\"follow_ups\":[\"nope-id\"]}\n";
    let res = call_service(
        &app,
        upload("/kb/import?format=jsonl", &ling, &ling.csrf, mixed),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = json(res).await;
    assert_eq!(rejected_lines(&r), vec![2, 3, 4], "{r}");
    let fixed = mixed
        .replace("not json\n", "")
        .replace("\"question\":\"\"", "\"question\":\"q\"");
    let res = call_service(
        &app,
        upload("/kb/import?format=jsonl", &ling, &ling.csrf, &fixed),
    )
    .await;
    let r = json(res).await;
    assert_eq!(rejected_lines(&r), vec![3], "{r}");
    assert!(r.to_string().contains("nope-id"), "{r}");
    assert_eq!(shop.snapshot(), before, "nothing half-imported");

    // Without the CSRF header: refused.
    let res = call_service(&app, upload("/kb/import?format=csv", &ling, "", bad)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(shop.snapshot(), before);

    let good = "{\"id\": 901, \"question\": \"能开专票吗\", \"similar\": [\"可以开增值税专用发票吗\"], \"answer\": \"可以开专票\"}\n";
    let res = call_service(
        &app,
        upload(
            "/kb/import?format=jsonl&mode=merge",
            &ling,
            &ling.csrf,
            good,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r = json(res).await;
    assert_eq!(r["done"]["added"], 1, "{r}");
    assert!(
        tried(&app, &ling, "可以开增值税专用发票吗")
            .await
            .contains("/kb/e/901")
    );

    // Export: CSV with a BOM that reads back; JSON Lines with the new entry.
    let res = call_service(&app, get("/kb/export?format=csv", Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = actix_web::test::read_body(res).await;
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let tz = chrono_tz::Asia::Shanghai;
    let back = xiaoer::bot::kbfile::read(&body[..], xiaoer::bot::kbfile::Format::Csv, tz).unwrap();
    assert!(back.iter().any(|e| e.id == "901"));
    let res = call_service(
        &app,
        get("/kb/export?format=jsonl", Some(&ling)).to_request(),
    )
    .await;
    assert!(text(res).await.contains("\"id\":\"901\""));
    let res = call_service(&app, get("/kb/export?format=xls", Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn products_are_edited_imported_and_answer_attribute_questions() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let csrf = ling.csrf.as_str();
    let form = [
        ("_csrf", csrf),
        ("sku", "T1"),
        ("name", "云朵拖鞋"),
        ("price", "59.9"),
        ("stock", "0"),
        ("attributes", "重量=200g\n材质=EVA"),
    ];
    let res = call_service(&app, post("/kb/products", Some(&ling), &form).to_request()).await;
    assert_eq!(location(&res), "/kb/products?done=saved");
    // The attributes stay in the order the shop wrote them.
    let page =
        text(call_service(&app, get("/kb/products/T1", Some(&ling)).to_request()).await).await;
    assert!(page.contains("重量=200g\n材质=EVA"), "{page}");
    // Sold out is marked in the list, not shown as a bare 0.
    let list = text(call_service(&app, get("/kb/products", Some(&ling)).to_request()).await).await;
    assert!(list.contains("已售罄"), "{list}");
    let html = tried(&app, &ling, "云朵拖鞋有货吗").await;
    assert!(html.contains("缺货"), "{html}");
    let uri = format!("/kb/try?fragment=1&product=T1&text={}", enc("这个什么材质"));
    let res = call_service(&app, get(&uri, Some(&ling)).to_request()).await;
    assert!(text(res).await.contains("EVA"));

    // Bad input: a taken SKU, a bad price, an unknown related product.
    let before = shop.snapshot();
    let bad = [
        ("_csrf", csrf),
        ("sku", "T1"),
        ("name", "别的"),
        ("price", "五十"),
        ("related", "NOPE"),
    ];
    let res = call_service(&app, post("/kb/products", Some(&ling), &bad).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("已存在") && html.contains("不是价格") && html.contains("NOPE"));
    assert_eq!(shop.snapshot(), before);

    // CSV import (all or nothing) and export.
    let csv = "sku,name,price,related\nT2,云朵袜,19,T1\nT3,,9,\n";
    let res = call_service(&app, upload("/kb/products/import", &ling, csrf, csv)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(shop.snapshot(), before);
    // A related product that is neither stored nor in the file is reported.
    let csv = "sku,name,price,related\nT2,云朵袜,19,T1 NOPE\n";
    let res = call_service(&app, upload("/kb/products/import", &ling, csrf, csv)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("没有这些相关商品：NOPE"));
    assert_eq!(shop.snapshot(), before);
    // Related SKUs one per line or side by side, stored or in the same file.
    let csv = "sku,name,price,related\nT2,云朵袜,19,T1 T4\nT4,船袜,9,\"T1\nT2\"\n";
    let res = call_service(&app, upload("/kb/products/import", &ling, csrf, csv)).await;
    assert_eq!(json(res).await["done"]["products"], 2);
    let res = call_service(&app, get("/kb/products/T2", Some(&ling)).to_request()).await;
    assert!(text(res).await.contains("T1\nT4"));
    let res = call_service(
        &app,
        post("/kb/products/T4/delete", Some(&ling), &[("_csrf", csrf)]).to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/products?done=deleted");
    let res = call_service(&app, get("/kb/products/export", Some(&ling)).to_request()).await;
    let named = res
        .headers()
        .get(actix_web::http::header::CONTENT_DISPOSITION)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(named.contains("xiaoer-products-20261123.csv"), "{named}");
    let body = text(res).await;
    assert!(body.contains("T1") && body.contains("云朵袜"));
    let html = text(
        call_service(
            &app,
            get("/kb/products?q=%E8%A2%9C", Some(&ling)).to_request(),
        )
        .await,
    )
    .await;
    assert!(html.contains("/kb/products/T2") && !html.contains("/kb/products/T1\""));

    let res = call_service(
        &app,
        post("/kb/products/T2/delete", Some(&ling), &[("_csrf", csrf)]).to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/products?done=deleted");
    let res = call_service(&app, get("/kb/products/T2", Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn synonyms_and_shop_words_change_answers_at_once() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let csrf = ling.csrf.as_str();
    let form = [
        ("_csrf", csrf),
        ("id", "brand"),
        ("question", "xr"),
        ("answer", "官方正品"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
    ];
    call_service(&app, post("/kb/new", Some(&ling), &form).to_request()).await;
    assert!(!tried(&app, &ling, "小二牌").await.contains("/kb/e/brand\""));
    let res = call_service(
        &app,
        post(
            "/kb/synonyms",
            Some(&ling),
            &[("_csrf", csrf), ("text", "xr，小二牌")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/synonyms?done=saved");
    assert!(tried(&app, &ling, "小二牌").await.contains("/kb/e/brand\""));
    let html = text(call_service(&app, get("/kb/synonyms", Some(&ling)).to_request()).await).await;
    assert!(html.contains("xr，小二牌"));

    let res = call_service(
        &app,
        post(
            "/kb/words",
            Some(&ling),
            &[("_csrf", csrf), ("text", "云朵拖鞋\n小二牌\n云朵拖鞋")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/words?done=saved");
    assert_eq!(
        shop.state.desk.lexicon().unwrap().words,
        vec!["云朵拖鞋", "小二牌"]
    );

    let before = shop.snapshot();
    let res = call_service(
        &app,
        post(
            "/kb/synonyms",
            Some(&ling),
            &[("_csrf", csrf), ("text", "只有一个词")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(res)
            .await
            .contains("第 1 行“只有一个词”至少要有两个词")
    );
    // A word in two groups would map to one of them only.
    let res = call_service(
        &app,
        post(
            "/kb/synonyms",
            Some(&ling),
            &[
                ("_csrf", csrf),
                ("text", "钻绒，钻毛，跑绒，漏绒\n\n跑绒，掉毛"),
            ],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("“跑绒”同时出现在第 1 行和第 3 行"), "{html}");
    assert!(
        html.contains("跑绒，掉毛</textarea>"),
        "what was typed is kept"
    );
    let res = call_service(
        &app,
        post(
            "/kb/words",
            Some(&ling),
            &[("_csrf", csrf), ("text", "有 空格")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(shop.snapshot(), before);
}

#[actix_web::test]
async fn the_training_queue_groups_questions_and_clears_them_in_one_click() {
    let clock = staffed_clock();
    let staff = [("ling", Role::Trainer), ("mei", Role::Agent)];
    let shop = TestShop::with_team(clock.clone(), &staff).await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let csrf = ling.csrf.as_str();
    let token = api_token(&shop, "qianniu").await;
    let mei = shop.session("mei").await;

    // Two buyers ask the same unknown thing; a third asks something else and gets a
    // human, who answers.
    buyer_says(&app, &token, "b1", "", "可以刻字吗").await;
    buyer_says(&app, &token, "b2", "", "可以刻字吗？").await;
    buyer_says(&app, &token, "b3", "", "支持以旧换新吗").await;
    let r = buyer_says(&app, &token, "b3", "", "转人工").await;
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
    call_service(
        &app,
        post(
            &format!("/desk/c/{conv}/send"),
            Some(&mei),
            &[("_csrf", &mei.csrf), ("text", "亲，暂不支持以旧换新哦")],
        )
        .to_request(),
    )
    .await;

    let page = || get("/kb/training", Some(&ling)).to_request();
    let html = text(call_service(&app, page()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">3</strong> 待处理"),
        "{html}"
    );
    assert!(html.contains("<strong id=\"cleared-count\">0</strong> 今日已清"));
    let first = html.find("train-group").unwrap();
    assert!(html[first..].contains("2 次"), "the biggest group first");
    assert!(
        html.contains("客服当时的回答：<q>亲，暂不支持以旧换新哦</q>"),
        "{html}"
    );
    // Transfers are not training questions: 转人工 is an intent the bot knows.
    assert!(!html.contains("<h2>转人工"));
    // The trainer's home page says what waits; an agent's says who waits.
    let home = text(call_service(&app, get("/", Some(&ling)).to_request()).await).await;
    assert!(
        home.contains("问答训练待处理的问题</a> <strong class=\"badge warn\">3</strong>")
            && !home.contains("排队等待接待的买家"),
        "{home}"
    );
    let home = text(call_service(&app, get("/", Some(&mei)).to_request()).await).await;
    assert!(
        home.contains("我正在接待的会话</a> <strong class=\"badge warn\">1</strong>")
            && !home.contains("问答训练待处理"),
        "{home}"
    );

    // The group's ids, from its data attribute.
    let ids_of = |html: &str, text: &str| -> String {
        let at = html
            .find(&format!("{text} <span class=\"badge\">"))
            .unwrap();
        let section = html[..at].rfind("data-ids=\"").unwrap() + "data-ids=\"".len();
        html[section..].split('"').next().unwrap().to_string()
    };
    let engrave = ids_of(&html, "可以刻字吗？");
    assert_eq!(engrave.split(',').count(), 2);
    // 新建问题 from it: the buyer's words without the stray "？", once.
    let form = text(
        call_service(
            &app,
            get(&format!("/kb/new?from={engrave}"), Some(&ling)).to_request(),
        )
        .await,
    )
    .await;
    assert!(
        form.contains("value=\"可以刻字吗\"") && !form.contains("可以刻字吗？"),
        "{form}"
    );

    // Make an entry from the other one, prefilled with the agent's answer.
    let trade = ids_of(&html, "支持以旧换新吗");
    let res = call_service(
        &app,
        get(&format!("/kb/new?from={trade}"), Some(&ling)).to_request(),
    )
    .await;
    let html = text(res).await;
    assert!(
        html.contains("value=\"支持以旧换新吗\"")
            && html.contains(">亲，暂不支持以旧换新哦</textarea>")
    );
    let form = [
        ("_csrf", csrf),
        ("question", "支持以旧换新吗"),
        ("answer", "亲，暂不支持以旧换新哦"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
        ("train_ids", trade.as_str()),
    ];
    let res = call_service(&app, post("/kb/new", Some(&ling), &form).to_request()).await;
    assert_eq!(
        location(&res),
        "/kb/training?done=saved",
        "{}",
        text(res).await
    );

    // Add the group as phrasings of a new entry in one click.
    let entry = [
        ("_csrf", csrf),
        ("id", "engrave"),
        ("question", "支持定制刻字吗"),
        ("answer", "支持免费刻字"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
    ];
    call_service(&app, post("/kb/new", Some(&ling), &entry).to_request()).await;
    let res = call_service(
        &app,
        post(
            "/kb/training/add",
            Some(&ling),
            &[("_csrf", csrf), ("ids", &engrave), ("entry", "engrave")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/training?done=saved");
    assert!(
        tried(&app, &ling, "可以刻字吗")
            .await
            .contains("/kb/e/engrave\"")
    );
    let html = text(call_service(&app, page()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">0</strong> 待处理"),
        "{html}"
    );
    assert!(html.contains("<strong id=\"cleared-count\">3</strong> 今日已清"));
    assert!(html.contains("已加为相似问法") && html.contains("已新建问题"));
    // 最近处理 names the entry by its question (and the trainer as colleagues see them).
    assert!(
        html.contains(">支持定制刻字吗</a></td><td>ling</td>"),
        "{html}"
    );

    // Settled questions cannot be settled again; bad ids are refused.
    let before = shop.snapshot();
    for (path, ids) in [
        ("/kb/training/ignore", engrave.as_str()),
        ("/kb/training/ignore", "x"),
        ("/kb/training/add", ""),
    ] {
        let res = call_service(
            &app,
            post(
                path,
                Some(&ling),
                &[("_csrf", csrf), ("ids", ids), ("entry", "engrave")],
            )
            .to_request(),
        )
        .await;
        assert!(
            res.status().is_client_error(),
            "{path} {ids}: {}",
            res.status()
        );
    }
    assert_eq!(shop.snapshot(), before);

    // A new unknown question, ignored in one click.
    buyer_says(&app, &token, "b4", "", "你们老板是谁").await;
    let html = text(call_service(&app, page()).await).await;
    let ids = ids_of(&html, "你们老板是谁");
    // An entry id that is not in the KB is named back, and nothing changes.
    let before = shop.snapshot();
    let res = call_service(
        &app,
        post(
            "/kb/training/add",
            Some(&ling),
            &[("_csrf", csrf), ("ids", &ids), ("entry", "no-such-entry")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        text(res)
            .await
            .contains("没有编号或标准问题为「no-such-entry」的问题")
    );
    assert_eq!(shop.snapshot(), before);
    // An entry may be named by its standard question, picked from the page's list.
    assert!(html.contains("<option value=\"支持定制刻字吗\">"), "{html}");
    buyer_says(&app, &token, "b5", "", "笔筒能定制logo吗").await;
    let listed = text(call_service(&app, page()).await).await;
    let more = ids_of(&listed, "笔筒能定制logo吗");
    let res = call_service(
        &app,
        post(
            "/kb/training/add",
            Some(&ling),
            &[("_csrf", csrf), ("ids", &more), ("entry", "支持定制刻字吗")],
        )
        .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/training?done=saved");
    assert!(
        tried(&app, &ling, "笔筒能定制logo吗")
            .await
            .contains("/kb/e/engrave\"")
    );
    clock.advance(chrono::Duration::seconds(30));
    let res = call_service(
        &app,
        post(
            "/kb/training/ignore",
            Some(&ling),
            &[("_csrf", csrf), ("ids", &ids)],
        )
        .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/kb/training?done=ignored");
    let html = text(call_service(&app, page()).await).await;
    assert!(html.contains("<strong id=\"cleared-count\">5</strong> 今日已清"));
    assert!(html.contains("已忽略"));
    // The newest settling is the first row.
    let rows = &html[html.find("最近处理").unwrap_or(0)..];
    let first_row = rows.split("</tr>").nth(1).unwrap_or_default();
    assert!(first_row.contains("已忽略"), "{rows}");
}

#[actix_web::test]
async fn a_call_for_a_human_with_a_question_queues_that_question() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let token = api_token(&shop, "qianniu").await;
    // Answered, then a call for a human that asks something else: the something else
    // goes to the queue, not the answered question.
    buyer_says(&app, &token, "b1", "", "包邮吗").await;
    buyer_says(&app, &token, "b1", "", "我想问问能不能开发票 转人工").await;
    let html = text(call_service(&app, get("/kb/training", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">1</strong> 待处理"),
        "{html}"
    );
    assert!(html.contains("<h2>问问能不能开发票 <span"), "{html}");
    assert!(!html.contains("<h2>包邮吗"), "{html}");
}

#[actix_web::test]
async fn a_question_saved_as_a_phrasing_in_the_editor_leaves_the_training_queue() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let token = api_token(&shop, "qianniu").await;
    buyer_says(&app, &token, "b1", "", "杯子能刻名字吗").await;
    buyer_says(&app, &token, "b2", "", "杯子能刻名字吗？").await;
    buyer_says(&app, &token, "b3", "", "支持以旧换新吗").await;
    let page = || get("/kb/training", Some(&ling)).to_request();
    let html = text(call_service(&app, page()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">3</strong> 待处理"),
        "{html}"
    );

    // The trainer writes the entry in the editor, not from the queue; a disabled entry
    // answers nobody and settles nothing.
    let mut entry = vec![
        ("_csrf", ling.csrf.as_str()),
        ("id", "engrave"),
        ("question", "支持定制刻字吗"),
        ("similar", "杯子能刻名字吗\n可以刻字吗"),
        ("answer", "支持免费刻字"),
        ("match_mode", "intelligent"),
    ];
    let res = call_service(&app, post("/kb/new", Some(&ling), &entry).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = text(call_service(&app, page()).await).await;
    assert!(html.contains("<strong id=\"open-count\">3</strong> 待处理"));
    entry.retain(|(k, _)| *k != "id");
    entry.push(("enabled", "1"));
    let res = call_service(
        &app,
        post("/kb/e/engrave", Some(&ling), &entry).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", text(res).await);
    let html = text(call_service(&app, page()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">1</strong> 待处理"),
        "{html}"
    );
    assert!(html.contains("<strong id=\"cleared-count\">2</strong> 今日已清"));
    assert!(html.contains("支持以旧换新吗"));
    assert!(html.contains("已加为相似问法"));

    // 新建问题 from one queued question, with another queued question among its
    // phrasings: both leave the queue (the other one stayed).
    buyer_says(&app, &token, "b4", "", "羽绒服充绒量多少").await;
    buyer_says(&app, &token, "b5", "", "含绒量是90%吗").await;
    let html = text(call_service(&app, page()).await).await;
    assert!(html.contains("<strong id=\"open-count\">3</strong> 待处理"));
    let from = html
        .split("羽绒服充绒量多少")
        .next()
        .and_then(|h| h.rsplit("data-ids=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert!(!from.is_empty(), "{html}");
    let form = [
        ("_csrf", ling.csrf.as_str()),
        ("question", "羽绒服充绒量多少"),
        ("similar", "含绒量是90%吗"),
        ("answer", "充绒量180克，含绒量90%"),
        ("match_mode", "intelligent"),
        ("enabled", "1"),
        ("train_ids", from.as_str()),
    ];
    let res = call_service(&app, post("/kb/new", Some(&ling), &form).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let html = text(call_service(&app, page()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">1</strong> 待处理"),
        "{html}"
    );

    // An import holding the last one as a phrasing settles it too.
    let file = "{\"id\":\"trade-in\",\"question\":\"以旧换新怎么弄\",\"similar\":[\"支持以旧换新吗\"],\"answer\":\"暂不支持以旧换新\"}\n";
    let res = call_service(
        &app,
        upload("/kb/import?format=jsonl", &ling, &ling.csrf, file),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", text(res).await);
    let html = text(call_service(&app, page()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">0</strong> 待处理"),
        "{html}"
    );
}

#[actix_web::test]
async fn trainers_mark_sampled_bot_answers_and_see_the_accuracy_and_hot_questions() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let token = api_token(&shop, "qianniu").await;
    let r = buyer_says(&app, &token, "b1", "", "包邮吗").await;
    let conv = r["conversation_id"].as_u64().unwrap();
    let bot_seq = r["replies"][0]["id"].as_u64().unwrap();
    let r2 = buyer_says(&app, &token, "b2", "", "包邮吗").await;

    let html = text(call_service(&app, get("/kb/marks", Some(&ling)).to_request()).await).await;
    assert!(html.contains("<strong>—</strong> 机器人准确率"));
    // The answering entry is named by its question, not its id.
    assert!(
        html.contains("命中 <a href=\"/kb/e/ship-free\">包邮吗</a>"),
        "{html}"
    );
    assert!(
        html.contains(&format!("name=\"seq\" value=\"{bot_seq}\"")),
        "{html}"
    );
    let mark = |conv: u64, seq: u64, verdict: &str| {
        post(
            "/kb/marks",
            Some(&ling),
            &[
                ("_csrf", ling.csrf.as_str()),
                ("conv", &conv.to_string()),
                ("seq", &seq.to_string()),
                ("verdict", verdict),
            ],
        )
        .to_request()
    };
    assert_eq!(
        call_service(&app, mark(conv, bot_seq, "right"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let html = text(call_service(&app, get("/kb/marks", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("<strong>100.0%</strong> 机器人准确率"),
        "{html}"
    );
    assert!(
        !html.contains(&format!("name=\"conv\" value=\"{conv}\"")),
        "marked ones leave"
    );
    assert_eq!(shop.state.desk.bot_accuracy().unwrap(), (1, 1));

    // A buyer message is not a bot answer; a made-up verdict is refused.
    let before = shop.snapshot();
    assert_eq!(
        call_service(&app, mark(conv, 1, "wrong")).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        call_service(&app, mark(conv, bot_seq, "maybe"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call_service(&app, mark(999, 1, "wrong")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(shop.snapshot(), before);

    let html = text(call_service(&app, get("/kb/hot", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("/kb/e/ship-free") && html.contains("<td>2</td><td>2</td>"),
        "{html}"
    );

    // An answer marked wrong sends its question to 问答训练, once; marked right again,
    // the question leaves.
    let conv2 = r2["conversation_id"].as_u64().unwrap();
    let seq2 = r2["replies"][0]["id"].as_u64().unwrap();
    let training = || get("/kb/training", Some(&ling)).to_request();
    for _ in 0..2 {
        assert_eq!(
            call_service(&app, mark(conv2, seq2, "wrong"))
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
    }
    let html = text(call_service(&app, training()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">1</strong> 待处理"),
        "{html}"
    );
    assert!(
        html.contains("抽检答错") && html.contains("包邮吗"),
        "{html}"
    );
    // The entry marked wrong is named with a link, and never offered as the fix.
    assert!(
        html.contains("机器人曾用 <a href=\"/kb/e/ship-free\">"),
        "{html}"
    );
    assert!(
        !html.contains("<input type=\"hidden\" name=\"entry\" value=\"ship-free\">"),
        "{html}"
    );
    assert_eq!(shop.state.desk.bot_accuracy().unwrap(), (1, 2));
    call_service(&app, mark(conv2, seq2, "right")).await;
    let html = text(call_service(&app, training()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">0</strong> 待处理"),
        "{html}"
    );
    assert_eq!(shop.state.desk.bot_accuracy().unwrap(), (2, 2));
}

#[actix_web::test]
async fn trainers_read_conversations_they_train_from_but_cannot_act_on_them() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let token = api_token(&shop, "qianniu").await;
    let r = buyer_says(&app, &token, "b1", "", "可以刻字吗").await;
    let conv = r["conversation_id"].as_u64().unwrap();

    // The training queue links to the message; the trainer can read it there.
    let html = text(call_service(&app, get("/kb/training", Some(&ling)).to_request()).await).await;
    let link = format!("/conversations/{conv}#m1");
    assert!(html.contains(&link), "{html}");
    let page = format!("/conversations/{conv}");
    let res = call_service(&app, get(&page, Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains("可以刻字吗") && html.contains("机器人"));
    assert!(
        !html.contains(&format!("/desk/c/{conv}")),
        "no workspace for trainers"
    );
    let res = call_service(
        &app,
        get(&format!("/desk/c/{conv}"), Some(&ling)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Staff get the way into the workspace; unknown conversations are 404; no login
    // goes to the login page.
    let boss = shop.session("boss").await;
    let html = text(call_service(&app, get(&page, Some(&boss)).to_request()).await).await;
    assert!(html.contains(&format!("/desk/c/{conv}")));
    let res = call_service(&app, get("/conversations/999", Some(&ling)).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = call_service(&app, get(&page, None).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn an_answer_followed_by_a_call_for_a_human_goes_to_the_training_queue() {
    let shop = shop().await;
    let app = app(&shop).await;
    let ling = shop.session("ling").await;
    let token = api_token(&shop, "qianniu").await;
    let r = buyer_says(&app, &token, "b1", "", "包邮吗").await;
    assert_eq!(r["replies"].as_array().map(Vec::len), Some(1), "{r}");
    let html = text(call_service(&app, get("/kb/training", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">0</strong>"),
        "answered: not queued"
    );

    let r = buyer_says(&app, &token, "b1", "", "转人工").await;
    assert_eq!(r["state"], "queued", "{r}");
    let html = text(call_service(&app, get("/kb/training", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("<strong id=\"open-count\">1</strong>"),
        "{html}"
    );
    assert!(
        html.contains("<h2>包邮吗 <span class=\"badge\">1 次</span>") && html.contains("转人工 ·")
    );
    assert!(
        !html.contains("<h2>转人工"),
        "the call for a human is not a question"
    );

    // A menu pick followed by a call for a human: the pick ("2") is no question to
    // learn; the question that brought the menu is queued (once).
    let r = buyer_says(&app, &token, "b2", "", "换或").await;
    let menu = r["replies"][0]["menu"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(menu.len() >= 2, "a menu: {r}");
    let r = buyer_says(&app, &token, "b2", "", "2").await;
    assert!(r["replies"][0]["text"].as_str().is_some(), "{r}");
    let r = buyer_says(&app, &token, "b2", "", "转人工").await;
    assert_eq!(r["state"], "queued", "{r}");
    let html = text(call_service(&app, get("/kb/training", Some(&ling)).to_request()).await).await;
    assert!(
        html.contains("<h2>换或 <span class=\"badge\">1 次</span>"),
        "{html}"
    );
    assert!(!html.contains("<h2>2 <span"), "{html}");

    // A greeting answered, then a call for a human: the greeting is no question to
    // learn (a review found "你好" queued).
    buyer_says(&app, &token, "b3", "", "你好").await;
    let r = buyer_says(&app, &token, "b3", "", "找真人").await;
    assert_eq!(r["state"], "queued", "{r}");
    let html = text(call_service(&app, get("/kb/training", Some(&ling)).to_request()).await).await;
    assert!(!html.contains("<h2>你好 <span"), "{html}");
}
