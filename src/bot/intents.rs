//! Built-in intents, checked before the knowledge base: a request for a human (转人工),
//! a complaint or anger (apologise and hand over, never argue), and a positive message
//! (warm reply and a rating invitation).

use serde::Serialize;

/// An intent the bot recognises by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// The buyer asks for a human.
    Transfer,
    /// Complaint, anger, 差价, threats of bad ratings: hand over at once.
    Complaint,
    /// Thanks, OK, paid, will rate well: nothing to answer but warmth.
    Positive,
}

impl Intent {
    /// The intent's name in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Transfer => "transfer",
            Intent::Complaint => "complaint",
            Intent::Positive => "positive",
        }
    }

    /// The intent's name in the console.
    pub fn label(self) -> &'static str {
        match self {
            Intent::Transfer => "转人工",
            Intent::Complaint => "投诉安抚",
            Intent::Positive => "致谢好评",
        }
    }

    /// Parses an intent name.
    pub fn parse(s: &str) -> Option<Intent> {
        [Intent::Transfer, Intent::Complaint, Intent::Positive]
            .into_iter()
            .find(|i| i.as_str() == s)
    }
}

/// Words that mean a complaint wherever they appear (unless negated: "不是投诉").
const COMPLAINT: &[&str] = &[
    "投诉",
    "差评",
    "举报",
    "12315",
    "12345",
    "消协",
    "消费者协会",
    "工商局",
    "市场监管",
    "曝光你们",
    "去曝光",
    "维权",
    "起诉",
    "律师",
    "骗人",
    "骗钱",
    "骗子店",
    "骗子商家",
    "大骗子",
    "一群骗子",
    "就是骗子",
    "你们是骗子",
    "你们骗子",
    "良心不会痛",
    "良心不痛",
    "没良心",
    "昧良心",
    "良心呢",
    "坑人",
    "坑爹",
    "太坑",
    "坑了",
    "黑店",
    "无良",
    "欺诈",
    "欺骗",
    "卖假货",
    "发假货",
    "收到假货",
    "垃圾店",
    "垃圾东西",
    "垃圾服务",
    "垃圾客服",
    "垃圾商家",
    "垃圾质量",
    "一问三不知",
    "什么垃圾",
    "恶心",
    "气死",
    "太差了",
    "太差劲",
    "差劲",
    "什么态度",
    "态度差",
    "态度太差",
    "服务太差",
    "太烂",
    "烂透",
    "差价",
    "退一赔三",
    "妈的",
    "他妈",
    "尼玛",
    "操你",
    "傻逼",
    "sb",
    "tmd",
    "破店",
    "忍无可忍",
    "太过分",
    "什么破",
    "这么垃圾",
    "真垃圾",
    "太垃圾",
    "什么质量啊",
    "啥质量啊",
    "这什么质量",
    "这是什么质量",
    "这啥质量",
    "质量这么差",
    "质量真差",
    "再也不买",
    "不会再买",
    "再也不来",
    "太失望",
    "非常失望",
    "什么玩意",
    "啥玩意",
    "答非所问",
    "虚假宣传",
    "平台介入",
    "找平台",
    "态度这么差",
    "态度好差",
    "态度真差",
    "什么客服",
    "听不懂人话",
    "骗子吧",
    "骗子啊",
    "客服真不行",
    "客服太不行",
    "体验真差",
    "体验太差",
    "体验很差",
    "购物体验差",
    "说话不算数",
    "前后矛盾",
    "到底哪个对",
    "到底哪个是对的",
    "到底听谁的",
    "自相矛盾",
    "问了三遍",
    "问了几遍",
    "问了好几遍",
    "问了半天",
    "说了半天",
    "别复制粘贴",
    "别再复制",
];
/// Anger on their own, as a whole message or a part of one set apart ("你们客服都是机器
/// 人吗 垃圾").
const ANGER_ALONE: &[&str] = &["滚", "滚蛋", "呵呵", "无语", "垃圾", "失望", "骗子"];
const ANGER_EMOJI: &[char] = &['😡', '🤬', '😠', '💢', '👎', '🖕'];
/// Words that, just before a complaint or transfer word, cancel it ("不是投诉", "不用转人工").
const NEGATIONS: &[&str] = &[
    "不是",
    "没有要",
    "没要",
    "不会",
    "不要",
    "不用",
    "不需要",
    "无需",
    "不必",
    "没想",
    "不想",
    "不打算",
];

/// A call for a human told of as past ("刚才转人工没人", "之前找过人工").
static TOLD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?:刚才|刚刚|之前|已经)[转找要叫接]?[了过]?人工(?:客服)?")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Phrases that ask for a human wherever they appear (unless negated).
const TRANSFER_STRONG: &[&str] = &[
    "转人工",
    "转接人工",
    "人工转接",
    "接通人工",
    "找人工",
    "要人工",
    "叫人工",
    "接人工",
    "换人工",
    "我要人工",
    "不要机器人",
    "别用机器人",
    "不想跟机器人",
    "不和机器人",
    "不跟机器人",
    "机器人走开",
    "不要自动回复",
    "别自动回复",
    "叫你们客服",
    "找你们客服",
    "叫客服出来",
    "转客服",
    "找真人",
    "要真人",
    "真人来",
    "换个真人",
    "真人客服",
    "活人",
    "换个人",
    "换人",
    "找个人",
    "能做主的",
    "说了算的",
    "有没有人工",
    "有没有真人",
    "有人工吗",
    "店长出来",
    "老板出来",
    "主管出来",
    "经理出来",
    "负责人出来",
];
/// Patterns asking for a human with words in between ("转一下人工", "找个人工来").
const TRANSFER_PATTERNS: &[&str] = &[
    "转.{0,3}(人工|客服|真人)",
    "(找|叫|要|来|让)(一?个|位)?(人工|真人|客服)",
    "(找|叫|让)(你们的?)?(售后|售前)?(专员|主管|经理|负责人|掌柜)",
    "联系(一?下)?(你们的?)?(人工|真人|客服|掌柜|店长|老板)",
    "(人工|真人|客服)(客服)?(在哪|在哪里|在哪儿)[呢呀啊嘛哦]*$",
    "(店长|老板|掌柜|主管|经理|负责人)(来|出来)",
    "(跟|和|同)(你们的?)?(人工|真人)(客服)?(说|聊|讲|沟通|对话)",
    "(跟|和|同|找)(你们的?)?(店长|老板|掌柜|主管|经理|负责人)(说|聊|讲|沟通|对话|谈)",
];
/// Phrases that ask for a human only when nothing else is asked.
const TRANSFER_WEAK: &[&str] = &[
    "人工客服",
    "人工服务",
    "在线客服",
    "客服",
    "人工",
    "真人",
    "人呢",
    "来个人",
];
/// "Anyone there?": a call for a human only after the bot has failed the buyer (see
/// [`only_anyone_there`]); before, the greeting answers it.
const ANYONE_THERE: &[&str] = &[
    "有人吗",
    "有人在吗",
    "有人在没",
    "有人在不",
    "有人没有",
    "有人没",
    "有人不",
    "有没有人在",
    "有没有人",
    // Impatience with no answer coming: "快点回啊", "怎么不回了".
    "快点回",
    "怎么不回",
    "回个话",
];

/// Thanks holding a greeting ("你好", "您好"), taken out before greetings are.
const GREETING_THANKS: &[&str] = &["给你好评", "给您好评"];

/// Phrases of thanks and agreement.
const POSITIVE: &[&str] = &[
    "非常感谢",
    "多谢晒",
    "谢谢你",
    "谢谢您",
    "谢谢",
    "多谢",
    "谢了",
    "谢啦",
    "感谢",
    "感恩",
    "thank you",
    "thanks",
    "thx",
    "3q",
    "会给好评",
    "给你五星",
    "给您五星",
    "给好评",
    "会给五星",
    "给五星",
    "五星好评",
    "好评",
    "五星",
    // "好的 我去申请": the buyer goes to do what was explained.
    "我去申请",
    "我去试试",
    "我试一下",
    "我试试",
    "我去操作",
    "我去下单",
    "我去拍",
    "这就去拍",
    // "算了不买了": the buyer leaves; no question is left.
    "不买了",
    "明天再来",
    "明天再问",
    "尽快发货",
    "尽快发",
    "早点发货",
    "早点发",
    "等你们消息",
    "等你消息",
    "等消息",
    "等通知",
    "那我等等",
    "我等等",
    "我再等等",
    "等补货",
    "等到货",
    "有问题再找你",
    "有问题再问",
    "有事再找你",
    "有需要再找你",
    "再联系",
    "收藏了",
    "先收藏",
    "加购了",
    "拜拜",
    "再见",
    "bye",
    "已付款",
    "付款了",
    "付好了",
    "已拍下",
    "已拍",
    "拍下了",
    "拍了",
    "已下单",
    "下单了",
    "收到了",
    "收到",
    "知道了",
    "明白了",
    "明白",
    "了解了",
    "了解",
    "懂了",
    "没问题",
    "没事了",
    "解决了",
    "不用了",
    "满意",
    "辛苦了",
    "辛苦",
    "太好了",
    "很棒",
    "喜欢",
    "好的",
    "好滴",
    "好嘞",
    "好哒",
    "好吧",
    "好呀",
    "好",
    "行",
    "可以",
    "ok",
    "okay",
    "嗯嗯",
    "嗯",
    "哦",
    "赞",
    "棒",
];
/// Praise of the goods or the service. A message of praise may name what it praises
/// ("芒果超好吃", "包装很用心"): a few characters besides are allowed, unless they ask or
/// complain (see [`PRAISED_NOT`]).
const PRAISE: &[&str] = &[
    "下次还来",
    "还会再来",
    "会回购",
    "回购",
    "好吃",
    "好用",
    "好看",
    "好喝",
    "不错",
    "挺好",
    "很好",
    "新鲜",
    "用心",
    "很甜",
    "超甜",
    "好甜",
    "物美价廉",
    "划算",
    "棒棒哒",
];
/// Characters that make the rest of a praising message a question or a complaint.
const PRAISED_NOT: &[char] = &[
    '吗', '么', '?', '不', '没', '怎', '啥', '什', '几', '多', '哪', '能', '会', '坏', '烂', '破',
    '差', '但', '却', '退', '换', '少', '错',
];
/// Words of a problem with the goods: a message telling one asks what to do about it
/// ("衣柜到了 门板上有一道划痕 还少了一包螺丝").
pub(super) const PROBLEMS: &[&str] = &[
    "坏",
    "破",
    "碎",
    "裂",
    "划痕",
    "划了",
    "少了",
    "缺了",
    "掉色",
    "起球",
    "开胶",
    "瑕疵",
    "变形",
    "异味",
    "味道大",
    "线头",
    "受潮",
    "发霉",
];

/// How many characters may stand beside praise ("包装" in "包装很用心").
const PRAISED_THING: usize = 4;

const POSITIVE_EMOJI: &[char] = &[
    '👍', '👌', '🙏', '❤', '😊', '😄', '😁', '🌹', '💕', '🥰', '😘', '✌', '🤝', '💯',
];

/// Greetings: "你好" holds 好 and "🙏在吗" an emoji, but neither thanks anyone.
const GREETINGS: &[&str] = &["你好", "您好", "在吗", "在不在", "在么", "哈喽", "hello"];

/// Courtesy, degree words and particles that do not change what a short message asks.
const FILLER: &[&str] = &[
    // "那算了 谢谢", "不用了 谢谢": a thanks that closes the matter.
    "算了",
    "不用了",
    "没事了",
    "你好",
    "您好",
    "麻烦",
    "帮我",
    "给我",
    "我要",
    "我想",
    "在吗",
    "在不在",
    "快点",
    "赶紧",
    "一下",
    "已经",
    "东西",
    "宝贝",
    "非常",
    "特别",
    "小姐姐",
    "小哥哥",
    "客服",
    "老板",
    "掌柜",
    "记得",
    "请",
    "亲",
    "呢",
    "吧",
    "啊",
    "呀",
    "哦",
    "啦",
    "嘛",
    "的",
    "了",
    "哈",
    "哒",
    "挺",
    "那",
    "就",
    "先",
    "很",
    "太",
    "超",
    "真",
    "都",
    "也",
    "你们",
    "您",
    "你",
    "我",
    "们",
    " ",
];

/// What is left of "好的 拍两包" or "行 两样各来一份" once the agreement is taken out:
/// the buyer says what they buy, and asks nothing.
static ORDERED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^[那我就先]*(?:(?:拍|来|要|买)了?|[一两二三\d]样各来)[一两二三四五六七八九十\d]+[个份包件盒箱袋瓶斤双条]$|^[那我就先去这]*(?:拍|下单)了?[^\s错吗么怎呢什几不没啥哪退换]{0,6}$",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// What is left of "算了 我先量量门 谢谢", "好的 我再考虑考虑" or "那我先改成退货退款 谢谢"
/// once the thanks are taken out: the buyer goes away to measure, think, ask at home or
/// do it, and asks nothing
/// ("好吧 我再看看" is the knowledge base's: browsing).
static LEAVING: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^[那我就先再等]*(?:量量|量一下|商量|考虑|想想|想一想|问问|改成|提交)[^\s吗么呢什几不没啥哪怎?]{0,6}$",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Good-byes: with one, a message that asks nothing closes the conversation ("好的 那我
/// 先拍灯 沙发等老公回来商量 拜拜👋").
const FAREWELL: &[&str] = &["拜拜", "再见", "bye"];

/// Characters that make a message a question.
const QUESTION_MARKS: &[char] = &['吗', '么', '?', '？', '怎', '啥', '什', '几', '哪'];

fn transfer_patterns() -> &'static [regex::Regex] {
    static RE: std::sync::OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        TRANSFER_PATTERNS
            .iter()
            .filter_map(|p| regex::Regex::new(p).ok())
            .collect()
    })
}

/// Whether `word` occurs in `text` without a negation right before it ("不是投诉",
/// "不用转人工"; "不想等了，转人工" is still a transfer). A Latin or numeric word (sb,
/// 12315) must stand alone, not inside a longer one (USB, an order number).
fn says(text: &str, word: &str) -> bool {
    let ascii = word.bytes().all(|b| b.is_ascii_alphanumeric());
    text.match_indices(word).any(|(at, _)| {
        let prev = text[..at].chars().next_back();
        let next = text[at + word.len()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if ascii && (glued(prev) || glued(next)) {
            return false;
        }
        // "不是投诉", "不是要投诉", "不用再转人工": the negation may stand a few
        // particles before the word, or end in its first character ("不要人工" holds
        // 要人工, "不需要人工" too).
        let first = word.chars().next().map_or(0, char::len_utf8);
        let through_first = &text[..at + first];
        if NEGATIONS.iter().any(|n| through_first.ends_with(n)) {
            return false;
        }
        let mut before = &text[..at];
        loop {
            if NEGATIONS.iter().any(|n| before.ends_with(n)) {
                return false;
            }
            match before.chars().next_back() {
                Some(c) if ['要', '是', '用', '去', '再'].contains(&c) => {
                    before = &before[..before.len() - c.len_utf8()]
                }
                _ => return true,
            }
        }
    })
}

/// Removes every occurrence of each phrase (the lists are longest-first where it matters).
fn strip(text: &str, phrases: &[&str]) -> (String, bool) {
    let mut out = text.to_string();
    let mut hit = false;
    for p in phrases {
        if out.contains(p) {
            hit = true;
            out = out.replace(p, "");
        }
    }
    (out, hit)
}

/// Whether the message turns a human down ("不用转人工 我就问下包邮吗", "不需要人工
/// 能开发票吗"): every call for a human in it is negated. Its question is then matched
/// without the call's words, which would pull in the entries about human agents.
pub fn refuses_transfer(norm: &str) -> bool {
    let compact = norm.replace(' ', "");
    TRANSFER_STRONG
        .iter()
        .chain(&["人工", "真人", "客服"])
        .any(|w| compact.contains(w) && !says(&compact, w))
}

/// What a call for a human asks besides ("我想问问能不能开发票 转人工" → 能不能开发票),
/// if it names something: the call's words, courtesy and particles taken out of the
/// normalized message. That question goes to the trainers and the agent's assist.
pub fn beside_transfer(norm: &str) -> Option<String> {
    let mut rest = norm.replace(' ', "");
    for re in transfer_patterns() {
        rest = re.replace_all(&rest, "").into_owned();
    }
    let rest = strip(&strip(&rest, TRANSFER_STRONG).0, TRANSFER_WEAK).0;
    let rest = strip(&rest, ANYONE_THERE).0;
    asks_something(strip(&rest, FILLER).0)
}

/// Whether the message (or a part of one) only greets: "在吗", "客服在吗", "亲 你好",
/// "有人吗".
pub fn only_greets(norm: &str) -> bool {
    let (rest, anyone) = strip(norm, ANYONE_THERE);
    let (rest, greeted) = strip(&rest, GREETINGS);
    let rest = strip(&strip(&rest, FILLER).0, ADDRESSED).0;
    (greeted || anyone) && rest.is_empty()
}

/// Whom a greeting may address ("客服在吗", "老板在不在").
const ADDRESSED: &[&str] = &["客服", "老板", "掌柜", "店家", "商家"];

/// Whether the message only asks if anyone is there ("有人吗？", "有没有人在"): a
/// greeting while the bot is answering, a call for a human once it has not.
pub fn only_anyone_there(norm: &str) -> bool {
    let (rest, anyone) = strip(norm, ANYONE_THERE);
    anyone && strip(&rest, FILLER).0.is_empty()
}

/// What a complaint is about ("衣服有线头，我要投诉" → 衣服有线头), if it names
/// something: the complaint's words, courtesy and particles taken out. The buyer goes
/// to the group for that.
pub fn beside_complaint(norm: &str) -> Option<String> {
    let rest = norm.replace(' ', "");
    let rest = strip(&strip(&rest, COMPLAINT).0, ANGER_ALONE).0;
    asks_something(strip(&rest, FILLER).0)
}

/// `rest` when it holds something to ask about: two content characters, not only
/// vague ones.
fn asks_something(rest: String) -> Option<String> {
    let content: std::collections::HashSet<char> =
        super::state::content_chars(&rest.chars().collect::<Vec<_>>());
    (content.len() >= 2 && !super::tokenize::is_vague(&content)).then_some(rest)
}

/// The intent of a message, given its `simplify`-ed and `normalize`-d forms.
pub fn detect(simple: &str, norm: &str) -> Option<Intent> {
    if COMPLAINT.iter().any(|w| says(norm, w))
        || norm.split(' ').any(|part| ANGER_ALONE.contains(&part))
        || simple.chars().any(|c| ANGER_EMOJI.contains(&c))
    {
        return Some(Intent::Complaint);
    }
    // "刚才转人工没人" tells what happened; it asks for nobody.
    let compact = TOLD.replace_all(&norm.replace(' ', ""), "").into_owned();
    if TRANSFER_STRONG.iter().any(|w| says(&compact, w))
        || transfer_patterns()
            .iter()
            .any(|re| re.find_iter(&compact).any(|m| says(&compact, m.as_str())))
    {
        return Some(Intent::Transfer);
    }
    let (rest, weak) = strip(norm, TRANSFER_WEAK);
    if (weak && strip(&rest, FILLER).0.is_empty()) || only_anyone_there(norm) {
        return Some(Intent::Transfer);
    }
    // "给你好评" holds the greeting 你好: its thanks go first.
    let (rest, early) = strip(norm, GREETING_THANKS);
    let (rest, greeted) = strip(&rest, GREETINGS);
    let (rest, praised) = strip(&rest, PRAISE);
    let (rest, thanks) = strip(&rest, POSITIVE);
    let thanks = thanks || early;
    // A friendly emoji beside a greeting is part of the greeting.
    let emoji = !greeted && simple.chars().any(|c| POSITIVE_EMOJI.contains(&c));
    let rest = strip(&rest, FILLER).0;
    // Sizes, counts and order numbers beside praise are a request ("好看，要M码").
    let praised_thing = praised
        && rest.chars().count() <= PRAISED_THING
        && !rest
            .chars()
            .any(|c| PRAISED_NOT.contains(&c) || c.is_ascii_alphanumeric());
    let compact_rest = rest.replace(' ', "");
    let ordered = thanks && (ORDERED.is_match(&compact_rest) || LEAVING.is_match(&compact_rest));
    if (thanks || emoji || praised) && (rest.is_empty() || praised_thing || ordered) {
        return Some(Intent::Positive);
    }
    // Unless it also says something is wrong ("东西坏了 再见" is the knowledge base's).
    if FAREWELL.iter().any(|w| norm.contains(w))
        && !norm.contains(QUESTION_MARKS)
        && !norm.contains(PRAISED_NOT)
        && !PROBLEMS.iter().any(|w| norm.contains(w))
    {
        return Some(Intent::Positive);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::normalize::{normalize, simplify};

    fn intent(text: &str) -> Option<Intent> {
        detect(&simplify(text), &normalize(text))
    }

    #[test]
    fn a_call_for_a_human_may_carry_a_question() {
        let beside = |t: &str| beside_transfer(&normalize(t));
        assert_eq!(
            beside("我想问问能不能开发票 转人工").as_deref(),
            Some("问问能不能开发票")
        );
        assert_eq!(
            beside("退款什么时候到账，找个人工").as_deref(),
            Some("退款什么时候到账")
        );
        for t in [
            "转人工",
            "你好，麻烦帮我转一下人工客服",
            "人工人工！",
            "可以转人工吗",
        ] {
            assert_eq!(beside(t), None, "{t}");
        }
    }

    #[test]
    fn a_complaint_leaves_what_it_is_about() {
        let beside = |t: &str| beside_complaint(&normalize(t));
        assert_eq!(
            beside("衣服有线头，我要投诉").as_deref(),
            Some("衣服有线头")
        );
        assert_eq!(beside("我要投诉"), None);
        assert_eq!(beside("垃圾"), None);
    }

    #[test]
    fn a_human_turned_down_leaves_the_question() {
        let norm = |t: &str| normalize(t);
        for (t, asked) in [
            ("不用转人工 我就问下包邮吗", "不用问下包邮吗"),
            ("不需要人工，能开发票吗", "不需能开发票吗"),
        ] {
            assert!(refuses_transfer(&norm(t)), "{t}");
            assert_eq!(beside_transfer(&norm(t)).as_deref(), Some(asked), "{t}");
        }
        for t in ["转人工 包邮吗", "客服几点上班", "包邮吗"] {
            assert!(!refuses_transfer(&norm(t)), "{t}");
        }
    }

    #[test]
    fn transfer_requests() {
        for t in [
            "转人工",
            "我要人工！",
            "人工客服",
            "人工客服在吗",
            "有人吗？",
            "有人没",
            "有人没有啊",
            "有没有人在",
            "有人在不",
            "別用機器人糊弄我",
            "叫你们客服出来",
            "客服呢",
            "麻烦转一下人工",
            "找个人工来回答我",
            "你听不懂，换个人",
            "让你们店长出来",
            "我要跟活人说话",
            "人工客服在哪",
            "人工客服在哪里呀",
            "能不能让人工来处理一下",
            "叫个能做主的来",
            "叫你们售后专员来跟我对接",
            "有没有人工啊 回复一下",
            "联系下掌柜",
            "我要跟人工说话！！",
            "我要跟店长说",
            "找你们老板谈",
            "能和真人客服聊聊吗",
            "快点回啊",
            "人呢？",
            "怎么不回了",
        ] {
            assert_eq!(intent(t), Some(Intent::Transfer), "{t}");
        }
    }

    #[test]
    fn greetings_and_anyone_there() {
        let norm = |t: &str| normalize(t);
        for t in [
            "在吗",
            "客服在吗",
            "亲 你好",
            "有人吗？",
            "有人在吗",
            "老板在不在",
        ] {
            assert!(only_greets(&norm(t)), "{t}");
        }
        for t in ["在吗 包邮吗", "客服电话多少", "有人穿过吗", "谢谢"] {
            assert!(!only_greets(&norm(t)), "{t}");
        }
        assert!(only_anyone_there(&norm("有没有人在？")));
        assert!(!only_anyone_there(&norm("人工客服")));
        assert!(!only_anyone_there(&norm("有人买过吗")));
        assert!(!only_anyone_there(&norm("收件人呢")));
    }

    #[test]
    fn complaints_and_anger() {
        for t in [
            "我要投诉你们",
            "再不发货给差评",
            "降价了给我补差价",
            "你们是骗子吧",
            "气死我了！！",
            "态度太差了",
            "打12315",
            "😡",
            "滚",
            "你们客服都是机器人吗 垃圾",
            "太坑了",
            "什么质量啊",
            "怎么这么垃圾 刚买就坏",
            "这是什么质量，穿一次就破了",
            "以后再也不买你们家了",
            "卖这种东西良心不会痛吗",
            "你们就是一群骗子",
            "垃圾客服 一问三不知",
            "骗子",
            "骗子吧你们",
            "机器人吧你 回答的啥玩意",
            "态度这么差 什么客服啊",
            "不给退款我就找平台介入",
            "你们这是虚假宣传",
        ] {
            assert_eq!(intent(t), Some(Intent::Complaint), "{t}");
        }
    }

    #[test]
    fn positive_messages() {
        for t in [
            "谢谢",
            "好的亲，辛苦了",
            "收到了",
            "👍",
            "已付款",
            "会给好评的",
            "OK",
            "嗯嗯好的",
            "謝謝您",
            "东西很好很喜欢",
            "已经拍了",
            "太棒了",
            "非常满意",
            "你好，谢谢",
            "😊",
            "收到了，很甜👍",
            "芒果超好吃，下次还来",
            "收到啦，包装很用心",
            "收到了 挺好用的",
            "东西不错 已经回购了",
            "棒棒哒",
            "已拍下",
            "谢啦 会给五星的",
            "好的好的 那我等等",
            "好评 给你五星",
            "给你好评",
            "多谢晒",
            "辛苦啦 客服小姐姐真好",
            "谢谢客服",
            "那算了 谢谢",
            "不用了，谢谢",
            "好的 我去申请",
            "行 我试试",
            "算了不买了",
            "好的 拍两包",
            "行 两样各来一份",
            "好 那我明天再来",
            "算了 拍了 尽快发",
            "好的谢谢 我去拍了",
            "好 那我先拍猫砂",
            "好 等你们消息",
            "拜拜",
            "好吧 那我拍了 记得早点发哦",
            "行 那我拍1.6的原木色 谢谢老板",
            "好的 那我先拍灯 沙发等老公回来商量 拜拜👋",
            "算了 我先量量门 谢谢",
            "好的 我再考虑考虑",
            "好 我再等等 有问题再找你",
            "好吧 我等补货 谢了",
            "行吧 那我先收藏了",
            "好的 那我先改成退货退款 谢谢",
        ] {
            assert_eq!(intent(t), Some(Intent::Positive), "{t}");
        }
    }

    #[test]
    fn questions_that_only_look_like_intents_go_to_the_kb() {
        for t in [
            "收到的衣服有线头",
            "好的，那运费谁出",
            "我去申请退款要怎么操作",
            "我试试能不能用券",
            "好的 拍两包能便宜吗",
            "好的 那我拍错了怎么办",
            "好 拍了不发货吗",
            "拍两包",
            "谢谢，请问什么时候发货",
            "人工客服几点上班",
            "人工费要另外收吗",
            "好评返现吗",
            "收到货发现少了一件",
            "可以开发票吗",
            "有真人图吗",
            "在吗",
            "不是投诉，就是想问下有色差吗",
            "不是要投诉哈，就想问问物流为啥一直不动",
            "骗子打电话说要给我退款，是你们吗",
            "推荐部电影",
            "好看，要M码",
            "好用，再来2个",
            "不用转人工，我就问下包邮不",
            "不要人工 包邮吗",
            "不需要人工 能开发票吗",
            "刚才转人工没人 我问个车载支架",
            "好评有返现不",
            "太贵了",
            "东西呢",
            "订单号1234567890123456",
            "USB充电器有吗",
            "会不会是假货",
            "人工服务时间是几点",
            "相机曝光怎么调",
            "你好",
            "您好，在吗",
            "🙏🙏在吗在吗在吗",
            "hello😊",
            "甜不甜",
            "好吃吗",
            "收到了，芒果坏了两个",
            "收到了但是少了一个",
            "好用的充电器有推荐吗",
            "新鲜吗",
            "客服在哪里可以查物流",
            "让我想想",
            "有没有人买过这个",
            "有人穿过吗",
            "我没有要投诉 就是问问什么时候发货",
            "我不会投诉的，想问下怎么退货",
            "今天天气真好",
            "拜拜之前问下 什么时候发货",
            "东西坏了 再见",
            "少发了一件 拜拜",
            "收到的衣服有线头 拜拜",
            "好的 我再看看有没有优惠券",
            "好吧 我再看看",
            "谢谢 量一下要怎么量",
        ] {
            assert_eq!(intent(t), None, "{t}");
        }
    }

    #[test]
    fn complaint_wins_over_transfer_and_thanks() {
        assert_eq!(intent("我要投诉，转人工"), Some(Intent::Complaint));
        assert_eq!(intent("谢谢，差评"), Some(Intent::Complaint));
        for t in [
            "你们这客服真不行",
            "这次购物体验真差",
            "你又说不自提 到底哪个对😤",
            "行吧 问了三遍都不说 我自己看详情页 拜拜",
            "你能不能别复制粘贴了 我问多久到",
        ] {
            assert_eq!(intent(t), Some(Intent::Complaint), "{t}");
        }
    }
}
