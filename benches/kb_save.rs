//! KB save → answerable latency: a trainer saves an entry (new, or a phrasing added to
//! an existing one) and the bot answers the new phrasing. Each timing runs from the call
//! to `save_entry` (durable commit, then the index update) to the bot's reply naming
//! the entry, in-process over a real store and a real on-disk index.
//!
//! Run: `cargo bench --bench kb_save` (KB sizes: the starter KB, and the starter KB
//! copied up to `KB_SAVE_ENTRIES` entries, default 5,000).

use std::sync::Arc;
use std::time::{Duration, Instant};
use xiaoer::bot::index::Location;
use xiaoer::desk::{Actor, Desk};
use xiaoer::model::{KbEntry, SystemClock};
use xiaoer::store::Store;

const ROUNDS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn show(label: &str, mut t: Vec<Duration>) {
    t.sort();
    println!(
        "  {label:<34} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        percentile(&t, 0.5).as_secs_f64() * 1e3,
        percentile(&t, 0.99).as_secs_f64() * 1e3,
        t[t.len() - 1].as_secs_f64() * 1e3,
    );
}

/// Made-up words no starter entry uses, so only the saved phrasing can answer.
fn nonce(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "琥", "珀", "翡", "翠", "琉", "璃", "玳", "瑁", "珊", "瑚", "砗", "磲", "玛", "瑙", "璎",
        "珞",
    ];
    let mut s = String::new();
    let mut n = i + 17;
    for _ in 0..4 {
        s.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    s
}

async fn run(entries: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let desk = Desk::new(store, Arc::new(SystemClock));
    let actor = Actor::cli();
    let starter = xiaoer::bot::starter::entries();
    let mut kb = Vec::new();
    for copy in 0.. {
        for e in &starter {
            if kb.len() >= entries {
                break;
            }
            let mut e = e.clone();
            if copy > 0 {
                e.id = format!("{}-{copy}", e.id);
                e.follow_ups.clear();
            }
            kb.push(e);
        }
        if kb.len() >= entries {
            break;
        }
    }
    let n = kb.len();
    desk.import_kb(&actor, kb, true).await.expect("import");
    let desk = desk
        .open_bot(Location::Dir(dir.path().join("index")))
        .await
        .expect("bot");
    println!("KB of {n} entries:");
    let answered = |desk: &Desk, text: &str| desk.try_bot(text, None).expect("reply").entry;

    let mut new_entry = Vec::new();
    for i in 0..ROUNDS {
        let q = format!("有{}款吗", nonce(i));
        let e = KbEntry::new(&format!("bench-{i}"), &q, "亲，有的哦");
        let t = Instant::now();
        desk.save_entry(&actor, e).await.expect("save");
        let got = answered(&desk, &q);
        new_entry.push(t.elapsed());
        assert_eq!(got.as_deref(), Some(format!("bench-{i}").as_str()), "{q}");
    }
    show("new entry → answerable", new_entry);

    let mut phrasing = Vec::new();
    for i in 0..ROUNDS {
        let mut e = desk
            .list_entries()
            .expect("entries")
            .into_iter()
            .find(|e| e.id == "ship-free")
            .expect("ship-free");
        let p = format!("{}能包邮吗", nonce(i + 100_000));
        e.similar.push(p.clone());
        let t = Instant::now();
        desk.save_entry(&actor, e).await.expect("save");
        let got = answered(&desk, &p);
        phrasing.push(t.elapsed());
        assert_eq!(got.as_deref(), Some("ship-free"), "{p}");
    }
    show("phrasing added → answerable", phrasing);
}

fn main() {
    let big: usize = std::env::var("KB_SAVE_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        run(xiaoer::bot::starter::entries().len()).await;
        run(big).await;
    });
}
