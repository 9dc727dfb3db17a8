//! Durable writes per second through the group-commit writer, for 1 and 64 concurrent
//! writers. Every write is acknowledged only after its transaction is committed with
//! `Durability::Immediate` (an fsync), so the figure is what the disk allows; group
//! commit lets many writers share one fsync.
//!
//! Run: `cargo bench --bench store_write` (prints medians of 5 runs and the ratio).

use chrono::Utc;
use std::time::Instant;
use xiaoer::model::{NewAudit, UserId};
use xiaoer::store::Store;

const RUNS: usize = 5;

fn entry(writer: usize, i: usize) -> NewAudit {
    NewAudit {
        at: Utc::now(),
        actor_id: Some(UserId(writer as u64)),
        actor_name: format!("writer-{writer}"),
        action: "bench.write",
        target: format!("row-{i}"),
        detail: "亲，您好！这是一条大约两百字节的测试记录，用来衡量持久写入的速度。".into(),
    }
}

/// Returns durable writes per second for `writers` tasks doing `per_writer` writes each.
async fn run(store: &Store, writers: usize, per_writer: usize) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let e = entry(w, i);
                s.write(move |tx| tx.append_audit(&e).map(drop))
                    .await
                    .expect("write");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    (writers * per_writer) as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir_in(".").expect("temp dir on the project disk");
    let store = Store::open(dir.path()).expect("store");
    rt.block_on(async {
        run(&store, 8, 20).await; // warm-up
        let mut results = Vec::new();
        for (writers, per_writer) in [(1, 300), (64, 60)] {
            let runs = repeat_runs(&store, writers, per_writer, RUNS).await;
            let m = median(runs.clone());
            println!(
                "store_write: {writers:>2} concurrent writer(s): median {m:>8.0} durable writes/s  (runs: {})",
                runs.iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            results.push(m);
        }
        println!(
            "store_write: group commit speed-up 64 vs 1 writer: {:.1}x",
            results[1] / results[0]
        );
    });
}

async fn repeat_runs(store: &Store, writers: usize, per_writer: usize, runs: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..runs {
        out.push(run(store, writers, per_writer).await);
    }
    out
}
