//! Server-sent events. A stream first replays the stored events after the client's last
//! seen id (`Last-Event-ID` or `?after=`), then follows the live bus. Whenever the bus
//! skips ahead (events of concurrent commits can be published out of order, or a slow
//! client lags), the stream reads the gap from the store instead: nothing is missed,
//! nothing is sent twice.

use crate::AppState;
use crate::error::AppError;
use crate::model::Event;
use crate::store::prelude::*;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// One SSE frame to send for an event: its name and JSON data.
pub type Frame = (&'static str, serde_json::Value);

/// The client's last seen event id: `Last-Event-ID`, else `?after=`, else the newest
/// event committed (a new subscriber starts from now, not from the beginning of time).
/// A cursor that is not a number is refused: ignoring it would start the stream from
/// now and silently skip what the client missed.
pub fn last_seen(req: &HttpRequest, state: &AppState) -> Result<u64, AppError> {
    let bad = |v: &str| AppError::BadRequest(format!("事件序号应为非负整数：{v}"));
    if let Some(v) = req.headers().get("last-event-id") {
        let v = v.to_str().map_err(|_| bad("（无法读取）"))?.trim();
        return v.parse().map_err(|_| bad(v));
    }
    let q = actix_web::web::Query::<std::collections::HashMap<String, String>>::from_query(
        req.query_string(),
    )
    .map_err(|_| AppError::BadRequest("查询参数有误".into()))?;
    match q.get("after") {
        Some(v) => v.trim().parse().map_err(|_| bad(v)),
        None => Ok(state.desk.store().read()?.last_event_seq()?),
    }
}

/// The event stream after `after`, each event turned into a frame by `frame` (events it
/// returns `None` for are skipped).
pub fn stream(
    state: Data<AppState>,
    after: u64,
    frame: impl Fn(&AppState, &Event) -> Option<Frame> + 'static,
) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let bus = state.desk.bus().subscribe();
    actix_web::rt::spawn(pump(state, after, bus, tx, frame));
    HttpResponse::Ok()
        .insert_header(("content-type", "text/event-stream"))
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(Frames(rx))
}

const KEEP_ALIVE: Duration = Duration::from_secs(15);
const CATCH_UP_BATCH: usize = 500;

async fn pump(
    state: Data<AppState>,
    mut last: u64,
    mut bus: broadcast::Receiver<Arc<Event>>,
    tx: mpsc::Sender<Bytes>,
    frame: impl Fn(&AppState, &Event) -> Option<Frame>,
) {
    // `retry` asks browsers to reconnect after 2 s.
    if tx
        .send(Bytes::from_static(b"retry: 2000\n\n"))
        .await
        .is_err()
    {
        return;
    }
    let send = |e: &Event| {
        frame(&state, e).map(|(name, data)| {
            Bytes::from(format!("id: {}\nevent: {name}\ndata: {data}\n\n", e.seq))
        })
    };
    let mut behind = true;
    let mut tick = actix_web::rt::time::interval(KEEP_ALIVE);
    loop {
        if behind {
            // Read everything committed after `last` from the store.
            loop {
                let batch = match state
                    .desk
                    .store()
                    .read()
                    .and_then(|r| r.events_after(last, CATCH_UP_BATCH))
                {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream catch-up failed");
                        return;
                    }
                };
                let full = batch.len() == CATCH_UP_BATCH;
                for e in &batch {
                    last = e.seq;
                    if let Some(b) = send(e)
                        && tx.send(b).await.is_err()
                    {
                        return;
                    }
                }
                if !full {
                    break;
                }
            }
            behind = false;
        }
        tokio::select! {
            got = bus.recv() => match got {
                Ok(e) if e.seq <= last => {}
                Ok(e) if e.seq == last + 1 => {
                    last = e.seq;
                    if let Some(b) = send(&e)
                        && tx.send(b).await.is_err()
                    {
                        return;
                    }
                }
                // A gap or a lag: the store has it all.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => behind = true,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The response body: frames as they come.
struct Frames(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Frames {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}
