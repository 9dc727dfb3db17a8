//! Load: N concurrent buyers (default 200) post messages over HTTP on loopback to a
//! release server in its own process, each waiting for the bot's answer — durable
//! commit included — before the next. Prints messages/s and latency percentiles, and,
//! for scale, the same client against the bare stack (`/healthz`) and a JSON search
//! without writes (`/api/v1/chat/suggest`).
//!
//! Run: `cargo bench --bench load` (LOAD_BUYERS=200, LOAD_SECS=10 to change). Buyers
//! ask 40 common questions phrased 1,440 ways, as shops see them; LOAD_UNIQUE=1 makes
//! every message different, so the bot works out every reply afresh.
//!
//! Buyers who each wait for the answer before asking again (a closed loop) can never
//! show both high throughput and low latency: with 200 of them, messages/s × mean
//! latency = 200, so 10,000 msg/s means 20 ms on average. `LOAD_RATE=4000,6000,8000`
//! runs paced buyers instead (an open loop): the same 200 buyers share the offered rate
//! on a schedule, and each latency counts from when the message was due. One server
//! serves every rate in the list in turn, for `LOAD_SECS` each; `LOAD_TIMELINE=1` also
//! prints the slowest answer of every 250 ms.
//!
//! First, for a floor under every figure, it times the disk alone: a 4 KiB write and
//! `fdatasync` every 2 ms for `LOAD_PROBE_SECS` (default 10; 0 skips it). Each run also
//! prints what the server wrote to the disk per message (`/proc/<pid>/io`).

mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use support::*;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let buyer_count = env_or("LOAD_BUYERS", 200);
    let secs = env_or("LOAD_SECS", 10) as u64;
    let unique = env_or("LOAD_UNIQUE", 0) == 1;
    let timeline = env_or("LOAD_TIMELINE", 0) == 1;
    let rates: Vec<f64> = std::env::var("LOAD_RATE")
        .unwrap_or_default()
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .filter(|r| *r > 0.0)
        .collect();
    let dir = data_dir();
    let probe_secs = env_or("LOAD_PROBE_SECS", 10) as u64;
    if probe_secs > 0 {
        match DiskProbe::run(dir.path(), Duration::from_secs(probe_secs)) {
            Ok(p) => println!(
                "load: disk, 4 KiB write + fdatasync every 2 ms for {probe_secs} s, no database: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; syncs over 20 ms: {:.2} per second",
                ms(p.percentile(0.50)),
                ms(p.percentile(0.99)),
                ms(p.percentile(0.999)),
                ms(p.percentile(1.0)),
                p.stalls_per_second(Duration::from_millis(20)),
            ),
            Err(e) => println!("load: disk probe failed: {e}"),
        }
    }
    let token = token(dir.path());
    let server = start(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let http = client(buyer_count);
        // One run of buyers, with the CPU the server and this process used per message.
        let measure = async |prefix: &str, tag: &str, pace: Option<Duration>| {
            let (server_cpu, client_cpu) = (server.cpu(), cpu_of("/proc/self/stat"));
            let written = server.written();
            let run = buyers(
                &http,
                server.port,
                &token,
                buyer_count,
                prefix,
                tag,
                Duration::from_secs(2),
                Duration::from_secs(secs),
                unique,
                pace,
                Arc::new(AtomicBool::new(false)),
            )
            .await;
            let per = |d: Duration| d.as_secs_f64() * 1e6 / run.acked.len().max(1) as f64;
            let server_us = per(server.cpu() - server_cpu);
            let client_us = per(cpu_of("/proc/self/stat") - client_cpu);
            let disk_kb = (server.written() - written) as f64 / 1024.0 / run.acked.len().max(1) as f64;
            (run, server_us, client_us, disk_kb)
        };
        if !rates.is_empty() {
            for (i, rate) in rates.iter().enumerate() {
                let pace = Duration::from_secs_f64(buyer_count as f64 / rate);
                let (run, server_us, client_us, disk_kb) =
                    measure(&format!("paced{i}-"), "p", Some(pace)).await;
                println!(
                    "load: paced, {buyer_count} buyers, offered {rate:.0} msg/s (one message per buyer every {:.1} ms), {secs} s: served {:.0} msg/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}; CPU per message: server {server_us:.0} us, load generator {client_us:.0} us; disk written {disk_kb:.1} KB",
                    ms(pace),
                    run.per_second(),
                    ms(run.percentile(0.50)),
                    ms(run.percentile(0.90)),
                    ms(run.percentile(0.99)),
                    ms(run.percentile(1.0)),
                    run.errors,
                );
                if timeline {
                    let worst = run.timeline(Duration::from_millis(250));
                    let cells: Vec<String> = worst.iter().map(|w| format!("{w:.0}")).collect();
                    println!("load: slowest answer (ms) per 250 ms: {}", cells.join(" "));
                }
            }
            return;
        }
        let (run, server_us, client_us, disk_kb) = measure("buyer-", "m", None).await;
        println!(
            "load: {buyer_count} concurrent buyers, {secs} s, {}: {:.0} msg/s (bot reply + durable commit each), p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}",
            if unique { "every message different" } else { "common questions" },
            run.per_second(),
            ms(run.percentile(0.50)),
            ms(run.percentile(0.90)),
            ms(run.percentile(0.99)),
            ms(run.percentile(1.0)),
            run.errors
        );
        println!(
            "load: {} messages acknowledged in all; CPU per message: server {server_us:.0} us, load generator {client_us:.0} us; disk written per message {disk_kb:.1} KB; server RSS {:.0} MB",
            run.acked.len(),
            server.rss_mb()
        );
        let messages = run.per_second();
        let bare = gets(&http, server.port, "/healthz", buyer_count, Duration::from_secs(5)).await;
        println!(
            "load: bare stack GET /healthz, {buyer_count} connections: {:.0} req/s, p99 {:.2} ms",
            bare.per_second(),
            ms(bare.percentile(0.99))
        );
        let search = gets(
            &http,
            server.port,
            "/api/v1/chat/suggest?q=%E8%BF%90%E8%B4%B9%E6%80%8E%E4%B9%88%E7%AE%97",
            buyer_count,
            Duration::from_secs(5),
        )
        .await;
        println!(
            "load: JSON search without writes (suggest), {buyer_count} connections: {:.0} req/s, p99 {:.2} ms; messages run at {:.0}% of it",
            search.per_second(),
            ms(search.percentile(0.99)),
            100.0 * messages / search.per_second()
        );
    });
}
