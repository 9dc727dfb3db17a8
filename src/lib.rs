//! xiaoer (店小二): a self-hosted customer-service appliance for small e-commerce shops.
//!
//! Layers, with arrows pointing one way: `web` → `desk` → `store` → `model`.
#![forbid(unsafe_code)]

pub mod bot;
pub mod config;
pub mod desk;
pub mod error;
pub mod metrics;
pub mod model;
pub mod search;
pub mod store;
pub mod web;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use config::Config;
use desk::Desk;
use model::{Clock, SystemClock};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use web::limiter::{Limits, LoginLimiter, Throttle};

/// mimalloc instead of the system allocator, for the server, the CLI, tests and
/// benchmarks alike: in measurements (README, "Service speed") it carried more messages
/// per second and took about a third less time per reply over a small shop's KB, at
/// about 50 MB more resident memory.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Largest request body accepted by form and JSON handlers.
pub const MAX_BODY: usize = 256 * 1024;

/// Everything a request handler may use.
pub struct AppState {
    pub config: Arc<Config>,
    pub desk: Desk,
    pub limiter: LoginLimiter,
    /// Messages per web-chat buyer.
    pub chat_throttle: Throttle,
}

impl AppState {
    /// State over an open store, telling time by `clock`: loads the starter KB on first
    /// run and starts the bot with its index in `data/index/`, and history search with
    /// its index in `data/search/`.
    pub async fn open(
        config: Config,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<AppState, desk::Error> {
        // The decoy hash makes unknown-user logins as slow as wrong passwords; compute it
        // now rather than inside the first login.
        let _ = tokio::task::spawn_blocking(desk::auth::warm_up).await;
        let index = bot::index::Location::Dir(config.data_dir.join("index"));
        let desk = Desk::new(store, clock.clone()).open_bot(index).await?;
        let desk = desk.open_history(config.data_dir.join("search")).await?;
        Ok(AppState {
            config: Arc::new(config),
            desk,
            limiter: LoginLimiter::new(clock.clone(), Limits::default()),
            chat_throttle: Throttle::new(
                clock,
                web::chat::SEND_LIMIT,
                chrono::Duration::seconds(web::chat::SEND_WINDOW_SECS),
            ),
        })
    }
}

/// The application with every route and middleware; used by `run` and by tests.
pub fn build_app(
    state: actix_web::web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(actix_web::web::PayloadConfig::new(MAX_BODY))
        .configure(web::input_errors)
        .configure(web::configure)
        .default_service(actix_web::web::to(web::not_found))
        .wrap(from_fn(web::set_pre_cookie))
        .wrap(from_fn(web::security_headers))
        .wrap(Compress::default())
        .wrap(from_fn(web::log_request))
}

/// Opens the store in `config.data_dir`, binds `config.listen` and returns the server
/// (not yet awaited) with the addresses it listens on. Tests bind port 0 through this.
pub async fn serve(config: Config) -> anyhow::Result<(actix_web::dev::Server, Vec<SocketAddr>)> {
    let store = Store::open(&config.data_dir)?;
    let listen = config.listen.clone();
    let workers = config.workers;
    let index = config.data_dir.join("index");
    let state = AppState::open(config, store, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the bot (index {}): {e}", index.display()))?;
    let state = actix_web::web::Data::new(state);
    if state.desk.needs_setup()? {
        tracing::info!("no users yet: open the console to create the owner account");
    }
    spawn_session_purge(state.clone());
    spawn_day_keeper(state.clone());
    spawn_inspector(state.clone());
    web::webhooks::spawn(state.clone());
    let app_state = state.clone();
    let mut server = HttpServer::new(move || build_app(app_state.clone()));
    if workers > 0 {
        server = server.workers(workers);
    }
    // On SIGTERM or Ctrl-C, requests in flight get 5 s to finish; live event streams,
    // which never finish, are then cut (browsers and bridges reconnect and catch up).
    // actix's default of 30 s kept `systemctl stop` waiting for any open stream.
    let server = server
        .shutdown_timeout(5)
        .bind(&listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addrs = server.addrs();
    for addr in &addrs {
        tracing::info!(%addr, data = %state.config.data_dir.display(), "xiaoer is serving");
    }
    Ok((server.run(), addrs))
}

/// Serves until stopped (Ctrl-C / SIGTERM).
pub async fn run(config: Config) -> anyhow::Result<()> {
    let (server, _) = serve(config).await?;
    server.await?;
    Ok(())
}

/// Deletes ended sessions at start-up and then hourly.
fn spawn_session_purge(state: actix_web::web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match state.desk.purge_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged ended sessions"),
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
        }
    });
}

/// Once a minute after start, then hourly: counts and keeps the finished days of the
/// last month, so 数据看板 reads them instead of counting them at the first view, and
/// draws yesterday's conversations to score (质检抽检).
fn spawn_day_keeper(state: actix_web::web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        actix_web::rt::time::sleep(Duration::from_secs(60)).await;
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match state.desk.keep_finished_days(31).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(days = n, "kept the figures of finished days"),
                Err(e) => tracing::warn!(error = %e, "counting finished days failed"),
            }
            // 质检抽检: yesterday's conversations to score.
            let drawn = match state.desk.today() {
                Ok(today) => match today.pred_opt() {
                    Some(day) => state.desk.draw_samples(day).await,
                    None => Ok(0),
                },
                Err(e) => Err(e),
            };
            match drawn {
                Ok(0) => {}
                Ok(n) => tracing::info!(conversations = n, "drew conversations to score"),
                Err(e) => tracing::warn!(error = %e, "drawing conversations to score failed"),
            }
        }
    });
}

/// 质检 at close: every conversation that closes is inspected, off the request path.
fn spawn_inspector(state: actix_web::web::Data<AppState>) {
    let closes = state.desk.bus().subscribe_closes();
    actix_web::rt::spawn(state.desk.clone().inspect_closes(closes));
}
