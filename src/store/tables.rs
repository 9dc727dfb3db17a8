//! Every redb table, in one place. Values are JSON documents (see `codec.rs`) unless the
//! table stores a plain number.

use redb::{TableDefinition, TableHandle};

/// Schema version, id sequences and other single numbers, by name.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Users by id.
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// User id by lower-cased login name: the uniqueness index.
pub const USER_NAMES: TableDefinition<&str, u64> = TableDefinition::new("user_names");
/// Login sessions by the hex SHA-256 of their cookie token.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// Settings documents by name (`shop`).
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// The audit log by sequence number.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// Knowledge-base entries by id.
pub const KB: TableDefinition<&str, &[u8]> = TableDefinition::new("kb");
/// Products by SKU.
pub const PRODUCTS: TableDefinition<&str, &[u8]> = TableDefinition::new("products");
/// The trainer's synonyms and shop words (one document, `lexicon`).
pub const LEXICON: TableDefinition<&str, &[u8]> = TableDefinition::new("lexicon");
/// Buyers by id.
pub const BUYERS: TableDefinition<u64, &[u8]> = TableDefinition::new("buyers");
/// Buyer id by `channel\x1f external id`.
pub const BUYER_KEYS: TableDefinition<&str, u64> = TableDefinition::new("buyer_keys");
/// Conversations by id.
pub const CONVERSATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("conversations");
/// Open (not closed) conversations: conversation id → buyer id.
pub const OPEN_CONVS: TableDefinition<u64, u64> = TableDefinition::new("open_convs");
/// A buyer's open conversation: buyer id → conversation id.
pub const BUYER_OPEN: TableDefinition<u64, u64> = TableDefinition::new("buyer_open");
/// Messages by (conversation id, sequence number).
pub const MESSAGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("messages");
/// The global event log by sequence number.
pub const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// Schema 2 kept message receipts here, by `channel\x1f buyer\x1f id`; the upgrade to 3
/// moves them to `receipts` and leaves it empty. Kept so older exports still import.
pub const CLIENT_MSGS: TableDefinition<&str, &[u8]> = TableDefinition::new("client_msgs");
/// Results of messages sent with a `client_msg_id` (safe retries), in the order written;
/// see `receipts.rs`.
pub const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
/// Orders by `channel\x1f order id`.
pub const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders");
/// Skill groups by id.
pub const GROUPS: TableDefinition<u64, &[u8]> = TableDefinition::new("groups");
/// Agent states by user id.
pub const AGENT_STATUS: TableDefinition<u64, &[u8]> = TableDefinition::new("agent_status");
/// Scene switches by scene name.
pub const SCENES: TableDefinition<&str, &[u8]> = TableDefinition::new("scenes");
/// Service switches (one document, `reception`).
pub const SWITCHES: TableDefinition<&str, &[u8]> = TableDefinition::new("switches");
/// API tokens by id.
pub const API_TOKENS: TableDefinition<u64, &[u8]> = TableDefinition::new("api_tokens");
/// API token id by the token's SHA-256.
pub const TOKEN_HASHES: TableDefinition<&str, u64> = TableDefinition::new("token_hashes");
/// Webhooks by channel.
pub const WEBHOOKS: TableDefinition<&str, &[u8]> = TableDefinition::new("webhooks");
/// Webhook deliveries by id: pending ones, and the last failures.
pub const DELIVERIES: TableDefinition<u64, &[u8]> = TableDefinition::new("deliveries");
/// Quick replies (快捷短语) by id.
pub const QUICK_REPLIES: TableDefinition<u64, &[u8]> = TableDefinition::new("quick_replies");
/// Tickets (工单) by id.
pub const TICKETS: TableDefinition<u64, &[u8]> = TableDefinition::new("tickets");
/// Ticket types by id (empty until first edited: the defaults apply).
pub const TICKET_TYPES: TableDefinition<u64, &[u8]> = TableDefinition::new("ticket_types");
/// How often the bot answered each KB entry, by entry id (hot questions).
pub const HITS: TableDefinition<&str, u64> = TableDefinition::new("hits");
/// Answers per entry per day: `YYYY-MM-DD\x1f entry id` (shop time zone) → count.
pub const HIT_DAYS: TableDefinition<&str, u64> = TableDefinition::new("hit_days");
/// The training queue (问答训练) by id.
pub const TRAINING: TableDefinition<u64, &[u8]> = TableDefinition::new("training");
/// Open training items: id → 0 (the 待处理 list without a scan of the whole queue).
pub const TRAINING_OPEN: TableDefinition<u64, u64> = TableDefinition::new("training_open");
/// Conversations by when they started: (unix seconds, conversation id) → buyer id. The
/// metrics find a day's conversations with one range scan.
pub const CONV_STARTS: TableDefinition<(u64, u64), u64> = TableDefinition::new("conv_starts");
/// Daily metric tallies by shop-local date `YYYY-MM-DD` (days whose conversations are
/// all closed; see `desk::dashboard`).
pub const DAILY: TableDefinition<&str, &[u8]> = TableDefinition::new("daily");
/// Quality-inspection findings by (conversation id, number within it).
pub const QA_FINDINGS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("qa_findings");
/// Conversations drawn for scoring (质检抽检), by conversation id.
pub const QA_SAMPLES: TableDefinition<u64, &[u8]> = TableDefinition::new("qa_samples");
/// Quality-inspection settings (one document, `rules`).
pub const QA: TableDefinition<&str, &[u8]> = TableDefinition::new("qa");
/// Conversations imported from another system: `channel\x1f their id` → conversation
/// id (so importing a file twice does not duplicate).
pub const IMPORTED: TableDefinition<&str, u64> = TableDefinition::new("imported");
/// Trainers' right/wrong marks on bot answers, by (conversation id, message seq).
pub const BOT_MARKS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("bot_marks");

/// A table of one of the key/value shapes the store uses; lets export, import and
/// start-up walk every table without naming each one again.
#[derive(Clone, Copy)]
pub enum AnyTable {
    /// `&str` keys, `u64` values.
    StrNum(&'static TableDefinition<'static, &'static str, u64>),
    /// `u64` keys, JSON values.
    NumDoc(&'static TableDefinition<'static, u64, &'static [u8]>),
    /// `&str` keys, JSON values.
    StrDoc(&'static TableDefinition<'static, &'static str, &'static [u8]>),
    /// `u64` keys, `u64` values.
    NumNum(&'static TableDefinition<'static, u64, u64>),
    /// `(u64, u64)` keys, JSON values.
    PairDoc(&'static TableDefinition<'static, (u64, u64), &'static [u8]>),
    /// `(u64, u64)` keys, `u64` values.
    PairNum(&'static TableDefinition<'static, (u64, u64), u64>),
}

impl AnyTable {
    /// The table's name in the file and in exports.
    pub fn name(&self) -> &'static str {
        match *self {
            AnyTable::StrNum(t) => t.name(),
            AnyTable::NumDoc(t) => t.name(),
            AnyTable::StrDoc(t) => t.name(),
            AnyTable::NumNum(t) => t.name(),
            AnyTable::PairDoc(t) => t.name(),
            AnyTable::PairNum(t) => t.name(),
        }
    }
}

/// Tables whose ids come from a `seq.<name>` counter in `meta`, by counter name.
pub const SEQUENCES: &[(&str, TableDefinition<'static, u64, &'static [u8]>)] = &[
    ("users", USERS),
    ("audit", AUDIT),
    ("buyers", BUYERS),
    ("conversations", CONVERSATIONS),
    ("events", EVENTS),
    ("groups", GROUPS),
    ("api_tokens", API_TOKENS),
    ("deliveries", DELIVERIES),
    ("quick_replies", QUICK_REPLIES),
    ("tickets", TICKETS),
    ("ticket_types", TICKET_TYPES),
    ("training", TRAINING),
    ("receipts", RECEIPTS),
];

/// The JSON shape of a table's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyShape {
    Num,
    Str,
    Pair,
}

impl AnyTable {
    /// The JSON shape of the table's keys, and whether its values are documents (else
    /// whole numbers).
    pub fn shape(&self) -> (KeyShape, bool) {
        match self {
            AnyTable::StrNum(_) => (KeyShape::Str, false),
            AnyTable::NumDoc(_) => (KeyShape::Num, true),
            AnyTable::StrDoc(_) => (KeyShape::Str, true),
            AnyTable::NumNum(_) => (KeyShape::Num, false),
            AnyTable::PairDoc(_) => (KeyShape::Pair, true),
            AnyTable::PairNum(_) => (KeyShape::Pair, false),
        }
    }
}

/// Every table, in export order.
pub const ALL: &[AnyTable] = &[
    AnyTable::StrNum(&META),
    AnyTable::NumDoc(&USERS),
    AnyTable::StrNum(&USER_NAMES),
    AnyTable::StrDoc(&SESSIONS),
    AnyTable::StrDoc(&SETTINGS),
    AnyTable::NumDoc(&AUDIT),
    AnyTable::StrDoc(&KB),
    AnyTable::StrDoc(&PRODUCTS),
    AnyTable::StrDoc(&LEXICON),
    AnyTable::NumDoc(&BUYERS),
    AnyTable::StrNum(&BUYER_KEYS),
    AnyTable::NumDoc(&CONVERSATIONS),
    AnyTable::NumNum(&OPEN_CONVS),
    AnyTable::NumNum(&BUYER_OPEN),
    AnyTable::PairDoc(&MESSAGES),
    AnyTable::NumDoc(&EVENTS),
    AnyTable::StrDoc(&CLIENT_MSGS),
    AnyTable::NumDoc(&RECEIPTS),
    AnyTable::StrDoc(&ORDERS),
    AnyTable::NumDoc(&GROUPS),
    AnyTable::NumDoc(&AGENT_STATUS),
    AnyTable::StrDoc(&SCENES),
    AnyTable::StrDoc(&SWITCHES),
    AnyTable::NumDoc(&API_TOKENS),
    AnyTable::StrNum(&TOKEN_HASHES),
    AnyTable::StrDoc(&WEBHOOKS),
    AnyTable::NumDoc(&DELIVERIES),
    AnyTable::StrNum(&HITS),
    AnyTable::NumDoc(&QUICK_REPLIES),
    AnyTable::NumDoc(&TICKETS),
    AnyTable::NumDoc(&TICKET_TYPES),
    AnyTable::StrNum(&HIT_DAYS),
    AnyTable::NumDoc(&TRAINING),
    AnyTable::NumNum(&TRAINING_OPEN),
    AnyTable::PairDoc(&BOT_MARKS),
    AnyTable::StrNum(&IMPORTED),
    AnyTable::PairNum(&CONV_STARTS),
    AnyTable::StrDoc(&DAILY),
    AnyTable::PairDoc(&QA_FINDINGS),
    AnyTable::StrDoc(&QA),
    AnyTable::NumDoc(&QA_SAMPLES),
];

/// Looks a table up by name.
pub fn by_name(name: &str) -> Option<AnyTable> {
    ALL.iter().copied().find(|t| t.name() == name)
}
