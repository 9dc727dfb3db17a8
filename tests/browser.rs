//! Headless Chromium drives the console over a real server: create the owner, change the
//! shop settings, add an agent, log out, log in as the agent.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without
//! them the test fails when `CI` is set and is skipped with a notice otherwise.

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
