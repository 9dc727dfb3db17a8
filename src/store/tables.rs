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
}

impl AnyTable {
    /// The table's name in the file and in exports.
    pub fn name(&self) -> &'static str {
        match *self {
            AnyTable::StrNum(t) => t.name(),
            AnyTable::NumDoc(t) => t.name(),
            AnyTable::StrDoc(t) => t.name(),
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
];

/// Looks a table up by name.
pub fn by_name(name: &str) -> Option<AnyTable> {
    ALL.iter().copied().find(|t| t.name() == name)
}
