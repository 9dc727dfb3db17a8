//! Headless Chromium drives the console over a real server: create the owner, change the
//! shop settings, add an agent, log out, log in as the agent.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without
//! them the test fails when `CI` is set and is skipped with a notice otherwise.

mod common;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Starts chromedriver and a headless Chromium session, or `None` (with a notice) when
/// they are not installed outside CI.
async fn browser(profile: &std::path::Path) -> Option<(Client, Driver)> {
    let (Some(driver), Some(chromium)) = (which("chromedriver"), which("chromium")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser tests need chromium and chromedriver: apt-get install -y chromium chromium-driver"
        );
        eprintln!(
            "SKIPPED browser test: chromium/chromedriver not installed (apt-get install -y chromium chromium-driver)"
        );
        return None;
    };
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let caps = caps.as_object().cloned().expect("caps object");
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("webdriver session");
    Some((client, driver))
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.expect(css);
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
}

async fn submit(c: &Client, form_css: &str) {
    let button = format!("{form_css} button[type=submit]");
    c.find(Locator::Css(&button))
        .await
        .expect(&button)
        .click()
        .await
        .expect("click");
}

/// The page's visible text; empty while a navigation replaces the page.
async fn body_text(c: &Client) -> String {
    match c.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn wait_for_text(c: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = body_text(c).await;
        if t.contains(needle) {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "page never showed {needle:?}; it shows:\n{t}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(c: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

#[actix_web::test]
async fn owner_sets_up_the_shop_and_an_agent_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = xiaoer::config::Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".into();
    config.workers = 2;
    let (server, addrs) = xiaoer::serve(config).await.expect("server");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let base = format!("http://{}", addrs[0]);

    let Some((c, _driver)) = browser(&dir.path().join("profile")).await else {
        handle.stop(true).await;
        return;
    };

    // First visit: the one-time owner setup.
    c.goto(&format!("{base}/")).await.expect("open");
    wait_for_text(&c, "欢迎使用店小二").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/setup"));
    fill(&c, "input[name=name]", "boss").await;
    fill(&c, "input[name=nickname]", "老板").await;
    fill(&c, "input[name=password]", "password-123").await;
    fill(&c, "input[name=password2]", "password-123").await;
    submit(&c, "form[action='/setup']").await;
    wait_for_text(&c, "店主账号已创建").await;
    screenshot(&c, "home.png").await;

    // Settings: a bad time is refused with a message, then a good save sticks.
    c.find(Locator::Css("nav.sections a[href='/settings']"))
        .await
        .expect("设置 menu")
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "店铺名称").await;
    fill(&c, "input[name=shop_name]", "小二旗舰店").await;
    fill(&c, "input[name=time_zone]", "Mars/Olympus").await;
    submit(&c, "form[action='/settings']").await;
    wait_for_text(&c, "未知的时区").await;
    fill(&c, "input[name=time_zone]", "Asia/Shanghai").await;
    submit(&c, "form[action='/settings']").await;
    let page = wait_for_text(&c, "已保存").await;
    assert!(
        page.contains("小二旗舰店"),
        "the header shows the new shop name"
    );
    screenshot(&c, "settings.png").await;

    // Users: add an agent.
    c.goto(&format!("{base}/settings/users")).await.unwrap();
    fill(&c, "#add-user input[name=name]", "meimei").await;
    fill(&c, "#add-user input[name=nickname]", "小美").await;
    c.find(Locator::Css("#add-user select[name=role]"))
        .await
        .unwrap()
        .select_by_value("agent")
        .await
        .unwrap();
    fill(&c, "#add-user input[name=password]", "agent-pass-1").await;
    // A double click sends a post form once (the second would answer "登录名已被使用"):
    // of two submit events, the page lets only the first through. A listener on
    // window, which runs after the page's own, counts them and holds the navigation.
    let passed = c
        .execute(
            "const f = document.querySelector('#add-user'); let n = 0; \
             const count = (e) => { if (!e.defaultPrevented) n++; e.preventDefault(); }; \
             window.addEventListener('submit', count); \
             for (let i = 0; i < 2; i++) f.dispatchEvent(new Event('submit', {bubbles: true, cancelable: true})); \
             window.removeEventListener('submit', count); delete f.dataset.sent; return n;",
            vec![],
        )
        .await
        .expect("double submit");
    assert_eq!(
        passed,
        serde_json::json!(1),
        "a double submit goes through once"
    );
    submit(&c, "#add-user").await;
    let page = wait_for_text(&c, "账号已添加").await;
    assert!(page.contains("meimei"));
    let nick = c
        .find(Locator::Css(
            "table.users input[name=nickname][value='小美']",
        ))
        .await;
    assert!(nick.is_ok(), "the new agent's nickname is listed");
    screenshot(&c, "users.png").await;

    // 场景开关: one click sends a scene straight to humans; the trail records it.
    c.find(Locator::Css("nav.sections a[href='/scenes']"))
        .await
        .expect("场景开关 menu")
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "全局开关").await;
    c.find(Locator::Css("form.segmented button[value='staffed:human']"))
        .await
        .expect("a scene switch")
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&c, "已保存").await;
    assert!(page.contains("切换场景开关"), "the trail shows the change");
    let on = c
        .find(Locator::Css(
            "form.segmented button.on[value='staffed:human']",
        ))
        .await;
    assert!(on.is_ok(), "the clicked mode is highlighted");
    screenshot(&c, "scenes.png").await;

    // The owner's own service state: choosing 在线 submits at once.
    c.find(Locator::Css("form.agent-state select"))
        .await
        .unwrap()
        .select_by_value("online")
        .await
        .unwrap();
    wait_until(&c, "document.querySelector('.dot.online') !== null").await;

    // On a phone the menus keep every label on one line, and 退出 stays in view.
    c.set_window_size(390, 844).await.expect("phone size");
    c.goto(&format!("{base}/settings/channels")).await.unwrap();
    wait_for_text(&c, "渠道接入").await;
    let layout = c
        .execute(
            "const oneLine = a => a.getClientRects().length === 1 && a.offsetHeight < 44;
             const out = document.querySelector('header form[action=\"/logout\"] button').getBoundingClientRect();
             return {
               menu: Array.from(document.querySelectorAll('.sections a, .tabs a')).every(oneLine),
               logout: out.right <= window.innerWidth && out.top >= 0,
             };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(layout, json!({"menu": true, "logout": true}));
    screenshot(&c, "phone-console.png").await;
    c.set_window_size(1280, 900).await.expect("desktop size");

    // Log out, log in as the agent: no 设置 menu for agents.
    c.find(Locator::Css("header form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "登录").await;
    fill(&c, "input[name=name]", "meimei").await;
    fill(&c, "input[name=password]", "agent-pass-1").await;
    submit(&c, "form[action='/login']").await;
    let page = wait_for_text(&c, "你好，小美").await;
    assert!(page.contains("客服"));
    assert!(
        c.find(Locator::Css("nav.sections a[href='/settings']"))
            .await
            .is_err()
    );

    c.close().await.expect("close browser");
    handle.stop(true).await;
}

/// Starts a real server on a free port; returns its base URL and handle.
async fn start(dir: &std::path::Path) -> (String, actix_web::dev::ServerHandle) {
    let mut config = xiaoer::config::Config::new(dir.join("data"));
    config.listen = "127.0.0.1:0".into();
    config.workers = 2;
    let (server, addrs) = xiaoer::serve(config).await.expect("server");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (format!("http://{}", addrs[0]), handle)
}

/// Waits until `script` (a JS expression) is true in the page.
async fn wait_until(c: &Client, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = c
            .execute(&format!("return Boolean({script});"), vec![])
            .await
            .unwrap_or(json!(false));
        if v == json!(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never true: {script}\n{}",
            body_text(c).await
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The number of chat messages shown.
const MESSAGES: &str = "document.querySelectorAll('#log .msg:not(.greeting)').length";

#[actix_web::test]
async fn a_buyer_asks_by_click_and_by_typing_and_html_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    let (base, handle) = start(dir.path()).await;
    let Some((c, _driver)) = browser(&dir.path().join("profile")).await else {
        handle.stop(true).await;
        return;
    };
    c.set_window_size(400, 800).await.expect("phone size");
    c.goto(&format!("{base}/chat")).await.expect("open chat");
    wait_for_text(&c, "欢迎光临").await;
    wait_for_text(&c, "猜你想问").await;
    let rating_shown = c
        .execute(
            "return document.getElementById('rating').offsetParent !== null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        rating_shown,
        json!(false),
        "no rating form before an invitation"
    );

    // A hot question: the buyer's question and the bot's answer appear.
    c.find(Locator::Css("#log button.ask[data-q='什么时候发货']"))
        .await
        .expect("hot question")
        .click()
        .await
        .unwrap();
    wait_until(&c, &format!("{MESSAGES} >= 2")).await;
    wait_for_text(&c, "48小时").await;

    // Typing shows matching standard questions; clicking one asks it.
    fill(&c, "#text", "发票").await;
    wait_until(&c, "!document.getElementById('suggest').hidden").await;
    let first = c
        .find(Locator::Css("#suggest button.ask"))
        .await
        .expect("a suggestion");
    let question = first.text().await.unwrap();
    assert!(question.contains("发票"), "{question}");
    first.click().await.unwrap();
    wait_until(&c, &format!("{MESSAGES} >= 4")).await;
    screenshot(&c, "chat.png").await;

    // Buyer HTML is shown as text, never as markup.
    let evil = "<img src=x onerror=\"document.title='pwned'\"><b>粗体</b>";
    fill(&c, "#text", evil).await;
    submit(&c, "#compose").await;
    wait_until(&c, &format!("{MESSAGES} >= 6")).await;
    let bubbles = c
        .execute(
            "return Array.from(document.querySelectorAll('#log .msg.buyer .bubble'), b => b.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        bubbles.as_array().unwrap().iter().any(|b| b == evil),
        "{bubbles}"
    );
    let injected = c
        .execute(
            "return document.querySelectorAll('#log img, #log b').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));
    assert_ne!(c.title().await.unwrap(), "pwned");

    // 转人工: the service answers (a queue place in staffed hours, the off-hours text
    // otherwise) and the history survives a reload.
    c.find(Locator::Css("#to-human"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // (Within staffed hours and nobody online, the buyer is also told that nobody is
    // online yet: one message more.)
    wait_until(&c, &format!("{MESSAGES} >= 8")).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let shown = c
        .execute(&format!("return {MESSAGES};"), vec![])
        .await
        .unwrap();
    assert!(shown == json!(8) || shown == json!(9), "{shown}");
    c.refresh().await.unwrap();
    wait_until(&c, &format!("{MESSAGES} >= 8")).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        c.execute(&format!("return {MESSAGES};"), vec![])
            .await
            .unwrap(),
        shown,
        "nothing shown twice after the reload"
    );

    c.close().await.expect("close browser");
    handle.stop(true).await;
}

#[actix_web::test]
async fn the_widget_opens_the_chat_on_another_site() {
    let dir = tempfile::tempdir().unwrap();
    let (base, handle) = start(dir.path()).await;
    // The "shop site": another origin that only carries the widget tag.
    let shop_dir = dir.path().join("shop");
    std::fs::create_dir_all(&shop_dir).unwrap();
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>小店</title><h1>小店首页</h1>\
         <script src=\"{base}/static/widget.js\" data-shop=\"小二杂货铺\"></script>"
    );
    let shop_site = actix_web::HttpServer::new(move || {
        let page = page.clone();
        actix_web::App::new().route(
            "/",
            actix_web::web::get().to(move || {
                let page = page.clone();
                async move {
                    actix_web::HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(page)
                }
            }),
        )
    })
    .workers(1)
    .bind("localhost:0")
    .unwrap();
    let shop_addr = shop_site.addrs()[0];
    let shop_site = shop_site.run();
    let shop_handle = shop_site.handle();
    actix_web::rt::spawn(shop_site);

    let Some((c, _driver)) = browser(&dir.path().join("profile")).await else {
        handle.stop(true).await;
        shop_handle.stop(true).await;
        return;
    };
    c.goto(&format!("http://localhost:{}/", shop_addr.port()))
        .await
        .unwrap();
    wait_for_text(&c, "在线客服").await;
    let button = c
        .find(Locator::XPath("//button[text()='在线客服']"))
        .await
        .expect("widget button");
    button.click().await.unwrap();
    wait_until(&c, "document.querySelector('iframe') !== null").await;
    let token = c
        .execute("return localStorage.getItem('xiaoer_buyer');", vec![])
        .await
        .unwrap();
    assert!(token.as_str().is_some_and(|t| t.len() == 64), "{token}");

    c.enter_frame(0).await.expect("the chat frame");
    wait_for_text(&c, "欢迎光临").await;
    fill(&c, "#text", "可以开发票吗").await;
    submit(&c, "#compose").await;
    wait_until(&c, &format!("{MESSAGES} >= 2")).await;
    screenshot(&c, "widget.png").await;
    c.enter_parent_frame().await.unwrap();

    // The shop page's token names the buyer: a new frame shows the same conversation.
    c.refresh().await.unwrap();
    c.find(Locator::XPath("//button[text()='在线客服']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "document.querySelector('iframe') !== null").await;
    c.enter_frame(0).await.unwrap();
    wait_until(&c, &format!("{MESSAGES} >= 2")).await;
    wait_for_text(&c, "可以开发票吗").await;

    c.close().await.expect("close browser");
    handle.stop(true).await;
    shop_handle.stop(true).await;
}

/// Prepares a data folder with the owner, an agent `mei`, and the off-hours notice off
/// (so that 转人工 queues the buyer whatever the time of day the test runs).
async fn shop_with_agent(data: &std::path::Path) {
    use xiaoer::model::{NewUser, Role};
    let store = xiaoer::store::Store::open(data).expect("store");
    let config = xiaoer::config::Config::new(data);
    let state = xiaoer::AppState::open(
        config,
        store,
        std::sync::Arc::new(xiaoer::model::SystemClock),
    )
    .await
    .expect("state");
    let desk = &state.desk;
    let new = |name: &str, nickname: &str, role| NewUser {
        name: name.into(),
        nickname: nickname.into(),
        role,
        password: "password-123".into(),
    };
    let boss = desk
        .setup_owner(new("boss", "老板", Role::Owner))
        .await
        .expect("owner");
    desk.save_quick_reply(&boss.user, 0, true, "kd", "亲，默认发中通快递哦")
        .await
        .expect("quick reply");
    let cli = xiaoer::desk::Actor::cli();
    desk.add_user(&cli, new("mei", "小美", Role::Agent))
        .await
        .expect("agent");
    let mut r = desk.reception().expect("reception");
    r.off_hours_reply = false;
    desk.save_reception(&cli, r).await.expect("reception");
    // The server the test starts next opens the store again: it must be closed first.
    drop(state);
    drop(common::reopen(data).await);
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

/// The issue's main flow on a real server: a buyer asks in /chat, gets the bot's answer
/// and asks for a human; an agent takes the conversation, uses a smart-assist answer and
/// replies; the buyer sees it live; the agent closes; the buyer rates. Buyer HTML shows
/// as text in the console and runs nothing.
#[actix_web::test]
async fn an_agent_serves_a_buyer_live_from_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    shop_with_agent(&dir.path().join("data")).await;
    let (base, handle) = start(dir.path()).await;
    let Some((c, _driver)) = browser(&dir.path().join("profile")).await else {
        handle.stop(true).await;
        return;
    };
    // Tab 1, the buyer.
    let buyer_tab = c.window().await.unwrap();
    c.goto(&format!("{base}/chat")).await.unwrap();
    wait_for_text(&c, "欢迎光临").await;
    fill(&c, "#text", "发什么快递").await;
    submit(&c, "#compose").await;
    wait_until(&c, &format!("{MESSAGES} >= 2")).await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    fill(&c, "#text", evil).await;
    submit(&c, "#compose").await;
    wait_until(&c, &format!("{MESSAGES} >= 4")).await;
    click(&c, "#to-human").await;
    wait_for_text(&c, "排").await;

    // Tab 2, the agent: log in, find the buyer in the queue, take them.
    let agent_tab = c.new_window(true).await.unwrap().handle;
    c.switch_to_window(agent_tab.clone()).await.unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(&c, "input[name=name]", "mei").await;
    fill(&c, "input[name=password]", "password-123").await;
    submit(&c, "form").await;
    wait_for_text(&c, "小美").await;
    c.goto(&format!("{base}/desk")).await.unwrap();
    wait_for_text(&c, "排队中").await;
    click(&c, "#ws-lists .ws-rows a").await;
    wait_for_text(&c, "转人工原因").await;
    click(&c, "form[action$='/take'] button").await;
    wait_until(&c, "document.getElementById('ws-input') !== null").await;
    // The buyer's HTML is text in the console.
    let shown = c
        .execute(
            "return Array.from(document.querySelectorAll('#ws-messages .msg.buyer .text'), t => t.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        shown.as_array().unwrap().iter().any(|t| t == evil),
        "{shown}"
    );
    let injected = c
        .execute(
            "return document.querySelectorAll('#ws-messages img, #ws-messages script').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));
    assert!(c.get_alert_text().await.is_err(), "no alert ran");

    // The buyer asks; the console shows it live with smart-assist answers.
    c.switch_to_window(buyer_tab.clone()).await.unwrap();
    fill(&c, "#text", "可以开发票吗").await;
    submit(&c, "#compose").await;
    c.switch_to_window(agent_tab.clone()).await.unwrap();
    wait_until(&c, "document.querySelector('#ws-assist .assist-for') && document.querySelector('#ws-assist .assist-for').textContent === '可以开发票吗'").await;
    wait_until(&c, "Array.from(document.querySelectorAll('#ws-messages .msg.buyer .text')).some(t => t.textContent === '可以开发票吗')").await;
    click(&c, "#ws-assist [data-use-answer]").await;
    let filled = c
        .execute("return document.getElementById('ws-input').value;", vec![])
        .await
        .unwrap();
    let filled = filled.as_str().unwrap().to_string();
    assert!(filled.contains("发票"), "{filled}");
    // Edit, then Enter sends.
    let input = c.find(Locator::Css("#ws-input")).await.unwrap();
    input.send_keys("（小美）").await.unwrap();
    input
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await
        .unwrap();
    wait_until(&c, "Array.from(document.querySelectorAll('#ws-messages .msg.agent .text')).some(t => t.textContent.endsWith('（小美）'))").await;
    wait_until(&c, "document.getElementById('ws-input').value === ''").await;
    // A quick reply by its short key goes into the reply box; the search box empties.
    fill(&c, "#quick-search", "kd").await;
    wait_until(&c, "!document.getElementById('quick-list').hidden").await;
    click(&c, "#quick-list [data-quick]").await;
    let (typed, search) = (
        c.execute("return document.getElementById('ws-input').value;", vec![])
            .await
            .unwrap(),
        c.execute(
            "return document.getElementById('quick-search').value;",
            vec![],
        )
        .await
        .unwrap(),
    );
    assert_eq!((typed, search), (json!("亲，默认发中通快递哦"), json!("")));
    c.execute("document.getElementById('ws-input').value = '';", vec![])
        .await
        .unwrap();
    // The list follows live: the buyer has been answered.
    wait_until(&c, "document.querySelector('#ws-lists .unread') === null").await;
    screenshot(&c, "workspace.png").await;

    // The buyer sees the reply live; asking for a human again is not offered.
    c.switch_to_window(buyer_tab.clone()).await.unwrap();
    wait_for_text(&c, "（小美）").await;
    wait_until(&c, "document.getElementById('to-human').hidden").await;

    // The agent closes; the buyer is invited, asks one more thing first (a new
    // conversation with the bot), then rates the one that ended.
    c.switch_to_window(agent_tab.clone()).await.unwrap();
    click(&c, "form[action$='/close'] button").await;
    c.accept_alert().await.unwrap();
    wait_for_text(&c, "已结束").await;
    c.switch_to_window(buyer_tab.clone()).await.unwrap();
    wait_until(&c, "!document.getElementById('rating').hidden").await;
    wait_until(
        &c,
        "document.getElementById('status').textContent.startsWith('智能客服小二')",
    )
    .await;
    wait_until(&c, "!document.getElementById('to-human').hidden").await;
    let before = c
        .execute(&format!("return {MESSAGES};"), vec![])
        .await
        .unwrap();
    let before = before.as_u64().unwrap();
    fill(&c, "#text", "好的，再问下包邮吗").await;
    submit(&c, "#compose").await;
    wait_until(&c, &format!("{MESSAGES} >= {}", before + 2)).await;
    // Where the new conversation starts is marked, once, before the buyer's message.
    wait_until(
        &c,
        "document.querySelectorAll('#log .new-conv').length === 1 \
         && document.querySelector('#log .new-conv').nextElementSibling.textContent.includes('再问下包邮吗')",
    )
    .await;
    click(&c, "#rating .level[data-level='5']").await;
    click(&c, "#rate").await;
    wait_for_text(&c, "感谢您的评价").await;
    c.switch_to_window(agent_tab.clone()).await.unwrap();
    c.refresh().await.unwrap();
    wait_for_text(&c, "买家评价：很满意").await;

    // The buyer goes on with the bot; the owner watches the monitor.
    c.switch_to_window(buyer_tab).await.unwrap();
    fill(&c, "#text", "能改地址吗").await;
    submit(&c, "#compose").await;
    c.switch_to_window(agent_tab).await.unwrap();
    click(&c, "form[action='/logout'] button").await;
    wait_for_text(&c, "登录").await;
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(&c, "input[name=name]", "boss").await;
    fill(&c, "input[name=password]", "password-123").await;
    submit(&c, "form").await;
    wait_for_text(&c, "老板").await;
    // The owner takes the buyer's new conversation over (接管); a red line written in
    // 对话 alerts supervisors there, live (here the owner's own page).
    c.goto(&format!("{base}/desk/c/2")).await.unwrap();
    click(&c, "form[action$='/takeover'] button").await;
    wait_until(&c, "document.getElementById('ws-input') !== null").await;
    wait_until(&c, "document.getElementById('alerts').hidden").await;
    fill(&c, "#ws-input", "加我微信吧").await;
    submit(&c, "#ws-send").await;
    wait_until(&c, "!document.getElementById('alerts').hidden").await;
    let alert = c
        .execute(
            "return document.querySelector('#alerts li').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        alert.as_str().unwrap().contains("使用了红线词：加微信"),
        "{alert}"
    );
    c.goto(&format!("{base}/desk/monitor")).await.unwrap();
    wait_for_text(&c, "进行中的会话").await;
    wait_for_text(&c, "机器人接待").await;
    let text = body_text(&c).await;
    assert!(
        text.contains("小美") && text.contains("离线"),
        "mei logged out: {text}"
    );
    screenshot(&c, "monitor.png").await;

    c.close().await.expect("close browser");
    handle.stop(true).await;
}

/// The training loop on a real server: a buyer asks something the bot does not know; a
/// trainer finds it in 问答训练, adds it in one click as a similar phrasing of an entry,
/// and the "try the bot" box answers it with that entry at once.
#[actix_web::test]
async fn a_trainer_teaches_the_bot_from_the_training_queue() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        use xiaoer::model::{KbEntry, NewUser, Role};
        let store = xiaoer::store::Store::open(&data).expect("store");
        let config = xiaoer::config::Config::new(&data);
        let clock = std::sync::Arc::new(xiaoer::model::SystemClock);
        let state = xiaoer::AppState::open(config, store, clock)
            .await
            .expect("state");
        let user = |name: &str, nickname: &str, role| NewUser {
            name: name.into(),
            nickname: nickname.into(),
            role,
            password: "password-123".into(),
        };
        let desk = &state.desk;
        desk.setup_owner(user("boss", "老板", Role::Owner))
            .await
            .expect("owner");
        let cli = xiaoer::desk::Actor::cli();
        desk.add_user(&cli, user("ling", "小玲", Role::Trainer))
            .await
            .expect("trainer");
        let entry = KbEntry::new("engrave", "提供个性化定制服务吗", "亲，支持免费定制刻字哦");
        desk.save_entry(&cli, entry).await.expect("entry");
        drop(state);
        drop(common::reopen(&data).await);
    }
    let (base, handle) = start(dir.path()).await;
    let Some((c, _driver)) = browser(&dir.path().join("profile")).await else {
        handle.stop(true).await;
        return;
    };
    // The buyer asks what the bot does not know.
    c.goto(&format!("{base}/chat")).await.unwrap();
    wait_for_text(&c, "欢迎光临").await;
    fill(&c, "#text", "可以刻字吗").await;
    submit(&c, "#compose").await;
    wait_until(&c, &format!("{MESSAGES} >= 2")).await;

    // The trainer logs in and opens 问答训练.
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(&c, "input[name=name]", "ling").await;
    fill(&c, "input[name=password]", "password-123").await;
    submit(&c, "form").await;
    wait_for_text(&c, "小玲").await;
    click(&c, "nav.sections a[href='/kb']").await;
    wait_for_text(&c, "问题列表").await;
    screenshot(&c, "kb.png").await;
    // A bulk action with nothing ticked is stopped on the page, with why.
    click(&c, "#bulk button[value=on]").await;
    wait_for_text(&c, "请先勾选要处理的问题").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/kb"));
    click(&c, "nav.tabs a[href='/kb/training']").await;
    let page = wait_for_text(&c, "可以刻字吗").await;
    assert!(page.contains("1 待处理"), "{page}");

    // Before: the bot does not answer with the entry.
    let ask = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute(
                "document.querySelector('.try-result').textContent = '';",
                vec![],
            )
            .await
            .unwrap();
            fill(&c, "form[data-try] input[name=text]", "可以刻字吗").await;
            submit(&c, "form[data-try]").await;
            wait_until(
                &c,
                "document.querySelector('.try-result .try-reply') !== null",
            )
            .await;
            c.find(Locator::Css(".try-result"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let before = ask(&c).await;
    assert!(!before.contains("命中 engrave"), "{before}");

    // One click: add as a similar phrasing of entry engrave.
    fill(&c, ".train-group input[name=entry][type=text]", "engrave").await;
    click(
        &c,
        ".train-group form:has(input[name=entry][type=text]) button",
    )
    .await;
    // The old page says 今日已清 too: wait for what only the new one shows.
    let page = wait_for_text(&c, "已加为相似问法").await;
    assert!(
        page.contains("0 待处理") && page.contains("1 今日已清"),
        "{page}"
    );
    screenshot(&c, "training.png").await;

    // The try box answers it with the entry at once.
    let after = ask(&c).await;
    assert!(
        after.contains("命中 engrave") && after.contains("直接回答"),
        "{after}"
    );
    assert!(after.contains("亲，支持免费定制刻字哦"), "{after}");
    handle.stop(true).await;
}

/// The owner imports past conversations from the backup page (the upload with its
/// progress bar and report), then reads them on 数据看板: the figures, the charts, and
/// the agents page.
#[actix_web::test]
async fn the_owner_imports_history_and_reads_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    shop_with_agent(&dir.path().join("data")).await;
    let history = dir.path().join("history.jsonl");
    std::fs::write(
        &history,
        concat!(
            r#"{"id":"h1","channel":"taobao","buyer_id":"u1","transferred_at":"2026-11-20T02:00:00Z","rating":{"level":5,"reasons":[]},"messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"在吗"},{"at":"2026-11-20T02:00:35Z","from":"agent:mei","text":"在的亲"}]}"#,
            "\n",
            r#"{"id":"h2","channel":"taobao","buyer_id":"u2","messages":[{"at":"2026-11-20T03:00:00Z","from":"buyer","text":"包邮吗"},{"at":"2026-11-20T03:00:18Z","from":"bot","text":"满59包邮"}]}"#,
            "\n"
        ),
    )
    .unwrap();
    let (base, handle) = start(dir.path()).await;
    let Some((c, _driver)) = browser(&dir.path().join("profile")).await else {
        handle.stop(true).await;
        return;
    };
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(&c, "input[name=name]", "boss").await;
    fill(&c, "input[name=password]", "password-123").await;
    submit(&c, "form").await;
    wait_for_text(&c, "老板").await;
    c.goto(&format!("{base}/settings/backup")).await.unwrap();
    wait_for_text(&c, "导入历史会话").await;
    let file = c
        .find(Locator::Css("form[data-upload] input[type=file]"))
        .await
        .unwrap();
    file.send_keys(history.to_str().unwrap()).await.unwrap();
    submit(&c, "form[data-upload]").await;
    let page = wait_for_text(&c, "导入成功").await;
    assert!(page.contains("导入成功：2 个会话（4 条消息）"), "{page}");

    click(&c, "nav.sections a[href='/dashboard']").await;
    wait_for_text(&c, "今日").await;
    fill(
        &c,
        "form[action='/dashboard'] input[name=from]",
        "2026-11-20",
    )
    .await;
    c.execute(
        "const f = document.querySelector(\"form[action='/dashboard']\"); f.from.value = '2026-11-20'; f.to.value = '2026-11-20'; f.submit();",
        vec![],
    )
    .await
    .unwrap();
    let page = wait_for_text(&c, "2026-11-20 至 2026-11-20").await;
    assert!(page.contains("会话 2 · 咨询 2 人 · 评价 1"), "{page}");
    assert!(page.contains("50.0%"), "首次30秒应答率 1 of 2: {page}");
    wait_until(&c, "document.querySelectorAll('svg.chart').length >= 3").await;
    c.execute(
        "document.querySelector('h2 small').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "dashboard.png").await;
    click(&c, "nav.tabs a[href^='/dashboard/agents']").await;
    let page = wait_for_text(&c, "满意率与接待量").await;
    assert!(page.contains("小美"), "{page}");
    handle.stop(true).await;
}
