//! The owner's backup page and the streamed download of a full export.

use super::extract::{OwnerOnly, Require};
use super::page::PageCtx;
use crate::AppState;
use crate::desk::Actor;
use crate::error::AppError;
use crate::store::export;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

#[derive(Template, WebTemplate)]
#[template(path = "admin/backup.html")]
pub struct BackupPage {
    pub ctx: PageCtx,
    pub data_dir: String,
}

/// GET /settings/backup
pub async fn page(state: web::Data<AppState>, _me: Require<OwnerOnly>, ctx: PageCtx) -> BackupPage {
    let data_dir = state.config.data_dir.display().to_string();
    BackupPage { ctx, data_dir }
}

/// GET /settings/backup/download — every table as JSON Lines, one consistent snapshot,
/// streamed while it is written.
pub async fn download(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
) -> Result<HttpResponse, AppError> {
    // Named in the shop's time, as the seller's clock reads.
    let tz = state.desk.settings()?.tz();
    let stamp = state
        .desk
        .clock()
        .now()
        .with_timezone(&tz)
        .format("%Y%m%d-%H%M%S");
    let file = format!("xiaoer-backup-{stamp}.jsonl");
    // Recorded first, so the backup holds its own audit entry.
    state
        .desk
        .note_backup(&Actor::user(&me.user), &file)
        .await?;
    let store = state.desk.store().clone();
    let snapshot = store.read()?;
    let (tx, rx) = mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            buf: Vec::with_capacity(CHUNK),
            tx,
        };
        if let Err(e) = export::export(&snapshot, &mut out) {
            tracing::warn!(error = %e, "backup download failed");
            let _ = out.tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(file)],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"))
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(ChunkStream(rx)))
}

const CHUNK: usize = 64 * 1024;

type Chunk = Result<Bytes, io::Error>;

/// Sends what is written in 64 KiB chunks; fails once the client has gone.
struct ChannelWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

struct ChunkStream(mpsc::Receiver<Chunk>);

impl futures_core::Stream for ChunkStream {
    type Item = Chunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

/// POST /settings/backup/history — a history file as the body (the page uploads it with
/// a progress bar); every line checked first, nothing stored unless all are good.
pub async fn import_history(
    state: web::Data<AppState>,
    me: Require<OwnerOnly>,
    csrf: super::extract::CsrfHeader,
    payload: web::Payload,
) -> Result<actix_web::HttpResponse, AppError> {
    use super::kb::{import_report, read_upload};
    csrf.check()?;
    let body = read_upload(payload).await?;
    let convs = match crate::desk::import::read(&body[..]) {
        Ok(c) => c,
        Err(bad) => return Ok(import_report(Err(bad))),
    };
    let s = state
        .desk
        .import_history(&crate::desk::Actor::user(&me.user), convs)
        .await?;
    Ok(import_report(Ok(serde_json::json!({
        "conversations": s.imported, "messages": s.messages, "skipped": s.skipped,
    }))))
}
