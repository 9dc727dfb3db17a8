//! The service rules: what may happen, in which order, and what gets recorded. Web
//! handlers and the CLI call one `Desk` method per action; the desk validates, applies
//! the change in one store transaction (with its audit entry) and returns the outcome.

pub mod agents;
pub mod auth;
pub mod channels;
pub mod conversation;
pub mod crm;
pub mod dashboard;
pub mod events;
pub mod history;
pub mod import;
pub mod kb;
pub mod kbedit;
pub mod monitor;
pub mod qa;
pub mod routing;
pub mod scenes;
pub mod service;
#[cfg(test)]
mod service_tests;
pub mod settings;
pub mod switches;
pub mod tickets;
pub mod training;
pub mod users;
pub mod webchat;
pub mod workspace;

use crate::model::{Clock, Invalid, NewAudit, User, UserId};
use crate::store::{self, Store};
use std::sync::Arc;

/// What a desk action can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(store::Error),
    /// The submitted data breaks a rule; shown beside the form fields.
    #[error("{0}")]
    Invalid(Invalid),
    /// The thing acted on does not exist.
    #[error("not found")]
    NotFound,
    /// A business rule forbids the action; the message is for the user.
    #[error("{0}")]
    Refused(String),
    /// The user's role or groups do not allow it.
    #[error("您没有权限查看或处理这个会话")]
    Forbidden,
    /// Wrong login name or password.
    #[error("用户名或密码错误")]
    BadCredentials,
    /// The account is disabled.
    #[error("该账号已停用，请联系店主")]
    Disabled,
    /// Password hashing failed (should not happen).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The bot's index failed.
    #[error("bot: {0}")]
    Bot(String),
    /// The history search index failed.
    #[error("search: {0}")]
    Search(String),
}

/// A record the store did not find is the desk's `NotFound`; anything else is a store
/// failure. (A store conflict stays a store error unless the caller says it is a
/// refusal: see [`agents::conflict`].)
impl From<store::Error> for Error {
    fn from(e: store::Error) -> Error {
        match e {
            store::Error::NotFound => Error::NotFound,
            other => Error::Store(other),
        }
    }
}

impl From<crate::search::Error> for Error {
    fn from(e: crate::search::Error) -> Error {
        Error::Search(e.to_string())
    }
}

impl From<Invalid> for Error {
    fn from(i: Invalid) -> Error {
        Error::Invalid(i)
    }
}

/// Shorthand for desk results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who performs an action, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<UserId>,
    pub name: String,
}

impl Actor {
    /// A logged-in user.
    pub fn user(u: &User) -> Actor {
        Actor {
            id: Some(u.id),
            name: u.name.clone(),
        }
    }

    /// The command line (run by whoever holds the data folder).
    pub fn cli() -> Actor {
        Actor {
            id: None,
            name: "命令行".into(),
        }
    }
}

/// The service desk: every rule of the appliance, over the store and a clock.
#[derive(Clone)]
pub struct Desk {
    store: Store,
    clock: Arc<dyn Clock>,
    sessions: auth::SessionPolicy,
    /// The bot, once `open_bot` ran (servers); command-line tools go without.
    bot: Option<Arc<crate::bot::Engine>>,
    /// The history search index, once `open_history` ran (servers).
    history: Option<Arc<crate::search::History>>,
    /// Held from a KB store write until the bot has the change, so changes reach the
    /// bot in the order the store committed them.
    kb_lock: Arc<tokio::sync::Mutex<()>>,
    /// Live events for SSE streams, and the webhook worker's doorbell.
    bus: events::Bus,
    /// Live API tokens by hash, loaded on first use and dropped when tokens change:
    /// bridges call on every message, and this saves each call a read transaction.
    tokens:
        Arc<std::sync::RwLock<Option<std::collections::HashMap<String, crate::model::ApiToken>>>>,
    /// The set-up every buyer message reads, kept while the store's configuration
    /// generation stands (see `service::Setup`).
    setup: Arc<std::sync::RwLock<Option<Arc<service::Setup>>>>,
}

impl Desk {
    /// A desk over `store`, telling time by `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Desk {
        Desk {
            store,
            clock,
            sessions: auth::SessionPolicy::default(),
            bot: None,
            history: None,
            kb_lock: Arc::default(),
            bus: events::Bus::default(),
            tokens: Arc::default(),
            setup: Arc::default(),
        }
    }

    /// The store underneath, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The live event bus.
    pub fn bus(&self) -> &events::Bus {
        &self.bus
    }

    /// The clock the desk tells time by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn audit(&self, actor: &Actor, action: &'static str, target: &str, detail: String) -> NewAudit {
        NewAudit {
            at: self.clock.now(),
            actor_id: actor.id,
            actor_name: actor.name.clone(),
            action,
            target: target.to_string(),
            detail,
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::model::ManualClock;
    use chrono::{TimeZone, Utc};

    /// A desk over a temp store with a manual clock at 2026-11-22 10:00 Shanghai time.
    pub fn desk() -> (tempfile::TempDir, Desk, Arc<ManualClock>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap(),
        ));
        (dir, Desk::new(store, clock.clone()), clock)
    }
}
