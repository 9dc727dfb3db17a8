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
//! serves every rate in the list in turn, for `LOAD_SECS` each.

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
    let rates: Vec<f64> = std::env::var("LOAD_RATE")
        .unwrap_or_default()
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .filter(|r| *r > 0.0)
        .collect();
    let dir = data_dir();
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
            (run, server_us, client_us)
        };
        if !rates.is_empty() {
            for (i, rate) in rates.iter().enumerate() {
                let pace = Duration::from_secs_f64(buyer_count as f64 / rate);
                let (run, server_us, client_us) =
                    measure(&format!("paced{i}-"), "p", Some(pace)).await;
                println!(
                    "load: paced, {buyer_count} buyers, offered {rate:.0} msg/s (one message per buyer every {:.1} ms), {secs} s: served {:.0} msg/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}; CPU per message: server {server_us:.0} us, load generator {client_us:.0} us",
                    ms(pace),
                    run.per_second(),
                    ms(run.percentile(0.50)),
                    ms(run.percentile(0.90)),
                    ms(run.percentile(0.99)),
                    ms(run.percentile(1.0)),
                    run.errors,
                );
            }
            return;
        }
        let (run, server_us, client_us) = measure("buyer-", "m", None).await;
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
            "load: {} messages acknowledged in all; CPU per message: server {server_us:.0} us, load generator {client_us:.0} us; server RSS {:.0} MB",
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
