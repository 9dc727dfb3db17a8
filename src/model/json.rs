//! serde_json's errors in Chinese, for every place a user hands us JSON: API bodies,
//! query strings and the JSON Lines files of `kb import`, `eval` and `import-history`.

use serde::de::DeserializeOwned;
use serde_json::error::Category;

/// Reads `T` from a JSON document. What is wrong comes in Chinese, with its line and
/// column, and names the field at fault (`字段 member_level 的取值不对`).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    read(bytes, |e| format!("第 {} 行第 {} 列", e.line(), e.column()))
}

/// Reads `T` from one line of a JSON Lines file (the caller names the line).
pub fn parse_line<T: DeserializeOwned>(line: &str) -> Result<T, String> {
    read(line.as_bytes(), |e| format!("第 {} 列", e.column()))
}

fn read<T: DeserializeOwned>(
    bytes: &[u8],
    at: impl Fn(&serde_json::Error) -> String,
) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        let what = describe(&e, &at(&e));
        if e.classify() != Category::Data || path == "." {
            return what;
        }
        match what.strip_prefix("有字段的") {
            Some(rest) => format!("字段 {path} 的{rest}"),
            None if what.starts_with("取值 ") || what.starts_with(super::stamp::TROUBLE) => {
                format!("字段 {path} 的{what}")
            }
            None => what,
        }
    })?;
    // Like serde_json::from_slice: nothing but white space may follow.
    de.end().map_err(|e| describe(&e, &at(&e)))?;
    Ok(value)
}

fn describe(e: &serde_json::Error, at: &str) -> String {
    match e.classify() {
        Category::Syntax | Category::Io => format!("不是合法的 JSON（{at}）"),
        Category::Eof => "JSON 不完整".into(),
        Category::Data => data_trouble(&e.to_string()),
    }
}

/// A serde data error ("missing field `text`", "invalid type: …") in Chinese.
pub fn data_trouble(msg: &str) -> String {
    let quoted = msg.split('`').nth(1).unwrap_or("");
    if msg.starts_with(super::stamp::TROUBLE) {
        // Our own message (see `stamp`), before serde's " at line … column …".
        msg.split(" at line ").next().unwrap_or(msg).to_string()
    } else if msg.starts_with("missing field") {
        format!("缺少字段 {quoted}")
    } else if msg.starts_with("unknown field") {
        format!("未知字段 {quoted}")
    } else if msg.starts_with("unknown variant") {
        format!("取值 {quoted} 不在可选范围内")
    } else if msg.starts_with("invalid length") || msg.contains("expected struct") {
        "应为一个 JSON 对象".into()
    } else if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        match (kind(got), kind(expected)) {
            (Some(got), Some(want)) => format!("有字段的类型不对：应为{want}，却是{got}"),
            _ => "有字段的类型不对".into(),
        }
    } else if msg.starts_with("invalid value") {
        "有字段的取值不对".into()
    } else {
        "有字段的类型或取值不对".into()
    }
}

/// The JSON kind a serde type description names, in the words of a JSON user.
fn kind(what: &str) -> Option<&'static str> {
    const KINDS: &[(&str, &str)] = &[
        ("string", "文字"),
        ("char", "文字"),
        ("floating point", "数字"),
        ("integer", "数字"),
        ("u64", "数字"),
        ("u32", "数字"),
        ("i64", "数字"),
        ("boolean", "true/false"),
        ("bool", "true/false"),
        ("sequence", "列表 [...]"),
        ("map", "对象 {...}"),
        ("null", "null"),
        ("unit", "null"),
    ];
    KINDS
        .iter()
        .find(|(word, _)| what.contains(word))
        .map(|(_, zh)| *zh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        text: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        n: u32,
    }

    fn said(json: &str) -> String {
        parse::<Q>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn every_kind_of_mistake_reads_in_chinese_and_names_its_field() {
        for (json, want) in [
            ("{not json", "不是合法的 JSON（第 1 行第 2 列）"),
            (r#"{"text":"#, "JSON 不完整"),
            (r#"{"n":1}"#, "缺少字段 text"),
            (r#"{"text":"a","x":1}"#, "未知字段 x"),
            ("[]", "应为一个 JSON 对象"),
            (r#"{"text":12}"#, "字段 text 的类型不对：应为文字，却是数字"),
            (
                r#"{"text":"a","tags":"x"}"#,
                "字段 tags 的类型不对：应为列表 [...]，却是文字",
            ),
            (
                r#"{"text":"a","tags":["x",2]}"#,
                "字段 tags[1] 的类型不对：应为文字，却是数字",
            ),
            (
                r#"{"text":"a","n":"7"}"#,
                "字段 n 的类型不对：应为数字，却是文字",
            ),
            (r#"{"text":"a","n":-1}"#, "字段 n 的取值不对"),
            (r#"{"text":"a"} x"#, "不是合法的 JSON（第 1 行第 14 列）"),
        ] {
            assert_eq!(said(json), want, "{json}");
        }
        assert_eq!(
            parse_line::<Q>("{\"text\" 1}").unwrap_err(),
            "不是合法的 JSON（第 9 列）"
        );
        assert_eq!(parse::<Q>(br#" {"text":"ok"} "#).unwrap().text, "ok");
    }

    #[test]
    fn a_time_without_its_zone_is_refused_with_an_example() {
        #[allow(dead_code)]
        #[derive(Debug, Deserialize)]
        struct M {
            #[serde(with = "crate::model::stamp")]
            at: chrono::DateTime<chrono::Utc>,
        }
        #[allow(dead_code)]
        #[derive(Debug, Deserialize)]
        struct Conv {
            messages: Vec<M>,
        }
        let said = parse::<Conv>(br#"{"messages":[{"at":"2026-11-20 10:00:00"}]}"#).unwrap_err();
        assert_eq!(
            said,
            "字段 messages[0].at 的时间“2026-11-20 10:00:00”应写成 RFC 3339 格式（带时区），例如 2026-11-20T10:00:00+08:00"
        );
        let ok = parse::<Conv>(br#"{"messages":[{"at":"2026-11-20T10:00:00+08:00"}]}"#);
        assert!(ok.is_ok());
    }
}
