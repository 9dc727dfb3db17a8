//! Shared by the load and crash benchmarks: a release `xiaoer` server in its own process
//! on a loopback port, and a load generator of concurrent buyers posting messages
//! through the channel API with keep-alive connections.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The server binary: this build's, or `XIAOER_BENCH_BIN` (e.g. a build with symbols
/// for profiling).
pub fn bin() -> String {
    std::env::var("XIAOER_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_xiaoer").into())
}

/// Real buyer questions the starter KB answers (none asks for a human).
pub const QUESTIONS: &[&str] = &[
    "什么时候发货",
    "今天能发货吗",
    "发什么快递",
    "能发顺丰吗",
    "包邮吗",
    "偏远地区包邮吗",
    "运费可以到付吗",
    "多久能到",
    "物流怎么不动了",
    "能改地址吗",
    "支持七天无理由吗",
    "怎么退货",
    "退货地址是多少",
    "退货运费谁出",
    "有运费险吗",
    "可以换货吗",
    "退款多久到账",
    "质量有问题怎么办",
    "是正品吗",
    "是什么材质",
    "会起球掉色吗",
    "能机洗吗",
    "尺码偏大还是偏小",
    "我该穿什么尺码",
    "有货吗",
    "什么时候补货",
    "有优惠券吗",
    "优惠能叠加吗",
    "满减怎么算",
    "能便宜点吗",
    "支持什么付款方式",
    "能用花呗吗",
    "可以开发票吗",
    "发票抬头怎么填",
    "怎么取消订单",
    "能修改订单吗",
    "有赠品吗",
    "保质期多久",
    "亲 运费多少钱呀",
    "在吗 什么时候能发货啊",
];

/// How buyers open and end a question.
const OPENINGS: &[&str] = &["", "亲，", "你好 ", "在吗 ", "老板，", "请问"];
const ENDINGS: &[&str] = &["", "？", "呀", "啊", "～", " 谢谢"];

/// Buyer `n`'s `k`-th message: one of the questions, opened and ended the way buyers
/// do (1,440 distinct texts); with `unique`, every message is different (so no reply
/// is ever served from the bot's reply cache).
pub fn question(n: usize, k: usize, unique: bool) -> String {
    let q = QUESTIONS[(n * 7 + k) % QUESTIONS.len()];
    let open = OPENINGS[(n + k) % OPENINGS.len()];
    let end = ENDINGS[(n * 3 + k / 2) % ENDINGS.len()];
    if unique {
        format!("{open}{q}{end} 我是{n}号买家第{k}次问")
    } else {
        format!("{open}{q}{end}")
    }
}

/// The xiaoer server process; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// CPU time the server has used so far (user + system).
    pub fn cpu(&self) -> Duration {
        cpu_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Bytes the server has caused to be written to the disk so far (`write_bytes` of
    /// `/proc/<pid>/io`: the database, the search indexes and the logs).
    pub fn written(&self) -> u64 {
        self.proc_value("io", "write_bytes:").unwrap_or(0)
    }

    /// Resident memory of the server, MB.
    pub fn rss_mb(&self) -> f64 {
        self.proc_value("status", "VmRSS:")
            .map(|kb| kb as f64 / 1024.0)
            .unwrap_or(0.0)
    }

    /// The number after `key` in the server's `/proc/<pid>/<file>`.
    fn proc_value(&self, file: &str, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).ok()?;
        let line = text.lines().find_map(|l| l.strip_prefix(key))?;
        line.split_whitespace().next()?.parse().ok()
    }
}

/// A fresh data folder on the project's disk (not a RAM-backed /tmp), so commits really
/// reach the disk.
pub fn data_dir() -> tempfile::TempDir {
    std::fs::create_dir_all("target/bench-data").expect("bench data folder");
    tempfile::tempdir_in("target/bench-data").expect("temp dir")
}

/// Creates an API token for channel `load` with the CLI; returns its secret.
pub fn token(data: &Path) -> String {
    let out = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(["token", "create", "load"])
        .env("XIAOER_LOG", "warn")
        .output()
        .expect("run xiaoer token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts `xiaoer serve` on `data` and waits until `/healthz` answers.
pub fn start(data: &Path) -> Server {
    let port = free_port();
    let child = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("XIAOER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start xiaoer");
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200") {
                return server;
            }
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub type Http = Client<HttpConnector, Full<Bytes>>;

pub fn client(connections: usize) -> Http {
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http()
}

/// One acknowledged message: who sent it with which id, and where it was stored.
#[derive(Debug, Clone)]
pub struct Acked {
    pub buyer: String,
    pub client_msg_id: String,
    pub conversation: u64,
    pub message: u64,
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Run {
    pub acked: Vec<Acked>,
    pub latencies: Vec<Duration>,
    /// When each measured message was due (or sent), from the start of the measuring.
    pub sent_at: Vec<Duration>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The slowest answer among the messages due in each `step` of the run, in ms.
    pub fn timeline(&self, step: Duration) -> Vec<f64> {
        let mut worst = Vec::new();
        for (at, l) in self.sent_at.iter().zip(&self.latencies) {
            let i = (at.as_secs_f64() / step.as_secs_f64()) as usize;
            if worst.len() <= i {
                worst.resize(i + 1, 0.0);
            }
            worst[i] = f64::max(worst[i], l.as_secs_f64() * 1000.0);
        }
        worst
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l[((l.len() as f64 * p) as usize).min(l.len() - 1)]
    }
}

/// POSTs one buyer message; returns (conversation id, message id).
pub async fn post_message(
    http: &Http,
    port: u16,
    token: &str,
    buyer: &str,
    text: &str,
    client_msg_id: &str,
) -> Result<(u64, u64, bool), String> {
    let body = serde_json::json!({
        "channel": "load", "buyer_id": buyer, "text": text, "client_msg_id": client_msg_id,
    })
    .to_string();
    let req = hyper::Request::post(format!("http://127.0.0.1:{port}/api/v1/messages"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let res = http.request(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    match (v["conversation_id"].as_u64(), v["message_id"].as_u64()) {
        (Some(c), Some(m)) => Ok((c, m, v["duplicate"] == true)),
        _ => Err(format!("unexpected answer {v}")),
    }
}

/// GETs `path`; returns the body.
pub async fn get(http: &Http, port: u16, path: &str, token: Option<&str>) -> Result<Bytes, String> {
    let mut req = hyper::Request::get(format!("http://127.0.0.1:{port}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let res = http.request(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    Ok(bytes)
}

/// `buyers` concurrent buyers each send messages one after another (the next after
/// the answer) for `length`, or until `stop` is set; messages before `warm_up` are not
/// measured. Buyer ids are `{prefix}{n}`, message ids `{tag}-{n}-{k}`.
///
/// With `pace`, each buyer sends on a schedule instead, one message every `pace`
/// (buyers spread evenly over the first interval), or at once when behind it; a
/// message's latency then runs from when it was due, not when it went out, so a
/// server that falls behind is not flattered by the buyers waiting for it.
#[allow(clippy::too_many_arguments)]
pub async fn buyers(
    http: &Http,
    port: u16,
    token: &str,
    buyers: usize,
    prefix: &str,
    tag: &str,
    warm_up: Duration,
    length: Duration,
    unique: bool,
    pace: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> Run {
    let started = Instant::now();
    let measure_from = started + warm_up;
    let until = measure_from + length;
    let mut tasks = Vec::new();
    for n in 0..buyers {
        let (http, token, stop) = (http.clone(), token.to_string(), stop.clone());
        let (buyer, tag) = (format!("{prefix}{n}"), tag.to_string());
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let mut k = 0usize;
            let mut due = pace.map(|p| (started + p.mul_f64(n as f64 / buyers as f64), p));
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                // When this message counts from: its due time when paced, else now.
                let t = match &mut due {
                    Some((at, p)) => {
                        if *at >= until {
                            break;
                        }
                        tokio::time::sleep_until((*at).into()).await;
                        let t = *at;
                        *at += *p;
                        t
                    }
                    None => Instant::now(),
                };
                k += 1;
                let text = question(n, k, unique);
                let id = format!("{tag}-{n}-{k}");
                match post_message(&http, port, &token, &buyer, &text, &id).await {
                    Ok((conversation, message, _)) => {
                        if t >= measure_from {
                            run.latencies.push(t.elapsed());
                            run.sent_at.push(t - measure_from);
                        }
                        run.acked.push(Acked {
                            buyer: buyer.clone(),
                            client_msg_id: id,
                            conversation,
                            message,
                        });
                    }
                    Err(_) => {
                        run.errors += 1;
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            run
        }));
    }
    let mut total = Run::default();
    for t in tasks {
        if let Ok(r) = t.await {
            total.acked.extend(r.acked);
            total.latencies.extend(r.latencies);
            total.sent_at.extend(r.sent_at);
            total.errors += r.errors;
        }
    }
    total.elapsed = Instant::now()
        .min(until)
        .saturating_duration_since(measure_from);
    total
}

/// Many concurrent GETs of `path` for `length`: requests per second and p99.
pub async fn gets(http: &Http, port: u16, path: &str, conns: usize, length: Duration) -> Run {
    let until = Instant::now() + length;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (http, path) = (http.clone(), path.to_string());
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            while Instant::now() < until {
                let t = Instant::now();
                match get(&http, port, &path, None).await {
                    Ok(_) => run.latencies.push(t.elapsed()),
                    Err(_) => run.errors += 1,
                }
            }
            run
        }));
    }
    let mut total = Run::default();
    for t in tasks {
        if let Ok(r) = t.await {
            total.latencies.extend(r.latencies);
            total.sent_at.extend(r.sent_at);
            total.errors += r.errors;
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// Where a data folder lives, for messages.
pub fn show(p: &Path) -> PathBuf {
    p.to_path_buf()
}

/// CPU time (user + system) of the process whose `stat` file is `path`.
pub fn cpu_of(path: &str) -> Duration {
    let ticks = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // Linux reports clock ticks of 1/100 s.
    Duration::from_millis(ticks * 10)
}

/// What the disk under `dir` does with the smallest durable write: 4 KiB written in
/// place into a file already on the disk, then `fdatasync`, every 2 ms for `length`.
/// No database is involved, so this is the floor under every commit's latency.
pub struct DiskProbe {
    pub syncs: Vec<Duration>,
    pub length: Duration,
}

impl DiskProbe {
    pub fn run(dir: &Path, length: Duration) -> std::io::Result<DiskProbe> {
        use rand::Rng;
        use std::os::unix::fs::FileExt;
        const SIZE: u64 = 16 << 20;
        let path = dir.join("disk-probe");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let block = vec![7u8; 1 << 20];
        for at in (0..SIZE).step_by(block.len()) {
            file.write_all_at(&block, at)?;
        }
        file.sync_all()?;
        let mut rng = rand::rng();
        let page = [9u8; 4096];
        let mut syncs = Vec::new();
        let started = Instant::now();
        while started.elapsed() < length {
            file.write_all_at(&page, rng.random_range(0..SIZE / 4096) * 4096)?;
            let t = Instant::now();
            file.sync_data()?;
            syncs.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = std::fs::remove_file(path);
        syncs.sort();
        Ok(DiskProbe {
            syncs,
            length: started.elapsed(),
        })
    }

    /// The sync time at fraction `p` (0..=1) of the sorted times.
    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.syncs.len();
        if n == 0 {
            return Duration::ZERO;
        }
        self.syncs[((n as f64 * p) as usize).min(n - 1)]
    }

    /// Syncs slower than `limit`, per second of probing.
    pub fn stalls_per_second(&self, limit: Duration) -> f64 {
        let slow = self.syncs.iter().filter(|d| **d > limit).count();
        slow as f64 / self.length.as_secs_f64()
    }
}
