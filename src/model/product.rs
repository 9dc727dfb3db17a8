//! Products the bot can talk about (商品关联): names, prices, attributes, stock.

use super::Invalid;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An amount in yuan, kept in fen (cents) so it never rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(pub u64);

impl Price {
    /// Parses `59`, `59.9`, `59.90`, `¥59.90` or `59.90元`.
    pub fn parse(s: &str) -> Option<Price> {
        let s = s
            .trim()
            .trim_start_matches(['¥', '￥'])
            .trim_end_matches('元')
            .trim();
        let (yuan, fen) = s.split_once('.').unwrap_or((s, ""));
        if yuan.is_empty()
            || fen.len() > 2
            || !yuan.bytes().all(|b| b.is_ascii_digit())
            || !fen.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let fen: u64 = format!("{fen:0<2}").parse().ok()?;
        yuan.parse::<u64>()
            .ok()?
            .checked_mul(100)?
            .checked_add(fen)
            .map(Price)
    }
}

impl fmt::Display for Price {
    /// `59.9` for 5990 fen, `59` for 5900, `59.95` for 5995.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (yuan, fen) = (self.0 / 100, self.0 % 100);
        match fen {
            0 => write!(f, "{yuan}"),
            n if n % 10 == 0 => write!(f, "{yuan}.{}", n / 10),
            n => write!(f, "{yuan}.{n:02}"),
        }
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Price, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(serde_json::Number),
        }
        let text = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::N(n) => n.to_string(),
        };
        Price::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a price: {text:?}")))
    }
}

/// A product of the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Stock-keeping unit, the product's id.
    pub sku: String,
    pub name: String,
    /// Other names buyers use (昵称, 简称).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// List price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// What the buyer pays after coupons (到手价).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_price: Option<Price>,
    /// 尺码, 材质, 颜色, 重量 … by name, in the order the shop wrote them.
    #[serde(default)]
    pub attributes: IndexMap<String, String>,
    /// Units in stock; `None` when the shop does not track it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    /// The product page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The product's main picture (shown on the buyer's chat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// SKUs recommended with this one (推荐/搭配).
    #[serde(default)]
    pub related: Vec<String>,
}

impl Product {
    /// Its name, then its aliases: every name buyers may call it by.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.name).chain(&self.aliases)
    }

    /// A product with only a SKU and a name.
    pub fn new(sku: &str, name: &str) -> Product {
        Product {
            sku: sku.into(),
            name: name.into(),
            aliases: Vec::new(),
            price: None,
            final_price: None,
            attributes: IndexMap::new(),
            stock: None,
            link: None,
            image: None,
            related: Vec::new(),
        }
    }

    /// The price a buyer pays: the 到手价 if set, else the list price.
    pub fn pay_price(&self) -> Option<Price> {
        self.final_price.or(self.price)
    }

    /// Checks the product's own rules.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut inv = Invalid::default();
        if self.sku.trim().is_empty() || self.sku.chars().any(|c| c.is_whitespace() || c == '/') {
            inv.add("sku", "请填写商品编码（不能含空格或斜杠）");
        }
        if self.name.trim().is_empty() {
            inv.add("name", "请填写商品名称");
        }
        if self.stock.is_some_and(|n| n < 0) {
            inv.add("stock", "库存不能小于 0");
        }
        let web = |l: &Option<String>| {
            l.as_deref()
                .is_none_or(|l| l.starts_with("http://") || l.starts_with("https://"))
        };
        if !web(&self.link) {
            inv.add("link", "链接应以 http:// 或 https:// 开头");
        }
        // The buyer's page loads pictures over https only (http ones are blocked as
        // mixed content anyway).
        if self
            .image
            .as_deref()
            .is_some_and(|l| !l.starts_with("https://"))
        {
            inv.add("image", "图片链接应以 https:// 开头");
        }
        if let (Some(pay), Some(list)) = (self.final_price, self.price)
            && pay > list
        {
            inv.add("final_price", "到手价不能高于价格");
        }
        inv.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_and_print_without_rounding() {
        assert_eq!(Price::parse("59.9"), Some(Price(5990)));
        assert_eq!(Price::parse("¥59.90"), Some(Price(5990)));
        assert_eq!(Price::parse("59元"), Some(Price(5900)));
        assert_eq!(Price::parse("0.05"), Some(Price(5)));
        assert_eq!(Price::parse("5.999"), None);
        assert_eq!(Price::parse("-1"), None);
        assert_eq!(Price::parse(""), None);
        assert_eq!(Price(5990).to_string(), "59.9");
        assert_eq!(Price(5995).to_string(), "59.95");
        assert_eq!(Price(5900).to_string(), "59");
    }

    #[test]
    fn a_negative_stock_or_a_pay_price_over_the_price_is_refused() {
        let mut p = Product::new("A1", "T恤");
        p.stock = Some(0);
        p.price = Some(Price(9900));
        p.final_price = Some(Price(9900));
        assert!(p.validate().is_ok());
        p.stock = Some(-1);
        p.final_price = Some(Price(9990));
        let inv = p.validate().unwrap_err();
        assert_eq!(inv.get("stock"), Some("库存不能小于 0"));
        assert_eq!(inv.get("final_price"), Some("到手价不能高于价格"));
    }

    #[test]
    fn products_read_prices_as_numbers_or_strings() {
        let p: Product =
            serde_json::from_str(r#"{"sku":"A1","name":"T恤","price":99,"final_price":"79.9"}"#)
                .unwrap();
        assert_eq!(p.pay_price(), Some(Price(7990)));
        assert_eq!(serde_json::to_value(&p).unwrap()["final_price"], "79.9");
    }
}
