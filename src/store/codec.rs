//! The one value encoding: JSON. Records gain fields over time; a field added later
//! carries `#[serde(default)]`, so records written by an older build still decode, and
//! unknown fields written by a newer build are ignored.

use super::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes a record for storage.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Codec {
        table: "-",
        message: e.to_string(),
    })
}

/// Decodes a record read from `table`.
pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Codec {
        table,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V1 {
        id: u64,
        name: String,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V2 {
        id: u64,
        name: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn survives_an_added_field_both_ways() {
        let old = encode(&V1 {
            id: 7,
            name: "a".into(),
        })
        .unwrap();
        let read_by_new: V2 = decode("t", &old).unwrap();
        assert_eq!(read_by_new.tags, Vec::<String>::new());
        assert_eq!(read_by_new.id, 7);

        let new = encode(&V2 {
            id: 8,
            name: "b".into(),
            tags: vec!["x".into()],
        })
        .unwrap();
        let read_by_old: V1 = decode("t", &new).unwrap();
        assert_eq!(read_by_old.name, "b");
    }

    #[test]
    fn garbage_is_an_error_naming_the_table() {
        let err = decode::<V1>("users", b"\xff\x00").unwrap_err();
        assert!(err.to_string().contains("users"), "{err}");
    }
}
