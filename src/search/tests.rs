//! The history index on a real temp-dir store and tantivy index.

use super::*;
use crate::model::{ConvState, Conversation, Event, EventKind, Message, Sender, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap()
}

/// Writes one message (a new conversation when `conv` is `None`) the way the desk does:
/// the message, its event and the conversation in one transaction.
async fn say(
    store: &Store,
    conv: Option<ConvId>,
    channel: &str,
    from: Sender,
    text: &str,
    at: DateTime<Utc>,
) -> (ConvId, u64) {
    let m = Message {
        conv: ConvId(0),
        seq: 0,
        at,
        from,
        text: text.to_string(),
        client_msg_id: None,
        bot: None,
    };
    put_message(store, conv, channel, m).await
}

/// [`say`] with the whole message given (its conversation and number are set here).
async fn put_message(
    store: &Store,
    conv: Option<ConvId>,
    channel: &str,
    m: Message,
) -> (ConvId, u64) {
    let channel = channel.to_string();
    store
        .write(move |tx| {
            let at = m.at;
            let mut c = match conv {
                Some(id) => tx.get_conv(id)?.ok_or(store::Error::NotFound)?,
                None => {
                    let b = tx.buyer_for(&channel, &format!("b{}", at.timestamp()), at)?;
                    Conversation::start(tx.new_conv_id()?, b.id, &channel, 0, at)
                }
            };
            let m = tx.append_message(&mut c, m.clone())?;
            let kind = EventKind::Message {
                seq: m.seq,
                from: m.from.kind().into(),
            };
            tx.append_event(at, &c, kind)?;
            tx.put_conv(&c)?;
            Ok((c.id, m.seq))
        })
        .await
        .unwrap()
}

/// Moves a conversation to `state` (with `agent` for a human), with its events.
async fn set_state(store: &Store, conv: ConvId, state: ConvState, agent: Option<UserId>) {
    store
        .write(move |tx| {
            let mut c = tx.get_conv(conv)?.ok_or(store::Error::NotFound)?;
            let from = c.state;
            c.state = state;
            c.agent = agent;
            let kind = EventKind::State {
                from,
                to: state,
                reason: String::new(),
            };
            tx.append_event(t0(), &c, kind)?;
            if let Some(agent) = agent {
                tx.append_event(t0(), &c, EventKind::Assigned { agent, group: None })?;
            }
            tx.put_conv(&c)
        })
        .await
        .unwrap()
}

fn find(h: &History, q: &str, filter: &Filter) -> Vec<(u64, u64)> {
    h.search(&text::parse(q), filter, 50, false)
        .unwrap()
        .hits
        .iter()
        .map(|x| (x.conv.0, x.seq))
        .collect()
}

fn any() -> Filter {
    Filter::default()
}

#[tokio::test]
async fn substrings_order_numbers_and_no_false_hits() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let a = say(
        &store,
        None,
        "web",
        Sender::Buyer,
        "衣服有线头，怎么办",
        t0(),
    )
    .await;
    let b = say(&store, None, "web", Sender::Buyer, "云朵拖鞋有货吗", t0()).await;
    let c = say(&store, None, "web", Sender::Buyer, "线很多，头也大", t0()).await;
    let d = say(&store, None, "web", Sender::Buyer, "云朵的拖鞋 M码", t0()).await;
    let e = say(
        &store,
        None,
        "web",
        Sender::Buyer,
        "订单TB2026112200123没发货",
        t0(),
    )
    .await;
    let f = say(&store, None, "web", Sender::Buyer, "哈哈哈哈哈", t0()).await;
    let h = History::open(idx.path(), &store).unwrap();
    assert_eq!(h.catch_up().unwrap(), 6);
    let id = |x: (ConvId, u64)| (x.0.0, x.1);
    assert_eq!(find(&h, "线头", &any()), [id(a)]);
    assert_eq!(find(&h, "云朵拖鞋", &any()), [id(b)]);
    assert_eq!(find(&h, "拖鞋", &any()), [id(d), id(b)]);
    assert_eq!(
        find(&h, "云朵 拖鞋", &any()),
        [id(d), id(b)],
        "parts are ANDed"
    );
    assert_eq!(find(&h, "头", &any()), [id(c), id(a)], "one character");
    assert_eq!(
        find(&h, "m码", &any()),
        [id(d)],
        "letters then a lone character"
    );
    assert_eq!(find(&h, "tb2026112200123", &any()), [id(e)]);
    assert_eq!(find(&h, "TB2026112200123没发货", &any()), [id(e)]);
    assert!(
        find(&h, "TB20261122", &any()).is_empty(),
        "order numbers match whole"
    );
    assert_eq!(find(&h, "哈哈哈", &any()), [id(f)], "repeated bigrams");
    assert!(find(&h, "线头很多", &any()).is_empty());
    assert!(find(&h, "拖鞋有线头", &any()).is_empty());
}

#[tokio::test]
async fn newest_first_with_count_and_a_cursor() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let (conv, _) = say(&store, None, "web", Sender::Buyer, "什么时候发货", t0()).await;
    for i in 1..5 {
        let at = t0() + Duration::minutes(i);
        say(&store, Some(conv), "web", Sender::Bot, "今天发货哦", at).await;
    }
    let h = History::open(idx.path(), &store).unwrap();
    h.catch_up().unwrap();
    let phrases = text::parse("发货");
    let first = h.search(&phrases, &any(), 2, true).unwrap();
    assert_eq!(first.total, Some(5));
    let seqs: Vec<u64> = first.hits.iter().map(|x| x.seq).collect();
    assert_eq!(seqs, [5, 4]);
    let next = Filter {
        before: first.hits.last().map(|x| x.order),
        ..any()
    };
    let second = h.search(&phrases, &next, 10, true).unwrap();
    assert_eq!(second.total, Some(5), "the count ignores the cursor");
    let seqs: Vec<u64> = second.hits.iter().map(|x| x.seq).collect();
    assert_eq!(seqs, [3, 2, 1]);
}

#[tokio::test]
async fn filters_narrow_the_hits() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let agent = UserId(7);
    let day2 = t0() + Duration::days(1);
    let (web, _) = say(&store, None, "web", Sender::Buyer, "退款多久到账", t0()).await;
    say(
        &store,
        Some(web),
        "web",
        Sender::Bot,
        "退款一般三天到账",
        t0(),
    )
    .await;
    set_state(&store, web, ConvState::Human, Some(agent)).await;
    say(&store, Some(web), "web", Sender::Buyer, "退款还没到", day2).await;
    let me = Sender::Agent {
        id: agent,
        name: "小美".into(),
    };
    say(&store, Some(web), "web", me, "退款已经加急", day2).await;
    let (tb, _) = say(&store, None, "taobao", Sender::Buyer, "退款呢", day2).await;
    set_state(&store, tb, ConvState::Closed, None).await;
    let h = History::open(idx.path(), &store).unwrap();
    h.catch_up().unwrap();
    let count = |f: Filter| find(&h, "退款", &f).len();
    assert_eq!(count(any()), 5);
    let channel = |c: &str| Filter {
        channel: Some(c.into()),
        ..any()
    };
    assert_eq!(count(channel("taobao")), 1);
    assert_eq!(count(channel("jd")), 0);
    let sender = |s: &str| Filter {
        sender: Some(s.into()),
        ..any()
    };
    assert_eq!(count(sender("buyer")), 3);
    assert_eq!(count(sender("agent")), 1);
    // The agent filter: written by the agent or while the agent served.
    assert_eq!(
        find(
            &h,
            "退款",
            &Filter {
                agent: Some(7),
                ..any()
            }
        ),
        [(web.0, 4), (web.0, 3)]
    );
    let from_day2 = Filter {
        from: Some(day2.timestamp_micros()),
        ..any()
    };
    assert_eq!(count(from_day2), 3);
    let before_day2 = Filter {
        to: Some(day2.timestamp_micros()),
        ..any()
    };
    assert_eq!(count(before_day2), 2);
    let only = Filter {
        convs: Convs::Only(vec![tb]),
        ..any()
    };
    assert_eq!(count(only), 1);
    let except = Filter {
        convs: Convs::Except(vec![tb]),
        ..any()
    };
    assert_eq!(count(except), 4);
    let none = Filter {
        convs: Convs::Only(Vec::new()),
        ..any()
    };
    assert_eq!(count(none), 0);
    assert_eq!(h.channels().unwrap(), ["taobao", "web"]);
}

#[tokio::test]
async fn a_bot_reply_is_indexed_by_its_text_whatever_menu_it_carries() {
    let (_d, store) = store::testing::temp_store();
    let (conv, _) = say(&store, None, "web", Sender::Buyer, "怎么退货", t0()).await;
    let at = t0() + Duration::seconds(1);
    let m = Message {
        conv,
        seq: 0,
        at,
        from: Sender::Bot,
        text: "您想问的是：1. 退货流程 2. 退货运费".into(),
        client_msg_id: Some("c-1".into()),
        bot: Some(crate::model::BotMeta {
            band: "guided".into(),
            entry: None,
            also: Vec::new(),
            intent: None,
            confidence: 0.6,
            menu: vec![
                ("r1".into(), "退货流程".into()),
                ("r2".into(), "退货运费".into()),
            ],
            follow_ups: vec![("r3".into(), "换货流程".into())],
        }),
    };
    let (_, reply) = put_message(&store, Some(conv), "web", m).await;
    let idx = tempfile::tempdir().unwrap();
    let h = History::open(idx.path(), &store).unwrap();
    assert_eq!(h.catch_up().unwrap(), 2);
    let bot = Filter {
        sender: Some("bot".into()),
        ..any()
    };
    assert_eq!(find(&h, "退货运费", &bot), vec![(conv.0, reply)]);
    let written = |from: i64, to: i64| Filter {
        from: Some(from),
        to: Some(to),
        ..any()
    };
    let micros = at.timestamp_micros();
    assert_eq!(
        find(&h, "退货", &written(micros, micros + 1)).len(),
        1,
        "its time"
    );
    assert!(find(&h, "退货运费", &written(0, micros)).is_empty());
    assert!(
        find(&h, "换货流程", &any()).is_empty(),
        "follow-ups are not the text"
    );
}

#[tokio::test]
async fn system_notices_are_not_indexed() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let (c, _) = say(&store, None, "web", Sender::Buyer, "转人工", t0()).await;
    say(
        &store,
        Some(c),
        "web",
        Sender::System,
        "正在为您转人工",
        t0(),
    )
    .await;
    let h = History::open(idx.path(), &store).unwrap();
    assert_eq!(h.catch_up().unwrap(), 1);
    assert_eq!(find(&h, "转人工", &any()).len(), 1);
}

#[tokio::test]
async fn a_restart_catches_up_from_the_event_log_only() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let (c, _) = say(&store, None, "web", Sender::Buyer, "能开发票吗", t0()).await;
    {
        let h = History::open(idx.path(), &store).unwrap();
        assert_eq!(h.catch_up().unwrap(), 1);
        assert_eq!(
            h.indexed_through(),
            store.read().unwrap().last_event_seq().unwrap()
        );
    }
    say(&store, Some(c), "web", Sender::Bot, "可以开发票", t0()).await;
    say(
        &store,
        Some(c),
        "web",
        Sender::Buyer,
        "发票抬头写公司",
        t0(),
    )
    .await;
    let h = History::open(idx.path(), &store).unwrap();
    assert_eq!(h.len(), 1, "a warm start keeps the index");
    assert_eq!(h.catch_up().unwrap(), 2, "only what arrived since");
    assert_eq!(find(&h, "发票", &any()).len(), 3);
    assert_eq!(h.catch_up().unwrap(), 0);
}

#[tokio::test]
async fn a_missing_or_foreign_index_is_rebuilt() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().join("search");
    say(&store, None, "web", Sender::Buyer, "包邮吗", t0()).await;
    say(&store, None, "web", Sender::Buyer, "偏远地区包邮吗", t0()).await;
    {
        let h = History::open(&dir, &store).unwrap();
        h.catch_up().unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let h = History::open(&dir, &store).unwrap();
    assert!(h.is_empty());
    assert_eq!(h.catch_up().unwrap(), 2, "rebuilt from the store");
    drop(h);
    // Another data file whose log does not match the recorded event: rebuilt too.
    let (_d2, other) = store::testing::temp_store();
    say(
        &other,
        None,
        "web",
        Sender::Buyer,
        "有赠品吗",
        t0() + Duration::hours(1),
    )
    .await;
    let h = History::open(&dir, &other).unwrap();
    assert!(h.is_empty());
    assert_eq!(h.catch_up().unwrap(), 1);
    assert!(find(&h, "包邮", &any()).is_empty());
}

#[tokio::test]
async fn the_follower_indexes_live_messages_even_after_a_lag() {
    let (_d, store) = store::testing::temp_store();
    let idx = tempfile::tempdir().unwrap();
    let h = Arc::new(History::open(idx.path(), &store).unwrap());
    let (tx, rx) = tokio::sync::broadcast::channel::<Arc<Event>>(1);
    let follower = tokio::spawn(indexer::follow(
        Arc::downgrade(&h),
        rx,
        std::time::Duration::from_millis(20),
    ));
    for text in ["第一条退货", "第二条退货", "第三条退货"] {
        say(&store, None, "web", Sender::Buyer, text, t0()).await;
        let last = store.read().unwrap().events_after(0, 100).unwrap();
        // Publishing more than the channel holds makes the follower lag.
        let _ = tx.send(Arc::new(last[last.len() - 1].clone()));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while find(&h, "退货", &any()).len() < 3 {
        assert!(std::time::Instant::now() < deadline, "not indexed in time");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    drop(tx);
    tokio::time::timeout(std::time::Duration::from_secs(10), follower)
        .await
        .expect("the follower stops when the bus closes")
        .unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn indexing_work_and_the_threads_it_starts_run_at_the_lowest_priority() {
    use rustix::process::getpriority_process;
    let caller = getpriority_process(None).unwrap();
    let (inside, started) = indexer::lowly(|| {
        let started = std::thread::spawn(|| getpriority_process(None).unwrap());
        (getpriority_process(None).unwrap(), started.join().unwrap())
    });
    assert_eq!((inside, started), (19, 19));
    // The caller's own thread keeps its priority: only the work was lowered.
    assert_eq!(getpriority_process(None).unwrap(), caller);
    // What the work returns comes back, on a thread that can still start others.
    assert_eq!(indexer::lowly(|| 6 * 7), 42);
}
