//! The reply to one message: a menu pick, an intent, a product question, a rule entry,
//! or the ranked knowledge base (see `rank`) cut into bands by confidence.

use super::compose::{self, COMPLAINT_TEXT, POSITIVE_TEXT, TRANSFER_TEXT};
use super::index::SearchIndex;
use super::intents::{self, Intent};
use super::normalize::{normalize, simplify};
use super::product;
use super::rank::{self, Ranked};
use super::state::{Prepared, State};
use super::{Band, Candidate, Ctx, Explain, FollowUp, Reply, Route};
use crate::model::MatchMode;
use std::sync::Arc;

/// Confidence from which one entry answers.
pub const EXACT: f32 = 0.72;
/// Confidence from which a menu of likely entries is offered.
pub const GUIDED: f32 = 0.55;
/// A runner-up this close to the best makes it a tie: ask, don't guess.
const TIE: f32 = 0.97;
/// Most options in a guided menu.
const MENU: usize = 3;
/// A menu option must score at least this share of the best.
const MENU_SHARE: f32 = 0.75;
/// Services and things that are no online shop's business: a message naming one is not
/// answered from the knowledge base unless the knowledge base names it too.
const OFF_TOPIC: &[&str] = &[
    "外卖",
    "滴滴",
    "打车",
    "网约车",
    "机票",
    "火车票",
    "高铁票",
    "酒店",
    "社保",
    "公积金",
    "宽带",
    "作文",
    "电视剧",
    "彩票",
    "挂号",
    "房贷",
    "车贷",
    "网贷",
    "贷款",
    "还款",
    "逾期",
    "提额",
    "提现",
    "工资",
    "话费",
    "充值",
    "医保",
    "招聘",
    "应聘",
    "招人",
    "招客服",
    "兼职",
    "办信用卡",
    "申请信用卡",
    "聊天记录",
];
/// Characters of a message considered: long messages keep their end, where the
/// question usually is.
const MAX_CHARS: usize = 120;

/// Words setting two things side by side ("和四件套比哪个好", "这个和猫粮一起拍"); "这个
/// 猫粮好不好" is about the cat food alone.
const COMPARING: &[&str] = &[
    "比",
    "区别",
    "不同",
    "哪个好",
    "哪个更",
    "和",
    "跟",
    "一起",
    "加上",
];

/// Words telling another product is worn with the one in view ("163 110斤 里面要穿毛衣
/// 拿m还是l" on the hoodie's page): the question is about the one in view.
const WORN_WITH: &[&str] = &["里面", "内搭", "外面套", "套在"];

/// Share of its score an entry must keep when the product named in the message is taken
/// out of it, to answer on its own.
const NAME_SHARE: f32 = 0.5;

/// The knowledge base's 板块 for questions about the goods themselves, which a product's
/// record answers better.
const GOODS: &str = "商品";

/// Words of a problem with the goods or a request to send them back.
const AFTER_SALE: &[&str] = &[
    "退", "换", "坏", "破", "碎", "裂", "划", "少了", "缺", "味", "质量", "瑕疵", "补发",
];

/// Most parts of a message answered one by one (and two more that ask nothing).
const MAX_PARTS: usize = 3;
/// Confidence each part needs to be answered on its own: a part says less than a whole
/// message ("买两件呢" after "能便宜点吗" is about the price, not how to order).
const PART_SURE: f32 = 1.0;

/// The reply to `text` (see `Engine::reply`). A message asking two or three things
/// ("包邮吗？什么时候发货") gets each answered, in the order asked, when every part is
/// answered with confidence on its own and by a different entry.
pub fn reply(s: &State, index: &SearchIndex, ctx: &Ctx, text: &str) -> Reply {
    let mut r = reply_one(s, index, ctx, text);
    if r.intent.is_some() || r.explain.route == Route::Menu {
        return r;
    }
    // "TB101到哪了", "我的充电头到哪了": a message naming one of the buyer's orders, by
    // its number or by an item asking where it is, that the knowledge base does not
    // answer is answered with where that order stands.
    // "我昨天拍的粉底液发货了没": the order, not how the product ships.
    let bought = ["拍的", "买的", "下的单", "订的"]
        .iter()
        .any(|w| r.explain.normalized.contains(w));
    let named = match r.band {
        Band::Exact if !(bought && r.explain.route == Route::Product) => Vec::new(),
        _ => {
            let norm = &r.explain.normalized;
            let by_number = compose::named_orders(norm, ctx.orders);
            if by_number.is_empty() {
                compose::tracked_items(norm, ctx.orders)
            } else {
                by_number
            }
        }
    };
    if !named.is_empty() {
        // "我订单号TB9002 帮我申请退货吧": a problem with the goods or a return is no
        // question of where they are; what is asked beside the number is answered.
        let mut rest = r.explain.normalized.clone();
        for o in &named {
            rest = rest.replace(&o.order_id.to_lowercase(), " ");
        }
        let rest = rest.replace("订单号", " ").replace("订单", " ");
        let problem = AFTER_SALE.iter().any(|w| rest.contains(w));
        if problem {
            // About the orders named only.
            let orders: Vec<crate::model::Order> = named.iter().map(|o| (*o).clone()).collect();
            let only = Ctx {
                orders: &orders,
                ..ctx.clone()
            };
            let beside = reply_one(s, index, &only, rest.trim());
            if beside.band == Band::Exact && beside.intent.is_none() {
                return beside;
            }
            return r;
        }
        r.band = Band::Exact;
        r.confidence = 1.0;
        r.menu.clear();
        r.offer_transfer = false;
        r.explain.route = Route::Order;
        r.answer = format!("亲～{}", compose::progress(&named, ctx.settings));
        return r;
    }
    let normalized = r.explain.normalized.clone();
    let parts: Vec<&str> = normalized
        .split(' ')
        .filter(|p| p.chars().count() >= 2)
        .collect();
    // "在吗 有优惠券吗": the greeting needs no answer of its own.
    let greeting = parts.iter().take_while(|p| intents::only_greets(p)).count();
    if greeting > 0 && greeting < parts.len() {
        let asked = reply(s, index, ctx, &parts[greeting..].join(" "));
        if asked.band == Band::Exact && asked.intent.is_none() {
            return asked;
        }
        return r;
    }
    // "那个牛肉干呢 多重" names what the question after it is about.
    if parts.len() < 2
        || parts.iter().filter(|p| asks(p)).count() > MAX_PARTS
        || parts.len() > MAX_PARTS + 2
        || parts[..parts.len() - 1].iter().any(|p| follows_on(p))
    {
        return r;
    }
    // "钱扣了 订单还是待付款": one question and what led to it, not two questions, when
    // the whole message is answered; when it is not, the parts that ask about the product
    // are answered from its record ("收起来多大 重不重 我要放电动车上"), and the others
    // are named.
    // An answer found by the words the whole message shares with the record gives way
    // to answers to its parts ("能调色温吗 有没有频闪 孩子写作业用": two attributes).
    let searched = r.explain.route == Route::Search;
    // A general entry about the goods (板块 商品) answering the whole message gives way to
    // the product's record answering a part ("衣长多少 能盖住屁股不": 衣长约68cm, not "see
    // the size chart"); one about shipping or after-sale stays ("我3天前拍的手环怎么还没
    // 发货？？" is no question of when it ships).
    // The parts' replies found on the way are kept for the answers below.
    let mut replies: Vec<Option<Reply>> = parts.iter().map(|_| None).collect();
    let mut general = false;
    if r.band == Band::Exact
        && !s.products.is_empty()
        && r.explain.route == Route::Match
        && r.entry
            .as_ref()
            .and_then(|id| s.entries.get(id))
            .is_some_and(|p| p.entry.category == GOODS)
    {
        for (i, part) in parts.iter().enumerate().filter(|(_, p)| asks_loosely(p)) {
            let one = reply_one(s, index, ctx, part);
            general = matches!(one.explain.route, Route::Product | Route::Search);
            replies[i] = Some(one);
            if general {
                break;
            }
        }
    }
    let whole_sure = r.band == Band::Exact && !searched && !general;
    // "沙发发什么物流 床垫呢": the same question of both, which the whole message
    // answered.
    if whole_sure && (!parts.iter().all(|p| asks(p)) || parts.last().is_some_and(|p| follows_on(p)))
    {
        return r;
    }
    let asking = |p: &&str| if whole_sure { asks(p) } else { asks_loosely(p) };
    let mut answered: Vec<Reply> = Vec::new();
    let mut missed: Vec<&str> = Vec::new();
    // Whether every answered part asks something of its own ("怎么回事" does not).
    let mut topical = true;
    for (i, part) in parts.into_iter().enumerate().filter(|(_, p)| asking(p)) {
        let one = replies[i]
            .take()
            .unwrap_or_else(|| reply_one(s, index, ctx, part));
        if one.band != Band::Exact
            || one.confidence < PART_SURE
            || one.intent.is_some()
            || one.explain.route == Route::Menu
        {
            if whole_sure {
                return r;
            }
            missed.push(part);
            continue;
        }
        if answered.iter().any(|a| a.answer == one.answer) {
            continue;
        }
        topical &= !only_wonders(part);
        answered.push(one);
    }
    // A whole message answered with confidence is split only into two answers or more.
    // A whole message answered by the words it shares with the record gives way to a
    // sure product question among its parts, to two answers, or to an answer to every
    // question in it ("已经拆了一小包 剩下4包没动 能退吗" asks whether it can go back,
    // whatever 包装 says of small bags). Otherwise the product's own record must answer
    // a part: a short part of a long story is no sure question on its own ("怎么处理"
    // after "拉链是坏的"), but beside a product question it is one more question
    // ("能便宜点不 2199有点贵 包邮包上楼行不").
    let by_record = answered.iter().any(|a| a.explain.route == Route::Product);
    let accept = if whole_sure {
        answered.len() >= 2
    } else if searched {
        by_record || answered.len() >= 2 || (missed.is_empty() && topical && !answered.is_empty())
    } else {
        answered
            .iter()
            .any(|a| matches!(a.explain.route, Route::Product | Route::Search))
    };
    if !accept {
        return r;
    }
    let first = answered.remove(0);
    let whole = std::mem::replace(&mut r, first);
    let missed = compose::not_answered(&missed);
    r.answer = std::iter::once(r.answer.as_str())
        .chain(answered.iter().map(|a| a.answer.as_str()))
        .chain(missed.as_deref())
        .collect::<Vec<_>>()
        .join("\n");
    r.also = answered.iter().filter_map(|a| a.entry.clone()).collect();
    r.confidence = answered
        .iter()
        .fold(r.confidence, |c, a| c.min(a.confidence));
    r.candidates = whole.candidates;
    r.explain = whole.explain;
    r
}

/// Words asking to change an order ("能改成01吗", "帮我改下规格").
const CHANGING: &[&str] = &["改成", "改下", "改一下", "帮我改", "换成", "修改"];

/// Words that make a phrase a question.
const ASKING: &[&str] = &[
    "什么",
    "啥",
    "怎么",
    "怎样",
    "咋",
    "几",
    "多少",
    "多久",
    "多大",
    "多重",
    "多长",
    "哪",
    "谁",
    "是否",
    "能不能",
    "可不可以",
    "会不会",
    "有没有",
    "是不是",
    "行不行",
    "要不要",
];

/// Whether `part` asks something by itself: a question word, or a question particle at
/// its end ("包邮吗", "发顺丰不").
fn asks(part: &str) -> bool {
    part.ends_with(['吗', '么', '嘛', '呢', '不', '没']) || ASKING.iter().any(|w| part.contains(w))
}

/// `asks`, or the same word twice around 不 or 没 ("重不重", "辣不辣"): a question too,
/// but beside a sure answer to the rest of the message one too loose to answer alone
/// ("要自己装吗 难不难" is one question).
fn asks_loosely(part: &str) -> bool {
    let chars: Vec<char> = part.chars().collect();
    asks(part)
        || chars
            .windows(3)
            .any(|w| w[0] == w[2] && matches!(w[1], '不' | '没'))
}

/// Phrases asking what happened or what to do, about nothing named.
const WONDERING: &[&str] = &[
    "怎么回事",
    "咋回事",
    "什么情况",
    "啥情况",
    "怎么办",
    "咋办",
    "怎么弄",
    "咋弄",
    "为什么",
    "为啥",
    "怎么样",
];

/// Whether `part` only wonders ("怎么回事", "这咋办啊"): a question, but about whatever
/// the rest of the message says.
fn only_wonders(part: &str) -> bool {
    let mut rest = part.to_string();
    for w in WONDERING {
        rest = rest.replace(w, "");
    }
    rest.len() < part.len()
        && rest
            .chars()
            .all(|c| "这那个是该要啊呀呢吗了啦 ".contains(c))
}

/// Whether an attribute `ask` found in `norm` comes only from parts that ask nothing and
/// say what for, every part that asks finding none ("紫砂壶能刻字吗 想刻个名字送人": 送人
/// is why, not what, and 是否送礼 no answer to 刻字).
fn only_the_reason(norm: &str, p: &crate::model::Product, ask: &product::Ask) -> bool {
    if !matches!(
        ask,
        product::Ask::Attribute(_) | product::Ask::Attributes(..)
    ) {
        return false;
    }
    let parts: Vec<&str> = norm.split(' ').filter(|x| x.chars().count() >= 2).collect();
    let (asking, rest): (Vec<&str>, Vec<&str>) = parts.iter().partition(|x| asks(x));
    // The rest says what for ("想刻个名字送人"), not what is the matter ("宿舍限电",
    // "我怀孕三个月"), which is part of the question.
    let purpose = |x: &&str| {
        [
            "想",
            "我想",
            "打算",
            "我打算",
            "准备",
            "我准备",
            "用来",
            "为了",
        ]
        .iter()
        .any(|w| x.starts_with(w))
    };
    !asking.is_empty()
        && !rest.is_empty()
        && rest.iter().all(purpose)
        && asking.iter().all(|x| product::ask(x, p).is_none())
}

/// "有X没" (有券没, 有货没) as "有X吗": the colloquial yes-or-no question, whose final 没
/// would otherwise read as "not yet" (券没领).
fn has_or_not(norm: &str) -> Option<String> {
    let stem = norm.strip_suffix('没')?;
    (stem.starts_with('有') && stem.chars().count() <= 6).then(|| format!("{stem}吗"))
}

/// Whether `norm` only names another thing for the question before: "那T恤呢",
/// "保温杯呢" (short, 呢 at the end, no question word of its own, and a thing named:
/// "是的呢" or "好的呢" name nothing).
fn follows_on(norm: &str) -> bool {
    let compact = norm.replace(' ', "");
    let Some(stem) = compact.strip_suffix('呢') else {
        return false;
    };
    let stem = stem.trim_start_matches('那').trim_end_matches('的');
    let n = stem.chars().count();
    let mut buf = [0u8; 4];
    let named: std::collections::HashSet<char> = stem
        .chars()
        .filter(|c| !super::tokenize::is_stop(c.encode_utf8(&mut buf)))
        .collect();
    (1..=8).contains(&n)
        && !ASKING.iter().any(|w| stem.contains(w))
        && !super::tokenize::is_vague(&named)
}

/// The reply to one message or one part of it.
fn reply_one(s: &State, index: &SearchIndex, ctx: &Ctx, text: &str) -> Reply {
    // Intents read the whole message (a complaint may open a long rant); ranking reads
    // its end, where the question usually is.
    let simple = simplify(text);
    let full = normalize(text);
    let skip = full.chars().count().saturating_sub(MAX_CHARS);
    let norm: String = full
        .chars()
        .skip(skip)
        .collect::<String>()
        .trim()
        .to_string();
    // "沙法套能拆洗吗": a product's name typed by sound is the name, unless the knowledge
    // base writes those characters side by side itself.
    let norm = if s.products.is_empty() {
        norm
    } else {
        s.product_typos.correct(&norm, &s.chars.pairs).0
    };
    let mut r = blank(&norm);

    // "不用转人工 我就问下包邮吗": the question, without the words about humans.
    // "有券没" asks 有券吗: the final 没 is the question, not part of "券没领".
    let asked = intents::refuses_transfer(&norm)
        .then(|| intents::beside_transfer(&norm))
        .flatten()
        .or_else(|| has_or_not(&norm));
    let ranking = rank::rank(s, index, ctx, asked.as_deref().unwrap_or(&norm));
    let mut ranked = ranking.ranked;
    r.explain = ranking.explain;
    r.candidates = ranked.iter().take(5).map(candidate).collect();
    r.confidence = ranking.confidence;

    // An option picked by its words gives way to the product's own record ("怎么洗"
    // after the follow-up 能机洗吗, with 洗涤方式 on record); a number never does.
    if let Some(p) = menu_pick(s, ctx, &norm)
        && (pick_number(&norm.replace(" ", "")).is_some()
            || !ctx
                .product
                .and_then(|sku| s.product(sku))
                .and_then(|p| product::ask(&norm, p))
                .is_some_and(|a| product::is_specific(&a)))
    {
        r.explain.route = Route::Menu;
        return answer(s, ctx, r, &p, 1.0);
    }
    // "有人吗" greets a bot that has not failed the buyer, when the KB has a greeting.
    let intent = intents::detect(&simple, &full).filter(|&i| {
        i != Intent::Transfer
            || ctx.unmatched_streak > 0
            || r.confidence < EXACT
            || !intents::only_anyone_there(&full)
    });
    if let Some(intent) = intent {
        r.explain.route = Route::Intent;
        r.intent = Some(intent);
        match intent {
            Intent::Transfer => {
                r.answer = TRANSFER_TEXT.into();
                r.offer_transfer = true;
            }
            Intent::Complaint => {
                r.answer = COMPLAINT_TEXT.into();
                r.offer_transfer = true;
            }
            Intent::Positive => {
                r.answer = POSITIVE_TEXT.into();
                r.rating_invite = true;
            }
        }
        return r;
    }
    // A product question ("这个多重", "有货吗") is answered from the product, unless the
    // message asks more than that, does not point at the product, and the knowledge base
    // answers it with confidence ("价格保护吗" is about the shop's policy, not this
    // product's price).
    let viewed = ctx.product.and_then(|sku| s.product(sku));
    let named = product::mentioned(&norm, s.products.values(), viewed);
    // "这个和你家猫粮一起拍 满多少包邮", "和四件套比哪个更适合夏天用": another product named
    // beside the one in view, which stays the chat's product unless the named product's
    // own record answers.
    let other = named.is_some_and(|p| ctx.product.is_some_and(|sku| sku != p.sku));
    // Named from another page or the shop's home: its stock may be news to the buyer.
    let away = named.is_some_and(|p| ctx.product != Some(p.sku.as_str()));
    // "这个壶泡绿茶行吗 我买了你家龙井": the one in view, pointed at by its name.
    let in_view_asked = other
        && (WORN_WITH.iter().any(|w| norm.contains(w))
            || ctx
                .product
                .and_then(|sku| s.product(sku))
                .is_some_and(|p| product::pointed_at(&norm, p)));
    let beside = in_view_asked || (other && COMPARING.iter().any(|w| norm.contains(w)));
    // A product the message names ("焖烧杯多少钱" on the nuts' page) before the page's own,
    // in a knowledge-base answer too ({{商品名}}), and it becomes the chat's product
    // ("那个榨汁杯能榨冰吗", then "充一次电能用几次").
    let named_ctx;
    let ctx = match named {
        Some(p) if !beside => {
            named_ctx = Ctx {
                product: Some(p.sku.as_str()),
                ..ctx.clone()
            };
            &named_ctx
        }
        _ => ctx,
    };
    r.product = named.filter(|_| !beside).map(|p| p.sku.clone());
    // "牛肉干好吃吗" in a shop selling 牛肉干: the name says which product, not what is
    // asked. An entry that scores on the name alone ("打开牛肉干有股哈喇味") gives way
    // to the ranking of the rest of the message; one that keeps most of its score
    // without the name and stays level with the best there ("芒果怎么保存" beside
    // 车厘子怎么保存) stays.
    if let Some(p) = named
        && let Some(top) = ranked.first()
        && let Some(rest) = product::without_name(&norm, p)
    {
        let again = rank::rank(s, index, ctx, &rest);
        let kept = again
            .ranked
            .iter()
            .find(|c| c.entry.entry.id == top.entry.entry.id)
            .map_or(0.0, |c| c.score);
        let best = again.ranked.first().map_or(0.0, |c| c.score);
        if kept < NAME_SHARE * top.score || kept < TIE * best {
            ranked = again.ranked;
            r.candidates = ranked.iter().take(5).map(candidate).collect();
            r.confidence = again.confidence;
        }
    }
    let in_view = || ctx.product.and_then(|sku| s.product(sku));
    let product = if in_view_asked {
        in_view()
    } else {
        named.or_else(in_view)
    };
    // Two entries nearly level is no sure answer either ("怎么下不了单" on a sold-out
    // product: 怎么下单 against 优惠券怎么用).
    let tie = matches!(ranked.as_slice(), [a, b, ..] if b.score >= TIE * a.score);
    let kb_sure = r.confidence >= EXACT && !tie && rule_match(s, ctx, &norm).is_none();
    let kb_goods = ranked
        .first()
        .is_some_and(|c| c.entry.entry.category == GOODS);
    // "你家沙发 床垫 甲醛都多少", "那床垫呢 几天到 跟沙发比哪个快": the same question
    // about each product named, answered for each (their prices add up further down).
    let several = product::all_mentioned(&norm, s.products.values(), viewed);
    // Each of several products asked without the others' names.
    let alone = |p: &crate::model::Product| {
        let others: Vec<&crate::model::Product> =
            several.iter().copied().filter(|o| o.sku != p.sku).collect();
        product::strip_names(&norm, &others, true)
    };
    // "白虾一盒加橙子10斤礼盒 一共多少钱": a variant with a price of its own named is
    // no sum of the usual prices; each product's price is told instead.
    let variant = several.iter().any(|p| product::names_variant(&alone(p), p));
    // "沙发加吸顶灯一共多少钱": each price and the sum, before the price of one of them.
    if several.len() >= 2
        && product::asks_price(&norm)
        && !variant
        && let Some(answer) = product::total(&several)
    {
        r.product = None;
        return settled(s, r, answer);
    }
    // "卸妆油+3支唇釉+黑金刷子 总共多少钱" with 套装=任选3支装到手179元: each price,
    // the variant's as recorded.
    if several.len() >= 2 && product::asks_price(&norm) && variant {
        let each: Vec<String> = several
            .iter()
            .take(MAX_PARTS)
            .filter_map(|p| product::price_told(&alone(p), p))
            .collect();
        if each.len() >= 2 {
            r.product = None;
            return settled(s, r, each.join("\n"));
        }
    }
    if several.len() >= 2 && !product::asks_price(&norm) {
        // Nothing asked but the names is a listing (below).
        let each: Vec<String> = several
            .iter()
            .take(MAX_PARTS)
            .filter_map(|p| {
                // Each asked without the others' names ("钢化膜和手机壳有iphone16的吗":
                // 手机壳 is no question about the film).
                let norm = alone(p);
                let ask = product::ask(&norm, p).or_else(|| {
                    match product::search(&norm, p).as_slice() {
                        [one, ..] if !kb_sure => Some(product::Ask::Attribute(one.clone())),
                        _ => None,
                    }
                })?;
                (ask != product::Ask::Summary).then(|| product::answer(&ask, p, &[]))
            })
            .collect();
        if each.len() >= 2 {
            r.product = None;
            return settled(s, r, each.join("\n"));
        }
    }
    // "有没有猫用的饮水机和猫砂 推荐下", "有桌子吗" in a shop with a dining table and a
    // desk: two or more of the shop's products named, nothing else asked, and no sure
    // entry: what the shop has of them, not the first one's summary.
    // The first listed becomes the chat's product ("第一个多少钱").
    if !kb_sure && several.len() >= 2 && product::only_names(&norm, &several) {
        r.product = Some(several[0].sku.clone());
        return settled(s, r, product::listing(&several));
    }
    // "你家哪款茶适合胃不好的人喝": what each product's record says of the need; on a
    // product's page only when the shop's range is asked about ("拿哪个码" is the page's).
    let range = ["你家", "你们家", "店里", "哪款", "哪几款", "推荐"];
    if named.is_none()
        && (viewed.is_none() || range.iter().any(|w| norm.contains(w)))
        && (!kb_sure || kb_goods)
        && let Some(answer) = product::by_need(&norm, s.products.values())
    {
        r.product = None;
        return settled(s, r, answer);
    }
    // "你家有玻璃杯吗" in a tea shop whose brewing notes mention glass cups: what the
    // shop sells instead, not a note that happens to name the thing.
    // Asked whether the shop sells it ("有没有香水卖"), a general entry gives way too.
    if named.is_none()
        && (!kb_sure || norm.contains('卖'))
        && let Some(sought) = product::sought(&norm, s.products.values(), viewed, &s.analyzer)
    {
        match sought {
            product::Sought::With(p, name, thing) => {
                let mut r = from_record(s, r, p, &product::Ask::Attribute(name.clone()));
                // "有没有香水卖": not sold alone, but comes with the gift box.
                if let Some(thing) = thing {
                    r.answer = format!(
                        "亲，小店没有单独卖{thing}哦～{}",
                        r.answer.trim_start_matches("亲，")
                    );
                }
                return r;
            }
            product::Sought::NotSold(thing) if !s.knows(thing) => {
                let mut sold: Vec<&crate::model::Product> = s.products.values().collect();
                sold.sort_by(|a, b| a.sku.cmp(&b.sku));
                return settled(s, r, product::not_sold(thing, &sold));
            }
            product::Sought::NotSold(_) => {}
        }
    }
    // "那鞋子呢" after "多少钱": the same product question about the product named;
    // "那45呢" after "有44码吗": the same question about another size.
    let again = |p| {
        let ask = product::carried_ask(ctx.previous_ask?, &norm, p)?;
        let same_product = matches!(
            ask,
            product::Ask::Offers { .. } | product::Ask::SizeAdvice { .. }
        );
        // "我都说了165 130斤啊" after a size question: the weight is the answer to it.
        let weight_given =
            matches!(ask, product::Ask::SizeAdvice { .. }) && product::ask(&norm, p).is_none();
        ((follows_on(&norm) && (named.is_some() || same_product)) || weight_given).then_some(ask)
    };
    if let Some(p) = product
        && let Some((ask, carried)) = again(p)
            .map(|a| (a, true))
            .or_else(|| product::ask(&norm, p).map(|a| (a, false)))
        // An attribute found only by characters it shares with the question gives way
        // to a sure entry on the shop's own matters ("包邮吗" is no question about
        // 退换=…发错型号包邮换), not to a general one about the goods.
        // "多久能到" from a buyer with an order: where the order is, not how it ships.
        && !(ctx.has_order && kb_sure && product::asks_arrival(&ask, &norm))
        // "质量问题退货运费你们出吗" with a 退换 that says nothing of postage.
        && !(kb_sure && product::misses_postage(&ask, &norm, p))
        // "能改成01吗" from a buyer with an order: changing the order, not the shades.
        && !(ctx.has_order && CHANGING.iter().any(|w| norm.contains(w)))
        // "紫砂壶能刻字吗 想刻个名字送人": the record answers only why it is asked.
        && (carried || !only_the_reason(&norm, p, &ask))
        && (carried
            || !kb_sure
            || ((kb_goods || !product::loose(&ask, &norm, p))
                && (named.is_some()
                    || product::beats_kb(&ask, &norm, p)
                    || product::points_at_it(&norm)
                    || product::only_asks(&norm, p))))
    {
        let mut r = from_record(s, r, p, &ask);
        // "有没有磁吸充电宝 功率多大" from the home page: the answer, and that it is sold out.
        if away && let Some(note) = product::sold_out_note(p, &ask) {
            r.answer.push_str(&note);
        }
        return r;
    }
    if let Some(p) = rule_match(s, ctx, &norm) {
        r.explain.route = Route::Rule;
        return answer(s, ctx, r, &p, 1.0);
    }
    // "我胯有点大 会不会紧啊", "长钱包放得下不": a question in the buyer's own words,
    // about what one or two of the product's attributes say.
    if !kb_sure
        && (norm.split(' ').any(asks_loosely) || intents::PROBLEMS.iter().any(|w| norm.contains(w)))
        && !(ctx.has_order && CHANGING.iter().any(|w| norm.contains(w)))
        && let Some(p) = product
    {
        let ask = match product::search(&norm, p).as_slice() {
            [one] => Some(product::Ask::Attribute(one.clone())),
            [a, b, ..] => Some(product::Ask::Attributes(a.clone(), b.clone())),
            [] => None,
        };
        if let Some(ask) = ask {
            let mut r = from_record(s, r, p, &ask);
            r.explain.route = Route::Search;
            return r;
        }
    }
    r.explain.route = Route::Match;
    // "外卖怎么还没到", "滴滴打车退款怎么还没到": a shop question about something that is
    // no shop's business, unless this shop's knowledge base speaks of it.
    if OFF_TOPIC.iter().any(|w| norm.contains(w) && !s.knows(w)) {
        r.confidence = 0.0;
    }
    let conf = r.confidence;
    // "那T恤呢" after "我的保温杯到哪了": the same question about another thing, when
    // the message is not a question of its own.
    if (conf < EXACT || tie)
        && follows_on(&norm)
        && let Some(p) = ctx.previous.and_then(|id| s.entries.get(id))
        && p.entry.active_at(ctx.now)
    {
        r.explain.route = Route::FollowOn;
        let p = p.clone();
        return answer(s, ctx, r, &p, 1.0);
    }
    match ranked.first() {
        Some(top) if conf >= EXACT && !tie => {
            let top = top.entry.clone();
            answer(s, ctx, r, &top, conf)
        }
        Some(top) if conf >= GUIDED => {
            let floor = top.score * MENU_SHARE;
            let options: Vec<&Prepared> = ranked
                .iter()
                .take(MENU)
                .filter(|c| c.score >= floor)
                .map(|c| c.entry.as_ref())
                .collect();
            r.band = Band::Guided;
            r.menu = options
                .iter()
                .map(|p| FollowUp {
                    id: p.entry.id.clone(),
                    question: p.entry.question.clone(),
                })
                .collect();
            let questions: Vec<&str> = options.iter().map(|p| p.entry.question.as_str()).collect();
            r.answer = compose::menu(&questions, ctx.unmatched_streak > 0);
            r
        }
        _ => {
            r.offer_transfer = ctx.unmatched_streak >= 1;
            r.answer = compose::fallback(r.offer_transfer).into();
            r
        }
    }
}

/// `r` answering `ask` from `p`'s record.
fn from_record(s: &State, mut r: Reply, p: &crate::model::Product, ask: &product::Ask) -> Reply {
    let related: Vec<_> = p
        .related
        .iter()
        .filter_map(|sku| s.products.get(sku))
        .collect();
    r.product = Some(p.sku.clone());
    r.asked = product::carried(ask);
    settled(s, r, product::answer(ask, p, &related))
}

/// `r` answering with `answer`, found in the products' records, where the shop's SKUs
/// read as the products' names ("推荐MZ-04" → "推荐防晒霜（暂时缺货）").
fn settled(s: &State, mut r: Reply, answer: String) -> Reply {
    r.explain.route = Route::Product;
    r.band = Band::Exact;
    r.confidence = 1.0;
    r.answer = product::skus_named(&answer, s.products.values());
    r
}

fn blank(norm: &str) -> Reply {
    Reply {
        band: Band::None,
        intent: None,
        entry: None,
        also: Vec::new(),
        confidence: 0.0,
        candidates: Vec::new(),
        answer: String::new(),
        follow_ups: Vec::new(),
        menu: Vec::new(),
        offer_transfer: false,
        notify_human: false,
        rating_invite: false,
        product: None,
        asked: None,
        scene: None,
        explain: Explain {
            normalized: norm.to_string(),
            ..Explain::default()
        },
    }
}

fn candidate(c: &Ranked) -> Candidate {
    Candidate {
        id: c.entry.entry.id.clone(),
        question: c.entry.entry.question.clone(),
        score: (c.score * 1000.0).round() / 1000.0,
    }
}

/// The reply answering with entry `p`.
fn answer(s: &State, ctx: &Ctx, mut r: Reply, p: &Prepared, confidence: f32) -> Reply {
    let product = ctx.product.and_then(|sku| s.product(sku));
    r.band = Band::Exact;
    r.entry = Some(p.entry.id.clone());
    r.confidence = confidence;
    r.notify_human = p.entry.notify_human;
    r.scene = Some(p.entry.scene.clone()).filter(|s| !s.is_empty());
    r.product = product.map(|p| p.sku.clone());
    let about = compose::orders_about(&r.explain.normalized, ctx.orders);
    let text = compose::choose(&p.entry, product, ctx.has_order, !about.is_empty());
    let catalog: Vec<&crate::model::Product> = if text.contains("在售商品") {
        s.products.values().collect()
    } else {
        Vec::new()
    };
    r.answer = compose::fill_with_catalog(text, ctx.settings, product, &about, &catalog);
    // The same answer twice in a row did not help ("能催一下吗" after 怎么还没发货):
    // say how to reach a human, unless the answer does.
    if ctx.previous == Some(p.entry.id.as_str())
        && r.explain.route != Route::FollowOn
        && !r.answer.contains("转人工")
    {
        r.answer.push_str(compose::AGAIN_TEXT);
    }
    r.follow_ups = p
        .entry
        .follow_ups
        .iter()
        .filter_map(|id| s.entries.get(id))
        .filter(|f| f.entry.active_at(ctx.now))
        .map(|f| FollowUp {
            id: f.entry.id.clone(),
            question: f.entry.question.clone(),
        })
        .collect();
    r
}

/// The entry picked from the previous menu by number ("2", "第二个") or by its text.
fn menu_pick(s: &State, ctx: &Ctx, norm: &str) -> Option<Arc<Prepared>> {
    if ctx.menu.is_empty() {
        return None;
    }
    let compact = norm.replace(' ', "");
    // "是的" to "您是想问“X”吗？": the one option of a guessing menu (after an answer,
    // its one related question was not asked about).
    let n = pick_number(&compact).or_else(|| {
        (ctx.menu.len() == 1
            && ctx.previous.is_none()
            && YES.contains(&compact.trim_end_matches(['啊', '呀', '呢', '哦'])))
        .then_some(1)
    });
    ctx.menu
        .iter()
        .enumerate()
        .filter_map(|(i, id)| s.entries.get(id).map(|p| (i, p)))
        .find(|(i, p)| n == Some(i + 1) || p.phrasings.iter().any(|ph| ph.compact == compact))
        .map(|(_, p)| p.clone())
        .filter(|p| p.entry.active_at(ctx.now))
}

/// A yes to a menu of one question ("您是想问“X”吗？").
const YES: &[&str] = &[
    "是",
    "是的",
    "对",
    "对的",
    "对对",
    "嗯",
    "嗯嗯",
    "没错",
    "就是",
    "就是这个",
    "是这个",
    "yes",
];

/// `2`, `2号`, `第2个`, `二`, `第二个`, `选2`, `我选第二个` → 2.
fn pick_number(compact: &str) -> Option<usize> {
    let core = ["我选", "就选", "选择", "选", "是"]
        .iter()
        .find_map(|p| compact.strip_prefix(p))
        .unwrap_or(compact)
        .trim_start_matches('第')
        .trim_end_matches(['个', '号', '条', '项', '吧', '呢', '啊']);
    if let Ok(n) = core.parse::<usize>() {
        return Some(n);
    }
    const DIGITS: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    DIGITS.iter().position(|d| *d == core).map(|i| i + 1)
}

/// The first active exact/keyword/regex entry that the message satisfies.
fn rule_match(s: &State, ctx: &Ctx, norm: &str) -> Option<Arc<Prepared>> {
    let compact = norm.replace(' ', "");
    s.rules
        .iter()
        .filter(|p| p.entry.active_at(ctx.now))
        .find(|p| match p.entry.match_mode {
            MatchMode::Exact => p.phrasings.iter().any(|ph| ph.compact == compact),
            MatchMode::Keyword => {
                !p.keywords.is_empty() && p.keywords.iter().all(|k| compact.contains(k.as_str()))
            }
            MatchMode::Regex => p.regex.as_ref().is_some_and(|re| re.is_match(norm)),
            MatchMode::Intelligent => false,
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_on_names_a_thing_and_asks_nothing_of_its_own() {
        for t in ["那t恤呢", "保温杯呢", "那黑色的呢", "那xl呢"] {
            assert!(follows_on(t), "{t}");
        }
        for t in [
            "是的呢",
            "好的呢",
            "那这个呢",
            "t恤呢多少钱",
            "那什么时候发货呢",
            "呢",
        ] {
            assert!(!follows_on(t), "{t}");
        }
    }

    #[test]
    fn menu_numbers() {
        for (t, n) in [
            ("2", 2),
            ("2号", 2),
            ("第二个", 2),
            ("三", 3),
            ("第1条", 1),
            ("选2", 2),
            ("我选第二个", 2),
            ("选择3", 3),
            ("是1", 1),
        ] {
            assert_eq!(pick_number(t), Some(n), "{t}");
        }
        for t in ["退货", "选哪个", "是的", "选择困难"] {
            assert_eq!(pick_number(t), None, "{t}");
        }
    }
}
