//! Answers about the buyer's current product from its record: price, stock, and any
//! attribute the shop filled in (尺码, 材质, 颜色, 重量 …), plus recommendations.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Product;

/// What a question about a product asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    Price,
    /// The price of more than one ("买3袋多少钱", "一对多少钱").
    PriceOf(u32),
    Stock,
    /// A named attribute (材质, 重量, …).
    Attribute(String),
    /// Two attributes asked at once ("插电的还是usb的 费电吗": 电源, 功率).
    Attributes(String, String),
    /// 推荐 / 搭配: related products.
    Related,
    /// Whether it comes in a colour or a size ("有粉色吗", "有41码吗"): the attribute
    /// holding the choices (颜色, 尺码) and the value asked, as shown ("粉色", "41码"),
    /// and a colour asked beside a size ("黑色M码有货吗").
    Offers {
        attribute: String,
        value: String,
        colour: Option<String>,
    },
    /// Which size to take ("我175 140斤穿啥码", "宝宝4个月穿多大"), answered from the
    /// shop's size advice (尺码建议 "M:105-120斤 L:125-140斤", "66:3-6个月 80:1-1.5岁"):
    /// the attribute, and the size whose weight or age range holds the one given, if
    /// one does.
    SizeAdvice {
        attribute: String,
        size: Option<String>,
        /// What the size was chosen by: 体重, or 月龄 for a baby's age.
        by: &'static str,
    },
    /// Whether it fits a model ("p70能用不", "iphone14能用吗"): the attribute listing
    /// the models (适用机型), the model as asked, and whether the list holds it.
    Fits {
        attribute: String,
        model: String,
        fits: bool,
    },
    /// An attribute giving one thing per weight, for the weight the buyer gave: its name,
    /// the weight in 斤 and the part of the value for it.
    ForWeight {
        attribute: String,
        jin: u32,
        part: String,
    },
    /// Whether and when it ships to a place ("我在南京 明天能到不", "发乌鲁木齐吗"),
    /// answered from the clauses of its shipping notes naming it (see [`ships_to`]).
    ShipsTo(super::place::Place),
    /// The product named and nothing asked of it ("牛肉干", "那牛肉干呢", "看看牛肉干"):
    /// its price, stock and first attributes.
    Summary,
    /// Whether it contains something buyers avoid ("有花生吗 我过敏", "含酒精吗",
    /// "是无谷的吗"): the ingredient attribute (配料, 成分), the thing as asked, the
    /// word for it the list holds (杏仁 for 坚果) or `None` when the list lacks it or
    /// says it is free of it, and whether the buyer spoke of an allergy.
    Contains {
        attribute: String,
        asked: String,
        found: Option<String>,
        allergy: bool,
    },
}

/// Words in the names shops give the list of models a product fits (适用机型, 适用型号,
/// 兼容机型); not 适用年龄 or 适用人群.
const FIT_NAMES: &[&str] = &["机型", "型号", "兼容", "适用手机"];

/// Words asking whether it fits.
const FIT_WORDS: &[&str] = &[
    "能用",
    "适用",
    "适合",
    "适配",
    "兼容",
    "能装",
    "能套",
    "可以用",
    "匹配",
    "通用",
    "用得了",
];

/// A model as buyers write it: letters and digits with a digit in them ("p70",
/// "iphone14", "mate60pro", "14pro").
static MODEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[a-z]*\d+[a-z0-9]*").unwrap_or_else(|e| unreachable!("{e}")));

/// Phone and tablet brands as buyers and shops write them, the first word of each
/// group standing for it; a series ("mate", "nova") stands for its brand.
const BRANDS: &[&[&str]] = &[
    &["iphone", "苹果", "apple"],
    &["ipad"],
    &["华为", "huawei", "mate", "nova"],
    &["荣耀", "honor"],
    &["红米", "redmi"],
    &["小米", "xiaomi"],
    &["oppo", "reno"],
    &["vivo", "iqoo"],
    &["三星", "samsung", "galaxy"],
    &["一加", "oneplus"],
];

/// The brand named last in `text` (lower case), as the first word of its group.
fn brand_in(text: &str) -> Option<&'static str> {
    BRANDS
        .iter()
        .filter_map(|group| {
            let at = group.iter().filter_map(|w| text.rfind(w)).max()?;
            Some((at, group[0]))
        })
        .max_by_key(|&(at, _)| at)
        .map(|(_, b)| b)
}

/// Words ending a model list's item that say nothing of the model ("iPhone 14全系列").
const MODEL_TAILS: &[&str] = &["全系列", "系列", "等", "手机", "均可", "都可以", "可用"];

/// A range of models ("iPhone 5到iPhone 14", "iPhone12-16") or the models from one on
/// ("iPhone 8及以上").
static MODEL_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{1,3})(?:到|至|-|~|～)[a-z]*(\d{1,3})|(\d{1,3})(?:及以上|以上|及以后|之后)")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Whether the model list `recorded` ("Mate60/Mate60 Pro", "iPhone 15、15 Pro",
/// "iPhone 5到iPhone 14全系列", "华为、小米等Type-C手机") holds `model` (compact, lower
/// case, with the brand the buyer gave: "小米14"): an item equal to it or one ending in
/// the other ("15" in "iPhone 15"; "iphone15" for "15"), never a longer model
/// ("mate60pro" is not "mate60"); a range holding its number; or its brand alone. A
/// brand on either side must be the same (小米14 is no iPhone 14), an item without one
/// taking the brand before it in its clause; what follows 没有 or 不 is excluded.
fn fits_model(recorded: &str, model: &str) -> bool {
    let asked_brand = brand_in(model);
    let number: Option<u32> = model
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok());
    // The model without a brand word, to compare with items.
    let bare = BRANDS
        .iter()
        .flat_map(|g| g.iter())
        .fold(model.to_string(), |m, w| m.replacen(w, "", 1));
    let same = |b: Option<&str>| asked_brand.is_none() || b.is_none() || b == asked_brand;
    let text = recorded.to_lowercase().replace(' ', "");
    for clause in text.split(['；', ';', '。', '（', '）', '(', ')']) {
        if clause.contains("没有") || clause.starts_with('不') {
            continue;
        }
        let mut brand = None;
        for item in clause.split(['/', ',', '，', '、', '|']) {
            brand = brand_in(item).or(brand);
            let item = MODEL_TAILS
                .iter()
                .fold(item.to_string(), |i, t| i.trim_end_matches(t).to_string());
            if item.is_empty() || !same(brand) {
                continue;
            }
            let named = item == model
                || item.ends_with(model)
                || (!bare.is_empty() && item.ends_with(bare.as_str()))
                || model.ends_with(item.as_str())
                // A brand alone: all its phones.
                || (asked_brand.is_some()
                    && brand_in(&item) == asked_brand
                    && !item.contains(|c: char| c.is_ascii_digit()));
            if named {
                return true;
            }
        }
        for c in MODEL_RANGE.captures_iter(clause) {
            let at = c.get(0).map_or(0, |m| m.start());
            if !same(brand_in(&clause[..at]).or(brand_in(clause))) {
                continue;
            }
            let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            let held = match (n(1), n(2), n(3)) {
                (Some(lo), Some(hi), _) => number.is_some_and(|x| lo <= x && x <= hi),
                (_, _, Some(lo)) => number.is_some_and(|x| lo <= x),
                _ => false,
            };
            if held {
                return true;
            }
        }
    }
    false
}

/// Whether the message asks if the product fits a model it names ("iphone13能用吗",
/// "有mate60的吗"), with the brand word before the model ("小米14").
fn fit_asked(norm: &str, product: &Product) -> Option<Ask> {
    let compact = norm.replace(' ', "");
    let found = MODEL.find(&compact)?;
    let has_one = compact.contains('有') && compact[found.end()..].starts_with('的');
    if !FIT_WORDS.iter().any(|w| norm.contains(w)) && !has_one {
        return None;
    }
    let key = product
        .attributes
        .keys()
        // 兼容系统 (安卓8.0及以上) is no list of models.
        .find(|k| FIT_NAMES.iter().any(|n| k.contains(n)) && !k.contains("系统"))?;
    let before = &compact[..found.start()];
    let model = BRANDS
        .iter()
        .flat_map(|g| g.iter())
        .find(|w| before.ends_with(*w))
        .map_or(found.as_str().to_string(), |w| {
            format!("{w}{}", found.as_str())
        });
    let fits = fits_model(product.attributes.get(key)?, &model);
    Some(Ask::Fits {
        attribute: key.clone(),
        model,
        fits,
    })
}

/// Names shops give the ingredient list.
const INGREDIENT_NAMES: &[&str] = &[
    "配料",
    "配料表",
    "成分",
    "全成分",
    "主要成分",
    "原料",
    "原料组成",
];

/// Things buyers ask whether a food, a pet food or a cosmetic contains, each with the
/// words ingredient lists name it by (the first is how the answer names it when the
/// buyer used another); longer words first within a group.
const CONCERNS: &[&[&str]] = &[
    &["花生"],
    &[
        "坚果",
        "杏仁",
        "腰果",
        "核桃",
        "榛子",
        "巴旦木",
        "开心果",
        "夏威夷果",
        "碧根果",
        "松子",
    ],
    &[
        "牛奶",
        "奶粉",
        "乳粉",
        "生牛乳",
        "牛乳",
        "乳清",
        "炼乳",
        "奶油",
        "奶酪",
        "芝士",
        "奶",
    ],
    &["鸡蛋", "蛋黄", "蛋清", "全蛋", "蛋液", "蛋粉"],
    &["大豆", "黄豆", "豆粉"],
    &["麸质", "小麦", "面粉"],
    &["谷物", "玉米", "大米", "燕麦", "大麦", "小麦", "谷"],
    &["芝麻"],
    &["海鲜", "虾", "蟹", "贝"],
    &["鱼", "三文鱼", "金枪鱼", "鳕鱼", "鱼油", "鱼粉"],
    &["鸡肉", "鸡胸", "鸡肝", "鸡"],
    &["牛肉"],
    &["猪肉", "猪"],
    &["酒精", "乙醇"],
    &["香精", "香料", "香味剂"],
    &["色素", "胭脂红", "柠檬黄", "日落黄", "焦糖色"],
    &["防腐剂", "山梨酸钾", "苯甲酸钠", "尼泊金", "羟苯"],
    &["诱食剂"],
    &[
        "糖",
        "白砂糖",
        "蔗糖",
        "绵白糖",
        "冰糖",
        "红糖",
        "葡萄糖",
        "麦芽糖",
        "果葡糖浆",
        "糖浆",
    ],
    &["味精", "谷氨酸钠"],
    &["激素"],
];

/// What an ingredient list says its product is free of, before the thing ("无谷",
/// "0糖", "不含酒精").
const FREE_OF: &[&str] = &["不含", "无添加", "不添加", "未添加", "无", "零", "0"];

/// Words that make a message mentioning one of `CONCERNS` ask whether it is in it
/// ("有花生吗", "含不含酒精", "加糖了吗", "花生过敏能吃吗", "是无谷的吗").
const CONTAINS_WORDS: &[&str] = &["有", "含", "加", "放", "过敏", "无", "添加"];

/// The words to look for in an ingredient list and the word `norm` asks about, longest
/// word first: a group's first word stands for all of it ("有坚果吗" finds 杏仁), any
/// other for itself ("有核桃吗" does not). A flavour ("有花生味的吗") is no ingredient
/// question.
fn concern_asked(norm: &str) -> Option<(&'static [&'static str], &'static str)> {
    let mut best: Option<(&[&str], &str)> = None;
    for group in CONCERNS {
        for word in group.iter() {
            let longer = best.is_none_or(|(_, b)| word.chars().count() > b.chars().count());
            let flavour = norm.contains(&format!("{word}味"));
            if longer && !flavour && norm.contains(word) {
                let words = if *word == group[0] {
                    group
                } else {
                    std::slice::from_ref(word)
                };
                best = Some((words, word));
            }
        }
    }
    best
}

/// Whether the product contains what `norm` asks about, if it asks that and the product
/// has an ingredient list.
fn contains_asked(norm: &str, product: &Product) -> Option<Ask> {
    if !CONTAINS_WORDS.iter().any(|w| norm.contains(w)) {
        return None;
    }
    let key = attribute_named(product, INGREDIENT_NAMES)?;
    let (group, asked) = concern_asked(norm)?;
    Some(Ask::Contains {
        attribute: key.clone(),
        asked: asked.to_string(),
        found: ingredient_found(product.attributes.get(key)?, group),
        allergy: norm.contains("过敏"),
    })
}

/// Words holding a word of `CONCERNS` that name something else: 谷氨酸钠 is MSG, not
/// grain; 木糖醇 is no sugar.
const NOT_CONCERNS: &[&str] = &["谷氨酸", "糖醇"];

/// The longest word of `group` the ingredient list `list` holds (白砂糖 rather than
/// 糖); `None` when it holds none or says it is free of one ("无谷", "0糖").
fn ingredient_found(list: &str, group: &[&str]) -> Option<String> {
    let free = |word: &str| FREE_OF.iter().any(|f| list.contains(&format!("{f}{word}")));
    if group.iter().any(|w| free(w)) {
        return None;
    }
    group
        .iter()
        .filter(|w| {
            list.match_indices(**w)
                .any(|(i, _)| !NOT_CONCERNS.iter().any(|n| list[i..].starts_with(n)))
        })
        .max_by_key(|w| w.chars().count())
        .map(|w| w.to_string())
}

/// Names shops give their size advice.
const ADVICE_NAMES: &[&str] = &["尺码建议", "尺码推荐", "尺码表", "尺码参考"];

/// Words asking which size to take.
const WHICH_SIZE: &[&str] = &[
    "穿啥码",
    "穿什么码",
    "穿多大",
    "选什么码",
    "选啥码",
    "选哪个码",
    "拿什么码",
    "拍什么码",
    "拍啥码",
    "要什么码",
    "多大码",
    "哪个码",
    "穿几码",
    "穿哪个",
    "选哪个",
    "拍哪个",
    "哪个尺码",
];

/// A weight in 斤 given in the message ("140斤", "70kg" → 140, a cat's "8斤").
static WEIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{1,3}|[一二两三四五六七八九十百零]{1,5})\s*(斤|kg|公斤|千克)")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A size and its weight range in advice text ("L:125-140斤", "XL 140~160斤", "M:155-163cm
/// 95-108斤", "26:腰围67cm 92-100斤"): after a colon other figures may come first. A size
/// letter follows no letter or digit ("67cm 92-100斤" names no size M).
static ADVICE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^a-z0-9])([0-9]*x*[sml]|\d{2,3}码?)\s*(?:[:：][^；;\n]*?|\s*)(\d{2,3})\s*[-~～至]\s*(\d{2,3})\s*斤",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// The size of `advice` whose weight range holds `jin`.
fn advised_size(advice: &str, jin: u32) -> Option<String> {
    ADVICE_RANGE.captures_iter(advice).find_map(|c| {
        let low: u32 = c.get(2)?.as_str().parse().ok()?;
        let high: u32 = c.get(3)?.as_str().parse().ok()?;
        (low <= jin && jin <= high).then(|| c.get(1).map(|m| m.as_str().to_uppercase()))?
    })
}

/// A baby's age given in the message ("4个月", "五个月", "2岁", "一岁半").
static AGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{1,2}(?:\.5)?|[一二两三四五六七八九十]{1,3})\s*(个半月|个月|岁半|岁)")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A size and its age range in advice text ("66:3-6个月", "80 1-1.5岁").
static ADVICE_AGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^a-z0-9])([0-9]*x*[sml]|\d{2,3}码?)\s*[:：]?\s*(\d{1,2}(?:\.\d)?)\s*[-~～至]\s*(\d{1,2}(?:\.\d)?)\s*(个月|月|岁)",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A number below 1,000 in Chinese numerals ("五", "十一", "两", "一百三十", "一百三",
/// "一百零五").
fn chinese_number(text: &str) -> Option<f32> {
    if let Some((hundreds, rest)) = text.split_once('百') {
        let h = chinese_number(hundreds)?;
        let rest = match rest.strip_prefix('零') {
            Some(units) => chinese_number(units)?,
            // "一百三" is 130.
            None if rest.chars().count() == 1 && rest != "十" => chinese_number(rest)? * 10.0,
            None if rest.is_empty() => 0.0,
            None => chinese_number(rest)?,
        };
        return Some(h * 100.0 + rest);
    }
    const DIGITS: &str = "一二三四五六七八九";
    let digit = |c: char| match c {
        '两' => Some(2.0),
        c => DIGITS.chars().position(|d| d == c).map(|i| i as f32 + 1.0),
    };
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10.0),
        ['十', d] => Some(10.0 + digit(*d)?),
        [t, '十'] => Some(digit(*t)? * 10.0),
        [t, '十', d] => Some(digit(*t)? * 10.0 + digit(*d)?),
        [d] => digit(*d),
        _ => None,
    }
}

/// The age in months given in `norm`, if any.
fn age_months(norm: &str) -> Option<f32> {
    let c = AGE.captures(norm)?;
    let number = c.get(1)?.as_str();
    let n = number
        .parse::<f32>()
        .ok()
        .or_else(|| chinese_number(number))?;
    Some(match c.get(2)?.as_str() {
        "个月" => n,
        "个半月" => n + 0.5,
        "岁" => n * 12.0,
        _ => n * 12.0 + 6.0,
    })
}

/// The size of `advice` whose age range holds `months`.
fn advised_for_age(advice: &str, months: f32) -> Option<String> {
    ADVICE_AGE.captures_iter(advice).find_map(|c| {
        let per = if c.get(4)?.as_str() == "岁" {
            12.0
        } else {
            1.0
        };
        let low = c.get(2)?.as_str().parse::<f32>().ok()? * per;
        let high = c.get(3)?.as_str().parse::<f32>().ok()? * per;
        (low <= months && months <= high).then(|| c.get(1).map(|m| m.as_str().to_uppercase()))?
    })
}

/// The weight in 斤 given in `norm` ("140斤", "70kg" → 140), if any.
fn weight_jin(norm: &str) -> Option<u32> {
    let c = WEIGHT.captures(norm)?;
    let number = c.get(1)?.as_str();
    let n: u32 = match number.parse() {
        Ok(n) => n,
        Err(_) => chinese_number(number)? as u32,
    };
    Some(if c.get(2)?.as_str() == "斤" {
        n
    } else {
        n * 2
    })
}

/// The size a part of size advice chooses ("…选L", "选 XL码", "建议选110").
static CHOSEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)选\s*([0-9]*x*[sml]|\d{2,3})(?:$|[^a-z0-9])")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// The advice for the weight or age `norm` gives, if it gives one: the size (if a
/// range holds it) and what it was chosen by.
fn advised(advice: &str, norm: &str) -> Option<(Option<String>, &'static str)> {
    if let Some(jin) = weight_jin(norm) {
        // "中大型犬12-25kg选L（胸围55-70cm）": the size after 选 in the part for it.
        let size = advised_size(advice, jin).or_else(|| {
            let part = weighted_part(advice, jin, norm)?;
            Some(CHOSEN.captures(part)?.get(1)?.as_str().to_uppercase())
        });
        return Some((size, "体重"));
    }
    if let Some(length) = FOOT.captures(norm) {
        // "脚长25.5穿多大" with "25.5cm穿41": the size the advice gives for that length
        // (normalizing made the decimal point a space).
        let cm = length[1].replace(' ', ".");
        let size = FOOT_SIZE
            .captures_iter(advice)
            .find(|c| c[1] == cm)
            .map(|c| c[2].to_string());
        return Some((size, "脚长"));
    }
    age_months(norm).map(|m| (advised_for_age(advice, m), "月龄"))
}

/// A foot length and the size for it in advice text ("25.5cm穿41", "24厘米选38").
static FOOT_SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{2}(?:\.\d)?)\s*(?:cm|厘米)?\s*(?:穿|选|拍)\s*(\d{2})")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A foot length given in the message ("脚长25.5", "脚长 24cm").
static FOOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"脚长\s*(\d{2}(?:[ .]\d)?)").unwrap_or_else(|e| unreachable!("{e}"))
});

/// Two sizes to choose from ("拿m还是l", "27或28").
static SIZE_CHOICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^a-z0-9])(?:[2-5]?x*[sml]|\d{2,3})\s*(?:还是|或者|或)\s*(?:[2-5]?x*[sml]|\d{2,3})(?:$|[^a-z0-9])",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// The size advice asked for, if the product has some and the message asks which size
/// to take or gives a weight or an age with a size word.
fn size_advice(norm: &str, product: &Product) -> Option<Ask> {
    let key = attribute_named(product, ADVICE_NAMES)?;
    let given = advised(product.attributes.get(key)?, norm);
    let asks = WHICH_SIZE.iter().any(|w| norm.contains(w))
        || (given.is_some()
            && (norm.contains('码') || norm.contains("尺寸") || SIZE_CHOICE.is_match(norm)));
    if !asks {
        return None;
    }
    let (size, by) = given.unwrap_or((None, "体重"));
    Some(Ask::SizeAdvice {
        attribute: key.clone(),
        size,
        by,
    })
}

/// What of `ask` carries over to the next message: price, stock, related products or an
/// attribute's name, asked again of another product ("多少钱", then "那鞋子呢"), and
/// whether it comes in a size, asked again of another size ("有44码吗", then "那45呢").
/// A colour is asked again by naming it ("那黑色呢"); a model belongs to its question.
pub fn carried(ask: &Ask) -> Option<String> {
    match ask {
        Ask::Price | Ask::PriceOf(_) => Some(CARRIED_PRICE.into()),
        Ask::Stock => Some(CARRIED_STOCK.into()),
        Ask::Related => Some(CARRIED_RELATED.into()),
        Ask::Attribute(name)
        | Ask::Attributes(name, _)
        | Ask::ForWeight {
            attribute: name, ..
        } => Some(name.clone()),
        Ask::Offers { attribute, .. } if attribute != "颜色" => {
            Some(format!("{CARRIED_SIZE}{attribute}"))
        }
        Ask::SizeAdvice { attribute, .. } => Some(format!("{CARRIED_ADVICE}{attribute}")),
        Ask::Contains { asked, .. } => Some(format!("{CARRIED_CONTAINS}{asked}")),
        Ask::Summary => Some(CARRIED_SUMMARY.into()),
        Ask::ShipsTo(_) => Some(CARRIED_SHIPS.into()),
        Ask::Offers { .. } | Ask::Fits { .. } => None,
    }
}

const CARRIED_PRICE: &str = "#price";
const CARRIED_STOCK: &str = "#stock";
const CARRIED_RELATED: &str = "#related";
const CARRIED_SUMMARY: &str = "#summary";
const CARRIED_SHIPS: &str = "#ships";
/// Followed by the size attribute's name.
const CARRIED_SIZE: &str = "#size:";
/// Followed by the size advice attribute's name.
const CARRIED_ADVICE: &str = "#advice:";
/// Followed by the thing asked whether the product contains.
const CARRIED_CONTAINS: &str = "#contains:";

/// The question `carried` kept, asked again by `norm` of `product` ("那鞋子呢",
/// "那45呢", "那7个月呢"); a size question needs a size in `norm`, size advice a
/// weight or an age.
pub fn carried_ask(kind: &str, norm: &str, product: &Product) -> Option<Ask> {
    if let Some(attribute) = kind.strip_prefix(CARRIED_SIZE) {
        return Some(Ask::Offers {
            attribute: attribute.to_string(),
            value: size_named(norm)?,
            colour: None,
        });
    }
    if let Some(asked) = kind.strip_prefix(CARRIED_CONTAINS) {
        // Asked again of the product named, in the words first used ("那牛肉干呢"); a
        // product with no ingredient list on record is sent to its page.
        return Some(match contains_asked(&format!("有{asked}"), product) {
            Some(Ask::Contains {
                attribute, found, ..
            }) => Ask::Contains {
                attribute,
                asked: asked.to_string(),
                found,
                allergy: norm.contains("过敏"),
            },
            _ => Ask::Attribute(INGREDIENT_NAMES[0].into()),
        });
    }
    if let Some(attribute) = kind.strip_prefix(CARRIED_ADVICE) {
        let (size, by) = advised(product.attributes.get(attribute)?, norm)?;
        return Some(Ask::SizeAdvice {
            attribute: attribute.to_string(),
            size,
            by,
        });
    }
    Some(match kind {
        // "那3袋呢" after a price.
        CARRIED_PRICE => match quantity(norm) {
            Some(n) if n > 1 => Ask::PriceOf(n),
            _ => Ask::Price,
        },
        CARRIED_STOCK => Ask::Stock,
        CARRIED_RELATED => Ask::Related,
        CARRIED_SUMMARY => Ask::Summary,
        // "那广州呢" after "发南京几天".
        CARRIED_SHIPS => Ask::ShipsTo(super::place::named(norm)?),
        // "那15斤呢" after a feeding question.
        _ => by_weight(Ask::Attribute(kind.to_string()), norm, product),
    })
}

/// The size a "那45呢" names, as shown ("45码", "XL"): the message without 那, 呢, 的
/// and 码 is a size and nothing else.
fn size_named(norm: &str) -> Option<String> {
    // Normalizing made a decimal point a space ("36 5").
    let dotted = norm.trim().replace(' ', ".");
    let stem = dotted
        .trim_start_matches(['那', '.'])
        .trim_end_matches(['呢', '.'])
        .trim_end_matches('的')
        .trim_end_matches(['码', '号']);
    // Two or three digits, maybe a half ("36.5").
    let (whole, half) = stem.split_once('.').unwrap_or((stem, "5"));
    let numeric =
        (2..=3).contains(&whole.len()) && whole.chars().all(|c| c.is_ascii_digit()) && half == "5";
    (numeric || letter_rank(&stem.to_uppercase()).is_some()).then(|| shown_size(stem))
}

/// A size as answers show it: a number with 码 ("41码"), a letter size in capitals.
fn shown_size(size: &str) -> String {
    match bare_size(size) {
        s if s.chars().all(|c| c.is_ascii_digit() || c == '.') => format!("{s}码"),
        s => s,
    }
}

/// Whether `ask` is one only the product's record can answer (which size for this
/// weight, whether it fits this model): it answers better than any general entry.
pub fn is_specific(ask: &Ask) -> bool {
    match ask {
        Ask::SizeAdvice { .. }
        | Ask::Fits { .. }
        | Ask::Contains { .. }
        | Ask::ForWeight { .. }
        | Ask::PriceOf(_)
        // The stock on record, and whether this product comes in a size or colour,
        // beat the general "what the page lets you pick is in stock".
        | Ask::Stock
        | Ask::ShipsTo(_)
        | Ask::Offers { .. } => true,
        // How it fits ("平时穿42拍多大" with 版型=偏小半码): the general size entry
        // can only ask for height and weight.
        // How to wash this product, how it ships: the general entries can only say "see
        // the label" or name the usual couriers.
        Ask::Attribute(name) => specific_attribute(name),
        Ask::Attributes(first, second) => specific_attribute(first) || specific_attribute(second),
        _ => false,
    }
}

/// Whether `ask` was found only by characters its attribute shares with the question
/// (see [`partly_named`]), not by a word for it, its name, a value, a choice or a fee:
/// "包邮吗" and 退换=…发错型号包邮换 share 包邮, and the knowledge base knows better.
pub fn loose(ask: &Ask, norm: &str, product: &Product) -> bool {
    let Ask::Attribute(key) = ask else {
        return false;
    };
    let norm = without_name(norm, product).unwrap_or_else(|| norm.to_string());
    let norm = norm.as_str();
    let worded = norm.contains(key.as_str())
        || grouped(norm, product, key, true)
        || value_named(norm, product).is_some_and(|(k, _)| k == key)
        || choice_named(norm, product).is_some_and(|(k, _)| k == key)
        || fee_asked(norm, product) == Some(key);
    !worded && partly_named(norm, product).is_some_and(|(k, _)| k == key)
}

/// Words asking when the goods arrive ("今天下单明天能到不"): answered by how the product
/// ships only where that says when it arrives (…江浙沪次日达, 物流3-7天到).
const ARRIVAL: &[&str] = &[
    "明天能到",
    "明天到",
    "后天能到",
    "次日达",
    "几天能到",
    "几天到",
    "多久到",
    "多久能到",
];

/// Whether a word of `ATTRIBUTE_WORDS` in `norm` asks for the attribute `key` (see
/// [`group_attribute`]); the loose words of `WEAK` count only if `weak`.
fn grouped(norm: &str, product: &Product, key: &str, weak: bool) -> bool {
    ATTRIBUTE_WORDS.iter().any(|(names, words)| {
        words.iter().any(|w| {
            (weak || !WEAK.contains(w))
                && norm.contains(w)
                && group_attribute(product, names, w).is_some_and(|k| k == key)
        })
    })
}

/// Whether `norm` asks when the goods arrive, answered from how `ask`'s product ships
/// (发货, 物流 …): for a buyer with an order, a sure entry tells where that order is
/// instead ("多久能到"); which courier it ships by stays the product's.
pub fn asks_arrival(ask: &Ask, norm: &str) -> bool {
    match ask {
        Ask::Attribute(k) => {
            SHIPPING_NAMES.iter().any(|n| k.contains(n)) && ARRIVAL.iter().any(|w| norm.contains(w))
        }
        // "深圳到杭州还要几天" from a buyer with an order asks where it is; "能发乌鲁木齐
        // 吗" does not.
        Ask::ShipsTo(_) => ARRIVAL
            .iter()
            .chain(&["几天", "多久", "什么时候到", "啥时候到"])
            .any(|w| norm.contains(w)),
        _ => false,
    }
}

/// Words asking whether or how the goods go somewhere ("发西宁吗", "寄江苏几天到").
const SHIPS_TO_WORDS: &[&str] = &[
    "发", "寄", "到", "送", "快递", "物流", "包邮", "运费", "邮费", "几天", "多久", "时效", "配送",
];

/// Words in the names of the notes that say where and how fast goods go (到货时间,
/// 不发地区, 配送说明, 发货 …).
const SHIP_NOTE_NAMES: &[&str] = &[
    "发货", "到货", "时效", "物流", "快递", "配送", "运输", "送达", "不发", "地区", "运费", "邮费",
    "包邮",
];

/// Whether an attribute named `name` is a shipping note (see `SHIP_NOTE_NAMES`).
fn ship_note(name: &str) -> bool {
    SHIP_NOTE_NAMES.iter().any(|n| name.contains(n))
}

/// What the product's shipping notes say of `place`, note by note, in the order written.
/// Clauses naming the place by name come first: "新疆、西藏、青海不发" does not leave
/// out 宁夏 because another note says 偏远地区不发.
pub fn ships_to<'a>(
    product: &'a Product,
    place: &super::place::Place,
) -> Vec<(&'a String, super::place::Said<'a>)> {
    let notes = || {
        product
            .attributes
            .iter()
            .filter(|(name, _)| ship_note(name))
    };
    let by_name: Vec<_> = notes()
        .filter_map(|(name, value)| Some((name, super::place::said(name, value, place, true)?)))
        .filter(|(_, s)| !matches!(s, super::place::Said::Elsewhere(_)))
        .collect();
    if !by_name.is_empty() {
        return by_name;
    }
    notes()
        .filter_map(|(name, value)| Some((name, super::place::said(name, value, place, false)?)))
        .collect()
}

/// The answer to [`Ask::ShipsTo`]: that it does not ship there, or the clauses naming
/// the place (else the one for everywhere else), saying it ships there when a note
/// lists where it does not.
fn ships_answer(product: &Product, place: &super::place::Place) -> String {
    use super::place::Said;
    let name = &product.name;
    let shown = &place.shown;
    let notes = ships_to(product, place);
    if let Some(clause) = notes.iter().find_map(|(_, s)| match s {
        Said::NotShipped(c) => Some(*c),
        _ => None,
    }) {
        return format!("亲，抱歉，{name}暂时不发{shown}哦（{clause}），给您添麻烦啦～");
    }
    let mut named: Vec<&str> = notes
        .iter()
        .filter_map(|(_, s)| match s {
            Said::Named(c) => Some(*c),
            _ => None,
        })
        .collect();
    named.dedup();
    if named.is_empty() {
        named.extend(notes.iter().find_map(|(_, s)| match s {
            Said::Elsewhere(c) => Some(*c),
            _ => None,
        }));
    }
    // When it ships, from the notes on shipping ("下午4点前付款当天发货，默认中通").
    let dispatch: Vec<&str> = product
        .attributes
        .iter()
        .filter(|(k, _)| k.contains("发货"))
        .flat_map(|(_, v)| super::place::clauses(v))
        .filter(|c| !super::place::speaks_of_places(c) && !named.contains(c))
        .collect();
    let dispatch = if dispatch.is_empty() {
        String::new()
    } else {
        format!("（{}）", dispatch.join("，"))
    };
    let listed = product
        .attributes
        .keys()
        .any(|k| super::place::lists_not_shipped(k));
    if listed {
        format!("亲，{name}可以发{shown}哦～{}{dispatch}", named.join("；"))
    } else {
        format!("亲，{name}发{shown}：{}{dispatch}", named.join("；"))
    }
}

/// Whether `norm` asks who pays the postage or what it costs ("质量问题退货运费你们出吗")
/// and the attribute `ask` found says nothing of it: a sure entry knows better.
pub fn misses_postage(ask: &Ask, norm: &str, product: &Product) -> bool {
    let asked = ["运费", "邮费", "谁出", "谁承担"]
        .iter()
        .any(|w| norm.contains(w));
    let Ask::Attribute(key) = ask else {
        return false;
    };
    asked
        && product.attributes.get(key).is_some_and(|v| {
            !["运费", "邮费", "包邮", "承担", "元"]
                .iter()
                .any(|w| v.contains(w))
        })
}

/// Whether the record's answer to `ask` beats a sure knowledge-base answer to `norm`:
/// a specific ask (`is_specific`), an attribute the message asks for by its name or
/// by a word for it ("板子是啥材料" with 材质 on record: the general entry can only say
/// "see the page"), or what else there is when this product is sold out.
pub fn beats_kb(ask: &Ask, norm: &str, product: &Product) -> bool {
    // Not the lists of colours and sizes: "颜色跟图片差好多" is about 色差, not which
    // colours there are.
    // A fee the shop wrote down ("木盒要加钱吗"): the general entries only know the price.
    let fee = |key: &str| {
        (PRICE_WORDS
            .iter()
            .chain(FEE_WORDS)
            .any(|w| norm.contains(w)))
            && fee_asked(norm, product).is_some_and(|k| k == key)
    };
    let worded = |key: &str| {
        !["颜色", "尺码"].contains(&key)
            // A loose word ("一个人能弄不") is no sure question of its own.
            && (norm.contains(key) || fee(key) || grouped(norm, product, key, false))
    };
    is_specific(ask)
        || match ask {
            Ask::Attribute(key) => worded(key),
            Ask::Attributes(first, second) => worded(first) || worded(second),
            Ask::Related => product.stock == Some(0),
            _ => false,
        }
}

/// Whether the attribute `name` answers better than any general entry: how it fits,
/// how to wash or install this product, how it ships, its warranty and return rules,
/// and any yes-or-no the shop wrote down ("是否掉色").
fn specific_attribute(name: &str) -> bool {
    // "是否掉色", "是否透": the shop's own yes or no about this product.
    name.starts_with("是否")
        || [
            FIT_ATTRIBUTES,
            ADVICE_NAMES,
            CARE_NAMES,
            SHIPPING_NAMES,
            INSTALL_NAMES,
            USAGE_NAMES,
            WARRANTY_NAMES,
            RETURN_NAMES,
            DAMAGE_NAMES,
            QUALITY_NAMES,
        ]
        .iter()
        .any(|names| names.iter().any(|n| name.contains(n)))
}

/// Names shops give the product's own return rules ("拆封后不支持7天无理由" says more than
/// the shop's general policy).
const RETURN_NAMES: &[&str] = &["退换", "退货", "退换货", "退换政策", "无理由"];

/// Names shops give what to do when the product arrives broken.
const DAMAGE_NAMES: &[&str] = &["破损", "破损处理", "运输破损"];

/// Names shops give what to do about a quality problem ("受潮结块、异味、霉变拍照联系客服").
const QUALITY_NAMES: &[&str] = &[
    "质量问题",
    "质量问题处理",
    "售后说明",
    "签收后问题",
    "坏果包赔",
    "坏果",
    "签收后",
];

/// Names shops give the warranty ("整机一年保修，全国联保" says more than "see the page").
const WARRANTY_NAMES: &[&str] = &["保修", "质保", "保修期", "售后保障"];

/// Names shops give how this product is used, eaten or prepared ("干手干脸，按压2-3泵"
/// says more than "see the page").
const USAGE_NAMES: &[&str] = &[
    "使用方法",
    "使用说明",
    "用法",
    "食用方法",
    "冲泡方法",
    "解冻方法",
    "催熟",
    "煎法",
    "做法",
];

/// Names shops give how a product is put together.
const INSTALL_NAMES: &[&str] = &["安装", "安装方式", "组装", "搭建方式", "搭建"];

/// Names shops give the washing or care instructions.
const CARE_NAMES: &[&str] = &[
    "洗涤方式",
    "洗涤说明",
    "洗涤",
    "清洗",
    "清洁",
    "保养",
    "护理",
];

/// Names shops give how a product ships, when it ships unlike the rest.
const SHIPPING_NAMES: &[&str] = &["发货", "发货方式", "快递", "物流", "配送"];

/// How it fits, or else the size advice that says it ("标准码，按脚长选…").
const FIT_OR_ADVICE: &[&str] = &["版型", "尺码偏差", "尺码说明", "尺码建议", "尺码推荐"];

/// Names shops give the note on how a product fits.
const FIT_ATTRIBUTES: &[&str] = &["版型", "尺码偏差", "尺码说明"];

/// Colour names a buyer asks for, before 色 ("粉色", "酒红色"); longer first.
const COLOURS: &[&str] = &[
    "酒红", "玫红", "藏青", "军绿", "卡其", "香槟", "咖啡", "天蓝", "米白", "红", "粉", "白", "黑",
    "蓝", "绿", "黄", "紫", "灰", "棕", "米", "杏", "橙", "银", "金", "青", "褐",
];

/// The colour `norm` asks for ("有粉色吗" → 粉色), if any: the first of `COLOURS`
/// standing before a 色 (checked on every short message on a product page, so nothing
/// is built unless a 色 is there).
fn colour_asked(norm: &str) -> Option<String> {
    let before: Vec<&str> = norm.match_indices('色').map(|(i, _)| &norm[..i]).collect();
    COLOURS
        .iter()
        .find(|c| before.iter().any(|b| b.ends_with(*c)))
        .map(|c| format!("{c}色"))
}

/// The colour `norm` asks for of the colours `recorded` (see [`colour_asked`] and
/// [`colour_of`]), with its shade when they hold it ("浅蓝色" with 浅蓝 recorded, not 蓝色).
fn colour_named(norm: &str, recorded: &str) -> Option<String> {
    let colour = colour_asked(norm).or_else(|| colour_of(norm, recorded))?;
    let base = colour.trim_end_matches('色');
    let shade = norm
        .find(base)
        .and_then(|at| norm[..at].chars().next_back())
        .map(|c| format!("{c}{base}"))
        .filter(|shade| recorded.contains(shade.as_str()));
    Some(shade.map_or(colour, |s| format!("{s}色")))
}

/// A colour named before 的 ("有没有粉的") that the colours recorded hold: "米的"
/// or "金的" is only a colour where the product comes in one.
fn colour_of(norm: &str, recorded: &str) -> Option<String> {
    COLOURS
        .iter()
        .find(|c| recorded.contains(*c) && norm.contains(&format!("{c}的")))
        .map(|c| format!("{c}色"))
}

/// A size a buyer asks for, between non-letters: a number before 码, 号 or 的 ("41码",
/// "36.5码", "42的"; normalizing made the decimal point a space), or a letter size
/// ("xl", "2xl码").
static SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^a-z0-9.])(?:(\d{2,3}(?:[. ]5)?)[码号的]|((?:[2-5]?x{0,3}l|x{0,2}s|m)[码号]?)(?:$|[^a-z0-9]))",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Letter sizes from small to large; `2XL` and `XXL` are the same place.
const LETTER_SIZES: &[&str] = &[
    "XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "4XL", "5XL",
];

/// Where a letter size stands in `LETTER_SIZES` ("2XL" as "XXL").
fn letter_rank(size: &str) -> Option<usize> {
    let size = match size {
        "2XL" => "XXL",
        "3XL" => "XXXL",
        s => s,
    };
    LETTER_SIZES.iter().position(|s| *s == size)
}

/// The size `norm` asks for as written in it ("有41码吗" → 41, "有xl的吗" → xl), if
/// the message asks whether there is one (an 有 in it: "41码偏大吗" is about the fit).
fn size_asked(norm: &str) -> Option<&str> {
    if !norm.contains('有') {
        return None;
    }
    SIZE.captures(norm)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str())
}

/// A size without its 码/号, in capitals, with its decimal point ("41", "36.5", "XL").
fn bare_size(size: &str) -> String {
    size.trim_end_matches(['码', '号'])
        .trim()
        .replace(' ', ".")
        .to_uppercase()
}

/// The words of an attribute's value ("白/粉/酒红" → 白, 粉, 酒红).
fn value_words(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(['/', ',', '，', '、', ';', '；', ' ', '|', '+'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

/// The attribute one of whose values the message names ("纯棉吗" with 材质=纯棉), and
/// that value as normalized: a question whether the product is that.
fn value_named<'a>(norm: &str, product: &'a Product) -> Option<(&'a String, String)> {
    product.attributes.iter().find_map(|(k, v)| {
        // "可以" (可冲厕所=可以，少量多次冲) names nothing.
        value_words(v)
            .map(super::normalize::normalize)
            .find(|w| {
                w.chars().count() >= 2
                    && !w.chars().all(|c| COMMON.contains(c))
                    && norm.contains(w.as_str())
            })
            .map(|w| (k, w))
    })
}

/// Two things to choose between ("是浓香还是清香的", "实木的还是板材的").
static CHOICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\p{Han}{2,})的?还是是?(\p{Han}{2,})").unwrap_or_else(|e| unreachable!("{e}"))
});

/// The attribute whose value holds one of two things the message chooses between, as
/// the last characters before 还是 or the first after it ("铁观音是浓香还是清香的" with
/// 香型=清香型（…不是浓香碳焙型）); the one holding both first, and whether it does.
fn choice_named<'a>(norm: &str, product: &'a Product) -> Option<(&'a String, bool)> {
    let c = CHOICE.captures(norm)?;
    let before: Vec<char> = c[1].chars().collect();
    let after: Vec<char> = c[2].chars().collect();
    // The longest end of each side some value holds, two characters at least.
    let held = |v: &str| {
        let first = (2..=before.len().min(4))
            .rev()
            .map(|n| before[before.len() - n..].iter().collect::<String>())
            .find(|w| v.contains(w.as_str()));
        let second = (2..=after.len().min(4))
            .rev()
            .map(|n| after[..n].iter().collect::<String>())
            .find(|w| v.contains(w.as_str()));
        usize::from(first.is_some()) + usize::from(second.is_some())
    };
    // Reversed, so the first of those holding as much wins.
    product
        .attributes
        .iter()
        .rev()
        .map(|(k, v)| (held(v), k))
        .filter(|&(n, _)| n > 0)
        .max_by_key(|&(n, _)| n)
        .map(|(n, k)| (k, n == 2))
}

/// Whether the sizes recorded ("S/M/L/XL", "35-40", "36 37 38") include `asked`, or
/// `None` when the record is not a plain list of sizes ("均码，适合90-130斤").
fn offers_size(recorded: &str, asked: &str) -> Option<bool> {
    let asked = bare_size(asked);
    let number = |s: &str| s.parse::<f32>().ok();
    let mut found = false;
    for token in value_words(recorded).map(bare_size) {
        let range = token
            .split_once(['-', '~', '～', '至'])
            .map(|(a, b)| (bare_size(a), bare_size(b)));
        found |= match range {
            Some((a, b)) => match (number(&a), number(&b), number(&asked)) {
                (Some(a), Some(b), Some(n)) => a <= n && n <= b,
                _ => match (letter_rank(&a), letter_rank(&b)) {
                    (Some(a), Some(b)) => letter_rank(&asked).is_some_and(|n| a <= n && n <= b),
                    _ => return None,
                },
            },
            None if number(&token).is_some() || letter_rank(&token).is_some() => {
                token == asked
                    || letter_rank(&token).is_some_and(|t| Some(t) == letter_rank(&asked))
            }
            None => return None,
        };
    }
    Some(found)
}

/// The first of `names` the product has an attribute for.
fn attribute_named<'a>(product: &'a Product, names: &[&str]) -> Option<&'a String> {
    names
        .iter()
        .find_map(|n| product.attributes.get_key_value(*n).map(|(k, _)| k))
}

/// The first of `names` the product has an attribute for, or else the first attribute
/// whose name holds one of them (牵引绳长度 for 长度, 滤芯更换 for 更换).
fn attribute_like<'a>(product: &'a Product, names: &[&str]) -> Option<&'a String> {
    attribute_named(product, names).or_else(|| {
        names.iter().find_map(|n| {
            product
                .attributes
                .keys()
                .find(|k| n.chars().count() >= 2 && k.contains(n))
        })
    })
}

/// The attribute a group's word asks for: one with a name of the group, or else one whose
/// value holds the word itself ("衣长多少" with 版型=oversize落肩，衣长约68cm).
fn group_attribute<'a>(product: &'a Product, names: &[&str], word: &str) -> Option<&'a String> {
    attribute_like(product, names).or_else(|| {
        (word.chars().count() >= 2)
            .then(|| {
                product
                    .attributes
                    .iter()
                    .find(|(_, v)| v.contains(word))
                    .map(|(k, _)| k)
            })
            .flatten()
    })
}

/// Words too loose to ask a second thing beside another ("收起来多大" is one question,
/// "搭起来麻烦吗 一个人能弄不" no question of how many it fits).
const WEAK: &[&str] = &["多大", "一个人", "能装"];

/// Words asking to exchange or return what was bought by mistake ("买错色号能换吗").
const EXCHANGE_WORDS: &[&str] = &["买错", "拍错", "能换吗", "可以换吗", "能不能换", "包换"];

/// Words asking for advice on a choice ("拿不准色号怎么办", "尺码怎么选").
const ADVICE_WORDS: &[&str] = &[
    "怎么办",
    "拿不准",
    "不确定",
    "不知道选",
    "选哪个",
    "怎么选",
    "推荐",
    "建议",
];

/// Names shops give the size attribute.
const SIZE_NAMES: &[&str] = &["尺码", "码数", "尺寸"];

/// Words that ask for each attribute, by the names shops give it (the first one the
/// product has is answered); capacity comes before size, so "容量多大" is capacity.
const ATTRIBUTE_WORDS: &[(&[&str], &[&str])] = &[
    // What a set or gift box holds, before its gifts ("礼盒里都有啥" with 内容 and 赠品).
    (
        &[
            "内容",
            "礼盒内容",
            "套装内容",
            "组成",
            "里面有",
            "包装清单",
            "套装包含",
            "清单",
            "包含",
        ],
        &[
            "里面都有",
            "里面有啥",
            "里面有什么",
            "装了什么",
            "装的什么",
            "装了啥",
            "有哪些东西",
            "几件东西",
            "什么东西",
            "都有啥",
            "都有什么",
            "包含什么",
            "内容",
        ],
    ),
    (
        &["数量", "支数", "件数", "片数", "只数"],
        &["几支", "多少支", "几片", "多少片", "几根", "多少根"],
    ),
    // "一斤几只", "5斤装大概几个", "单果多大".
    (
        &["大小规格", "单果重量", "单果", "个头", "果径"],
        &[
            "几只",
            "多大个",
            "多大只",
            "单果",
            "几个",
            "个头",
            "多大的果",
        ],
    ),
    // "解冻了有红水是不是注水了" asks about the red water, not how to thaw.
    (
        &["解冻方法", "解冻"],
        &[
            "怎么解冻",
            "咋解冻",
            "如何解冻",
            "解冻方法",
            "解冻要多久",
            "解冻多久",
            "多久解冻",
            "化冻",
        ],
    ),
    (
        &["使用方法", "使用说明", "用法", "食用方法", "做法", "煎法"],
        &[
            "怎么用",
            "咋用",
            "如何使用",
            "怎么使用",
            "用法",
            "用量",
            "怎么涂",
            "咋涂",
            "涂多少",
            "湿手",
            "怎么吃",
            "咋吃",
            "怎么做",
        ],
    ),
    (
        &["怎么催熟", "催熟"],
        &["催熟", "快点熟", "怎么熟", "熟得快", "不熟"],
    ),
    (
        &["孕妇能用吗", "孕妇", "孕期"],
        &["孕妇", "怀孕", "孕期", "孕妈", "哺乳", "备孕"],
    ),
    (&["过敏怎么办", "过敏"], &["过敏", "红肿", "起疹", "刺痛"]),
    (
        &["防伪查询", "防伪", "正品", "真伪", "授权"],
        &["正品", "真假", "假货", "假的", "防伪", "是不是真的", "授权"],
    ),
    (
        &["持久度", "持妆", "持久"],
        &["持久", "持妆", "掉色", "沾杯", "保持几小时", "能保持"],
    ),
    (
        &["收纳尺寸", "收纳", "折叠尺寸"],
        &["收起来", "收纳", "折叠后", "折起来", "叠起来"],
    ),
    (
        &["重量", "净重", "净含量"],
        &[
            "多重",
            "重量",
            "几斤",
            "几克",
            "多少克",
            "多少斤",
            "重不重",
            "一包多",
            "一袋多",
            "多大一包",
            "多大一袋",
            "一包几",
            "一袋几",
        ],
    ),
    (
        &["配料", "配料表", "成分"],
        &[
            "配料",
            "成分",
            "里面有什么",
            "有什么料",
            "含什么",
            "添加剂",
            "过敏",
        ],
    ),
    (
        &["材质", "面料", "材料"],
        &[
            "材质",
            "面料",
            "材料",
            "什么料",
            "成分",
            "什么做的",
            "纯棉",
            "全棉",
            "真皮",
            "羊毛",
            "不锈钢",
            "什么钢",
            "生锈",
        ],
    ),
    (
        &["容量", "规格", "适用人数", "人数"],
        &[
            "容量",
            "装多少",
            "能装",
            "多少毫升",
            "多少ml",
            "几升",
            "多少升",
            "多大",
            // Enough for how many ("一个人用够吗", "几个人用的").
            "几个人",
            "几人",
            "一个人",
            "两个人",
            "够用",
            "够吃",
            "够喝",
            "睡得下",
            "能睡",
            "够睡",
            "够住",
        ],
    ),
    (
        &["续航", "电池", "电池容量"],
        &[
            "续航",
            "充一次电",
            "充一次",
            "充满电",
            "用几次",
            "充几次",
            "充多少次",
            "待机",
            "电池",
            "多久没电",
        ],
    ),
    (
        &["发热", "发烫", "温度", "发热情况"],
        &[
            "发烫",
            "发热",
            "烫不烫",
            "很烫",
            "烫手",
            "热不热",
            "会热",
            "很热",
        ],
    ),
    (
        &["功率"],
        &["多少瓦", "几瓦", "功率", "耗电", "费电", "限电", "费不费电"],
    ),
    (
        FIT_OR_ADVICE,
        &[
            "偏码",
            "偏大",
            "偏小",
            "正码",
            "标准码",
            "版型",
            "宽松",
            "修身",
            // Which size to take, with no size advice on record: the fit tells.
            "拍多大",
            "穿多大",
            "选多大",
            "拍什么码",
            "拍几码",
            "穿几码",
            "穿什么码",
            "穿啥码",
            "拍啥码",
            "选什么码",
        ],
    ),
    (
        &["长度", "线长", "衣长", "裙长", "裤长", "尺寸"],
        &[
            "多长",
            "几米",
            "多少米",
            "长度",
            "几米长",
            "长不长",
            "够长",
            "太短",
            "太长",
            "拖地",
            "到脚踝",
            "盖住",
            "盖屁股",
            "衣长",
            "裙长",
            "裤长",
        ],
    ),
    (
        &["硬度", "软硬", "软硬度"],
        &[
            "软还是硬",
            "硬还是软",
            "软硬",
            "硬不硬",
            "软不软",
            "太软",
            "太硬",
            "偏软",
            "偏硬",
            "硬度",
        ],
    ),
    (
        &["环保等级", "环保", "甲醛", "环保标准"],
        &["甲醛", "环保", "检测报告", "有毒", "孕妇能"],
    ),
    (
        RETURN_NAMES,
        &[
            "能退",
            "可以退",
            "包退",
            "退吗",
            "无理由",
            "七天",
            "7天",
            "能换吗",
            "可以换吗",
        ],
    ),
    (
        DAMAGE_NAMES,
        &[
            "碎了", "破了", "破损", "裂了", "划痕", "划了", "缺口", "磕", "压坏", "摔坏",
        ],
    ),
    (
        QUALITY_NAMES,
        &[
            "受潮",
            "返潮",
            "发霉",
            "霉变",
            "结块",
            "有异味",
            "变质",
            "坏了",
            "烂了",
            "坏果",
            "发臭",
            "臭了",
            "能赔",
            "赔多少",
            "怎么赔",
            "赔几",
            "质量问题",
        ],
    ),
    (
        &["少件", "缺件", "少件处理"],
        &["少件", "少了", "缺件", "少螺丝", "少发", "没收到配件"],
    ),
    (
        &["配送说明", "配送方式", "送货", "配送"],
        &[
            "上楼",
            "楼层",
            "几楼",
            "楼梯",
            "电梯",
            "送货上门",
            "送上门",
            "送到家",
            "送到楼",
            "自提",
            "搬上",
            "楼",
        ],
    ),
    (
        &["高度", "尺寸", "规格"],
        &[
            "多高",
            "高度",
            "高不高",
            "有多高",
            "矮不矮",
            "太高",
            "太矮",
            "睡矮",
            "睡高",
        ],
    ),
    (
        &["噪音", "噪声", "静音", "分贝"],
        &["声音", "噪音", "吵", "静音", "分贝", "响不响", "动静"],
    ),
    (
        &[
            "喂食建议",
            "喂食量",
            "喂养建议",
            "喂食",
            "食用建议",
            "食用方法",
            "用法用量",
            "用量",
        ],
        &[
            "喂多少",
            "吃多少",
            "喂几",
            "吃几",
            "一天喂",
            "一天吃",
            "每天吃",
            "每天喂",
            "怎么喂",
            "怎么吃",
            "喂食",
            "用量",
        ],
    ),
    (
        CARE_NAMES,
        &[
            "怎么洗",
            "机洗",
            "手洗",
            "水洗",
            "能洗",
            "洗衣机",
            "烘干",
            "干洗",
            "好洗",
            "难洗",
            "清洗",
            "清洁",
            "洗一次",
            "洗碗机",
        ],
    ),
    (&["更换"], &["多久换", "多久更换", "换一次", "更换", "滤芯"]),
    (
        &["填充物", "填充", "内芯"],
        &[
            "填的什么",
            "填充",
            "里面是什么",
            "里面什么",
            "什么芯",
            "内芯",
            "棉花",
            "鸭绒",
            "鹅绒",
        ],
    ),
    (
        &["承重"],
        &[
            "承重",
            "承受",
            "结实吗",
            "结不结实",
            "稳不稳",
            "会不会倒",
            "会倒吗",
        ],
    ),
    (&["粉尘", "灰尘"], &["粉尘", "灰尘", "灰大", "起灰"]),
    (
        &["表面工艺", "涂装", "油漆", "表面处理"],
        &["什么漆", "油漆", "刷漆", "刷的", "涂装", "涂层"],
    ),
    (
        &["是否透", "透不透", "透明度", "透光"],
        &["透不透", "透吗", "会透", "透不", "走光", "透肉", "透光"],
    ),
    (
        &["是否掉色", "掉色", "褪色"],
        &["掉色", "褪色", "掉不掉色", "染色", "串色", "浮色"],
    ),
    (&["是否起球", "起球"], &["起球", "起毛球"]),
    (&["是否钻绒", "钻绒", "跑绒"], &["钻绒", "跑绒", "漏绒"]),
    (
        &["是否扎", "扎不扎", "手感"],
        &["扎不扎", "扎人", "扎吗", "刺挠", "扎皮肤"],
    ),
    (&["弹力", "弹性"], &["弹力", "弹性", "有弹", "弹不弹"]),
    (
        INSTALL_NAMES,
        &[
            "安装",
            "组装",
            "自己装",
            "要装吗",
            "需要装",
            "好装",
            "难装",
            "怎么装",
            "装起来",
            "搭起来",
            "上门装",
            "安装费",
            "师傅",
            "来装",
            "搭建",
            "好搭",
            "难搭",
            "怎么搭",
            "速开",
        ],
    ),
    (
        &["厚度", "厚薄", "厚"],
        &[
            "多厚",
            "厚度",
            "厚不厚",
            "薄不薄",
            "太薄",
            "保暖",
            "冷不冷",
            "几毫米",
            "几mm",
            "多少mm",
        ],
    ),
    (
        &[
            "耐温",
            "耐温范围",
            "耐热",
            "温度范围",
            "适用温度",
            "保温时长",
            "保温",
        ],
        &["开水", "热水", "耐高温", "耐热", "耐温", "多少度", "烫"],
    ),
    (
        &[
            "配件",
            "包装清单",
            "套装包含",
            "件数",
            "清单",
            "赠品",
            "配置",
            "包含",
            "刀座",
            "杯盖",
            "锅盖",
        ],
        &[
            "配件",
            "送什么",
            "送啥",
            "赠品",
            "带盖",
            "有盖",
            "盖子",
            "刀架",
            "刀座",
            "送的东西",
            "送小样",
            "小样",
            "几件",
            "几把",
            "清单",
            "附带",
            "带什么",
            "送线",
            "带线",
            "含线",
            "送数据线",
            "带数据线",
            "有线吗",
        ],
    ),
    (
        &["兼容系统", "适用系统", "系统要求", "兼容"],
        &[
            "能连",
            "连接",
            "苹果",
            "iphone",
            "安卓",
            "ios",
            "鸿蒙",
            "华为手机",
        ],
    ),
    (
        &["功能", "功能特点", "特点"],
        &[
            "预约",
            "定时",
            "有什么功能",
            "啥功能",
            "能测",
            "测血压",
            "测心率",
            "功能",
        ],
    ),
    (
        &[
            "控制方式",
            "调光方式",
            "智能控制",
            "连接方式",
            "智能",
            "遥控",
        ],
        &[
            "手机控制",
            "app",
            "小爱",
            "天猫精灵",
            "语音控制",
            "遥控",
            "米家",
            "智能家居",
        ],
    ),
    (
        &["电源", "供电", "电压", "充电方式", "供电方式"],
        &["插电", "usb", "供电", "电压", "电源", "用电池", "充电的"],
    ),
    (
        &["可冲厕所", "冲厕所", "冲马桶"],
        &["冲马桶", "冲厕所", "能冲", "可冲"],
    ),
    (
        SHIPPING_NAMES,
        &[
            "什么快递",
            "哪家快递",
            "啥快递",
            "什么物流",
            "哪个快递",
            "发货方式",
            "怎么发货",
            "顺丰",
            "今天发",
            "当天发",
            "今天能发",
            "多久发",
            "什么时候发",
            "几天发",
            "发货时间",
        ],
    ),
    (
        WARRANTY_NAMES,
        &[
            "保修",
            "质保",
            "保多久",
            "去哪修",
            "维修",
            "包换",
            "坏了",
            "不充电",
            "充不进",
            "没反应",
            "没声音",
            "不亮",
            "失灵",
        ],
    ),
    (
        &["单只/一对", "一对", "单只"],
        &[
            "一只还是",
            "还是一对",
            "是一对",
            "一对吗",
            "一个还是",
            "几只装",
        ],
    ),
    (
        &["适用年龄", "适用阶段", "适用月龄"],
        &[
            "幼猫",
            "小猫",
            "老猫",
            "幼犬",
            "小狗",
            "老年犬",
            "多大能",
            "几个月能",
        ],
    ),
    (
        &["适用宠物", "适用对象", "适用犬种", "适用"],
        &[
            "狗能用",
            "猫能用",
            "狗可以用",
            "猫可以用",
            "狗狗能",
            "猫咪能",
            "什么狗",
            "什么猫",
        ],
    ),
    (
        &["适用季节", "季节"],
        &[
            "春天", "夏天", "秋天", "冬天", "春季", "夏季", "秋季", "冬季", "四季",
        ],
    ),
    (
        SIZE_NAMES,
        &[
            "尺码",
            "码数",
            "什么码",
            "几码",
            "尺寸",
            "多大",
            "大码",
            "小码",
            "均码",
            "xxxl",
            "xxl",
            "xl",
            "s码",
            "m码",
            "l码",
        ],
    ),
    (&["颜色"], &["颜色", "什么色", "几种色", "哪些色"]),
    (&["产地"], &["产地", "哪里产", "哪产的", "哪里生产"]),
    (
        &["口味", "口感", "味道", "香型", "香味", "气味"],
        &[
            "口味",
            "口感",
            "苦不苦",
            "苦吗",
            "不苦",
            "怕苦",
            "苦涩",
            "涩不涩",
            "味道",
            "什么味",
            "啥味",
            "辣的",
            "辣不辣",
            "辣吗",
            "甜的",
            "甜不甜",
            "原味",
            "好吃",
            "好不好吃",
        ],
    ),
    (&["保质期"], &["保质期", "能放多久", "放多久"]),
    (
        &[
            "储存方法",
            "保存方法",
            "储存方式",
            "存放方法",
            "储存",
            "保存",
            "存放",
        ],
        &[
            "怎么保存",
            "怎么存",
            "咋保存",
            "如何保存",
            "怎么储存",
            "放冰箱",
            "冰箱里",
            "冷藏",
            "冷冻",
            "存放",
            "防潮",
        ],
    ),
    (
        &[
            "冲泡方法",
            "冲泡方式",
            "泡法",
            "食用方法",
            "冲泡",
            "喝法",
            "使用方法",
        ],
        &[
            "怎么泡",
            "能泡",
            "适合泡",
            "泡绿茶",
            "泡红茶",
            "泡白茶",
            "泡普洱",
            "泡乌龙",
            "咋泡",
            "如何泡",
            "怎么冲",
            "水温",
            "几度的水",
            "多少度的水",
            "开水泡",
            "投多少",
            "放多少茶",
            "泡几次",
            "能泡几",
            "几泡",
            "怎么煮",
            "煮着喝",
            "煮几分钟",
            "怎么喝",
        ],
    ),
    (
        &["是否送礼", "送礼", "适合送礼", "礼品"],
        &[
            "送礼",
            "送人",
            "送长辈",
            "送领导",
            "送客户",
            "送老人",
            "送朋友",
            "长辈",
        ],
    ),
    (
        &["年份", "采摘时间", "采制时间", "生产年份", "制作时间"],
        &[
            "哪年",
            "哪一年",
            "几几年",
            "今年的",
            "新茶",
            "陈茶",
            "几年的",
            "放了几年",
            "存了几年",
            "什么时候采",
            "啥时候采",
        ],
    ),
    (
        &[
            "适合人群",
            "适用人群",
            "人群",
            "禁忌",
            "注意事项",
            "禁忌人群",
        ],
        &[
            "胃不好",
            "胃不太好",
            "胃寒",
            "肠胃",
            "孕妇",
            "怀孕",
            "哺乳",
            "睡不着",
            "失眠",
            "睡眠",
            "晚上喝",
            "糖尿病",
            "高血压",
            "什么人",
            "适合谁",
            "老人能",
            "小孩能",
            "孩子能",
            "岁能",
            "小孩吃",
            "孩子吃",
            "老人吃",
            "儿童能",
            "老人家能",
        ],
    ),
    (
        &["生产日期"],
        &[
            "生产日期",
            "什么时候生产",
            "啥时候生产",
            "哪天生产",
            "几号生产",
        ],
    ),
    (
        &["规格", "容量"],
        &[
            "规格",
            "几袋",
            "几包",
            "几片",
            "几粒",
            "几支",
            "多少袋",
            "多少包",
            "多少片",
            "多少粒",
            // "一箱多少袋", not "给我补发一箱新的".
            "一盒几",
            "一箱几",
            "一盒多少",
            "一箱多少",
        ],
    ),
];
const PRICE_WORDS: &[&str] = &[
    "多少钱",
    "价格",
    "价钱",
    "几块",
    "到手价",
    "什么价",
    "多钱",
    "怎么卖",
    "咋卖",
    "卖多少",
];
/// A number of items in a message ("买3袋", "两件", "一对").
static QUANTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\d{1,3}|[一两二三四五六七八九十]{1,3})\s*(个|件|袋|包|盒|箱|瓶|只|条|双|套|份|罐|支|片|对|饼|根|张|台|把)(套|装)?",
    )
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// How many items `norm` asks about, if it names a number of them; a pair is two.
/// "6件套多少钱" and "3包装" name what one item holds.
fn quantity(norm: &str) -> Option<u32> {
    let c = QUANTITY.captures(norm)?;
    if c.get(3).is_some() {
        return None;
    }
    let number = c.get(1)?.as_str();
    let n = number
        .parse::<u32>()
        .ok()
        .or_else(|| chinese_number(number).map(|n| n as u32))?;
    Some(if c.get(2)?.as_str() == "对" {
        n * 2
    } else {
        n
    })
}

/// Why a sold-out product cannot be bought ("怎么下不了单").
const CANNOT_BUY: &[&str] = &[
    "下不了单",
    "下不了",
    "拍不了",
    "拍不下",
    "买不了",
    "无法下单",
    "不能下单",
];
const STOCK_WORDS: &[&str] = &[
    "有货",
    "有没有货",
    "库存",
    "现货",
    "缺货",
    "还有吗",
    "卖完",
    "断货",
    "没货",
];
/// Words asking when a sold-out product is back ("啥时候有货" is in `STOCK_WORDS`).
const RESTOCK_WORDS: &[&str] = &["补货", "到货", "什么时候有", "啥时候有", "几号有", "登记"];

/// A number with its unit ("2米", "1.6m"), naming a variant.
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\d+(?:\.\d+)?(?:米|cm|m|寸|克|g|ml|斤|升|l|片|支|只|盒|袋|包|罐|瓶|饼|条|双|件|个)",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Words asking whether something costs extra ("木盒要加钱吗", "上楼收费吗").
const FEE_WORDS: &[&str] = &["加钱", "收费", "收钱", "另收", "要钱", "另外付", "额外"];

/// Characters of a fee question that name no thing ("木盒要加钱吗" names 木盒).
const FEE_CHARS: &str = "多少钱价格块元加要收费另付额外贵便宜几个这那吧呢吗啊呀";

/// The attribute holding a fee asked about with a price word: one the message asks for
/// by its words whose value names an amount in 元 ("安装方式=…上门安装需另付80元"), else
/// one with a clause naming an amount and two of the message's own characters
/// ("木盒要加钱吗" with 包装=…可另购木质茶饼盒（+35元）); the product's names are no thing.
fn fee_asked<'a>(norm: &str, product: &'a Product) -> Option<&'a String> {
    let grouped = ATTRIBUTE_WORDS.iter().find_map(|(names, words)| {
        let key = attribute_like(product, names)?;
        (words.iter().any(|w| norm.contains(w)) && product.attributes.get(key)?.contains('元'))
            .then_some(key)
    });
    if grouped.is_some() {
        return grouped;
    }
    let rest = strip_names(norm, std::slice::from_ref(product), false);
    let mut thing: Vec<char> = rest
        .chars()
        .filter(|&c| super::typo::is_han(c) && !COMMON.contains(c) && !FEE_CHARS.contains(c))
        .collect();
    thing.dedup();
    // "2米的线多少钱": a number with its unit names the thing as well as two characters.
    let amounts: Vec<&str> = AMOUNT.find_iter(&rest).map(|m| m.as_str()).collect();
    if thing.len() < 2 && amounts.is_empty() {
        return None;
    }
    // The clause sharing most with the message, the first of those level: a long
    // message ("明天到了我看看 白虾下次想买小号的 多少钱") shares two characters with many.
    let shared = |clause: &str| {
        let amount = amounts.iter().any(|a| amount_in(clause, a));
        let chars = thing.iter().filter(|c| clause.contains(**c)).count();
        if amount { chars + 2 } else { chars }
    };
    let mut best: Option<(&String, usize)> = None;
    for (k, v) in &product.attributes {
        // Clauses by ；, 。 and 、: "吸盘款（吸中控台或挡风玻璃，加10元）" is one.
        let most = v
            .split(['；', '。', ';', '、'])
            .filter(|clause| clause.contains('元'))
            .map(shared)
            .max()
            .unwrap_or(0);
        if most >= 2 && best.is_none_or(|(_, b)| most > b) {
            best = Some((k, most));
        }
    }
    best.map(|(k, _)| k)
}

/// Whether `norm` asks the price of a variant `product`'s record prices on its own
/// ("橙子10斤礼盒多少钱" with 规格=…10斤礼盒装到手69.8元).
pub fn names_variant(norm: &str, product: &Product) -> bool {
    asks_price(norm) && fee_asked(norm, product).is_some()
}

/// What `product` costs as `norm` asks it: the variant's fee or price as recorded
/// ("3支唇釉" with 套装=任选3支装到手179元), else the price.
pub fn price_told(norm: &str, product: &Product) -> Option<String> {
    let ask = match fee_asked(norm, product) {
        Some(key) => Ask::Attribute(key.clone()),
        None => {
            product.pay_price()?;
            Ask::Price
        }
    };
    Some(answer(&ask, product, &[]))
}

/// Whether `clause` holds the amount `a` ("20片") as a whole number: "120片" holds no
/// 20片.
fn amount_in(clause: &str, a: &str) -> bool {
    clause
        .match_indices(a)
        .any(|(at, _)| !clause[..at].ends_with(|c: char| c.is_ascii_digit() || c == '.'))
}

const RELATED_WORDS: &[&str] = &[
    "推荐",
    "搭配",
    "配什么",
    "还有什么",
    "类似的",
    "同款",
    "差不多的",
    "别的款",
];

/// Whether `norm` points at `product` by name ("这个壶泡绿茶行吗 我买了你家龙井" on the
/// teapot's page, whose alias is 壶): another product named beside it is no question
/// about itself.
pub fn pointed_at(norm: &str, product: &Product) -> bool {
    let names: Vec<String> = product
        .names()
        .map(|n| n.to_lowercase())
        .chain(kind_words(product))
        .collect();
    DEICTIC.iter().filter(|d| d.starts_with('这')).any(|d| {
        norm.match_indices(d).any(|(at, _)| {
            names
                .iter()
                .any(|n| norm[at + d.len()..].starts_with(n.as_str()))
        })
    })
}

/// Words that point at the product in front of the buyer.
const DEICTIC: &[&str] = &[
    "这个",
    "这款",
    "这件",
    "这双",
    "这条",
    "这套",
    "这只",
    "这瓶",
    "它",
    "该商品",
    "宝贝",
];

/// Whether the message points at the current product ("这个多重").
pub fn points_at_it(norm: &str) -> bool {
    DEICTIC.iter().any(|w| norm.contains(w))
}

/// Particles and question words a bare product question is made of, besides what it
/// asks for ("还有货吗", "有什么颜色呢").
const BARE: &[&str] = &[
    "请问",
    "时候",
    "别的",
    "其他",
    "其它",
    "能用不",
    "多长时间",
    "多久",
    "咋样",
    "怎样",
    "如何",
    "啥",
    "还是",
    "能用",
    "适合",
    "支持",
    "一共",
    "算了",
    "好吧",
    "嗯",
    "那",
    "用",
    "我穿",
    "我想要",
    "我要",
    "好看",
    "哪个",
    "一下",
    "有没有",
    "什么",
    "怎么样",
    "多少",
    "你们",
    "亲",
    "还",
    "有",
    "是",
    "的",
    "吗",
    "呢",
    "啊",
    "呀",
    "吧",
    "哦",
    "嘛",
    "么",
    "了",
    "几",
    "个",
    "能",
    "可以",
    " ",
];

/// Whether `norm` asks for nothing but what `ask` found ("有货吗", "什么材质"): on a
/// product's page that is a question about the product, even where a knowledge-base
/// entry is worded the same way. "价格保护吗" asks about more than the price.
pub fn only_asks(norm: &str, product: &Product) -> bool {
    // Only the words for attributes this product has: "什么时候发" is a shop question
    // unless the product has its own 发货.
    let mut words: Vec<&str> = ATTRIBUTE_WORDS
        .iter()
        .filter(|(names, _)| attribute_like(product, names).is_some())
        .flat_map(|(_, w)| w.iter().copied())
        .chain(PRICE_WORDS.iter().copied())
        .chain(STOCK_WORDS.iter().copied())
        .chain(RELATED_WORDS.iter().copied())
        .chain(DEICTIC.iter().copied())
        .chain(product.attributes.keys().map(String::as_str))
        .collect();
    // Longest first: "有没有货" before "有".
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    let mut rest = norm.to_string();
    if let Some(colour) = colour_asked(norm) {
        rest = rest.replace(&colour, "");
    } else if let Some(colour) = product
        .attributes
        .get("颜色")
        .and_then(|v| colour_of(norm, v))
    {
        rest = rest.replace(colour.trim_end_matches('色'), "");
    }
    if let Some(size) = size_asked(norm) {
        rest = rest.replace(size, "").replace(['码', '号'], "");
    }
    if let Some((_, value)) = value_named(norm, product) {
        rest = rest.replace(&value, "");
    }
    for w in words.into_iter().chain(BARE.iter().copied()) {
        rest = rest.replace(w, "");
    }
    rest.is_empty() || partly_named(norm, product).is_some_and(|(_, all)| all)
}

/// Longest question that is treated as a product question: longer messages say more
/// than "how much is it" and go to the knowledge base.
const MAX_CHARS: usize = 16;

/// What `norm` (a normalized message) asks about `product`, if it is a short product
/// question this product can answer.
pub fn ask(norm: &str, product: &Product) -> Option<Ask> {
    ask_plain(norm, product).map(|a| by_weight(a, norm, product))
}

/// `ask` as an answer for the weight `norm` gives, where it asks for an attribute
/// whose value gives one thing per weight ("我家猫8斤 一天喂多少" and 喂食建议 "3kg猫
/// 每天约45g；4kg猫每天约55g"): the part for that weight.
fn by_weight(ask: Ask, norm: &str, product: &Product) -> Ask {
    let Ask::Attribute(key) = &ask else {
        return ask;
    };
    let part = weight_jin(norm).and_then(|jin| {
        let value = product.attributes.get(key)?;
        Some((jin, weighted_part(value, jin, norm)?.to_string()))
    });
    match part {
        Some((jin, part)) => Ask::ForWeight {
            attribute: key.clone(),
            jin,
            part,
        },
        None => ask,
    }
}

/// A weight, or a range of weights, in a part of a value ("4kg猫每天约55g", "中型犬
/// 5-12kg选M", "6kg以上每天约75g", "10斤以内").
static PART_WEIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d+(?:\.\d+)?)\s*(?:[-~～至到]\s*(\d+(?:\.\d+)?))?\s*(kg|公斤|千克|斤)\s*(以上|以下|以内)?")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// The part of `value` (split at ；，。 and new lines) for a weight of `jin` 斤: the
/// first whose range or bound holds it, else one naming that weight to within 0.5 kg,
/// the one sharing most characters with `norm` of those ("橙子10斤礼盒" with 10斤装 and
/// 10斤礼盒装).
fn weighted_part<'a>(value: &'a str, jin: u32, norm: &str) -> Option<&'a str> {
    let kg = jin as f32 / 2.0;
    let shared = |part: &str| {
        part.chars()
            .filter(|&c| super::typo::is_han(c) && !COMMON.contains(c) && norm.contains(c))
            .count()
    };
    let mut near: Option<&str> = None;
    for part in super::place::clauses(value) {
        let Some(c) = PART_WEIGHT.captures(part) else {
            continue;
        };
        let per = if &c[3] == "斤" { 0.5 } else { 1.0 };
        let Ok(low) = c[1].parse::<f32>() else {
            continue;
        };
        let low = low * per;
        let high = c.get(2).and_then(|h| h.as_str().parse::<f32>().ok());
        let holds = match (high, c.get(4).map(|b| b.as_str())) {
            (Some(high), _) => low <= kg && kg <= high * per,
            (None, Some("以上")) => kg >= low,
            (None, Some(_)) => kg <= low,
            (None, None) => {
                if (kg - low).abs() <= 0.5 && near.is_none_or(|n| shared(part) > shared(n)) {
                    near = Some(part);
                }
                false
            }
        };
        if holds {
            return Some(part);
        }
    }
    near
}

fn ask_plain(norm: &str, product: &Product) -> Option<Ask> {
    // "牛肉干有辣的吗" asks 有辣的吗 of the 牛肉干.
    let unnamed = without_name(norm, product);
    // Which size, for the weight given, however long the message ("我165 130斤 想穿宽松点
    // 拿哪个码").
    if let Some(advice) = size_advice(unnamed.as_deref().unwrap_or(norm), product) {
        return Some(advice);
    }
    // "铁观音是浓香还是清香的 我喜欢浓一点的": a choice the record holds, however long;
    // in a long message both sides must be in one value ("上楼费给师傅还是补给你们" is no
    // question about 安装方式=…无需师傅).
    let long = norm.chars().count() > MAX_CHARS;
    if let Some((key, both)) = choice_named(unnamed.as_deref().unwrap_or(norm), product)
        && (both || !long)
    {
        return Some(Ask::Attribute(key.clone()));
    }
    if norm.chars().count() > MAX_CHARS {
        return None;
    }
    // The name and nothing asked ("那牛肉干呢", "看看牛肉干"); "鲜花饼还有吗" asks the
    // stock, found first.
    let summary = unnamed
        .as_deref()
        .is_some_and(|rest| strip_bare(&strip_words(rest, SUMMARY_WORDS)).is_empty())
        .then_some(Ask::Summary);
    let norm = unnamed.as_deref().unwrap_or(norm);
    if let Some(advice) = size_advice(norm, product).or_else(|| fit_asked(norm, product)) {
        return Some(advice);
    }
    // "要多长时间" asks how long it takes, not the length; money arriving (到账) is no
    // parcel arriving.
    let timeless = norm.replace("多长时间", "多久").replace("到账", "入账");
    let has = |words: &[&str]| words.iter().any(|w| timeless.contains(w));
    // A size asked for ("41码还有吗") before the stock words in it.
    if let Some(size) = size_asked(norm)
        && let Some(key) = attribute_named(product, SIZE_NAMES)
    {
        return Some(Ask::Offers {
            attribute: key.clone(),
            value: shown_size(size),
            colour: product
                .attributes
                .get("颜色")
                .and_then(|all| colour_named(norm, all)),
        });
    }
    if let Some(contains) = contains_asked(norm, product) {
        return Some(contains);
    }
    // "为啥页面写599 你说459": the list price and the price paid, both named.
    if let (Some(list), Some(pay)) = (product.price, product.final_price)
        && list != pay
        && [list, pay].iter().all(|p| {
            let yuan = (p.0 / 100).to_string();
            p.0 % 100 == 0 && norm.contains(&yuan)
        })
    {
        return Some(Ask::Price);
    }
    // "师傅上门装多少钱", "5楼加多少钱", "木盒要加钱吗": a fee the shop wrote down, not
    // the price.
    if (has(PRICE_WORDS) || has(FEE_WORDS))
        && let Some(key) = fee_asked(&timeless, product)
    {
        return Some(Ask::Attribute(key.clone()));
    }
    if has(PRICE_WORDS) && product.pay_price().is_some() {
        return Some(match quantity(norm) {
            Some(n) if n > 1 => Ask::PriceOf(n),
            _ => Ask::Price,
        });
    }
    // "没货的话 有别的推荐吗": what else there is, for a sold-out product.
    if has(RELATED_WORDS) && !product.related.is_empty() && product.stock == Some(0) {
        return Some(Ask::Related);
    }
    if (has(STOCK_WORDS) && product.stock.is_some())
        || (has(CANNOT_BUY) && product.stock == Some(0))
        // "什么时候补货": the shop's own note, else the general answer.
        || (has(RESTOCK_WORDS) && product.stock == Some(0) && restock_note(product).is_some())
    {
        return Some(Ask::Stock);
    }
    if has(RELATED_WORDS) && !product.related.is_empty() {
        return Some(Ask::Related);
    }
    // "我在南京 今天下单明天能到不", "发西宁吗": what the shipping notes say of the place.
    // Most product questions hold 发, 到 or 送: a product with no shipping notes looks
    // for no place.
    if has(SHIPS_TO_WORDS)
        && product.attributes.keys().any(|k| ship_note(k))
        && let Some(place) = super::place::named(&timeless)
        && !ships_to(product, &place).is_empty()
    {
        return Some(Ask::ShipsTo(place));
    }
    if has(ARRIVAL)
        && let Some(key) = attribute_like(product, SHIPPING_NAMES)
        && product
            .attributes
            .get(key)
            .is_some_and(|v| v.contains('到') || v.contains('达'))
    {
        return Some(Ask::Attribute(key.clone()));
    }
    // "有白色吗", "黑色还有吗", "粉色没了吗", "那黑色呢", "有没有粉的" ask whether it
    // comes in that colour; "白色透不透" asks about the white one.
    if let Some(colours) = product.attributes.get("颜色")
        && !has(&["什么色", "几种色", "哪些色"])
        && let Some(colour) = colour_named(norm, colours)
        && (norm.contains('有')
            || norm.contains('没')
            || strip_bare(&norm.replace(&colour, "")).is_empty())
    {
        return Some(Ask::Offers {
            attribute: "颜色".into(),
            value: colour,
            colour: None,
        });
    }
    // "买错色号能换吗": exchanging what was bought, not which shades there are.
    if has(EXCHANGE_WORDS)
        && let Some(key) = attribute_like(product, RETURN_NAMES)
    {
        return Some(Ask::Attribute(key.clone()));
    }
    // An attribute named as the shop names it ("噪音多大") before the words that
    // usually ask for another (多大: 容量); asking for advice, the shop's advice on it
    // ("拿不准色号怎么办" with 色号推荐).
    if let Some(key) = product
        .attributes
        .keys()
        .filter(|k| k.chars().count() >= 2 && norm.contains(k.as_str()))
        .max_by_key(|k| k.chars().count())
    {
        let advice = has(ADVICE_WORDS)
            .then(|| {
                product.attributes.keys().find(|k| {
                    k.starts_with(key.as_str()) && (k.contains("推荐") || k.contains("建议"))
                })
            })
            .flatten();
        return Some(Ask::Attribute(advice.unwrap_or(key).clone()));
    }
    // "插电的还是usb的 费电吗" asks two things: both are answered when different words
    // ask for different attributes (one word asking for two, like 多大, is one question).
    let mut found: Vec<(&String, &str)> = Vec::new();
    for (names, words) in ATTRIBUTE_WORDS {
        if let Some(word) = words.iter().find(|w| timeless.contains(**w))
            && let Some(key) = group_attribute(product, names, word)
            && found
                .iter()
                .all(|(k, w)| *k != key && !w.contains(word) && !word.contains(w))
        {
            found.push((key, word));
        }
    }
    // A loose word beside a sure one is part of the sure one's question.
    if found.iter().any(|(_, w)| !WEAK.contains(w)) {
        found.retain(|(_, w)| !WEAK.contains(w));
    }
    // In the order asked.
    found.sort_by_key(|(_, w)| timeless.find(w));
    match found.as_slice() {
        [] => {}
        [(key, _)] => return Some(Ask::Attribute((*key).clone())),
        [(first, _), (second, _), ..] => {
            return Some(Ask::Attributes((*first).clone(), (*second).clone()));
        }
    }
    if let Some((key, _)) = value_named(norm, product) {
        return Some(Ask::Attribute(key.clone()));
    }
    // Any attribute the shop defined, named in the question (e.g. "适用年龄"), or what
    // one that says whom or what it suits is about ("孩子二年级能背吗": 适用年级).
    let about = |k: &str| {
        let about = k.trim_start_matches("适用").trim_start_matches("适合");
        (about.len() < k.len() && about.chars().count() >= 2 && norm.contains(about))
            || (k.chars().count() >= 2 && norm.contains(k))
    };
    if let Some(k) = product.attributes.keys().find(|k| about(k)) {
        return Some(Ask::Attribute(k.clone()));
    }
    partly_named(norm, product)
        .map(|(k, _)| Ask::Attribute(k.clone()))
        .or(summary)
}

/// `norm` without the product's name or alias in it (the longest one found), if one is.
pub fn without_name(norm: &str, product: &Product) -> Option<String> {
    product
        .names()
        .map(|n| super::normalize::normalize(n))
        // Not a kind the shop also names an attribute (椅子=4把实木椅 of a dining set).
        .chain(
            kind_words(product)
                .into_iter()
                .filter(|k| !product.attributes.contains_key(k)),
        )
        .filter(|n| n.chars().count() >= 2 && norm.contains(n.as_str()))
        .max_by_key(|n| n.chars().count())
        .map(|n| norm.replace(&n, "").trim().to_string())
}

/// Characters too common in attribute names and values to tie a question to one
/// ("是否防水", "支持磁吸", "油皮更适合").
const COMMON: &str = "的是否有不没能可以会要用适合更很最好都也还就和与及或等为在支持一个";

/// The attribute whose name or value shares most of what a short question asks, two
/// characters at a time: "保温多久" and 保温时长, "支持无线充电吗" and 支持磁吸无线充,
/// "是鸭绒还是鹅绒" and 填充物=90%白鸭绒, "油皮能用吗" and 适用肤质=油皮混油更适合. At
/// least two characters and half of the question's own words (without particles and
/// question words) must be covered; the flag tells whether all of them are. A loose match
/// answers only when the question points at the product, names nothing else, or the
/// knowledge base is not sure ("新疆包邮吗" is no question about 产地=新疆阿克苏).
fn partly_named<'a>(norm: &str, product: &'a Product) -> Option<(&'a String, bool)> {
    let rest: Vec<char> = strip_bare(norm).chars().collect();
    let pairs = |text: &str| -> Vec<[char; 2]> {
        let chars: Vec<char> = text.to_lowercase().chars().collect();
        chars
            .windows(2)
            .filter(|w| {
                w.iter()
                    .all(|c| c.is_alphanumeric() && !COMMON.contains(*c))
            })
            .map(|w| [w[0], w[1]])
            .collect()
    };
    let mut best: Option<(&String, usize)> = None;
    for (k, v) in &product.attributes {
        let known: Vec<[char; 2]> = pairs(k).into_iter().chain(pairs(v)).collect();
        let mut covered = vec![false; rest.len()];
        for (i, w) in rest.windows(2).enumerate() {
            if known.iter().any(|p| p[..] == *w) {
                covered[i] = true;
                covered[i + 1] = true;
            }
        }
        let n = covered.iter().filter(|&&c| c).count();
        if n >= 2 && n * 2 >= rest.len() && best.is_none_or(|(_, m)| n > m) {
            best = Some((k, n));
        }
    }
    if let Some((k, n)) = best {
        return Some((k, n == rest.len()));
    }
    // Two characters both found in one attribute, not side by side: "防水吗" and
    // 材质=尼龙防泼水面料. Never fully named: a sure knowledge-base answer wins.
    if let [a, b] = rest[..]
        && ![a, b]
            .iter()
            .any(|c| COMMON.contains(*c) || !c.is_alphabetic())
    {
        return product
            .attributes
            .iter()
            .find(|(k, v)| {
                let text = format!("{k}{v}");
                text.contains(a) && text.contains(b)
            })
            .map(|(k, _)| (k, false));
    }
    None
}

/// Characters that say nothing of what a question is about ("我", "那个", "了"), on top of
/// `COMMON`, when a question is looked up in the attributes by the words it shares.
const NOISE: &str = "我你您他她们这那个了吧啊呀吗呢么哦嘛呗着过还请问亲就下";

/// Least evidence (see `search`) for an attribute to answer without two characters side
/// by side: three characters found in no other attribute.
const FOUND: f32 = 3.0;

/// Share of the best attribute's evidence a second one with two characters side by side
/// needs to be answered too ("能调色吗 频闪不": 调光方式 and 护眼).
const SECOND: f32 = 0.75;

/// Attributes whose values are the choices a buyer picks (颜色, 尺码): naming one says
/// which to buy ("先拍一条深蓝28的 几天能到"), not what is asked.
const CHOICE_NAMES: &[&str] = &["颜色", "尺码", "尺寸", "规格", "款式"];

/// The attribute, or the two, that a question in the buyer's own words is about, found
/// by what it shares with each attribute's name and value: "我胯有点大 会不会紧啊" and
/// 尺码建议=…胯大或肩宽建议大一码, "长钱包放得下不" and 容量=…放不下长钱包, "床垫软还是硬
/// 的 我腰不好" and both 硬度 and 适用人群. Each character of the question (without the
/// product's name, particles and question words) found in one attribute only counts 1,
/// in two 0.5, in more nothing; two side by side in an attribute count 2 more. The best
/// attribute needs two side by side or `FOUND`; a second close to it (`SECOND`) with two
/// side by side is answered too.
/// Only Chinese characters count, and the colours and sizes the buyer picks do not.
pub fn search(norm: &str, product: &Product) -> Vec<String> {
    let mut asked = without_name(norm, product).unwrap_or_else(|| norm.to_string());
    for name in CHOICE_NAMES {
        if let Some(v) = product.attributes.get(*name) {
            for w in value_words(v).filter(|w| w.chars().count() >= 2) {
                asked = asked.replace(w, " ");
            }
        }
    }
    let chars: Vec<char> = strip_bare(&asked)
        .chars()
        .map(|c| {
            if c.is_alphabetic() && !c.is_ascii() && !COMMON.contains(c) && !NOISE.contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let texts: Vec<(&String, Vec<char>)> = product
        .attributes
        .iter()
        .map(|(k, v)| (k, format!("{k}={v}").to_lowercase().chars().collect()))
        .collect();
    let has = |text: &[char], c: char| text.contains(&c);
    let pair = |text: &[char], a: char, b: char| text.windows(2).any(|w| w[0] == a && w[1] == b);
    let mut distinct: Vec<char> = chars.iter().copied().filter(|c| *c != ' ').collect();
    distinct.sort_unstable();
    distinct.dedup();
    // How many attributes hold each character of the question.
    let held: std::collections::HashMap<char, usize> = distinct
        .iter()
        .map(|&c| (c, texts.iter().filter(|(_, t)| has(t, c)).count()))
        .collect();
    // (score, whether two characters stand side by side in it, name)
    let mut scored: Vec<(f32, bool, &String)> = texts
        .iter()
        .filter_map(|(k, text)| {
            let single: f32 = distinct
                .iter()
                .filter(|c| has(text, **c))
                .map(|c| match held.get(c) {
                    Some(1) => 1.0,
                    Some(2) => 0.5,
                    _ => 0.0,
                })
                .sum();
            let pairs = chars
                .windows(2)
                .filter(|w| w[0] != ' ' && w[1] != ' ' && pair(text, w[0], w[1]))
                .count();
            let score = single + 2.0 * pairs as f32;
            (pairs > 0 || score >= FOUND).then_some((score, pairs > 0, *k))
        })
        .collect();
    // Best first; level ones in the record's order.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    match scored.as_slice() {
        [(a, _, first), (b, true, second), ..] if *b >= SECOND * a => {
            // In the order asked.
            let at = |key: &String| {
                texts
                    .iter()
                    .find(|(k, _)| *k == key)
                    .and_then(|(_, text)| chars.iter().position(|c| *c != ' ' && has(text, *c)))
            };
            let mut two = vec![(*first).clone(), (*second).clone()];
            two.sort_by_key(at);
            two
        }
        [(_, _, first), ..] => vec![(*first).clone()],
        [] => Vec::new(),
    }
}

/// `norm` without particles, question words and spaces (`BARE`): what it names.
fn strip_bare(norm: &str) -> String {
    strip_words(norm, BARE)
}

/// `text` without any of `words`, removed in their order.
fn strip_words(text: &str, words: &[&str]) -> String {
    let mut rest = text.to_string();
    for w in words {
        rest = rest.replace(w, "");
    }
    rest
}

/// Words that, besides the product's name and `BARE`, ask for nothing in particular
/// ("看看牛肉干", "介绍一下坚果").
const SUMMARY_WORDS: &[&str] = &[
    "看看",
    "介绍",
    "详细",
    "详情",
    "了解",
    "想问",
    "问问",
    "问下",
    "你们家",
    "你家",
    "店里",
    "在卖",
    "有卖",
    "卖",
    // "你们家有卫衣没".
    "有没",
];

/// Longest attribute value a summary shows (size tables are left to their question).
const SUMMARY_VALUE_CHARS: usize = 30;

/// The answer to `ask` about `product`; `related` are the related products found.
pub fn answer(ask: &Ask, product: &Product, related: &[&Product]) -> String {
    let name = &product.name;
    match ask {
        Ask::Price => {
            let price = match (product.final_price, product.price) {
                (Some(f), Some(p)) if f != p => {
                    format!("亲，{name}的到手价是 ¥{f}（原价 ¥{p}），以下单页显示为准哦～")
                }
                (Some(f), _) | (None, Some(f)) => {
                    format!("亲，{name}的价格是 ¥{f}，以下单页显示为准哦～")
                }
                (None, None) => format!("亲，{name}的价格以商品页显示为准哦～"),
            };
            // A buyer about to pay should know it cannot ship now.
            if product.stock == Some(0) {
                format!("{price}不过现在暂时缺货，补货后会第一时间上架，可以先收藏关注哦～")
            } else {
                price
            }
        }
        Ask::PriceOf(n) => {
            let Some(each) = product.pay_price() else {
                return format!("亲，{name}的价格以商品页显示为准哦～");
            };
            let total = crate::model::Price(each.0.saturating_mul(u64::from(*n)));
            let sold_out = if product.stock == Some(0) {
                "不过现在暂时缺货，补货后会第一时间上架哦～"
            } else {
                ""
            };
            format!(
                "亲，{name}到手价 ¥{each}/件，{n}件共 ¥{total}，以下单页显示为准哦（店铺满减、优惠券会在结算时再减）～{sold_out}"
            )
        }
        Ask::Stock => match product.stock {
            Some(n) if n > 0 => format!("亲，{name}有现货哦，现在拍下就能安排发货～"),
            _ => match restock_note(product) {
                Some(note) => format!("亲，{name}暂时缺货了：{note}"),
                None => format!("亲，{name}暂时缺货了，补货后会第一时间上架，可以先收藏关注哦～"),
            },
        },
        Ask::Attributes(first, second) => {
            let told = |key: &str| match product.attributes.get(key) {
                Some(v) if reads_as_question(key) => format!("「{key}」：{v}"),
                Some(v) => format!("{key}是：{v}"),
                None => format!("{key}请以商品详情页为准"),
            };
            let of = if reads_as_question(first) { "" } else { "的" };
            format!("亲，{name}{of}{}；{}", told(first), told(second))
        }
        Ask::ShipsTo(place) => ships_answer(product, place),
        Ask::Attribute(key) => match product.attributes.get(key) {
            // 孕妇能用吗=…: "亲，口红「孕妇能用吗」：…", not "…的孕妇能用吗是：".
            // "是否透": "亲，连衣裙是否透：有内衬不透".
            Some(v) if key.starts_with("是否") => format!("亲，{name}{key}：{v}"),
            Some(v) if reads_as_question(key) => format!("亲，{name}「{key}」：{v}"),
            Some(v) => format!("亲，{name}的{key}是：{v}"),
            None => format!("亲，{name}的{key}请以商品详情页为准哦～"),
        },
        Ask::Offers {
            attribute,
            value,
            colour,
        } => {
            let Some(all) = product.attributes.get(attribute) else {
                return format!("亲，{name}的{attribute}请以商品详情页为准哦～");
            };
            let has_colour = |all: &str, c: &str| all.contains(c.trim_end_matches('色'));
            let offered = if attribute == "颜色" {
                Some(has_colour(all, value))
            } else {
                offers_size(all, value)
            };
            // Sold out, the list is what it comes in, not what is there now.
            let sold_out = product.stock == Some(0);
            // "黑色M码有货吗": both, when the size list could be read.
            if let (Some(c), Some(colours), Some(size_ok)) =
                (colour, product.attributes.get("颜色"), offered)
            {
                let missing: Vec<&str> = [
                    (!has_colour(colours, c)).then_some(c.as_str()),
                    (!size_ok).then_some(value.as_str()),
                ]
                .into_iter()
                .flatten()
                .collect();
                let lists = format!("颜色：{colours}；{attribute}：{all}");
                return match (missing.as_slice(), sold_out) {
                    ([], false) => format!("亲，{name}有{c}{value}哦～ 现有{lists}"),
                    ([], true) => format!(
                        "亲，{name}有{c}{value}这个规格，不过现在暂时缺货，补货后会第一时间上架哦～（{lists}）"
                    ),
                    (_, false) => {
                        format!("亲，{name}暂时没有{}哦，现有{lists}", missing.join("和"))
                    }
                    (_, true) => format!(
                        "亲，{name}没有{}哦，而且现在暂时缺货～（{lists}）",
                        missing.join("和")
                    ),
                };
            }
            match (offered, sold_out) {
                (Some(true), false) => format!("亲，{name}有{value}哦～ 现有{attribute}：{all}"),
                (Some(true), true) => format!(
                    "亲，{name}有{value}这个规格，不过现在暂时缺货，补货后会第一时间上架哦～（{attribute}：{all}）"
                ),
                (Some(false), false) => {
                    format!("亲，{name}暂时没有{value}哦，现有{attribute}：{all}")
                }
                (Some(false), true) => {
                    format!("亲，{name}没有{value}哦，而且现在暂时缺货～（{attribute}：{all}）")
                }
                (None, _) => format!("亲，{name}的{attribute}是：{all}"),
            }
        }
        Ask::SizeAdvice {
            attribute,
            size,
            by,
        } => {
            let advice = product
                .attributes
                .get(attribute)
                .map(String::as_str)
                .unwrap_or_default();
            match size {
                Some(size) => {
                    let whose = match *by {
                        "月龄" => "宝宝的月龄",
                        "脚长" => "这个脚长",
                        _ => "这个体重",
                    };
                    format!("亲，按{whose}，{name}建议选 {size} 哦～（{attribute}：{advice}）")
                }
                None if *by == "月龄" => {
                    format!(
                        "亲，{name}的{attribute}：{advice}，您可以按宝宝的月龄和身高对照选择哦～"
                    )
                }
                None if *by == "脚长" => {
                    format!("亲，{name}的{attribute}：{advice}，您可以按脚长对照选择哦～")
                }
                None => format!("亲，{name}的{attribute}：{advice}，您可以按身高体重对照选择哦～"),
            }
        }
        Ask::Fits {
            attribute,
            model,
            fits,
        } => {
            let all = product
                .attributes
                .get(attribute)
                .map(String::as_str)
                .unwrap_or_default();
            let model = model.to_uppercase();
            if *fits {
                format!("亲，{name}适用 {model} 哦～（{attribute}：{all}）")
            } else {
                format!("亲，{name}暂不适用 {model} 哦，{attribute}：{all}")
            }
        }
        Ask::ForWeight {
            attribute,
            jin,
            part,
        } => {
            let kg = *jin as f32 / 2.0;
            format!("亲，按{jin}斤（{kg}kg）算，{name}的{attribute}：{part}哦～")
        }
        Ask::Summary => {
            let price = match (product.final_price, product.price) {
                (Some(f), Some(p)) if f != p => format!("到手价 ¥{f}（原价 ¥{p}）"),
                (Some(f), _) | (None, Some(f)) => format!("¥{f}"),
                (None, None) => String::new(),
            };
            let head = [price.as_str(), stock_note(product).unwrap_or_default()]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("，");
            let facts: Vec<String> = product
                .attributes
                .iter()
                .filter(|(_, v)| v.chars().count() <= SUMMARY_VALUE_CHARS)
                .take(3)
                .map(|(k, v)| format!("{k}：{v}"))
                .collect();
            let mut text = format!("亲，{name}");
            if !head.is_empty() {
                text = format!("{text}：{head}");
            }
            if !facts.is_empty() {
                text = format!("{text}。{}", facts.join("；"));
            }
            format!("{text}～想了解哪方面可以直接问我哦")
        }
        Ask::Contains {
            attribute,
            asked,
            found,
            allergy,
        } => {
            let list = product
                .attributes
                .get(attribute)
                .map(String::as_str)
                .unwrap_or_default();
            match (found, allergy) {
                (Some(found), true) => format!(
                    "亲，{name}的{attribute}里有{found}哦（{attribute}：{list}），对{asked}过敏的话不建议购买～"
                ),
                (Some(found), false) => {
                    format!("亲，{name}的{attribute}里有{found}哦～（{attribute}：{list}）")
                }
                (None, true) => format!(
                    "亲，{name}的{attribute}里没有{asked}哦（{attribute}：{list}），过敏体质请以包装上的过敏原提示为准～"
                ),
                (None, false) => {
                    format!("亲，{name}的{attribute}里没有{asked}哦～（{attribute}：{list}）")
                }
            }
        }
        // Related products that no longer exist leave nothing to recommend.
        Ask::Related if related.is_empty() => {
            format!("亲，{name}暂时没有搭配推荐哦，可以看看店铺首页的热销商品～")
        }
        Ask::Related => {
            let names: Vec<String> = related
                .iter()
                .map(|p| match p.pay_price() {
                    Some(price) => format!("{}（¥{price}）", p.name),
                    None => p.name.clone(),
                })
                .collect();
            format!(
                "亲，和{name}搭配推荐：{}，可以一起看看哦～",
                names.join("、")
            )
        }
    }
}

/// `text` with each product's SKU, where it stands as a word of its own, replaced by its
/// first alias (the buyers' word) or name, and marked when sold out: sellers write SKUs
/// in their notes ("需要另外涂防晒（推荐MZ-04）"; in "更推荐CY-07礼盒装" and "先涂MZ-01哑光
/// 口红" the alias follows, so the SKU goes).
pub fn skus_named<'a>(text: &str, products: impl Iterator<Item = &'a Product>) -> String {
    let mut out = text.to_string();
    // Most answers hold no code at all: nothing to look for.
    if !text.contains(|c: char| c.is_ascii_alphanumeric()) {
        return out;
    }
    for p in products.filter(|p| p.sku.len() >= 3) {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        let mut from = 0;
        while let Some(found) = out[from..].find(p.sku.as_str()) {
            let at = from + found;
            let end = at + p.sku.len();
            let alone = !out[..at].ends_with(word) && !out[end..].starts_with(word);
            if !alone {
                from = end;
                continue;
            }
            let short = p.aliases.first().unwrap_or(&p.name);
            let next: String = out[end..].chars().take(short.chars().count() + 3).collect();
            let shown = if next.contains(short.as_str()) {
                String::new()
            } else if p.stock == Some(0) {
                format!("{short}（暂时缺货）")
            } else {
                short.clone()
            };
            out.replace_range(at..end, &shown);
            from = at + shown.len();
        }
    }
    out
}

/// Whether an attribute's name is a question of its own ("孕妇能用吗", "过敏怎么办",
/// "是否送礼"), so it cannot stand as the subject of "…是：".
fn reads_as_question(key: &str) -> bool {
    key.ends_with(['吗', '么', '嘛', '呢', '?', '？'])
        || [
            "能不能",
            "可不可以",
            "是否",
            "怎么",
            "怎样",
            "多久",
            "会不会",
            "什么",
            "哪些",
        ]
        .iter()
        .any(|w| key.contains(w))
}

/// Characters whose word with 子 is no product ("孩子", "样子", "个子").
const NOT_KINDS: &str = "儿孩样日法个下一些阵辈点肚房妻胖瘦小大老";

/// What buyers call the kind of product each name ends in: the last character with 子
/// ("裙子" for 连衣裙, "桌子" for 书桌, "杯子" for 保温杯).
fn kind_words(p: &Product) -> Vec<String> {
    let mut out: Vec<String> = p
        .names()
        .filter(|n| n.chars().count() >= 2)
        .filter_map(|n| n.chars().last())
        .filter(|&c| super::typo::is_han(c) && c != '子' && !NOT_KINDS.contains(c))
        .map(|c| format!("{c}子"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where `norm` first names `p` by its kind, not as the buyer's own thing ("我的被子是
/// 200x230的" is the buyer's quilt), nor by a kind the product in view has or speaks of
/// (on the desk's page, "桌子" is the desk).
fn kind_at(norm: &str, p: &Product, in_view: Option<&Product>) -> Option<(usize, usize)> {
    // Every kind ends in 子: most messages name none, and nothing is built for them.
    if !norm.contains('子') {
        return None;
    }
    // On a page, a kind its record speaks of is the page's own thing ("有盒子吗" on the
    // tea cake's page with 包装=…可另购木质茶饼盒).
    let viewed = |k: &str| {
        in_view.is_some_and(|v| {
            let c = k.trim_end_matches('子');
            v.names().any(|n| n.contains(c)) || v.attributes.values().any(|a| a.contains(c))
        })
    };
    kind_words(p).iter().filter(|k| !viewed(k)).find_map(|k| {
        norm.match_indices(k.as_str())
            .find(|(at, _)| {
                !["我的", "我家", "我"]
                    .iter()
                    .any(|m| norm[..*at].ends_with(m))
            })
            .map(|(at, _)| (at, at + k.len()))
    })
}

/// Every product a message names (by name or alias, else by its kind, see [`kind_at`]),
/// in the order first named.
pub fn all_mentioned<'a>(
    norm: &str,
    products: impl Iterator<Item = &'a Product>,
    in_view: Option<&Product>,
) -> Vec<&'a Product> {
    // Each product's first and longest name in the message, as a byte span.
    let mut found: Vec<((usize, usize), &Product)> = products
        .filter_map(|p| {
            p.names()
                .map(|n| n.to_lowercase())
                .filter(|n| n.chars().count() >= 2)
                .filter_map(|n| norm.find(n.as_str()).map(|at| (at, at + n.len())))
                .min_by_key(|&(at, end)| (at, std::cmp::Reverse(end)))
                .or_else(|| kind_at(norm, p, in_view))
                .map(|span| (span, p))
        })
        .collect();
    // "运动水杯" names the sports bottle, not also the 水杯 inside it.
    let spans: Vec<(usize, usize)> = found.iter().map(|(s, _)| *s).collect();
    found.retain(|((at, end), _)| {
        !spans
            .iter()
            .any(|&(a, e)| a <= *at && *end <= e && (a, e) != (*at, *end))
    });
    // "橙子礼盒多少钱", "橙子10斤礼盒": the orange's gift box when a name of the orange
    // stands right before (but for an amount) and its record speaks of one, not the
    // shop's gift-box product as well.
    let owned: Vec<(usize, usize)> = found
        .iter()
        .filter(|((at, end), p)| {
            let named = &norm[*at..*end];
            let before = norm[..*at].trim_end_matches(|c: char| {
                c.is_ascii_digit() || c == '.' || "斤克装个盒只箱袋kgml的".contains(c)
            });
            found.iter().any(|(_, q)| {
                q.sku != p.sku
                    && q.names().any(|n| before.ends_with(&n.to_lowercase()))
                    && q.attributes.values().any(|v| v.contains(named))
            })
        })
        .map(|(span, _)| *span)
        .collect();
    found.retain(|(span, _)| !owned.contains(span));
    found.sort_by_key(|((at, _), p)| (*at, p.sku.clone()));
    found.into_iter().map(|(_, p)| p).collect()
}

/// `norm` without the names and aliases of `products`, longest first, and their kinds
/// (see [`kind_words`]) if `kinds`.
pub fn strip_names<P: std::borrow::Borrow<Product>>(
    norm: &str,
    products: &[P],
    kinds: bool,
) -> String {
    let mut names: Vec<String> = products
        .iter()
        .flat_map(|p| p.borrow().names().map(|n| n.to_lowercase()))
        .collect();
    if kinds {
        names.extend(products.iter().flat_map(|p| kind_words(p.borrow())));
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names
        .iter()
        .filter(|n| n.chars().count() >= 2)
        .fold(norm.to_string(), |rest, n| rest.replace(n.as_str(), ""))
}

/// Words asking which of the shop's products ("你家哪款茶适合胃不好的人喝").
const WHICH: &[&str] = &["哪款", "哪个", "哪种", "哪一款", "哪几款", "推荐"];

/// At most this many products in an answer by need.
const MAX_BY_NEED: usize = 4;

/// "你家哪款茶适合胃不好的人喝", "晚上喝哪个好": what each product's record says of a
/// need, when the message asks which product and names the need by a word of
/// `ATTRIBUTE_WORDS` (胃不好 → 适合人群): the clause of that attribute sharing most of
/// the need's characters, for each product that has one (by SKU), when two or more do.
pub fn by_need<'a>(norm: &str, products: impl Iterator<Item = &'a Product>) -> Option<String> {
    if !WHICH.iter().any(|w| norm.contains(w)) {
        return None;
    }
    let (names, word) = ATTRIBUTE_WORDS.iter().find_map(|(names, words)| {
        let word = words.iter().find(|w| norm.contains(**w))?;
        Some((*names, *word))
    })?;
    let need: Vec<char> = word.chars().filter(|c| !COMMON.contains(*c)).collect();
    // By SKU, so the answer reads the same every time.
    let mut products: Vec<&Product> = products.collect();
    products.sort_by(|a, b| a.sku.cmp(&b.sku));
    let lines: Vec<String> = products
        .iter()
        .filter_map(|p| {
            let value = p.attributes.get(attribute_like(p, names)?)?;
            let shared = |c: &&str| need.iter().filter(|n| c.contains(**n)).count();
            // Reversed, so the first clause sharing as much wins.
            let clause = value
                .split(['；', ';', '。'])
                .rev()
                .max_by_key(shared)
                .filter(|c| shared(c) > 0)?;
            Some(format!("{}：{}", p.name, clause.trim()))
        })
        .take(MAX_BY_NEED)
        .collect();
    (lines.len() >= 2).then(|| format!("亲，各款的说明供您参考：\n{}", lines.join("\n")))
}

/// Words joining or recommending products named together ("饮水机和猫砂 推荐下").
const JOINING: &[&str] = &["推荐", "和", "跟", "与", "还有", "或者", "下"];

/// Whether `norm` names `products` and asks nothing else of them: at most two
/// characters are left once their names, `JOINING`, `SUMMARY_WORDS` and `BARE` are
/// taken out ("猫用的饮水机" leaves 猫); "枕头和浴巾是一个地方发货吗" asks where they ship
/// from.
pub fn only_names(norm: &str, products: &[&Product]) -> bool {
    let rest = strip_names(norm, products, true);
    let rest = strip_bare(&strip_words(&strip_words(&rest, JOINING), SUMMARY_WORDS));
    rest.chars().count() <= 2
}

/// The price of several products named together ("买手环加鞋一共多少"): each one's and
/// the sum, when all have a price.
pub fn total(products: &[&Product]) -> Option<String> {
    let prices: Vec<crate::model::Price> = products
        .iter()
        .map(|p| p.pay_price())
        .collect::<Option<_>>()?;
    let sum = crate::model::Price(prices.iter().map(|p| p.0).sum());
    // A sold-out one says so: the sum is not what can be bought now.
    let each: Vec<String> = products
        .iter()
        .zip(&prices)
        .map(|(p, price)| match p.stock {
            Some(0) => format!("{} ¥{price}（暂时缺货）", p.name),
            _ => format!("{} ¥{price}", p.name),
        })
        .collect();
    Some(format!(
        "亲，{}，一起买共 ¥{sum}，以下单页显示为准哦（店铺满减、优惠券会在结算时再减）～",
        each.join(" + ")
    ))
}

/// Whether `norm` asks what things cost ("一共多少", "多少钱").
pub fn asks_price(norm: &str) -> bool {
    PRICE_WORDS.iter().any(|w| norm.contains(w)) || norm.contains("一共多少")
}

/// Names shops give the note on when a sold-out product is back (到货时间 is usually
/// how long delivery takes: "江浙沪皖次日达").
const RESTOCK_NAMES: &[&str] = &["补货", "补货时间", "缺货说明", "预计到货", "上新时间"];

/// The shop's note on when a sold-out product is back ("预计12月15日左右补货").
fn restock_note(p: &Product) -> Option<&String> {
    attribute_like(p, RESTOCK_NAMES).and_then(|k| p.attributes.get(k))
}

/// Added to an answer about a sold-out product that does not speak of its stock ("功率
/// 多大" asked from another page): that it is sold out, and when it is back if the shop
/// says so.
pub fn sold_out_note(p: &Product, ask: &Ask) -> Option<String> {
    let told = matches!(
        ask,
        Ask::Stock | Ask::Offers { .. } | Ask::Summary | Ask::Related | Ask::Price
    );
    if told || p.stock != Some(0) {
        return None;
    }
    Some(match restock_note(p) {
        Some(note) => format!("（这款目前暂时缺货：{note}）"),
        None => "（这款目前暂时缺货）".to_string(),
    })
}

/// The stock in a few words ("有现货", "暂时缺货"), when it is on record.
fn stock_note(p: &Product) -> Option<&'static str> {
    p.stock.map(|n| if n == 0 { "暂时缺货" } else { "有现货" })
}

/// A message asking whether the shop sells a thing ("你家有玻璃杯吗", "卖不卖茶杯",
/// "有没有卖数据线的"), with the thing as the first group.
static SOUGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|你家|你们家|你们|店里|贵店|你这里|你这|你们店)(?:还)?(?:有没有|有木有|有卖|卖不卖|有|卖)(?:卖)?(\p{Han}{2,8}?)(?:卖|在卖|出售)?(?:的)?(?:吗|嘛|么|没|不|呀|啊|呢)?$",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Words about the shop's goods in general, never a thing it may not sell ("有现货吗",
/// "有同款吗").
const GENERAL_GOODS: &[&str] = &[
    "货", "款", "库存", "链接", "优惠", "券", "活动", "赠品", "小样", "礼品", "发票", "质保",
    "售后", "客服", "人工", "图", "视频", "尺码", "码", "颜色", "色", "号", "型号", "规格", "包装",
    "商品", "东西", "产品", "宝贝",
];

/// Words saying a thing comes with a product ("每饼送一把茶针", "配礼袋").
const COMES_WITH: &[char] = &['送', '赠', '配', '含', '附', '带'];

/// What a message asking the shop for a thing finds (see [`sought`]).
pub enum Sought<'a> {
    /// No product is the thing, nor comes with it.
    NotSold(&'a str),
    /// A product whose attribute says the thing comes with it ("有茶针吗": 附赠=每饼送一把
    /// 不锈钢茶针), with the thing; or whose attribute is named by it, without.
    With(&'a Product, &'a String, Option<&'a str>),
}

/// The thing a message asks the shop for, when no product is it ("你家有玻璃杯吗" in a
/// tea shop whose 冲泡方法 only mentions glass cups): the last clause asks whether the
/// shop sells it, the analyzer reads it as a thing, and no product's name, alias or
/// attribute name holds it (an attribute named by it answers: "有白牡丹吗" with 白牡丹=店里
/// 没有单独上架…). A clause of an attribute naming it as a whole word after
/// 送, 赠, 配 … says it comes with that product ("含咖啡因" names no 咖啡). On a product's
/// page the shop must be asked ("你家有…", "卖不卖…"): a bare "有吸管吗" there asks
/// whether the product comes with one, and a thing the page's record speaks of is left
/// to it.
pub fn sought<'a>(
    norm: &'a str,
    products: impl Iterator<Item = &'a Product>,
    viewed: Option<&Product>,
    analyzer: &super::tokenize::Analyzer,
) -> Option<Sought<'a>> {
    // The last clause asking it ("有没有气垫 我更想要气垫").
    let (last, thing) = norm.rsplit(' ').find_map(|clause| {
        let thing = SOUGHT.captures(clause)?.get(1)?.as_str();
        Some((clause, thing))
    })?;
    let shop_asked = ["你", "店", "卖"].iter().any(|w| last.contains(w));
    // "你们有浓香的吗" on the page of a tea whose 香型 says 清香型（不是浓香）: a kind
    // of the product in view ("…的吗"), which its record answers; "你家有玻璃杯吗" asks
    // for a thing, whatever the record says of glass cups.
    let kind = !last.contains('卖')
        && last
            .trim_end_matches(['吗', '嘛', '么', '没', '不', '呀', '啊', '呢'])
            .ends_with('的');
    let in_view = kind && viewed.is_some_and(|v| v.attributes.values().any(|a| a.contains(thing)));
    if (viewed.is_some() && !shop_asked)
        || in_view
        || GENERAL_GOODS.iter().any(|w| thing.contains(w))
        || !analyzer.names_thing(thing)
    {
        return None;
    }
    let comes_with = |clause: &str| {
        clause.find(thing).is_some_and(|at| {
            clause[..at].contains(COMES_WITH)
                && !analyzer
                    .cut(clause)
                    .iter()
                    .any(|w| w.len() > thing.len() && w.contains(thing))
        })
    };
    // By SKU, so the same message finds the same product.
    let mut products: Vec<&Product> = products.collect();
    products.sort_by(|a, b| a.sku.cmp(&b.sku));
    // "有白牡丹吗" with 白牡丹=店里没有单独上架白牡丹…: the shop's own note, when one
    // product has it.
    let noted: Vec<(&Product, &String)> = products
        .iter()
        .filter_map(|p| Some((*p, p.attributes.get_key_value(thing)?.0)))
        .collect();
    match noted.as_slice() {
        [(p, name)] => return Some(Sought::With(p, name, None)),
        [] => {}
        _ => return None,
    }
    for p in &products {
        if p.names().any(|n| n.to_lowercase().contains(thing))
            || p.attributes.keys().any(|name| name.contains(thing))
        {
            return None;
        }
        let with = p
            .attributes
            .iter()
            .find(|(_, value)| super::place::clauses(value).any(&comes_with));
        if let Some((name, _)) = with {
            return Some(Sought::With(p, name, Some(thing)));
        }
    }
    (!products.is_empty()).then_some(Sought::NotSold(thing))
}

/// The answer to a thing the shop does not sell (see [`sought`]): what it has instead,
/// by each product's first alias (the buyers' word) or name.
pub fn not_sold(thing: &str, products: &[&Product]) -> String {
    let names: Vec<&str> = products
        .iter()
        .map(|p| p.aliases.first().unwrap_or(&p.name).as_str())
        .collect();
    format!(
        "亲，小店暂时没有{thing}哦～目前在售的有：{}，想了解哪一款可以直接问我～",
        names.join("、")
    )
}

/// What the shop has of several products named at once: each with its price and stock.
pub fn listing(products: &[&Product]) -> String {
    let each: Vec<String> = products
        .iter()
        .map(|p| {
            let price = p.pay_price().map(|f| format!("到手价 ¥{f}"));
            let facts: Vec<String> = price
                .into_iter()
                .chain(stock_note(p).map(String::from))
                .collect();
            if facts.is_empty() {
                p.name.clone()
            } else {
                format!("{}（{}）", p.name, facts.join("，"))
            }
        })
        .collect();
    format!(
        "亲，店里有：{}，想了解哪一款可以直接问我哦～",
        each.join("；")
    )
}

/// The product a message names (by name or alias), if any: the longest name, then the
/// one named first ("你家沙发 床垫 甲醛都多少"), then the lowest SKU, so the same message
/// always names the same product. A kind ("裙子", see [`kind_at`]) names one too,
/// below any name.
pub fn mentioned<'a>(
    norm: &str,
    products: impl Iterator<Item = &'a Product>,
    in_view: Option<&Product>,
) -> Option<&'a Product> {
    let mut best: Option<(&Product, (usize, std::cmp::Reverse<usize>))> = None;
    for p in products {
        let names = p
            .names()
            .map(|n| (n.to_lowercase(), n.chars().count()))
            .filter(|&(_, len)| len >= 2);
        let names = names.filter_map(|(n, len)| Some((norm.find(&n)?, len)));
        let kind = kind_at(norm, p, in_view).map(|(at, _)| (at, 1));
        for (at, len) in names.chain(kind) {
            let rank = (len, std::cmp::Reverse(at));
            let better = match best {
                None => true,
                Some((b, r)) => rank > r || (rank == r && p.sku < b.sku),
            };
            if better {
                best = Some((p, rank));
            }
        }
    }
    best.map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Price;

    fn tee() -> Product {
        let mut p = Product::new("T1", "纯棉T恤");
        p.aliases = vec!["白T".into()];
        p.price = Some(Price(9900));
        p.final_price = Some(Price(7990));
        p.stock = Some(12);
        p.attributes.insert("材质".into(), "100%棉".into());
        p.attributes.insert("重量".into(), "200克".into());
        p.attributes.insert("适用季节".into(), "春夏".into());
        p.related = vec!["K1".into()];
        p
    }

    fn jerky() -> Product {
        let mut p = Product::new("FD-02", "手工牛肉干");
        p.attributes.insert(
            "配料".into(),
            "牛肉、白砂糖、食用盐、花生油、谷氨酸钠".into(),
        );
        p.attributes
            .insert("口味".into(), "原味/麻辣/花生味".into());
        p
    }

    #[test]
    fn whether_it_contains_something_is_answered_from_the_ingredients() {
        let p = jerky();
        let asked = |text: &str| ask(text, &p);
        let contains = |asked: &str, found: Option<&str>, allergy: bool| Ask::Contains {
            attribute: "配料".into(),
            asked: asked.into(),
            found: found.map(Into::into),
            allergy,
        };
        assert_eq!(
            asked("有花生吗 我过敏"),
            Some(contains("花生", Some("花生"), true))
        );
        assert_eq!(asked("含糖吗"), Some(contains("糖", Some("白砂糖"), false)));
        // 谷氨酸钠 is no grain; "无" in the question still asks.
        assert_eq!(asked("是无谷的吗"), Some(contains("谷", None, false)));
        assert_eq!(asked("有鸡蛋吗"), Some(contains("鸡蛋", None, false)));
        // A flavour, not an ingredient.
        assert_eq!(asked("有花生味的吗"), Some(Ask::Attribute("口味".into())));
        assert_eq!(
            answer(&contains("花生", Some("花生"), true), &p, &[]),
            "亲，手工牛肉干的配料里有花生哦（配料：牛肉、白砂糖、食用盐、花生油、谷氨酸钠），对花生过敏的话不建议购买～"
        );
        assert_eq!(
            answer(&contains("鸡蛋", None, true), &p, &[]),
            "亲，手工牛肉干的配料里没有鸡蛋哦（配料：牛肉、白砂糖、食用盐、花生油、谷氨酸钠），过敏体质请以包装上的过敏原提示为准～"
        );
        // A list that says it is free of it, and one word standing for another.
        let mut food = Product::new("CAT-01", "无谷猫粮");
        food.attributes
            .insert("原料组成".into(), "无谷配方；鲜鸡肉、三文鱼、鸡油".into());
        assert_eq!(
            ask("含谷物吗", &food),
            Some(Ask::Contains {
                attribute: "原料组成".into(),
                asked: "谷物".into(),
                found: None,
                allergy: false
            })
        );
        assert!(
            matches!(ask("有鱼吗", &food), Some(Ask::Contains { found: Some(f), .. }) if f == "三文鱼")
        );
        // A word that is not a group's first stands for itself.
        assert!(matches!(
            ask("有鸡胸吗", &food),
            Some(Ask::Contains { found: None, .. })
        ));
        // No ingredient list: nothing to answer from, and carried, the page tells.
        assert_eq!(contains_asked("有花生吗", &tee()), None);
        assert_eq!(
            carried_ask("#contains:花生", "那t恤呢", &tee()),
            Some(Ask::Attribute("配料".into()))
        );
        // Carried to another product ("那猫粮呢").
        let kind = carried(&contains("花生", Some("花生"), false)).unwrap_or_default();
        assert_eq!(
            carried_ask(&kind, "那猫粮呢", &food),
            Some(Ask::Contains {
                attribute: "原料组成".into(),
                asked: "花生".into(),
                found: None,
                allergy: false
            })
        );
    }

    fn fountain() -> Product {
        let mut p = Product::new("PET-05", "宠物饮水机");
        p.price = Some(Price(15900));
        p.final_price = Some(Price(11900));
        p.stock = Some(150);
        for (k, v) in [
            ("容量", "2.5L"),
            ("噪音", "≤30分贝"),
            ("滤芯更换", "建议每月更换一次"),
            ("清洗", "建议每周清洗一次"),
            ("适用", "猫狗通用"),
            ("电源", "USB 5V供电"),
            ("安装", "免安装，插上即用"),
            (
                "喂水建议",
                "一个超长的说明文字，超过了摘要里能显示的三十个字符的长度限制哦",
            ),
        ] {
            p.attributes.insert(k.into(), v.into());
        }
        p
    }

    #[test]
    fn attributes_named_as_shops_name_them_are_found() {
        let p = fountain();
        for (q, key) in [
            // The name itself wins over 多大 (容量).
            ("噪音多大", "噪音"),
            ("声音大吗", "噪音"),
            ("多大", "容量"),
            // A key holding the group's name.
            ("滤芯多久换", "滤芯更换"),
            ("多久清洗一次", "清洗"),
            ("要自己装吗", "安装"),
            ("狗能用吗", "适用"),
            ("插电的还是usb的", "电源"),
        ] {
            assert_eq!(ask(q, &p), Some(Ask::Attribute(key.into())), "{q}");
        }
        let mut leash = Product::new("PET-04", "牵引绳");
        leash.attributes.insert("牵引绳长度".into(), "1.2米".into());
        assert_eq!(
            ask("多长", &leash),
            Some(Ask::Attribute("牵引绳长度".into()))
        );
        // Two things asked, in the order asked.
        let mut fountain2 = fountain();
        fountain2.attributes.insert("功率".into(), "2W".into());
        let both = ask("插电的还是usb的 费电吗", &fountain2).unwrap_or(Ask::Stock);
        assert_eq!(both, Ask::Attributes("电源".into(), "功率".into()));
        assert_eq!(
            answer(&both, &fountain2, &[]),
            "亲，宠物饮水机的电源是：USB 5V供电；功率是：2W"
        );
        // One word asking for two attributes is one question.
        assert_eq!(ask("多大", &fountain2), Some(Ask::Attribute("容量".into())));
        // How long it takes is no length.
        assert_eq!(ask("发货要多长时间", &leash), None);
        // Washing instructions on record beat the general care entry.
        assert!(is_specific(&Ask::Attribute("清洗".into())));
        assert!(!is_specific(&Ask::Attribute("噪音".into())));
    }

    #[test]
    fn outdoor_and_kitchen_questions_find_their_attribute() {
        let mut tent = Product::new("SP-03", "帐篷");
        for (k, v) in [
            ("适用人数", "3-4人"),
            ("收纳尺寸", "直径约85cm"),
            ("重量", "约4.2kg"),
            ("搭建方式", "全自动弹开"),
        ] {
            tent.attributes.insert(k.into(), v.into());
        }
        assert_eq!(
            ask("4个人睡得下吗", &tent),
            Some(Ask::Attribute("适用人数".into()))
        );
        // A loose word (多大, 一个人) beside a sure one is part of its question.
        assert_eq!(
            ask("收起来多大 重不重", &tent),
            Some(Ask::Attributes("收纳尺寸".into(), "重量".into()))
        );
        assert_eq!(
            ask("搭起来麻烦吗 一个人能弄不", &tent),
            Some(Ask::Attribute("搭建方式".into()))
        );
        assert!(is_specific(&Ask::Attribute("搭建方式".into())));
        let mut band = Product::new("SP-04", "手环");
        band.attributes
            .insert("兼容系统".into(), "安卓8.0及以上、iOS 12.0及以上".into());
        band.attributes.insert("功能".into(), "心率、血氧".into());
        // A system requirement is no list of models to check iphone8 against.
        assert_eq!(
            ask("iphone8能用吗", &band),
            Some(Ask::Attribute("兼容系统".into()))
        );
        assert_eq!(
            ask("能测血压吗", &band),
            Some(Ask::Attribute("功能".into()))
        );
        // Its own shipping promise and warranty beat the shop's general answers.
        band.attributes
            .insert("发货".into(), "24小时内发货，默认顺丰".into());
        band.attributes.insert("保修".into(), "整机一年质保".into());
        assert_eq!(
            ask("今天拍今天发吗", &band),
            Some(Ask::Attribute("发货".into()))
        );
        assert_eq!(
            ask("坏了去哪修", &band),
            Some(Ask::Attribute("保修".into()))
        );
        assert!(is_specific(&Ask::Attribute("发货".into())));
        assert!(is_specific(&Ask::Attribute("保修".into())));
        let mut knives = Product::new("KT-02", "刀具套装");
        knives
            .attributes
            .insert("件数".into(), "6件套，另含刀座".into());
        knives
            .attributes
            .insert("刀身厚度".into(), "斩骨刀3.5mm".into());
        knives.attributes.insert("清洗方式".into(), "手洗".into());
        assert_eq!(
            ask("有刀架吗", &knives),
            Some(Ask::Attribute("件数".into()))
        );
        assert_eq!(
            ask("多厚", &knives),
            Some(Ask::Attribute("刀身厚度".into()))
        );
        assert_eq!(
            ask("能放洗碗机吗", &knives),
            Some(Ask::Attribute("清洗方式".into()))
        );
        assert!(is_specific(&Ask::Attribute("清洗方式".into())));
        let mut bottle = Product::new("SP-06", "水杯");
        bottle.attributes.insert("容量".into(), "1000ml".into());
        bottle.attributes.insert("耐温".into(), "-10~96℃".into());
        assert_eq!(
            ask("能装开水吗", &bottle),
            Some(Ask::Attribute("耐温".into()))
        );
        assert_eq!(
            ask("能装多少", &bottle),
            Some(Ask::Attribute("容量".into()))
        );
        // Shoes: the size for a foot length, and the fit from the size advice.
        let mut shoe = Product::new("SP-01", "跑鞋");
        shoe.attributes.insert(
            "尺码建议".into(),
            "标准码，按脚长选：25cm穿40，25.5cm穿41，26cm穿42".into(),
        );
        assert_eq!(
            ask(&crate::bot::normalize::normalize("脚长25.5穿多大"), &shoe),
            Some(Ask::SizeAdvice {
                attribute: "尺码建议".into(),
                size: Some("41".into()),
                by: "脚长"
            })
        );
        assert_eq!(
            ask("41码偏大还是偏小", &shoe),
            Some(Ask::Attribute("尺码建议".into()))
        );
    }

    #[test]
    fn a_weight_picks_its_part_of_the_value() {
        let mut food = Product::new("PET-01", "成猫粮");
        food.attributes.insert(
            "喂食建议".into(),
            "3kg猫每天约45g；4kg猫每天约55g；6kg以上每天约75g".into(),
        );
        let weighed = |q: &str| ask(q, &food);
        assert_eq!(
            weighed("我家猫8斤 一天喂多少"),
            Some(Ask::ForWeight {
                attribute: "喂食建议".into(),
                jin: 8,
                part: "4kg猫每天约55g".into()
            })
        );
        assert!(
            matches!(weighed("15斤的猫吃多少"), Some(Ask::ForWeight { part, .. }) if part == "6kg以上每天约75g")
        );
        // No part for 10斤 (5 kg is 1 kg from the nearest point): the whole value.
        assert_eq!(
            weighed("10斤吃多少"),
            Some(Ask::Attribute("喂食建议".into()))
        );
        assert_eq!(
            answer(&weighed("一天喂多少 8斤").unwrap_or(Ask::Stock), &food, &[]),
            "亲，按8斤（4kg）算，成猫粮的喂食建议：4kg猫每天约55g哦～"
        );
        // "那12斤呢" carries the attribute and takes the new weight.
        assert!(matches!(
            carried_ask("喂食建议", "那12斤呢", &food),
            Some(Ask::ForWeight { part, .. }) if part == "6kg以上每天约75g"
        ));
        // Size advice by kilogram ranges names the size chosen.
        let mut harness = Product::new("PET-04", "胸背带");
        harness.attributes.insert(
            "尺码建议".into(),
            "小型犬2-5kg选S（胸围30-40cm）；中型犬5-12kg选M；中大型犬12-25kg选L".into(),
        );
        assert!(matches!(
            ask("金毛30斤穿什么码", &harness),
            Some(Ask::SizeAdvice { size: Some(s), .. }) if s == "L"
        ));
        assert!(matches!(
            ask("柯基20斤选哪个码", &harness),
            Some(Ask::SizeAdvice { size: Some(s), .. }) if s == "M"
        ));
    }

    #[test]
    fn a_number_of_items_is_priced_together() {
        let p = fountain();
        assert_eq!(ask("买3个多少钱", &p), Some(Ask::PriceOf(3)));
        assert_eq!(ask("一对多少钱", &p), Some(Ask::PriceOf(2)));
        assert_eq!(ask("一个多少钱", &p), Some(Ask::Price));
        assert_eq!(ask("6件套多少钱", &p), Some(Ask::Price));
        assert_eq!(
            answer(&Ask::PriceOf(3), &p, &[]),
            "亲，宠物饮水机到手价 ¥119/件，3件共 ¥357，以下单页显示为准哦（店铺满减、优惠券会在结算时再减）～"
        );
        assert_eq!(carried_ask("#price", "那两个呢", &p), Some(Ask::PriceOf(2)));
    }

    #[test]
    fn naming_the_product_alone_gets_a_summary() {
        let mut p = fountain();
        p.aliases = vec!["饮水机".into()];
        for q in [
            "饮水机",
            "那饮水机呢",
            "看看饮水机",
            "饮水机有吗",
            "你家有饮水机吗",
            "有卖饮水机吗",
        ] {
            assert_eq!(ask(q, &p), Some(Ask::Summary), "{q}");
        }
        assert_eq!(ask("饮水机还有吗", &p), Some(Ask::Stock));
        // The name twice is still only the name.
        assert_eq!(ask("饮水机呢 你们家有饮水机没", &p), Some(Ask::Summary));
        assert_eq!(ask("饮水机多少钱", &p), Some(Ask::Price));
        // Long values are left to their own question.
        assert_eq!(
            answer(&Ask::Summary, &p, &[]),
            "亲，宠物饮水机：到手价 ¥119（原价 ¥159），有现货。容量：2.5L；噪音：≤30分贝；滤芯更换：建议每月更换一次～想了解哪方面可以直接问我哦"
        );
        p.stock = Some(0);
        assert!(answer(&Ask::Summary, &p, &[]).contains("暂时缺货"));
    }

    #[test]
    fn attribute_questions_are_answered_from_the_record() {
        let p = tee();
        assert_eq!(ask("这个多重", &p), Some(Ask::Attribute("重量".into())));
        assert_eq!(ask("什么材质的", &p), Some(Ask::Attribute("材质".into())));
        assert_eq!(ask("有货吗", &p), Some(Ask::Stock));
        assert_eq!(ask("多少钱", &p), Some(Ask::Price));
        assert_eq!(
            ask("适用季节是", &p),
            Some(Ask::Attribute("适用季节".into()))
        );
        assert_eq!(
            ask("什么颜色", &p),
            None,
            "no colour recorded: leave it to the KB"
        );
        assert_eq!(ask("我想问一下这个衣服洗了以后会不会缩水变形呢", &p), None);
        assert_eq!(
            answer(&Ask::Price, &p, &[]),
            "亲，纯棉T恤的到手价是 ¥79.9（原价 ¥99），以下单页显示为准哦～"
        );
        assert_eq!(
            answer(&Ask::Attribute("重量".into()), &p, &[]),
            "亲，纯棉T恤的重量是：200克"
        );
        let mut sold_out = p.clone();
        sold_out.stock = Some(0);
        assert!(answer(&Ask::Stock, &sold_out, &[]).contains("缺货"));
        assert!(
            answer(&Ask::Price, &sold_out, &[])
                .contains("¥79.9（原价 ¥99），以下单页显示为准哦～不过现在暂时缺货")
        );
        let k = Product::new("K1", "休闲裤");
        assert!(answer(&Ask::Related, &p, &[&k]).contains("休闲裤"));
        assert_eq!(
            answer(&Ask::Related, &p, &[]),
            "亲，纯棉T恤暂时没有搭配推荐哦，可以看看店铺首页的热销商品～"
        );
    }

    #[test]
    fn a_colour_is_answered_from_the_colours_recorded() {
        let mut cup = Product::new("CUP-01", "陶瓷马克杯");
        cup.attributes.insert("颜色".into(), "白/粉/酒红".into());
        for (q, said) in [
            ("有粉色吗", "亲，陶瓷马克杯有粉色哦～ 现有颜色：白/粉/酒红"),
            (
                "这个有红色的吗",
                "亲，陶瓷马克杯有红色哦～ 现有颜色：白/粉/酒红",
            ),
            (
                "有蓝色吗",
                "亲，陶瓷马克杯暂时没有蓝色哦，现有颜色：白/粉/酒红",
            ),
        ] {
            let a = ask(q, &cup).unwrap_or_else(|| panic!("{q}"));
            assert_eq!(answer(&a, &cup, &[]), said, "{q}");
            assert!(only_asks(q, &cup), "{q}");
        }
        assert_eq!(ask("有几种颜色", &cup), Some(Ask::Attribute("颜色".into())));
        assert_eq!(
            ask("什么色的好看", &cup),
            Some(Ask::Attribute("颜色".into()))
        );
        // Without colours on record, the KB answers.
        assert_eq!(ask("有粉色吗", &tee()), None);
    }

    #[test]
    fn a_size_is_answered_from_the_sizes_recorded() {
        let mut shoe = Product::new("SH-01", "帆布鞋");
        shoe.attributes.insert("尺码".into(), "35-40".into());
        let mut tee = Product::new("T-01", "卫衣");
        tee.attributes.insert("尺码".into(), "S/M/L/XL".into());
        let mut loose = Product::new("D-01", "连衣裙");
        loose
            .attributes
            .insert("尺码".into(), "均码，适合90-130斤".into());
        for (q, p, said) in [
            ("有38码吗", &shoe, "亲，帆布鞋有38码哦～ 现有尺码：35-40"),
            (
                "41码有吗",
                &shoe,
                "亲，帆布鞋暂时没有41码哦，现有尺码：35-40",
            ),
            (
                "有没有36.5码",
                &shoe,
                "亲，帆布鞋有36.5码哦～ 现有尺码：35-40",
            ),
            ("有XL吗", &tee, "亲，卫衣有XL哦～ 现有尺码：S/M/L/XL"),
            (
                "xxl码还有吗",
                &tee,
                "亲，卫衣暂时没有XXL哦，现有尺码：S/M/L/XL",
            ),
            (
                "有2xl的吗",
                &tee,
                "亲，卫衣暂时没有2XL哦，现有尺码：S/M/L/XL",
            ),
            ("有m码吗", &tee, "亲，卫衣有M哦～ 现有尺码：S/M/L/XL"),
            (
                "有41.5码吗",
                &shoe,
                "亲，帆布鞋暂时没有41.5码哦，现有尺码：35-40",
            ),
            (
                "我穿39的有吗",
                &shoe,
                "亲，帆布鞋有39码哦～ 现有尺码：35-40",
            ),
            // A record that is not a plain list is shown, not judged.
            ("有L码吗", &loose, "亲，连衣裙的尺码是：均码，适合90-130斤"),
        ] {
            let q = q.to_lowercase();
            let a = ask(&q, p).unwrap_or_else(|| panic!("{q}"));
            assert_eq!(answer(&a, p, &[]), said, "{q}");
            assert!(only_asks(&q, p), "{q}");
        }
        let mut sold_out = tee.clone();
        sold_out.stock = Some(0);
        let a = ask("有xl吗", &sold_out).unwrap_or_else(|| panic!("xl"));
        let said = answer(&a, &sold_out, &[]);
        assert!(said.contains("缺货") && !said.contains("现有"), "{said}");
        // A colour beside the size: both are answered.
        let mut jeans = Product::new("NZ-02", "牛仔裤");
        jeans.attributes.insert("尺码".into(), "25 26 27 28".into());
        jeans
            .attributes
            .insert("颜色".into(), "深蓝、浅蓝、黑色".into());
        for (q, said) in [
            (
                "浅蓝色27码有吗",
                "亲，牛仔裤有浅蓝色27码哦～ 现有颜色：深蓝、浅蓝、黑色；尺码：25 26 27 28",
            ),
            (
                "黑色30码有货吗",
                "亲，牛仔裤暂时没有30码哦，现有颜色：深蓝、浅蓝、黑色；尺码：25 26 27 28",
            ),
            (
                "有白色的26码吗",
                "亲，牛仔裤暂时没有白色哦，现有颜色：深蓝、浅蓝、黑色；尺码：25 26 27 28",
            ),
            (
                "白色l码还有吗",
                "亲，牛仔裤暂时没有白色和L哦，现有颜色：深蓝、浅蓝、黑色；尺码：25 26 27 28",
            ),
            // The shade recorded, not the colour inside it.
            (
                "有浅蓝色吗",
                "亲，牛仔裤有浅蓝色哦～ 现有颜色：深蓝、浅蓝、黑色",
            ),
        ] {
            let a = ask(q, &jeans).unwrap_or_else(|| panic!("{q}"));
            assert_eq!(answer(&a, &jeans, &[]), said, "{q}");
        }
        // Letter ranges are read in order.
        assert_eq!(offers_size("S-XXL", "2xl码"), Some(true));
        assert_eq!(offers_size("S-XL", "xxl"), Some(false));
        assert_eq!(offers_size("36 37 38", "37码"), Some(true));
        // About the fit, not whether there is one; millilitres are no size.
        assert_eq!(ask("41码偏大吗", &shoe), None);
        assert_eq!(size_asked("有500ml的吗"), None);
        // Without sizes on record, the KB answers.
        assert_eq!(ask("有41码吗", &Product::new("X", "杯子")), None);
    }

    #[test]
    fn a_size_question_is_asked_again_of_another_size() {
        let mut shoe = Product::new("SH-01", "帆布鞋");
        shoe.attributes.insert("尺码".into(), "39-44".into());
        let first = ask("有44码吗", &shoe).unwrap_or_else(|| panic!("44"));
        let kind = carried(&first).unwrap_or_else(|| panic!("carried"));
        for (q, said) in [
            ("那45呢", "亲，帆布鞋暂时没有45码哦，现有尺码：39-44"),
            ("40的呢", "亲，帆布鞋有40码哦～ 现有尺码：39-44"),
            ("那39码呢", "亲，帆布鞋有39码哦～ 现有尺码：39-44"),
            ("那36 5呢", "亲，帆布鞋暂时没有36.5码哦，现有尺码：39-44"),
        ] {
            let a = carried_ask(&kind, q, &shoe).unwrap_or_else(|| panic!("{q}"));
            assert_eq!(answer(&a, &shoe, &[]), said, "{q}");
        }
        let mut tee = Product::new("T-01", "卫衣");
        tee.attributes.insert("尺码".into(), "S/M/L".into());
        let a = carried_ask(&kind, "那xl呢", &tee).unwrap_or_else(|| panic!("xl"));
        assert_eq!(
            answer(&a, &tee, &[]),
            "亲，卫衣暂时没有XL哦，现有尺码：S/M/L"
        );
        // Not a size: nothing to ask again; a colour is not carried.
        assert_eq!(carried_ask(&kind, "那鞋子呢", &shoe), None);
        assert_eq!(carried_ask(&kind, "那1000呢", &shoe), None);
        let mut cup = Product::new("CUP-01", "马克杯");
        cup.attributes.insert("颜色".into(), "白/粉".into());
        let pink = ask("有粉色吗", &cup).unwrap_or_else(|| panic!("pink"));
        assert_eq!(carried(&pink), None);
    }

    #[test]
    fn a_babys_age_finds_its_size_in_the_advice() {
        let mut suit = Product::new("BB-01", "婴儿连体衣");
        suit.attributes
            .insert("尺码".into(), "59/66/73/80/90".into());
        let advice = "59:0-3个月 66:3-6个月 73:6-12个月 80:1-1.5岁 90:1.5-2岁";
        suit.attributes.insert("尺码建议".into(), advice.into());
        let advised = |q: &str| match ask(q, &suit) {
            Some(Ask::SizeAdvice { size, by, .. }) => (size, by),
            other => panic!("{q}: {other:?}"),
        };
        assert_eq!(advised("宝宝4个月穿多大码"), (Some("66".into()), "月龄"));
        assert_eq!(advised("五个月穿哪个"), (Some("66".into()), "月龄"));
        assert_eq!(advised("2岁穿哪个"), (Some("90".into()), "月龄"));
        assert_eq!(advised("一岁半穿哪个码"), (Some("80".into()), "月龄"));
        assert_eq!(advised("三岁穿哪个"), (None, "月龄"));
        let first = ask("宝宝4个月穿多大码", &suit).unwrap_or_else(|| panic!("4"));
        assert_eq!(
            answer(&first, &suit, &[]),
            format!("亲，按宝宝的月龄，婴儿连体衣建议选 66 哦～（尺码建议：{advice}）")
        );
        // "那7个月呢" asks again for another age.
        let kind = carried(&first).unwrap_or_else(|| panic!("carried"));
        let again = carried_ask(&kind, "那7个月呢", &suit);
        assert!(
            matches!(&again, Some(Ask::SizeAdvice { size: Some(s), .. }) if s == "73"),
            "{again:?}"
        );
        assert_eq!(carried_ask(&kind, "那蓝色呢", &suit), None);
        assert_eq!(chinese_number("十一"), Some(11.0));
        assert_eq!(chinese_number("一百三十"), Some(130.0));
        assert_eq!(chinese_number("一百三"), Some(130.0));
        assert_eq!(chinese_number("一百零五"), Some(105.0));
        assert_eq!(chinese_number("两百"), Some(200.0));
        assert_eq!(weight_jin("我一百三十斤穿什么码"), Some(130));
        assert_eq!(chinese_number("两"), Some(2.0));
    }

    #[test]
    fn everyday_product_questions_find_their_attribute() {
        let mut suit = Product::new("BB-01", "婴儿连体衣");
        suit.stock = Some(0);
        suit.price = Some(crate::model::Price(6900));
        suit.attributes
            .insert("颜色".into(), "奶白/浅粉/雾蓝".into());
        suit.attributes.insert("适用季节".into(), "春秋".into());
        for q in ["有没有粉的", "有粉的吗"] {
            assert_eq!(
                ask(q, &suit),
                Some(Ask::Offers {
                    attribute: "颜色".into(),
                    value: "粉色".into(),
                    colour: None,
                }),
                "{q}"
            );
            assert!(only_asks(q, &suit), "{q}");
        }
        assert_eq!(
            ask("有没有米的", &suit),
            None,
            "米 is no colour of this product"
        );
        for q in ["冬天能穿吗", "秋天穿合适吗"] {
            assert_eq!(
                ask(q, &suit),
                Some(Ask::Attribute("适用季节".into())),
                "{q}"
            );
        }
        assert_eq!(ask("这个怎么卖", &suit), Some(Ask::Price));
        assert_eq!(ask("怎么下不了单啊", &suit), Some(Ask::Stock));
        suit.stock = Some(3);
        assert_eq!(
            ask("怎么下不了单啊", &suit),
            None,
            "in stock: not the stock"
        );
        let mut cooker = Product::new("HA-01", "迷你电饭煲");
        cooker
            .attributes
            .insert("容量".into(), "1.6L，适合1-3人".into());
        cooker.attributes.insert("功率".into(), "400W".into());
        cooker
            .attributes
            .insert("续航".into(), "充满电可榨15杯".into());
        cooker.attributes.insert("颜色".into(), "白/粉".into());
        for (q, key) in [
            ("一个人用够吗", "容量"),
            ("几个人用的", "容量"),
            ("多大的", "容量"),
            ("这个多少瓦", "功率"),
            ("宿舍限电能用吗", "功率"),
            ("充一次电能用几次", "续航"),
            ("续航多久", "续航"),
        ] {
            assert_eq!(ask(q, &cooker), Some(Ask::Attribute(key.into())), "{q}");
        }
        assert!(only_asks("还有别的颜色吗", &cooker));
        assert!(only_asks("充一次电能用几次", &cooker));
        let mut nuts = Product::new("FD-01", "每日坚果");
        nuts.attributes
            .insert("配料".into(), "腰果/巴旦木/榛子".into());
        nuts.attributes
            .insert("生产日期".into(), "2026年10月".into());
        nuts.attributes
            .insert("净含量".into(), "750g（30袋）".into());
        for (q, key) in [
            ("里面有什么", "配料"),
            ("有没有添加剂", "配料"),
            ("多大一包", "净含量"),
        ] {
            assert_eq!(ask(q, &nuts), Some(Ask::Attribute(key.into())), "{q}");
        }
        assert!(only_asks("生产日期是啥时候的", &nuts));
        assert_eq!(
            ask("收到了 有一袋胀袋了", &nuts),
            None,
            "a statement, no question"
        );
        nuts.attributes.insert("规格".into(), "30袋/箱".into());
        assert_eq!(
            ask("一箱多少袋", &nuts),
            Some(Ask::Attribute("规格".into()))
        );
        assert_eq!(ask("那给我补发一箱新的", &nuts), None);
        let mut jerky = Product::new("FD-02", "手工牛肉干");
        jerky.aliases = vec!["牛肉干".into()];
        jerky
            .attributes
            .insert("口味".into(), "原味/麻辣/五香".into());
        for q in ["牛肉干有辣的吗", "辣不辣", "有什么口味"] {
            assert_eq!(ask(q, &jerky), Some(Ask::Attribute("口味".into())), "{q}");
        }
        assert_eq!(
            without_name("手工牛肉干多少钱", &jerky).as_deref(),
            Some("多少钱")
        );
        let mut bag = Product::new("SC-01", "书包");
        bag.attributes
            .insert("材质".into(), "尼龙防泼水面料".into());
        assert_eq!(ask("防水吗", &bag), Some(Ask::Attribute("材质".into())));
        assert!(
            !only_asks("防水吗", &bag),
            "a loose match is not the whole question"
        );
        assert_eq!(ask("包邮吗", &bag), None);
        let mut shoe = Product::new("SH-01", "跑鞋");
        shoe.attributes.insert("尺码".into(), "39-45".into());
        shoe.attributes
            .insert("版型".into(), "偏小半码，建议拍大一码".into());
        let fit = ask("平时穿42拍多大", &shoe);
        assert_eq!(fit, Some(Ask::Attribute("版型".into())));
        assert!(
            fit.as_ref().is_some_and(is_specific),
            "the fit beats the size entry"
        );
    }

    #[test]
    fn the_fit_and_whom_it_suits_are_answered_from_their_attributes() {
        let mut tee = Product::new("T-01", "卫衣");
        tee.attributes.insert("尺码".into(), "S/M/L".into());
        tee.attributes
            .insert("版型".into(), "宽松版，偏大一码".into());
        for q in ["偏码吗", "这个偏大还是偏小", "是正码吗"] {
            assert_eq!(ask(q, &tee), Some(Ask::Attribute("版型".into())), "{q}");
            assert!(only_asks(q, &tee), "{q}");
        }
        let mut bag = Product::new("BAG-01", "儿童书包");
        bag.attributes.insert("适用年级".into(), "1-3年级".into());
        assert_eq!(
            ask("孩子二年级能背吗", &bag),
            Some(Ask::Attribute("适用年级".into()))
        );
        assert_eq!(
            answer(&Ask::Attribute("适用年级".into()), &bag, &[]),
            "亲，儿童书包的适用年级是：1-3年级"
        );
        // Without a fit on record, "偏大吗" is left to the knowledge base.
        let mut plain = Product::new("T-02", "短袖");
        plain.attributes.insert("尺码".into(), "S/M/L".into());
        assert_eq!(ask("偏大吗", &plain), None);
    }

    #[test]
    fn naming_a_recorded_value_asks_whether_it_is_that() {
        let p = tee();
        let norm = crate::bot::normalize::normalize;
        assert_eq!(
            ask(&norm("100%棉吗"), &p),
            Some(Ask::Attribute("材质".into()))
        );
        assert!(only_asks(&norm("是100%棉的吗？"), &p));
        let mut cup = Product::new("CUP-3", "保温杯");
        cup.attributes.insert("材质".into(), "304不锈钢+PP".into());
        for q in ["是304不锈钢吗", "有pp吗"] {
            assert_eq!(ask(q, &cup), Some(Ask::Attribute("材质".into())), "{q}");
        }
        assert_eq!(
            answer(&Ask::Attribute("材质".into()), &cup, &[]),
            "亲，保温杯的材质是：304不锈钢+PP"
        );
        assert_eq!(ask("是陶瓷的吗", &cup), None);
    }

    #[test]
    fn capacity_questions_find_the_capacity_or_the_specification() {
        let mut cup = Product::new("CUP-02", "保温杯");
        cup.attributes.insert("容量".into(), "500ml".into());
        cup.attributes.insert("尺码".into(), "均码".into());
        for q in ["能装多少水", "容量多大", "多少毫升的"] {
            assert_eq!(ask(q, &cup), Some(Ask::Attribute("容量".into())), "{q}");
        }
        let mut bottle = Product::new("B-01", "水壶");
        bottle.attributes.insert("规格".into(), "1.5L".into());
        assert_eq!(
            ask("能装多少水", &bottle),
            Some(Ask::Attribute("规格".into()))
        );
        assert_eq!(
            answer(&Ask::Attribute("规格".into()), &bottle, &[]),
            "亲，水壶的规格是：1.5L"
        );
    }

    #[test]
    fn bare_product_questions_ask_nothing_else() {
        let p = tee();
        for q in [
            "有货吗",
            "还有货吗",
            "什么材质",
            "多重",
            "推荐一下",
            "有xl吗",
            "多少钱呀",
        ] {
            assert!(only_asks(q, &p), "{q}");
        }
        for q in [
            "价格保护吗",
            "有货吗什么时候发",
            "多少钱包邮吗",
            "材质会起球吗",
        ] {
            assert!(!only_asks(q, &p), "{q}");
        }
    }

    /// A product stocked as a furniture shop fills it, in its own words.
    fn sofa() -> Product {
        let mut p = Product::new("JJ-01", "北欧科技布三人位布艺沙发");
        p.aliases = vec!["沙发".into()];
        p.price = Some(Price(259900));
        p.final_price = Some(Price(219900));
        p.stock = Some(18);
        for (k, v) in [
            ("尺寸", "长210cm×深88cm×高85cm（三人位）；另有双人位长180cm"),
            ("面料", "科技布（防水防猫抓），外套可拆洗"),
            ("颜色", "浅灰、燕麦色、墨绿"),
            (
                "包装",
                "整装发货不拆分；入户门和电梯门宽需≥90cm（或能竖立通过）",
            ),
            ("安装方式", "只需自己拧上沙发腿，无需师傅"),
            (
                "配送说明",
                "德邦物流送货上门，一楼免费；无电梯每层楼加收20元上楼费",
            ),
            ("退换", "支持7天无理由退货，需保持原包装完好"),
            ("破损", "签收时当着物流面开箱验货，有破损可拒收或拍照"),
            ("硬度", "中等偏软；翻面另一面偏硬"),
            ("适用人群", "腰不好建议睡偏硬那面"),
        ] {
            p.attributes.insert(k.into(), v.into());
        }
        p
    }

    #[test]
    fn a_question_in_the_buyers_words_finds_the_attribute_that_shares_them() {
        let p = sofa();
        for (q, want) in [
            ("家里养了两只猫 会不会抓烂 套子能拆下来洗不", vec!["面料"]),
            ("那我家入户门宽85的 能搬进来吗", vec!["包装"]),
        ] {
            assert_eq!(search(q, &p), want, "{q}");
        }
        // Two attributes level: both.
        let mut lamp = Product::new("JJ-07", "吸顶灯");
        lamp.attributes
            .insert("调光方式".into(), "遥控器，无极调光调色".into());
        lamp.attributes
            .insert("护眼".into(), "无频闪，显色指数Ra≥90".into());
        assert_eq!(search("能调色吗 频闪不", &lamp), ["调光方式", "护眼"]);
        assert_eq!(
            ask("小爱同学能连不", &lamp),
            Some(Ask::Attribute("调光方式".into()))
        );
        // A colour named is what to buy, not what is asked; one loose character is
        // no evidence; the product's own name says nothing.
        for q in [
            "先拍一个燕麦色 几天能到",
            "在吗",
            "这个沙发怎么样",
            "好的 那我先拍灯 沙发等老公回来商量",
        ] {
            assert!(search(q, &p).is_empty(), "{q}: {:?}", search(q, &p));
        }
    }

    #[test]
    fn models_are_found_in_lists_ranges_and_brands() {
        let cable = "C to Lightning适配iPhone 5到iPhone 14全系列；C to C适配iPhone15/16全系列、华为、小米、OPPO、vivo等Type-C接口手机";
        let case =
            "iPhone 12/12Pro/13/13Pro/14/15/15Pro/16ProMax（没有mini，没有11及以前）；不做安卓";
        let charger = "iPhone 8及以上全系列可快充";
        for (recorded, model, fits) in [
            (cable, "iphone13", true),
            (cable, "苹果5", true),
            (cable, "iphone15", true),
            (cable, "小米14", true),
            (cable, "华为mate60", true),
            (cable, "三星s24", false),
            (case, "15pro", true),
            (case, "iphone13", true),
            (case, "iphone11", false),
            (case, "mate60", false),
            (case, "华为60", false),
            (charger, "iphone12", true),
            (charger, "iphone7", false),
            ("Mate60/Mate60 Pro", "mate60pro", true),
            ("Mate60/Mate60 Pro", "p70", false),
        ] {
            assert_eq!(fits_model(recorded, model), fits, "{model} in {recorded}");
        }
        let mut p = Product::new("SJ-04", "透明手机壳");
        p.attributes.insert("适用机型".into(), case.into());
        let fit = |model: &str, fits: bool| {
            Some(Ask::Fits {
                attribute: "适用机型".into(),
                model: model.into(),
                fits,
            })
        };
        assert_eq!(ask("有mate60的吗", &p), fit("mate60", false));
        // Other phone accessories' words.
        let mut cable = Product::new("SJ-02", "编织快充数据线");
        cable.aliases = vec!["数据线".into()];
        for (k, v) in [
            ("线长", "1米、2米两种"),
            ("发热", "正常充电微温"),
            ("续航", "可给iPhone15充约1.8次"),
            ("充满时间", "约3小时充满自身"),
            ("包装清单", "数据线×1，绑带×1"),
        ] {
            cable.attributes.insert(k.into(), v.into());
        }
        for (q, key) in [
            ("数据线有几米的", "线长"),
            ("编织数据线多长", "线长"),
            ("会不会很烫啊", "发热"),
            ("充满能给15充几次", "续航"),
            ("送线吗", "包装清单"),
        ] {
            assert_eq!(ask(q, &cable), Some(Ask::Attribute(key.into())), "{q}");
        }
        assert_eq!(ask("苹果13能用吗", &p), fit("苹果13", true));
        assert_eq!(ask("小米14能用吗", &p), fit("小米14", false));
    }

    #[test]
    fn tea_questions_find_their_attribute() {
        let mut tea = Product::new("CY-03", "云南普洱熟茶饼");
        tea.aliases = vec!["普洱".into()];
        tea.final_price = Some(Price(22800));
        for (k, v) in [
            ("年份", "2018年压制"),
            ("香型", "陈香型（不是生普的清香）"),
            ("口感", "醇厚顺滑，不苦不涩"),
            ("储存方法", "常温通风避光，不要放冰箱"),
            ("冲泡方法", "100℃沸水，也可以煮着喝"),
            ("适合人群", "胃不好的可以喝；孕妇少喝"),
            ("包装", "棉纸包装，可另购木质茶饼盒（+35元）"),
            ("质量问题", "受潮霉变拍照联系客服补发"),
        ] {
            tea.attributes.insert(k.into(), v.into());
        }
        for (q, key) in [
            ("是哪年的", "年份"),
            ("是今年的新茶吗", "年份"),
            ("是陈香还是清香的", "香型"),
            ("普洱是陈香还是清香的 我喜欢香一点的那种", "香型"),
            ("苦不苦 我怕苦", "口感"),
            ("能放冰箱吗", "储存方法"),
            ("怎么保存", "储存方法"),
            ("怎么泡 水温多少", "冲泡方法"),
            ("能煮着喝吗", "冲泡方法"),
            ("我胃不太好 能喝吗", "适合人群"),
            ("孕妇能喝吗", "适合人群"),
            ("木盒要加钱吗", "包装"),
            ("茶饼盒多少钱", "包装"),
            ("收到受潮了", "质量问题"),
        ] {
            assert_eq!(ask(q, &tea), Some(Ask::Attribute(key.into())), "{q}");
        }
        assert!(beats_kb(
            &Ask::Attribute("包装".into()),
            "木盒要加钱吗",
            &tea
        ));
        // The product's own name is no extra thing; a number of cakes is priced together.
        assert_eq!(ask("普洱多少钱", &tea), Some(Ask::Price));
        assert_eq!(ask("买7饼多少钱", &tea), Some(Ask::PriceOf(7)));
        let mut mount = Product::new("SJ-07", "车载手机支架");
        mount.final_price = Some(Price(3500));
        mount.attributes.insert(
            "款式".into(),
            "出风口重力款（夹出风口，不挡视线）、吸盘款（吸中控台或挡风玻璃，加10元）".into(),
        );
        assert_eq!(
            ask("吸盘款多少钱", &mount),
            Some(Ask::Attribute("款式".into()))
        );
        assert_eq!(ask("两根多少钱", &mount), Some(Ask::PriceOf(2)));
        mount
            .attributes
            .insert("线长".into(), "1米、2米两种（2米加5元）".into());
        assert_eq!(
            ask("2米的多少钱", &mount),
            Some(Ask::Attribute("线长".into()))
        );
        // Nothing recorded holds either choice: not answered from the record.
        assert_eq!(choice_named("是绿茶还是红茶", &tea), None);
        // Long, one side in a value is not enough.
        tea.attributes.insert("安装方式".into(), "无需师傅".into());
        assert_ne!(
            ask("到了送上楼吗 上楼费到时候给师傅还是补给你们", &tea),
            Some(Ask::Attribute("安装方式".into()))
        );
        // The teapot's page, pointed at by its alias (and a kind), beside another tea.
        let mut pot = Product::new("CY-06", "宜兴紫砂壶");
        pot.aliases = vec!["壶".into()];
        assert!(pointed_at("这个壶泡绿茶行吗 我买了你家龙井", &pot));
        assert!(!pointed_at("壶泡绿茶行吗 这个龙井", &pot));
    }

    #[test]
    fn fees_restocking_and_the_products_own_rules_answer_from_the_record() {
        let p = sofa();
        // A fee the shop wrote down is no price.
        assert_eq!(
            ask("5楼加多少钱", &p),
            Some(Ask::Attribute("配送说明".into()))
        );
        assert_eq!(ask("多少钱", &p), Some(Ask::Price));
        assert_eq!(
            ask("要师傅来装吗 还是我自己弄", &p),
            Some(Ask::Attribute("安装方式".into()))
        );
        // Both prices named: which is which.
        assert_eq!(ask("为啥页面写2599 你说2199", &p), Some(Ask::Price));
        assert_eq!(
            ask("软还是硬的 我腰不好", &p),
            Some(Ask::Attribute("硬度".into()))
        );
        // The product's own return and damage rules beat the shop's general ones.
        for (q, key) in [("不喜欢能退吗", "退换"), ("到了碎了怎么办", "破损")] {
            let a = ask(q, &p);
            assert_eq!(a, Some(Ask::Attribute(key.into())), "{q}");
            assert!(is_specific(&a.unwrap_or(Ask::Price)), "{q}");
        }
        // A yes-or-no the shop wrote down is the product's own.
        assert!(is_specific(&Ask::Attribute("是否掉色".into())));
        // The words asking for an attribute make the record beat a general entry.
        let a = Ask::Attribute("面料".into());
        assert!(beats_kb(&a, "什么面料的", &p));
        let mut tent = Product::new("SP-03", "帐篷");
        tent.attributes.insert("适用人数".into(), "3-4人".into());
        assert!(!beats_kb(
            &Ask::Attribute("适用人数".into()),
            "一个人能弄不",
            &tent
        ));
        assert!(!beats_kb(&a, "防不防水", &p));
        // When a sold-out product is back, as the shop wrote it; and what else there is.
        let mut desk = Product::new("JJ-04", "电脑桌");
        desk.stock = Some(0);
        desk.related = vec!["JJ-01".into()];
        desk.attributes
            .insert("缺货说明".into(), "预计12月5日左右补货".into());
        assert_eq!(ask("什么时候补货", &desk), Some(Ask::Stock));
        // Without a note the general answer says more than "sold out".
        let mut unnoted = desk.clone();
        unnoted.attributes.clear();
        assert_eq!(ask("什么时候补货", &unnoted), None);
        assert_eq!(
            answer(&Ask::Stock, &desk, &[]),
            "亲，电脑桌暂时缺货了：预计12月5日左右补货"
        );
        let related = ask("没货的话 有别的推荐吗", &desk);
        assert_eq!(related, Some(Ask::Related));
        assert!(beats_kb(&Ask::Related, "有别的推荐吗", &desk));
        // In stock, "到货" is about delivery, not the stock.
        assert_eq!(ask("什么时候到货", &p), None);
    }

    fn steak() -> Product {
        let mut p = Product::new("SX-01", "澳洲原切西冷牛排 10片装");
        p.aliases = vec!["西冷".into(), "牛排".into()];
        p.stock = Some(20);
        for (k, v) in [
            ("发货", "顺丰冷链，下午3点前付款当天发"),
            (
                "到货时间",
                "江浙沪皖次日达；北上广深、华中华北一般1-2天；西南、东北2-3天",
            ),
            (
                "不发地区",
                "新疆、西藏、青海不发；内蒙古、甘肃、宁夏需加运费10元",
            ),
            ("附赠", "每盒送黄油和黑椒汁"),
            ("孕妇能吃吗", "煎全熟可以吃"),
            ("缺货说明", "补货中"),
        ] {
            p.attributes.insert(k.into(), v.into());
        }
        p
    }

    #[test]
    fn where_it_ships_is_answered_from_the_clauses_naming_the_place() {
        let p = steak();
        let place = |t: &str| super::super::place::named(t).unwrap();
        assert_eq!(
            ask("我在南京 今天下单明天能到不", &p),
            Some(Ask::ShipsTo(place("南京")))
        );
        // With when it ships.
        assert_eq!(
            answer(&Ask::ShipsTo(place("南京")), &p, &[]),
            "亲，澳洲原切西冷牛排 10片装可以发南京哦～江浙沪皖次日达（顺丰冷链，下午3点前付款当天发）"
        );
        assert_eq!(
            answer(&Ask::ShipsTo(place("西宁")), &p, &[]),
            "亲，抱歉，澳洲原切西冷牛排 10片装暂时不发西宁哦（新疆、西藏、青海不发），给您添麻烦啦～"
        );
        // A fee for the place and when it arrives there.
        assert_eq!(
            answer(&Ask::ShipsTo(place("银川")), &p, &[]),
            "亲，澳洲原切西冷牛排 10片装可以发银川哦～内蒙古、甘肃、宁夏需加运费10元（顺丰冷链，下午3点前付款当天发）"
        );
        assert_eq!(ask("发成都几天", &p), Some(Ask::ShipsTo(place("成都"))));
        // "那广州呢" after it.
        let kind = carried(&Ask::ShipsTo(place("成都"))).unwrap();
        assert_eq!(
            carried_ask(&kind, "那广州呢", &p),
            Some(Ask::ShipsTo(place("广州")))
        );
        assert_eq!(carried_ask(&kind, "那黑色呢", &p), None);
        // A place with nothing asked of shipping, and a product with no shipping notes.
        assert_eq!(ask("我在南京", &p), None);
        assert_eq!(ask("发南京几天", &tee()), None);
    }

    #[test]
    fn cosmetics_and_fresh_food_questions_find_their_attribute() {
        let mut lip = Product::new("MZ-01", "丝绒哑光口红");
        for (k, v) in [
            ("色号", "#01正红；#02豆沙"),
            ("色号推荐", "不确定可以先买试色小样装"),
            ("孕妇能用吗", "不含铅汞，孕期可以使用"),
            ("防伪查询", "刮开涂层扫码查询"),
            ("赠品", "每单送口红小样1支"),
            ("过敏怎么办", "停用，拍照联系客服核实后可退款"),
            ("使用方法", "先涂润唇膏"),
            ("退换", "色号买错未拆封可以换"),
        ] {
            lip.attributes.insert(k.into(), v.into());
        }
        let mut set = Product::new("MZ-07", "护肤礼盒");
        set.attributes.insert("赠品".into(), "面霜小样5g×2".into());
        set.attributes
            .insert("内容".into(), "口红1支+精华30ml+面霜50g".into());
        set.attributes.insert("数量".into(), "12支".into());
        let attr = |k: &str| Some(Ask::Attribute(k.into()));
        for (q, p, want) in [
            ("我怀孕三个月 能涂吗", &lip, "孕妇能用吗"),
            ("怎么看是不是正品", &lip, "防伪查询"),
            ("送小样吗", &lip, "赠品"),
            ("怎么用", &lip, "使用方法"),
            ("买错色号能换吗", &lip, "退换"),
            ("拿不准色号怎么办", &lip, "色号推荐"),
            ("礼盒里面都有啥", &set, "内容"),
            ("我问这个礼盒装了什么东西", &set, "内容"),
            ("这套里有几支", &set, "数量"),
        ] {
            assert_eq!(ask(q, p), attr(want), "{q}");
        }
        // The shades are still the shades.
        assert_eq!(ask("有哪些色号", &lip), attr("色号"));
        let mut shrimp = Product::new("SX-03", "白虾 净重4斤");
        shrimp.final_price = Some(crate::model::Price(11900));
        for (k, v) in [
            ("规格", "净重4斤，119元"),
            (
                "大小规格",
                "30/40规格（每斤约30-40只）119元；20/30大号加30元；40/50小号（每斤40-50只）减15元",
            ),
            ("另有款式", "另有20片装，到手379元"),
            ("解冻方法", "冷藏室解冻12小时"),
            ("保存方法", "-18℃冷冻保存"),
            ("签收后问题", "24小时内拍照联系客服补发"),
            ("头黑", "虾头发黑不影响吃；发软有异味才是坏了"),
        ] {
            shrimp.attributes.insert(k.into(), v.into());
        }
        for (q, want) in [
            ("收到以后咋解冻", "解冻方法"),
            ("这虾一斤几只啊", "大小规格"),
            ("虾签收后坏了怎么办", "签收后问题"),
            // A variant priced on its own, in a long message too; a count with its unit
            // names one ("20片的"), and "买3盒" is three of them.
            ("白虾小号多少钱", "大小规格"),
            ("下次想买小号的 多少钱", "大小规格"),
            ("20片的多少钱", "另有款式"),
        ] {
            assert_eq!(ask(q, &shrimp), attr(want), "{q}");
        }
        assert_eq!(ask("买3盒多少钱", &shrimp), Some(Ask::PriceOf(3)));
        assert!(names_variant("小号多少钱", &shrimp));
        assert!(!names_variant("多少钱", &shrimp));
        assert!(!amount_in("另有120片装", "20片"));
        // Of two clauses for one weight, the one sharing the buyer's words.
        let sizes = "5斤装到手35.8元；10斤装到手59.8元；10斤礼盒装到手69.8元";
        assert_eq!(
            weighted_part(sizes, 10, "橙子10斤礼盒多少钱"),
            Some("10斤礼盒装到手69.8元")
        );
        assert_eq!(
            weighted_part(sizes, 10, "10斤的多少钱"),
            Some("10斤装到手59.8元")
        );
    }

    #[test]
    fn a_name_right_before_another_products_name_owns_it() {
        let mut orange = Product::new("SX-06", "果冻橙");
        orange.aliases = vec!["橙子".into()];
        orange
            .attributes
            .insert("规格".into(), "10斤礼盒装到手69.8元".into());
        let mut gift = Product::new("SX-07", "海鲜礼盒");
        gift.aliases = vec!["礼盒".into()];
        let mut shrimp = Product::new("SX-03", "白虾");
        shrimp.aliases = vec!["虾".into()];
        let shop = [orange.clone(), gift, shrimp];
        let skus = |q: &str| -> Vec<String> {
            all_mentioned(q, shop.iter(), None)
                .iter()
                .map(|p| p.sku.clone())
                .collect()
        };
        assert_eq!(skus("橙子礼盒多少钱"), ["SX-06"]);
        assert_eq!(skus("白虾加橙子10斤礼盒 一共多少钱"), ["SX-03", "SX-06"]);
        // Named apart, or before a product whose name its record does not hold.
        assert_eq!(skus("橙子和礼盒一起买"), ["SX-06", "SX-07"]);
        orange.attributes.clear();
        let shop = [orange, shop[1].clone()];
        assert_eq!(all_mentioned("橙子礼盒多少钱", shop.iter(), None).len(), 2);
    }

    #[test]
    fn a_thing_the_shop_does_not_sell_is_told_with_what_it_does() {
        let lexicon = crate::model::Lexicon::default();
        let analyzer = super::super::tokenize::Analyzer::new(&lexicon, ["西冷", "牛排"]);
        let (steak, tee) = (steak(), tee());
        let shop = || [&steak, &tee].into_iter();
        let sought = |q: &'static str, on_page: bool| {
            super::sought(q, shop(), on_page.then_some(&tee), &analyzer)
        };
        assert!(matches!(
            sought("你家有玻璃杯吗", true),
            Some(Sought::NotSold("玻璃杯"))
        ));
        // A kind the page's own record speaks of is the page's.
        assert!(sought("你们有春夏的吗", true).is_none());
        assert!(matches!(
            sought("你们有春夏的吗", false),
            Some(Sought::NotSold(_))
        ));
        assert!(matches!(
            sought("有没有卖龙虾的", false),
            Some(Sought::NotSold("龙虾"))
        ));
        assert!(matches!(
            sought("卖不卖龙虾", false),
            Some(Sought::NotSold("龙虾"))
        ));
        // What comes with a product, and a note the shop wrote under the thing's name.
        assert!(matches!(
            sought("有黑椒汁吗", false),
            Some(Sought::With(p, k, Some("黑椒汁"))) if p.sku == "SX-01" && k == "附赠"
        ));
        // A product's own name, a general word, no thing, or a bare "有…吗" on a page.
        for (q, on_page) in [
            ("有牛排吗", false),
            ("有现货吗", false),
            ("有没有便宜点的", false),
            ("有没有小一点的", false),
            ("有吸管吗", true),
            ("这个多少钱", false),
        ] {
            assert!(sought(q, on_page).is_none(), "{q}");
        }
        assert_eq!(
            not_sold("龙虾", &[&steak, &tee]),
            "亲，小店暂时没有龙虾哦～目前在售的有：西冷、白T，想了解哪一款可以直接问我～"
        );
    }

    #[test]
    fn skus_read_as_names_and_question_names_stand_alone() {
        let (steak, mut tee) = (steak(), tee());
        tee.stock = Some(0);
        tee.sku = "TEE-01".into();
        let shop = || [&steak, &tee].into_iter();
        assert_eq!(
            skus_named("需要另外配（推荐TEE-01）；或SX-01西冷", shop()),
            "需要另外配（推荐白T（暂时缺货））；或西冷"
        );
        // Part of a longer code is no SKU.
        assert_eq!(skus_named("型号XSX-01A", shop()), "型号XSX-01A");
        assert_eq!(skus_named("先涂SX-01澳洲西冷", shop()), "先涂澳洲西冷");
        assert_eq!(
            answer(&Ask::Attribute("孕妇能吃吗".into()), &steak, &[]),
            "亲，澳洲原切西冷牛排 10片装「孕妇能吃吗」：煎全熟可以吃"
        );
        assert_eq!(
            answer(&Ask::Attribute("附赠".into()), &steak, &[]),
            "亲，澳洲原切西冷牛排 10片装的附赠是：每盒送黄油和黑椒汁"
        );
        // 到货时间 is how long delivery takes, not when a sold-out product is back.
        let mut out = steak.clone();
        out.stock = Some(0);
        out.attributes.shift_remove("缺货说明");
        assert_eq!(ask("什么时候补货", &out), None);
    }

    #[test]
    fn size_advice_reads_rows_with_heights_and_waists_before_the_weights() {
        let dress = "S:身高150-158cm 体重80-95斤；M:155-163cm 95-108斤；L:160-168cm 108-120斤";
        assert_eq!(advised_size(dress, 100).as_deref(), Some("M"));
        assert_eq!(advised_size(dress, 85).as_deref(), Some("S"));
        let jeans = "25:腰围64cm 体重85-92斤；26:腰围67cm 92-100斤；27:腰围70cm 100-108斤";
        // 95斤 is size 26; the "m" of "67cm" is no size M.
        assert_eq!(advised_size(jeans, 95).as_deref(), Some("26"));
        assert_eq!(
            advised_size("宽松版，M:90-110斤；L:110-130斤", 120).as_deref(),
            Some("L")
        );
        assert_eq!(advised_size("XL 140~160斤", 150).as_deref(), Some("XL"));
        // However long the message, a weight and a size question are a size question.
        let mut hoodie = Product::new("NZ-03", "加绒卫衣");
        hoodie
            .attributes
            .insert("尺码建议".into(), "宽松版，M:90-110斤；L:110-130斤".into());
        assert_eq!(
            ask("163 110斤 拿m还是l", &hoodie),
            Some(Ask::SizeAdvice {
                attribute: "尺码建议".into(),
                size: Some("M".into()),
                by: "体重",
            })
        );
        assert_eq!(
            ask("我165 130斤 想穿宽松点 拿哪个码", &hoodie),
            Some(Ask::SizeAdvice {
                attribute: "尺码建议".into(),
                size: Some("L".into()),
                by: "体重",
            })
        );
    }

    #[test]
    fn products_are_found_by_name_or_alias() {
        let p = tee();
        let q = Product::new("T2", "T恤");
        let all = [p.clone(), q];
        assert_eq!(
            mentioned("纯棉t恤多少钱", all.iter(), None).map(|p| &p.sku[..]),
            Some("T1")
        );
        assert_eq!(
            mentioned("白t有货吗", all.iter(), None).map(|p| &p.sku[..]),
            Some("T1")
        );
        assert_eq!(mentioned("什么时候发货", all.iter(), None), None);
        // A name inside another product's longer name is not named on its own.
        let mut cup = Product::new("C1", "保温杯");
        cup.aliases = vec!["水杯".into()];
        let bottle = Product::new("C2", "运动水杯");
        let cups = [cup, bottle];
        let named: Vec<&str> = all_mentioned("运动水杯能装开水吗", cups.iter(), None)
            .iter()
            .map(|p| &p.sku[..])
            .collect();
        assert_eq!(named, ["C2"]);
        // Two names as long: the one named first, whatever the order of the products.
        let sofa = Product::new("A", "沙发");
        let bed = Product::new("B", "床垫");
        for all in [[sofa.clone(), bed.clone()], [bed, sofa]] {
            assert_eq!(
                mentioned("床垫呢 跟沙发比哪个快", all.iter(), None).map(|p| &p.sku[..]),
                Some("B")
            );
            assert_eq!(
                mentioned("你家沙发 床垫 甲醛都多少", all.iter(), None).map(|p| &p.sku[..]),
                Some("A")
            );
        }
        // Buyers call a product by its kind: 裙子 is the 连衣裙, 桌子 the 书桌 (below any
        // name), and 孩子 or 个子 name nothing.
        let mut dress = Product::new("D", "法式碎花雪纺裙");
        dress.aliases = vec!["连衣裙".into()];
        let mut desk = Product::new("E", "儿童学习桌");
        desk.aliases = vec!["书桌".into()];
        let all = [dress, desk];
        let sku = |text: &str| mentioned(text, all.iter(), None).map(|p| p.sku.clone());
        assert_eq!(sku("店里有裙子吗 约会穿的").as_deref(), Some("D"));
        assert_eq!(sku("那个桌子多高").as_deref(), Some("E"));
        assert_eq!(sku("桌子和连衣裙").as_deref(), Some("D"));
        assert_eq!(sku("孩子个子小穿什么码"), None);
        let both: Vec<&str> = all_mentioned("裙子和桌子都有货吗", all.iter(), None)
            .iter()
            .map(|p| &p.sku[..])
            .collect();
        assert_eq!(both, ["D", "E"]);
        assert!(only_names(
            "有裙子和桌子吗",
            &all.iter().collect::<Vec<_>>()
        ));
        assert_eq!(without_name("裙子多长", &all[0]).as_deref(), Some("多长"));
        let mut set = Product::new("JJ-03", "实木餐桌椅");
        set.attributes.insert("椅子".into(), "4把实木椅".into());
        assert_eq!(
            ask("椅子能多买两把吗", &set),
            Some(Ask::Attribute("椅子".into()))
        );
    }
}
