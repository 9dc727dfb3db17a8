//! The concrete store over one redb file: `data/xiaoer.redb`.
//!
//! Reads open a read transaction on the caller's thread (MVCC, never blocked by writes).
//! Writes go through the [`writer`]: one thread batches concurrent requests into one
//! durable transaction (group commit) and answers each caller after the commit.

pub mod audit;
pub mod codec;
pub mod convs;
pub mod export;
pub(crate) mod hot;
pub mod kb;
pub mod migrate;
pub mod qa;
pub mod receipts;
pub mod service;
pub mod sessions;
pub mod settings;
pub mod tables;
pub mod tickets;
pub mod training;
pub mod users;
pub mod writer;

use redb::{
    ConcurrencyMode, Database, DatabaseError, ReadOnlyDatabase, ReadTransaction, ReadableDatabase,
    ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle, WriteTransaction,
};
use std::cell::{OnceCell, RefCell, RefMut};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use writer::Writer;

/// The data file's name inside the data folder.
pub const DB_FILE: &str = "xiaoer.redb";

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// redb reported an error.
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// A stored record could not be decoded.
    #[error("corrupt record in table {table}: {message}")]
    Codec {
        table: &'static str,
        message: String,
    },
    /// The record asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The write would break a uniqueness or state rule; the message is for the user.
    #[error("{0}")]
    Conflict(String),
    /// The file was written by a newer build.
    #[error(
        "data file {path} has schema version {found}, newer than this xiaoer understands (up to {supported}); run a newer xiaoer"
    )]
    TooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    /// Another process (a running server) has the file open for writing.
    #[error(
        "data file {path} is in use by another xiaoer process (a running server?); stop it first"
    )]
    InUse { path: PathBuf },
    /// The file cannot be opened (missing folder rights, damaged file, …).
    #[error("cannot open data file {path}: {message}")]
    Open { path: PathBuf, message: String },
    /// The writer thread is gone (the store is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    /// A batched write failed as a whole (I/O error on commit).
    #[error("write failed: {0}")]
    Batch(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Db(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Shorthand for store results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A handle to the open store; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    // Field order matters: the writer is dropped (and joined) before the database.
    writer: Writer,
    db: Arc<Database>,
    path: PathBuf,
    /// Recent message receipts, for retries (see `receipts.rs`).
    receipts: Arc<receipts::Recent>,
    /// Buyers and conversations as last committed (see `hot.rs`).
    hot: Arc<hot::Hot>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, migrating an older file.
    pub fn open(dir: &Path) -> Result<Store> {
        Store::open_with(dir, migrate::CURRENT, migrate::MIGRATIONS)
    }

    pub(crate) fn open_with(
        dir: &Path,
        target: u64,
        steps: &[migrate::Migration],
    ) -> Result<Store> {
        let db = Arc::new(open_migrated(dir, target, steps)?);
        let path = dir.join(DB_FILE);
        let receipts = receipts::Recent::load(&ReadTx::snapshot(db.begin_read()?))?;
        let hot = Arc::new(hot::Hot::default());
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Writer::start(db.clone(), receipts.clone(), hot.clone()),
                db,
                path,
                receipts,
                hot,
            }),
        })
    }

    /// What the message sent under the receipt key `key` produced, when it is
    /// remembered (see `receipts.rs`). Receipts are added before their writes are
    /// acknowledged.
    pub fn receipt(&self, key: &str) -> Option<convs::ClientMsg> {
        self.inner.receipts.get(key)
    }

    /// The data file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Starts a consistent read snapshot.
    pub fn read(&self) -> Result<ReadTx> {
        Ok(ReadTx::snapshot(self.inner.db.begin_read()?))
    }

    /// Counts the commits that changed the shop settings, the reception settings or the
    /// scene switches. What a read transaction begun after this was read finds of
    /// them is at least as new as this generation, so a reader may keep what it
    /// decoded, tagged with the generation read first, until the number moves.
    pub fn config_generation(&self) -> u64 {
        self.inner.hot.config_generation()
    }

    /// Starts a read snapshot in which buyers and conversations are the newest
    /// committed, which may be newer than the rest of the snapshot (see `hot.rs`). For
    /// a reader that needs no more than that, such as the buyer's message path, whose
    /// plan the writer checks against the conversation again.
    pub fn read_newest(&self) -> Result<ReadTx> {
        Ok(ReadTx {
            hot: Some(self.inner.hot.clone()),
            ..self.read()?
        })
    }

    /// Runs `op` inside a batched write transaction and returns its result once the
    /// transaction is durably committed. `op` may run more than once (a batch that fails
    /// is retried one request at a time), so it must only depend on its captures and the
    /// transaction.
    pub async fn write<R, F>(&self, op: F) -> Result<R>
    where
        F: FnMut(&WriteTx) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        self.inner.writer.submit(op).await
    }

    /// Checks that the file answers a read (for `/healthz`).
    pub fn check(&self) -> Result<u64> {
        self.read()?.schema_version()
    }
}

fn open_database(dir: &Path) -> Result<Database> {
    let path = dir.join(DB_FILE);
    std::fs::create_dir_all(dir).map_err(|e| Error::Open {
        path: path.clone(),
        message: format!("cannot create the data folder: {e}"),
    })?;
    Database::builder()
        .set_concurrency_mode(ConcurrencyMode::SingleWriter)
        .create(&path)
        .map_err(|e| open_error(&path, e))
}

/// Opens the data file in `dir` and brings it to schema `target`.
fn open_migrated(dir: &Path, target: u64, steps: &[migrate::Migration]) -> Result<Database> {
    let db = open_database(dir)?;
    migrate::migrate(&db, &dir.join(DB_FILE), target, steps)?;
    Ok(db)
}

fn open_error(path: &Path, e: DatabaseError) -> Error {
    let message = match e {
        DatabaseError::DatabaseAlreadyOpen => {
            return Error::InUse {
                path: path.to_path_buf(),
            };
        }
        DatabaseError::Storage(redb::StorageError::Io(io)) => io.to_string(),
        DatabaseError::Storage(redb::StorageError::Corrupted(m)) => {
            format!("the file is damaged ({m}); restore it from a backup")
        }
        other => other.to_string(),
    };
    Error::Open {
        path: path.to_path_buf(),
        message,
    }
}

/// A read-only view of a data folder that may be in use by a running server: the live
/// file is opened read-only alongside it, or normally when no server holds it.
pub struct Snapshot {
    tx: ReadTx,
    _db: SnapshotDb,
}

// Held only to keep the file open while the snapshot is read.
#[allow(dead_code)]
enum SnapshotDb {
    Own(Database),
    Shared(ReadOnlyDatabase),
}

impl Snapshot {
    /// Opens `dir` for reading; works while a server runs on the same folder.
    pub fn open(dir: &Path) -> Result<Snapshot> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(Error::Open {
                path,
                message: "no such file (is --data pointing at the right folder?)".into(),
            });
        }
        // No server: the file is opened (and migrated) as the server would, without
        // its writer thread or receipt index, which a read needs neither of.
        match open_migrated(dir, migrate::CURRENT, migrate::MIGRATIONS) {
            Ok(db) => Ok(Snapshot {
                tx: ReadTx::snapshot(db.begin_read()?),
                _db: SnapshotDb::Own(db),
            }),
            Err(Error::InUse { .. }) => {
                let db = Database::builder()
                    .set_concurrency_mode(ConcurrencyMode::SingleWriter)
                    .open_read_only(&path)
                    .map_err(|e| open_error(&path, e))?;
                let tx = ReadTx::snapshot(db.begin_read()?);
                migrate::check_readable(&tx, &path)?;
                Ok(Snapshot {
                    tx,
                    _db: SnapshotDb::Shared(db),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The snapshot's read transaction.
    pub fn tx(&self) -> &ReadTx {
        &self.tx
    }
}

/// A read transaction: one consistent view of every table.
pub struct ReadTx {
    tx: ReadTransaction,
    /// Newer buyers and conversations, for [`Store::read_newest`].
    hot: Option<Arc<hot::Hot>>,
}

/// Reading through either kind of transaction. Each entity file adds its reads as an
/// extension trait over this one (all re-exported in [`prelude`]), so a read is written
/// once and works inside a write transaction too.
pub trait Reads {
    /// The table type this transaction opens.
    type Table<K: redb::Key + 'static, V: redb::Value + 'static>: ReadableTable<K, V>
        + ReadableTableMetadata;
    /// What [`Reads::table`] hands out: the table, or a loan of one the transaction keeps
    /// open.
    type Handle<'s, K: redb::Key + 'static, V: redb::Value + 'static>: Deref<
        Target = Self::Table<K, V>,
    >
    where
        Self: 's;

    /// Opens a table (every table exists: they are created when the store opens).
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Handle<'_, K, V>>
    where
        (K, V): Pair<K = K, V = V>;

    /// Conversation `id` as this transaction may read it without the file (see
    /// `hot.rs`): one it has put itself, or the newest committed.
    fn known_conv(&self, _id: u64) -> Option<Arc<crate::model::Conversation>> {
        None
    }

    /// Buyer `id`, like [`Reads::known_conv`].
    fn known_buyer(&self, _id: u64) -> Option<Arc<crate::model::Buyer>> {
        None
    }
}

impl Reads for ReadTx {
    type Table<K: redb::Key + 'static, V: redb::Value + 'static> = redb::ReadOnlyTable<K, V>;
    type Handle<'s, K: redb::Key + 'static, V: redb::Value + 'static> =
        Box<redb::ReadOnlyTable<K, V>>;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Handle<'_, K, V>>
    where
        (K, V): Pair<K = K, V = V>,
    {
        Ok(Box::new(self.tx.open_table(def)?))
    }

    fn known_conv(&self, id: u64) -> Option<Arc<crate::model::Conversation>> {
        self.hot.as_ref()?.convs.get(id)
    }

    fn known_buyer(&self, id: u64) -> Option<Arc<crate::model::Buyer>> {
        self.hot.as_ref()?.buyers.get(id)
    }
}

impl<'a> Reads for WriteTx<'a> {
    type Table<K: redb::Key + 'static, V: redb::Value + 'static> = redb::Table<'a, K, V>;
    type Handle<'s, K: redb::Key + 'static, V: redb::Value + 'static>
        = Handle<'s, 'a, K, V>
    where
        Self: 's;

    /// Tables of [`tables::ALL`] stay open until the transaction ends: opening one costs
    /// a lookup in redb's table tree and its type checks, which a batch of a hundred
    /// messages would otherwise pay over a thousand times.
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Handle<'_, K, V>>
    where
        (K, V): Pair<K = K, V = V>,
    {
        let Some(slot) = tables::ALL.iter().position(|t| t.name() == def.name()) else {
            return Ok(Handle::Own(self.tx.open_table(def)?));
        };
        let shelf = <(K, V)>::shelf(&self.open)
            .get_or_init(|| tables::ALL.iter().map(|_| OnceCell::new()).collect());
        let Some(cell) = shelf.get(slot) else {
            return Ok(Handle::Own(self.tx.open_table(def)?));
        };
        let cell = match cell.get() {
            Some(c) => c,
            None => {
                let t = self.tx.open_table(def)?;
                cell.get_or_init(|| RefCell::new(t))
            }
        };
        match cell.try_borrow_mut() {
            Ok(t) => Ok(Handle::Lent(t)),
            Err(_) => Err(redb::TableError::TableAlreadyOpen(
                def.name().to_string(),
                std::panic::Location::caller(),
            )
            .into()),
        }
    }

    fn known_conv(&self, id: u64) -> Option<Arc<crate::model::Conversation>> {
        let hot = self.hot?;
        let staged = self.staged.borrow().convs.get(&id).cloned();
        staged.or_else(|| hot.convs.get(id))
    }

    fn known_buyer(&self, id: u64) -> Option<Arc<crate::model::Buyer>> {
        let hot = self.hot?;
        let staged = self.staged.borrow().buyers.get(&id).cloned();
        staged.or_else(|| hot.buyers.get(id))
    }
}

/// The tables a write transaction keeps open, one shelf per key and value type (see
/// [`tables::AnyTable`]), each with a place per table of [`tables::ALL`].
#[derive(Default)]
pub struct Open<'a> {
    str_num: Shelf<'a, &'static str, u64>,
    num_doc: Shelf<'a, u64, &'static [u8]>,
    str_doc: Shelf<'a, &'static str, &'static [u8]>,
    num_num: Shelf<'a, u64, u64>,
    pair_doc: Shelf<'a, (u64, u64), &'static [u8]>,
    pair_num: Shelf<'a, (u64, u64), u64>,
}

type Shelf<'a, K, V> = OnceCell<Box<[OnceCell<RefCell<redb::Table<'a, K, V>>>]>>;

/// A key and value type of the store's tables: which shelf of [`Open`] holds them.
pub trait Pair {
    type K: redb::Key + 'static;
    type V: redb::Value + 'static;
    fn shelf<'c, 'a>(open: &'c Open<'a>) -> &'c Shelf<'a, Self::K, Self::V>;
}

macro_rules! pairs {
    ($($field:ident: ($k:ty, $v:ty)),*) => {$(
        impl Pair for ($k, $v) {
            type K = $k;
            type V = $v;
            fn shelf<'c, 'a>(open: &'c Open<'a>) -> &'c Shelf<'a, $k, $v> {
                &open.$field
            }
        }
    )*};
}
pairs!(
    str_num: (&'static str, u64),
    num_doc: (u64, &'static [u8]),
    str_doc: (&'static str, &'static [u8]),
    num_num: (u64, u64),
    pair_doc: ((u64, u64), &'static [u8]),
    pair_num: ((u64, u64), u64)
);

/// A table of a write transaction: lent from the transaction's open tables, or opened
/// for this use alone (a table outside [`tables::ALL`]).
pub enum Handle<'s, 'a, K: redb::Key + 'static, V: redb::Value + 'static> {
    Lent(RefMut<'s, redb::Table<'a, K, V>>),
    Own(redb::Table<'a, K, V>),
}

impl<'a, K: redb::Key + 'static, V: redb::Value + 'static> Deref for Handle<'_, 'a, K, V> {
    type Target = redb::Table<'a, K, V>;
    fn deref(&self) -> &Self::Target {
        match self {
            Handle::Lent(t) => t,
            Handle::Own(t) => t,
        }
    }
}

impl<K: redb::Key + 'static, V: redb::Value + 'static> DerefMut for Handle<'_, '_, K, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Handle::Lent(t) => t,
            Handle::Own(t) => t,
        }
    }
}

/// Every read trait, for `use crate::store::prelude::*`.
pub mod prelude {
    pub use super::Reads;
    pub use super::audit::AuditReads;
    pub use super::convs::ConvReads;
    pub use super::kb::KbReads;
    pub use super::qa::QaReads;
    pub use super::service::ServiceReads;
    pub use super::sessions::SessionReads;
    pub use super::settings::SettingsReads;
    pub use super::tickets::TicketReads;
    pub use super::training::TrainingReads;
    pub use super::users::UserReads;
}

impl ReadTx {
    fn snapshot(tx: ReadTransaction) -> ReadTx {
        ReadTx { tx, hot: None }
    }

    /// The schema version recorded in the file (0 when none is).
    pub fn schema_version(&self) -> Result<u64> {
        let meta = self.table(tables::META)?;
        Ok(meta
            .get(migrate::VERSION_KEY)?
            .map(|v| v.value())
            .unwrap_or(0))
    }
}

/// A write transaction handed to write requests; see [`Store::write`].
///
/// Id counters and answer tallies change with nearly every message; they are kept in
/// memory for the transaction and written once by [`WriteTx::flush`], which whoever
/// commits the transaction calls first (a batch of a hundred messages then updates
/// each counter once, not a hundred times).
pub struct WriteTx<'a> {
    tx: &'a WriteTransaction,
    pending: RefCell<Pending>,
    /// The committed receipts (none for migrations and imports, which run before the
    /// store is open), and those written in this transaction.
    recent: Option<&'a receipts::Recent>,
    receipts: RefCell<Vec<receipts::Receipt>>,
    /// The committed buyers and conversations (none for migrations and imports), and
    /// those put in this transaction.
    hot: Option<&'a hot::Hot>,
    staged: RefCell<hot::Staged>,
    /// The tables opened so far; they close (and stage their changes) when this ends.
    open: Open<'a>,
}

/// What `flush` still has to write.
#[derive(Default)]
struct Pending {
    /// The last id taken from each sequence.
    seqs: HashMap<String, u64>,
    /// Answers to add per entry, and per `HIT_DAYS` key.
    hits: HashMap<String, u64>,
    hit_days: HashMap<String, u64>,
}

impl<'a> WriteTx<'a> {
    pub(crate) fn new(tx: &'a WriteTransaction) -> WriteTx<'a> {
        WriteTx {
            tx,
            pending: RefCell::new(Pending::default()),
            recent: None,
            receipts: RefCell::new(Vec::new()),
            hot: None,
            staged: RefCell::default(),
            open: Open::default(),
        }
    }

    /// A transaction of the running store, which sees its committed receipts, buyers
    /// and conversations.
    pub(crate) fn of_store(
        tx: &'a WriteTransaction,
        recent: &'a receipts::Recent,
        hot: &'a hot::Hot,
    ) -> WriteTx<'a> {
        WriteTx {
            recent: Some(recent),
            hot: Some(hot),
            ..WriteTx::new(tx)
        }
    }

    /// The receipts written in this transaction, to publish once it has committed.
    pub(crate) fn take_receipts(&self) -> Vec<receipts::Receipt> {
        std::mem::take(&mut *self.receipts.borrow_mut())
    }

    /// The buyers and conversations put in this transaction, to publish once it has
    /// committed.
    pub(crate) fn take_staged(&self) -> hot::Staged {
        std::mem::take(&mut *self.staged.borrow_mut())
    }

    /// Notes that the settings, reception or scene switches changed, to move
    /// [`Store::config_generation`] once this commits.
    pub(crate) fn config_changed(&self) {
        self.staged.borrow_mut().config = true;
    }

    /// Keeps `c`, just put, for [`Reads::known_conv`].
    fn stage_conv(&self, c: &crate::model::Conversation) {
        if self.hot.is_some() {
            let mut staged = self.staged.borrow_mut();
            staged.convs.insert(c.id.0, Arc::new(c.clone()));
        }
    }

    /// Keeps `b`, just put, for [`Reads::known_buyer`].
    fn stage_buyer(&self, b: &crate::model::Buyer) {
        if self.hot.is_some() {
            let mut staged = self.staged.borrow_mut();
            staged.buyers.insert(b.id.0, Arc::new(b.clone()));
        }
    }

    /// Takes the next number of the sequence `name` (1, 2, 3, …).
    pub fn next_id(&self, name: &str) -> Result<u64> {
        let last = match self.pending.borrow().seqs.get(name) {
            Some(n) => *n,
            None => self
                .table(tables::META)?
                .get(format!("seq.{name}").as_str())?
                .map(|v| v.value())
                .unwrap_or(0),
        };
        self.pending
            .borrow_mut()
            .seqs
            .insert(name.to_string(), last + 1);
        Ok(last + 1)
    }

    /// Counts one answer of entry `id`, under its `HIT_DAYS` key `day_key`.
    pub(crate) fn add_hit(&self, id: &str, day_key: String) {
        let mut p = self.pending.borrow_mut();
        *p.hits.entry(id.to_string()).or_default() += 1;
        *p.hit_days.entry(day_key).or_default() += 1;
    }

    /// Writes the counters and tallies kept in memory; call before committing.
    pub(crate) fn flush(&self) -> Result<()> {
        let p = std::mem::take(&mut *self.pending.borrow_mut());
        if !p.seqs.is_empty() {
            let mut meta = self.table(tables::META)?;
            for (name, last) in &p.seqs {
                meta.insert(format!("seq.{name}").as_str(), *last)?;
            }
        }
        for (def, adds) in [(tables::HITS, &p.hits), (tables::HIT_DAYS, &p.hit_days)] {
            if adds.is_empty() {
                continue;
            }
            let mut t = self.table(def)?;
            for (key, add) in adds {
                let n = t.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
                t.insert(key.as_str(), n + add)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A store in a fresh temp folder; keep the folder alive as long as the store.
    pub fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open store");
        (dir, store)
    }
}
