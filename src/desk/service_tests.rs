//! The live service loop through the desk, on a real store and bot: answers, transfers,
//! the queue, agents, scene switches, reception modes, re-routing and idle close.

use super::agents::Target;
use super::service::{Incoming, OrderInput};
use super::testing::desk;
use super::*;
use crate::bot::index::Location;
use crate::model::{
    AgentState, ConvId, ConvState, Conversation, Group, GroupId, ManualClock, NewUser, Reception,
    ReceptionMode, Role, SceneMode, SceneSwitch, Sender, User,
};
use crate::store::prelude::*;
use chrono::Duration;

struct Shop {
    _dir: tempfile::TempDir,
    desk: Desk,
    clock: Arc<ManualClock>,
}

/// A shop with the starter KB at 10:00 Shanghai time (staffed) and agents a1, a2.
async fn shop() -> (Shop, User, User) {
    let (dir, desk, clock) = desk();
    let desk = desk.open_bot(Location::Ram).await.unwrap();
    let mut agents = Vec::new();
    for name in ["a1", "a2"] {
        let u = desk
            .add_user(
                &Actor::cli(),
                NewUser {
                    name: name.into(),
                    nickname: format!("客服{name}"),
                    role: Role::Agent,
                    password: "password-1".into(),
                },
            )
            .await
            .unwrap();
        agents.push(u);
    }
    let a2 = agents.pop().unwrap();
    let a1 = agents.pop().unwrap();
    (
        Shop {
            _dir: dir,
            desk,
            clock,
        },
        a1,
        a2,
    )
}

fn msg(buyer: &str, text: &str) -> Incoming {
    Incoming {
        channel: "web".into(),
        buyer: buyer.into(),
        text: text.into(),
        ..Incoming::default()
    }
}

/// The texts of conversation `id`, oldest first.
fn conv_texts(s: &Shop, id: ConvId) -> Vec<String> {
    let r = s.desk.store().read().unwrap();
    r.messages_after(id, 0, 500)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect()
}

/// Conversation `id` as stored.
fn conv(s: &Shop, id: ConvId) -> Conversation {
    s.desk
        .store()
        .read()
        .unwrap()
        .get_conv(id)
        .unwrap()
        .unwrap()
}

/// Agent `a` goes 在线.
async fn online(s: &Shop, a: &User) {
    s.desk.set_agent_state(a, AgentState::Online).await.unwrap();
}

/// A new user of the shop.
async fn add_user(s: &Shop, name: &str, nickname: &str, role: Role) -> User {
    let new = NewUser {
        name: name.into(),
        nickname: nickname.into(),
        role,
        password: "password-1".into(),
    };
    s.desk.add_user(&Actor::cli(), new).await.unwrap()
}

/// What the service said back to a buyer message, in order.
fn texts(o: &super::service::Outcome) -> Vec<String> {
    o.replies.iter().map(|m| m.text.clone()).collect()
}

#[actix_web::test]
async fn a_settings_change_reaches_the_very_next_buyer_message() {
    let (s, _, _) = shop().await;
    let first = s.desk.on_buyer_message(msg("b1", "在吗")).await.unwrap();
    assert!(texts(&first)[0].contains("我的小店"), "{:?}", texts(&first));
    let before = s.desk.store().config_generation();
    // A buyer message changes no settings: what was read is kept.
    s.desk.on_buyer_message(msg("b2", "在吗")).await.unwrap();
    assert_eq!(s.desk.store().config_generation(), before);
    let mut settings = s.desk.store().read().unwrap().get_settings().unwrap();
    settings.shop_name = "小二杂货铺".into();
    s.desk
        .store()
        .write(move |tx| tx.put_settings(&settings))
        .await
        .unwrap();
    assert!(s.desk.store().config_generation() > before);
    let next = s.desk.on_buyer_message(msg("b1", "在吗")).await.unwrap();
    assert!(texts(&next)[0].contains("小二杂货铺"), "{:?}", texts(&next));
}

async fn reception(s: &Shop, r: Reception) {
    s.desk
        .store()
        .write(move |tx| tx.put_reception(&r))
        .await
        .unwrap();
}

/// Agents serve one buyer at a time, so the next buyer waits.
async fn one_buyer_per_agent(s: &Shop) {
    reception(
        s,
        Reception {
            agent_cap: 1,
            ..Reception::default()
        },
    )
    .await;
}

#[actix_web::test]
async fn the_bot_answers_and_a_retry_is_stored_once() {
    let (s, _, _) = shop().await;
    let mut events = s.desk.bus().subscribe();
    let mut m = msg("b1", "包邮吗");
    m.client_msg_id = Some("c-1".into());
    let first = s.desk.on_buyer_message(m.clone()).await.unwrap();
    assert_eq!(first.conv.state, ConvState::Bot);
    assert_eq!(first.message.from, Sender::Buyer);
    assert_eq!(first.replies.len(), 1);
    assert_eq!(first.replies[0].from, Sender::Bot);
    assert_eq!(
        first.replies[0].bot.as_ref().unwrap().entry.as_deref(),
        Some("ship-free")
    );
    assert!(
        events.try_recv().is_ok(),
        "events are published after the commit"
    );

    let again = s.desk.on_buyer_message(m).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message.seq, first.message.seq);
    assert_eq!(again.replies, first.replies);
    let stored = s
        .desk
        .store()
        .read()
        .unwrap()
        .messages_after(first.conv.id, 0, 100)
        .unwrap();
    assert_eq!(stored.len(), 2, "the retry stored nothing");
}

#[actix_web::test]
async fn retries_sent_all_at_once_store_the_message_once() {
    let (s, _, _) = shop().await;
    let desk = Arc::new(s.desk.clone());
    let mut m = msg("b1", "包邮吗");
    m.client_msg_id = Some("c-9".into());
    // Sent together, most land in one write batch: the later ones must find the
    // first one's receipt in the batch and answer from it once it has committed.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (d, m) = (desk.clone(), m.clone());
            actix_web::rt::spawn(async move { d.on_buyer_message(m).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1);
    let first = &outcomes[0];
    for o in &outcomes {
        assert_eq!(o.conv.id, first.conv.id);
        assert_eq!(o.message.seq, first.message.seq);
        assert_eq!(o.replies, first.replies);
    }
    let stored = desk
        .store()
        .read()
        .unwrap()
        .messages_after(first.conv.id, 0, 100)
        .unwrap();
    assert_eq!(stored.len(), 2, "one buyer message and one reply");
}

#[actix_web::test]
async fn a_transfer_goes_to_a_free_agent_or_waits_in_the_queue() {
    let (s, a1, a2) = shop().await;
    online(&s, &a1).await;
    one_buyer_per_agent(&s).await;

    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Human);
    assert_eq!(o.conv.agent, Some(a1.id));
    assert!(
        o.replies.iter().any(|r| r.text.contains("客服a1")),
        "{:?}",
        o.replies
    );

    // a1 is at the cap: the next buyer waits.
    let o2 = s
        .desk
        .on_buyer_message(msg("b2", "我要人工客服"))
        .await
        .unwrap();
    assert_eq!(o2.conv.state, ConvState::Queued);
    assert!(
        o2.replies.iter().any(|r| r.text.contains("下一位")),
        "{:?}",
        o2.replies
    );
    // a2 comes online and takes the waiting buyer at once.
    online(&s, &a2).await;
    let c2 = conv(&s, o2.conv.id);
    assert_eq!((c2.state, c2.agent), (ConvState::Human, Some(a2.id)));
}

#[actix_web::test]
async fn two_agents_claiming_the_same_buyer_one_wins() {
    let (s, a1, a2) = shop().await;
    s.clock.advance(Duration::hours(0));
    // Nobody online during staffed hours: the buyer waits in the queue.
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    let (d1, d2) = (s.desk.clone(), s.desk.clone());
    let (u1, u2) = (a1.clone(), a2.clone());
    let id = o.conv.id;
    let t1 = actix_web::rt::spawn(async move { d1.claim(&u1, id).await });
    let t2 = actix_web::rt::spawn(async move { d2.claim(&u2, id).await });
    let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
    assert_eq!(r1.is_ok() as u8 + r2.is_ok() as u8, 1, "{r1:?} {r2:?}");
    let loser = if r1.is_ok() { r2 } else { r1 };
    assert!(matches!(loser, Err(Error::Refused(m)) if m.contains("已被接待")));
    let c = conv(&s, id);
    assert_eq!(c.state, ConvState::Human);
}

#[actix_web::test]
async fn a_supervisors_force_close_asks_no_rating_and_says_who_closed() {
    let (s, a1, _) = shop().await;
    online(&s, &a1).await;
    let sup = add_user(&s, "sup", "主管", Role::Supervisor).await;
    let mut closed = Vec::new();
    for (buyer, closer) in [("b1", &sup), ("b2", &a1)] {
        let id = s
            .desk
            .on_buyer_message(msg(buyer, "转人工"))
            .await
            .unwrap()
            .conv
            .id;
        s.desk.agent_send(&a1, id, "亲，在的").await.unwrap();
        s.desk.close(closer, id).await.unwrap();
        closed.push(conv(&s, id));
    }
    let (forced, own) = (&closed[0], &closed[1]);
    // The agent still typing is told why the message did not go.
    let late = s.desk.agent_send(&a1, forced.id, "亲，还在吗").await;
    assert!(
        matches!(&late, Err(Error::Refused(m)) if m.contains("主管 强制结束")),
        "{late:?}"
    );
    assert_eq!(forced.closed_by.as_deref(), Some("主管 强制结束"));
    assert_eq!(
        forced.invited_at, None,
        "the agent's rating is not asked for"
    );
    let said = conv_texts(&s, forced.id);
    assert_eq!(
        said.last().map(String::as_str),
        Some(super::agents::FORCED_CLOSE_TEXT),
        "the buyer knows it ended: {said:?}"
    );
    assert_eq!(own.closed_by.as_deref(), Some("客服a1 结束会话"));
    assert!(own.invited_at.is_some());
}

#[actix_web::test]
async fn agents_reply_release_to_the_bot_and_close() {
    let (s, a1, a2) = shop().await;
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    let id = o.conv.id;
    // Only the serving agent (or a supervisor) may reply.
    assert!(matches!(
        s.desk.agent_send(&a2, id, "你好").await,
        Err(Error::Refused(_))
    ));
    let m = s
        .desk
        .agent_send(&a1, id, "亲，在的，请问有什么可以帮您？")
        .await
        .unwrap();
    assert!(matches!(m.from, Sender::Agent { .. }));
    // While a human serves, the bot stays quiet.
    let o2 = s.desk.on_buyer_message(msg("b1", "包邮吗")).await.unwrap();
    assert!(o2.replies.is_empty());
    s.desk.release(&a1, id).await.unwrap();
    let o3 = s.desk.on_buyer_message(msg("b1", "包邮吗")).await.unwrap();
    assert_eq!(o3.conv.id, id, "the same conversation goes on with the bot");
    assert_eq!(o3.replies[0].from, Sender::Bot);
    s.desk.close(&a1, id).await.unwrap_err();
    let supervisor = add_user(&s, "sup", "主管", Role::Supervisor).await;
    s.desk.close(&supervisor, id).await.unwrap();
    let o4 = s.desk.on_buyer_message(msg("b1", "在吗")).await.unwrap();
    assert_ne!(o4.conv.id, id, "after close a new conversation starts");
    let events = s
        .desk
        .store()
        .read()
        .unwrap()
        .events_after(0, 1000)
        .unwrap();
    let states: Vec<(ConvState, ConvState)> = events
        .iter()
        .filter(|e| e.conv == id)
        .filter_map(|e| match &e.kind {
            crate::model::EventKind::State { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            (ConvState::Bot, ConvState::Queued),
            (ConvState::Queued, ConvState::Human),
            (ConvState::Human, ConvState::Bot),
            (ConvState::Bot, ConvState::Closed)
        ]
    );
}

#[actix_web::test]
async fn two_misses_in_a_row_hand_over() {
    let (s, a1, _) = shop().await;
    online(&s, &a1).await;
    let o = s
        .desk
        .on_buyer_message(msg("b1", "地球到月亮有多远"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    assert_eq!(o.conv.unmatched_streak, 1);
    let o = s
        .desk
        .on_buyer_message(msg("b1", "你们那边下雨了吗"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Human, "{:?}", o.replies);
    assert_eq!(o.conv.transfer_reason.as_deref(), Some("连续两次未能回答"));
}

#[actix_web::test]
async fn a_guessing_menu_after_a_miss_offers_a_human_and_counts_as_a_miss() {
    let (s, a1, _) = shop().await;
    online(&s, &a1).await;
    let o = s
        .desk
        .on_buyer_message(msg("b1", "地球到月亮有多远"))
        .await
        .unwrap();
    assert_eq!(o.conv.unmatched_streak, 1);
    let o = s
        .desk
        .on_buyer_message(msg("b1", "就上次那个东西啊"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    let menu = o.replies.last().map(|m| m.text.clone()).unwrap_or_default();
    assert!(menu.contains("回复数字即可"), "{menu}");
    assert!(menu.contains("回复“转人工”"), "{menu}");
    assert_eq!(o.conv.unmatched_streak, 2);
    let o = s
        .desk
        .on_buyer_message(msg("b1", "你们那边下雨了吗"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Human, "{:?}", o.replies);
    assert_eq!(o.conv.transfer_reason.as_deref(), Some("连续两次未能回答"));
}

#[actix_web::test]
async fn scene_switches_send_straight_to_a_human_or_turn_the_bot_off() {
    let (s, a1, _) = shop().await;
    online(&s, &a1).await;
    let scene = s
        .desk
        .store()
        .read()
        .unwrap()
        .get_entry("ship-free")
        .unwrap()
        .unwrap()
        .scene;
    let human = SceneSwitch {
        staffed: SceneMode::Human,
        off_hours: SceneMode::Bot,
    };
    let sc = scene.clone();
    s.desk
        .store()
        .write(move |tx| tx.put_scene_switch(&sc, &human))
        .await
        .unwrap();
    let o = s.desk.on_buyer_message(msg("b1", "包邮吗")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Human);
    assert!(
        o.conv
            .transfer_reason
            .as_deref()
            .unwrap_or("")
            .contains(&scene)
    );
    assert!(
        o.replies.iter().all(|m| m.from != Sender::Bot),
        "the agent answers: {:?}",
        texts(&o)
    );
    // Nobody at work (within staffed hours): the buyer waits for a human, and the bot
    // answers meanwhile rather than leave the question hanging.
    s.desk
        .set_agent_state(&a1, AgentState::Offline)
        .await
        .unwrap();
    let o = s.desk.on_buyer_message(msg("b8", "包邮吗")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Queued, "{:?}", texts(&o));
    assert_eq!(
        o.replies[0].bot.as_ref().and_then(|m| m.entry.as_deref()),
        Some("ship-free"),
        "{:?}",
        texts(&o)
    );
    assert!(
        texts(&o).iter().any(|t| t.contains("已为您排队")),
        "{:?}",
        texts(&o)
    );
    online(&s, &a1).await;
    // With the bot serving alone, nobody would take it: the bot answers instead.
    reception(
        &s,
        Reception {
            bot_only: true,
            ..Reception::default()
        },
    )
    .await;
    let o = s.desk.on_buyer_message(msg("b9", "包邮吗")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    assert_eq!(
        o.replies[0].bot.as_ref().unwrap().entry.as_deref(),
        Some("ship-free"),
        "{:?}",
        texts(&o)
    );
    reception(&s, Reception::default()).await;

    let off = SceneSwitch {
        staffed: SceneMode::Off,
        off_hours: SceneMode::Off,
    };
    let sc = scene.clone();
    s.desk
        .store()
        .write(move |tx| tx.put_scene_switch(&sc, &off))
        .await
        .unwrap();
    let o = s.desk.on_buyer_message(msg("b2", "包邮吗")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    let meta = o.replies[0].bot.clone().unwrap();
    assert_eq!(meta.band, "none");
    assert!(meta.follow_ups.is_empty(), "no way back into the scene");
    // Like any question the bot cannot answer, the second miss goes to a human.
    let o = s
        .desk
        .on_buyer_message(msg("b2", "包邮吗？"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Human);
    // Outside staffed hours the off-hours mode applies.
    let bot_at_night = SceneSwitch {
        staffed: SceneMode::Off,
        off_hours: SceneMode::Bot,
    };
    s.desk
        .store()
        .write(move |tx| tx.put_scene_switch(&scene, &bot_at_night))
        .await
        .unwrap();
    s.clock.advance(Duration::hours(14)); // 00:00 Shanghai
    let o = s.desk.on_buyer_message(msg("b3", "包邮吗")).await.unwrap();
    assert_eq!(
        o.replies[0].bot.as_ref().unwrap().entry.as_deref(),
        Some("ship-free")
    );
}

#[actix_web::test]
async fn with_nobody_on_duty_the_bot_says_so_honestly() {
    let (s, _, _) = shop().await;
    s.clock.advance(Duration::hours(14)); // 00:00 Shanghai: off-hours, nobody online
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    let text = &o.replies.last().unwrap().text;
    assert!(
        text.contains("非人工服务时间") && text.contains("今天 09:00"),
        "{text}"
    );

    // Bot-only nights: even an online agent gets no transfer.
    reception(
        &s,
        Reception {
            bot_only: true,
            ..Reception::default()
        },
    )
    .await;
    let (_, a1, _) = (0, s.desk.get_user(UserId(2)).unwrap(), 0);
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b2", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
}

#[actix_web::test]
async fn switching_to_bot_only_hands_the_queue_back_to_the_bot() {
    use crate::bot::compose::BOT_ONLY_TEXT;
    let (s, _, _) = shop().await;
    let queued = s
        .desk
        .on_buyer_message(msg("b1", "转人工"))
        .await
        .unwrap()
        .conv;
    assert_eq!(queued.state, ConvState::Queued);
    s.desk
        .save_reception(
            &Actor::cli(),
            Reception {
                bot_only: true,
                ..Reception::default()
            },
        )
        .await
        .unwrap();
    let c = conv(&s, queued.id);
    assert_eq!(c.state, ConvState::Bot, "nobody will take the queue now");
    assert_eq!(
        conv_texts(&s, c.id).last().map(String::as_str),
        Some(BOT_ONLY_TEXT)
    );
    // The buyer's next question is answered, not left in a dead queue.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "发什么快递"))
        .await
        .unwrap();
    assert_eq!(o.conv.id, c.id);
    assert!(!texts(&o).is_empty() && o.conv.state == ConvState::Bot);
}

#[actix_web::test]
async fn no_human_notices_tell_the_truth() {
    use crate::bot::compose::{BOT_ONLY_TEXT, COMPLAINT_SORRY_TEXT};
    let (s, a1, _) = shop().await;
    // 10:00, staffed, nobody online: the buyer queues, told that nobody is online yet.
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    assert_eq!(
        texts(&o),
        vec![
            "已为您转接人工客服。人工客服暂时都不在线，已为您排队（您是下一位），客服上线后会第一时间接待您；排队期间也可以继续问小二哦～"
        ]
    );

    // Off-hours, a complaint: an apology that promises no transfer, then the notice.
    s.clock.advance(Duration::hours(14));
    let o = s
        .desk
        .on_buyer_message(msg("b2", "质量太差了我要差评"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    let t = texts(&o);
    assert_eq!(t[0], COMPLAINT_SORRY_TEXT);
    assert!(t[1].contains("非人工服务时间"), "{t:?}");
    assert!(t.iter().all(|x| !x.contains("转接")), "{t:?}");
    // Off-hours, two questions in a row not understood: the first reply tells when
    // humans are back rather than to ask for one; the second notice says so first.
    let o = s
        .desk
        .on_buyer_message(msg("b3", "嘟嘟嘟嘟"))
        .await
        .unwrap();
    assert_eq!(
        texts(&o),
        vec![
            "抱歉，这个问题小二还不太明白，您可以换个说法再问一次；人工客服 今天 09:00 上班，届时回复“转人工”即可联系。"
        ]
    );
    let o = s
        .desk
        .on_buyer_message(msg("b3", "叭叭叭叭"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    let t = texts(&o);
    assert!(
        t.last().is_some_and(
            |x| x.starts_with("抱歉，这个问题小二没能理解😥 ") && x.contains("非人工服务时间")
        ),
        "{t:?}"
    );
    // Served after the complaint, the buyer's "嗯" gets no request for a rating.
    s.desk.on_buyer_message(msg("b2", "包邮吗")).await.unwrap();
    let o = s.desk.on_buyer_message(msg("b2", "嗯")).await.unwrap();
    assert!(o.conv.invited_at.is_none(), "{:?}", texts(&o));
    assert!(
        texts(&o).iter().all(|x| !x.contains("评价")),
        "{:?}",
        texts(&o)
    );

    // Bot-only within staffed hours: no talk of off-hours; a complaint is still
    // apologised for.
    s.clock.advance(Duration::hours(10)); // 10:00 the next day
    reception(
        &s,
        Reception {
            bot_only: true,
            ..Reception::default()
        },
    )
    .await;
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b3", "转人工")).await.unwrap();
    assert_eq!(
        (o.conv.state, texts(&o)),
        (ConvState::Bot, vec![BOT_ONLY_TEXT.to_string()])
    );
    let o = s
        .desk
        .on_buyer_message(msg("b4", "我要投诉"))
        .await
        .unwrap();
    assert_eq!(
        texts(&o),
        vec![COMPLAINT_SORRY_TEXT.to_string(), BOT_ONLY_TEXT.to_string()]
    );
    // Nor is a buyer the bot does not understand told to ask for one.
    let o = s
        .desk
        .on_buyer_message(msg("b5", "嘟嘟嘟嘟"))
        .await
        .unwrap();
    assert_eq!(
        texts(&o),
        vec![
            "抱歉，这个问题小二还不太明白，您可以换个说法再问一次；说得具体些小二更容易找到答案哦。"
        ]
    );
}

#[actix_web::test]
async fn human_first_reception_until_the_queue_is_long() {
    let (s, a1, _) = shop().await;
    reception(
        &s,
        Reception {
            staffed: ReceptionMode::HumanFirst,
            agent_cap: 1,
            queue_limit: 0,
            ..Reception::default()
        },
    )
    .await;
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b1", "包邮吗")).await.unwrap();
    assert_eq!(
        (o.conv.state, o.conv.agent),
        (ConvState::Human, Some(a1.id)),
        "a free agent takes a new buyer first"
    );
    // No agent free: the bot answers.
    let o = s.desk.on_buyer_message(msg("b2", "包邮吗")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    assert_eq!(o.replies[0].from, Sender::Bot);
}

#[actix_web::test]
async fn unanswered_buyers_are_rerouted_and_idle_ones_closed() {
    let (s, a1, a2) = shop().await;
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.agent, Some(a1.id));
    online(&s, &a2).await;
    s.clock.advance(Duration::minutes(2));
    assert_eq!(s.desk.sweep().await.unwrap().rerouted, 0, "not yet");
    s.clock.advance(Duration::minutes(2));
    let sweep = s.desk.sweep().await.unwrap();
    assert_eq!(sweep.rerouted, 1);
    let c = conv(&s, o.conv.id);
    assert_eq!(c.agent, Some(a2.id), "a2 takes over from the silent a1");
    // a2 is silent too: the buyer is not sent back to a1, who already let them wait,
    // and hears no more "让您久等了" notices.
    for _ in 0..3 {
        s.clock.advance(Duration::minutes(4));
        assert_eq!(s.desk.sweep().await.unwrap().rerouted, 0);
    }
    let notices = conv_texts(&s, o.conv.id);
    assert_eq!(
        notices.iter().filter(|t| t.contains("让您久等了")).count(),
        1,
        "{notices:?}"
    );
    let c = conv(&s, o.conv.id);
    assert_eq!(c.agent, Some(a2.id));
    s.desk.agent_send(&a2, c.id, "您好").await.unwrap();
    s.clock.advance(Duration::minutes(31));
    assert_eq!(s.desk.sweep().await.unwrap().closed, 1);
    let c = conv(&s, o.conv.id);
    assert_eq!(c.state, ConvState::Closed);
}

#[actix_web::test]
async fn the_owner_may_join_a_group_and_serve_buyers() {
    let (s, a1, _) = shop().await;
    let boss = add_user(&s, "boss", "boss", Role::Owner).await;
    let trainer = add_user(&s, "xun", "xun", Role::Trainer).await;
    let group = |members| Group {
        id: GroupId(0),
        name: "全部".into(),
        members,
        scenes: vec![],
        regions: vec![],
        is_default: true,
    };
    // Trainers serve no buyers.
    assert!(matches!(
        s.desk
            .save_group(&Actor::cli(), group(vec![trainer.id]))
            .await,
        Err(Error::Invalid(_))
    ));
    s.desk
        .save_group(&Actor::cli(), group(vec![boss.id, a1.id]))
        .await
        .unwrap();
    online(&s, &boss).await;
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.agent, Some(boss.id));
}

#[actix_web::test]
async fn a_supervisors_takeover_is_not_rerouted_away() {
    let (s, a1, a2) = shop().await;
    online(&s, &a1).await;
    online(&s, &a2).await;
    let sup = add_user(&s, "sup", "主管", Role::Supervisor).await;
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    // The supervisor (offline, watching the monitor) takes it from the silent agent.
    s.desk.take_over(&sup, o.conv.id).await.unwrap();
    for _ in 0..3 {
        s.clock.advance(Duration::minutes(4));
        assert_eq!(s.desk.sweep().await.unwrap().rerouted, 0);
    }
    let c = conv(&s, o.conv.id);
    assert_eq!((c.agent, c.taken_over), (Some(sup.id), true));
    // Handed on by hand, it is an ordinary assignment again.
    s.desk
        .transfer_to(&sup, c.id, Target::Agent(a2.id), "")
        .await
        .unwrap();
    let c = conv(&s, o.conv.id);
    assert_eq!((c.agent, c.taken_over), (Some(a2.id), false));
    s.clock.advance(Duration::minutes(4));
    assert_eq!(s.desk.sweep().await.unwrap().rerouted, 1);
}

#[actix_web::test]
async fn a_buyer_passed_on_by_an_agent_who_left_still_counts_as_waiting() {
    let (s, a1, a2) = shop().await;
    for a in [&a1, &a2] {
        online(&s, a).await;
    }
    let served = s
        .desk
        .on_buyer_message(msg("b1", "怎么还不退款 转人工"))
        .await
        .unwrap()
        .conv;
    let first = served.agent.unwrap();
    let (leaver, stayer) = if first == a1.id {
        (&a1, &a2)
    } else {
        (&a2, &a1)
    };
    // The first agent leaves without a word: the buyer is queued again and handed on.
    s.clock.advance(Duration::seconds(40));
    s.desk
        .set_agent_state(leaver, AgentState::Offline)
        .await
        .unwrap();
    let mine = s.desk.workspace(stayer).unwrap().mine;
    let row = mine.iter().find(|r| r.conv.id == served.id).unwrap();
    assert_eq!(row.unread, 1, "the buyer's question still waits");
    assert!(row.waiting_since.is_some());
}

#[actix_web::test]
async fn the_monitor_lists_the_queue_in_serving_order() {
    let (s, _, _) = shop().await;
    let calm = s
        .desk
        .on_buyer_message(msg("b1", "转人工"))
        .await
        .unwrap()
        .conv;
    s.clock.advance(Duration::seconds(30));
    let angry = s
        .desk
        .on_buyer_message(msg("b2", "我要投诉"))
        .await
        .unwrap()
        .conv;
    assert!(angry.urgent && angry.state == ConvState::Queued);
    let m = s.desk.monitor(&super::monitor::Filter::default()).unwrap();
    let order: Vec<ConvId> = m.convs.iter().map(|o| o.conv.id).collect();
    assert_eq!(
        order,
        vec![angry.id, calm.id],
        "the complaint is served first"
    );
}

#[actix_web::test]
async fn an_agent_leaving_after_hours_tells_the_buyer_when_humans_are_back() {
    let (s, a1, _) = shop().await;
    online(&s, &a1).await;
    let served = s
        .desk
        .on_buyer_message(msg("b1", "转人工"))
        .await
        .unwrap()
        .conv;
    assert_eq!(served.agent, Some(a1.id));
    // 23:30: past the default staffed hours (09:00–23:00).
    s.clock.advance(Duration::minutes(13 * 60 + 30));
    s.desk
        .set_agent_state(&a1, AgentState::Offline)
        .await
        .unwrap();
    let said = conv_texts(&s, served.id);
    let last = said.last().unwrap();
    assert!(
        last.contains("非人工服务时间") && last.contains("明天 09:00"),
        "{said:?}"
    );
    assert!(!last.contains("客服上线后"), "{last}");
}

#[actix_web::test]
async fn buyers_are_told_when_their_agent_leaves_or_their_wait_ends() {
    use super::agents::{IDLE_CLOSE_TEXT, QUEUE_TIMEOUT_TEXT};
    let (s, a1, a2) = shop().await;
    for a in [&a1, &a2] {
        online(&s, a).await;
    }
    let served = s
        .desk
        .on_buyer_message(msg("b1", "转人工"))
        .await
        .unwrap()
        .conv;
    let first = served.agent.unwrap();
    let (leaver, stayer) = if first == a1.id {
        (&a1, &a2)
    } else {
        (&a2, &a1)
    };
    s.desk.agent_send(leaver, served.id, "您好").await.unwrap();

    // The serving agent goes offline: the buyer is told and handed to the other one.
    s.desk
        .set_agent_state(leaver, AgentState::Offline)
        .await
        .unwrap();
    let c = conv(&s, served.id);
    assert_eq!((c.state, c.agent), (ConvState::Human, Some(stayer.id)));
    assert!(
        conv_texts(&s, served.id)
            .iter()
            .any(|t| t.contains("当前客服已下线")),
        "{:?}",
        conv_texts(&s, served.id)
    );
    // Nobody left: the next to go offline leaves the buyer queued, not with a ghost.
    s.desk
        .set_agent_state(stayer, AgentState::Offline)
        .await
        .unwrap();
    assert_eq!(conv(&s, served.id).state, ConvState::Queued);

    // A served buyer and a queued buyer, both silent past the idle limit, are told.
    online(&s, stayer).await;
    assert_eq!(conv(&s, served.id).agent, Some(stayer.id));
    s.desk
        .agent_send(stayer, served.id, "还在吗")
        .await
        .unwrap();
    s.desk
        .set_agent_state(stayer, AgentState::Away)
        .await
        .unwrap();
    let waiting = s
        .desk
        .on_buyer_message(msg("b2", "转人工"))
        .await
        .unwrap()
        .conv;
    assert_eq!(waiting.state, ConvState::Queued);
    // A bot chat ends without a word.
    let chat = s
        .desk
        .on_buyer_message(msg("b3", "包邮吗"))
        .await
        .unwrap()
        .conv;
    s.clock.advance(Duration::minutes(31));
    assert_eq!(s.desk.sweep().await.unwrap().closed, 3);
    for (id, last) in [
        (served.id, IDLE_CLOSE_TEXT),
        (waiting.id, QUEUE_TIMEOUT_TEXT),
    ] {
        assert_eq!(conv(&s, id).state, ConvState::Closed);
        assert_eq!(conv_texts(&s, id).last().map(String::as_str), Some(last));
    }
    let bot_texts = conv_texts(&s, chat.id);
    assert!(
        !bot_texts
            .iter()
            .any(|t| t == IDLE_CLOSE_TEXT || t == QUEUE_TIMEOUT_TEXT),
        "{bot_texts:?}"
    );
}

#[actix_web::test]
async fn a_call_for_a_human_with_a_question_is_routed_by_that_question() {
    let (s, _, _) = shop().await;
    let g = s
        .desk
        .store()
        .write(move |tx| {
            tx.put_group(Group {
                id: GroupId(0),
                name: "售后组".into(),
                members: vec![UserId(3)],
                scenes: vec!["质量问题".into()],
                regions: vec![],
                is_default: false,
            })
        })
        .await
        .unwrap();
    // Earlier the bot answered about invoices (scene 发票); now the buyer asks for a
    // human about a quality problem in one message.
    s.desk
        .on_buyer_message(msg("b1", "可以开发票吗"))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b1", "衣服开线了 转人工"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    assert_eq!(o.conv.scene.as_deref(), Some("质量问题"));
    assert_eq!(o.conv.group, Some(g.id));
    // A complaint too goes by what it is about.
    s.desk
        .on_buyer_message(msg("b2", "可以开发票吗"))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b2", "衣服有线头，我要投诉"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    assert_eq!(o.conv.group, Some(g.id), "{:?}", o.conv.scene);
}

#[actix_web::test]
async fn transfers_between_agents_and_groups() {
    let (s, a1, a2) = shop().await;
    let g = s
        .desk
        .store()
        .write(move |tx| {
            tx.put_group(Group {
                id: GroupId(0),
                name: "售后组".into(),
                members: vec![UserId(3)],
                scenes: vec![],
                regions: vec![],
                is_default: false,
            })
        })
        .await
        .unwrap();
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    // Not to an agent who is not online: the buyer would be told they are connected.
    let refused = s
        .desk
        .transfer_to(&a1, o.conv.id, Target::Agent(a2.id), "请跟进")
        .await;
    assert!(
        matches!(&refused, Err(Error::Refused(m)) if m.contains("不在线")),
        "{refused:?}"
    );
    online(&s, &a2).await;
    let c = s
        .desk
        .transfer_to(&a1, o.conv.id, Target::Agent(a2.id), "请跟进")
        .await
        .unwrap();
    assert_eq!(c.agent, Some(a2.id));
    assert_eq!(c.transfer_reason.as_deref(), Some("客服a1 转交：请跟进"));
    // Not to the agent already serving: the buyer would be "connected" twice.
    let again = s
        .desk
        .transfer_to(&a2, c.id, Target::Agent(a2.id), "")
        .await;
    assert!(
        matches!(&again, Err(Error::Refused(m)) if m.contains("已在接待")),
        "{again:?}"
    );
    // a2 (user 3) is the group's member but steps away: the buyer waits in that group.
    s.desk.set_agent_state(&a2, AgentState::Away).await.unwrap();
    let c = s
        .desk
        .transfer_to(&a2, c.id, Target::Group(g.id), "")
        .await
        .unwrap();
    assert_eq!((c.state, c.group), (ConvState::Queued, Some(g.id)));
    let told = conv_texts(&s, c.id).pop().unwrap();
    assert!(
        told.contains("您是下一位") && told.contains("暂时都不在线"),
        "first in line, and nobody of the group is at work: {told}"
    );
    // a2 no longer serves it; a supervisor may move it, but not to a group that does not exist.
    assert!(matches!(
        s.desk
            .transfer_to(&a2, c.id, Target::Agent(a1.id), "")
            .await,
        Err(Error::Refused(_))
    ));
    let sup = add_user(&s, "sup", "主管", Role::Supervisor).await;
    assert!(matches!(
        s.desk
            .transfer_to(&sup, c.id, Target::Group(GroupId(99)), "")
            .await,
        Err(Error::NotFound)
    ));
}

#[actix_web::test]
async fn orders_make_a_buyer_after_sale() {
    let (s, _, _) = shop().await;
    let o = s
        .desk
        .on_buyer_message(msg("b1", "怎么退货"))
        .await
        .unwrap();
    let before = o.replies[0].text.clone();
    s.desk
        .record_order(OrderInput {
            channel: "web".into(),
            order_id: "T1".into(),
            buyer: "b1".into(),
            status: "paid".into(),
            ..OrderInput::default()
        })
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b1", "怎么退货"))
        .await
        .unwrap();
    assert_ne!(
        o.replies[0].text, before,
        "the after-sale answer once the buyer has paid"
    );
    assert!(
        o.replies[0].text.contains("退款/售后"),
        "{}",
        o.replies[0].text
    );
    let bad = s
        .desk
        .record_order(OrderInput {
            channel: "web".into(),
            ..OrderInput::default()
        })
        .await;
    assert!(matches!(bad, Err(Error::Invalid(_))));
}

#[actix_web::test]
async fn a_follow_up_naming_another_thing_asks_the_question_before_again() {
    let (s, _, _) = shop().await;
    let order = |id: &str, item: &str, status: &str, logistics: Option<&str>| OrderInput {
        channel: "web".into(),
        order_id: id.into(),
        buyer: "b1".into(),
        items: vec![crate::model::OrderItem {
            sku: String::new(),
            name: item.into(),
            qty: 1,
            price: None,
        }],
        status: status.into(),
        logistics: logistics.map(String::from),
        ..OrderInput::default()
    };
    s.desk
        .record_order(order("A1", "保温杯", "shipped", Some("圆通 8800：运输中")))
        .await
        .unwrap();
    s.desk
        .record_order(order("A2", "纯棉T恤", "paid", None))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b1", "我的保温杯到哪了"))
        .await
        .unwrap();
    assert!(
        texts(&o).join("|").contains("A1（保温杯）"),
        "{:?}",
        texts(&o)
    );
    // "那T恤呢" got the fallback.
    let o = s.desk.on_buyer_message(msg("b1", "那T恤呢")).await.unwrap();
    let said = texts(&o).join("|");
    assert!(
        said.contains("A2（纯棉T恤）已付款") && !said.contains("A1（保温杯）"),
        "{said}"
    );
    // After a miss there is nothing to follow on from.
    s.desk
        .on_buyer_message(msg("b1", "地球到月亮有多远"))
        .await
        .unwrap();
    let o = s.desk.on_buyer_message(msg("b1", "那T恤呢")).await.unwrap();
    assert!(!texts(&o).join("|").contains("A2"), "{:?}", texts(&o));
}

#[actix_web::test]
async fn a_product_the_buyer_names_becomes_the_chats_product() {
    let (s, _, _) = shop().await;
    let mut bag = crate::model::Product::new("BAG-01", "儿童书包");
    bag.stock = Some(5);
    bag.price = Some(crate::model::Price(12900));
    bag.attributes.insert("颜色".into(), "樱花粉/天空蓝".into());
    s.desk.save_product(&Actor::cli(), bag).await.unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b1", "儿童书包有货吗"))
        .await
        .unwrap();
    assert!(texts(&o).join("|").contains("有现货"), "{:?}", texts(&o));
    assert_eq!(o.conv.product.as_deref(), Some("BAG-01"));
    // "有粉色吗" got the fallback: no product was in view.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "有粉色吗"))
        .await
        .unwrap();
    assert!(texts(&o).join("|").contains("有粉色哦"), "{:?}", texts(&o));
    // Messages from a page keep the product talked about since, until another page.
    let mut cup = crate::model::Product::new("CUP-01", "保温杯");
    cup.attributes.insert("容量".into(), "500ml".into());
    s.desk.save_product(&Actor::cli(), cup).await.unwrap();
    let on_page = |text: &str, page: &str| Incoming {
        product: Some(page.into()),
        ..msg("b9", text)
    };
    let o = s
        .desk
        .on_buyer_message(on_page("儿童书包有货吗", "CUP-01"))
        .await
        .unwrap();
    assert_eq!(o.conv.product.as_deref(), Some("BAG-01"));
    let o = s
        .desk
        .on_buyer_message(on_page("有粉色吗", "CUP-01"))
        .await
        .unwrap();
    assert!(texts(&o).join("|").contains("有粉色哦"), "{:?}", texts(&o));
    s.desk
        .on_buyer_message(on_page("容量多大", "CUP-01"))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(on_page("容量多大", "SHOE-02"))
        .await
        .unwrap();
    assert_eq!(o.conv.product.as_deref(), Some("SHOE-02"), "another page");
    // What the product talked about cannot answer, the page's product does.
    s.desk
        .on_buyer_message(on_page("儿童书包能当枕头吗", "CUP-01"))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(on_page("容量多大", "CUP-01"))
        .await
        .unwrap();
    assert!(texts(&o).join("|").contains("500ml"), "{:?}", texts(&o));
    // "那鞋子呢" after a price: the price of the shoes (it got a menu).
    let mut shoes = crate::model::Product::new("SHOE-01", "跑步鞋");
    shoes.aliases = vec!["鞋子".into()];
    shoes.price = Some(crate::model::Price(25900));
    s.desk.save_product(&Actor::cli(), shoes).await.unwrap();
    s.desk
        .on_buyer_message(msg("b1", "这个多少钱"))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b1", "那鞋子呢"))
        .await
        .unwrap();
    assert!(
        texts(&o).join("|").contains("跑步鞋的价格是 ¥259"),
        "{:?}",
        texts(&o)
    );
    // "那45呢" after "有44码吗": the same question of another size (it got a menu).
    let mut shoes = crate::model::Product::new("SHOE-01", "跑步鞋");
    shoes.aliases = vec!["鞋子".into()];
    shoes.attributes.insert("尺码".into(), "39-44".into());
    s.desk.save_product(&Actor::cli(), shoes).await.unwrap();
    s.desk
        .on_buyer_message(msg("b1", "有44码吗"))
        .await
        .unwrap();
    for (q, said) in [("那45呢", "暂时没有45码"), ("那40的呢", "有40码哦")] {
        let o = s.desk.on_buyer_message(msg("b1", q)).await.unwrap();
        assert!(texts(&o).join("|").contains(said), "{q}: {:?}", texts(&o));
    }
    // A product named in a question the bot cannot answer still becomes the chat's.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "儿童书包能当枕头吗"))
        .await
        .unwrap();
    assert_eq!(o.conv.product.as_deref(), Some("BAG-01"), "{:?}", texts(&o));
}

#[actix_web::test]
async fn shipping_answers_tell_where_the_buyers_latest_order_stands() {
    let (s, _, _) = shop().await;
    let order = |id: &str, status: &str, logistics: Option<&str>| OrderInput {
        channel: "web".into(),
        order_id: id.into(),
        buyer: "b1".into(),
        items: vec![crate::model::OrderItem {
            sku: "A1".into(),
            name: "纯棉T恤".into(),
            qty: 1,
            price: None,
        }],
        status: status.into(),
        logistics: logistics.map(String::from),
        ..OrderInput::default()
    };
    async fn ask_b1(desk: &Desk, text: &str) -> String {
        let o = desk.on_buyer_message(msg("b1", text)).await.unwrap();
        o.replies[0].text.clone()
    }
    let ask = |text| ask_b1(&s.desk, text);
    // No order: the general answer.
    let before = ask("什么时候发货").await;
    assert!(!before.contains("您的订单"), "{before}");
    s.desk
        .record_order(order("T1", "paid", None))
        .await
        .unwrap();
    let paid = ask("什么时候发货").await;
    assert!(
        paid.contains("您的订单T1（纯棉T恤）已付款，正在等待发货"),
        "{paid}"
    );
    s.clock.advance(Duration::minutes(5));
    let moving = "中通 75312：已到达杭州转运中心";
    s.desk
        .record_order(order("T1", "shipped", Some(moving)))
        .await
        .unwrap();
    let shipped = ask("什么时候发货").await;
    assert!(
        shipped.contains(&format!("已经发货啦，物流最新进度：{moving}")),
        "{shipped}"
    );
    // A newer unpaid order is not what the buyer waits for; a newer paid one is.
    s.clock.advance(Duration::minutes(5));
    s.desk
        .record_order(order("T2", "unpaid", None))
        .await
        .unwrap();
    assert!(ask("我的快递到哪里了").await.contains("T1"));
    s.clock.advance(Duration::minutes(5));
    s.desk
        .record_order(order("T3", "paid", None))
        .await
        .unwrap();
    let newest = ask("我的快递到哪里了").await;
    assert!(newest.contains("您的订单T3"), "{newest}");
}

#[actix_web::test]
async fn order_updates_keep_what_they_leave_out_and_stay_their_buyers() {
    let (s, _, _) = shop().await;
    let first = OrderInput {
        channel: "web".into(),
        order_id: "TB101".into(),
        buyer: "b1".into(),
        items: vec![crate::model::OrderItem {
            sku: "A1".into(),
            name: "纯棉T恤".into(),
            qty: 2,
            price: None,
        }],
        status: "paid".into(),
        amount: crate::model::Price::parse("118"),
        paid: crate::model::Price::parse("118"),
        logistics: None,
    };
    s.desk.record_order(first.clone()).await.unwrap();
    // A status update with the scan only keeps the items and amounts.
    let scan = "圆通 YT888：派送中";
    let o = s
        .desk
        .record_order(OrderInput {
            status: "shipped".into(),
            logistics: Some(scan.into()),
            items: Vec::new(),
            amount: None,
            paid: None,
            ..first.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        (o.items.len(), o.amount, o.paid),
        (1, first.amount, first.paid)
    );
    // Another buyer's id for the same order is refused, and changes nothing.
    let theft = s
        .desk
        .record_order(OrderInput {
            buyer: "b2".into(),
            ..first.clone()
        })
        .await;
    assert!(
        matches!(&theft, Err(Error::Refused(m)) if m.contains("属于其他买家")),
        "{theft:?}"
    );
    let long = OrderInput {
        logistics: Some("长".repeat(201)),
        ..first.clone()
    };
    assert!(matches!(
        s.desk.record_order(long).await,
        Err(Error::Invalid(_))
    ));
    // A second order in progress: both are told; the one named by number alone.
    s.desk
        .record_order(OrderInput {
            order_id: "TB102".into(),
            items: vec![crate::model::OrderItem {
                sku: "B1".into(),
                name: "保温杯".into(),
                qty: 1,
                price: None,
            }],
            amount: None,
            paid: None,
            ..first.clone()
        })
        .await
        .unwrap();
    let ask = |text: &'static str| {
        let desk = &s.desk;
        async move {
            let o = desk.on_buyer_message(msg("b1", text)).await.unwrap();
            o.replies[0].text.clone()
        }
    };
    let both = ask("我的快递到哪了").await;
    assert!(
        both.contains("TB101（纯棉T恤）已经发货啦，物流最新进度：圆通 YT888：派送中"),
        "{both}"
    );
    assert!(both.contains("TB102（保温杯）已付款"), "{both}");
    let named = ask("tb101到哪了").await;
    assert!(
        named.contains("TB101") && !named.contains("TB102"),
        "{named}"
    );
    // A request beside the number is answered, not where the order is.
    for text in ["我订单号TB101 帮我申请退货吧", "TB101 到了有划痕"] {
        let asked = ask(text).await;
        assert!(!asked.contains("物流最新进度"), "{text}: {asked}");
    }
    let by_item = ask("我的保温杯什么时候发货").await;
    assert!(
        by_item.contains("TB102") && !by_item.contains("TB101"),
        "{by_item}"
    );
    // Where an item is, in words the knowledge base is not sure of: that order's progress.
    let tracked = ask("我的T恤到哪了 怎么还没到").await;
    assert!(
        tracked.contains("TB101（纯棉T恤）已经发货啦") && !tracked.contains("TB102"),
        "{tracked}"
    );
    // Nothing in progress: the entry's own answer, not a status followed by shipping
    // promises.
    for id in ["TB101", "TB102"] {
        s.desk
            .record_order(OrderInput {
                order_id: id.into(),
                status: "refunded".into(),
                ..first.clone()
            })
            .await
            .unwrap();
    }
    let plain = ask("什么时候发货").await;
    assert!(
        !plain.contains("您的订单") && plain.contains("48小时"),
        "{plain}"
    );
    assert!(ask("TB101到哪了").await.contains("TB101（纯棉T恤）已退款"));
}

#[actix_web::test]
async fn both_entries_answering_a_two_part_question_count_as_hits() {
    let (s, _, _) = shop().await;
    let o = s
        .desk
        .on_buyer_message(msg("b1", "包邮吗？什么时候发货"))
        .await
        .unwrap();
    assert_eq!(o.replies.len(), 1, "one message answers both");
    let hits = s.desk.store().read().unwrap().top_hits(10).unwrap();
    let ids: Vec<&str> = hits.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["ship-free", "ship-when"]);
}

#[actix_web::test]
async fn bad_messages_are_refused_and_store_nothing() {
    let (s, _, _) = shop().await;
    for text in ["", "   ", &"好".repeat(4001)] {
        assert!(matches!(
            s.desk.on_buyer_message(msg("b1", text)).await,
            Err(Error::Invalid(_))
        ));
    }
    assert!(
        s.desk
            .store()
            .read()
            .unwrap()
            .list_open_convs()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn ratings_are_invited_once_and_credited_to_the_last_agent() {
    let (s, a1, _) = shop().await;
    let o = s.desk.on_buyer_message(msg("b1", "包邮吗")).await.unwrap();
    let buyer = o.conv.buyer;
    let not_yet = s
        .desk
        .rate(
            o.conv.id,
            buyer,
            super::service::RatingInput {
                level: 5,
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(not_yet, Err(Error::Refused(_))),
        "no invitation yet"
    );
    // Thanks invite a rating; the bot is credited.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "好的谢谢"))
        .await
        .unwrap();
    assert!(o.conv.invited_at.is_some());
    let r = s
        .desk
        .rate(
            o.conv.id,
            buyer,
            super::service::RatingInput {
                level: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.agent, None);
    let twice = s
        .desk
        .rate(
            o.conv.id,
            buyer,
            super::service::RatingInput {
                level: 1,
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(twice, Err(Error::Refused(m)) if m.contains("已经评价")));

    // An agent closing invites; the agent is credited; bad input is refused.
    online(&s, &a1).await;
    let o = s.desk.on_buyer_message(msg("b2", "转人工")).await.unwrap();
    s.desk.agent_send(&a1, o.conv.id, "您好").await.unwrap();
    s.desk.close(&a1, o.conv.id).await.unwrap();
    let bad = super::service::RatingInput {
        level: 2,
        reasons: vec!["太贵".into()],
        comment: String::new(),
    };
    assert!(matches!(
        s.desk.rate(o.conv.id, o.conv.buyer, bad).await,
        Err(Error::Invalid(_))
    ));
    let good = super::service::RatingInput {
        level: 2,
        reasons: vec!["回复慢".into()],
        comment: "等太久".into(),
    };
    assert!(
        matches!(
            s.desk.rate(o.conv.id, buyer, good.clone()).await,
            Err(Error::NotFound)
        ),
        "another buyer's conversation"
    );
    let r = s.desk.rate(o.conv.id, o.conv.buyer, good).await.unwrap();
    assert_eq!(r.agent, Some(a1.id));

    // Idle timeouts do not invite.
    let o = s.desk.on_buyer_message(msg("b3", "在吗")).await.unwrap();
    s.clock.advance(Duration::minutes(31));
    s.desk.sweep().await.unwrap();
    let c = conv(&s, o.conv.id);
    assert_eq!((c.state, c.invited_at), (ConvState::Closed, None));
}

#[actix_web::test]
async fn only_a_served_buyer_is_invited_to_rate_and_only_once() {
    let (s, _, _) = shop().await;
    let bot_says = |o: &super::service::Outcome| texts(o).join("|");
    // A smile or a hello before anything was asked: a welcome, no invitation.
    let o = s.desk.on_buyer_message(msg("b9", "😊")).await.unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::WELCOME_TEXT);
    assert!(o.conv.invited_at.is_none());
    let o = s.desk.on_buyer_message(msg("b9", "你好")).await.unwrap();
    assert!(!bot_says(&o).contains("评价"), "{}", bot_says(&o));
    assert!(o.conv.invited_at.is_none());
    // Thanks after a miss: a plain reply, not the welcome ("在的呢" to a 谢谢).
    s.desk
        .on_buyer_message(msg("b8", "地球到月亮有多远"))
        .await
        .unwrap();
    let o = s.desk.on_buyer_message(msg("b8", "嗯")).await.unwrap();
    assert_eq!(
        bot_says(&o),
        crate::bot::compose::WELCOME_TEXT,
        "agreeing is no thanks to be welcome for"
    );
    let o = s.desk.on_buyer_message(msg("b8", "谢谢")).await.unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::THANKS_TEXT);
    assert!(o.conv.invited_at.is_none());
    // Served, thanks invite once; later thanks get a plain reply.
    s.desk.on_buyer_message(msg("b9", "包邮吗")).await.unwrap();
    let o = s.desk.on_buyer_message(msg("b9", "谢谢")).await.unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::POSITIVE_TEXT);
    let invited = o.conv.invited_at;
    assert!(invited.is_some());
    s.clock.advance(Duration::minutes(1));
    let o = s.desk.on_buyer_message(msg("b9", "谢谢啦")).await.unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::THANKS_TEXT);
    assert_eq!(o.conv.invited_at, invited, "invited once");
    // "好的 我去申请" is acknowledged, not thanked for ("不客气" to nobody's thanks).
    let o = s
        .desk
        .on_buyer_message(msg("b9", "好的 我去申请"))
        .await
        .unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::ACK_TEXT);
    s.desk.on_buyer_message(msg("b7", "包邮吗")).await.unwrap();
    let o = s.desk.on_buyer_message(msg("b7", "好的")).await.unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::ACK_INVITE_TEXT);
    assert!(o.conv.invited_at.is_some());
    // Taking leave first thing is acknowledged, not welcomed.
    let o = s
        .desk
        .on_buyer_message(msg("b6", "算了不买了"))
        .await
        .unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::ACK_TEXT);
    let o = s
        .desk
        .on_buyer_message(msg("b5", "好的 拍两包"))
        .await
        .unwrap();
    assert_eq!(bot_says(&o), crate::bot::compose::ACK_TEXT);
}

#[actix_web::test]
async fn off_hours_without_the_unattended_reply_a_queued_buyer_is_told_nobody_is_online() {
    let (s, a1, _) = shop().await;
    reception(
        &s,
        Reception {
            off_hours_reply: false,
            ..Reception::default()
        },
    )
    .await;
    s.clock.advance(Duration::hours(14)); // 00:00, off-hours
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    let t = texts(&o);
    assert!(
        t.len() == 1 && t[0].contains("暂时都不在线") && !t[0].contains("请稍候"),
        "{t:?}"
    );
    // With an agent at work, the place in the queue is all there is to say.
    s.desk.set_agent_state(&a1, AgentState::Busy).await.unwrap();
    let o = s.desk.on_buyer_message(msg("b2", "转人工")).await.unwrap();
    assert_eq!(
        texts(&o),
        vec!["已为您转接人工客服，前面还有 1 位，请稍候～"]
    );
}

#[test]
fn local_day_is_the_date_in_the_shop_time_zone() {
    use chrono::TimeZone;
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 11, 22, 17, 30, 0)
        .unwrap();
    assert_eq!(
        super::service::local_day(at, chrono_tz::Asia::Shanghai),
        "2026-11-23"
    );
    assert_eq!(super::service::local_day(at, chrono_tz::UTC), "2026-11-22");
    let early = chrono::Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    assert_eq!(
        super::service::local_day(early, chrono_tz::UTC),
        "2026-01-05"
    );
}

#[actix_web::test]
async fn a_complaint_is_queued_ahead_of_ordinary_buyers_as_its_reply_promises() {
    let (s, a1, _) = shop().await;
    one_buyer_per_agent(&s).await;
    s.desk.set_agent_state(&a1, AgentState::Busy).await.unwrap();
    for b in ["b1", "b2", "b3"] {
        let o = s.desk.on_buyer_message(msg(b, "转人工")).await.unwrap();
        assert_eq!(o.conv.state, ConvState::Queued);
    }
    let o = s
        .desk
        .on_buyer_message(msg("angry", "我要投诉你们"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    let t = texts(&o);
    assert!(t.iter().any(|x| x.contains("优先")), "{t:?}");
    assert!(t.iter().any(|x| x.contains("您是下一位")), "{t:?}");
    assert!(o.conv.urgent);
    // The agent, free for one buyer, is given the complaint first.
    s.desk
        .set_agent_state(&a1, AgentState::Online)
        .await
        .unwrap();
    let served = conv(&s, o.conv.id);
    assert_eq!(served.agent, Some(a1.id));
    let first = s.desk.on_buyer_message(msg("b1", "还在吗")).await.unwrap();
    assert_eq!(first.conv.state, ConvState::Queued, "the others still wait");
}

#[actix_web::test]
async fn a_buyer_who_says_they_have_the_goods_gets_after_sale_answers() {
    let (s, _, _) = shop().await;
    // Before buying: the pre-sale answer.
    let o = s.desk.on_buyer_message(msg("b1", "能退吗")).await.unwrap();
    let said = texts(&o).join("|");
    assert!(said.contains("放心拍"), "{said}");
    assert!(!o.conv.bought);
    // "才买三天" without any order from the API: the after-sale answer, from then on.
    s.desk
        .on_buyer_message(msg("b2", "我买的杯子才买三天就漏水"))
        .await
        .unwrap();
    let o = s.desk.on_buyer_message(msg("b2", "能退吗")).await.unwrap();
    let said = texts(&o).join("|");
    assert!(
        said.contains("签收后7天内") && !said.contains("放心拍"),
        "{said}"
    );
    assert!(o.conv.bought);
    // Goods opened, put together or used: the buyer has them.
    for (buyer, text) in [
        ("b5", "已经拆了一小包 剩下4包没动"),
        ("b6", "猫爬架装好了晃得厉害"),
        ("b7", "浴巾洗了一次掉毛好严重"),
    ] {
        let o = s.desk.on_buyer_message(msg(buyer, text)).await.unwrap();
        assert!(o.conv.bought, "{text}");
    }
    // An order that has not shipped yet: changing the address after paying.
    s.desk
        .on_buyer_message(msg("b4", "我昨天拍的四件套怎么还没发货"))
        .await
        .unwrap();
    let o = s
        .desk
        .on_buyer_message(msg("b4", "地址填错了 能改吗"))
        .await
        .unwrap();
    let said = texts(&o).join("|");
    assert!(said.contains("订单详情里点“修改地址”"), "{said}");
    // Asking before buying is not having bought, nor is "收到" for a message.
    for text in [
        "买了不合适能退吗",
        "收到",
        "拍的时候选什么颜色",
        "多久发货",
        "洗了会缩水吗",
        "吃了会胖吗",
    ] {
        let o = s.desk.on_buyer_message(msg("b3", text)).await.unwrap();
        assert!(!o.conv.bought, "{text}: {:?}", texts(&o));
    }
}

#[actix_web::test]
async fn a_waiting_buyer_still_gets_the_bots_sure_answers_and_may_leave_the_queue() {
    let (s, _, _) = shop().await;
    // 10:00, staffed, nobody online: the buyer waits in the queue.
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    // A question the bot is sure of is answered, and the buyer keeps their place.
    let o = s.desk.on_buyer_message(msg("b1", "包邮吗")).await.unwrap();
    assert_eq!(o.conv.state, ConvState::Queued);
    assert_eq!(o.replies.len(), 1, "{:?}", texts(&o));
    assert_eq!(o.replies[0].from, Sender::Bot);
    assert!(texts(&o)[0].contains("包邮"), "{:?}", texts(&o));
    // What it does not understand waits for the agent, and the buyer is told where
    // they stand; so is a second call for a human, and a complaint, which moves the
    // buyer up; thanks need no answer.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "嘟嘟嘟嘟"))
        .await
        .unwrap();
    assert_eq!((o.conv.state, o.replies.len()), (ConvState::Queued, 1));
    assert_eq!(o.replies[0].from, Sender::System);
    assert_eq!(
        texts(&o)[0],
        "亲，这个问题小二答不准，已为您转接人工客服。人工客服暂时都不在线，已为您排队（您是下一位），客服上线后会第一时间接待您；排队期间也可以继续问小二哦～"
    );
    let o = s.desk.on_buyer_message(msg("b1", "转人工")).await.unwrap();
    assert_eq!((o.conv.state, o.replies.len()), (ConvState::Queued, 1));
    assert!(
        texts(&o)[0].starts_with("亲，正在为您转接人工客服。"),
        "{:?}",
        texts(&o)
    );
    assert!(!o.conv.urgent);
    let o = s
        .desk
        .on_buyer_message(msg("b1", "人工什么时候来啊 等半天了"))
        .await
        .unwrap();
    assert!(
        texts(&o)[0].starts_with("亲，正在为您转接人工客服。"),
        "{:?}",
        texts(&o)
    );
    // Asking when humans work is answered; asking after the queue is told the place,
    // even beside words the bot would answer otherwise.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "客服几点上班"))
        .await
        .unwrap();
    assert_eq!(o.replies[0].from, Sender::Bot, "{:?}", texts(&o));
    let o = s
        .desk
        .on_buyer_message(msg("b1", "我已经在排队了吧 前面几个人 包邮吗"))
        .await
        .unwrap();
    assert_eq!(o.replies.len(), 1, "{:?}", texts(&o));
    assert!(texts(&o)[0].contains("您是下一位"), "{:?}", texts(&o));
    let o = s
        .desk
        .on_buyer_message(msg("b1", "我要投诉你们"))
        .await
        .unwrap();
    assert_eq!((o.conv.state, o.replies.len()), (ConvState::Queued, 1));
    assert!(
        texts(&o)[0].starts_with("非常抱歉让您久等了"),
        "{:?}",
        texts(&o)
    );
    assert!(o.conv.urgent);
    let o = s
        .desk
        .on_buyer_message(msg("b1", "好的谢谢"))
        .await
        .unwrap();
    assert_eq!((o.conv.state, o.replies.len()), (ConvState::Queued, 0));
    // No longer wanting a human, the buyer goes back to the bot and is answered.
    let o = s
        .desk
        .on_buyer_message(msg("b1", "不用人工了 能开发票吗"))
        .await
        .unwrap();
    assert_eq!(o.conv.state, ConvState::Bot);
    let t = texts(&o);
    assert_eq!(t[0], "好的，已为您取消人工排队，小二继续为您服务～");
    assert!(t.len() == 2 && t[1].contains("发票"), "{t:?}");
}
