//! Crash safety: buyers post messages while the server is killed with SIGKILL at a
//! random moment; after each restart every acknowledged message (by client_msg_id)
//! must be stored exactly once, and re-sending it must be recognised as a retry.
//! Repeats for CRASH_CYCLES cycles (default 20) on one data folder.
//!
//! Run: `cargo bench --bench crash`.

mod support;

use rand::Rng;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::*;

const BUYERS: usize = 50;

/// Every stored message of `conv` with a client_msg_id: id → times seen.
async fn stored_ids(http: &Http, port: u16, token: &str, conv: u64) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let mut after = 0u64;
    loop {
        let path = format!("/api/v1/conversations/{conv}/messages?after={after}");
        let body = get(http, port, &path, Some(token))
            .await
            .unwrap_or_else(|e| panic!("reading conversation {conv}: {e}"));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let msgs = v["messages"].as_array().cloned().unwrap_or_default();
        if msgs.is_empty() {
            return seen;
        }
        for m in &msgs {
            after = m["id"].as_u64().unwrap_or(after);
            if let Some(id) = m["client_msg_id"].as_str() {
                *seen.entry(id.to_string()).or_default() += 1;
            }
        }
    }
}

fn main() {
    let cycles = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20usize);
    let dir = data_dir();
    let token = token(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rng = rand::rng();
    let mut all: Vec<Acked> = Vec::new();
    let mut report = Vec::new();
    rt.block_on(async {
        for cycle in 1..=cycles {
            let mut server = start(dir.path());
            let http = client(BUYERS);
            // The previous cycle's acknowledged messages survived the kill, once each.
            let (checked, resent) = verify(&http, server.port, &token, &all, cycle).await;
            let stop = Arc::new(AtomicBool::new(false));
            let kill_after = Duration::from_millis(rng.random_range(500..2500));
            let load = {
                let (http, token, stop) = (http.clone(), token.clone(), stop.clone());
                let port = server.port;
                tokio::spawn(async move {
                    buyers(
                        &http,
                        port,
                        &token,
                        BUYERS,
                        "crash-buyer-",
                        &format!("c{cycle}"),
                        Duration::ZERO,
                                                Duration::from_secs(3600),
                        false,
                        None,
                        stop,
                    )
                    .await
                })
            };
            tokio::time::sleep(kill_after).await;
            server.kill();
            stop.store(true, Ordering::Relaxed);
            let run = load.await.expect("load task");
            println!(
                "crash: cycle {cycle:>2}: killed after {:>4} ms with {} messages acknowledged ({} requests cut off); checked {checked} earlier messages, {resent} re-sent as retries",
                kill_after.as_millis(),
                run.acked.len(),
                run.errors
            );
            report.push(run.acked.len());
            all.extend(run.acked);
        }
        let server = start(dir.path());
        let http = client(BUYERS);
        let (checked, _) = verify(&http, server.port, &token, &all, cycles + 1).await;
        println!(
            "crash: {cycles} SIGKILL cycles, {} acknowledged messages in all: every one stored exactly once ({checked} checked), none doubled",
            all.len()
        );
    });
}

/// Checks every acknowledged message is stored exactly once and no message id appears
/// twice; re-sends a sample, which must be answered as retries of the same message.
/// Returns (messages checked, retries sent).
async fn verify(
    http: &Http,
    port: u16,
    token: &str,
    acked: &[Acked],
    cycle: usize,
) -> (usize, usize) {
    let mut by_conv: BTreeMap<u64, Vec<&Acked>> = BTreeMap::new();
    for a in acked {
        by_conv.entry(a.conversation).or_default().push(a);
    }
    let mut checked = 0;
    for (conv, list) in &by_conv {
        let seen = stored_ids(http, port, token, *conv).await;
        for (id, n) in &seen {
            assert_eq!(*n, 1, "cycle {cycle}: message {id} stored {n} times");
        }
        for a in list {
            assert_eq!(
                seen.get(&a.client_msg_id),
                Some(&1),
                "cycle {cycle}: acknowledged message {} of {} is missing",
                a.client_msg_id,
                a.buyer
            );
            checked += 1;
        }
    }
    let mut resent = 0;
    for a in acked.iter().rev().take(20) {
        let (conv, msg, duplicate) =
            post_message(http, port, token, &a.buyer, "重发", &a.client_msg_id)
                .await
                .unwrap_or_else(|e| panic!("re-send {}: {e}", a.client_msg_id));
        assert!(duplicate, "cycle {cycle}: {} stored again", a.client_msg_id);
        assert_eq!((conv, msg), (a.conversation, a.message));
        resent += 1;
    }
    (checked, resent)
}
