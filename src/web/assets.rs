//! Static files embedded in the binary, served with a content-hash ETag and a long cache
//! lifetime; pages link them with `?v=<hash>` so a new build busts the cache.

use crate::error::AppError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

fn short_hash(hash: &[u8; 32]) -> String {
    crate::desk::auth::hex(&hash[..6])
}

/// `/static/<name>?v=<hash>` for an embedded file.
pub fn url(name: &str) -> String {
    match Static::get(name) {
        Some(f) => format!("/static/{name}?v={}", short_hash(&f.metadata.sha256_hash())),
        None => format!("/static/{name}"),
    }
}

/// GET /static/{path}
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let file = Static::get(&path).ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", short_hash(&file.metadata.sha256_hash()));
    // Versioned links (`?v=`) never change; a bare path (the widget script on shop
    // pages) is checked again each time so shops get a new version at once.
    let cache = if req.query_string().contains("v=") {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    };
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.metadata.mimetype()))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned()))
}
