//! Turning a matched entry into the words the buyer reads: the right answer variant
//! (product override, after-sale, pre-sale, default), variables filled, and the texts
//! of guided menus, intents and fallbacks.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{KbEntry, Order, Product, ShopSettings};

/// Picks the answer for the context: a per-product override first, then the after-sale
/// or pre-sale variant, then the default. A variant telling the order's progress
/// (`{{订单进度}}`) needs orders to tell of: without, the default answer is given.
pub fn choose<'a>(
    entry: &'a KbEntry,
    product: Option<&Product>,
    has_order: bool,
    orders_known: bool,
) -> &'a str {
    if let Some(a) = product.and_then(|p| entry.product_answers.get(&p.sku)) {
        return a;
    }
    let stage = if has_order {
        entry.after_sale_answer.as_deref()
    } else {
        entry.pre_sale_answer.as_deref()
    };
    match stage {
        Some(a) if orders_known || !a.contains(PROGRESS) => a,
        _ => &entry.answer,
    }
}

/// Answers tell the buyer to 回复“转人工” for what the bot cannot do; an agent
/// offered the answer (智能辅助) is that human. Each rule, in order, rewrites such a
/// clause to what the agent says ("请回复“转人工”并提供订单号" → "请提供订单号").
static FOR_AGENT: LazyLock<Vec<(Regex, &str)>> = LazyLock::new(|| {
    const ASK: &str = "回复[“\"「]?转人工[”\"」]?";
    [
        ("(?:并|，)?(提供|发送)", "$1"),
        ("并", ""),
        ("，?告诉(?:客服|我们)", "告诉我"),
        ("发给客服", "发给我"),
        ("让客服", "让我"),
        ("咨询", "告诉我"),
        ("，客服", "告诉我，我"),
        ("会为您转接售后客服", "我会为您处理"),
        ("", "告诉我"),
    ]
    .into_iter()
    .filter_map(|(tail, to)| Some((Regex::new(&format!("{ASK}{tail}")).ok()?, to)))
    .collect()
});

/// `answer` as an agent sends it: the clauses asking the buyer to call a human, who
/// is the one sending it, rewritten (see `FOR_AGENT`).
pub fn for_agent(answer: &str) -> String {
    FOR_AGENT.iter().fold(answer.to_string(), |text, (re, to)| {
        re.replace_all(&text, *to).into_owned()
    })
}

/// The variable telling the buyer's orders' progress.
const PROGRESS: &str = "{{订单进度}}";
/// Orders `{{订单进度}}` tells of at most.
const MAX_TOLD: usize = 3;

/// The orders a reply is about: those the message names by order number, else by an
/// item's name ("我的T恤到哪了"), else those in progress (see `Order::in_progress`);
/// newest first, at most three. `norm` is the normalized message (lower case) and
/// `orders` the buyer's orders, newest first.
pub fn orders_about<'o>(norm: &str, orders: &'o [Order]) -> Vec<&'o Order> {
    if orders.is_empty() {
        return Vec::new();
    }
    let named = named_orders(norm, orders);
    if !named.is_empty() {
        return named;
    }
    let compact = norm.replace(' ', "");
    let by_item: Vec<&Order> = orders
        .iter()
        .filter(|o| o.in_progress())
        .filter(|o| o.items.iter().any(|i| names_item(&compact, &i.name)))
        .collect();
    if !by_item.is_empty() {
        return by_item.into_iter().take(MAX_TOLD).collect();
    }
    orders
        .iter()
        .filter(|o| o.in_progress())
        .take(MAX_TOLD)
        .collect()
}

/// Whether a message names an item: all of its name, or two characters of it in a row
/// ("t恤" for 纯棉T恤, "保温杯" for 316不锈钢保温杯), leaving out pairs with a particle.
fn names_item(compact: &str, name: &str) -> bool {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    name.len() >= 2
        && name.windows(2).any(|w| {
            w.iter()
                .all(|c| c.is_alphanumeric() && !"的了我你是有和".contains(*c))
                && compact.contains(&w.iter().collect::<String>())
        })
}

/// The orders `norm` names by number ("TB101到哪了"), newest first, at most three.
pub fn named_orders<'o>(norm: &str, orders: &'o [Order]) -> Vec<&'o Order> {
    if orders.is_empty() {
        return Vec::new();
    }
    let compact = norm.replace(' ', "");
    orders
        .iter()
        .filter(|o| {
            o.order_id.chars().count() >= MIN_ORDER_ID
                && compact.contains(&o.order_id.to_lowercase())
        })
        .take(MAX_TOLD)
        .collect()
}

/// Words asking where an order is ("我的充电头到哪了").
const TRACKING: &[&str] = &[
    "到哪",
    "还没到",
    "没收到",
    "什么时候到",
    "几时到",
    "发货了吗",
    "发了吗",
    "发货没",
    "发货了没",
    "发了没",
    "发出了吗",
    "发出没",
    "物流",
    "快递到",
];

/// The orders in progress a message asks where they are by an item's name ("我的充电头
/// 到哪了 怎么还没到"), if it asks that.
pub fn tracked_items<'o>(norm: &str, orders: &'o [Order]) -> Vec<&'o Order> {
    if orders.is_empty() || !TRACKING.iter().any(|w| norm.contains(w)) {
        return Vec::new();
    }
    let compact = norm.replace(' ', "");
    orders
        .iter()
        .filter(|o| o.in_progress())
        .filter(|o| o.items.iter().any(|i| names_item(&compact, &i.name)))
        .take(MAX_TOLD)
        .collect()
}

/// Shortest order number looked for in a message: shorter ones ("1", "12") turn up in
/// counts and sizes.
const MIN_ORDER_ID: usize = 5;

/// Replaces `{{name}}` variables with shop settings, product and order facts. A
/// product or order variable without one in context reads naturally ("这款商品"); unknown
/// names are dropped rather than shown to a buyer.
pub fn fill(
    template: &str,
    settings: &ShopSettings,
    product: Option<&Product>,
    orders: &[&Order],
) -> String {
    fill_with_catalog(template, settings, product, orders, &[])
}

/// `fill`, with the shop's products for `{{在售商品}}`.
pub fn fill_with_catalog(
    template: &str,
    settings: &ShopSettings,
    product: Option<&Product>,
    orders: &[&Order],
    catalog: &[&Product],
) -> String {
    if !template.contains("{{") {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len() + 32);
    for (plain, name) in crate::model::settings::variable_pieces(template) {
        out.push_str(plain);
        match name {
            Some("在售商品") => out.push_str(&on_sale(catalog)),
            Some(name) => out.push_str(&value(name, settings, product, orders)),
            None => {}
        }
    }
    out
}

/// Products `{{在售商品}}` names at most.
const ON_SALE: usize = 5;

/// `{{在售商品}}`: a clause naming up to five products in stock, with their prices
/// ("店里在售的有：每日坚果（¥99）、牛肉干（¥59），可以点开看看～"), or pointing at the
/// shop's front page when there are none on record.
fn on_sale(catalog: &[&Product]) -> String {
    let mut names: Vec<&&Product> = catalog.iter().filter(|p| p.stock != Some(0)).collect();
    names.sort_by(|a, b| a.sku.cmp(&b.sku));
    if names.is_empty() {
        return "也可以看看店铺首页的热销榜呢。".into();
    }
    let listed: Vec<String> = names
        .iter()
        .take(ON_SALE)
        .map(|p| match p.pay_price() {
            Some(price) => format!("{}（¥{price}）", p.name),
            None => p.name.clone(),
        })
        .collect();
    format!("店里在售的有：{}，可以点开看看～", listed.join("、"))
}

/// `{{到手价}}` when the price is not known here: it reads after "到手价是" or "到手价".
const PRICE_ON_PAGE: &str = "以商品页面显示的价格为准";

fn value(
    name: &str,
    settings: &ShopSettings,
    product: Option<&Product>,
    orders: &[&Order],
) -> String {
    if let Some((_, v)) = settings.variables().into_iter().find(|(n, _)| *n == name) {
        return v;
    }
    match (name, product) {
        ("商品名", Some(p)) => p.name.clone(),
        ("商品名", None) => "这款商品".into(),
        ("到手价", Some(p)) => match p.pay_price() {
            Some(price) => format!("¥{price}"),
            None => PRICE_ON_PAGE.into(),
        },
        ("到手价", None) => PRICE_ON_PAGE.into(),
        ("商品链接", Some(p)) => p.link.clone().unwrap_or_default(),
        ("商品参数", Some(p)) => parameters(p),
        ("订单进度", _) => progress(orders, settings),
        _ => String::new(),
    }
}

/// Attributes `{{商品参数}}` lists at most.
const PARAMETERS: usize = 6;

/// Longest attribute value `{{商品参数}}` shows (size tables have their own question).
const PARAMETER_CHARS: usize = 40;

/// `{{商品参数}}`: a sentence giving the product's first attributes as recorded
/// ("猫爬架的参数：尺寸：高150cm；材质：剑麻。"), or nothing when none are.
fn parameters(p: &Product) -> String {
    let listed: Vec<String> = p
        .attributes
        .iter()
        .filter(|(_, v)| v.chars().count() <= PARAMETER_CHARS)
        .take(PARAMETERS)
        .map(|(k, v)| format!("{k}：{v}"))
        .collect();
    if listed.is_empty() {
        return String::new();
    }
    format!("{}的参数：{}。", p.name, listed.join("；"))
}

/// `{{订单进度}}`: where each of `orders` stands, one sentence each, from what the
/// platform bridge last sent (`POST /api/v1/orders`); without orders, where to look.
pub fn progress(orders: &[&Order], settings: &ShopSettings) -> String {
    if orders.is_empty() {
        return "订单的最新状态在“我的订单”里可以查看哦。".into();
    }
    orders
        .iter()
        .map(|o| one_order(o, settings))
        .collect::<Vec<_>>()
        .join("")
}

fn one_order(o: &Order, settings: &ShopSettings) -> String {
    let what = match o.items.as_slice() {
        [] => String::new(),
        [one] => format!("（{}）", one.name),
        [first, rest @ ..] => format!("（{}等{}件）", first.name, rest.len() + 1),
    };
    let id = format!("{}{what}", o.order_id);
    let logistics = o
        .logistics
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    match (o.status.as_str(), logistics) {
        ("paid", _) => format!(
            "您的订单{id}已付款，正在等待发货，会在付款后{}内发出哦。",
            settings.ship_within
        ),
        ("shipped", Some(l)) => format!("您的订单{id}已经发货啦，物流最新进度：{l}。"),
        ("shipped", None) => {
            format!("您的订单{id}已经发货啦，在订单详情里能看到快递单号和实时物流哦。")
        }
        ("delivered", Some(l)) => {
            format!("您的订单{id}显示已签收（{l}），还没拿到的话看看快递柜、驿站或问问门卫哦。")
        }
        ("delivered", None) => {
            format!("您的订单{id}显示已签收，还没拿到的话看看快递柜、驿站或问问门卫哦。")
        }
        ("refunding", _) => format!("您的订单{id}正在退款处理中，进度在售后详情里可以查看哦。"),
        ("refunded", _) => format!("您的订单{id}已退款，款项会按原支付方式退回哦。"),
        ("completed", _) => format!("您的订单{id}已完成，有售后问题随时找我哦。"),
        ("created" | "unpaid", _) => format!(
            "您的订单{id}还没有付款，付款后{}内发货哦。",
            settings.ship_within
        ),
        (_, _) => format!("您的订单{id}当前状态：{}。", o.status_label()),
    }
}

/// The numbered menu of a guided reply.
/// `after_miss`: the bot failed the buyer on the message before too, so the menu also
/// says how to reach a human.
pub fn menu(questions: &[&str], after_miss: bool) -> String {
    let mut text = if let [only] = questions {
        format!("亲，您是想问“{only}”吗？是的话回复 1 即可～")
    } else {
        let mut text = String::from("亲，您是想问以下哪个问题呢？");
        for (i, q) in questions.iter().enumerate() {
            text.push_str(&format!("\n{}. {q}", i + 1));
        }
        text.push_str("\n回复数字即可～");
        text
    };
    if after_miss {
        text.push_str(MENU_HUMAN);
    }
    text
}

/// The end of a guessing menu after a miss, offering a human.
const MENU_HUMAN: &str = "\n都不是的话，回复“转人工”联系人工客服。";

/// What the bot says when it cannot answer; the second miss in a row offers a human.
pub fn fallback(offer_transfer: bool) -> &'static str {
    if offer_transfer {
        "抱歉，小二没能理解您的问题😥 已为您转接人工客服，请稍候；您也可以换个说法再问我。"
    } else {
        "抱歉，这个问题小二还不太明白，您可以换个说法再问一次，或回复“转人工”联系人工客服。"
    }
}

/// Whether `text` is the first miss's reply or a menu after a miss, which offer a human.
pub fn offers_human(text: &str) -> bool {
    text == fallback(false) || text.ends_with(MENU_HUMAN)
}

/// `text` (see [`offers_human`]) for a shop where no human can be reached now:
/// "回复“转人工”" would lead nowhere, so it says when humans are back (`back`, "明天
/// 09:00"), or, with the bot serving alone, only asks the buyer to rephrase.
pub fn without_humans(text: &str, back: Option<&str>) -> String {
    let later = match back {
        Some(back) => format!("人工客服 {back} 上班，届时回复“转人工”即可联系"),
        None => "说得具体些小二更容易找到答案哦".to_string(),
    };
    match text.strip_suffix(MENU_HUMAN) {
        Some(menu) => format!("{menu}\n都不是的话，可以换个说法再问；{later}。"),
        None => format!("抱歉，这个问题小二还不太明白，您可以换个说法再问一次；{later}。"),
    }
}

/// Added to the answers to the parts of a message that could be answered, naming the
/// parts that could not ("「一家三口够吗」这个…").
pub fn not_answered(parts: &[&str]) -> Option<String> {
    if parts.is_empty() {
        return None;
    }
    let named: Vec<String> = parts.iter().map(|p| format!("“{p}”")).collect();
    Some(format!(
        "{}这个问题小二还答不准，需要的话回复“转人工”，人工客服帮您看哦～",
        named.join("、")
    ))
}

/// Added to an answer the buyer got on the turn before too.
pub const AGAIN_TEXT: &str = "\n如果还没解决您的问题，回复“转人工”联系人工客服哦～";

/// The reply to a request for a human.
pub const TRANSFER_TEXT: &str = "好的，正在为您转接人工客服，请稍候～";
/// The reply to a complaint: apologise, show it matters, hand over.
pub const COMPLAINT_TEXT: &str =
    "非常抱歉给您带来了不好的体验！您反映的问题我们非常重视，已为您优先转接人工客服处理，请稍候。";
/// The apology for a complaint when no human can take it (a notice of why follows).
pub const COMPLAINT_SORRY_TEXT: &str = "非常抱歉给您带来了不好的体验！您反映的问题我们非常重视。";
/// Why there is no transfer when the shop has set the bot to serve alone.
pub const BOT_ONLY_TEXT: &str = "亲，现在由机器人小二为您服务，暂时不能转接人工客服；您的问题可以详细告诉小二，小二尽力为您解答。";
/// The reply to thanks and the like, with a rating invitation.
pub const POSITIVE_TEXT: &str =
    "不客气哦亲～ 有问题随时找小二。如果对本次服务满意，麻烦给我们一个评价，谢谢您！";
/// The reply to thanks from a buyer already invited to rate.
pub const THANKS_TEXT: &str = "不客气哦亲～ 有问题随时找小二。";
/// The reply to "好的" or "好的 我去申请" after an answer: an acknowledgement, not
/// "不客气" to a buyer who thanked nobody.
pub const ACK_TEXT: &str = "好的亲～ 有问题随时找小二。";
/// `ACK_TEXT` with the rating invitation.
pub const ACK_INVITE_TEXT: &str =
    "好的亲～ 有问题随时找小二。如果对本次服务满意，麻烦给我们一个评价，谢谢您！";
/// The reply to a friendly "嗯嗯" or "😊" before anything was asked or answered.
pub const WELCOME_TEXT: &str = "亲～在的呢，请问有什么可以帮您？😊";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Price;

    #[test]
    fn an_agent_says_the_answers_without_sending_the_buyer_to_a_human() {
        for (answer, said) in [
            (
                "运输途中丢件由我们处理，请回复“转人工”并提供订单号哦。",
                "运输途中丢件由我们处理，请提供订单号哦。",
            ),
            (
                "请回复“转人工”，客服马上帮您查仓库进度哦",
                "请告诉我，我马上帮您查仓库进度哦",
            ),
            ("请回复“转人工”告诉客服您的选择哦", "请告诉我您的选择哦"),
            (
                "请回复“转人工”，告诉客服需要的款式和数量",
                "请告诉我需要的款式和数量",
            ),
            ("请拍照回复“转人工”发给客服", "请拍照发给我"),
            (
                "如有特殊需要请回复\"转人工\"咨询呢",
                "如有特殊需要请告诉我呢",
            ),
            ("请回复“转人工”提供订单号", "请提供订单号"),
            ("超过1天请回复转人工帮您加急", "超过1天请告诉我帮您加急"),
            ("亲～包邮哦", "亲～包邮哦"),
        ] {
            assert_eq!(for_agent(answer), said);
        }
        // Every starter answer, and every variant of it.
        for e in crate::bot::starter::entries() {
            for a in [
                Some(&e.answer),
                e.pre_sale_answer.as_ref(),
                e.after_sale_answer.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                assert!(
                    !for_agent(a).contains("转人工"),
                    "{}: {}",
                    e.id,
                    for_agent(a)
                );
            }
        }
    }

    #[test]
    fn variables_from_settings_and_product() {
        let s = ShopSettings::default();
        let mut p = Product::new("A1", "纯棉T恤");
        p.price = Some(Price(9900));
        p.final_price = Some(Price(7990));
        let t = "{{店铺名}}的{{商品名}}到手价{{到手价}}，{{发货时效}}内发{{快递}}，客服时间{{客服时间}}{{不存在}}";
        assert_eq!(
            fill(t, &s, Some(&p), &[]),
            "我的小店的纯棉T恤到手价¥79.9，48小时内发中通、圆通、韵达，客服时间09:00-23:00"
        );
        assert_eq!(fill("{{商品名}}有货", &s, None, &[]), "这款商品有货");
        let mut tree = Product::new("PET-03", "猫爬架");
        tree.attributes.insert("尺寸".into(), "高150cm".into());
        tree.attributes.insert("材质".into(), "剑麻".into());
        let spec = "亲～{{商品参数}}更多参数见详情页";
        assert_eq!(
            fill(spec, &s, Some(&tree), &[]),
            "亲～猫爬架的参数：尺寸：高150cm；材质：剑麻。更多参数见详情页"
        );
        assert_eq!(fill(spec, &s, None, &[]), "亲～更多参数见详情页");
        // Without a product the price is the page's, said once.
        assert_eq!(
            fill("{{商品名}}现在到手价是{{到手价}}", &s, None, &[]),
            "这款商品现在到手价是以商品页面显示的价格为准"
        );
        assert_eq!(fill("未闭合 {{店铺名", &s, None, &[]), "未闭合 {{店铺名");
    }

    fn order(id: &str, status: &str, item: &str) -> Order {
        Order {
            channel: "web".into(),
            order_id: id.into(),
            buyer: crate::model::BuyerId(1),
            items: vec![crate::model::OrderItem {
                sku: "A1".into(),
                name: item.into(),
                qty: 1,
                price: None,
            }],
            status: status.into(),
            amount: None,
            paid: None,
            logistics: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn order_progress_says_where_each_order_stands() {
        let s = ShopSettings::default();
        let mut o = order("TB1001", "paid", "纯棉T恤");
        let t = "亲～{{订单进度}}";
        assert_eq!(
            fill(t, &s, None, &[&o]),
            "亲～您的订单TB1001（纯棉T恤）已付款，正在等待发货，会在付款后48小时内发出哦。"
        );
        o.status = "shipped".into();
        o.logistics = Some("中通 7531：已到达杭州转运中心".into());
        assert_eq!(
            fill(t, &s, None, &[&o]),
            "亲～您的订单TB1001（纯棉T恤）已经发货啦，物流最新进度：中通 7531：已到达杭州转运中心。"
        );
        o.items.push(o.items[0].clone());
        o.status = "delivered".into();
        o.logistics = Some("  ".into());
        assert!(
            fill(t, &s, None, &[&o])
                .starts_with("亲～您的订单TB1001（纯棉T恤等2件）显示已签收，还没拿到")
        );
        o.status = "completed".into();
        assert!(fill(t, &s, None, &[&o]).contains("已完成"));
        // No order: where to look.
        assert_eq!(
            fill(t, &s, None, &[]),
            "亲～订单的最新状态在“我的订单”里可以查看哦。"
        );
        // A status word a bridge sent before statuses were checked is shown as is.
        o.status = "挂起".into();
        assert_eq!(
            fill(t, &s, None, &[&o]),
            "亲～您的订单TB1001（纯棉T恤等2件）当前状态：挂起。"
        );
    }

    #[test]
    fn the_orders_told_of_are_those_named_else_those_in_progress() {
        let shipped = order("TB101", "shipped", "纯棉T恤");
        let paid = order("TB102", "paid", "保温杯");
        let done = order("TB100", "completed", "帽子");
        let all = [paid.clone(), shipped.clone(), done.clone()];
        let ids = |v: Vec<&Order>| v.iter().map(|o| o.order_id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(orders_about("我的快递到哪了", &all)),
            ["TB102", "TB101"]
        );
        assert_eq!(ids(orders_about("tb101到哪了", &all)), ["TB101"]);
        assert_eq!(ids(orders_about("tb100 还能退吗", &all)), ["TB100"]);
        assert_eq!(ids(orders_about("我的纯棉t恤到哪了", &all)), ["TB101"]);
        assert!(orders_about("到哪了", &[done]).is_empty());
        // A short number is no order number: "买了1件" does not name order "1".
        let one = order("1", "shipped", "袜子");
        assert!(named_orders("买了1件到哪了", std::slice::from_ref(&one)).is_empty());
    }

    #[test]
    fn answer_variant_order() {
        let mut e = KbEntry::new("ret", "怎么退货", "默认");
        // An order-progress variant needs orders to tell of.
        let mut ship = KbEntry::new("ship", "到哪了", "默认");
        ship.after_sale_answer = Some("亲～{{订单进度}}".into());
        assert_eq!(choose(&ship, None, true, true), "亲～{{订单进度}}");
        assert_eq!(choose(&ship, None, true, false), "默认");
        e.pre_sale_answer = Some("售前".into());
        e.after_sale_answer = Some("售后".into());
        e.product_answers.insert("A1".into(), "这款不退".into());
        let p = Product::new("A1", "x");
        let other = Product::new("B2", "y");
        assert_eq!(choose(&e, Some(&p), true, false), "这款不退");
        assert_eq!(choose(&e, Some(&other), true, false), "售后");
        assert_eq!(choose(&e, None, false, false), "售前");
        e.pre_sale_answer = None;
        assert_eq!(choose(&e, None, false, false), "默认");
    }

    #[test]
    fn menu_numbers_the_options() {
        assert_eq!(
            menu(&["a", "b"], false),
            "亲，您是想问以下哪个问题呢？\n1. a\n2. b\n回复数字即可～"
        );
        assert_eq!(
            menu(&["a"], false),
            "亲，您是想问“a”吗？是的话回复 1 即可～"
        );
        assert!(menu(&["a"], true).ends_with("都不是的话，回复“转人工”联系人工客服。"));
        // With nobody to take the buyer, the menu tells when humans are back instead.
        assert!(offers_human(&menu(&["a", "b"], true)) && offers_human(fallback(false)));
        assert!(!offers_human(&menu(&["a"], false)) && !offers_human("包邮哦"));
        let m = without_humans(&menu(&["a", "b"], true), Some("明天 09:00"));
        assert!(m.starts_with(&menu(&["a", "b"], false)), "{m}");
        assert!(
            m.ends_with(
                "都不是的话，可以换个说法再问；人工客服 明天 09:00 上班，届时回复“转人工”即可联系。"
            ),
            "{m}"
        );
    }
}
