//! Scene switches and reception schedules: pure functions of the settings and a time,
//! so they are tested across midnight and at the edges of staffed hours.

use crate::model::{ConvId, Reception, ReceptionMode, SceneMode, SceneSwitch, ShopSettings};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use std::collections::BTreeMap;

/// What scene `scene` does at `at`: its switch for staffed or off-hours (bot when never
/// set, or when the entry has no scene).
pub fn scene_mode(
    switches: &BTreeMap<String, SceneSwitch>,
    scene: Option<&str>,
    settings: &ShopSettings,
    at: DateTime<Utc>,
) -> SceneMode {
    let Some(sw) = scene.and_then(|s| switches.get(s)) else {
        return SceneMode::Bot;
    };
    if settings.is_staffed(at) {
        sw.staffed
    } else {
        sw.off_hours
    }
}

/// Who answers a new conversation first at `at`.
pub fn reception_mode(
    reception: &Reception,
    settings: &ShopSettings,
    at: DateTime<Utc>,
) -> ReceptionMode {
    if settings.is_staffed(at) {
        reception.staffed
    } else {
        reception.off_hours
    }
}

/// Whether a new conversation goes to a human first under `mode`: the `Ratio` mode sends
/// `human_percent` of conversations, chosen by id so the choice is stable.
pub fn human_first(mode: ReceptionMode, reception: &Reception, conv: ConvId) -> bool {
    match mode {
        ReceptionMode::BotFirst => false,
        ReceptionMode::HumanFirst => true,
        ReceptionMode::Ratio => {
            (conv.0.wrapping_mul(2654435761) % 100) < u64::from(reception.human_percent)
        }
    }
}

/// When humans are next on duty after `at` (at itself, when they are now).
pub fn humans_back_at(settings: &ShopSettings, at: DateTime<Utc>) -> DateTime<Utc> {
    if settings.is_staffed(at) {
        return at;
    }
    let tz = settings.tz();
    let local = at.with_timezone(&tz);
    let start: NaiveTime = settings.staffed.start;
    let today = local.date_naive().and_time(start);
    let candidate = if local.time() < start {
        today
    } else {
        today + Duration::days(1)
    };
    tz.from_local_datetime(&candidate)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(at)
}

/// "今天 09:00" / "明天 09:00": when humans are back, for the off-hours reply.
pub fn humans_back_label(settings: &ShopSettings, at: DateTime<Utc>) -> String {
    let tz = settings.tz();
    let back = humans_back_at(settings, at).with_timezone(&tz);
    let day = if back.date_naive() == at.with_timezone(&tz).date_naive() {
        "今天"
    } else {
        "明天"
    };
    format!("{day} {}", back.format("%H:%M"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StaffedHours;

    fn shanghai(h: u32, m: u32) -> DateTime<Utc> {
        // 2026-11-22 in Shanghai (UTC+8).
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 22, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn settings(start: (u32, u32), end: (u32, u32)) -> ShopSettings {
        ShopSettings {
            staffed: StaffedHours {
                start: NaiveTime::from_hms_opt(start.0, start.1, 0).unwrap(),
                end: NaiveTime::from_hms_opt(end.0, end.1, 0).unwrap(),
            },
            ..ShopSettings::default()
        }
    }

    #[test]
    fn scene_switches_follow_staffed_hours_to_the_minute() {
        let s = settings((9, 0), (23, 0));
        let mut switches = BTreeMap::new();
        switches.insert(
            "退换货".to_string(),
            SceneSwitch {
                staffed: SceneMode::Human,
                off_hours: SceneMode::Bot,
            },
        );
        let mode = |h, m| scene_mode(&switches, Some("退换货"), &s, shanghai(h, m));
        assert_eq!(mode(8, 59), SceneMode::Bot);
        assert_eq!(mode(9, 0), SceneMode::Human);
        assert_eq!(mode(22, 59), SceneMode::Human);
        assert_eq!(mode(23, 0), SceneMode::Bot);
        assert_eq!(
            scene_mode(&switches, Some("物流"), &s, shanghai(10, 0)),
            SceneMode::Bot,
            "never set"
        );
        assert_eq!(
            scene_mode(&switches, None, &s, shanghai(10, 0)),
            SceneMode::Bot
        );
    }

    #[test]
    fn night_shifts_cross_midnight() {
        let night = settings((20, 0), (2, 0));
        let r = Reception {
            staffed: ReceptionMode::HumanFirst,
            off_hours: ReceptionMode::BotFirst,
            ..Reception::default()
        };
        assert_eq!(
            reception_mode(&r, &night, shanghai(23, 30)),
            ReceptionMode::HumanFirst
        );
        assert_eq!(
            reception_mode(&r, &night, shanghai(1, 59)),
            ReceptionMode::HumanFirst
        );
        assert_eq!(
            reception_mode(&r, &night, shanghai(2, 0)),
            ReceptionMode::BotFirst
        );
        assert_eq!(
            reception_mode(&r, &night, shanghai(19, 59)),
            ReceptionMode::BotFirst
        );
        assert_eq!(humans_back_label(&night, shanghai(10, 0)), "今天 20:00");
    }

    #[test]
    fn when_humans_are_back() {
        let day = settings((9, 0), (23, 0));
        assert_eq!(humans_back_label(&day, shanghai(7, 30)), "今天 09:00");
        assert_eq!(humans_back_label(&day, shanghai(23, 30)), "明天 09:00");
        assert_eq!(
            humans_back_at(&day, shanghai(10, 0)),
            shanghai(10, 0),
            "now, when staffed"
        );
    }

    #[test]
    fn ratio_sends_about_the_share_asked_for() {
        let r = Reception {
            human_percent: 30,
            ..Reception::default()
        };
        let humans = (1..=1000u64)
            .filter(|i| human_first(ReceptionMode::Ratio, &r, ConvId(*i)))
            .count();
        assert!((250..=350).contains(&humans), "{humans}");
        assert!(!human_first(ReceptionMode::BotFirst, &r, ConvId(1)));
        assert!(human_first(ReceptionMode::HumanFirst, &r, ConvId(1)));
    }
}
