//! 数据看板 over a month of history: imports `DASH_MESSAGES` messages (default 1,000,000)
//! spread over the 30 days before today as past conversations, then times the dashboard
//! page for those 30 days through the real app in-process: the first view (which counts
//! each finished day once and keeps it) and the views after it (which read the kept
//! days and count only today).
//!
//! Run: `cargo bench --bench dashboard`.

use actix_web::http::header;
use actix_web::test::{self, TestRequest};
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration as Elapsed, Instant};
use xiaoer::desk::Actor;
use xiaoer::desk::import::{PastConversation, PastMessage, PastRating};
use xiaoer::model::{NewUser, Role, SystemClock};

const DAYS: i64 = 30;
const PER_CONV: usize = 10;
const RUNS: usize = 20;

fn conversation(rng: &mut StdRng, n: usize, day: i64) -> PastConversation {
    let start = Utc::now() - Duration::days(day) + Duration::seconds(rng.random_range(0..80_000));
    let human = rng.random_bool(0.4);
    let mut at = start;
    let mut messages = Vec::with_capacity(PER_CONV);
    for i in 0..PER_CONV {
        let from = if i % 2 == 0 {
            "buyer".to_string()
        } else if human && i > 2 {
            format!("agent:agent{}", n % 8)
        } else {
            "bot".to_string()
        };
        messages.push(PastMessage {
            at,
            from,
            text: format!("消息 {n}-{i} 亲这个什么时候发货"),
        });
        at += Duration::seconds(rng.random_range(1..90));
    }
    PastConversation {
        id: format!("c{n}"),
        channel: ["taobao", "jd", "web"][n % 3].into(),
        buyer_id: format!("u{}", n % 50_000),
        transferred_at: human.then(|| messages[2].at),
        rating: rng.random_bool(0.3).then(|| PastRating {
            level: rng.random_range(1..=5),
            reasons: vec![],
        }),
        messages,
    }
}

fn median(mut v: Vec<Elapsed>) -> Elapsed {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let total: usize = std::env::var("DASH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = actix_web::rt::System::new();
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().to_path_buf();
        let store = xiaoer::store::Store::open(&data).expect("store");
        let config = xiaoer::config::Config::new(&data);
        let state = xiaoer::AppState::open(config, store, Arc::new(SystemClock))
            .await
            .expect("state");
        let owner = state
            .desk
            .setup_owner(NewUser {
                name: "boss".into(),
                nickname: String::new(),
                role: Role::Owner,
                password: "password-123".into(),
            })
            .await
            .expect("owner");
        let convs = total / PER_CONV;
        let mut rng = StdRng::seed_from_u64(7);
        let t = Instant::now();
        let mut batch = Vec::new();
        for n in 0..convs {
            let day = 1 + (n as i64 % DAYS);
            batch.push(conversation(&mut rng, n, day));
            if batch.len() == 5_000 || n + 1 == convs {
                state
                    .desk
                    .import_history(&Actor::cli(), std::mem::take(&mut batch))
                    .await
                    .expect("import");
            }
        }
        println!(
            "imported {convs} conversations, {} messages over {DAYS} days in {:.1} s",
            convs * PER_CONV,
            t.elapsed().as_secs_f64()
        );
        let login = state.desk.login("boss", "password-123").await.expect("login");
        let cookie = format!("xiaoer_session={}", login.token);
        drop(owner);
        let today = state.desk.today().expect("today");
        let from = today - Duration::days(DAYS);
        let uri = format!("/dashboard?from={from}&to={today}");
        let app = test::init_service(xiaoer::build_app(actix_web::web::Data::new(state))).await;
        let view = || {
            TestRequest::get()
                .uri(&uri)
                .insert_header((header::COOKIE, cookie.clone()))
                .to_request()
        };
        let t = Instant::now();
        let res = test::call_service(&app, view()).await;
        assert!(res.status().is_success(), "{}", res.status());
        let body = test::read_body(res).await;
        let cold = t.elapsed();
        assert!(String::from_utf8_lossy(&body).contains("数据看板"));
        let mut warm = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let res = test::call_service(&app, view()).await;
            let _ = test::read_body(res).await;
            warm.push(t.elapsed());
        }
        let med = median(warm.clone());
        let max = warm.iter().max().copied().unwrap_or_default();
        println!(
            "dashboard, {} days: first view {:.0} ms (counts and keeps each day); then median {:.1} ms, max {:.1} ms over {RUNS} views",
            DAYS + 1,
            cold.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    });
}
