//! Knowledge-base entries (标准问 + 相似问法 + answers) and their validation.

use super::Invalid;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// How an entry is matched against a buyer's message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// Fuzzy matching over the question and its similar phrasings (智能匹配).
    #[default]
    Intelligent,
    /// The normalized message must equal the question or a similar phrasing (完全匹配).
    Exact,
    /// The message must contain every keyword (包含关键词).
    Keyword,
    /// The normalized message must match the regular expression (正则).
    Regex,
}

impl MatchMode {
    /// Every mode, in the order the editor lists them.
    pub const ALL: [MatchMode; 4] = [
        MatchMode::Intelligent,
        MatchMode::Exact,
        MatchMode::Keyword,
        MatchMode::Regex,
    ];

    /// The mode's name in the UI.
    pub fn label(self) -> &'static str {
        match self {
            MatchMode::Intelligent => "智能匹配",
            MatchMode::Exact => "完全匹配",
            MatchMode::Keyword => "包含关键词",
            MatchMode::Regex => "正则表达式",
        }
    }

    /// The mode's name in files and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Intelligent => "intelligent",
            MatchMode::Exact => "exact",
            MatchMode::Keyword => "keyword",
            MatchMode::Regex => "regex",
        }
    }

    /// Parses a mode name (empty means intelligent).
    pub fn parse(s: &str) -> Option<MatchMode> {
        match s.trim() {
            "" => Some(MatchMode::Intelligent),
            other => MatchMode::ALL.into_iter().find(|m| m.as_str() == other),
        }
    }
}

/// One knowledge-base entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbEntry {
    /// Stable id: a short string, or a number from an import (kept as its decimal text).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// The standard question (标准问).
    pub question: String,
    /// Other ways buyers ask it (相似问法).
    #[serde(default)]
    pub similar: Vec<String>,
    /// Phrasings that look alike but must NOT match this entry (排除问法).
    #[serde(default)]
    pub negative: Vec<String>,
    /// The default answer.
    pub answer: String,
    /// The answer for a buyer without an order (售前), if it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_sale_answer: Option<String>,
    /// The answer for a buyer with an order (售后), if it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sale_answer: Option<String>,
    /// Answer overrides by product SKU.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_answers: BTreeMap<String, String>,
    /// Entries a buyer typically asks next (答案引导), by id.
    #[serde(default)]
    pub follow_ups: Vec<String>,
    /// 板块: 物流, 售前, 售后, 活动, 商品, 账户/支付, …
    #[serde(default)]
    pub category: String,
    /// 场景: a finer grouping that scene switches act on.
    #[serde(default)]
    pub scene: String,
    /// Off entries never answer.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Also alert a human when this entry answers.
    #[serde(default)]
    pub notify_human: bool,
    /// Answers only from this instant on (大促 answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime<Utc>>,
    /// Answers only until this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub match_mode: MatchMode,
    /// For `keyword` mode: every keyword must occur in the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// For `regex` mode: the pattern, matched against the normalized message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// May borrow the phrasings of the starter entry it asks the same question as
    /// (行业通用问法, see `bot::industry`); the trainer can switch it off.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub industry: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

const MAX_ID_CHARS: usize = 64;
const MAX_TEXT_CHARS: usize = 2000;
const MAX_PHRASING_CHARS: usize = 200;

impl KbEntry {
    /// A minimal enabled entry.
    pub fn new(id: &str, question: &str, answer: &str) -> KbEntry {
        KbEntry {
            id: id.into(),
            question: question.into(),
            similar: Vec::new(),
            negative: Vec::new(),
            answer: answer.into(),
            pre_sale_answer: None,
            after_sale_answer: None,
            product_answers: BTreeMap::new(),
            follow_ups: Vec::new(),
            category: String::new(),
            scene: String::new(),
            enabled: true,
            notify_human: false,
            valid_from: None,
            valid_until: None,
            match_mode: MatchMode::Intelligent,
            keywords: Vec::new(),
            pattern: None,
            industry: true,
        }
    }

    /// The question followed by the similar phrasings.
    pub fn phrasings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.similar.iter().map(String::as_str))
    }

    /// Whether the entry may answer at `now` (enabled and within its validity period).
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.enabled
            && self.valid_from.is_none_or(|f| f <= now)
            && self.valid_until.is_none_or(|u| now < u)
    }

    /// Trims every text, drops empty and repeated phrasings, keywords and follow-ups.
    pub fn normalized(mut self) -> KbEntry {
        fn clean(v: &mut Vec<String>) {
            let mut seen = std::collections::HashSet::new();
            v.iter_mut().for_each(|s| *s = s.trim().to_string());
            v.retain(|s| !s.is_empty() && seen.insert(s.clone()));
        }
        self.id = self.id.trim().to_string();
        self.question = self.question.trim().to_string();
        self.answer = self.answer.trim().to_string();
        clean(&mut self.similar);
        clean(&mut self.negative);
        clean(&mut self.keywords);
        clean(&mut self.follow_ups);
        let question = self.question.clone();
        self.similar.retain(|s| *s != question);
        self.category = self.category.trim().to_string();
        self.scene = self.scene.trim().to_string();
        for a in [&mut self.pre_sale_answer, &mut self.after_sale_answer] {
            *a = a
                .take()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
        }
        self.pattern = self
            .pattern
            .take()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        self.product_answers = std::mem::take(&mut self.product_answers)
            .into_iter()
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .collect();
        let id = self.id.clone();
        self.follow_ups.retain(|f| *f != id);
        self
    }

    /// Checks the entry's own rules (not references to other entries).
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        let n = self.id.chars().count();
        if n == 0 {
            inv.add("id", "请填写编号");
        } else if n > MAX_ID_CHARS
            || self
                .id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            inv.add(
                "id",
                format!("编号最多 {MAX_ID_CHARS} 个字符，不能含空格或斜杠"),
            );
        }
        if self.question.is_empty() {
            inv.add("question", "请填写标准问题");
        }
        if self
            .phrasings()
            .chain(self.negative.iter().map(String::as_str))
            .any(|p| p.chars().count() > MAX_PHRASING_CHARS)
        {
            inv.add("similar", format!("每个问法最多 {MAX_PHRASING_CHARS} 个字"));
        }
        if self.answer.is_empty() {
            inv.add("answer", "请填写答案");
        }
        // Each answer's problem is shown at its own field (a bad variable in 售前答案
        // was marked on 答案).
        let answers = [
            ("answer", Some(&self.answer)),
            ("pre_sale_answer", self.pre_sale_answer.as_ref()),
            ("after_sale_answer", self.after_sale_answer.as_ref()),
        ]
        .into_iter()
        .filter_map(|(field, a)| a.map(|a| (field, a)))
        .chain(
            self.product_answers
                .values()
                .map(|a| ("product_answers", a)),
        );
        for (field, a) in answers {
            if inv.get(field).is_some() {
                continue;
            }
            if a.chars().count() > MAX_TEXT_CHARS {
                inv.add(field, format!("答案最多 {MAX_TEXT_CHARS} 个字"));
            } else if let Some(trouble) = super::settings::unknown_variables(a) {
                inv.add(field, trouble);
            }
        }
        if let (Some(f), Some(u)) = (self.valid_from, self.valid_until)
            && u <= f
        {
            inv.add("valid_until", "结束时间必须晚于开始时间");
        }
        match self.match_mode {
            MatchMode::Keyword if self.keywords.is_empty() => {
                inv.add("keywords", "“包含关键词”模式需要至少一个关键词")
            }
            MatchMode::Regex => match self.pattern.as_deref() {
                None => inv.add("pattern", "“正则表达式”模式需要填写表达式"),
                Some(p) => {
                    if let Err(e) = regex::RegexBuilder::new(p).size_limit(1 << 20).build() {
                        inv.add("pattern", format!("正则表达式有误：{}", regex_trouble(&e)));
                    }
                }
            },
            _ => {}
        }
        inv.into_result()
    }
}

/// What is wrong with a pattern, in words a trainer reads (the regex crate's message is
/// English and multi-line).
fn regex_trouble(e: &regex::Error) -> &'static str {
    let regex::Error::Syntax(msg) = e else {
        return "表达式太复杂";
    };
    const KNOWN: &[(&str, &str)] = &[
        ("unclosed character class", "方括号 [ ] 没有成对"),
        ("unclosed group", "圆括号 ( ) 没有成对"),
        ("unopened group", "多了一个右括号 )"),
        ("unclosed counted repetition", "花括号 { } 没有成对"),
        (
            "repetition operator missing expression",
            "* + ? 前面缺少内容",
        ),
        ("escape", "反斜杠 \\ 的转义写法不对"),
    ];
    let last = msg
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(msg);
    KNOWN
        .iter()
        .find(|(en, _)| last.contains(en))
        .map(|(_, zh)| *zh)
        .unwrap_or("写法不对，请检查括号和特殊符号")
}

/// The trainer's own vocabulary: synonym groups (canonical word first) and shop words
/// for the tokenizer (product names, brand words, slang).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lexicon {
    #[serde(default)]
    pub synonyms: Vec<Vec<String>>,
    #[serde(default)]
    pub words: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_from_imports_become_strings() {
        let e: KbEntry = serde_json::from_str(
            r#"{"id": 9, "question": "如何领优惠券", "answer": "A9", "similar": ["如何获取优惠倦"], "source": "bq"}"#,
        )
        .unwrap();
        assert_eq!(e.id, "9");
        assert!(e.enabled, "entries are on unless said otherwise");
        assert_eq!(e.match_mode, MatchMode::Intelligent);
        assert_eq!(
            e.phrasings().collect::<Vec<_>>(),
            ["如何领优惠券", "如何获取优惠倦"]
        );
    }

    #[test]
    fn an_answers_problem_is_reported_at_its_own_field() {
        let mut e = KbEntry::new("a", "问", "答");
        e.pre_sale_answer = Some("会员价 {{会员价}}".into());
        let inv = e.validate().unwrap_err();
        assert!(
            inv.get("pre_sale_answer")
                .is_some_and(|m| m.contains("{{会员价}}")),
            "{inv:?}"
        );
        assert_eq!(inv.get("answer"), None);
        e.pre_sale_answer = None;
        e.after_sale_answer = Some("长".repeat(MAX_TEXT_CHARS + 1));
        let inv = e.validate().unwrap_err();
        assert!(inv.get("after_sale_answer").is_some(), "{inv:?}");
        assert_eq!(inv.get("answer"), None);
    }

    #[test]
    fn normalized_drops_blanks_and_repeats() {
        let mut e = KbEntry::new(" a ", " 问 ", " 答 ");
        e.similar = vec!["问".into(), " x ".into(), "x".into(), "".into()];
        e.follow_ups = vec!["a".into(), "b".into()];
        e.pre_sale_answer = Some("  ".into());
        let e = e.normalized();
        assert_eq!(e.id, "a");
        assert_eq!(e.similar, ["x"]);
        assert_eq!(e.follow_ups, ["b"]);
        assert_eq!(e.pre_sale_answer, None);
    }

    #[test]
    fn validation_rules() {
        assert!(KbEntry::new("a", "q", "ans").validate().is_ok());
        let inv = KbEntry::new("a b", "", "").validate().unwrap_err();
        for f in ["id", "question", "answer"] {
            assert!(inv.get(f).is_some(), "{f}");
        }
        let mut e = KbEntry::new("r", "q", "a");
        e.match_mode = MatchMode::Regex;
        for (pattern, why) in [
            ("(", "圆括号 ( ) 没有成对"),
            ("[a-", "方括号 [ ] 没有成对"),
            ("*包邮", "* + ? 前面缺少内容"),
        ] {
            e.pattern = Some(pattern.into());
            let inv = e.validate().unwrap_err();
            let msg = inv.get("pattern").map(|m| m.to_string());
            assert_eq!(msg, Some(format!("正则表达式有误：{why}")), "{pattern}");
        }
        e.match_mode = MatchMode::Keyword;
        assert!(e.validate().unwrap_err().get("keywords").is_some());
    }

    #[test]
    fn validity_period() {
        let now = Utc::now();
        let mut e = KbEntry::new("a", "q", "ans");
        assert!(e.active_at(now));
        e.valid_until = Some(now);
        assert!(!e.active_at(now), "ends exclusive");
        e.valid_until = None;
        e.valid_from = Some(now + chrono::Duration::hours(1));
        assert!(!e.active_at(now));
        e.valid_from = None;
        e.enabled = false;
        assert!(!e.active_at(now));
    }
}
