//! The `xiaoer` binary: users from the command line, export/import (also while a server
//! runs), and one clear error line for a bad data folder.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xiaoer");

fn xiaoer(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("XIAOER_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xiaoer");
    // A command line that does not parse exits before reading its input: the pipe may
    // be closed by then.
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child.wait_with_output().expect("wait")
}

/// Creates the owner `boss` in `data` from the command line.
fn add_owner(data: &Path) {
    let o = xiaoer(
        data,
        &["user", "add", "--name", "boss", "--role", "owner"],
        "s3cret-pass\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command failed with one `error:` line that names `path`, and no panic.
fn assert_clear_error(o: &Output, path: &Path) {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(&path.display().to_string()), "{err}");
}

#[test]
fn user_add_reads_the_password_from_stdin_and_user_list_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_owner(&data);
    let o = xiaoer(
        &data,
        &[
            "user",
            "add",
            "--name",
            "mei",
            "--role",
            "agent",
            "--nickname",
            "小美",
        ],
        "another-pass\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));

    let o = xiaoer(&data, &["user", "list"], "");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("boss\t店主\towner\tactive"), "{out}");
    assert!(out.contains("mei\t小美\tagent\tactive"), "{out}");

    let o = xiaoer(
        &data,
        &["user", "add", "--name", "x", "--role", "admin"],
        "another-pass\n",
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown role"));
    let o = xiaoer(
        &data,
        &["user", "add", "--name", "y", "--role", "agent"],
        "short\n",
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("密码至少 8 位"), "{}", stderr(&o));
}

#[test]
fn export_then_import_into_an_empty_folder_gives_an_identical_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_owner(&data);
    let first = dir.path().join("first.jsonl");
    let o = xiaoer(&data, &["export", first.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", stderr(&o));

    let restored = dir.path().join("restored");
    let o = xiaoer(&restored, &["import", first.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = xiaoer(&restored, &["export", "-"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        std::fs::read_to_string(&first).unwrap()
    );

    // Importing again into the now non-empty folder is refused.
    let o = xiaoer(&restored, &["import", first.to_str().unwrap()], "");
    assert_clear_error(&o, &restored.join("xiaoer.redb"));
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `xiaoer serve` on a free port and waits until it listens.
fn start_server(data: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "--data",
            data.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("XIAOER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let err = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(err).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(l)) if l.contains("xiaoer is serving") => {
                // Keep draining the log so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return Server(child);
            }
            Some(Ok(_)) => continue,
            _ => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

#[test]
fn export_works_while_the_server_runs_and_a_second_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_owner(&data);
    let _server = start_server(&data);

    let o = xiaoer(&data, &["export", "-"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("{\"format\":\"xiaoer-export\""));
    assert!(out.contains("\"name\":\"boss\""));

    let o = xiaoer(&data, &["user", "list"], "");
    assert!(String::from_utf8(o.stdout).unwrap().contains("boss"));

    let o = xiaoer(&data, &["serve", "--listen", "127.0.0.1:0"], "");
    assert_clear_error(&o, &data.join("xiaoer.redb"));
    assert!(stderr(&o).contains("in use"), "{}", stderr(&o));
}

#[test]
fn a_data_folder_that_cannot_be_created_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let data = blocker.join("data");
    let o = xiaoer(&data, &["serve", "--listen", "127.0.0.1:0"], "");
    assert_clear_error(&o, &data);
}

#[test]
fn a_corrupt_data_file_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("xiaoer.redb");
    std::fs::write(&file, vec![0x5au8; 64 * 1024]).unwrap();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["export", "-"][..],
        &["user", "list"][..],
    ] {
        let o = xiaoer(dir.path(), args, "");
        assert_clear_error(&o, &file);
    }
}

#[test]
fn import_of_a_bad_file_reports_line_numbers_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"format\":\"xiaoer-export\",\"schema_version\":1,\"app_version\":\"0\"}\nnot json\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let o = xiaoer(&data, &["import", file.to_str().unwrap()], "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
    assert!(!data.join("xiaoer.redb").exists());
}

#[test]
fn kb_import_export_round_trip_in_jsonl_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let kb = dir.path().join("kb.jsonl");
    std::fs::write(
        &kb,
        "{\"id\": 1, \"question\": \"怎么退货\", \"answer\": \"A1\", \"similar\": [\"退货流程\"], \"source\": \"x\"}\n\
         {\"id\": \"ship\", \"question\": \"几天发货\", \"answer\": \"48小时\", \"follow_ups\": [\"1\"]}\n",
    )
    .unwrap();
    let o = xiaoer(&data, &["kb", "import", kb.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 added"), "{}", stderr(&o));

    let csv = dir.path().join("kb.csv");
    let o = xiaoer(&data, &["kb", "export", csv.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&csv).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV starts with a BOM for Excel"
    );
    assert!(String::from_utf8_lossy(&bytes).contains("退货流程"));

    // Re-importing the CSV with --replace gives the same entries back.
    let o = xiaoer(
        &data,
        &["kb", "import", "--replace", csv.to_str().unwrap()],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("0 added, 0 replaced, 2 unchanged, 0 removed"),
        "{}",
        stderr(&o)
    );
    let o = xiaoer(&data, &["kb", "export", "-"], "");
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 2);
    assert!(
        out.contains("\"id\":\"1\"") && out.contains("\"follow_ups\":[\"1\"]"),
        "{out}"
    );
}

#[test]
fn a_bad_kb_file_names_its_lines_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let kb = dir.path().join("bad.jsonl");
    std::fs::write(
        &kb,
        "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"x\"}\n{broken\n{\"id\":\"b\",\"question\":\"\",\"answer\":\"y\"}\n",
    )
    .unwrap();
    let o = xiaoer(&data, &["kb", "import", kb.to_str().unwrap()], "");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("line 2") && stderr(&o).contains("不是合法的 JSON（第 2 列）"),
        "{}",
        stderr(&o)
    );
    let o = xiaoer(&data, &["kb", "export", "-"], "");
    assert!(o.stdout.is_empty(), "nothing was imported");

    let dangling = dir.path().join("dangling.jsonl");
    std::fs::write(
        &dangling,
        "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"x\",\"follow_ups\":[\"nope\"]}\n",
    )
    .unwrap();
    let o = xiaoer(&data, &["kb", "import", dangling.to_str().unwrap()], "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
}

#[test]
fn eval_prints_the_figures_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb.jsonl");
    let queries = dir.path().join("q.jsonl");
    std::fs::write(
        &kb,
        "{\"id\":1,\"question\":\"怎么退货\",\"answer\":\"A1\",\"similar\":[\"退货流程是什么\"]}\n\
         {\"id\":2,\"question\":\"什么时候发货\",\"answer\":\"A2\",\"similar\":[\"几天发货\"]}\n",
    )
    .unwrap();
    std::fs::write(
        &queries,
        "{\"query\":\"请问怎么退货呀\",\"expected_id\":1}\n\
         {\"query\":\"今天天气怎么样\",\"expected_id\":null}\n\
         {\"query\":\"转人工\",\"expected_id\":null,\"expected_intent\":\"transfer\"}\n",
    )
    .unwrap();
    let o = Command::new(BIN)
        .args([
            "eval",
            "--kb",
            kb.to_str().unwrap(),
            "--queries",
            queries.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let keys: Vec<&str> = last
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "answerable",
        "top1",
        "answered_correct",
        "answered_wrong",
        "guided_hit",
        "fallback",
        "out_of_scope",
        "false_answer",
        "intents",
        "intent_correct",
        "p50_us",
        "p99_us",
    ];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(last["answerable"], 1);
    assert_eq!(last["top1"], 1.0);
    assert_eq!(last["out_of_scope"], 1);
    assert_eq!(last["false_answer"], 0.0);
    assert_eq!(last["intents"], 1);
    assert_eq!(last["intent_correct"], 1.0);
}

#[test]
fn eval_errors_say_where_the_expected_entry_stood() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb.jsonl");
    let queries = dir.path().join("q.jsonl");
    std::fs::write(
        &kb,
        "{\"id\":1,\"question\":\"怎么退货\",\"answer\":\"A1\"}\n\
         {\"id\":2,\"question\":\"退货运费谁出\",\"answer\":\"A2\"}\n",
    )
    .unwrap();
    // "退货" is closest to entry 1; entry 2 is the runner-up.
    std::fs::write(&queries, "{\"query\":\"退货\",\"expected_id\":2}\n").unwrap();
    let o = Command::new(BIN)
        .args(["eval", "--kb", kb.to_str().unwrap()])
        .args(["--queries", queries.to_str().unwrap(), "--errors"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let miss = out.lines().next().unwrap();
    assert!(miss.starts_with("退货\texpected 2 (#2)\tgot "), "{out}");
}

#[test]
fn token_create_prints_the_secret_once_and_list_and_revoke_follow() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = xiaoer(&data, &["token", "create", "qianniu"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let secret = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(secret.trim().starts_with("xr_"), "{secret}");
    assert!(stderr(&o).contains("channel qianniu"), "{}", stderr(&o));

    let o = xiaoer(
        &data,
        &["token", "create", "抖店桥", "--channel", "doudian"],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));

    let o = xiaoer(&data, &["token", "list"], "");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("1\tqianniu\tqianniu\t"), "{out}");
    assert!(out.contains("2\t抖店桥\tdoudian\t"), "{out}");
    assert!(!out.contains("xr_"), "secrets are never listed: {out}");

    let o = xiaoer(&data, &["token", "revoke", "1"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(xiaoer(&data, &["token", "list"], "").stdout).unwrap();
    assert!(out.lines().next().unwrap().ends_with("revoked"), "{out}");

    // A channel name that is not a channel, and an unknown id, are clear errors.
    let o = xiaoer(&data, &["token", "create", "千牛"], "");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("渠道名"), "{}", stderr(&o));
    // Without --channel the name was the channel: the error says so, and how to fix it.
    assert!(stderr(&o).contains("--channel"), "{}", stderr(&o));
    let o = xiaoer(&data, &["token", "create", "千牛", "--channel", "千牛"], "");
    assert!(!stderr(&o).contains("without --channel"), "{}", stderr(&o));
    let o = xiaoer(&data, &["token", "revoke", "9"], "");
    assert!(!o.status.success());
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
}

/// Two buyers on 2026-11-23 (Shanghai): one answered by the bot, one who asks for a
/// human and waits in the queue.
async fn two_buyers(data: &Path) {
    use xiaoer::desk::service::Incoming;
    let clock = std::sync::Arc::new(xiaoer::model::ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")
            .unwrap()
            .to_utc(),
    ));
    let store = xiaoer::store::Store::open(data).unwrap();
    let config = xiaoer::config::Config::new(data);
    let state = xiaoer::AppState::open(config, store, clock.clone())
        .await
        .unwrap();
    let say = |buyer: &str, text: &str| Incoming {
        channel: "web".into(),
        buyer: buyer.into(),
        text: text.into(),
        ..Incoming::default()
    };
    state
        .desk
        .on_buyer_message(say("b1", "包邮吗"))
        .await
        .unwrap();
    clock.advance(chrono::Duration::seconds(20));
    state
        .desk
        .on_buyer_message(say("b2", "包邮吗"))
        .await
        .unwrap();
    clock.advance(chrono::Duration::seconds(20));
    let o = state
        .desk
        .on_buyer_message(say("b2", "转人工"))
        .await
        .unwrap();
    assert_eq!(o.conv.state.as_str(), "queued");
    // The commands that follow run in other processes: the store must be closed first.
    drop(state);
    drop(common::reopen(data).await);
}

#[actix_web::test]
async fn metrics_prints_every_figure_for_a_date_range() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_buyers(&data).await;
    add_owner(&data);
    let o = xiaoer(
        &data,
        &[
            "metrics",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
            "--json",
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(v["conversations"], 2, "{v}");
    assert_eq!(v["first_response_avg_s"], 0.0, "the bot answers at once");
    assert_eq!(v["first_response_30s_rate"], 1.0);
    assert_eq!(v["transfer_rate"], 0.5);
    assert_eq!(v["first_ask_completion_rate"], 0.5);
    assert_eq!(v["bot_resolution_rate"], 0.5);
    assert!(v["satisfaction_rate"].is_null(), "no ratings yet");
    assert_eq!(v["from"], "2026-11-23");
    // Without --json: the figures as the pages name and show them.
    let o = xiaoer(
        &data,
        &["metrics", "--from", "2026-11-23", "--to", "2026-11-23"],
        "",
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("数据指标 2026-11-23 至 2026-11-23")
            && out.contains("首次30秒应答率\t100.0%")
            && out.contains("满意率\t—"),
        "{out}"
    );

    // Another day has nothing; bad input is one clear error.
    let o = xiaoer(
        &data,
        &[
            "metrics",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-30",
            "--json",
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["conversations"], 0);
    for args in [
        ["--from", "2026-11-23", "--to", "2026-11-01"],
        ["--from", "11/23", "--to", "2026-11-23"],
    ] {
        let mut all = vec!["metrics"];
        all.extend(args);
        let o = xiaoer(&data, &all, "");
        assert!(
            !o.status.success() && stderr(&o).starts_with("error:"),
            "{}",
            stderr(&o)
        );
    }
    let o = xiaoer(
        &data,
        &[
            "metrics",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
            "--agent",
            "nobody",
        ],
        "",
    );
    assert!(stderr(&o).contains("no user named"), "{}", stderr(&o));
}

#[test]
fn import_history_loads_once_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_owner(&data);
    let file = dir.path().join("history.jsonl");
    std::fs::write(
        &file,
        r#"{"id":"h1","channel":"taobao","buyer_id":"u1","messages":[{"at":"2026-11-20T02:00:00Z","from":"buyer","text":"在吗"},{"at":"2026-11-20T02:00:35Z","from":"agent:boss","text":"在的"}]}
"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let o = xiaoer(&data, &["import-history", path], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("imported 1 conversations (2 messages)"),
        "{}",
        stderr(&o)
    );
    let o = xiaoer(&data, &["import-history", path], "");
    assert!(
        stderr(&o).contains("imported 0 conversations") && stderr(&o).contains("1 imported before")
    );
    let o = xiaoer(
        &data,
        &[
            "metrics",
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-20",
            "--agent",
            "boss",
            "--json",
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["conversations"], 1, "{v}");
    assert_eq!(v["first_response_avg_s"], 35.0);
    // An agent named only in the history (no account here) is known by that name.
    let former = dir.path().join("former.jsonl");
    std::fs::write(
        &former,
        r#"{"id":"h2","channel":"taobao","buyer_id":"u2","messages":[{"at":"2026-11-20T03:00:00Z","from":"buyer","text":"包邮吗"},{"at":"2026-11-20T03:00:01Z","from":"bot","text":"满59包邮"},{"at":"2026-11-20T03:00:10Z","from":"buyer","text":"转人工"},{"at":"2026-11-20T03:00:30Z","from":"agent:xiaolin","text":"在的亲"}]}
"#,
    )
    .unwrap();
    let o = xiaoer(&data, &["import-history", former.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let day = ["metrics", "--from", "2026-11-20", "--to", "2026-11-20"];
    let o = xiaoer(
        &data,
        &[&day[..], &["--agent", "xiaolin", "--json"]].concat(),
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["conversations"], 1, "{v}");
    // The history does not say how the bot matched: its answer rate is unknown, not 0.
    let o = xiaoer(&data, &[&day[..], &["--json"]].concat(), "");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["conversations"], 2, "{v}");
    assert!(v["bot_answer_rate"].is_null(), "{v}");

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{}\nnot json\n").unwrap();
    let o = xiaoer(&data, &["import-history", bad.to_str().unwrap()], "");
    assert_clear_error(&o, &bad);
    let err = stderr(&o);
    assert!(
        err.contains("bad.jsonl:1:") && err.contains("bad.jsonl:2:"),
        "{err}"
    );
    // serde's English stays out of it.
    assert!(
        err.contains("缺少字段") && err.contains("不是合法的 JSON") && !err.contains("expected"),
        "{err}"
    );
}
