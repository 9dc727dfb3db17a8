//! Each rule on conversations that must trigger it and on ones that must not.

use super::*;
use crate::model::{BuyerId, UserId};
use chrono::{Duration, TimeZone};

/// 10:00 Shanghai on 2026-11-23 (staffed hours).
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap() + Duration::seconds(secs)
}

fn shop() -> Shop {
    Shop {
        tz: chrono_tz::Asia::Shanghai,
        staffed: crate::model::StaffedHours::default(),
    }
}

enum W {
    Buyer,
    Bot,
    Mei,
}

/// Inspects a closed conversation of (second, writer, text) messages, handed to a human
/// at each of `queued` seconds.
fn run(lines: &[(i64, W, &str)], queued: &[i64]) -> Vec<QaRule> {
    findings(lines, queued, None)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

/// The findings of `run`, with `assigned` as the last agent given the conversation.
fn findings(lines: &[(i64, W, &str)], queued: &[i64], assigned: Option<UserId>) -> Vec<Finding> {
    let waits: Vec<(i64, i64)> = queued.iter().map(|q| (*q, 0)).collect();
    findings_after_waits(lines, &waits, assigned)
}

/// The findings of a conversation queued at each `(second, wait)` and taken by an agent
/// `wait` seconds later.
fn findings_after_waits(
    lines: &[(i64, W, &str)],
    queued: &[(i64, i64)],
    assigned: Option<UserId>,
) -> Vec<Finding> {
    let modes: Vec<(i64, ConvState)> = queued
        .iter()
        .flat_map(|(q, wait)| [(*q, ConvState::Queued), (q + wait, ConvState::Human)])
        .collect();
    findings_with_modes(lines, &modes, assigned)
}

/// The findings of a conversation through the state changes `modes` (second, state),
/// closed a second after its last message.
fn findings_with_modes(
    lines: &[(i64, W, &str)],
    modes: &[(i64, ConvState)],
    assigned: Option<UserId>,
) -> Vec<Finding> {
    let mut conv = Conversation::start(ConvId(1), BuyerId(1), "web", 0, at(0));
    conv.last_agent = assigned;
    for (s, state) in modes {
        conv.enter(*state, at(*s));
    }
    let last = lines.last().map(|l| l.0).unwrap_or(0);
    conv.enter(ConvState::Closed, at(last + 1));
    let msgs: Vec<Message> = lines
        .iter()
        .enumerate()
        .map(|(i, (s, w, text))| Message {
            conv: ConvId(1),
            seq: i as u64 + 1,
            at: at(*s),
            from: match w {
                W::Buyer => Sender::Buyer,
                W::Bot => Sender::Bot,
                W::Mei => Sender::Agent {
                    id: UserId(2),
                    name: "小美".into(),
                },
            },
            text: text.to_string(),
            client_msg_id: None,
            bot: None,
        })
        .collect();
    let logins = HashMap::from([(UserId(2), "mei".to_string())]);
    let t = Timeline::build(&conv, &msgs, &[], &logins);
    let found = inspect(
        &conv,
        &t,
        &msgs,
        &logins,
        &QaSettings::default(),
        shop(),
        None,
    );
    for f in &found {
        if f.agent.is_some() {
            assert_eq!(f.agent.as_deref(), Some("mei"), "agents by login name");
        }
    }
    found
}

#[test]
fn a_well_served_conversation_finds_nothing() {
    let found = run(
        &[
            (0, W::Buyer, "在吗"),
            (1, W::Bot, "亲，在的"),
            (10, W::Buyer, "转人工"),
            (20, W::Mei, "亲，我是小美"),
            (30, W::Buyer, "快递到哪了"),
            (60, W::Mei, "已经到杭州了"),
        ],
        &[10],
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn red_lines_are_found_in_agent_messages_only_and_whatever_the_width() {
    assert_eq!(
        run(
            &[(0, W::Buyer, "加微信行吗"), (5, W::Mei, "亲，不可以哦")],
            &[0]
        ),
        vec![],
        "the buyer may say it"
    );
    assert_eq!(
        run(&[(0, W::Buyer, "在吗"), (5, W::Mei, "你加我ＶＸ吧")], &[0]),
        vec![QaRule::RedLine]
    );
    let rules = QaSettings::default();
    assert_eq!(red_lines_in("爱买不买！", &rules, None), vec!["爱买不买"]);
    assert!(red_lines_in("亲，这款卖得很好", &rules, None).is_empty());
    // Spellings that dodge the word are the word.
    for dodge in [
        "加V信 xiaoer888 私下给您退差价",
        "加我薇信吧",
        "加 wx 吧",
        "加我扣扣",
    ] {
        assert!(!red_lines_in(dodge, &rules, None).is_empty(), "{dodge}");
    }
    assert!(red_lines_in("亲，支持微信支付哦", &rules, None).is_empty());
    // 加微信 and 加我微信 are one word spelled two ways: named once.
    assert_eq!(red_lines_in("加V信吧", &rules, None).len(), 1);
}

#[test]
fn red_lines_are_whole_words() {
    let analyzer = crate::bot::tokenize::Analyzer::new(&crate::model::Lexicon::default(), []);
    let cut = |t: &str| analyzer.cut(&crate::bot::normalize::normalize(t));
    let rules = QaSettings::default();
    for fine in ["这款滚筒洗衣机很好用", "垃圾袋是赠品", "手机没有病毒"] {
        assert!(
            red_lines_in(fine, &rules, Some(&cut)).is_empty(),
            "{fine}: {:?}",
            cut(fine)
        );
    }
    for bad in ["你滚吧", "你有病吧", "什么垃圾", "加我薇信", "爱买不买"] {
        assert!(
            !red_lines_in(bad, &rules, Some(&cut)).is_empty(),
            "{bad}: {:?}",
            cut(bad)
        );
    }
}

#[test]
fn slow_first_and_slow_replies_count_only_for_humans() {
    assert_eq!(
        run(&[(0, W::Buyer, "在吗"), (31, W::Mei, "在的")], &[0]),
        vec![QaRule::SlowFirst]
    );
    assert_eq!(
        run(&[(0, W::Buyer, "在吗"), (30, W::Mei, "在的")], &[0]),
        vec![]
    );
    // The bot's pace is not the humans'.
    assert_eq!(
        run(&[(0, W::Buyer, "在吗"), (300, W::Bot, "在的")], &[]),
        vec![]
    );
    let found = run(
        &[
            (0, W::Buyer, "在吗"),
            (5, W::Mei, "在的"),
            (10, W::Buyer, "什么时候发货"),
            (200, W::Mei, "今天发"),
        ],
        &[0],
    );
    assert_eq!(found, vec![QaRule::SlowReply]);
    // Nobody answered after the hand-over.
    let found = run(&[(0, W::Buyer, "在吗"), (5, W::Bot, "稍等")], &[3]);
    assert!(found.contains(&QaRule::SlowFirst), "{found:?}");
}

#[test]
fn five_agent_messages_in_a_row_are_a_reject_risk_four_are_not() {
    let mut lines = vec![(0, W::Buyer, "在吗")];
    lines.extend((1..=4).map(|s| (s, W::Mei, "亲")));
    assert_eq!(run(&lines, &[0]), vec![]);
    lines.push((5, W::Mei, "亲？"));
    assert_eq!(run(&lines, &[0]), vec![QaRule::AgentRun]);
}

#[test]
fn complaints_need_a_human_answer() {
    let found = run(
        &[
            (0, W::Buyer, "质量太差了，我要投诉"),
            (1, W::Bot, "非常抱歉"),
        ],
        &[],
    );
    assert_eq!(found, vec![QaRule::NegativeUnanswered]);
    // With the bot alone nobody is named; with an agent serving, the agent is.
    let bot_only = [(0, W::Buyer, "太失望了"), (1, W::Bot, "非常抱歉")];
    let found = findings(&bot_only, &[], Some(UserId(2)));
    assert_eq!(found[0].agent, None, "{found:?}");
    let served = [
        (0, W::Buyer, "在吗"),
        (5, W::Mei, "在的"),
        (10, W::Buyer, "你们太垃圾了，发错货了，我要投诉！"),
    ];
    let found = findings(&served, &[2], Some(UserId(2)));
    let left = found
        .iter()
        .find(|f| f.rule == QaRule::NegativeUnanswered)
        .unwrap();
    assert_eq!(left.agent.as_deref(), Some("mei"), "{found:?}");
    let found = run(
        &[
            (0, W::Buyer, "质量太差了，我要投诉"),
            (1, W::Bot, "非常抱歉"),
            (5, W::Mei, "亲，非常抱歉，马上为您处理"),
        ],
        &[2],
    );
    assert_eq!(found, vec![], "{found:?}");
    // "收到的衣服有线头" is a question, not a complaint.
    assert_eq!(
        run(&[(0, W::Buyer, "收到的衣服有线头"), (1, W::Bot, "亲")], &[]),
        vec![]
    );
}

#[test]
fn two_hand_overs_are_noted() {
    let found = run(
        &[
            (0, W::Buyer, "在吗"),
            (5, W::Mei, "在的"),
            (100, W::Buyer, "还在吗"),
            (105, W::Mei, "在"),
        ],
        &[0, 100],
    );
    assert_eq!(found, vec![QaRule::TransferredTwice]);
    // Passed from one agent straight to another counts too; one hand-over does not.
    let lines = [(0, W::Buyer, "转人工"), (5, W::Mei, "您好")];
    let human = |s| (s, ConvState::Human);
    let passed = [(0, ConvState::Queued), human(1), human(2), human(3)];
    let found = findings_with_modes(&lines, &passed, Some(UserId(2)));
    let twice = found
        .iter()
        .find(|f| f.rule == QaRule::TransferredTwice)
        .unwrap();
    assert_eq!(twice.detail, "转接 3 次");
    let once = findings_with_modes(&lines, &passed[..2], Some(UserId(2)));
    assert!(
        once.iter().all(|f| f.rule != QaRule::TransferredTwice),
        "{once:?}"
    );
}

#[test]
fn a_buyer_left_unanswered_is_put_down_to_the_agent_given_the_conversation() {
    let lines = [
        (0, W::Buyer, "在吗"),
        (5, W::Bot, "稍等"),
        (90, W::Buyer, "人呢"),
    ];
    let found = findings(&lines, &[3], Some(UserId(2)));
    let slow = found.iter().find(|f| f.rule == QaRule::SlowFirst).unwrap();
    assert_eq!(slow.agent.as_deref(), Some("mei"));
    // Closed 10 s after the agent got it (a supervisor's 强拆): not the agent's.
    let quick = [(0, W::Buyer, "在吗"), (12, W::Bot, "稍等")];
    let found = findings(&quick, &[3], Some(UserId(2)));
    let slow = found.iter().find(|f| f.rule == QaRule::SlowFirst).unwrap();
    assert_eq!(slow.agent, None, "{slow:?}");
    assert!(
        slow.detail.contains("接入后 10 秒会话即结束"),
        "{}",
        slow.detail
    );
    // A buyer message closed on before 3 minutes were up ("好的", then the agent
    // closed) was not answered late.
    let found = findings(&lines, &[3], Some(UserId(2)));
    assert!(
        found.iter().all(|f| f.rule != QaRule::SlowReply),
        "closed 1 s after 人呢: {found:?}"
    );
    // Left unanswered for more than 3 minutes before the close: the agent's.
    let left = [
        (0, W::Buyer, "在吗"),
        (5, W::Mei, "在的"),
        (90, W::Buyer, "能改地址吗"),
        (300, W::Buyer, "人呢"),
    ];
    let found = findings(&left, &[3], Some(UserId(2)));
    let late = found.iter().find(|f| f.rule == QaRule::SlowReply).unwrap();
    assert_eq!(late.agent.as_deref(), Some("mei"), "{late:?}");
    // Never assigned (the buyer waited in the queue): nobody to name.
    let found = findings(&lines, &[3], None);
    let slow = found.iter().find(|f| f.rule == QaRule::SlowFirst).unwrap();
    assert_eq!(slow.agent, None);
}

#[test]
fn a_slow_first_answer_is_the_agents_only_for_the_time_after_they_took_the_buyer() {
    let lines = [(0, W::Buyer, "转人工"), (65, W::Mei, "您好，我是小美")];
    // 60 s in the queue with nobody online, answered 5 s after the agent took it.
    let found = findings_after_waits(&lines, &[(0, 60)], Some(UserId(2)));
    let slow = found.iter().find(|f| f.rule == QaRule::SlowFirst).unwrap();
    assert_eq!(slow.agent, None, "{slow:?}");
    assert!(
        slow.detail.contains("排队等客服 60 秒，接入后 5 秒回复"),
        "{}",
        slow.detail
    );
    // Taken at once, answered after 65 s: the agent's.
    let found = findings_after_waits(&lines, &[(0, 0)], Some(UserId(2)));
    let slow = found.iter().find(|f| f.rule == QaRule::SlowFirst).unwrap();
    assert_eq!(slow.agent.as_deref(), Some("mei"));
    assert_eq!(slow.detail, "转人工后 65 秒才首次回复");
    // Taken after 20 s, answered 45 s later: still the agent's.
    let found = findings_after_waits(&lines, &[(0, 20)], Some(UserId(2)));
    let slow = found.iter().find(|f| f.rule == QaRule::SlowFirst).unwrap();
    assert_eq!(slow.agent.as_deref(), Some("mei"));
}
