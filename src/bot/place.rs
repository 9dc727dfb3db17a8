//! Places buyers name ("我在南京", "发乌鲁木齐吗", "东北几天能到") and the clauses of a
//! shop's shipping notes that speak of them ("江浙沪皖次日达", "西南、东北2-3天",
//! "新疆、西藏、青海…不发货", "其他地区2-4天").

/// A province (or municipality, or autonomous region) of mainland China: its name as
/// buyers write it, the region words shops put it under, and its larger cities.
struct Province {
    name: &'static str,
    regions: &'static [&'static str],
    cities: &'static [&'static str],
}

/// Region words: 江浙沪 is 江苏, 浙江 and 上海, 江浙沪皖 adds 安徽; 偏远 is where shops
/// usually charge more or do not ship.
const PROVINCES: &[Province] = &[
    Province {
        name: "上海",
        regions: &["江浙沪", "华东"],
        cities: &["上海"],
    },
    Province {
        name: "江苏",
        regions: &["江浙沪", "华东"],
        cities: &[
            "南京",
            "苏州",
            "无锡",
            "常州",
            "南通",
            "扬州",
            "徐州",
            "镇江",
            "泰州",
            "盐城",
            "连云港",
            "淮安",
            "宿迁",
            "昆山",
        ],
    },
    Province {
        name: "浙江",
        regions: &["江浙沪", "华东"],
        cities: &[
            "杭州", "宁波", "温州", "绍兴", "嘉兴", "金华", "台州", "湖州", "义乌", "丽水", "衢州",
            "舟山",
        ],
    },
    Province {
        name: "安徽",
        regions: &["江浙沪皖", "华东"],
        cities: &["合肥", "芜湖", "蚌埠", "安庆", "马鞍山", "阜阳", "黄山"],
    },
    Province {
        name: "山东",
        regions: &["华东", "北方"],
        cities: &[
            "济南", "青岛", "烟台", "潍坊", "临沂", "淄博", "威海", "济宁",
        ],
    },
    Province {
        name: "福建",
        regions: &["华东", "华南"],
        cities: &["福州", "厦门", "泉州", "漳州", "莆田"],
    },
    Province {
        name: "江西",
        regions: &["华东", "华中"],
        cities: &["南昌", "赣州", "九江", "上饶"],
    },
    Province {
        name: "北京",
        regions: &["华北", "京津冀", "北方"],
        cities: &["北京"],
    },
    Province {
        name: "天津",
        regions: &["华北", "京津冀", "北方"],
        cities: &["天津"],
    },
    Province {
        name: "河北",
        regions: &["华北", "京津冀", "北方"],
        cities: &["石家庄", "保定", "唐山", "廊坊", "邯郸", "秦皇岛", "沧州"],
    },
    Province {
        name: "山西",
        regions: &["华北", "北方"],
        cities: &["太原", "大同", "运城"],
    },
    Province {
        name: "内蒙古",
        regions: &["华北", "西北", "北方", "偏远"],
        cities: &["呼和浩特", "包头", "鄂尔多斯", "赤峰"],
    },
    Province {
        name: "河南",
        regions: &["华中", "北方"],
        cities: &["郑州", "洛阳", "开封", "新乡", "南阳"],
    },
    Province {
        name: "湖北",
        regions: &["华中"],
        cities: &["武汉", "宜昌", "襄阳", "荆州"],
    },
    Province {
        name: "湖南",
        regions: &["华中"],
        cities: &["长沙", "株洲", "湘潭", "岳阳", "衡阳"],
    },
    Province {
        name: "广东",
        regions: &["华南", "两广", "珠三角"],
        cities: &[
            "广州", "深圳", "东莞", "佛山", "珠海", "中山", "惠州", "汕头", "江门", "湛江",
        ],
    },
    Province {
        name: "广西",
        regions: &["华南", "两广"],
        cities: &["南宁", "桂林", "柳州", "北海"],
    },
    Province {
        name: "海南",
        regions: &["华南"],
        cities: &["海口", "三亚", "三沙"],
    },
    Province {
        name: "重庆",
        regions: &["西南", "川渝"],
        cities: &["重庆"],
    },
    Province {
        name: "四川",
        regions: &["西南", "川渝"],
        cities: &["成都", "绵阳", "宜宾", "乐山", "南充"],
    },
    Province {
        name: "贵州",
        regions: &["西南"],
        cities: &["贵阳", "遵义"],
    },
    Province {
        name: "云南",
        regions: &["西南"],
        cities: &["昆明", "大理", "丽江", "西双版纳"],
    },
    Province {
        name: "西藏",
        regions: &["西南", "偏远"],
        cities: &["拉萨", "日喀则", "林芝"],
    },
    Province {
        name: "陕西",
        regions: &["西北", "北方"],
        cities: &["西安", "宝鸡", "咸阳", "延安"],
    },
    Province {
        name: "甘肃",
        regions: &["西北", "北方", "偏远"],
        cities: &["兰州", "天水", "酒泉", "敦煌"],
    },
    Province {
        name: "青海",
        regions: &["西北", "北方", "偏远"],
        cities: &["西宁", "格尔木"],
    },
    Province {
        name: "宁夏",
        regions: &["西北", "北方", "偏远"],
        cities: &["银川"],
    },
    Province {
        name: "新疆",
        regions: &["西北", "北方", "偏远"],
        cities: &["乌鲁木齐", "喀什", "伊犁", "克拉玛依", "库尔勒", "阿克苏"],
    },
    Province {
        name: "辽宁",
        regions: &["东北", "东三省", "北方"],
        cities: &["沈阳", "大连", "鞍山", "锦州"],
    },
    Province {
        name: "吉林",
        regions: &["东北", "东三省", "北方"],
        cities: &["长春", "吉林市", "延边"],
    },
    Province {
        name: "黑龙江",
        regions: &["东北", "东三省", "北方"],
        cities: &["哈尔滨", "大庆", "齐齐哈尔", "牡丹江"],
    },
];

/// The cities shops group as 北上广深.
const FIRST_TIER: &[&str] = &["北京", "上海", "广州", "深圳"];

/// Region words a buyer may name instead of a place ("东北几天能到").
const REGIONS: &[&str] = &[
    "江浙沪皖",
    "江浙沪",
    "珠三角",
    "京津冀",
    "川渝",
    "两广",
    "东三省",
    "华东",
    "华南",
    "华北",
    "华中",
    "西南",
    "西北",
    "东北",
    "港澳台",
];

/// Words of a clause saying the goods do not go there.
const NOT_SHIPPED: &[&str] = &[
    "不发",
    "不配送",
    "不送",
    "无法配送",
    "不支持配送",
    "停发",
    "暂停发货",
    "不能发",
    "发不了",
];

/// Words of a clause covering everywhere not named ("其他地区2-4天").
/// ("其他次日发" is when it ships otherwise, no place.)
const ELSEWHERE: &[&str] = &[
    "其他地区",
    "其它地区",
    "其余地区",
    "其他城市",
    "其他省",
    "全国",
    "大部分地区",
];

/// A place a buyer named: what they wrote (a city, a province or a region word) and the
/// province it is in, if it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub shown: String,
    province: Option<usize>,
}

/// Words before the place the goods go to ("深圳到杭州": 杭州).
const TOWARDS: &[char] = &['到', '发', '寄', '送', '在', '往'];

/// The place `text` names: a city, else a province, else a region word; of several,
/// the one the goods go to ("深圳到杭州还要几天"), else the last named.
pub fn named(text: &str) -> Option<Place> {
    let mut found: Vec<(usize, Place)> = Vec::new();
    for (i, p) in PROVINCES.iter().enumerate() {
        for city in p.cities {
            found.extend(text.match_indices(city).map(|(at, _)| {
                let place = Place {
                    shown: city.trim_end_matches('市').to_string(),
                    province: Some(i),
                };
                (at, place)
            }));
        }
    }
    if found.is_empty() {
        for (i, p) in PROVINCES.iter().enumerate() {
            found.extend(text.match_indices(p.name).map(|(at, _)| {
                let place = Place {
                    shown: p.name.to_string(),
                    province: Some(i),
                };
                (at, place)
            }));
        }
    }
    if found.is_empty() {
        let region = REGIONS.iter().find_map(|r| Some((text.find(r)?, r)));
        found.extend(region.map(|(at, r)| {
            let place = Place {
                shown: r.to_string(),
                province: None,
            };
            (at, place)
        }));
    }
    found.sort_by_key(|(at, _)| *at);
    let towards = found
        .iter()
        .rposition(|(at, _)| text[..*at].ends_with(TOWARDS));
    let pick = towards.or(found.len().checked_sub(1))?;
    Some(found.swap_remove(pick).1)
}

/// Whether `clause` speaks of places (a province, a city, a region or everywhere else):
/// "江浙沪次日达" does, "下午4点前付款当天发货" does not.
pub fn speaks_of_places(clause: &str) -> bool {
    PROVINCES.iter().any(|p| {
        clause.contains(p.name)
            || p.regions.iter().any(|r| clause.contains(r))
            || p.cities.iter().any(|c| clause.contains(c))
    }) || REGIONS.iter().any(|r| clause.contains(r))
        || ELSEWHERE.iter().any(|w| clause.contains(w))
        || clause.contains("北上广深")
        || clause.contains("地区")
}

impl Place {
    /// Whether `clause` names this place by name: its city, its province, or the region
    /// word the buyer named.
    fn named_in(&self, clause: &str) -> bool {
        clause.contains(self.shown.as_str())
            || self
                .province
                .is_some_and(|i| clause.contains(PROVINCES[i].name))
    }

    /// Whether `clause` names this place by name or by a region it is in (江浙沪皖,
    /// 西南, 北上广深, 偏远 …).
    pub fn in_clause(&self, clause: &str) -> bool {
        if self.named_in(clause) {
            return true;
        }
        let Some(p) = self.province.map(|i| &PROVINCES[i]) else {
            return false;
        };
        p.regions.iter().any(|r| clause.contains(r))
            || (FIRST_TIER.contains(&self.shown.as_str()) && clause.contains("北上广深"))
    }
}

/// What a shipping note says of a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said<'a> {
    /// A clause saying the goods do not go there ("新疆、西藏、青海不发货").
    NotShipped(&'a str),
    /// A clause naming the place ("江浙沪皖次日达", "甘肃宁夏补运费15元").
    Named(&'a str),
    /// Only a clause for everywhere not named ("其他地区2-4天").
    Elsewhere(&'a str),
}

/// Whether a clause says how long, when or for what fee ("江浙沪次日达", "偏远地区补运费
/// 10元"); "部分偏远地区需顺丰特快" says none of it.
fn informative(clause: &str) -> bool {
    clause.contains(|c: char| c.is_ascii_digit())
        || ["次日", "隔日", "当日", "当天", "包邮", "元"]
            .iter()
            .any(|w| clause.contains(w))
        || (clause.contains(['一', '两', '三', '四', '五', '六', '七']) && clause.contains('天'))
}

/// Whether a note's name says it lists where the goods do not go (不发地区).
pub fn lists_not_shipped(name: &str) -> bool {
    NOT_SHIPPED.iter().any(|w| name.contains(w))
}

/// The clauses of `value` (split at ；，。 and new lines), trimmed, none empty.
pub fn clauses(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(['；', ';', '，', ',', '。', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// What `value`, a note named `name` (不发地区, 到货时间, 发货 …), says of `place`: a
/// clause naming it (by name only if `by_name`; saying it is not shipped if the clause
/// says so, or if the note is a list of places not shipped to and the clause speaks of
/// no fee), else a clause for everywhere else.
pub fn said<'a>(name: &str, value: &'a str, place: &Place, by_name: bool) -> Option<Said<'a>> {
    let excluding = lists_not_shipped(name);
    let mut elsewhere = None;
    for clause in clauses(value) {
        let named = if by_name {
            place.named_in(clause)
        } else {
            place.in_clause(clause)
        };
        if named && (informative(clause) || NOT_SHIPPED.iter().any(|w| clause.contains(w))) {
            let fee = ["元", "运费", "补", "加收"]
                .iter()
                .any(|w| clause.contains(w));
            let not = NOT_SHIPPED.iter().any(|w| clause.contains(w)) || (excluding && !fee);
            return Some(if not {
                Said::NotShipped(clause)
            } else {
                Said::Named(clause)
            });
        }
        if elsewhere.is_none()
            && informative(clause)
            && ELSEWHERE.iter().any(|w| clause.contains(w))
        {
            elsewhere = Some(clause);
        }
    }
    elsewhere.filter(|_| !excluding).map(Said::Elsewhere)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cities_provinces_and_regions_are_named() {
        let p = named("我在南京 今天下单明天能到不").unwrap();
        assert_eq!(p.shown, "南京");
        assert!(p.in_clause("江浙沪皖次日达"));
        assert!(p.in_clause("江苏地区次日达"));
        assert!(!p.in_clause("西南、东北2-3天"));
        let p = named("发乌鲁木齐吗").unwrap();
        assert!(p.in_clause("新疆、西藏、青海不发货"));
        assert!(p.in_clause("偏远地区补运费10元"));
        let p = named("广州几天").unwrap();
        assert!(p.in_clause("北上广深1-2天"));
        assert!(!named("东莞").unwrap().in_clause("北上广深1-2天"));
        let p = named("东北几天能到").unwrap();
        assert_eq!(p.shown, "东北");
        assert!(p.in_clause("西南、东北2-3天"));
        assert!(named("这个多少钱").is_none());
        // Of two places, the one the goods go to, else the last.
        assert_eq!(named("深圳到杭州还要几天").unwrap().shown, "杭州");
        assert_eq!(named("杭州发深圳几天").unwrap().shown, "深圳");
        assert!(speaks_of_places("江浙沪次日达"));
        assert!(!speaks_of_places("下午4点前付款当天发货"));
        // 安徽 is in 江浙沪皖, not in 江浙沪.
        let p = named("合肥").unwrap();
        assert!(p.in_clause("江浙沪皖次日达"));
        assert!(!p.in_clause("江浙沪次日达"));
    }

    fn said_<'a>(name: &str, value: &'a str, place: &Place) -> Option<Said<'a>> {
        said(name, value, place, false)
    }

    #[test]
    fn a_note_says_whether_and_when_a_place_is_served() {
        let arrival = "江浙沪皖次日达；北上广深、华中华北一般1-2天；西南、东北2-3天";
        let at = |t: &str| named(t).unwrap();
        assert_eq!(
            said_("到货时间", arrival, &at("南京")),
            Some(Said::Named("江浙沪皖次日达"))
        );
        assert_eq!(
            said_("到货时间", arrival, &at("成都")),
            Some(Said::Named("西南、东北2-3天"))
        );
        assert_eq!(said_("到货时间", arrival, &at("乌鲁木齐")), None);
        // A clause saying nothing of time or fees.
        assert_eq!(
            said_("发货", "默认中通，部分偏远地区需顺丰特快", &at("拉萨")),
            None
        );
        // "其他次日发" is when it ships, no place.
        assert_eq!(
            said_("发货", "下午4点前付款当天发，其他次日发", &at("上海")),
            None
        );
        let ships =
            "现货，下午5点前付款当天发货，默认圆通，江浙沪皖次日达，其他地区2-4天，新疆西藏5-7天";
        assert_eq!(
            said_("发货", ships, &at("拉萨")),
            Some(Said::Named("新疆西藏5-7天"))
        );
        assert_eq!(
            said_("发货", ships, &at("西安")),
            Some(Said::Elsewhere("其他地区2-4天"))
        );
        let not = "新疆、西藏、青海、内蒙古西部等偏远地区不发；甘肃宁夏补运费15元";
        assert!(matches!(
            said_("不发地区", not, &at("西宁")),
            Some(Said::NotShipped(_))
        ));
        // By name, 宁夏 is not among the places not shipped to (偏远 is a region word).
        assert_eq!(
            said("不发地区", not, &at("银川"), true),
            Some(Said::Named("甘肃宁夏补运费15元"))
        );
        assert_eq!(said_("不发地区", not, &at("杭州")), None);
        assert!(matches!(
            said_("发货", "偏远地区（新疆西藏）不发货", &at("喀什")),
            Some(Said::NotShipped(_))
        ));
    }
}
