//! Homophone typo correction (同音字): buyers type with pinyin input, so 换或 stands for
//! 换货 and 运非 for 运费. A window of 2–4 Chinese characters that is not a word of the
//! knowledge base, but sounds exactly like one (toneless pinyin) and differs from it in
//! at most one character, is replaced by that word.

use pinyin::{ToPinyin, ToPinyinMulti};
use std::collections::{HashMap, HashSet};

const MIN_LEN: usize = 2;
const MAX_LEN: usize = 4;
const MAX_DIFF: usize = 1;

pub(super) fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// The toneless pinyin of Chinese characters (default reading), `None` if any lacks one.
fn key(chars: &[char]) -> Option<String> {
    let mut out = String::with_capacity(chars.len() * 5);
    for c in chars {
        let p = c.to_pinyin()?;
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(p.plain());
    }
    Some(out)
}

/// The sounds a word of the knowledge base may have: its default reading, and each
/// reading with one character read another way (瑜伽 is yu qie by default, yu jia as said,
/// so 瑜珈 is its typo).
fn sounds(chars: &[char]) -> Vec<String> {
    let Some(default) = key(chars) else {
        return Vec::new();
    };
    let plain: Vec<&str> = default.split(' ').collect();
    let mut out = vec![default.clone()];
    for (i, c) in chars.iter().enumerate() {
        for p in c.to_pinyin_multi().into_iter().flatten() {
            let mut alt = plain.clone();
            alt[i] = p.plain();
            let alt = alt.join(" ");
            if !out.contains(&alt) {
                out.push(alt);
            }
        }
    }
    out
}

/// The knowledge base's vocabulary, indexed by sound.
#[derive(Default)]
pub struct Corrector {
    words: HashSet<String>,
    by_sound: HashMap<String, Vec<(u32, String)>>,
}

impl Corrector {
    /// Builds the corrector from word counts of the knowledge base.
    pub fn new(counts: &HashMap<String, u32>) -> Corrector {
        let mut by_sound: HashMap<String, Vec<(u32, String)>> = HashMap::new();
        for (w, &n) in counts {
            let chars: Vec<char> = w.chars().collect();
            if (MIN_LEN..=MAX_LEN).contains(&chars.len()) && chars.iter().all(|&c| is_han(c)) {
                for k in sounds(&chars) {
                    by_sound.entry(k).or_default().push((n, w.clone()));
                }
            }
        }
        for v in by_sound.values_mut() {
            // Most frequent first, then by text for a stable choice.
            v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        }
        Corrector {
            words: counts.keys().cloned().collect(),
            by_sound,
        }
    }

    /// Corrects normalized text; returns the text and each `(typo, word)` replaced.
    /// Characters inside any known word of the text are protected, so a correct word
    /// is never bent into another one (我的花呗 must not become 的话), and so is text
    /// the knowledge base writes itself: `written` holds the pairs of adjacent
    /// characters in its phrasings, and a window made of them stays ("加钱可以吗"
    /// beside "开发票要加钱吗", though jieba cuts that 加/钱 and 价钱 is a word).
    pub fn correct(
        &self,
        norm: &str,
        written: &HashMap<[char; 2], u32>,
    ) -> (String, Vec<(String, String)>) {
        let chars: Vec<char> = norm.chars().collect();
        let protected = self.protected(&chars);
        let mut out = String::with_capacity(norm.len());
        let mut fixes = Vec::new();
        let mut i = 0;
        'scan: while i < chars.len() {
            for len in (MIN_LEN..=MAX_LEN).rev() {
                let Some(win) = chars.get(i..i + len) else {
                    continue;
                };
                if !win.iter().all(|&c| is_han(c)) {
                    continue;
                }
                let text: String = win.iter().collect();
                if self.words.contains(&text) {
                    out.push_str(&text);
                    i += len;
                    continue 'scan;
                }
                if protected[i..i + len].iter().any(|&p| p)
                    || win.windows(2).all(|w| written.contains_key(&[w[0], w[1]]))
                {
                    continue;
                }
                let candidates = key(win).and_then(|k| self.by_sound.get(&k));
                for (_, w) in candidates.into_iter().flatten() {
                    if w.chars().zip(win).filter(|(a, b)| a != *b).count() == MAX_DIFF {
                        out.push_str(w);
                        fixes.push((text, w.clone()));
                        i += len;
                        continue 'scan;
                    }
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        (out, fixes)
    }

    /// Marks the characters covered by any known word of 2–4 characters.
    fn protected(&self, chars: &[char]) -> Vec<bool> {
        let mut mask = vec![false; chars.len()];
        for i in 0..chars.len() {
            for len in MIN_LEN..=MAX_LEN {
                let Some(win) = chars.get(i..i + len) else {
                    break;
                };
                if self.words.contains(&win.iter().collect::<String>()) {
                    mask[i..i + len].iter_mut().for_each(|m| *m = true);
                }
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corrector(words: &[&str]) -> Corrector {
        Corrector::new(&words.iter().map(|w| (w.to_string(), 1)).collect())
    }

    /// Corrects `text` with nothing written in the knowledge base besides its words.
    trait Plain {
        fn correct_plain(&self, text: &str) -> (String, Vec<(String, String)>);
    }

    impl Plain for Corrector {
        fn correct_plain(&self, text: &str) -> (String, Vec<(String, String)>) {
            self.correct(text, &HashMap::new())
        }
    }

    #[test]
    fn homophone_typos_become_kb_words() {
        let c = corrector(&["换货", "运费", "发货", "退款", "尺码", "包邮", "在吗"]);
        assert_eq!(c.correct_plain("可以换或吗").0, "可以换货吗");
        assert_eq!(c.correct_plain("运非多少").0, "运费多少");
        assert_eq!(c.correct_plain("退宽多久到").0, "退款多久到");
        assert_eq!(c.correct_plain("尺吗偏大吗").0, "尺码偏大吗");
        assert_eq!(c.correct_plain("包油吗").0, "包邮吗");
        // A word's other readings count: 伽 reads qie by default, jia in 瑜伽.
        let c2 = corrector(&["瑜伽", "银行"]);
        assert_eq!(c2.correct_plain("瑜珈垫多厚").0, "瑜伽垫多厚");
        assert_eq!(c2.correct_plain("银航卡").0, "银行卡");
        let (text, fixes) = c.correct_plain("什么时候发或");
        assert_eq!(text, "什么时候发货");
        assert_eq!(fixes, vec![("发或".to_string(), "发货".to_string())]);
    }

    #[test]
    fn real_words_and_distant_sounds_stay() {
        let c = corrector(&["换货", "发货"]);
        assert_eq!(c.correct_plain("发货了吗").0, "发货了吗");
        assert_eq!(
            c.correct_plain("黄河").0,
            "黄河",
            "huang he is not huan huo"
        );
        assert_eq!(c.correct_plain("sf快递").0, "sf快递");
        assert_eq!(c.correct_plain("").0, "");
        // 的话 sounds like 的花, but 花呗 is a word here: its characters are protected.
        let c = corrector(&["花呗", "的话"]);
        assert_eq!(c.correct_plain("我的花呗").0, "我的花呗");
        // What the knowledge base writes is no typo: "加钱" stands in a phrasing.
        let c = corrector(&["价钱", "发票"]);
        assert_eq!(c.correct_plain("加钱可以吗").0, "价钱可以吗");
        let written = HashMap::from([(['加', '钱'], 1), (['要', '加'], 1)]);
        assert_eq!(c.correct("加钱可以吗", &written).0, "加钱可以吗");
        assert_eq!(c.correct("开发漂加钱吗", &written).0, "开发票加钱吗");
    }
}
