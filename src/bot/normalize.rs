//! Text normalization before matching: full-width → half-width, 繁→简, lower case,
//! punctuation and emoji noise removed, runs of repeated characters collapsed.

use zhconv::{Variant, zhconv};

/// Particles that buyers repeat for tone (吗吗, 亲亲亲); a run of them counts once.
const PARTICLES: &str = "吗嘛呢啊呀吧哦噢哈啦嘞咯么亲";

/// Maps full-width ASCII (ＡＢＣ１２３？) and the ideographic space to half-width.
pub fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Whether `c` carries meaning for matching: CJK ideographs, letters and digits.
pub fn is_content(c: char) -> bool {
    c.is_alphanumeric()
}

/// Width-folded, simplified, lower-cased text with punctuation and emoji kept (for
/// intent detection, which reads 👍 and ！！！).
pub fn simplify(text: &str) -> String {
    let folded: String = text.chars().map(half_width).collect();
    zhconv(&folded, Variant::ZhHans).to_lowercase()
}

/// The form matching works on: `simplify`, then every run of non-content characters
/// becomes one space, and repeats collapse: a particle run counts once (`吗吗` → `吗`),
/// any run of three or more counts once (`哈哈哈` → `哈`), reduplication stays (`谢谢`).
pub fn normalize(text: &str) -> String {
    let simple = simplify(text);
    let mut out = String::with_capacity(simple.len());
    let mut chars = simple.chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if !is_content(c) {
            pending_space = !out.is_empty();
            continue;
        }
        let mut run = 1;
        while chars.peek() == Some(&c) {
            chars.next();
            run += 1;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        // Numbers and Latin letters keep every one (1000元, XXXL: a size, not a
        // stammer); doubled words stay (谢谢), longer runs and doubled particles count
        // once.
        let keep = if c.is_ascii_alphanumeric() || (run == 2 && !PARTICLES.contains(c)) {
            run
        } else {
            1
        };
        (0..keep).for_each(|_| out.push(c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case() {
        assert_eq!(normalize("ＳＦ快递１２３"), "sf快递123");
        assert_eq!(normalize("能用ＥＭＳ吗？"), "能用ems吗");
    }

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(normalize("請問什麼時候發貨"), "请问什么时候发货");
        assert_eq!(normalize("可以退貨嗎"), "可以退货吗");
        assert_eq!(normalize("順豐到付"), "顺丰到付");
    }

    #[test]
    fn punctuation_and_emoji_are_noise() {
        assert_eq!(normalize("亲，在吗？？？😭🙏"), "亲 在吗");
        assert_eq!(normalize("  包邮吗!!!  "), "包邮吗");
        assert_eq!(normalize("好的，那运费谁出"), "好的 那运费谁出");
    }

    #[test]
    fn repeats_collapse_but_reduplication_stays() {
        assert_eq!(normalize("亲亲亲在吗吗"), "亲在吗");
        assert_eq!(normalize("哈哈哈哈"), "哈");
        assert_eq!(normalize("谢谢"), "谢谢");
        assert_eq!(normalize("我看看"), "我看看");
        assert_eq!(normalize("满1000减100"), "满1000减100");
        assert_eq!(normalize("有XXXL吗"), "有xxxl吗");
    }

    #[test]
    fn simplify_keeps_emoji_for_intents() {
        assert_eq!(simplify("謝謝👍"), "谢谢👍");
    }

    #[test]
    fn odd_input_does_not_panic() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("\u{0}\u{7}\n\t"), "");
        let long = "啊".repeat(100_000);
        assert_eq!(normalize(&long), "啊");
    }
}
