//! The analyzer: jieba words (with the shop's words and synonym words in the dictionary)
//! mapped to their canonical synonym, plus character unigrams and bigrams as a second,
//! segmentation-proof signal. Registered with tantivy so index and query agree.

use crate::model::Lexicon;
use jieba_rs::Jieba;
use std::collections::HashMap;
use std::sync::Arc;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The tantivy tokenizer name of the word field.
pub const WORDS: &str = "xiaoer_words";
/// The tantivy tokenizer name of the character-bigram field.
pub const BIGRAMS: &str = "xiaoer_bigrams";

/// The built-in e-commerce synonym list (canonical word first).
pub const BUILTIN_SYNONYMS: &str = include_str!("starter/synonyms.txt");

/// Words and particles that carry little meaning in a question (亲, 吗, 请问 …). They
/// stay in the text (they can tell questions apart) but weigh 0.4 of a content word.
pub const STOP: &[&str] = &[
    "下",
    "与",
    "个",
    "么",
    "也",
    "了",
    "亲",
    "他",
    "你",
    "又",
    "及",
    "吖",
    "吗",
    "吧",
    "呀",
    "呃",
    "呐",
    "呗",
    "呢",
    "和",
    "咯",
    "哇",
    "哈",
    "哎",
    "哒",
    "哦",
    "唉",
    "啊",
    "啦",
    "喔",
    "嗯",
    "嘛",
    "嘞",
    "噢",
    "在",
    "地",
    "太",
    "她",
    "它",
    "就",
    "帮",
    "很",
    "得",
    "您",
    "我",
    "或",
    "是",
    "有",
    "滴",
    "点",
    "的",
    "着",
    "诶",
    "请",
    "跟",
    "过",
    "这",
    "那",
    "都",
    "问",
    "额",
    "一下",
    "一个",
    "一些",
    "一点",
    "亲亲",
    "家人们",
    "宝子",
    "宝子们",
    "姐妹们",
    "谁懂",
    "老板",
    "掌柜",
    // A place the buyer names (寄到北京, 我在杭州) is any place: the 城市 synonym group.
    "城市",
    "小姐姐",
    "小哥哥",
    "嘅",
    "但是",
    "你们",
    "你好",
    "你的",
    "可是",
    "咨询",
    "因为",
    "在吗",
    "如果",
    "帮忙",
    "帮我",
    "您好",
    "想问",
    "我们",
    "我的",
    "或者",
    "所以",
    "有点",
    "然后",
    "现在",
    "老板",
    "自己",
    "请问",
    "谢谢",
    "还是",
    "这个",
    "这样",
    "这种",
    "那个",
    "那样",
    "那种",
    "问下",
    "麻烦",
    "问一下",
    "麻烦你",
    "咨询一下",
    "想问一下",
];

/// Whether `term` (a word or a single character) is a stop word.
pub fn is_stop(term: &str) -> bool {
    STOP.contains(&term)
}

/// Characters that, with particles, make up messages which ask nothing on their own
/// ("可以吗", "是不是", "怎么样", "有没有", "那怎么办"): yes/no and how-about words,
/// demonstratives.
const VAGUE: &str = "可以行好是能对有不没咋样怎如何这那会还就都再很更些一办";

/// Whether the content characters of a message (its characters that are not stop
/// words) are all vague ones (or none at all): it names nothing an entry is about.
pub fn is_vague(content: &std::collections::HashSet<char>) -> bool {
    content.iter().all(|c| VAGUE.contains(*c))
}

/// Turns normalized text into terms. Cheap to clone (shared).
#[derive(Clone)]
pub struct Analyzer {
    inner: Arc<Inner>,
}

struct Inner {
    jieba: Jieba,
    /// Word → its canonical synonym.
    synonyms: HashMap<String, String>,
}

impl Analyzer {
    /// An analyzer with the built-in synonyms, the trainer's lexicon and `extra_words`
    /// (product names, aliases) added to the dictionary.
    pub fn new<'a>(
        lexicon: &'a Lexicon,
        extra_words: impl IntoIterator<Item = &'a str>,
    ) -> Analyzer {
        // A fresh dictionary (~0.2 s, ~30 MB): only one lives per engine.
        let mut jieba = Jieba::new();
        let mut synonyms = HashMap::new();
        let builtin = super::kbfile::read_synonyms(BUILTIN_SYNONYMS);
        // Words are normalized like buyer text (運費 → 运费, ＳＦ → sf), so a trainer can
        // type them any way. The trainer's groups come last: they win where a word is in
        // both lists.
        let norm = |w: &str| super::normalize::normalize(w).replace(' ', "");
        for group in builtin.iter().chain(lexicon.synonyms.iter()) {
            let Some(canonical) = group.first().map(|w| norm(w)) else {
                continue;
            };
            for w in group.iter().map(|w| norm(w)).filter(|w| !w.is_empty()) {
                add_word(&mut jieba, &w);
                synonyms.insert(w, canonical.clone());
            }
        }
        for w in lexicon.words.iter().map(String::as_str).chain(extra_words) {
            add_word(&mut jieba, &norm(w));
        }
        Analyzer {
            inner: Arc::new(Inner { jieba, synonyms }),
        }
    }

    /// The canonical words of normalized text, in order; each space-separated segment
    /// is cut on its own (jieba precise mode, no HMM: it guesses fewer odd words).
    pub fn words(&self, norm: &str) -> Vec<String> {
        self.segment_words(norm).into_iter().flatten().collect()
    }

    /// The words of normalized text as jieba cuts them, without synonyms (for telling
    /// whole words from parts of longer ones: 滚 in "你滚" but not in "滚筒").
    pub fn cut(&self, norm: &str) -> Vec<String> {
        norm.split(' ')
            .filter(|s| !s.is_empty())
            .flat_map(|segment| self.inner.jieba.cut(segment, false))
            .map(|t| t.word.to_string())
            .collect()
    }

    /// Canonical words per space-separated segment of normalized text.
    pub fn segment_words(&self, norm: &str) -> Vec<Vec<String>> {
        norm.split(' ')
            .filter(|s| !s.is_empty())
            .map(|segment| {
                self.inner
                    .jieba
                    .cut(segment, false)
                    .into_iter()
                    .map(|t| {
                        let w = t.word;
                        self.inner
                            .synonyms
                            .get(w)
                            .map(String::as_str)
                            .unwrap_or(w)
                            .to_string()
                    })
                    .collect()
            })
            .collect()
    }

    /// Raw text (a phrasing, or several on separate lines): normalized, then
    /// `segment_words`. Lines never run into each other.
    pub fn segments(&self, text: &str) -> Vec<Vec<String>> {
        text.lines()
            .flat_map(|line| self.segment_words(&super::normalize::normalize(line)))
            .collect()
    }

    /// `(word, canonical word)` pairs of normalized text, in order.
    pub fn word_pairs(&self, norm: &str) -> Vec<(String, String)> {
        norm.split(' ')
            .filter(|s| !s.is_empty())
            .flat_map(|segment| self.inner.jieba.cut(segment, false))
            .map(|t| {
                let w = t.word;
                let c = self.inner.synonyms.get(w).map(String::as_str).unwrap_or(w);
                (w.to_string(), c.to_string())
            })
            .collect()
    }

    /// Whether jieba's dictionary reads `word` as a thing: no word of it is an adjective,
    /// number, pronoun, adverb, verb or particle ("玻璃杯", "手机壳", "茶针" (茶/n 针/p); not
    /// "小一点", "别的颜色", "便宜点").
    pub fn names_thing(&self, word: &str) -> bool {
        let tags = self.inner.jieba.tag(word, false);
        !tags.is_empty()
            && tags.iter().all(|t| {
                !t.tag
                    .starts_with(['a', 'm', 'r', 'd', 'v', 'u', 'c', 'y', 'e', 'q'])
            })
    }

    /// Every word of every synonym group.
    pub fn synonym_words(&self) -> impl Iterator<Item = &str> {
        self.inner.synonyms.keys().map(String::as_str)
    }
}

/// Character unigrams of canonical words.
pub fn unigrams(words: &[String]) -> Vec<String> {
    words
        .iter()
        .flat_map(|w| w.chars())
        .map(String::from)
        .collect()
}

/// Character bigrams of canonical words; a bigram may span two words, so `退/货` and
/// `退货` agree.
pub fn bigrams(words: &[String]) -> Vec<String> {
    let chars: Vec<char> = words.iter().flat_map(|w| w.chars()).collect();
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

fn add_word(jieba: &mut Jieba, w: &str) {
    // Single characters and anything with spaces cannot be dictionary words.
    if w.chars().count() >= 2 && !w.contains(char::is_whitespace) {
        // Raises a known word's frequency only as far as it takes to be cut whole.
        jieba.add_word(w, None, None);
    }
}

/// A token stream over terms computed up front.
pub struct Terms {
    terms: Vec<String>,
    next: usize,
    token: Token,
}

impl Terms {
    fn new(terms: Vec<String>) -> Terms {
        Terms {
            terms,
            next: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for Terms {
    fn advance(&mut self) -> bool {
        let Some(t) = self.terms.get(self.next) else {
            return false;
        };
        self.token.text.clear();
        self.token.text.push_str(t);
        self.token.position = self.next;
        self.token.offset_from = 0;
        self.token.offset_to = 0;
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// The word field's tantivy tokenizer: normalize, then `Analyzer::words`.
#[derive(Clone)]
pub struct WordTokenizer(pub Analyzer);

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = Terms;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms::new(self.0.segments(text).into_iter().flatten().collect())
    }
}

/// The character-bigram field's tantivy tokenizer.
#[derive(Clone)]
pub struct BigramTokenizer(pub Analyzer);

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = Terms;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Terms {
        Terms::new(
            self.0
                .segments(text)
                .iter()
                .flat_map(|s| bigrams(s))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::normalize::normalize;

    fn analyzer() -> Analyzer {
        Analyzer::new(
            &Lexicon {
                synonyms: vec![
                    vec!["小二牌".into(), "ＸＲ".into(), "小二牌子".into()],
                    vec!["運費".into(), "邮钱".into()],
                ],
                words: vec!["冰丝凉席".into()],
            },
            ["云朵拖鞋"],
        )
    }

    #[test]
    fn synonyms_map_to_the_canonical_word() {
        let a = analyzer();
        let w = a.words(&normalize("物流到哪了"));
        assert_eq!(w[0], "快递", "{w:?}");
        assert!(
            a.words(&normalize("码数偏大吗"))
                .contains(&"尺码".to_string())
        );
        assert!(
            a.words(&normalize("发顺丰速运吗"))
                .contains(&"顺丰".to_string())
        );
        assert!(
            a.words("xr的东西").contains(&"小二牌".to_string()),
            "trainer synonyms"
        );
        // Everyday dialect: 四川话 "买回来搁屋头，没得冰箱咋个放".
        let w = a.words(&normalize("买回来搁屋头没得冰箱咋个放"));
        for canonical in ["放", "家里", "没有", "怎么"] {
            assert!(w.contains(&canonical.to_string()), "{canonical}: {w:?}");
        }
        // Buyers name their city, not the remote province it is in.
        for (city, province) in [("乌鲁木齐包邮吗", "新疆"), ("寄到拉萨要多久", "西藏")]
        {
            let w = a.words(&normalize(city));
            assert!(w.contains(&province.to_string()), "{city}: {w:?}");
        }
        // A product named after a place keeps its own word (头层牛皮 is no 包头).
        let w = a.words(&normalize("这个包头层牛皮吗"));
        assert!(!w.contains(&"内蒙古".to_string()), "{w:?}");
    }

    #[test]
    fn shop_words_stay_whole() {
        let a = analyzer();
        assert!(a.words("冰丝凉席怎么洗").contains(&"冰丝凉席".to_string()));
        assert!(a.words("云朵拖鞋有货吗").contains(&"云朵拖鞋".to_string()));
    }

    #[test]
    fn unigrams_and_bigrams_span_words_not_lines() {
        let w = ["退".to_string(), "货".to_string()];
        assert_eq!(unigrams(&w), ["退", "货"]);
        assert_eq!(bigrams(&w), ["退货"]);
        assert!(bigrams(&[]).is_empty());
        let a = analyzer();
        let mut tok = BigramTokenizer(a);
        let mut stream = tok.token_stream("退货\n换货");
        let mut got = Vec::new();
        while let Some(t) = stream.next() {
            got.push(t.text.clone());
        }
        assert_eq!(got, ["退货", "换货"], "no bigram across the line break");
    }

    #[test]
    fn tantivy_tokenizer_streams_the_same_terms() {
        let a = analyzer();
        let mut tok = WordTokenizer(a.clone());
        let mut stream = tok.token_stream("物流到哪了？");
        let mut got = Vec::new();
        while let Some(t) = stream.next() {
            got.push(t.text.clone());
        }
        assert_eq!(got, a.words(&normalize("物流到哪了？")));
    }
}
