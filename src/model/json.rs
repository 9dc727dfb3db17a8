//! serde_json's errors in Chinese, for every place a user hands us JSON: API bodies,
//! query strings and the JSON Lines files of `kb import`, `eval` and `import-history`.

use serde_json::error::Category;

/// What is wrong with a JSON document, with its line and column.
pub fn trouble(e: &serde_json::Error) -> String {
    describe(e, &format!("第 {} 行第 {} 列", e.line(), e.column()))
}

/// What is wrong with one line of a JSON Lines file (the caller names the line).
pub fn line_trouble(e: &serde_json::Error) -> String {
    describe(e, &format!("第 {} 列", e.column()))
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
    if msg.starts_with("missing field") {
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
        trouble(&serde_json::from_str::<Q>(json).unwrap_err())
    }

    #[test]
    fn every_kind_of_mistake_reads_in_chinese() {
        for (json, want) in [
            ("{not json", "不是合法的 JSON（第 1 行第 2 列）"),
            (r#"{"text":"#, "JSON 不完整"),
            (r#"{"n":1}"#, "缺少字段 text"),
            (r#"{"text":"a","x":1}"#, "未知字段 x"),
            ("[]", "应为一个 JSON 对象"),
            (r#"{"text":12}"#, "有字段的类型不对：应为文字，却是数字"),
            (
                r#"{"text":"a","tags":"x"}"#,
                "有字段的类型不对：应为列表 [...]，却是文字",
            ),
            (
                r#"{"text":"a","n":"7"}"#,
                "有字段的类型不对：应为数字，却是文字",
            ),
            (r#"{"text":"a","n":-1}"#, "有字段的取值不对"),
        ] {
            assert_eq!(said(json), want, "{json}");
        }
        let e = serde_json::from_str::<Q>("{\"text\" 1}").unwrap_err();
        assert_eq!(line_trouble(&e), "不是合法的 JSON（第 9 列）");
    }
}
