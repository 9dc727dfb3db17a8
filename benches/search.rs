//! History search at scale. Writes N synthetic Chinese messages (default 1,000,000;
//! `XIAOER_BENCH_SEARCH_N` for fewer) into a real store the way the desk stores them
//! (message, event, conversation; transfers and closes as events), builds the index
//! from the store as a start-up with a missing `data/search/` does, then times a few
//! hundred searches by class through `Desk::search_history` — the page's path without
//! HTTP and HTML: index query, filters, store reads and the highlighted snippet.
//!
//! Text comes from the starter KB's phrasings and answers plus generated product names,
//! order numbers and agent phrases (no outside data).
//!
//! Run: `cargo bench --bench search` (prints build time, index size, and p50/p99/max per
//! query class and overall; the goal is p99 ≤ 50 ms at 1M messages).

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Instant;
use xiaoer::desk::Desk;
use xiaoer::desk::history::HistoryQuery;
use xiaoer::model::{
    ConvState, Conversation, EventKind, Message, Role, Sender, SystemClock, User, UserId,
};
use xiaoer::store::Store;

const CHANNELS: [&str; 5] = ["web", "taobao", "jd", "pinduoduo", "douyin"];
const AGENTS: u64 = 20;
const DAYS: i64 = 180;
/// Conversations per write transaction.
const BATCH: usize = 500;

const ADJ: [&str; 20] = [
    "云朵", "冰丝", "纯棉", "加厚", "轻薄", "复古", "简约", "北欧", "儿童", "男士", "女士", "防滑",
    "速干", "保暖", "透气", "真丝", "羊毛", "亚麻", "磨砂", "静音",
];
const NOUN: [&str; 20] = [
    "拖鞋",
    "凉席",
    "睡衣",
    "卫衣",
    "衬衫",
    "毛巾",
    "枕头",
    "被套",
    "保温杯",
    "雨伞",
    "背包",
    "帆布鞋",
    "围巾",
    "手套",
    "袜子",
    "收纳盒",
    "台灯",
    "水杯",
    "抱枕",
    "床单",
];
const SERIES: [&str; 5] = ["", "二代", "Pro", "三件套", "礼盒装"];
const GREET: [&str; 5] = ["", "亲，", "你好，", "在吗？", "老板，"];
const AGENT_SAYS: [&str; 8] = [
    "您好，我是客服{name}，请问有什么可以帮您？",
    "已经帮您催促仓库了，{product}今天一定发出",
    "订单{order}已为您备注加急，请放心",
    "亲，退款已经提交，一般三个工作日内原路退回",
    "好的，稍等，我帮您查一下物流信息",
    "{product}支持七天无理由退换，不影响二次销售就可以",
    "抱歉给您带来不便，给您补偿一张五元优惠券",
    "{product}的尺码是标准码，建议按平时的尺码拍",
];

/// The text pools the generator draws from.
struct Pools {
    questions: Vec<String>,
    answers: Vec<String>,
    products: Vec<String>,
}

fn pools() -> Pools {
    let vars = regex::Regex::new(r"\{\{[^}]*\}\}").expect("regex");
    let entries = xiaoer::bot::starter::entries();
    let questions = entries
        .iter()
        .flat_map(|e| std::iter::once(e.question.clone()).chain(e.similar.iter().cloned()))
        .collect();
    let answers = entries
        .iter()
        .map(|e| vars.replace_all(&e.answer, "").into_owned())
        .collect();
    let mut products = Vec::new();
    for a in ADJ {
        for n in NOUN {
            for s in SERIES {
                products.push(format!("{a}{n}{s}"));
            }
        }
    }
    Pools {
        questions,
        answers,
        products,
    }
}

/// One synthetic conversation: channel, start, messages, an agent from message `k` on,
/// and whether it ended.
struct Plan {
    channel: &'static str,
    buyer: String,
    start: DateTime<Utc>,
    messages: Vec<(Sender, String)>,
    agent: Option<(UserId, usize)>,
    closed: bool,
}

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.random_range(0..v.len())]
}

fn order_number(rng: &mut StdRng) -> String {
    rng.random_range(100_000_000_000_000_000u64..999_999_999_999_999_999)
        .to_string()
}

fn plan(
    rng: &mut StdRng,
    p: &Pools,
    id: usize,
    now: DateTime<Utc>,
    orders: &mut Vec<String>,
) -> Plan {
    let product = pick(rng, &p.products).clone();
    let order = order_number(rng);
    let agent = rng
        .random_bool(0.4)
        .then(|| UserId(rng.random_range(1..=AGENTS)));
    let turns = rng.random_range(1..=5);
    let mut messages = Vec::new();
    let mut handover = None;
    for t in 0..turns {
        let mut q = format!("{}{}", pick(rng, &GREET), pick(rng, &p.questions));
        match rng.random_range(0..10) {
            0..=2 => q = format!("我买的{product}，{q}"),
            3 => q = format!("{q} 订单号{order}"),
            _ => {}
        }
        messages.push((Sender::Buyer, q));
        match agent {
            Some(id) if t >= 1 => {
                handover.get_or_insert(messages.len() - 1);
                let name = format!("客服{}", id.0);
                let text = pick(rng, &AGENT_SAYS)
                    .replace("{name}", &name)
                    .replace("{product}", &product)
                    .replace("{order}", &order);
                messages.push((Sender::Agent { id, name }, text));
            }
            _ => messages.push((Sender::Bot, pick(rng, &p.answers).clone())),
        }
    }
    if orders.len() < 10_000 && messages.iter().any(|(_, t)| t.contains(&order)) {
        orders.push(order);
    }
    Plan {
        channel: pick::<&str>(rng, &CHANNELS),
        buyer: format!("buyer{id}"),
        start: now - Duration::seconds(rng.random_range(0..DAYS * 86_400)),
        agent: agent.zip(handover),
        closed: rng.random_bool(0.9),
        messages,
    }
}

/// Stores plans as the desk would: messages with their events, the transfer as state
/// and assignment events, the close as a state event.
fn write(tx: &xiaoer::store::WriteTx, plans: &[Plan]) -> xiaoer::store::Result<usize> {
    let mut n = 0;
    for p in plans {
        let buyer = tx.buyer_for(p.channel, &p.buyer, p.start)?;
        let mut c = Conversation::start(tx.new_conv_id()?, buyer.id, p.channel, 0, p.start);
        let mut at = p.start;
        for (i, (from, text)) in p.messages.iter().enumerate() {
            at += Duration::seconds(20);
            if let Some((agent, k)) = p.agent
                && k == i
            {
                let kind = |from, to| EventKind::State {
                    from,
                    to,
                    reason: "买家要求转人工".into(),
                };
                tx.append_event(at, &c, kind(ConvState::Bot, ConvState::Queued))?;
                tx.append_event(at, &c, kind(ConvState::Queued, ConvState::Human))?;
                tx.append_event(at, &c, EventKind::Assigned { agent, group: None })?;
                (c.state, c.agent, c.last_agent) = (ConvState::Human, Some(agent), Some(agent));
            }
            let m = Message {
                conv: c.id,
                seq: 0,
                at,
                from: from.clone(),
                text: text.clone(),
                client_msg_id: None,
                bot: None,
            };
            let m = tx.append_message(&mut c, m)?;
            let kind = EventKind::Message {
                seq: m.seq,
                from: m.from.kind().into(),
            };
            tx.append_event(at, &c, kind)?;
            n += 1;
        }
        if p.closed {
            let kind = EventKind::State {
                from: c.state,
                to: ConvState::Closed,
                reason: "结束".into(),
            };
            tx.append_event(at, &c, kind)?;
            c.state = ConvState::Closed;
        }
        c.updated_at = at;
        tx.put_conv(&c)?;
    }
    Ok(n)
}

/// Fills the store with about `n` messages; returns the count and order numbers used.
async fn fill(store: &Store, n: usize, now: DateTime<Utc>) -> (usize, Vec<String>) {
    let pools = pools();
    let mut rng = StdRng::seed_from_u64(7);
    let (mut written, mut convs, mut orders) = (0, 0, Vec::new());
    while written < n {
        let plans: Vec<Plan> = (0..BATCH)
            .map(|i| plan(&mut rng, &pools, convs + i, now, &mut orders))
            .collect();
        convs += BATCH;
        let plans = Arc::new(plans);
        written += store
            .write(move |tx| write(tx, &plans))
            .await
            .expect("write");
    }
    (written, orders)
}

fn user(id: u64, role: Role) -> User {
    User {
        id: UserId(id),
        name: format!("u{id}"),
        nickname: format!("u{id}"),
        role,
        disabled: false,
        password_hash: String::new(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The query classes: a name and its queries (with the user who searches).
fn classes(
    orders: &[String],
    now: DateTime<Utc>,
) -> Vec<(&'static str, Vec<(User, HistoryQuery)>)> {
    let mut rng = StdRng::seed_from_u64(11);
    let boss = user(1_000, Role::Supervisor);
    let agent = user(1, Role::Agent);
    let q = |text: &str| HistoryQuery {
        q: text.to_string(),
        ..HistoryQuery::default()
    };
    let common = [
        "发货",
        "退款",
        "快递",
        "尺码",
        "优惠券",
        "质量",
        "退货",
        "包邮",
    ];
    let phrases = [
        "什么时候发货",
        "七天无理由",
        "退货地址",
        "能便宜点吗",
        "运费险",
        "多久能到",
        "开发票",
        "怎么退货",
    ];
    let each = 60;
    let mut out: Vec<(&'static str, Vec<(User, HistoryQuery)>)> = Vec::new();
    let day = |d: i64| (now - Duration::days(d)).format("%Y-%m-%d").to_string();
    let mut class = |name, make: &mut dyn FnMut(usize, &mut StdRng) -> (User, HistoryQuery)| {
        let v = (0..each).map(|i| make(i, &mut rng)).collect();
        out.push((name, v));
    };
    class("common word", &mut |i, _| {
        (boss.clone(), q(common[i % common.len()]))
    });
    class("one character", &mut |i, _| {
        (boss.clone(), q(["的", "货", "吗", "退"][i % 4]))
    });
    class("phrase", &mut |i, _| {
        (boss.clone(), q(phrases[i % phrases.len()]))
    });
    class("product name", &mut |_, r| {
        let p = format!("{}{}{}", pick(r, &ADJ), pick(r, &NOUN), pick(r, &SERIES));
        (boss.clone(), q(&p))
    });
    let orders = if orders.is_empty() {
        vec!["1".to_string()]
    } else {
        orders.to_vec()
    };
    class("order number", &mut |_, r| {
        (boss.clone(), q(pick::<String>(r, &orders)))
    });
    class("word + filters", &mut |i, r| {
        let mut h = q(common[i % common.len()]);
        h.channel = pick(r, &CHANNELS).to_string();
        h.from = day(60);
        h.to = day(30);
        if i % 2 == 0 {
            h.agent = r.random_range(1..=AGENTS).to_string();
        }
        (boss.clone(), h)
    });
    class("word + closed", &mut |i, _| {
        let mut h = q(common[i % common.len()]);
        h.state = "closed".into();
        (boss.clone(), h)
    });
    class("word + open state", &mut |i, _| {
        let mut h = q(common[i % common.len()]);
        h.state = ["human", "bot"][i % 2].to_string();
        (boss.clone(), h)
    });
    class("agent's search", &mut |i, _| {
        (agent.clone(), q(phrases[i % phrases.len()]))
    });
    // A buyer lookup reads the newest 20,000 buyer records (every buyer here has one
    // conversation, so 1M messages hold ~100k buyers): an old buyer's id is found by
    // the exact lookup, a name that is nobody's reads all 20,000.
    class("buyer by id", &mut |_, r| {
        let h = HistoryQuery {
            buyer: format!("buyer{}", r.random_range(0..1_000)),
            ..HistoryQuery::default()
        };
        (boss.clone(), h)
    });
    class("buyer, nobody", &mut |i, _| {
        let h = HistoryQuery {
            buyer: format!("无此买家{i}"),
            ..HistoryQuery::default()
        };
        (boss.clone(), h)
    });
    // The cursor of page 2 is filled in from page 1 before timing.
    class("page 2", &mut |i, _| {
        (boss.clone(), q(common[i % common.len()]))
    });
    out
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn line(name: &str, mut ms: Vec<f64>, hits: usize) {
    ms.sort_by(f64::total_cmp);
    println!(
        "  {name:<17} n={:<4} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  (avg hits/page {:.1})",
        ms.len(),
        pct(&ms, 0.50),
        pct(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0),
        hits as f64 / ms.len().max(1) as f64,
    );
}

fn main() {
    let n: usize = std::env::var("XIAOER_BENCH_SEARCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir_in(".").expect("temp dir on the project disk");
    let store = Store::open(dir.path()).expect("store");
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap();
    rt.block_on(async {
        println!("history search benchmark: {n} messages");
        let t = Instant::now();
        let (written, orders) = fill(&store, n, now).await;
        // The agents the messages name exist, as the agent filter requires.
        store
            .write(move |tx| {
                for i in 1..=AGENTS {
                    let rec = xiaoer::store::users::UserRecord {
                        name: format!("u{i}"),
                        nickname: format!("客服{i}"),
                        role: Role::Agent,
                        password_hash: String::new(),
                    };
                    assert_eq!(tx.insert_user(&rec, now)?.id, UserId(i));
                }
                Ok(())
            })
            .await
            .expect("agents");
        println!(
            "  store filled: {written} messages in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let desk = Desk::new(store.clone(), Arc::new(SystemClock))
            .open_history(dir.path().join("search"))
            .await
            .expect("open the index");
        desk.flush_history().await.expect("build");
        let build = t.elapsed().as_secs_f64();
        let index = dir.path().join("search");
        let segments = std::fs::read_dir(&index)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
                    .count()
            })
            .unwrap_or(0);
        println!(
            "  index built from the store: {build:.1} s ({:.0} messages/s), {:.1} MB on disk, {segments} segments",
            written as f64 / build,
            dir_size(&index) as f64 / 1e6
        );
        let mut all = Vec::new();
        let mut total_hits = 0;
        println!("  per query (Desk::search_history: index, filters, store reads, snippets):");
        for (name, queries) in classes(&orders, now) {
            let (mut ms, mut hits) = (Vec::new(), 0);
            for (u, mut q) in queries {
                if name == "page 2" {
                    let first = desk.search_history(&u, &q).expect("page 1");
                    q.before = first.more.map(|m| m.to_string()).unwrap_or_default();
                }
                let t = Instant::now();
                let page = desk.search_history(&u, &q).expect("search");
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                // Buyer lookups count the buyers found.
                hits += page.hits.len() + page.buyers.len();
            }
            total_hits += hits;
            all.extend(ms.iter().copied());
            line(name, ms, hits);
        }
        line("overall", all, total_hits);

        // A warm start: the index is reused, only the log after its last commit is read.
        drop(desk);
        let t = Instant::now();
        let reopened = loop {
            // The old follower lets go of the index writer once its bus is gone.
            match xiaoer::search::History::open(&index, &store) {
                Ok(h) => break h,
                Err(_) if t.elapsed().as_secs() < 10 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("reopen: {e}"),
            }
        };
        let added = reopened.catch_up().expect("catch up");
        println!(
            "  warm start: index reopened and caught up in {:.0} ms, {added} messages re-indexed, {} searchable",
            t.elapsed().as_secs_f64() * 1e3,
            reopened.len()
        );
    });
}
