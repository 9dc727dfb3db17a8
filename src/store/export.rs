//! Export of every table as JSON Lines, and import of such a file into an empty folder.
//!
//! Line 1 is a header; every other line is one row:
//! `{"table":"users","key":1,"value":{...}}`. Keys are numbers or strings as the table
//! stores them; JSON-document values are embedded as JSON. An export is one read
//! transaction, so it is a consistent snapshot even while the server writes.

use super::codec::{decode, encode};
use super::convs::ClientMsg;
use super::migrate::{self, CURRENT};
use super::tables::{self, AnyTable, KeyShape};
use super::{DB_FILE, Error, ReadTx, Reads, Store, WriteTx};
use crate::model::{
    AgentStatus, ApiToken, AuditEntry, Buyer, Conversation, Delivery, Event, Group, KbEntry,
    Lexicon, Message, Order, Product, QuickReply, Reception, SceneSwitch, Session, ShopSettings,
    Ticket, TicketType, User, Webhook,
};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The `format` field of the header line.
pub const FORMAT: &str = "xiaoer-export";

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    schema_version: u64,
    app_version: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Row {
    table: String,
    key: Value,
    value: Value,
}

/// What an export or import moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Rows per table, in export order.
    pub rows: Vec<(&'static str, u64)>,
}

impl Summary {
    /// All rows.
    pub fn total(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

/// Export failures.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error("cannot write the export: {0}")]
    Io(#[from] io::Error),
}

/// Import failures; nothing is written when any is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0} already exists: import only into an empty data folder")]
    NotEmpty(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{}", bad_lines_message(.0))]
    BadLines(Vec<(usize, String)>),
    #[error(transparent)]
    Store(#[from] Error),
}

const MAX_REPORTED: usize = 20;

fn bad_lines_message(lines: &[(usize, String)]) -> String {
    let mut msg = format!("{} bad line(s), nothing imported:", lines.len());
    for (n, why) in lines.iter().take(MAX_REPORTED) {
        msg.push_str(&format!("\n  line {n}: {why}"));
    }
    if lines.len() > MAX_REPORTED {
        msg.push_str(&format!("\n  … and {} more", lines.len() - MAX_REPORTED));
    }
    msg
}

/// Writes every table of `tx` to `out`.
pub fn export(tx: &ReadTx, out: &mut impl Write) -> Result<Summary, ExportError> {
    let header = Header {
        format: FORMAT.into(),
        schema_version: tx.schema_version()?,
        app_version: env!("CARGO_PKG_VERSION").into(),
    };
    write_line(out, &header)?;
    let mut summary = Summary::default();
    for t in tables::ALL {
        let name = t.name();
        let mut n = 0u64;
        let mut emit = |key: Value, value: Value| -> Result<(), ExportError> {
            n += 1;
            write_line(
                out,
                &Row {
                    table: name.into(),
                    key,
                    value,
                },
            )
        };
        // Every table the same way: iterate in key order, turn keys and values to JSON.
        macro_rules! dump {
            ($d:expr, |$k:ident, $v:ident| $key:expr, $value:expr) => {
                for row in tx.table(*$d)?.iter().map_err(Error::from)? {
                    let (k, v) = row.map_err(Error::from)?;
                    let ($k, $v) = (k.value(), v.value());
                    emit($key, $value)?;
                }
            };
        }
        match *t {
            AnyTable::StrNum(d) => dump!(d, |k, v| k.into(), v.into()),
            AnyTable::NumDoc(d) => dump!(d, |k, v| k.into(), decode::<Value>(name, v)?),
            AnyTable::StrDoc(d) => dump!(d, |k, v| k.into(), decode::<Value>(name, v)?),
            AnyTable::NumNum(d) => dump!(d, |k, v| k.into(), v.into()),
            AnyTable::PairDoc(d) => dump!(
                d,
                |k, v| serde_json::json!([k.0, k.1]),
                decode::<Value>(name, v)?
            ),
            AnyTable::PairNum(d) => dump!(d, |k, v| serde_json::json!([k.0, k.1]), v.into()),
        }
        summary.rows.push((name, n));
    }
    out.flush()?;
    Ok(summary)
}

fn write_line(out: &mut impl Write, v: &impl Serialize) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, v).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Imports the export `file` into the empty data folder `dir`: everything or nothing.
pub fn import(dir: &Path, file: &Path) -> Result<Summary, ImportError> {
    let db_path = dir.join(DB_FILE);
    if db_path.exists() {
        return Err(ImportError::NotEmpty(db_path));
    }
    // Pass 1 reads the whole file and reports every bad line before anything is written.
    let summary = for_each_row(file, |_| Ok(()))?;
    let result = write_all_rows(dir, file);
    if result.is_err() {
        // Leave the folder as empty as we found it.
        let _ = std::fs::remove_file(&db_path);
    }
    result.map(|()| summary)
}

fn write_all_rows(dir: &Path, file: &Path) -> Result<(), ImportError> {
    let db = super::open_database(dir)?;
    let tx = db.begin_write().map_err(Error::from)?;
    {
        let w = WriteTx::new(&tx);
        migrate::create_tables(&w)?;
        for_each_row(file, |(t, row)| insert_row(&w, t, row))?;
        reconcile_sequences(&w)?;
        w.flush()?;
    }
    tx.commit().map_err(Error::from)?;
    drop(db);
    // Opening runs the upgrade steps when the export came from an older schema.
    drop(Store::open(dir)?);
    Ok(())
}

/// Makes every id counter at least the largest id in its table, so a hand-edited or
/// partial export cannot make a new record overwrite an imported one.
fn reconcile_sequences(w: &WriteTx) -> Result<(), Error> {
    for (name, def) in tables::SEQUENCES {
        let max = w.table(*def)?.last()?.map(|(k, _)| k.value()).unwrap_or(0);
        let key = format!("seq.{name}");
        let mut meta = w.table(tables::META)?;
        let current = meta.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
        if current < max {
            meta.insert(key.as_str(), max)?;
        }
    }
    Ok(())
}

fn insert_row(w: &WriteTx, t: AnyTable, row: Row) -> Result<(), Error> {
    // `parse_row` checked the shapes; the fallbacks are never used.
    let num = |v: &Value| v.as_u64().unwrap_or(0);
    let text = |v: &Value| v.as_str().map(String::from).unwrap_or_default();
    let pair = |v: &Value| (num(&v[0]), num(&v[1]));
    match t {
        AnyTable::StrNum(d) => drop(
            w.table(*d)?
                .insert(text(&row.key).as_str(), num(&row.value))?,
        ),
        AnyTable::NumDoc(d) => drop(
            w.table(*d)?
                .insert(num(&row.key), encode(&row.value)?.as_slice())?,
        ),
        AnyTable::StrDoc(d) => drop(
            w.table(*d)?
                .insert(text(&row.key).as_str(), encode(&row.value)?.as_slice())?,
        ),
        AnyTable::NumNum(d) => drop(w.table(*d)?.insert(num(&row.key), num(&row.value))?),
        AnyTable::PairDoc(d) => drop(
            w.table(*d)?
                .insert(pair(&row.key), encode(&row.value)?.as_slice())?,
        ),
        AnyTable::PairNum(d) => drop(w.table(*d)?.insert(pair(&row.key), num(&row.value))?),
    }
    Ok(())
}

/// Reads and checks every line of `file`, calling `f` on each valid row. Returns the row
/// counts, or every bad line when there is one.
fn for_each_row(
    file: &Path,
    mut f: impl FnMut((AnyTable, Row)) -> Result<(), Error>,
) -> Result<Summary, ImportError> {
    let read_err = |source| ImportError::Read {
        path: file.to_path_buf(),
        source,
    };
    let reader = BufReader::new(std::fs::File::open(file).map_err(read_err)?);
    let mut bad = Vec::new();
    let mut counts: Vec<(&'static str, u64)> = tables::ALL.iter().map(|t| (t.name(), 0)).collect();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                bad.push((n, "not valid UTF-8".into()));
                continue;
            }
            Err(e) => return Err(read_err(e)),
        };
        if n == 1 {
            if let Err(why) = check_header(&line) {
                bad.push((1, why));
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(&line) {
            Ok((t, row)) => {
                if let Some(c) = counts.iter_mut().find(|(name, _)| *name == t.name()) {
                    c.1 += 1;
                }
                if bad.is_empty() {
                    f((t, row))?;
                }
            }
            Err(why) => bad.push((n, why)),
        }
    }
    if bad.is_empty() && counts.iter().all(|(_, c)| *c == 0) {
        // An export always holds at least the schema version row.
        bad.push((1, "the file holds no rows: is it a xiaoer export?".into()));
    }
    if bad.is_empty() {
        Ok(Summary { rows: counts })
    } else {
        Err(ImportError::BadLines(bad))
    }
}

fn check_header(line: &str) -> Result<(), String> {
    let h: Header =
        serde_json::from_str(line).map_err(|e| format!("not a xiaoer export header ({e})"))?;
    if h.format != FORMAT {
        return Err(format!("format is {:?}, expected {FORMAT:?}", h.format));
    }
    if h.schema_version > CURRENT {
        return Err(format!(
            "written by a newer xiaoer (schema version {}, this build understands up to {CURRENT})",
            h.schema_version
        ));
    }
    Ok(())
}

fn parse_row(line: &str) -> Result<(AnyTable, Row), String> {
    let row: Row = serde_json::from_str(line).map_err(|e| format!("invalid JSON row ({e})"))?;
    let t = tables::by_name(&row.table).ok_or_else(|| format!("unknown table {:?}", row.table))?;
    let (key_shape, doc) = t.shape();
    let key_ok = match key_shape {
        KeyShape::Num => row.key.is_u64(),
        KeyShape::Str => row.key.is_string(),
        KeyShape::Pair => row
            .key
            .as_array()
            .is_some_and(|a| a.len() == 2 && a.iter().all(Value::is_u64)),
    };
    if !key_ok {
        return Err(format!(
            "key {} has the wrong type for table {}",
            row.key, row.table
        ));
    }
    if !doc {
        return match row.value.is_u64() {
            true => Ok((t, row)),
            false => Err(format!(
                "value of table {} must be a whole number",
                row.table
            )),
        };
    }
    check_doc(t.name(), &row.value)
        .map_err(|e| format!("value does not fit table {}: {e}", row.table))?;
    Ok((t, row))
}

/// Checks that a document decodes as the record its table holds.
fn check_doc(table: &str, v: &Value) -> Result<(), String> {
    fn is<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        T::deserialize(v).map(drop).map_err(|e| e.to_string())
    }
    match table {
        "users" => is::<User>(v),
        "sessions" => is::<Session>(v),
        "settings" => is::<ShopSettings>(v),
        "audit" => is::<AuditEntry>(v),
        "kb" => is::<KbEntry>(v),
        "products" => is::<Product>(v),
        "lexicon" => is::<Lexicon>(v),
        "buyers" => is::<Buyer>(v),
        "conversations" => is::<Conversation>(v),
        "messages" => is::<Message>(v),
        "events" => is::<Event>(v),
        "client_msgs" => is::<ClientMsg>(v),
        "receipts" => is::<super::receipts::Receipt>(v),
        "orders" => is::<Order>(v),
        "groups" => is::<Group>(v),
        "agent_status" => is::<AgentStatus>(v),
        "scenes" => is::<SceneSwitch>(v),
        "switches" => is::<Reception>(v),
        "api_tokens" => is::<ApiToken>(v),
        "webhooks" => is::<Webhook>(v),
        "deliveries" => is::<Delivery>(v),
        "quick_replies" => is::<QuickReply>(v),
        "tickets" => is::<Ticket>(v),
        "ticket_types" => is::<TicketType>(v),
        "training" => is::<crate::model::TrainingItem>(v),
        "bot_marks" => is::<crate::model::BotMark>(v),
        "qa_findings" => is::<crate::model::Finding>(v),
        "qa" => is::<crate::model::QaSettings>(v),
        "qa_samples" => is::<crate::model::Sample>(v),
        // Derived figures whose shape the metrics own; any object will do.
        "daily" => is::<serde_json::Map<String, Value>>(v),
        other => Err(format!("no record type known for table {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewAudit, Role};
    use crate::store::prelude::*;
    use crate::store::testing::temp_store;
    use crate::store::users::UserRecord;
    use chrono::Utc;

    async fn fill(store: &Store) {
        let now = Utc::now();
        store
            .write(move |tx| {
                let u = tx.insert_user(
                    &UserRecord {
                        name: "boss".into(),
                        nickname: "老板".into(),
                        role: Role::Owner,
                        password_hash: "$argon2id$x".into(),
                    },
                    now,
                )?;
                tx.put_settings(&ShopSettings {
                    shop_name: "测试店".into(),
                    ..ShopSettings::default()
                })?;
                tx.append_audit(&NewAudit {
                    at: now,
                    actor_id: Some(u.id),
                    actor_name: "boss".into(),
                    action: "settings.update",
                    target: "shop".into(),
                    detail: "店铺名称 → 测试店 \"quoted\" \n".into(),
                })?;
                tx.put_session(
                    "abc",
                    &Session {
                        user_id: u.id,
                        csrf: "c".into(),
                        created_at: now,
                        last_seen: now,
                        expires_at: now,
                    },
                )
            })
            .await
            .unwrap();
    }

    fn export_bytes(store: &Store) -> Vec<u8> {
        let mut out = Vec::new();
        export(&store.read().unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn every_document_table_has_a_record_type() {
        for t in tables::ALL {
            if t.shape().1 {
                let err = check_doc(t.name(), &Value::Null).unwrap_err();
                assert!(!err.starts_with("no record type"), "{}: {err}", t.name());
            }
        }
    }

    #[actix_web::test]
    async fn export_import_export_is_identical() {
        let (_dir, store) = temp_store();
        fill(&store).await;
        let first = export_bytes(&store);
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("backup.jsonl");
        std::fs::write(&file, &first).unwrap();

        let target = tmp.path().join("restored");
        let summary = import(&target, &file).unwrap();
        assert!(summary.rows.contains(&("users", 1)));
        let restored = Store::open(&target).unwrap();
        let second = export_bytes(&restored);
        assert_eq!(
            String::from_utf8(first).unwrap(),
            String::from_utf8(second).unwrap()
        );
        let r = restored.read().unwrap();
        assert_eq!(r.get_settings().unwrap().shop_name, "测试店");
        assert_eq!(
            r.get_user_by_name("BOSS").unwrap().unwrap().nickname,
            "老板"
        );
    }

    #[actix_web::test]
    async fn import_refuses_a_folder_with_data() {
        let (dir, store) = temp_store();
        let file = dir.path().join("x.jsonl");
        std::fs::write(&file, export_bytes(&store)).unwrap();
        let err = import(dir.path(), &file).unwrap_err();
        assert!(matches!(err, ImportError::NotEmpty(_)), "{err}");
    }

    #[actix_web::test]
    async fn bad_lines_are_reported_by_number_and_nothing_is_written() {
        let (_dir, store) = temp_store();
        fill(&store).await;
        let good = String::from_utf8(export_bytes(&store)).unwrap();
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        lines.insert(2, "{not json".into());
        lines.push(r#"{"table":"nope","key":1,"value":{}}"#.into());
        lines.push(r#"{"table":"users","key":"x","value":{}}"#.into());
        lines.push(r#"{"table":"users","key":5,"value":{"name":3}}"#.into());
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("bad.jsonl");
        std::fs::write(&file, lines.join("\n")).unwrap();
        let target = tmp.path().join("restored");
        let err = import(&target, &file).unwrap_err();
        let ImportError::BadLines(bad) = &err else {
            panic!("expected bad lines, got {err}");
        };
        let numbers: Vec<usize> = bad.iter().map(|(n, _)| *n).collect();
        let total = lines.len();
        assert_eq!(numbers, vec![3, total - 2, total - 1, total]);
        assert!(err.to_string().contains("unknown table"), "{err}");
        assert!(!target.join(DB_FILE).exists(), "nothing may be written");
    }

    #[actix_web::test]
    async fn import_repairs_missing_id_counters() {
        let (_dir, store) = temp_store();
        fill(&store).await;
        let good = String::from_utf8(export_bytes(&store)).unwrap();
        let without: Vec<&str> = good.lines().filter(|l| !l.contains("seq.users")).collect();
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("partial.jsonl");
        std::fs::write(&file, without.join("\n")).unwrap();
        let target = tmp.path().join("restored");
        import(&target, &file).unwrap();
        let restored = Store::open(&target).unwrap();
        let now = Utc::now();
        let u = restored
            .write(move |tx| {
                tx.insert_user(
                    &UserRecord {
                        name: "new".into(),
                        nickname: "新".into(),
                        role: Role::Agent,
                        password_hash: "x".into(),
                    },
                    now,
                )
            })
            .await
            .unwrap();
        assert_eq!(u.id.0, 2, "the owner (id 1) is not overwritten");
        assert_eq!(restored.read().unwrap().list_users().unwrap().len(), 2);
    }

    #[test]
    fn a_header_from_a_newer_build_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("new.jsonl");
        std::fs::write(
            &file,
            r#"{"format":"xiaoer-export","schema_version":999,"app_version":"9"}
{"table":"meta","key":"schema_version","value":999}
"#,
        )
        .unwrap();
        let err = import(&tmp.path().join("d"), &file).unwrap_err();
        assert!(err.to_string().contains("newer xiaoer"), "{err}");
    }
}
