//! `GET /healthz`: 200 with the version when the store answers a read, else 503.

use crate::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// GET /healthz
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.desk.store().check() {
        Ok(schema) => HttpResponse::Ok().json(json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "schema_version": schema,
        })),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            // Details (paths) go to the log only: this route is public.
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "error",
                "version": env!("CARGO_PKG_VERSION"),
                "error": "store unavailable",
            }))
        }
    }
}
