//! Shop settings: name, staffed hours, time zone and the texts the bot uses.

use super::Invalid;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The shop's settings, one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShopSettings {
    /// Shop name shown to buyers ({{店铺名}}).
    pub shop_name: String,
    /// When human agents are on duty, in the shop's time zone.
    pub staffed: StaffedHours,
    /// IANA time zone name, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// First message a buyer sees.
    pub greeting: String,
    /// What the bot says when no human is on duty (无人值守).
    pub off_hours_text: String,
    /// The couriers the shop ships with ({{快递}}).
    #[serde(default = "default_couriers")]
    pub couriers: String,
    /// The shipping promise ({{发货时效}}), e.g. `48小时`.
    #[serde(default = "default_ship_within")]
    pub ship_within: String,
    /// The free-shipping rule ({{包邮门槛}}).
    #[serde(default = "default_free_shipping")]
    pub free_shipping: String,
    /// Where returns go ({{退货地址}}).
    #[serde(default = "default_return_address")]
    pub return_address: String,
    /// The figures the shop aims for (数据看板 shows green or red against them).
    #[serde(default)]
    pub targets: Targets,
}

/// The shop's targets, as whole numbers (seconds, percentages). The defaults are the
/// healthy values the platforms' articles give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Targets {
    /// 平均响应时长 at most, in seconds (healthy: 10–20 s).
    pub avg_response_s: u32,
    /// 首次30秒应答率 at least, percent.
    pub first_response_30s_pct: u32,
    /// 3分钟人工响应率 at least, percent (platforms require 90%).
    pub human_3min_pct: u32,
    /// 问答比 at least, percent (healthy: 150–200%).
    pub answer_question_pct: u32,
    /// 邀评率 at least, percent (healthy: 40–50%).
    pub invite_pct: u32,
    /// 满意率 at least, percent.
    pub satisfaction_pct: u32,
    /// 解决率 (bot) at least, percent (articles: 50–80%).
    pub bot_resolution_pct: u32,
}

impl Default for Targets {
    fn default() -> Targets {
        Targets {
            avg_response_s: 20,
            first_response_30s_pct: 80,
            human_3min_pct: 90,
            answer_question_pct: 150,
            invite_pct: 40,
            satisfaction_pct: 90,
            bot_resolution_pct: 50,
        }
    }
}

fn default_couriers() -> String {
    "中通、圆通、韵达".into()
}

fn default_ship_within() -> String {
    "48小时".into()
}

fn default_free_shipping() -> String {
    "全店满59元包邮（新疆、西藏等偏远地区除外）".into()
}

fn default_return_address() -> String {
    "售后页面显示的退货地址".into()
}

impl Default for ShopSettings {
    fn default() -> ShopSettings {
        ShopSettings {
            shop_name: "我的小店".into(),
            staffed: StaffedHours::default(),
            time_zone: "Asia/Shanghai".into(),
            greeting: "亲，欢迎光临{{店铺名}}！我是智能客服小二，有什么可以帮您？".into(),
            off_hours_text: "亲，现在是非人工服务时间，人工客服的服务时间是 {{客服时间}}，届时回复“转人工”即可联系人工客服；其他问题可以先问机器人小二哦～".into(),
            couriers: default_couriers(),
            ship_within: default_ship_within(),
            free_shipping: default_free_shipping(),
            return_address: default_return_address(),
            targets: Targets::default(),
        }
    }
}

impl ShopSettings {
    /// The shop's time zone (Asia/Shanghai if the stored name is unknown).
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// The answer variables the settings provide, by name (without braces).
    pub fn variables(&self) -> [(&'static str, String); 6] {
        [
            ("店铺名", self.shop_name.clone()),
            ("客服时间", self.staffed.label()),
            ("快递", self.couriers.clone()),
            ("发货时效", self.ship_within.clone()),
            ("包邮门槛", self.free_shipping.clone()),
            ("退货地址", self.return_address.clone()),
        ]
    }

    /// Every variable an answer or a shop text may use: the shop settings', then the
    /// product's (filled from the product in view).
    pub fn variable_names() -> impl Iterator<Item = &'static str> {
        ShopSettings::default()
            .variables()
            .map(|(name, _)| name)
            .into_iter()
            .chain(PRODUCT_VARIABLES)
            .chain(ORDER_VARIABLES)
            .chain(CATALOG_VARIABLES)
    }

    /// Whether humans are on duty at `at`.
    pub fn is_staffed(&self, at: DateTime<Utc>) -> bool {
        self.staffed
            .contains(at.with_timezone(&self.tz()).naive_local().time())
    }
}

/// Variables filled from the product in view.
pub const PRODUCT_VARIABLES: [&str; 4] = ["商品名", "到手价", "商品链接", "商品参数"];

/// Variables filled from the buyer's latest paid order.
pub const ORDER_VARIABLES: [&str; 1] = ["订单进度"];

/// Variables filled from the shop's products: `{{在售商品}}` names a few in stock.
pub const CATALOG_VARIABLES: [&str; 1] = ["在售商品"];

/// `text` cut at its `{{name}}` variables: each run of plain text with the variable
/// name (trimmed) that follows it, if any. An unclosed `{{` is plain text.
pub fn variable_pieces(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let now = rest?;
        let piece = now.find("{{").and_then(|start| {
            let after = &now[start + 2..];
            let end = after.find("}}")?;
            Some((&now[..start], after[..end].trim(), &after[end + 2..]))
        });
        Some(match piece {
            Some((plain, name, next)) => {
                rest = Some(next);
                (plain, Some(name))
            }
            None => {
                rest = None;
                (now, None)
            }
        })
    })
}

/// The `{{name}}` variables of `text` that nothing fills (a buyer would read a gap
/// where they stand), as a message naming them and what may be used instead.
pub fn unknown_variables(text: &str) -> Option<String> {
    let known: Vec<&str> = ShopSettings::variable_names().collect();
    unknown_variables_among(text, &known)
}

/// Like [`unknown_variables`], for a text where only `known` are filled.
pub fn unknown_variables_among(text: &str, known: &[&str]) -> Option<String> {
    let mut unknown: Vec<&str> = Vec::new();
    for name in variable_pieces(text).filter_map(|(_, name)| name) {
        if !known.contains(&name) && !unknown.contains(&name) {
            unknown.push(name);
        }
    }
    if unknown.is_empty() {
        return None;
    }
    let named: Vec<String> = unknown.iter().map(|n| format!("{{{{{n}}}}}")).collect();
    let known: Vec<String> = known.iter().map(|n| format!("{{{{{n}}}}}")).collect();
    Some(format!(
        "没有变量 {}，可用的变量：{}",
        named.join("、"),
        known.join(" ")
    ))
}

/// A daily window of staffed hours; `end` before `start` means it runs past midnight,
/// and `end` equal to `start` means round the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffedHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for StaffedHours {
    fn default() -> StaffedHours {
        StaffedHours {
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(23, 0, 0).unwrap_or_default(),
        }
    }
}

impl StaffedHours {
    /// Whether local time `t` falls in the window (start inclusive, end exclusive).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start == self.end {
            true
        } else if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// The window as `09:00-23:00` ({{客服时间}}), or 全天24小时.
    pub fn label(&self) -> String {
        if self.start == self.end {
            return "全天24小时".into();
        }
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// Settings as typed into the form, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SettingsInput {
    pub shop_name: String,
    pub staffed_start: String,
    pub staffed_end: String,
    pub time_zone: String,
    pub greeting: String,
    pub off_hours_text: String,
    pub couriers: String,
    pub ship_within: String,
    pub free_shipping: String,
    pub return_address: String,
}

const MAX_TEXT_CHARS: usize = 500;

impl SettingsInput {
    /// The form filled with `s`.
    pub fn from_settings(s: &ShopSettings) -> SettingsInput {
        SettingsInput {
            shop_name: s.shop_name.clone(),
            staffed_start: s.staffed.start.format("%H:%M").to_string(),
            staffed_end: s.staffed.end.format("%H:%M").to_string(),
            time_zone: s.time_zone.clone(),
            greeting: s.greeting.clone(),
            off_hours_text: s.off_hours_text.clone(),
            couriers: s.couriers.clone(),
            ship_within: s.ship_within.clone(),
            free_shipping: s.free_shipping.clone(),
            return_address: s.return_address.clone(),
        }
    }

    /// Checks every field and builds the settings.
    pub fn validate(&self) -> Result<ShopSettings, Invalid> {
        let mut inv = Invalid::default();
        let shop_name = self.shop_name.trim();
        if shop_name.is_empty() {
            inv.add("shop_name", "请填写店铺名称");
        } else if shop_name.chars().count() > 40 {
            inv.add("shop_name", "店铺名称最多 40 个字");
        }
        let start = parse_hhmm(&self.staffed_start);
        if start.is_none() {
            inv.add("staffed_start", "时间格式应为 HH:MM，例如 09:00");
        }
        let end = parse_hhmm(&self.staffed_end);
        if end.is_none() {
            inv.add("staffed_end", "时间格式应为 HH:MM，例如 23:00");
        }
        // Any letter case names the zone ("asia/shanghai"); its own spelling is kept.
        let typed = self.time_zone.trim();
        let zone = chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(typed));
        if zone.is_none() {
            inv.add("time_zone", "未知的时区，例如 Asia/Shanghai");
        }
        for (field, text, label) in [
            ("greeting", &self.greeting, "欢迎语"),
            ("off_hours_text", &self.off_hours_text, "非工作时间回复"),
            ("couriers", &self.couriers, "合作快递"),
            ("ship_within", &self.ship_within, "发货时效"),
            ("free_shipping", &self.free_shipping, "包邮规则"),
            ("return_address", &self.return_address, "退货地址"),
        ] {
            let n = text.trim().chars().count();
            if n == 0 {
                inv.add(field, format!("请填写{label}"));
            } else if n > MAX_TEXT_CHARS {
                inv.add(field, format!("{label}最多 {MAX_TEXT_CHARS} 个字"));
            } else if let Some(trouble) = unknown_variables(text) {
                inv.add(field, trouble);
            }
        }
        inv.into_result()?;
        Ok(ShopSettings {
            shop_name: shop_name.to_string(),
            staffed: StaffedHours {
                start: start.unwrap_or_default(),
                end: end.unwrap_or_default(),
            },
            time_zone: zone.map_or(typed, |z| z.name()).to_string(),
            greeting: self.greeting.trim().to_string(),
            off_hours_text: self.off_hours_text.trim().to_string(),
            couriers: self.couriers.trim().to_string(),
            ship_within: self.ship_within.trim().to_string(),
            free_shipping: self.free_shipping.trim().to_string(),
            return_address: self.return_address.trim().to_string(),
            // Targets have their own form (数据看板); the caller keeps the stored ones.
            targets: Targets::default(),
        })
    }
}

fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    // Accept 9:00 as well as 09:00; reject seconds and anything else.
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// `at` shown in the shop's time zone as `2026-11-22 14:05`.
pub fn local_label(at: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&at.naive_utc())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn settings_written_before_the_shipping_fields_existed_still_load() {
        let old = r#"{"shop_name":"老店","staffed":{"start":"09:00:00","end":"23:00:00"},
            "time_zone":"Asia/Shanghai","greeting":"你好","off_hours_text":"下班了"}"#;
        let s: ShopSettings = serde_json::from_str(old).unwrap();
        assert_eq!(s.shop_name, "老店");
        assert_eq!(s.couriers, default_couriers());
        let vars = s.variables();
        assert!(vars.contains(&("客服时间", "09:00-23:00".to_string())));
    }

    #[test]
    fn unknown_variables_are_named_with_what_may_be_used() {
        assert_eq!(
            unknown_variables("欢迎光临{{店铺名}}，{{商品名}}{{ 到手价 }}"),
            None
        );
        assert_eq!(unknown_variables("没有变量，{{ 也没闭合"), None);
        let m = unknown_variables("欢迎光临{{店名}}！{{店名}}{{价格}}").unwrap();
        assert!(
            m.starts_with("没有变量 {{店名}}、{{价格}}，可用的变量："),
            "{m}"
        );
        for v in ["{{店铺名}}", "{{退货地址}}", "{{商品链接}}", "{{到手价}}"] {
            assert!(m.contains(v), "{m}");
        }
    }

    #[test]
    fn a_greeting_with_an_unknown_variable_is_refused() {
        let mut form = SettingsInput::from_settings(&ShopSettings::default());
        form.greeting = "亲，欢迎光临{{店名}}！".into();
        let inv = form.validate().unwrap_err();
        assert!(inv.get("greeting").unwrap().contains("{{店名}}"));
        form.greeting = "亲，欢迎光临{{店铺名}}！".into();
        assert!(form.validate().is_ok());
    }

    #[test]
    fn staffed_hours_edges() {
        let day = StaffedHours {
            start: t(9, 0),
            end: t(23, 0),
        };
        assert!(!day.contains(t(8, 59)));
        assert!(day.contains(t(9, 0)));
        assert!(day.contains(t(22, 59)));
        assert!(!day.contains(t(23, 0)));
        assert_eq!(day.label(), "09:00-23:00");
    }

    #[test]
    fn staffed_hours_across_midnight() {
        let night = StaffedHours {
            start: t(20, 0),
            end: t(2, 0),
        };
        assert!(night.contains(t(23, 30)));
        assert!(night.contains(t(0, 0)));
        assert!(night.contains(t(1, 59)));
        assert!(!night.contains(t(2, 0)));
        assert!(!night.contains(t(12, 0)));
    }

    #[test]
    fn the_same_start_and_end_is_round_the_clock() {
        let always = StaffedHours {
            start: t(0, 0),
            end: t(0, 0),
        };
        for h in 0..24 {
            assert!(always.contains(t(h, 0)), "{h}:00");
            assert!(always.contains(t(h, 59)), "{h}:59");
        }
        assert_eq!(always.label(), "全天24小时");
        // A zone in any letter case is the zone, spelled its own way.
        let mut form = SettingsInput::from_settings(&ShopSettings::default());
        form.time_zone = " asia/tokyo ".into();
        let saved = form.validate().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(saved.time_zone, "Asia/Tokyo");
        form.time_zone = "Asia/Nowhere".into();
        assert!(form.validate().is_err());
        let mut form = SettingsInput::from_settings(&ShopSettings::default());
        form.staffed_start = "00:00".into();
        form.staffed_end = "00:00".into();
        let saved = form.validate().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(saved.staffed, always);
        assert!(saved.is_staffed(Utc::now()));
    }

    #[test]
    fn is_staffed_uses_the_shop_time_zone() {
        let s = ShopSettings::default();
        // 01:30 UTC is 09:30 in Shanghai.
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 1, 30, 0).unwrap();
        assert!(s.is_staffed(at));
        // 15:30 UTC is 23:30 in Shanghai.
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 15, 30, 0).unwrap();
        assert!(!s.is_staffed(at));
    }

    #[test]
    fn settings_input_validation() {
        let good = SettingsInput::from_settings(&ShopSettings::default());
        assert_eq!(good.validate().unwrap(), ShopSettings::default());

        let bad = SettingsInput {
            shop_name: " ".into(),
            staffed_start: "25:00".into(),
            staffed_end: "9".into(),
            time_zone: "Mars/Base".into(),
            greeting: "".into(),
            off_hours_text: "x".repeat(501),
            couriers: " ".into(),
            ..good.clone()
        };
        let inv = bad.validate().unwrap_err();
        for f in [
            "shop_name",
            "staffed_start",
            "staffed_end",
            "time_zone",
            "greeting",
            "off_hours_text",
            "couriers",
        ] {
            assert!(inv.get(f).is_some(), "{f} should be rejected");
        }
        assert_eq!(parse_hhmm("9:05"), Some(t(9, 5)));
        assert_eq!(parse_hhmm("09:5"), None);
    }
}
