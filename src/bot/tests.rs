//! Engine tests over a real tantivy index and the real starter KB.

use super::index::Location;
use super::*;
use crate::model::{MatchMode, Price};
use chrono::Duration;

fn engine_with(entries: Vec<KbEntry>, products: Vec<Product>) -> Engine {
    Engine::open(
        Location::Ram,
        KbData {
            entries,
            products,
            lexicon: Lexicon::default(),
            generation: 1,
        },
    )
    .expect("engine")
}

fn starter() -> Engine {
    engine_with(starter::entries(), Vec::new())
}

/// A product with its aliases and attributes, as a shop fills them in.
fn stocked(sku: &str, name: &str, aliases: &[&str], attributes: &[(&str, &str)]) -> Product {
    let mut p = Product::new(sku, name);
    p.aliases = aliases.iter().map(|a| a.to_string()).collect();
    p.attributes = attributes
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    p
}

fn ask(engine: &Engine, text: &str) -> Reply {
    let settings = ShopSettings::default();
    engine.reply(&Ctx::new(&settings, Utc::now()), text)
}

#[test]
fn short_and_long_questions_are_answered_with_the_same_confidence_scale() {
    let e = starter();
    for text in [
        "包邮吗",
        "亲，我想问一下你们家这个东西包不包邮啊，我在上海，买一件也包吗",
    ] {
        let r = ask(&e, text);
        assert_eq!(r.band, Band::Exact, "{text}: {r:?}");
        assert_eq!(r.entry.as_deref(), Some("ship-free"), "{text}");
    }
    for text in [
        "什么时候发货",
        "我昨天下午拍的那件外套，请问一般付款之后多久才能给我发出来呀",
    ] {
        let r = ask(&e, text);
        assert_eq!(
            r.candidates[0].id, "ship-when",
            "{text}: {:?}",
            r.candidates
        );
    }
}

#[test]
fn everyday_questions_a_review_caught_answered_wrong() {
    // Each of these was once answered with confidence by the wrong starter entry.
    let e = starter();
    for (text, id, was) in [
        ("什么时候上新", "item-new-arrivals", "after-exchange-time"),
        ("拍错了", "order-modify", "after-exchange-size"),
        ("袜子多少钱一双", "promo-final-price", "ship-free"),
        ("7天无理由退货运费谁出", "after-return-fee", "after-7day"),
        // A city in a remote province is a remote area.
        ("乌鲁木齐包邮吗", "ship-remote", "ship-free"),
        ("三亚能包邮吗", "ship-remote", "ship-free"),
        // A plain refund request once got the warning about refund scams.
        ("我要退款", "after-refund-apply", "acct-fraud"),
        ("给我退款！", "after-refund-apply", "acct-fraud"),
        ("想退款", "after-refund-apply", "after-refund-cancel"),
        ("怎么退款", "after-refund-apply", "after-refund-amount"),
        ("有人打电话说要给我退款", "acct-fraud", "acct-fraud"),
        // A second review's everyday questions.
        ("质量好吗", "item-quality", "after-quality"),
        ("质量好不好", "item-quality", "after-quality"),
        ("发了吗", "ship-urge", "after-exchange-time"),
        ("到了没", "ship-arrive", "after-return-progress"),
        ("怎么还没到😭", "ship-arrive", "after-insurance"),
        // A third review's: the colour, not whether the photos are real.
        (
            "实物和图片颜色差别大吗",
            "item-color-diff",
            "item-real-photo",
        ),
        ("实物和图片差别大吗", "item-real-photo", "item-real-photo"),
        // A probe's: the plainest return question, price, size.
        ("可以退货吗", "after-7day", "after-refund-only"),
        ("能退吗", "after-7day", "after-return-no-tag"),
        ("可以退貨嗎", "after-7day", "after-refund-only"),
        ("为什么这么贵", "promo-price-diff", "ship-freight-high"),
        ("运费怎么这么贵", "ship-freight-high", "ship-freight-high"),
        ("尺寸多大", "item-spec", "size-recommend"),
        // A call for a human turned down: the question, not the entry about humans.
        ("不用转人工 我就问下包邮吗", "ship-free", "cs-human"),
        ("不需要人工 能开发票吗", "inv-can", "intent:transfer"),
        // A second probe's: orders sent together, not one invoice for them.
        ("我下了三单 能合在一起寄吗", "ship-merge", "inv-merge"),
        ("求券求券🙏", "promo-coupon-get", "(fallback)"),
        // 有X没 asks 有X吗, not "X not yet" (券没领).
        ("有券没", "promo-coupon-get", "promo-coupon-miss"),
        // A fourth probe's: any city is a place, not the one a phrasing names
        // ("…你们在北京有店吗").
        ("下周二之前能到北京吗", "ship-arrive", "cs-shop"),
        ("长沙两天能到不", "ship-arrive", "(fallback)"),
        // Browsing, not a question ("我先看看" got 能拿样品看看吗).
        ("我先看看", "cs-browse", "item-sample"),
        ("不用转人工了 我自己看看", "cs-browse", "(menu) ship-pickup"),
        ("我再考虑一下", "cs-browse", "(fallback)"),
        // A conversation probe's short after-sale questions.
        ("到哪了", "ship-track", "(menu) after-refund-time"),
        ("怎么这么慢", "ship-arrive", "promo-price-diff"),
        ("发票能开吗", "inv-can", "(menu) inv-amount"),
        ("退款一般几天能到", "after-refund-time", "ship-arrive"),
        ("收到的杯子裂了", "ship-damaged", "(menu) ship-damaged"),
    ] {
        let r = ask(&e, text);
        assert_eq!(r.band, Band::Exact, "{text}: {:?}", r.candidates);
        assert_eq!(r.entry.as_deref(), Some(id), "{text}: was {was}");
    }
    // Without a product in view the price is the page's.
    let r = ask(&e, "袜子多少钱一双");
    assert!(
        r.answer.contains("以商品页面显示的价格为准"),
        "{}",
        r.answer
    );
}

#[test]
fn typos_traditional_and_noise_still_match() {
    let e = starter();
    for (text, id) in [
        ("可以换或吗", "after-exchange"),
        ("運費可以到付嗎", "ship-freight-collect"),
        ("ＳＦ能发吗？？？😭", "ship-sf"),
        // Latin abbreviations and English words buyers type.
        ("baoyou吗", "ship-free"),
        ("有invoice吗", "inv-can"),
        ("有coupon吗", "promo-coupon-get"),
        ("yf谁出", "after-return-fee"),
        ("ｋｄ到哪了", "ship-track"),
        // Internet slang: 肿么 is 怎么, 咋整 is 怎么办, 家人们 and 宝子们 address the reader.
        ("肿么退货", "after-return-how"),
        ("杯子碎了咋整", "ship-damaged"),
        ("家人们 杯子摔碎了", "ship-damaged"),
        // Pinyin initials and Cantonese (冇 is 没有, 几耐 is 多久).
        ("hb可以用吗", "pay-huabei"),
        ("bzq多久", "item-shelf-life"),
        ("有冇货", "stock-has"),
        ("寄到广州要几耐先到啊", "ship-arrive"),
    ] {
        let r = ask(&e, text);
        assert_eq!(
            r.candidates.first().map(|c| c.id.as_str()),
            Some(id),
            "{text}: {:?}",
            r.candidates
        );
    }
    let r = ask(&e, "可以换或吗");
    assert!(
        r.explain
            .corrections
            .iter()
            .any(|(from, to)| from == "换或" && to == "换货"),
        "{:?}",
        r.explain
    );
}

#[test]
fn out_of_scope_falls_back_and_the_second_miss_offers_a_human() {
    let e = starter();
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    let r = e.reply(&ctx, "今天天气怎么样");
    assert_eq!(r.band, Band::None, "{r:?}");
    assert!(!r.offer_transfer);
    ctx.unmatched_streak = 1;
    let r = e.reply(&ctx, "地球到月亮有多远");
    assert_eq!(r.band, Band::None, "{r:?}");
    assert!(r.offer_transfer);
    assert!(r.answer.contains("人工"));
}

#[test]
fn a_message_of_particles_only_is_a_greeting_or_nothing() {
    // "在？" once got the stuck-parcel answer through the 在 of "包裹在郑州…停了".
    let e = starter();
    for text in ["在？", "在", "在。", "在？？？", "在不", "老板在吗", "老板"] {
        let r = ask(&e, text);
        assert_eq!(
            (r.band, r.entry.as_deref()),
            (Band::Exact, Some("cs-hello")),
            "{text}: {:?}",
            r.candidates
        );
    }
    // A shop whose KB has no greeting: nothing answers it, rather than anything.
    let mut stuck = KbEntry::new("stuck", "物流怎么不动了", "请耐心等待");
    stuck.similar = vec!["包裹在郑州中转站停了四天没动了".into()];
    let e = engine_with(
        vec![stuck, KbEntry::new("ship", "发什么快递", "中通")],
        vec![],
    );
    for text in ["在？", "在吗", "老板在吗"] {
        let r = ask(&e, text);
        assert_eq!(r.band, Band::None, "{text}: {:?}", r.candidates);
        assert!(r.candidates.is_empty(), "{text}: {:?}", r.candidates);
    }
}

#[test]
fn a_shop_question_about_another_business_is_not_answered() {
    let e = starter();
    for text in [
        "外卖怎么还没到",
        "我的滴滴打车退款怎么还没到",
        "能帮我写个作文吗",
        // A probe's: banks, games and job seekers.
        "游戏充值多久到账",
        "房贷可以分期多少年",
        "你们招客服吗",
        "医保卡怎么用",
        "信用卡额度怎么提额",
    ] {
        let r = ask(&e, text);
        assert_eq!(r.band, Band::None, "{text}: {:?}", r.candidates);
    }
    assert_eq!(ask(&e, "快递怎么还没到").band, Band::Exact);
    assert_eq!(ask(&e, "能用信用卡吗").band, Band::Exact);
    // A shop whose knowledge base speaks of it answers.
    let mut late = KbEntry::new("late", "外卖怎么还没送到", "骑手正在路上");
    late.similar = vec!["外卖超时了".into()];
    let e = engine_with(vec![late, KbEntry::new("pay", "怎么付款", "扫码")], vec![]);
    assert_eq!(ask(&e, "外卖怎么还没到").entry.as_deref(), Some("late"));
    // Inside a longer word of the phrasings counts too ("提额" in "提额度").
    let mut raise = KbEntry::new("raise", "花呗怎么提额度", "按时还款");
    raise.similar = vec!["额度太低了".into()];
    let e = engine_with(vec![raise, KbEntry::new("pay", "怎么付款", "扫码")], vec![]);
    assert_eq!(ask(&e, "花呗怎么提额").entry.as_deref(), Some("raise"));
}

#[test]
fn a_message_of_vague_words_only_is_answered_by_nothing() {
    // "可以吗" got "运费可以到付吗", "是不是" got 正品吗, "有没有" got 领券, all with
    // confidence; "好不" got 在吗 through the 不 of "在不".
    let e = starter();
    for text in [
        "可以吗",
        "行吗",
        "好不",
        "是不是",
        "有没有",
        "怎么样",
        "一样吗",
        "对不对",
        "会吗",
        "没有",
        // A probe's: it got the presale 尾款 answer.
        "那怎么办",
    ] {
        let r = ask(&e, text);
        assert_eq!(r.band, Band::None, "{text}: {:?}", r.candidates);
    }
    // One named thing is enough to be a question.
    for (text, entry) in [
        ("是真的吗", "item-genuine"),
        ("能便宜吗", "promo-bargain"),
        ("在不", "cs-hello"),
    ] {
        assert_eq!(ask(&e, text).entry.as_deref(), Some(entry), "{text}");
    }
}

#[test]
fn intents_come_before_the_kb() {
    let e = starter();
    let r = ask(&e, "转人工");
    assert_eq!(r.intent, Some(Intent::Transfer));
    assert!(r.offer_transfer);
    let r = ask(&e, "我要投诉你们");
    assert_eq!(r.intent, Some(Intent::Complaint));
    assert!(r.offer_transfer && r.answer.contains("抱歉"));
    let r = ask(&e, "好的谢谢👍");
    assert_eq!(r.intent, Some(Intent::Positive));
    assert!(r.rating_invite);
    let rant = format!(
        "我要投诉！{}",
        "你们的东西质量太差了，用了两天就坏了，客服也不回消息，".repeat(8)
    );
    assert_eq!(
        ask(&e, &rant).intent,
        Some(Intent::Complaint),
        "a long rant keeps its opening complaint"
    );
    let r = ask(&e, "收到的衣服有线头");
    assert_eq!(r.intent, None);
    assert_eq!(r.candidates[0].id, "after-quality", "{:?}", r.candidates);
}

#[test]
fn negative_phrasings_veto_their_entry() {
    let mut a = KbEntry::new("when", "什么时候发货", "48小时内发货");
    a.similar = vec!["几天发货".into(), "多久发货".into()];
    a.negative = vec!["什么时候到货".into()];
    let mut b = KbEntry::new("arrive", "几天能到", "一般2-4天");
    b.similar = vec!["多久送到".into()];
    let e = engine_with(vec![a, b], Vec::new());
    let r = ask(&e, "什么时候到货");
    assert_ne!(r.entry.as_deref(), Some("when"), "{r:?}");
    assert!(r.candidates.iter().all(|c| c.id != "when"));
    assert_eq!(r.explain.vetoed, ["when"]);
    assert_eq!(ask(&e, "什么时候发货").entry.as_deref(), Some("when"));
}

#[test]
fn a_guided_menu_is_answered_by_number_or_text() {
    let mut a = KbEntry::new("ret-fee", "退货运费谁出", "质量问题我们出");
    a.similar = vec!["退货邮费谁承担".into()];
    let mut b = KbEntry::new("swap-fee", "换货运费谁出", "换货来回运费我们出");
    b.similar = vec!["换货邮费谁承担".into()];
    let c = KbEntry::new("ret-how", "怎么退货", "订单里申请");
    let e = engine_with(vec![a, b, c], Vec::new());
    let settings = ShopSettings::default();
    let r = e.reply(&Ctx::new(&settings, Utc::now()), "运费谁出");
    assert_eq!(r.band, Band::Guided, "{r:?}");
    assert_eq!(r.menu.len(), 2, "{r:?}");
    assert!(
        r.answer.contains("1.") && r.answer.contains("2."),
        "{}",
        r.answer
    );
    let mut ctx = Ctx::new(&settings, Utc::now());
    let menu = r.menu_ids();
    ctx.menu = &menu;
    let pick = e.reply(&ctx, "2");
    assert_eq!(pick.band, Band::Exact);
    assert_eq!(pick.entry.as_ref(), Some(&r.menu[1].id));
    assert_eq!(pick.explain.route, Route::Menu);
    let by_text = e.reply(&ctx, "换货运费谁出");
    assert_eq!(by_text.entry.as_deref(), Some("swap-fee"));
    assert_eq!(by_text.explain.route, Route::Menu);
    // A yes to a menu of one question picks it; a yes after an answer with one related
    // question does not.
    let one = vec!["ret-how".to_string()];
    ctx.menu = &one;
    for yes in ["是的", "对", "嗯"] {
        let pick = e.reply(&ctx, yes);
        assert_eq!(pick.entry.as_deref(), Some("ret-how"), "{yes}");
    }
    ctx.previous = Some("ret-fee");
    assert_ne!(e.reply(&ctx, "是的").entry.as_deref(), Some("ret-how"));
    // Without the menu, "2" means nothing.
    assert_eq!(
        e.reply(&Ctx::new(&settings, Utc::now()), "2").band,
        Band::None
    );
}

#[test]
fn pre_and_after_sale_answers_and_follow_ups() {
    let mut ret = KbEntry::new("ret", "怎么退货", "默认答案");
    ret.similar = vec!["退货流程".into()];
    ret.pre_sale_answer = Some("支持7天无理由，放心拍".into());
    ret.after_sale_answer = Some("订单里点退款/售后，寄回{{退货地址}}".into());
    ret.follow_ups = vec!["fee".into(), "missing".into()];
    let fee = KbEntry::new("fee", "退货运费谁出", "质量问题我们出");
    let e = engine_with(vec![ret, fee], Vec::new());
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    let r = e.reply(&ctx, "怎么退货");
    assert_eq!(r.answer, "支持7天无理由，放心拍");
    assert_eq!(
        r.follow_ups,
        [FollowUp {
            id: "fee".into(),
            question: "退货运费谁出".into()
        }]
    );
    // "第一个" picks a follow-up when no menu was offered.
    let offered = r.menu_ids();
    let mut next = Ctx::new(&settings, Utc::now());
    next.menu = &offered;
    let pick = e.reply(&next, "第一个");
    assert_eq!(pick.entry.as_deref(), Some("fee"), "{pick:?}");
    assert_eq!(pick.explain.route, Route::Menu);
    ctx.has_order = true;
    let r = e.reply(&ctx, "怎么退货");
    assert_eq!(r.answer, "订单里点退款/售后，寄回售后页面显示的退货地址");
}

#[test]
fn product_questions_are_answered_from_the_product() {
    let mut p = Product::new("T1", "纯棉T恤");
    p.price = Some(Price(9900));
    p.final_price = Some(Price(7990));
    p.stock = Some(3);
    p.attributes.insert("材质".into(), "100%新疆棉".into());
    p.attributes.insert("重量".into(), "180克".into());
    p.attributes.insert("颜色".into(), "白/粉/蓝".into());
    let mut override_entry = KbEntry::new("wash", "怎么洗", "请看洗标");
    override_entry.similar = vec!["能机洗吗".into()];
    override_entry
        .product_answers
        .insert("T1".into(), "{{商品名}}可以机洗，水温不超过30度".into());
    let e = engine_with(vec![override_entry], vec![p]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("T1");
    let r = e.reply(&ctx, "这个多重");
    assert_eq!(r.band, Band::Exact);
    assert_eq!(r.answer, "亲，纯棉T恤的重量是：180克");
    assert_eq!(r.product.as_deref(), Some("T1"));
    assert!(e.reply(&ctx, "什么材质").answer.contains("新疆棉"));
    assert!(e.reply(&ctx, "有货吗").answer.contains("有现货"));
    assert!(e.reply(&ctx, "多少钱").answer.contains("¥79.9"));
    assert!(e.reply(&ctx, "有粉色吗").answer.contains("有粉色哦"));
    assert!(e.reply(&ctx, "有红色吗").answer.contains("暂时没有红色"));
    assert_eq!(
        e.reply(&ctx, "能机洗吗").answer,
        "纯棉T恤可以机洗，水温不超过30度"
    );
    // A SKU typed in another letter case is the same product.
    ctx.product = Some("t1");
    assert_eq!(
        e.reply(&ctx, "这个多重").answer,
        "亲，纯棉T恤的重量是：180克"
    );
    assert_eq!(e.product("t1").map(|p| p.sku), Some("T1".to_string()));
    // Named in the message, without a product in context.
    assert!(ask(&e, "纯棉T恤多少钱").answer.contains("¥79.9"));
    // A shop-policy question the KB answers is not hijacked by a product trigger word.
    let mut protect = KbEntry::new("protect", "价格保护吗", "支持15天价保");
    protect.similar = vec!["降价了能保价吗".into(), "有价保吗".into()];
    let mut p2 = Product::new("T2", "帆布包");
    p2.price = Some(Price(5900));
    let e = engine_with(vec![protect], vec![p2]);
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("T2");
    let r = e.reply(&ctx, "价格保护吗");
    assert_eq!(r.entry.as_deref(), Some("protect"), "{r:?}");
    assert!(e.reply(&ctx, "这个多少钱").answer.contains("¥59"));

    // A bare "有货吗" on a product's page is about that product, even where a KB entry
    // is worded the same way; with no product in view, the entry answers.
    let mut stock = KbEntry::new("stock", "有货吗", "页面上能拍下的规格都有货哦");
    stock.similar = vec!["还有货吗".into(), "有没有现货".into()];
    let mut p3 = Product::new("P3", "休闲裤");
    p3.stock = Some(0);
    p3.attributes.insert("尺码".into(), "S/M/L".into());
    let e = engine_with(vec![stock], vec![p3]);
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("P3");
    for q in ["有货吗", "还有货吗？"] {
        let r = e.reply(&ctx, q);
        assert_eq!(r.product.as_deref(), Some("P3"), "{q}: {r:?}");
        assert!(r.answer.contains("缺货"), "{q}: {}", r.answer);
    }
    assert!(e.reply(&ctx, "有XL吗").answer.contains("S/M/L"));
    assert_eq!(ask(&e, "有货吗").entry.as_deref(), Some("stock"));
}

#[test]
fn the_product_record_beats_the_starter_kbs_general_answers() {
    // A conversation probe's products: the starter KB's general answers ("以包装为准",
    // "材质在详情页") won over what the seller recorded.
    let mut cream = Product::new("SUN", "清爽防晒霜");
    cream
        .attributes
        .insert("保质期".into(), "3年，开封后12个月".into());
    cream
        .attributes
        .insert("适用肤质".into(), "油皮混油更适合".into());
    cream
        .attributes
        .insert("是否防水".into(), "防水防汗".into());
    let mut cup = Product::new("JAR", "焖烧杯");
    cup.price = Some(Price(10900));
    cup.attributes.insert("保温时长".into(), "12小时".into());
    cup.attributes.insert("材质".into(), "316不锈钢内胆".into());
    let mut nuts = Product::new("NUTS", "每日坚果");
    nuts.price = Some(Price(7990));
    nuts.attributes.insert("规格".into(), "30袋×25g".into());
    nuts.attributes
        .insert("生产日期".into(), "2026年10月".into());
    let mut vest = Product::new("VEST", "轻薄羽绒马甲");
    vest.attributes.insert("填充物".into(), "90%白鹅绒".into());
    vest.attributes.insert("尺码".into(), "S/M/L/XL/XXL".into());
    vest.attributes.insert("颜色".into(), "黑/白".into());
    vest.attributes.insert("面料".into(), "20D尼龙".into());
    vest.attributes.insert(
        "尺码建议".into(),
        "S:90-105斤 M:105-120斤 L:125-140斤 XL:140-160斤".into(),
    );
    let mut case = Product::new("CASE", "磁吸手机壳");
    case.attributes
        .insert("适用机型".into(), "Mate60/Mate60 Pro".into());
    let mut film = Product::new("FILM", "钢化膜");
    film.attributes
        .insert("适用型号".into(), "iPhone 15、15 Pro、15 Pro Max".into());
    cup.attributes.insert("适用年龄".into(), "3-6岁".into());
    let e = engine_with(starter::entries(), vec![cream, cup, nuts, vest, case, film]);
    let settings = ShopSettings::default();
    for (sku, q, said) in [
        ("SUN", "保质期多久", "3年"),
        ("SUN", "油皮能用吗", "油皮混油更适合"),
        ("SUN", "油皮能用不", "油皮混油更适合"),
        ("SUN", "防水吗", "防水防汗"),
        ("JAR", "保温多久啊", "12小时"),
        ("JAR", "是316的吗", "316不锈钢"),
        ("NUTS", "一盒几袋", "30袋"),
        ("NUTS", "啥时候生产的", "2026年10月"),
        ("VEST", "是鸭绒还是鹅绒", "90%白鹅绒"),
        ("VEST", "啥面料的", "20D尼龙"),
        // XXXL is no XL ("xxxl" collapsed to "xl").
        ("VEST", "有XXXL吗", "暂时没有XXXL"),
        // A product the message names, not the page's.
        ("NUTS", "焖烧杯多少钱", "¥109"),
        // Which size: from the shop's size advice, by the weight given (the general
        // entry asked for height and weight again).
        ("VEST", "我175 140斤穿啥码", "建议选 L"),
        ("VEST", "165 120斤穿什么码", "建议选 M"),
        ("VEST", "75kg穿多大", "建议选 XL"),
        ("VEST", "穿什么码合适", "尺码建议：S:90-105斤"),
        // Whether it fits a model: yes or no against the models recorded.
        ("CASE", "p70能用不", "暂不适用 P70"),
        ("CASE", "mate60pro能用吗", "适用 MATE60PRO 哦"),
        ("FILM", "iphone14能用吗", "暂不适用 IPHONE14"),
        ("FILM", "15pro适用吗", "适用 15PRO 哦"),
        // A lead-in does not hide the question.
        ("VEST", "算了 有L码吗", "有L哦"),
        ("VEST", "那黑色呢", "有黑色哦"),
    ] {
        let mut ctx = Ctx::new(&settings, Utc::now());
        ctx.product = Some(sku);
        let r = e.reply(&ctx, q);
        assert!(r.answer.contains(said), "{sku} {q}: {}", r.answer);
    }
    // An age is no model.
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("JAR");
    let r = e.reply(&ctx, "3岁能用吗");
    assert!(!r.answer.contains("不适用"), "{}", r.answer);
    // Asking about the white one is not asking whether there is white.
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("VEST");
    let r = e.reply(&ctx, "白色透不透");
    assert!(!r.answer.contains("有白色"), "{}", r.answer);
    // A place in the question is not the product's origin.
    ctx.product = Some("NUTS");
    assert_eq!(
        e.reply(&ctx, "新疆包邮吗").entry.as_deref(),
        Some("ship-remote")
    );
}

#[test]
fn the_same_answer_twice_in_a_row_says_how_to_reach_a_human() {
    let e = starter();
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    let first = e.reply(&ctx, "包邮吗");
    assert_eq!(first.entry.as_deref(), Some("ship-free"));
    assert!(!first.answer.contains("转人工"), "{}", first.answer);
    ctx.previous = Some("ship-free");
    let again = e.reply(&ctx, "到底包不包邮");
    assert_eq!(again.entry.as_deref(), Some("ship-free"));
    assert!(
        again.answer.ends_with(compose::AGAIN_TEXT),
        "{}",
        again.answer
    );
    // Another entry, or one that names the way already: as it is.
    assert!(!e.reply(&ctx, "发什么快递").answer.contains("转人工"));
}

#[test]
fn rule_entries_match_by_their_mode() {
    let mut exact = KbEntry::new("code", "暗号", "您好，暗号正确");
    exact.match_mode = MatchMode::Exact;
    let mut kw = KbEntry::new("invoice-title", "发票抬头", "抬头可以改");
    kw.match_mode = MatchMode::Keyword;
    kw.keywords = vec!["发票".into(), "抬头".into()];
    let mut re = KbEntry::new("order-no", "订单号", "收到订单号");
    re.match_mode = MatchMode::Regex;
    re.pattern = Some(r"^\d{12,20}$".into());
    let e = engine_with(vec![exact, kw, re], Vec::new());
    assert_eq!(ask(&e, "暗号！").entry.as_deref(), Some("code"));
    assert_ne!(
        ask(&e, "暗号是什么").entry.as_deref(),
        Some("code"),
        "exact means exact"
    );
    assert_eq!(
        ask(&e, "我的发票抬头写错了").entry.as_deref(),
        Some("invoice-title")
    );
    assert_eq!(
        ask(&e, "1234567890123456").entry.as_deref(),
        Some("order-no")
    );
    assert_eq!(ask(&e, "123").band, Band::None);
}

#[test]
fn disabled_and_expired_entries_never_answer() {
    let mut off = KbEntry::new("off", "双十一活动几号开始", "11月1日开始");
    off.enabled = false;
    let mut gone = KbEntry::new("gone", "618有什么活动", "满300减40");
    gone.valid_until = Some(Utc::now() - Duration::days(1));
    let mut later = KbEntry::new("later", "年货节什么时候", "1月10日");
    later.valid_from = Some(Utc::now() + Duration::days(1));
    let e = engine_with(vec![off, gone, later], Vec::new());
    for q in ["双十一活动几号开始", "618有什么活动", "年货节什么时候"] {
        let r = ask(&e, q);
        assert_eq!(r.band, Band::None, "{q}: {r:?}");
        assert!(r.candidates.is_empty(), "{q}");
    }
}

#[test]
fn updates_are_answerable_at_once_and_removals_too() {
    let e = starter();
    assert_ne!(
        ask(&e, "你们卖不卖宠物粮").entry.as_deref(),
        Some("pet-food")
    );
    let mut added = KbEntry::new("pet-food", "卖宠物粮吗", "亲，本店暂不销售宠物粮哦");
    added.similar = vec!["有没有狗粮猫粮".into()];
    e.put_entry(added, 2).unwrap();
    assert_eq!(
        ask(&e, "你们卖不卖宠物粮").entry.as_deref(),
        Some("pet-food")
    );
    e.remove_entry("pet-food", 3).unwrap();
    assert_ne!(
        ask(&e, "你们卖不卖宠物粮").entry.as_deref(),
        Some("pet-food")
    );
    assert_eq!(e.generation(), 3);
}

#[test]
fn the_index_is_reused_warm_and_rebuilt_when_missing_or_stale() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Dir(dir.path().join("index"));
    let data = KbData {
        entries: starter::entries(),
        generation: 7,
        ..KbData::default()
    };
    let e = Engine::open(loc.clone(), data.clone()).unwrap();
    assert!(e.rebuilt_on_open());
    drop(e);
    let e = Engine::open(loc.clone(), data.clone()).unwrap();
    assert!(!e.rebuilt_on_open(), "a warm start reuses the index");
    assert_eq!(ask(&e, "包邮吗").entry.as_deref(), Some("ship-free"));
    drop(e);
    // The store moved on without the index (a crash between the two writes).
    let newer = KbData {
        generation: 8,
        ..data.clone()
    };
    let e = Engine::open(loc.clone(), newer.clone()).unwrap();
    assert!(e.rebuilt_on_open());
    drop(e);
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let e = Engine::open(loc, newer).unwrap();
    assert!(e.rebuilt_on_open());
    assert_eq!(ask(&e, "包邮吗").entry.as_deref(), Some("ship-free"));
}

#[test]
fn any_input_gives_a_reply() {
    use rand::{Rng, SeedableRng};
    let e = starter();
    let settings = ShopSettings::default();
    let ctx = Ctx::new(&settings, Utc::now());
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let pools: [&[char]; 4] = [
        &['\0', '\u{7}', '\n', '\t', '\u{202e}', '\u{feff}', ' '],
        &['发', '货', '退', '吗', '亲', '？', '！', '，'],
        &['😭', '👍', '🙏', '\u{1F9D1}', '\u{200D}', 'Ａ', 'ｂ', '１'],
        &['a', 'Z', '9', '%', '{', '}', '<', '>'],
    ];
    for _ in 0..300 {
        let len = rng.random_range(0..60);
        let text: String = (0..len)
            .map(|_| {
                let pool = pools[rng.random_range(0..pools.len())];
                pool[rng.random_range(0..pool.len())]
            })
            .collect();
        let r = e.reply(&ctx, &text);
        assert!(!r.answer.is_empty(), "{text:?}");
    }
    for text in [
        "",
        " ",
        "{{店铺名}}",
        &"退货".repeat(50_000),
        &"\u{0}".repeat(1000),
    ] {
        assert!(!e.reply(&ctx, text).answer.is_empty());
    }
}

#[test]
fn cached_replies_follow_the_clock_the_settings_and_the_context() {
    let start = Utc::now();
    let mut sale = KbEntry::new("sale", "双十二有什么活动", "{{店铺名}}全场满200减30");
    sale.valid_until = Some(start + Duration::hours(1));
    let e = engine_with(vec![sale], Vec::new());
    let settings = ShopSettings {
        shop_name: "小二杂货铺".into(),
        ..ShopSettings::default()
    };
    let q = "双十二有什么活动";
    let at = |t| Ctx::new(&settings, t);
    let first = e.reply(&at(start), q);
    assert_eq!(first.answer, "小二杂货铺全场满200减30");
    let again = e.reply(&at(start), q);
    assert_eq!(
        (again.answer, again.entry, again.confidence),
        (first.answer.clone(), first.entry.clone(), first.confidence),
        "the same question, the same reply"
    );
    // The entry expires: the cached reply does not outlive it.
    let later = e.reply(&at(start + Duration::hours(2)), q);
    assert_eq!(later.band, Band::None, "{later:?}");
    // New settings fill the answer anew.
    let mut renamed = settings.clone();
    renamed.shop_name = "新店名".into();
    let r = e.reply(&Ctx::new(&renamed, start), q);
    assert_eq!(r.answer, "新店名全场满200减30");
    // A miss after a miss hands over; the cache keeps the two apart.
    let nonsense = "阿巴阿巴阿巴";
    let mut missed = at(start);
    assert!(!e.reply(&missed, nonsense).offer_transfer);
    missed.unmatched_streak = 1;
    assert!(e.reply(&missed, nonsense).offer_transfer);
}

#[test]
fn a_repeated_question_shares_the_cached_reply_and_a_changed_one_does_not() {
    let e = engine_with(
        vec![KbEntry::new("ship", "什么时候发货", "48小时内发货")],
        Vec::new(),
    );
    let settings = ShopSettings::default();
    let ctx = Ctx::new(&settings, Utc::now());
    let first = e.reply_shared(&ctx, "什么时候发货");
    let again = e.reply_shared(&ctx, "什么时候发货");
    assert!(Arc::ptr_eq(&first, &again), "worked out once, then shared");
    let copied = e.reply(&ctx, "什么时候发货");
    assert_eq!(
        (&copied.answer, copied.confidence),
        (&first.answer, first.confidence)
    );
    assert_eq!(first.answer, "48小时内发货");
    let other = e.reply_shared(&ctx, "什么时候发货呀");
    assert!(!Arc::ptr_eq(&first, &other));
    assert_eq!(other.entry.as_deref(), Some("ship"));
    // Past the cached length every reply is worked out afresh.
    let long = format!("什么时候发货{}", "呀".repeat(80));
    assert!(!Arc::ptr_eq(
        &e.reply_shared(&ctx, &long),
        &e.reply_shared(&ctx, &long)
    ));
}

#[test]
fn anyone_there_is_greeted_until_the_bot_has_failed_the_buyer() {
    let e = starter();
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    for t in ["有人吗", "有人在吗？"] {
        let r = e.reply(&ctx, t);
        assert_eq!(
            (r.intent, r.entry.as_deref()),
            (None, Some("cs-hello")),
            "{t}"
        );
    }
    ctx.unmatched_streak = 1;
    assert_eq!(e.reply(&ctx, "有人吗").intent, Some(Intent::Transfer));
    // A greeting before a question: only the question is answered.
    for (t, id) in [
        ("在吗 有优惠券吗", "promo-coupon-get"),
        ("客服在吗 问下能开发票吗", "inv-can"),
    ] {
        let r = ask(&e, t);
        assert_eq!(r.entry.as_deref(), Some(id), "{t}: {:?}", r.candidates);
        assert!(
            r.also.is_empty() && !r.answer.contains("欢迎光临"),
            "{t}: {r:?}"
        );
    }
    // Not the shop's business: applying for a credit card, restoring chat logs.
    for t in ["怎么申请信用卡", "微信聊天记录怎么恢复"] {
        assert_ne!(ask(&e, t).band, Band::Exact, "{t}");
    }
}

#[test]
fn smart_assist_helps_with_questions_only_and_offers_nothing_unrelated() {
    let e = starter();
    let settings = ShopSettings::default();
    let ctx = Ctx::new(&settings, Utc::now());
    for small_talk in ["转人工", "谢谢亲"] {
        assert_eq!(e.assist(&ctx, small_talk, 3), None, "{small_talk}");
    }
    let found = e.assist(&ctx, "可以开发票吗", 3).unwrap();
    assert!(
        !found.is_empty() && found[0].answer.contains("发票"),
        "{found:?}"
    );
    // Words that share next to nothing with any entry still rank candidates; the agent
    // is not shown them. A weak but real match is still offered.
    let chat = "我家猫咪昨晚生了五只小猫都很可爱";
    assert!(!ask(&e, chat).candidates.is_empty());
    assert_eq!(e.assist(&ctx, chat, 3), Some(Vec::new()));
    let weak = e.assist(&ctx, "我买的杯子漏水", 3).unwrap();
    assert!(!weak.is_empty() && weak.iter().all(|a| a.score >= ASSIST_MIN));
    // The agent is the human the answers send the buyer to.
    let stuck = e.assist(&ctx, "物流三天没更新了", 3).unwrap();
    assert!(!stuck.is_empty(), "{stuck:?}");
    assert!(
        stuck.iter().all(|a| !a.answer.contains("转人工")),
        "{stuck:?}"
    );
    // A call for a human with a question beside it: help with the question.
    let beside = e.assist(&ctx, "我想问问能不能开发票 转人工", 3).unwrap();
    assert!(
        !beside.is_empty() && beside[0].answer.contains("发票"),
        "{beside:?}"
    );
}

#[test]
fn smart_assist_offers_the_product_record_first() {
    let mut tee = Product::new("TX001", "纯棉短袖T恤");
    tee.attributes.insert("尺码".into(), "S/M/L/XL".into());
    let e = engine_with(
        vec![KbEntry::new("wrong-item", "发错货了", "亲，实在抱歉")],
        vec![tee],
    );
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("TX001");
    let found = e.assist(&ctx, "有XL吗", 3).unwrap();
    assert_eq!(found[0].question, "商品信息：纯棉短袖T恤", "{found:?}");
    assert_eq!(
        found[0].answer,
        "亲，纯棉短袖T恤有XL哦～ 现有尺码：S/M/L/XL"
    );
}

#[test]
fn industry_phrasings_follow_entry_updates() {
    // Two entries asking the same thing share no starter phrasings; once one is
    // removed, the other borrows them, and its index document is rewritten.
    let shop = [
        ("kd", "你们发什么快递？"),
        ("kd2", "默认发什么快递？"),
        ("yf", "包邮吗？"),
        ("fp", "可以开发票吗？"),
        ("bx", "保修多久？"),
    ];
    let e = engine_with(
        shop.iter()
            .map(|(id, q)| KbEntry::new(id, q, "答案"))
            .collect(),
        Vec::new(),
    );
    let text = "拍了之后想知道寄的是圆通还是中通呀";
    let r = ask(&e, text);
    assert!(r.band != Band::Exact || !r.explain.industry, "{r:?}");
    e.remove_entry("kd2", 2).unwrap();
    let r = ask(&e, text);
    assert_eq!(
        (r.band, r.entry.as_deref()),
        (Band::Exact, Some("kd")),
        "{r:?}"
    );
    assert!(r.explain.industry);
    // An entry added later borrows at once; an entry given enough phrasings of its
    // own stops borrowing.
    e.put_entry(KbEntry::new("tf", "退货运费谁出？", "答案"), 3)
        .unwrap();
    let text = "裙子不喜欢要退回去，寄回的快递费我要自己掏吗";
    assert_eq!(ask(&e, text).entry.as_deref(), Some("tf"));
    let mut tf = KbEntry::new("tf", "退货运费谁出？", "答案");
    tf.similar = (1..=6).map(|i| format!("退货运费问法{i}")).collect();
    e.put_entry(tf, 4).unwrap();
    let r = ask(&e, text);
    assert!(!r.explain.industry, "{r:?}");
}

#[test]
fn a_message_asking_two_things_gets_both_answered_in_order() {
    let e = starter();
    let free = ask(&e, "包邮吗").answer;
    let when = ask(&e, "什么时候发货").answer;
    let r = ask(&e, "包邮吗？什么时候发货");
    assert_eq!(r.band, Band::Exact);
    assert_eq!(r.entry.as_deref(), Some("ship-free"));
    assert_eq!(r.also, ["ship-when"]);
    assert_eq!(r.answer, format!("{free}\n{when}"));
    let r = ask(&e, "什么时候发货 包邮不");
    assert_eq!(r.entry.as_deref(), Some("ship-when"));
    assert_eq!(r.answer, format!("{when}\n{free}"));
    // What led to the question is not a second question, and a loose follow-on is
    // left to the first ("买两件呢" alone would be 怎么下单).
    for text in [
        "钱扣了 订单还是待付款",
        "衣服有线头，能退吗",
        "能便宜点吗 买两件呢",
    ] {
        let r = ask(&e, text);
        assert!(r.also.is_empty(), "{text}: {:?}", r.also);
    }
    // The same question twice is answered once.
    let r = ask(&e, "包邮吗？？包邮吗");
    assert_eq!((r.answer.as_str(), r.also.len()), (free.as_str(), 0));
}

#[test]
fn a_message_not_answered_whole_gets_its_parts_answered_and_the_rest_named() {
    let tent = stocked(
        "TENT",
        "全自动速开帐篷",
        &[],
        &[
            ("收纳尺寸", "直径约85cm"),
            ("重量", "约4.2kg"),
            ("容量", "3-4人"),
            ("少件", "少件少地钉联系客服免费补发"),
        ],
    );
    let e = engine_with(starter::entries(), vec![tent]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("TENT");
    // Too long to be one product question; the situation asks nothing of its own, and
    // "重不重" asks as much as "重吗".
    let r = e.reply(&ctx, "收起来多大 重不重 我要放电动车上");
    assert_eq!(r.band, Band::Exact, "{r:?}");
    assert!(
        r.answer.contains("直径约85cm") && r.answer.contains("约4.2kg"),
        "{}",
        r.answer
    );
    assert!(!r.answer.contains("答不准"), "{}", r.answer);
    // A part nothing answers is named, not dropped.
    let r = e.reply(&ctx, "收起来多大 山顶上风大会不会被吹跑");
    assert!(r.answer.contains("直径约85cm"), "{}", r.answer);
    assert!(
        r.answer
            .contains("“山顶上风大会不会被吹跑”这个问题小二还答不准"),
        "{}",
        r.answer
    );
    // Beside a part the record answers, a part the knowledge base is sure of is
    // answered too.
    let cheaper = e.reply(&ctx, "能便宜点不").answer;
    let r = e.reply(&ctx, "能便宜点不 收起来多大 我要放电动车上");
    assert_eq!(
        r.answer,
        format!("{cheaper}\n亲，全自动速开帐篷的收纳尺寸是：直径约85cm")
    );
    // A general entry answering the whole gives way to the record answering a part,
    // here by a word its value holds.
    let hoodie = stocked(
        "NZ-03",
        "宽松加绒连帽卫衣",
        &[],
        &[("版型", "oversize落肩，衣长约68cm（M码）")],
    );
    let e2 = engine_with(starter::entries(), vec![hoodie]);
    let mut on_hoodie = Ctx::new(&settings, Utc::now());
    on_hoodie.product = Some("NZ-03");
    let r = e2.reply(&on_hoodie, "衣长多少 能盖住屁股不");
    assert!(r.answer.contains("衣长约68cm"), "{r:?}");
    // Not one about shipping: a late parcel is no question of when it ships.
    let text = "我3天前拍的卫衣怎么还没发货？？说好48小时发的";
    let before = e2.reply(&on_hoodie, text).entry;
    let shipping = stocked(
        "NZ-03",
        "宽松加绒连帽卫衣",
        &[],
        &[("发货", "付款后48小时内发货")],
    );
    let e3 = engine_with(starter::entries(), vec![shipping]);
    let r = e3.reply(&on_hoodie, text);
    assert_eq!(r.entry, before, "{r:?}");
    assert_ne!(r.explain.route, Route::Product, "{r:?}");
    // Without one, a short part of a long story is no sure question.
    let r = e.reply(&ctx, "拿到手发现拉链是坏的 怎么处理");
    assert_ne!(r.explain.route, Route::Product, "{r:?}");
    // A question in the buyer's own words: the attribute sharing them.
    let r = e.reply(&ctx, "我家是电动车 收纳后直径多少能放下");
    assert!(r.answer.contains("直径约85cm"), "{r:?}");
    assert_eq!(r.explain.route, Route::Search);
    // A problem told, with no question word: what the record says of it.
    let r = e.reply(&ctx, "帐篷到了 杆子有一根裂了 还少了两个地钉");
    assert!(r.answer.contains("免费补发"), "{r:?}");
    // A message answered whole stays one answer ("钱扣了 订单还是待付款" above).
    let r = e.reply(&ctx, "在吗 重不重");
    assert!(
        r.answer.contains("约4.2kg") && !r.answer.contains("答不准"),
        "{}",
        r.answer
    );
}

#[test]
fn a_weight_given_after_a_size_question_answers_it() {
    let hoodie = stocked(
        "NZ-03",
        "加绒卫衣",
        &[],
        &[("尺码建议", "宽松版，M:90-110斤；L:110-130斤")],
    );
    let e = engine_with(starter::entries(), vec![hoodie]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("NZ-03");
    let first = e.reply(&ctx, "穿什么码合适");
    assert!(first.answer.contains("尺码建议"), "{}", first.answer);
    ctx.previous_ask = first.asked.as_deref();
    let r = e.reply(&ctx, "我都说了165 130斤啊");
    assert!(r.answer.contains("建议选 L"), "{}", r.answer);
}

#[test]
fn a_products_name_typed_by_sound_names_it() {
    let sofa = stocked(
        "JJ-01",
        "布艺沙发",
        &["沙发"],
        &[("面料", "科技布，外套可拆洗")],
    );
    let bed = stocked(
        "JJ-02",
        "乳胶床垫",
        &["床垫"],
        &[("面料", "针织面料，外套带拉链可拆洗")],
    );
    let e = engine_with(starter::entries(), vec![sofa, bed]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("JJ-02");
    let r = e.reply(&ctx, "沙法套能拆洗吗");
    assert_eq!(r.product.as_deref(), Some("JJ-01"), "{r:?}");
    assert!(r.answer.contains("科技布"), "{}", r.answer);
    // A word the knowledge base writes stays itself ("包邮" is no product).
    assert!(e.reply(&ctx, "包邮吗").explain.normalized.contains("包邮"));
}

#[test]
fn the_same_question_about_several_products_named_is_answered_for_each() {
    let mut sofa = stocked(
        "JJ-01",
        "布艺沙发",
        &["沙发"],
        &[
            ("环保等级", "E0级板材，海绵无甲醛胶"),
            ("发货", "付款后7天内发货，物流3-7天到"),
        ],
    );
    let mut bed = stocked(
        "JJ-02",
        "乳胶床垫",
        &["床垫"],
        &[
            ("环保等级", "乳胶无甲醛"),
            ("发货", "48小时内发货，3-5天到"),
        ],
    );
    sofa.final_price = Some(Price(219900));
    bed.final_price = Some(Price(159900));
    let e = engine_with(starter::entries(), vec![sofa, bed]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("JJ-01");
    for (text, first, second) in [
        (
            "你家沙发 床垫 甲醛都多少啊 刚怀孕",
            "海绵无甲醛胶",
            "乳胶无甲醛",
        ),
        // In the order named, and the same question of the one after 呢.
        (
            "那床垫呢 那个是几天到 跟沙发比哪个快",
            "48小时内发货",
            "付款后7天内发货",
        ),
        ("沙发什么时候发货 床垫呢", "付款后7天内发货", "48小时内发货"),
        // With a price asked: each price and the sum, not the price of one.
        ("床垫加沙发一共多少钱", "乳胶床垫 ¥1599", "布艺沙发 ¥2199"),
    ] {
        let r = e.reply(&ctx, text);
        let (a, b) = (r.answer.find(first), r.answer.find(second));
        assert!(
            a.is_some() && b.is_some() && a < b,
            "{text}: {} {:?}",
            r.answer,
            r.explain
        );
    }
}

#[test]
fn an_answer_naming_the_thing_asked_about_orders_close_candidates() {
    // Neither phrasing names the earphones; the second entry's answer does.
    let mut charger = KbEntry::new("charger", "这个怎么用", "插上电源，指示灯亮起即可使用");
    charger.similar = vec!["怎么使用".into()];
    let mut earphones = KbEntry::new(
        "earphones",
        "那个怎么用",
        "打开耳机盒，在手机蓝牙里配对即可使用",
    );
    earphones.similar = vec!["如何使用".into()];
    let e = engine_with(vec![charger, earphones], vec![]);
    let r = ask(&e, "耳机怎么用");
    // (Without it the two tie, and ties go by id: charger first.)
    assert_eq!(r.candidates[0].id, "earphones", "{:?}", r.candidates);
}

#[test]
fn a_recommendation_names_products_in_stock() {
    let mut rec = KbEntry::new("rec", "有什么推荐的", "亲～说说用途哦；{{在售商品}}");
    rec.similar = vec!["推荐一下".into(), "你们家都卖些什么".into()];
    let mut nuts = Product::new("FD-01", "每日坚果");
    nuts.price = Some(Price(12900));
    nuts.final_price = Some(Price(9900));
    let mut cake = Product::new("FD-03", "鲜花饼");
    cake.stock = Some(0);
    let jerky = Product::new("FD-02", "牛肉干");
    let e = engine_with(vec![rec.clone()], vec![nuts, cake, jerky]);
    let settings = ShopSettings::default();
    let r = e.reply(&Ctx::new(&settings, Utc::now()), "有什么推荐的");
    assert_eq!(
        r.answer, "亲～说说用途哦；店里在售的有：每日坚果（¥99）、牛肉干，可以点开看看～",
        "sold-out 鲜花饼 is not offered"
    );
    // Without products on record: the shop's front page.
    let bare = engine_with(vec![rec], Vec::new());
    let r = bare.reply(&Ctx::new(&settings, Utc::now()), "有什么推荐的");
    assert_eq!(r.answer, "亲～说说用途哦；也可以看看店铺首页的热销榜呢。");
}

#[test]
fn naming_another_product_before_a_question_asks_it_of_that_product() {
    let mut nuts = Product::new("FD-01", "每日坚果");
    nuts.attributes
        .insert("净含量".into(), "750g（30袋）".into());
    nuts.attributes.insert("规格".into(), "30袋/箱".into());
    let mut jerky = Product::new("FD-02", "手工牛肉干");
    jerky.aliases = vec!["牛肉干".into()];
    jerky.attributes.insert("净含量".into(), "250g".into());
    let e = engine_with(Vec::new(), vec![nuts, jerky]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("FD-01");
    ctx.previous_ask = Some("规格");
    let r = e.reply(&ctx, "那个牛肉干呢 多重");
    assert_eq!(r.answer, "亲，手工牛肉干的净含量是：250g", "{r:?}");
    assert_eq!(r.product.as_deref(), Some("FD-02"));
}

#[test]
fn a_product_name_alone_does_not_pick_an_entry_that_mentions_it() {
    let mut spoiled = KbEntry::new("spoiled", "吃的东西变质了", "请先不要食用");
    spoiled.similar = vec!["打开牛肉干有股哈喇味".into(), "零食受潮了".into()];
    let mut keep = KbEntry::new("keep", "芒果怎么保存", "放阴凉处");
    keep.similar = vec!["芒果放冰箱吗".into()];
    let cherries = KbEntry::new("cherries", "车厘子怎么保存", "冷藏");
    let ship = KbEntry::new("ship", "发什么快递", "中通");
    let mut jerky = Product::new("FD-02", "手工牛肉干");
    jerky.aliases = vec!["牛肉干".into()];
    jerky.attributes.insert("口味".into(), "原味/麻辣".into());
    let e = engine_with(
        vec![spoiled, keep, cherries, ship],
        vec![
            jerky,
            Product::new("FR-01", "芒果"),
            Product::new("FR-02", "车厘子"),
        ],
    );
    // Taste asked of the product, not a spoiled-food complaint.
    let r = ask(&e, "牛肉干好吃吗");
    assert_eq!(r.entry, None, "{r:?}");
    assert_eq!(r.answer, "亲，手工牛肉干的口味是：原味/麻辣");
    // Nothing of the product's record answers it: the entry is not offered either.
    let r = ask(&e, "牛肉干咸吗");
    assert_eq!(r.band, Band::None, "{r:?}");
    // The rest of the message still names the trouble; an entry about the product
    // named keeps it; a general question still gets its entry.
    assert_eq!(
        ask(&e, "牛肉干有股哈喇味").entry.as_deref(),
        Some("spoiled")
    );
    assert_eq!(ask(&e, "芒果怎么保存").entry.as_deref(), Some("keep"));
    assert_eq!(ask(&e, "牛肉干发什么快递").entry.as_deref(), Some("ship"));
}

#[test]
fn the_stock_on_record_beats_the_general_stock_entry() {
    let mut stock = KbEntry::new("stock", "有货吗", "页面上能选的就有货");
    stock.similar = vec!["还有货吗".into(), "现在有现货吗".into()];
    let mut harness = Product::new("PET-04", "胸背带");
    harness.stock = Some(0);
    harness.attributes.insert("尺码".into(), "S/M/L/XL".into());
    let e = engine_with(vec![stock], vec![harness]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("PET-04");
    let r = e.reply(&ctx, "那就是L吧 有货吗");
    assert_eq!(r.entry, None, "{r:?}");
    assert!(r.answer.contains("暂时缺货"), "{}", r.answer);
}

#[test]
fn another_product_named_beside_the_one_in_view_does_not_take_its_place() {
    let free = KbEntry::new("free", "满多少包邮", "满59包邮");
    let mut litter = Product::new("PET-02", "豆腐猫砂");
    litter.aliases = vec!["猫砂".into()];
    litter.price = Some(Price(2990));
    litter.stock = Some(80);
    let mut food = Product::new("PET-01", "成猫粮");
    food.aliases = vec!["猫粮".into()];
    food.price = Some(Price(9900));
    food.stock = Some(0);
    let e = engine_with(vec![free], vec![litter, food]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("PET-02");
    let r = e.reply(&ctx, "这个和你家猫粮一起拍 满多少包邮");
    assert_eq!(r.entry.as_deref(), Some("free"), "{r:?}");
    assert_eq!(
        r.product.as_deref(),
        Some("PET-02"),
        "the litter stays in view"
    );
    let r = e.reply(&ctx, "和猫粮比哪个好");
    assert_ne!(r.product.as_deref(), Some("PET-01"), "{r:?}");
    // Named alone, the other product is the one asked about.
    let r = e.reply(&ctx, "猫粮满多少包邮");
    assert_eq!(r.product.as_deref(), Some("PET-01"));
    let r = e.reply(&ctx, "这个猫粮满多少包邮");
    assert_eq!(r.product.as_deref(), Some("PET-01"));
    // Two named, nothing else asked and no sure entry: what the shop has of them.
    let fresh = Ctx::new(&settings, Utc::now());
    let r = e.reply(&fresh, "猫砂和猫粮是一个地方发货吗");
    assert!(!r.answer.contains("店里有"), "{r:?}");
    let r = e.reply(&fresh, "买猫砂加猫粮一共多少");
    assert_eq!(
        r.answer,
        "亲，豆腐猫砂 ¥29.9 + 成猫粮 ¥99（暂时缺货），一起买共 ¥128.9，以下单页显示为准哦（店铺满减、优惠券会在结算时再减）～"
    );
    let r = e.reply(&fresh, "你家有没有猫用的猫砂和猫粮 推荐下");
    assert_eq!(
        r.answer,
        "亲，店里有：豆腐猫砂（到手价 ¥29.9，有现货）；成猫粮（到手价 ¥99，暂时缺货），想了解哪一款可以直接问我哦～"
    );
    // Worn under the one in view, another product is no question about itself.
    let hoodie = stocked(
        "NZ-03",
        "加绒卫衣",
        &[],
        &[("尺码建议", "M:90-110斤；L:110-130斤")],
    );
    let cardigan = stocked("NZ-04", "针织开衫", &["毛衣"], &[("尺码建议", "S:80-95斤")]);
    let e = engine_with(Vec::new(), vec![hoodie, cardigan]);
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("NZ-03");
    let r = e.reply(&ctx, "163 110斤 里面要穿毛衣 拿m还是l");
    assert_eq!(r.product.as_deref(), Some("NZ-03"), "{r:?}");
    assert!(r.answer.contains("加绒卫衣"), "{r:?}");
    // The one in view pointed at by its alias, another product beside it.
    let pot = stocked(
        "CY-06",
        "宜兴紫砂壶",
        &["壶"],
        &[("使用方法", "适合泡普洱、红茶、乌龙")],
    );
    let green = stocked("CY-01", "西湖龙井", &["龙井"], &[("产地", "杭州")]);
    let e = engine_with(Vec::new(), vec![pot, green]);
    ctx.product = Some("CY-06");
    let r = e.reply(&ctx, "这个壶泡绿茶行吗 我买了你家龙井");
    assert!(r.answer.contains("宜兴紫砂壶"), "{r:?}");
    // Two named, each asked without the other's name.
    let film = stocked(
        "SJ-03",
        "钢化膜",
        &[],
        &[("适用机型", "iPhone 14/15/16"), ("搭配手机壳", "不顶壳")],
    );
    let case = stocked("SJ-04", "手机壳", &[], &[("适用机型", "iPhone 12-15")]);
    let e = engine_with(Vec::new(), vec![film, case]);
    let r = e.reply(&fresh, "钢化膜和手机壳有iphone16的吗");
    assert_eq!(
        r.answer,
        "亲，钢化膜适用 IPHONE16 哦～（适用机型：iPhone 14/15/16）\n亲，手机壳暂不适用 IPHONE16 哦，适用机型：iPhone 12-15"
    );
    // A sold-out product asked about from elsewhere: the answer says it is sold out.
    let mut bank = stocked(
        "SJ-05",
        "磁吸充电宝",
        &[],
        &[("功率", "无线15W"), ("缺货说明", "预计12月3日到货")],
    );
    bank.stock = Some(0);
    let e = engine_with(Vec::new(), vec![bank]);
    let r = e.reply(&fresh, "磁吸充电宝功率多大");
    assert_eq!(
        r.answer,
        "亲，磁吸充电宝的功率是：无线15W（这款目前暂时缺货：预计12月3日到货）"
    );
    let mut on_page = Ctx::new(&settings, Utc::now());
    on_page.product = Some("SJ-05");
    let r = e.reply(&on_page, "功率多大");
    assert_eq!(r.answer, "亲，磁吸充电宝的功率是：无线15W");
    // Named by their kind (桌子 for two tables):
    // the listing, not the first one's summary.
    let dining = stocked("T-1", "实木餐桌", &[], &[("尺寸", "1.4m")]);
    let desk = stocked("T-2", "电脑书桌", &[], &[("尺寸", "1.2m")]);
    let e = engine_with(Vec::new(), vec![dining, desk]);
    let r = e.reply(&fresh, "有桌子吗");
    assert_eq!(
        r.answer,
        "亲，店里有：实木餐桌；电脑书桌，想了解哪一款可以直接问我哦～"
    );
    assert_eq!(r.product.as_deref(), Some("T-1"), "the first listed");
    // On a page, 桌子 is the page's own.
    let mut on_desk = Ctx::new(&settings, Utc::now());
    on_desk.product = Some("T-2");
    let r = e.reply(&on_desk, "桌子多大");
    assert_eq!(r.answer, "亲，电脑书桌的尺寸是：1.2m");
    // Another kind than the page's names its product ("裙子" on the jeans' page).
    let jeans = stocked("NZ-02", "高腰牛仔裤", &[], &[("尺码建议", "26:92-100斤")]);
    let dress = stocked("NZ-01", "碎花连衣裙", &[], &[("尺码建议", "S:80-95斤")]);
    let e = engine_with(Vec::new(), vec![jeans, dress]);
    let mut on_jeans = Ctx::new(&settings, Utc::now());
    on_jeans.product = Some("NZ-02");
    let r = e.reply(&on_jeans, "152 95斤 裙子穿什么码");
    assert_eq!(r.product.as_deref(), Some("NZ-01"), "{r:?}");
    // A kind the page's record speaks of is the page's own thing.
    let cake = stocked(
        "CY-03",
        "普洱茶饼",
        &[],
        &[("包装", "可另购木质茶饼盒（+35元）")],
    );
    let gift = stocked("CY-07", "茶叶礼盒", &[], &[("礼袋", "每盒配1个礼袋")]);
    let e = engine_with(Vec::new(), vec![cake, gift]);
    let mut on_cake = Ctx::new(&settings, Utc::now());
    on_cake.product = Some("CY-03");
    let r = e.reply(&on_cake, "送人的话有盒子吗");
    assert_ne!(r.product.as_deref(), Some("CY-07"), "{r:?}");
}

#[test]
fn an_option_picked_by_its_words_gives_way_to_the_products_record() {
    let care = KbEntry::new("care", "怎么洗", "请看洗标");
    let mut set = Product::new("HOME-01", "四件套");
    set.attributes
        .insert("洗涤方式".into(), "30℃以下机洗，不可漂白".into());
    let e = engine_with(vec![care], vec![set]);
    let settings = ShopSettings::default();
    let offered = vec!["care".to_string()];
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("HOME-01");
    ctx.menu = &offered;
    let r = e.reply(&ctx, "怎么洗");
    assert_eq!(
        r.answer, "亲，四件套的洗涤方式是：30℃以下机洗，不可漂白",
        "{r:?}"
    );
    // A number picks the option.
    assert_eq!(e.reply(&ctx, "1").entry.as_deref(), Some("care"));
}

#[test]
fn characters_an_attribute_shares_by_chance_give_way_to_the_shops_policy() {
    let case = stocked(
        "SJ-04",
        "透明手机壳",
        &[],
        &[("退换", "支持7天无理由退换；发错型号包邮换")],
    );
    let e = engine_with(starter::entries(), vec![case]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("SJ-04");
    let r = e.reply(&ctx, "包邮吗");
    assert_eq!(r.entry.as_deref(), Some("ship-free"), "{r:?}");
    // Asked by its words, the product's own rule still answers.
    let r = e.reply(&ctx, "能退吗");
    assert!(r.answer.contains("发错型号包邮换"), "{r:?}");
    // Who pays the postage: the rule saying nothing of it gives way to the shop's entry.
    let buds = stocked(
        "SJ-06",
        "蓝牙耳机",
        &[],
        &[("退换", "支持7天无理由（需未拆封）；质量问题一年内换新")],
    );
    let e = engine_with(starter::entries(), vec![buds]);
    ctx.product = Some("SJ-06");
    let r = e.reply(&ctx, "质量问题退货运费你们出吗");
    assert_eq!(r.entry.as_deref(), Some("after-return-fee"), "{r:?}");
}

#[test]
fn how_a_product_ships_is_its_own_but_an_order_is_where_it_is() {
    let tea = stocked(
        "CY-01",
        "西湖龙井",
        &[],
        &[("发货", "下午4点前付款当天发，江浙沪次日达")],
    );
    let e = engine_with(starter::entries(), vec![tea]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("CY-01");
    let r = e.reply(&ctx, "我在上海 今天下单明天能到不");
    assert!(r.answer.contains("江浙沪次日达"), "{r:?}");
    // Money arriving is no parcel arriving.
    let r = e.reply(&ctx, "退款多久到账");
    assert!(!r.answer.contains("江浙沪次日达"), "{r:?}");
    // A dispatch time alone does not say when it arrives.
    let cup = stocked(
        "CUP-01",
        "保温杯",
        &[],
        &[("发货", "48小时内发货，默认中通")],
    );
    let e2 = engine_with(starter::entries(), vec![cup]);
    let mut on_cup = Ctx::new(&settings, Utc::now());
    on_cup.product = Some("CUP-01");
    let r = e2.reply(&on_cup, "寄江苏几天到");
    assert!(!r.answer.contains("保温杯的发货"), "{r:?}");
    // After buying, "多久能到" asks where the order is.
    ctx.has_order = true;
    let r = e.reply(&ctx, "多久能到");
    assert!(!r.answer.contains("江浙沪次日达"), "{r:?}");
    assert!(r.entry.is_some(), "{r:?}");
}

#[test]
fn which_product_suits_a_need_is_answered_from_each_record() {
    let green = stocked(
        "CY-01",
        "西湖龙井",
        &[],
        &[(
            "适合人群",
            "绿茶偏凉，胃寒胃不好的空腹别喝；晚上喝容易睡不着",
        )],
    );
    let dark = stocked(
        "CY-03",
        "普洱熟茶",
        &[],
        &[
            ("适合人群", "熟普性温和养胃，胃不好的可以喝"),
            ("是否送礼", "可以，送长辈挺合适"),
        ],
    );
    let pot = stocked("CY-06", "紫砂壶", &[], &[("容量", "220ml")]);
    let e = engine_with(starter::entries(), vec![green, dark, pot]);
    let settings = ShopSettings::default();
    let ctx = Ctx::new(&settings, Utc::now());
    let r = e.reply(&ctx, "你家哪款茶适合胃不好的人喝");
    assert_eq!(
        r.answer,
        "亲，各款的说明供您参考：\n西湖龙井：绿茶偏凉，胃寒胃不好的空腹别喝\n普洱熟茶：熟普性温和养胃，胃不好的可以喝"
    );
    // On a page, "哪个" alone is about the page's product.
    let mut on_page = Ctx::new(&settings, Utc::now());
    on_page.product = Some("CY-01");
    let r = e.reply(&on_page, "胃不好喝哪个");
    assert!(!r.answer.starts_with("亲，各款"), "{r:?}");
    let r = e.reply(&on_page, "你家哪款适合胃不好的");
    assert!(r.answer.starts_with("亲，各款"), "{r:?}");
    // One product saying something of it is no comparison.
    let r = e.reply(&ctx, "哪款适合送长辈");
    assert!(!r.answer.starts_with("亲，各款"), "{r:?}");
}

#[test]
fn the_shop_is_asked_for_things_places_and_variants() {
    let mut steak = stocked(
        "SX-01",
        "原切西冷牛排",
        &["西冷"],
        &[
            ("到货时间", "江浙沪皖次日达；西南、东北2-3天"),
            ("不发地区", "新疆、西藏、青海不发"),
            ("替代推荐", "着急要可以先看SX-06"),
        ],
    );
    steak.final_price = Some(Price(19900));
    let mut orange = stocked(
        "SX-06",
        "果冻橙",
        &["橙子"],
        &[("规格", "5斤装到手35.8元；10斤礼盒装到手69.8元")],
    );
    orange.final_price = Some(Price(3580));
    let mut gift = stocked(
        "SX-07",
        "海鲜礼盒",
        &["礼盒"],
        &[("内容", "牛排+白虾，送黑椒汁")],
    );
    gift.final_price = Some(Price(49800));
    let e = engine_with(starter::entries(), vec![steak, orange, gift]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("SX-01");
    // Where it ships, by the clause naming the place; where it does not.
    let r = e.reply(&ctx, "我在南京 今天下单明天能到不");
    assert_eq!(r.answer, "亲，原切西冷牛排可以发南京哦～江浙沪皖次日达");
    // From a buyer with an order, where the order is.
    let mut bought = ctx.clone();
    bought.has_order = true;
    let r = e.reply(&bought, "深圳到杭州还要几天啊");
    assert!(!r.answer.contains("可以发"), "{r:?}");
    // Whether it goes somewhere is still the product's.
    let r = e.reply(&bought, "有个客户在西宁 能发吗");
    assert!(r.answer.contains("暂时不发西宁"), "{r:?}");
    let r = e.reply(&ctx, "发西宁吗");
    assert!(r.answer.contains("暂时不发西宁"), "{r:?}");
    // A thing no product is, from the page: what the shop sells instead.
    let r = e.reply(&ctx, "你家有玻璃杯吗");
    assert_eq!(
        r.answer,
        "亲，小店暂时没有玻璃杯哦～目前在售的有：西冷、橙子、礼盒，想了解哪一款可以直接问我～"
    );
    // Not sold alone, but with a product; and a general entry gives way when the shop
    // is asked whether it sells it.
    let r = e.reply(&ctx, "有没有卖黑椒汁的");
    assert_eq!(
        r.answer,
        "亲，小店没有单独卖黑椒汁哦～海鲜礼盒的内容是：牛排+白虾，送黑椒汁"
    );
    // A SKU in a note reads as the product's name.
    let r = e.reply(&ctx, "替代推荐");
    assert!(r.answer.contains("先看橙子"), "{r:?}");
    // A variant priced on its own is not summed at the usual price; the orange's gift
    // box is no second product.
    let r = e.reply(&ctx, "西冷加橙子10斤礼盒 一共多少钱");
    assert!(!r.answer.contains("一起买共"), "{r:?}");
    assert!(r.answer.contains("69.8"), "{r:?}");
    assert!(!r.answer.contains("海鲜礼盒"), "{r:?}");
    let r = e.reply(&ctx, "西冷和橙子一共多少钱");
    assert!(r.answer.contains("一起买共 ¥234.8"), "{r:?}");
}

#[test]
fn an_item_the_buyer_bought_is_where_their_order_is() {
    let base = stocked(
        "MZ-03",
        "轻薄粉底液",
        &["粉底液"],
        &[("发货", "现货，48小时内发货，圆通")],
    );
    let e = engine_with(starter::entries(), vec![base]);
    let settings = ShopSettings::default();
    let now = Utc::now();
    let order = crate::model::Order {
        channel: "taobao".into(),
        order_id: "TB301".into(),
        buyer: crate::model::conv::BuyerId(1),
        items: vec![crate::model::OrderItem {
            sku: "MZ-03".into(),
            name: "轻薄粉底液 #02".into(),
            qty: 1,
            price: None,
        }],
        status: "paid".into(),
        amount: None,
        paid: None,
        logistics: None,
        created_at: now,
        updated_at: now,
    };
    let orders = [order];
    let mut ctx = Ctx::new(&settings, now);
    ctx.product = Some("MZ-03");
    ctx.has_order = true;
    ctx.orders = &orders;
    let r = e.reply(&ctx, "亲 我昨天拍的粉底液发货了没");
    assert!(r.answer.contains("TB301"), "{r:?}");
    // Changing the order is no question of the product.
    let r = e.reply(&ctx, "能改成圆通吗");
    assert!(!r.answer.contains("发货是"), "{r:?}");
    // How it ships, asked of the product, is still the product's.
    let r = e.reply(&ctx, "粉底液发什么快递");
    assert!(!r.answer.contains("TB301"), "{r:?}");
}

#[test]
fn a_reason_beside_a_question_is_not_the_question() {
    let pot = stocked(
        "CY-06",
        "宜兴紫砂壶",
        &["紫砂壶"],
        &[("是否送礼", "可以，锦盒包装"), ("容量", "220ml")],
    );
    let e = engine_with(starter::entries(), vec![pot]);
    let settings = ShopSettings::default();
    let mut ctx = Ctx::new(&settings, Utc::now());
    ctx.product = Some("CY-06");
    let r = e.reply(&ctx, "紫砂壶能刻字吗 想刻个名字送人");
    assert!(!r.answer.contains("锦盒"), "{r:?}");
    // Asked, the same attribute answers; what is the matter is part of the question.
    let r = e.reply(&ctx, "想送人 送长辈合适吗");
    assert!(r.answer.contains("锦盒"), "{r:?}");
    let r = e.reply(&ctx, "送长辈的 这个行吗");
    assert!(r.answer.contains("锦盒"), "{r:?}");
}
