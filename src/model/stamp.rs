//! Serde for the timestamps of the records written and read for every message (messages,
//! events, conversations, buyers, receipts): `#[serde(with = "stamp")]`, or
//! `stamp::option` for an `Option`.
//!
//! The text is chrono's own, RFC 3339 in UTC with a `Z` and as many fraction digits as
//! needed (`2026-11-23T09:30:00.125Z`), so records written either way read either way.
//! Only the route is faster: chrono's serde impl writes the text a few characters at a
//! time through serde_json's string escaper, and reads it with its relaxed parser, which
//! goes through its general format parser. Here the text is made whole and then written,
//! and read with chrono's strict RFC 3339 parser, falling back to the relaxed one for
//! anything else chrono would have accepted. Under load, date handling was about 8.5% of
//! the web workers' and the database writer's time (README, "Service speed").

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(Visitor)
}

/// How a time this module cannot read is named in its error, which `json` passes on
/// as it is.
pub const TROUBLE: &str = "时间“";

struct Visitor;

impl de::Visitor<'_> for Visitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime<Utc>, E> {
        match DateTime::parse_from_rfc3339(v) {
            Ok(at) => Ok(at.with_timezone(&Utc)),
            Err(_) => v.parse().map_err(|_| {
                E::custom(format!(
                    "{TROUBLE}{v}”应写成 RFC 3339 格式（带时区），例如 2026-11-20T10:00:00+08:00"
                ))
            }),
        }
    }
}

/// A timestamp that goes through this module's functions, for `option`.
struct Stamp(DateTime<Utc>);

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        deserialize(d).map(Stamp)
    }
}

/// The same for `Option<DateTime<Utc>>`: `null` for `None`.
pub mod option {
    use super::Stamp;
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_some(&Stamp(*at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Stamp>::deserialize(d)?.map(|s| s.0))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Ours {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(default, with = "super::option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Chronos {
        at: DateTime<Utc>,
        #[serde(default)]
        maybe: Option<DateTime<Utc>>,
    }

    /// Whole seconds, milli-, micro- and nanosecond fractions, the epoch, a leap day,
    /// far years.
    fn samples() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
        let mut all = vec![
            base,
            DateTime::UNIX_EPOCH,
            Utc.with_ymd_and_hms(2028, 2, 29, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        for nanos in [125_000_000, 1_000, 123_456, 7, 999_999_999, 100_000_000] {
            all.push(base + Duration::nanoseconds(nanos));
        }
        all
    }

    #[test]
    fn the_text_is_chronos_own_and_each_reads_the_other() {
        for at in samples() {
            for maybe in [None, Some(at + Duration::milliseconds(1))] {
                let ours = Ours { at, maybe };
                let theirs = Chronos { at, maybe };
                let text = serde_json::to_string(&ours).unwrap();
                assert_eq!(text, serde_json::to_string(&theirs).unwrap());
                assert_eq!(serde_json::from_str::<Ours>(&text).unwrap(), ours);
                assert_eq!(
                    serde_json::from_str::<Chronos>(&text).unwrap(),
                    theirs,
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn what_chrono_accepts_besides_strict_rfc_3339_still_reads() {
        let want = Utc.with_ymd_and_hms(2026, 11, 23, 1, 30, 0).unwrap();
        for text in [
            "2026-11-23T01:30:00Z",
            "2026-11-23T09:30:00+08:00",
            "2026-11-23 01:30:00Z",
            "2026-11-23t01:30:00z",
        ] {
            let json = format!(r#"{{"at":"{text}"}}"#);
            let ours: Ours = serde_json::from_str(&json).unwrap();
            assert_eq!(ours.at, want, "{text}");
            assert_eq!(ours.maybe, None, "a missing optional stamp is None");
        }
    }

    #[test]
    fn a_bad_stamp_is_an_error_not_a_default() {
        for json in [
            r#"{"at":"yesterday"}"#,
            r#"{"at":"2026-13-01T00:00:00Z"}"#,
            r#"{"at":12}"#,
            r#"{"at":"2026-11-23T01:30:00Z","maybe":"soon"}"#,
        ] {
            assert!(serde_json::from_str::<Ours>(json).is_err(), "{json}");
        }
        let none: Ours =
            serde_json::from_str(r#"{"at":"2026-11-23T01:30:00Z","maybe":null}"#).unwrap();
        assert_eq!(none.maybe, None);
    }
}
