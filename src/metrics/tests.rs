//! Each formula on hand-made timelines whose answers are worked out by hand.

use super::*;
use chrono::{Duration, TimeZone};

/// 10:00 Shanghai on 2026-11-23: inside the default staffed hours (09:00–23:00).
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap() + Duration::seconds(secs)
}

fn shop() -> Shop {
    Shop {
        tz: chrono_tz::Asia::Shanghai,
        staffed: StaffedHours::default(),
    }
}

fn agent(name: &str) -> Who {
    Who::Agent(name.into())
}

/// A timeline of conversation `id` of `buyer`: lines as (second, who, band).
fn tl(id: u64, buyer: u64, lines: &[(i64, Who, Option<&str>)]) -> Timeline {
    Timeline {
        conv: ConvId(id),
        buyer: BuyerId(buyer),
        channel: "web".into(),
        started: at(lines.first().map(|l| l.0).unwrap_or(0)),
        lines: lines
            .iter()
            .map(|(s, who, band)| Line {
                at: at(*s),
                who: who.clone(),
                band: band.map(String::from),
            })
            .collect(),
        modes: Vec::new(),
        invited: false,
        rating: None,
        reasons: Vec::new(),
        scene: None,
        group: None,
        ordered: false,
        holders: Vec::new(),
        last_agent: None,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_articles_example_three_buyers_first_answered_after_35_21_and_18_seconds() {
    let t = [
        tl(1, 1, &[(0, Who::Buyer, None), (35, agent("mei"), None)]),
        tl(2, 2, &[(0, Who::Buyer, None), (21, agent("mei"), None)]),
        tl(3, 3, &[(0, Who::Buyer, None), (18, agent("mei"), None)]),
    ];
    let f = Figures::of(&t, shop());
    assert_eq!(
        format!("{:.2}%", f.first_response_30s_rate.unwrap() * 100.0),
        "66.67%"
    );
    assert!(close(f.first_response_avg_s, (35.0 + 21.0 + 18.0) / 3.0));
    assert_eq!(f.conversations, 3);
    assert_eq!(f.consulting_buyers, 3);
}

#[test]
fn turns_run_from_the_first_buyer_message_to_the_next_reply_and_notices_do_not_answer() {
    // Turn 1: buyer at 0 and 5 (one turn), a system notice at 6, the bot at 10.
    // Turn 2: buyer at 100, agent at 160. Turn 3: buyer at 300, never answered.
    let t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (5, Who::Buyer, None),
            (6, Who::System, None),
            (10, Who::Bot, Some("exact")),
            (100, Who::Buyer, None),
            (160, agent("mei"), None),
            (300, Who::Buyer, None),
        ],
    );
    let turns = t.turns();
    assert_eq!(turns.len(), 3);
    assert_eq!(turns[0].wait(), Some(10));
    assert_eq!(turns[1].wait(), Some(60));
    assert_eq!(turns[2].answered, None);
    let f = Figures::of(&[t], shop());
    assert!(close(f.avg_response_s, 35.0), "(10 + 60) / 2");
    assert!(close(f.human_avg_response_s, 60.0), "the agent's turn only");
    assert!(
        close(f.response_30s_rate, 1.0 / 3.0),
        "unanswered turns count"
    );
    assert!(close(f.first_response_avg_s, 10.0));
    assert_eq!(f.buyer_messages, 4);
}

#[test]
fn human_first_response_counts_from_entering_the_queue_and_3_minutes_only_in_staffed_hours() {
    // Queued at 100; the agent's first message at 130; a later human turn answered
    // after 200 s (over 3 minutes).
    let mut t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (2, Who::Bot, Some("none")),
            (100, Who::Buyer, None),
            (130, agent("mei"), None),
            (400, Who::Buyer, None),
            (600, agent("mei"), None),
        ],
    );
    t.modes = vec![(at(100), ConvState::Queued), (at(125), ConvState::Human)];
    let f = Figures::of(std::slice::from_ref(&t), shop());
    assert!(close(f.human_first_response_avg_s, 30.0));
    assert!(
        close(f.human_3min_rate, 0.5),
        "130 − 100 = 30 s in; 200 s out"
    );
    assert!(close(f.human_avg_response_s, (30.0 + 200.0) / 2.0));

    // The same conversation at 02:00 Shanghai (18:00 UTC the day before): outside the
    // staffed hours, so the 3-minute rate has nothing to count.
    let mut night = t.clone();
    let shift = Duration::hours(-8);
    night.lines.iter_mut().for_each(|l| l.at += shift);
    night.modes.iter_mut().for_each(|m| m.0 += shift);
    let f = Figures::of(&[night], shop());
    assert_eq!(f.human_3min_rate, None);
    assert!(close(f.human_first_response_avg_s, 30.0), "still measured");
}

#[test]
fn bot_resolution_transfer_and_first_ask_completion() {
    let bot = |id, buyer| {
        tl(
            id,
            buyer,
            &[(0, Who::Buyer, None), (1, Who::Bot, Some("exact"))],
        )
    };
    let resolved = bot(1, 1);
    let mut unhappy = bot(2, 2);
    unhappy.rating = Some(2);
    let mut moved = bot(3, 3);
    moved.modes = vec![(at(50), ConvState::Queued)];
    // The same buyer 3 again, later, served by the bot only.
    let again = bot(4, 3);
    // A conversation a human answered first is not bot-received.
    let mut human = tl(5, 4, &[(0, Who::Buyer, None), (9, agent("mei"), None)]);
    human.modes = vec![(at(0), ConvState::Human)];
    let f = Figures::of(&[resolved, unhappy, moved, again, human], shop());
    assert!(
        close(f.bot_resolution_rate, 2.0 / 4.0),
        "1 and 4 of 1, 2, 3, 4"
    );
    assert!(close(f.transfer_rate, 2.0 / 5.0), "3 and 5");
    assert!(
        close(f.first_ask_completion_rate, 1.0 - 2.0 / 4.0),
        "buyers 3, 4 of 4"
    );
    assert!(close(f.bot_answer_rate, 1.0));
}

#[test]
fn bot_turns_fall_in_one_band_each_and_intents_and_notices_are_not_unmatched() {
    let t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (1, Who::Bot, Some("exact")),
            (10, Who::Buyer, None),
            (11, Who::Bot, Some("guided")),
            (20, Who::Buyer, None),
            (21, Who::Bot, Some("none")),
            (30, Who::Buyer, None),
            (31, Who::Bot, Some("intent")),
            (40, Who::Buyer, None),
            // A service notice (nobody online): a bot turn in no band.
            (41, Who::Bot, None),
        ],
    );
    let tally = Tally::of([&t], shop());
    assert_eq!(
        (
            tally.bot_turns,
            tally.bot_exact,
            tally.bot_guided,
            tally.bot_none,
            tally.bot_intent
        ),
        (5, 1, 1, 1, 1)
    );
    let f = tally.figures();
    assert!(close(f.bot_unmatched_rate, 1.0 / 5.0), "only the fallback");
    assert!(close(f.bot_answer_rate, 1.0 / 5.0));
}

#[test]
fn imported_bot_turns_with_no_band_are_left_out_of_the_bot_rates() {
    let imported = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (1, Who::Bot, Some("unknown")),
            (10, Who::Buyer, None),
            (11, Who::Bot, Some("unknown")),
        ],
    );
    let f = Figures::of(std::slice::from_ref(&imported), shop());
    assert_eq!(f.bot_answer_rate, None, "unknown, not 0%");
    assert_eq!(f.bot_unmatched_rate, None);
    let live = tl(
        2,
        2,
        &[
            (0, Who::Buyer, None),
            (1, Who::Bot, Some("exact")),
            (10, Who::Buyer, None),
            (11, Who::Bot, Some("none")),
        ],
    );
    let f = Figures::of(&[imported, live], shop());
    assert!(close(f.bot_answer_rate, 0.5), "{:?}", f.bot_answer_rate);
    assert!(close(f.bot_unmatched_rate, 0.5));
}

#[test]
fn answers_per_question_counts_human_mode_only() {
    let mut t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (1, Who::Bot, Some("none")),
            (10, Who::Buyer, None),
            (20, agent("mei"), None),
            (21, agent("mei"), None),
            (30, Who::Buyer, None),
            (40, agent("mei"), None),
        ],
    );
    t.modes = vec![(at(5), ConvState::Queued), (at(15), ConvState::Human)];
    let f = Figures::of(&[t], shop());
    assert!(close(f.answer_question_ratio, 3.0 / 2.0), "150%");
    assert!(close(f.bot_unmatched_rate, 1.0));
}

#[test]
fn ratings_invitations_and_reject_risk() {
    let mut a = tl(1, 1, &[(0, Who::Buyer, None), (5, agent("mei"), None)]);
    a.rating = Some(5);
    a.invited = true;
    let mut b = tl(2, 2, &[(0, Who::Buyer, None), (5, agent("mei"), None)]);
    b.rating = Some(3);
    b.invited = true;
    let mut lines = vec![(0, Who::Buyer, None)];
    lines.extend((1..=5).map(|s| (s, agent("tao"), None)));
    let risky = tl(3, 3, &lines);
    let mut four = vec![(0, Who::Buyer, None)];
    four.extend((1..=4).map(|s| (s, agent("tao"), None)));
    four.push((10, Who::Buyer, None));
    four.push((11, agent("tao"), None));
    let fine = tl(4, 4, &four);
    assert_eq!(risky.longest_agent_run(), 5);
    assert_eq!(fine.longest_agent_run(), 4);
    let f = Figures::of(&[a, b, risky, fine], shop());
    assert!(close(f.satisfaction_rate, 0.5));
    assert!(close(f.rating_rate, 0.5));
    assert!(close(f.invite_rate, 0.5));
    assert_eq!(f.reject_risk_conversations, 1);
}

#[test]
fn nothing_to_measure_is_null_not_zero() {
    let f = Figures::of(&[], shop());
    assert_eq!(f.conversations, 0);
    assert_eq!(f.first_response_30s_rate, None);
    let json = serde_json::to_value(&f).unwrap();
    assert!(json["satisfaction_rate"].is_null());
    for key in [
        "conversations",
        "first_response_avg_s",
        "human_first_response_avg_s",
        "avg_response_s",
        "human_avg_response_s",
        "response_30s_rate",
        "first_response_30s_rate",
        "human_3min_rate",
        "bot_resolution_rate",
        "transfer_rate",
        "first_ask_completion_rate",
        "answer_question_ratio",
        "satisfaction_rate",
        "rating_rate",
        "invite_rate",
        "reject_risk_conversations",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

#[test]
fn a_timeline_is_built_from_stored_records() {
    use crate::model::{BotMeta, Rating};
    let mut conv = Conversation::start(ConvId(7), BuyerId(3), "web", 0, at(0));
    conv.rating = Some(Rating {
        level: 4,
        reasons: vec![],
        comment: String::new(),
        at: at(90),
        agent: None,
    });
    let msg = |seq, s, from| Message {
        conv: ConvId(7),
        seq,
        at: at(s),
        from,
        text: String::new(),
        client_msg_id: None,
        bot: None,
    };
    let mut bot = msg(2, 2, Sender::Bot);
    bot.bot = Some(BotMeta {
        band: "guided".into(),
        entry: None,
        also: Vec::new(),
        intent: None,
        confidence: 0.6,
        menu: vec![],
        follow_ups: vec![],
    });
    let messages = [
        msg(1, 0, Sender::Buyer),
        bot,
        msg(
            3,
            40,
            Sender::Agent {
                id: crate::model::UserId(2),
                name: "mei".into(),
            },
        ),
    ];
    let event = |conv: u64, s, to| Event {
        seq: 1,
        at: at(s),
        conv: ConvId(conv),
        channel: "web".into(),
        kind: EventKind::State {
            from: ConvState::Bot,
            to,
            reason: String::new(),
        },
    };
    let events = [
        event(7, 30, ConvState::Human),
        event(8, 10, ConvState::Queued),
    ];
    // Messages carry the nickname; metrics know agents by login name.
    let logins = HashMap::from([(crate::model::UserId(2), "mei".to_string())]);
    let mut messages = messages;
    if let Sender::Agent { name, .. } = &mut messages[2].from {
        *name = "小美".into();
    }
    let t = Timeline::build(&conv, &messages, &events, &logins);
    assert_eq!(t.lines.len(), 3);
    assert_eq!(t.lines[1].band.as_deref(), Some("guided"));
    assert_eq!(t.lines[2].who, agent("mei"));
    assert_eq!(
        t.modes,
        vec![(at(30), ConvState::Human)],
        "conv 8's event ignored"
    );
    assert_eq!(t.mode_at(at(29)), ConvState::Bot);
    assert_eq!(t.transferred_at(), Some(at(30)));
    assert_eq!(t.rating, Some(4));
    assert!(t.served().contains(&"mei") && !t.served().contains(&"tao"));
}

#[test]
fn tallies_of_parts_add_up_to_the_tally_of_the_whole() {
    let mut rated = tl(1, 1, &[(0, Who::Buyer, None), (40, agent("mei"), None)]);
    rated.rating = Some(1);
    rated.reasons = vec!["回复慢".into()];
    rated.modes = vec![(at(0), ConvState::Human)];
    let mut bot = tl(2, 2, &[(0, Who::Buyer, None), (1, Who::Bot, Some("exact"))]);
    bot.scene = Some("物流".into());
    bot.rating = Some(5);
    let third = tl(3, 3, &[(0, Who::Buyer, None), (3, Who::Bot, Some("none"))]);
    let all = [rated.clone(), bot.clone(), third.clone()];
    let whole = Tally::of(&all, shop());
    let mut parts = Tally::of([&rated], shop());
    parts.merge(&Tally::of([&bot, &third], shop()));
    assert_eq!(parts, whole);
    assert_eq!(whole.levels, [1, 0, 0, 0, 1]);
    assert_eq!(whole.reasons.get("回复慢"), Some(&1));
    assert_eq!(whole.scenes.get("物流"), Some(&1));
    assert_eq!(parts.figures(), Figures::of(&all, shop()));
    assert!(
        close(whole.figures().human_response_30s_rate, 0.0),
        "40 s is too slow"
    );
}

#[test]
fn orders_within_a_day_convert_bot_and_human_conversations_apart() {
    let mut bot = tl(1, 1, &[(0, Who::Buyer, None), (1, Who::Bot, Some("exact"))]);
    bot.ordered = true;
    let bot2 = tl(2, 2, &[(0, Who::Buyer, None), (1, Who::Bot, Some("exact"))]);
    let mut human = tl(3, 3, &[(0, Who::Buyer, None), (9, agent("mei"), None)]);
    human.ordered = true;
    let f = Figures::of(&[bot, bot2, human], shop());
    assert!(close(f.bot_conversion_rate, 0.5));
    assert!(close(f.human_conversion_rate, 1.0));
}

#[test]
fn a_rating_is_credited_to_the_last_agent_who_served() {
    let mut t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (5, agent("mei"), None),
            (60, agent("lan"), None),
        ],
    );
    t.modes = vec![(at(0), ConvState::Human), (at(90), ConvState::Closed)];
    t.rating = Some(5);
    let d = DayTally::of("2026-11-23", &[t], shop(), false);
    assert_eq!(d.agents["lan"].ratings, 1);
    assert_eq!(d.agents["mei"].ratings, 0);
    assert_eq!(d.agents["mei"].conversations, 1, "mei still served it");
    assert_eq!(d.all.ratings, 1);
}

#[test]
fn a_conversation_passed_between_agents_counts_for_each_their_own_part() {
    // Queued at 0, mei from 5, passed to tao at 30 (who wrote last, but only tao
    // held it at the end), closed at 110; rated 4.
    let mut t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (0, Who::Bot, Some("intent")),
            (10, agent("mei"), None),
            (20, Who::Buyer, None),
            (25, agent("mei"), None),
            (40, Who::Buyer, None),
            (100, agent("tao"), None),
        ],
    );
    t.modes = vec![
        (at(0), ConvState::Queued),
        (at(5), ConvState::Human),
        (at(30), ConvState::Human),
        (at(110), ConvState::Closed),
    ];
    t.holders = vec![(at(5), "mei".into()), (at(30), "tao".into())];
    t.last_agent = Some("tao".into());
    t.rating = Some(4);
    let d = DayTally::of("2026-11-23", std::slice::from_ref(&t), shop(), false);
    let (mei, tao) = (d.agents["mei"].figures(), d.agents["tao"].figures());
    // mei answers for 5 s from her assignment and her one reply 5 s after the buyer;
    // tao for the 70 s from his.
    assert!(close(mei.human_first_response_avg_s, 5.0), "{mei:?}");
    assert!(close(mei.human_avg_response_s, 5.0), "{mei:?}");
    assert!(close(tao.human_first_response_avg_s, 70.0), "{tao:?}");
    assert!(close(tao.human_avg_response_s, 60.0), "{tao:?}");
    assert_eq!((mei.ratings, tao.ratings), (0, 1));
    // The whole shop: from the hand-over.
    assert!(close(d.all.figures().human_first_response_avg_s, 10.0));
    // The last holder is credited even without a word written.
    t.lines.retain(|l| l.who != agent("tao"));
    let d = DayTally::of("2026-11-23", &[t], shop(), false);
    assert_eq!(d.agents["tao"].ratings, 1);
    assert_eq!(d.agents["tao"].conversations, 1);
}

#[test]
fn an_agent_answering_after_the_bots_apology_answers_the_turn() {
    // A complaint hands the buyer over at once: the bot apologises at 0 s and the
    // agent answers at 2 s. The turn is the agent's, within 30 s and 3 minutes.
    let mut t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (0, Who::Bot, Some("intent")),
            (2, agent("mei"), None),
        ],
    );
    t.modes = vec![(at(0), ConvState::Queued), (at(1), ConvState::Human)];
    let f = Figures::of(&[t], shop());
    assert!(close(f.human_3min_rate, 1.0), "{f:?}");
    assert!(close(f.human_response_30s_rate, 1.0), "{f:?}");
    assert!(close(f.human_avg_response_s, 2.0), "{f:?}");
    assert!(
        close(f.avg_response_s, 0.0),
        "the bot answered first: {f:?}"
    );
}

#[test]
fn what_is_written_after_the_close_answers_nothing() {
    // A ticket's follow-up hours after the close is no reply to the last question.
    let mut t = tl(
        1,
        1,
        &[
            (0, Who::Buyer, None),
            (5, agent("mei"), None),
            (20, Who::Buyer, None),
            (4000, Who::Bot, None),
        ],
    );
    t.modes = vec![(at(0), ConvState::Human), (at(30), ConvState::Closed)];
    let turns = t.turns();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[1].answered, None, "{turns:?}");
    let f = Figures::of(&[t], shop());
    assert!(close(f.avg_response_s, 5.0), "{f:?}");
}

#[test]
fn a_buyer_who_comes_back_on_another_day_is_one_buyer_of_the_range() {
    let day1 = Tally::of(&[tl(1, 7, &[(0, Who::Buyer, None)])], shop());
    let day2 = Tally::of(&[tl(2, 7, &[(0, Who::Buyer, None)])], shop());
    let mut range = Tally::default();
    range.merge(&day1);
    range.merge(&day2);
    assert_eq!((range.conversations, range.buyers), (2, 1));
}

#[test]
fn the_bot_is_rated_on_the_conversations_it_served_alone() {
    let mut bot = tl(1, 1, &[(0, Who::Buyer, None), (1, Who::Bot, Some("exact"))]);
    bot.rating = Some(2);
    let mut human = tl(2, 2, &[(0, Who::Buyer, None), (9, agent("mei"), None)]);
    human.rating = Some(5);
    let f = Figures::of(&[bot, human], shop());
    assert!(close(f.satisfaction_rate, 0.5));
    assert!(close(f.bot_satisfaction_rate, 0.0), "{f:?}");
}

#[test]
fn every_figure_has_a_name_and_a_unit() {
    let json = serde_json::to_value(Figures::default()).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut named: Vec<&str> = FIGURE_NAMES.iter().map(|(k, _, _)| *k).collect();
    keys.sort_unstable();
    named.sort_unstable();
    assert_eq!(keys, named);
    assert_eq!(shown(Some(0.6667), chart::Unit::Percent), "66.7%");
    assert_eq!(shown(Some(12.25), chart::Unit::Seconds), "12.2 秒");
    assert_eq!(shown(None, chart::Unit::Count), "—");
}
