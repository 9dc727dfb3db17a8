//! One real server on a loopback port, through the same start-up code as `xiaoer serve`.

use std::io::{Read, Write};
use std::net::TcpStream;
use xiaoer::config::Config;

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// A server over the data folder `dir` on a free loopback port, with one worker.
async fn serve_here(dir: &std::path::Path) -> (actix_web::dev::ServerHandle, std::net::SocketAddr) {
    let mut config = Config::new(dir);
    config.listen = "127.0.0.1:0".into();
    config.workers = 1;
    let (server, addrs) = xiaoer::serve(config).await.expect("server starts");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (handle, addrs[0])
}

#[actix_web::test]
async fn healthz_answers_on_a_real_port() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) = serve_here(dir.path()).await;

    let res = actix_web::rt::task::spawn_blocking(move || {
        (http_get(addr, "/healthz"), http_get(addr, "/"))
    })
    .await
    .unwrap();
    let (health, home) = res;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    assert!(health.contains(env!("CARGO_PKG_VERSION")));
    // A fresh shop sends the first visitor to the owner setup.
    assert!(home.starts_with("HTTP/1.1 303"), "{home}");
    assert!(
        home.to_ascii_lowercase().contains("location: /setup"),
        "{home}"
    );
    handle.stop(true).await;
    assert!(dir.path().join("xiaoer.redb").exists());
}

#[actix_web::test]
async fn a_stop_does_not_wait_long_for_an_open_event_stream() {
    let dir = tempfile::tempdir().unwrap();
    let secret = {
        let store = xiaoer::store::Store::open(dir.path()).unwrap();
        let desk = xiaoer::desk::Desk::new(store, std::sync::Arc::new(xiaoer::model::SystemClock));
        let actor = xiaoer::desk::Actor::cli();
        desk.create_token(&actor, "bridge", "qianniu")
            .await
            .unwrap()
            .1
    };
    let (handle, addr) = serve_here(dir.path()).await;
    // A bridge's event stream: it never ends by itself.
    let stream = actix_web::rt::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        write!(
            s,
            "GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {secret}\r\n\r\n"
        )
        .expect("send");
        let mut head = [0u8; 12];
        s.read_exact(&mut head).expect("answer");
        (s, String::from_utf8_lossy(&head).to_string())
    })
    .await
    .unwrap();
    assert_eq!(stream.1, "HTTP/1.1 200");
    // The graceful stop gives requests in flight 5 s, then cuts the stream; actix's
    // default would have waited 30 s.
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(20), handle.stop(true)).await;
    assert!(stopped.is_ok(), "the stop waited for the open stream");
    drop(stream);
}
