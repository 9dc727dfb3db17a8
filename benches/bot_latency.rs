//! Bot speed on a generated knowledge base of 10,000 entries × 10 phrasings: index build
//! (cold) and reopen (warm) time, per-reply latency p50/p99 in-process, memory; then the
//! same KB and queries through a Python jieba + rank_bm25 script for a speed ratio.
//!
//! Run: `cargo bench --bench bot_latency`. The Python side needs `pip install jieba
//! rank_bm25`; without them it prints how to get the comparison and skips it.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::process::Command;
use std::time::Instant;
use xiaoer::bot::index::Location;
use xiaoer::bot::{Ctx, Engine, KbData};
use xiaoer::model::{KbEntry, ShopSettings};

const ENTRIES: usize = 10_000;
const PHRASINGS: usize = 10;
const QUERIES: usize = 2_000;
const PY_QUERIES: usize = 200;

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Words of the starter KB, the material the generated phrasings are made of.
fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = xiaoer::bot::starter::entries()
        .iter()
        .flat_map(|e| e.phrasings().map(String::from).collect::<Vec<_>>())
        .flat_map(|p| {
            p.chars()
                .collect::<Vec<_>>()
                .chunks(2)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
        })
        .filter(|w| w.chars().all(|c| c.is_alphanumeric()))
        .collect();
    words.sort();
    words.dedup();
    words
}

fn phrase(rng: &mut StdRng, vocab: &[String], topic: &[String]) -> String {
    let mut out = String::new();
    for _ in 0..rng.random_range(2..5) {
        out.push_str(topic.choose(rng).map(String::as_str).unwrap_or(""));
        out.push_str(vocab.choose(rng).map(String::as_str).unwrap_or(""));
    }
    out
}

fn main() {
    let mut rng = StdRng::seed_from_u64(20261122);
    let vocab = vocabulary();
    let mut entries = Vec::with_capacity(ENTRIES);
    let mut queries = Vec::with_capacity(QUERIES);
    for i in 0..ENTRIES {
        // Each entry has a few topic words its phrasings share, like a real entry.
        let topic: Vec<String> = (0..3)
            .filter_map(|_| vocab.choose(&mut rng).cloned())
            .collect();
        let mut e = KbEntry::new(&format!("e{i}"), &phrase(&mut rng, &vocab, &topic), "答案");
        e.similar = (1..PHRASINGS)
            .map(|_| phrase(&mut rng, &vocab, &topic))
            .collect();
        if queries.len() < QUERIES && i % (ENTRIES / QUERIES) == 0 {
            queries.push(phrase(&mut rng, &vocab, &topic));
        }
        entries.push(e);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let rss0 = rss_mb();
    let data = KbData {
        entries: entries.clone(),
        ..KbData::default()
    };
    let t = Instant::now();
    let engine =
        Engine::open(Location::Dir(dir.path().join("index")), data.clone()).expect("engine");
    let cold_ms = t.elapsed().as_millis();
    assert!(engine.rebuilt_on_open());
    drop(engine);
    let t = Instant::now();
    let engine = Engine::open(Location::Dir(dir.path().join("index")), data).expect("engine");
    let warm_ms = t.elapsed().as_millis();
    assert!(!engine.rebuilt_on_open(), "a warm start must not re-index");
    let settings = ShopSettings::default();
    let ctx = Ctx::new(&settings, chrono::Utc::now());
    for q in queries.iter().take(200) {
        engine.reply(&ctx, q);
    }
    let mut times: Vec<u128> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(engine.reply(&ctx, q));
            t.elapsed().as_micros()
        })
        .collect();
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    let (p50, p99) = (pct(0.5), pct(0.99));
    println!(
        "bot_latency: KB {ENTRIES} entries x {PHRASINGS} phrasings, {} queries",
        times.len()
    );
    println!(
        "bot_latency: index build (cold start) {cold_ms} ms; reopen (warm start) {warm_ms} ms"
    );
    println!("bot_latency: reply p50 {p50} us, p99 {p99} us");
    println!(
        "bot_latency: RSS {:.0} MB (before the engine {:.0} MB)",
        rss_mb(),
        rss0
    );

    sparse(&mut rng);

    // The same KB and queries through Python jieba + rank_bm25.
    let kb_file = dir.path().join("kb.jsonl");
    let q_file = dir.path().join("queries.txt");
    let kb_lines: Vec<String> = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .collect();
    std::fs::write(&kb_file, kb_lines.join("\n")).expect("write kb");
    std::fs::write(&q_file, queries[..PY_QUERIES].join("\n")).expect("write queries");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/bm25_baseline.py");
    match Command::new("python3")
        .arg(script)
        .arg(&kb_file)
        .arg(&q_file)
        .output()
    {
        Ok(out) if out.status.success() => {
            let line = String::from_utf8_lossy(&out.stdout);
            let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_default();
            let py50 = v["p50_us"].as_f64().unwrap_or(0.0);
            let py99 = v["p99_us"].as_f64().unwrap_or(0.0);
            println!(
                "bot_latency: python jieba+rank_bm25: build {} ms, p50 {py50:.0} us, p99 {py99:.0} us ({PY_QUERIES} queries)",
                v["build_ms"]
            );
            println!(
                "bot_latency: speed ratio python/xiaoer: p50 {:.0}x, p99 {:.0}x",
                py50 / p50.max(1) as f64,
                py99 / p99.max(1) as f64
            );
        }
        Ok(out) => println!(
            "bot_latency: python comparison skipped ({}): pip install jieba rank_bm25",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("python3 failed")
        ),
        Err(e) => println!("bot_latency: python comparison skipped: {e}"),
    }
}

/// The cost of industry phrasings (行业通用问法) at engine build: a KB of sparse entries
/// (3 phrasings each, as sellers write them: a product and model, and a starter
/// question), built without borrowing, with borrowing (every phrasing votes), and again
/// (the votes remembered, as when an import or a synonym edit rebuilds the engine).
fn sparse(rng: &mut StdRng) {
    const PRODUCTS: [&str; 8] = [
        "耳机",
        "充电宝",
        "车厘子",
        "保温杯",
        "牛仔裤",
        "面膜",
        "奶粉",
        "茶叶",
    ];
    let starter = xiaoer::bot::starter::entries();
    let entries: Vec<KbEntry> = (0..ENTRIES)
        .filter_map(|i| {
            let s = starter.choose(rng)?;
            let p = PRODUCTS.choose(rng)?;
            // A model number keeps every entry's phrasings its own, as in a real KB.
            let mut phrasings = s.phrasings().map(|q| format!("{p}{}款{q}", i + 100));
            let mut e = KbEntry::new(&format!("s{i}"), &phrasings.next()?, "答案");
            e.similar = phrasings.take(2).collect();
            Some(e)
        })
        .collect();
    let build = |entries: Vec<KbEntry>| {
        let data = KbData {
            entries,
            ..KbData::default()
        };
        let t = Instant::now();
        std::hint::black_box(Engine::open(Location::Ram, data).expect("engine"));
        t.elapsed().as_millis()
    };
    let off: Vec<KbEntry> = entries
        .iter()
        .cloned()
        .map(|mut e| {
            e.industry = false;
            e
        })
        .collect();
    let without = build(off);
    let first = build(entries.clone());
    let again = build(entries);
    println!(
        "bot_latency: sparse KB {ENTRIES} entries x 3 phrasings, engine build: without borrowing {without} ms; with industry phrasings {first} ms; again, votes remembered {again} ms"
    );
}
