//! The path of one buyer message: the bot answers (or not), the scene switches and the
//! reception mode decide, the buyer may be handed to a human, and everything is stored in
//! one durable transaction before anyone is answered.

use super::conversation::{Trigger, next};
use super::routing::{Picture, pick_group};
use super::scenes::{human_first, humans_back_label, reception_mode, scene_mode};
use super::{Desk, Error, Result};
use crate::bot::compose::{self, COMPLAINT_TEXT};
use crate::bot::{Band, Ctx, Intent, Reply, Route};
use crate::model::conv::ORDER_STATUSES;
use crate::model::{
    BotMeta, Buyer, ConvId, ConvState, Conversation, Delivery, Event, EventKind, Message, Order,
    Reception, SceneMode, Sender, ShopSettings, TrainReason, TrainStatus, TrainingItem, UserId,
};
use crate::store::convs::{ClientMsg, client_msg_key};
use crate::store::prelude::*;
use crate::store::{self, WriteTx};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The hand-over reason of a complaint; such buyers are queued first (`urgent`).
const COMPLAINT_REASON: &str = "投诉或情绪激动";

/// The conflict a retry that raced its first attempt gets inside the transaction.
const DUPLICATE: &str = "duplicate client_msg_id";

/// Longest buyer message, in characters.
pub const MAX_TEXT: usize = 4000;

/// A buyer message as a channel delivers it.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub channel: String,
    /// The channel's id for the buyer (the web chat: a hash of the buyer's token).
    pub buyer: String,
    pub text: String,
    /// The product the buyer is looking at (SKU).
    pub product: Option<String>,
    /// The channel's id for this message: the same id twice is stored once.
    pub client_msg_id: Option<String>,
    /// Profile facts the channel knows (kept when given).
    pub nickname: Option<String>,
    pub region: Option<String>,
    pub member_level: Option<u8>,
}

/// What a buyer message produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub conv: Conversation,
    /// The buyer's message as stored.
    pub message: Message,
    /// The bot's and the service's replies, in order.
    pub replies: Vec<Message>,
    /// A retry of a message already stored: nothing new was written.
    pub duplicate: bool,
}

/// What the decision step settled, before the transaction.
#[derive(Debug, Clone, Default)]
struct Plan {
    /// The bot's message and what it knew.
    bot: Option<(String, BotMeta)>,
    /// The bot's answer held back for a scene that goes straight to a human: sent
    /// after all when no human is at work to take the buyer.
    held: Option<(String, BotMeta)>,
    /// Hand over to a human, with the reason.
    transfer: Option<String>,
    /// A new conversation may go to a free agent first: the reception mode in force.
    human_first: Option<crate::model::ReceptionMode>,
    /// Transfers are impossible now: say so honestly.
    no_humans: Option<String>,
    scene: Option<String>,
    menu: Vec<String>,
    matched: bool,
    /// The entry answering, for a follow-up that names another thing ("那T恤呢").
    entry: Option<String>,
    /// The product the answer was about: one the buyer names becomes the chat's
    /// product ("儿童书包有货吗", then "有粉色吗").
    product: Option<String>,
    /// What a product question asked, for "那鞋子呢" next.
    asked: Option<String>,
    /// The shop's local date (YYYY-MM-DD), for the answer counts.
    day: String,
    /// The question goes to the training queue.
    train: Option<TrainNote>,
    /// The buyer asks for a human right after an answer: that answer's question goes to
    /// the training queue (the answer did not help).
    train_previous: bool,
    /// The bot is sure of its answer (no menu, no miss, no built-in intent): a buyer
    /// waiting in the queue gets it too.
    sure: bool,
    /// The buyer no longer wants a human ("不用人工了 机器人回答也行").
    no_human: bool,
}

impl Plan {
    /// What the next turn follows on from: the menu offered, the entry and product
    /// question answered (when the bot said something), the product talked about.
    fn remember(&self, conv: &mut Conversation) {
        conv.menu = self.menu.clone();
        conv.last_entry = self.entry.clone().filter(|_| self.bot.is_some());
        conv.last_ask = self.asked.clone().filter(|_| self.bot.is_some());
        if self.product.is_some() {
            conv.product = self.product.clone();
        }
    }
}

/// Why a question goes to the training queue, as the bot saw it.
#[derive(Debug, Clone)]
struct TrainNote {
    reason: TrainReason,
    /// The question to queue, when not the whole message (the question beside a call
    /// for a human).
    text: Option<String>,
    /// The normalized text (similar questions group by it).
    norm: String,
    /// The bot's best guesses: (entry id, score).
    guesses: Vec<(String, f32)>,
}

/// Checks a buyer's text: not empty, not too long.
pub fn check_text(text: &str) -> Result<&str> {
    let t = text.trim();
    if t.is_empty() {
        let mut inv = crate::model::Invalid::default();
        inv.add("text", "消息不能为空");
        return Err(inv.into());
    }
    if t.chars().count() > MAX_TEXT {
        let mut inv = crate::model::Invalid::default();
        inv.add("text", format!("消息最多 {MAX_TEXT} 个字"));
        return Err(inv.into());
    }
    Ok(t)
}

fn meta(r: &Reply) -> BotMeta {
    BotMeta {
        band: r.band.as_str().into(),
        entry: r.entry.clone(),
        also: r.also.clone(),
        intent: r.intent.map(|i| i.as_str().to_string()),
        confidence: r.confidence,
        menu: r
            .menu
            .iter()
            .map(|m| (m.id.clone(), m.question.clone()))
            .collect(),
        follow_ups: r
            .follow_ups
            .iter()
            .map(|f| (f.id.clone(), f.question.clone()))
            .collect(),
    }
}

/// Decides what the bot says and whether the buyer goes to a human.
fn plan(
    reply: &Reply,
    switches_mode: SceneMode,
    settings: &ShopSettings,
    reception: &Reception,
    at: DateTime<Utc>,
    new_conv_mode: Option<crate::model::ReceptionMode>,
    unmatched_streak: u32,
) -> Plan {
    let mut p = Plan {
        scene: reply.scene.clone(),
        menu: reply.menu_ids(),
        entry: reply
            .entry
            .clone()
            .filter(|_| reply.band == Band::Exact && reply.intent.is_none()),
        product: reply.product.clone(),
        asked: reply.asked.clone(),
        // A guessing menu is a miss too: a second unclear message after it reaches the
        // offer of a human (picking an option is an exact answer).
        matched: reply.band == Band::Exact || reply.intent.is_some(),
        sure: reply.band == Band::Exact && reply.intent.is_none(),
        day: local_day(at, settings.tz()),
        ..Plan::default()
    };
    let mut bot = Some((reply.answer.clone(), meta(reply)));
    match switches_mode {
        // The scene goes straight to a human: no answer from the bot. With the bot
        // serving alone there is no human to go to, so the bot answers after all.
        SceneMode::Human if reply.entry.is_some() && !reception.bot_only => {
            p.held = bot.take();
            p.transfer = Some(format!(
                "场景“{}”设为直接转人工",
                reply.scene.clone().unwrap_or_default()
            ));
        }
        // The scene is off: handled like a question the bot does not know, so the
        // second miss in a row goes to a human.
        SceneMode::Off if reply.entry.is_some() => {
            let mut m = meta(reply);
            m.band = "none".into();
            m.entry = None;
            m.menu.clear();
            m.follow_ups.clear();
            p.menu.clear();
            p.matched = false;
            p.scene = None;
            if unmatched_streak >= 1 {
                bot = None;
                p.transfer = Some(MISSED_TWICE.into());
            } else {
                bot = Some((compose::fallback(false).to_string(), m));
            }
        }
        _ => {}
    }
    match reply.intent {
        Some(Intent::Transfer) => {
            bot = None;
            p.transfer = Some("买家要求转人工".into());
            // "我想问问能不能开发票 转人工" asks something the bot did not answer: that
            // goes to the trainers. A bare call says the previous answer did not help.
            match crate::bot::intents::beside_transfer(&reply.explain.normalized) {
                Some(asked) => {
                    p.train = Some(TrainNote {
                        reason: TrainReason::Transfer,
                        norm: crate::bot::normalize::normalize(&asked),
                        text: Some(asked),
                        guesses: Vec::new(),
                    })
                }
                None => p.train_previous = true,
            }
        }
        Some(Intent::Complaint) => {
            bot = Some((COMPLAINT_TEXT.to_string(), meta(reply)));
            p.transfer = Some(COMPLAINT_REASON.into());
        }
        _ if reply.offer_transfer && reply.intent.is_none() => {
            bot = None;
            p.transfer = Some(MISSED_TWICE.into());
        }
        _ => {}
    }
    if p.transfer.is_some() && reception.bot_only {
        // Night-only bots: nobody to hand over to, whatever the hour.
        p.no_humans = Some(if settings.is_staffed(at) {
            compose::BOT_ONLY_TEXT.to_string()
        } else {
            off_hours_text(settings, at)
        });
    }
    p.human_first = new_conv_mode.filter(|_| p.transfer.is_none());
    p.bot = bot;
    // Questions the bot could not settle go to the trainers (built-in intents and
    // scenes the shop switched are not the KB's business).
    if reply.intent.is_none() && reply.band != Band::Exact {
        let reason = match (&p.transfer, reply.band) {
            (Some(_), _) => TrainReason::Transfer,
            (None, Band::Guided) => TrainReason::Guided,
            _ => TrainReason::None,
        };
        let guesses = reply
            .candidates
            .iter()
            .take(3)
            .map(|c| (c.id.clone(), c.score))
            .collect();
        p.train = Some(TrainNote {
            reason,
            norm: reply.explain.normalized.clone(),
            text: None,
            guesses,
        });
    }
    p
}

/// `at` as a date in the shop's time zone: `2026-11-22`.
pub fn local_day(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    // NaiveDate's own Display writes this form, without format!'s strftime parsing.
    at.with_timezone(&tz).date_naive().to_string()
}

/// Why a waiting buyer went back to the bot, and what they are told.
const LEFT_QUEUE: &str = "买家取消排队";
/// How the reminder of a buyer's place in the queue opens: after a complaint, after a
/// call for a human, and after a question the bot cannot answer.
const QUEUED_SORRY: &str = "非常抱歉让您久等了！您反映的问题我们非常重视，正在为您加急转接人工客服";
const QUEUED_WAITING: &str = "亲，正在为您转接人工客服";
/// Words of a waiting buyer asking after their place in the queue ("我已经在排队了吧
/// 前面几个人"): told that, whatever else the bot could answer.
const ASKS_QUEUE: &[&str] = &["排队", "前面几", "几个人", "第几位"];
/// Words of a waiting buyer asking after the humans ("人工什么时候来啊 等半天了",
/// "？？？回话啊"), not a question for them.
const ASKS_AFTER_HUMANS: &[&str] = &[
    "排队",
    "前面几",
    "几个人",
    "人工",
    "客服",
    "人呢",
    "有人",
    "等半天",
    "等了",
    "回话",
    "回复",
    "？？",
    "??",
];
const QUEUED_UNSURE: &str = "亲，这个问题小二答不准，已为您转接人工客服";
const LEFT_QUEUE_TEXT: &str = "好的，已为您取消人工排队，小二继续为您服务～";

/// Why a buyer the bot failed twice in a row is handed over.
const MISSED_TWICE: &str = "连续两次未能回答";

/// Before the off-hours notice to a buyer handed over because the bot did not
/// understand: the notice alone reads as an answer to the question.
const MISSED_LEAD: &str = "抱歉，这个问题小二没能理解😥 ";

/// The honest "no human now" reply, with when humans are back.
fn off_hours_text(settings: &ShopSettings, at: DateTime<Utc>) -> String {
    let text = compose::fill(&settings.off_hours_text, settings, None, &[]);
    if settings.is_staffed(at) {
        text
    } else {
        format!(
            "{text}（人工客服 {} 上班）",
            humans_back_label(settings, at)
        )
    }
}

/// Changes made in one write transaction, collected for publishing.
pub(crate) struct Changes<'t, 'a> {
    pub tx: &'t WriteTx<'a>,
    pub now: DateTime<Utc>,
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    /// Webhook deliveries were queued (the worker's doorbell should ring).
    pub queued: bool,
    /// Webhooks looked up so far, by channel.
    hooks: std::collections::HashMap<String, Option<crate::model::Webhook>>,
}

impl<'t, 'a> Changes<'t, 'a> {
    pub fn new(tx: &'t WriteTx<'a>, now: DateTime<Utc>) -> Self {
        Changes {
            tx,
            now,
            events: Vec::new(),
            messages: Vec::new(),
            queued: false,
            hooks: std::collections::HashMap::new(),
        }
    }

    /// Whether `channel` has an enabled webhook (looked up once per transaction).
    fn hook_on(&mut self, channel: &str) -> store::Result<bool> {
        if !self.hooks.contains_key(channel) {
            let hook = self.tx.get_webhook(channel)?;
            self.hooks.insert(channel.to_string(), hook);
        }
        Ok(self
            .hooks
            .get(channel)
            .is_some_and(|h| h.as_ref().is_some_and(|h| h.enabled)))
    }

    /// Adds a message to `conv`, with its event and, for an outbound message on a
    /// channel with a webhook, its delivery.
    pub fn say(
        &mut self,
        conv: &mut Conversation,
        from: Sender,
        text: &str,
        bot: Option<BotMeta>,
        client_msg_id: Option<String>,
    ) -> store::Result<Message> {
        let m = Message {
            conv: conv.id,
            seq: 0,
            at: self.now,
            from,
            text: text.to_string(),
            client_msg_id,
            bot,
        };
        let m = self.tx.append_message(conv, m)?;
        let kind = m.from.kind().to_string();
        if kind == "buyer" {
            conv.last_buyer_at = Some(self.now);
        } else if kind == "agent" {
            conv.last_agent_at = Some(self.now);
        }
        conv.updated_at = self.now;
        let e = self.tx.append_event(
            self.now,
            conv,
            EventKind::Message {
                seq: m.seq,
                from: kind.clone(),
            },
        )?;
        self.events.push(e);
        if kind != "buyer" && self.hook_on(&conv.channel)? {
            let buyer = self
                .tx
                .get_buyer(conv.buyer)?
                .map(|b| b.external_id)
                .unwrap_or_default();
            let body = serde_json::json!({
                "event": "message",
                "channel": conv.channel,
                "conversation_id": conv.id.0,
                "buyer_id": buyer,
                "message": m.wire(),
            });
            self.tx.put_delivery(Delivery {
                id: 0,
                channel: conv.channel.clone(),
                body: body.to_string(),
                attempts: 0,
                next_at: self.now,
                last_error: None,
                created_at: self.now,
                failed: false,
            })?;
            self.queued = true;
        }
        self.messages.push(m.clone());
        Ok(m)
    }

    /// Moves `conv` by `trigger` (refused moves are a conflict), with its event.
    pub fn change(
        &mut self,
        conv: &mut Conversation,
        trigger: Trigger,
        reason: &str,
    ) -> store::Result<()> {
        let from = conv.state;
        let to = next(from, trigger).ok_or_else(|| {
            store::Error::Conflict(format!("会话当前为“{}”，不能执行此操作", from.label()))
        })?;
        conv.enter(to, self.now);
        conv.updated_at = self.now;
        match to {
            ConvState::Queued => {
                conv.queued_at = Some(self.now);
                conv.agent = None;
            }
            ConvState::Bot => {
                conv.agent = None;
                conv.queued_at = None;
                conv.passed_over.clear();
            }
            ConvState::Closed => {
                conv.closed_at = Some(self.now);
                conv.closed_by = Some(reason.to_string());
                conv.passed_over.clear();
            }
            ConvState::Human => {}
        }
        let e = self.tx.append_event(
            self.now,
            conv,
            EventKind::State {
                from,
                to,
                reason: reason.to_string(),
            },
        )?;
        self.events.push(e);
        Ok(())
    }

    /// Gives `conv` to `agent`, with a notice to the buyer.
    pub fn assign(&mut self, conv: &mut Conversation, agent: UserId) -> store::Result<()> {
        self.give(conv, agent, "分配给客服")?;
        let name = self
            .tx
            .get_user(agent)?
            .map(|u| u.nickname)
            .unwrap_or_default();
        self.say(
            conv,
            Sender::System,
            &format!("已为您接通人工客服「{name}」，请问有什么可以帮您？"),
            None,
            None,
        )?;
        Ok(())
    }

    /// Gives `conv` to `agent` without telling the buyer (see `assign`).
    pub fn give(
        &mut self,
        conv: &mut Conversation,
        agent: UserId,
        reason: &str,
    ) -> store::Result<()> {
        self.change(conv, Trigger::Assign, reason)?;
        conv.taken_over = false;
        conv.agent = Some(agent);
        conv.last_agent = Some(agent);
        conv.holders.push((self.now, agent));
        conv.assigned_at = Some(self.now);
        let e = self.tx.append_event(
            self.now,
            conv,
            EventKind::Assigned {
                agent,
                group: conv.group,
            },
        )?;
        self.events.push(e);
        Ok(())
    }

    /// Invites the buyer to rate, once per conversation, and only a buyer who wrote.
    pub fn invite(&mut self, conv: &mut Conversation) -> store::Result<bool> {
        if conv.invited_at.is_some() || conv.last_buyer_at.is_none() || conv.rating.is_some() {
            return Ok(false);
        }
        conv.invited_at = Some(self.now);
        let e = self.tx.append_event(self.now, conv, EventKind::Invited)?;
        self.events.push(e);
        Ok(true)
    }

    /// Hands `conv` to a human: an agent of its group if one is free, else the queue.
    pub fn transfer(
        &mut self,
        conv: &mut Conversation,
        buyer: &Buyer,
        reason: &str,
        cap: u32,
    ) -> store::Result<()> {
        let groups = self.tx.list_groups()?;
        conv.group = pick_group(&groups, conv.scene.as_deref(), buyer);
        conv.transfer_reason = Some(reason.to_string());
        // The complaint reply promises priority: keep it, through later re-routing too.
        conv.urgent |= reason == COMPLAINT_REASON;
        self.change(conv, Trigger::Transfer, reason)?;
        self.queue_or_assign(conv, cap, "已为您转接人工客服")
    }

    /// Gives `conv` (just queued) to a free agent of its group, or tells the buyer their
    /// place in the queue after `lead`, and that nobody is online when no agent of the
    /// group is at work.
    pub fn queue_or_assign(
        &mut self,
        conv: &mut Conversation,
        cap: u32,
        lead: &str,
    ) -> store::Result<()> {
        let groups = self.tx.list_groups()?;
        let states = self.tx.agent_states()?;
        let mut open = self.tx.list_open_convs()?;
        open.retain(|c| c.id != conv.id);
        open.push(conv.clone());
        let picture = Picture {
            groups: &groups,
            states: &states,
            open: &open,
            cap,
        };
        if let Some(agent) = picture.pick_agent(conv.group, &[]) {
            return self.assign(conv, agent);
        }
        let place = match picture.position(conv.id, conv.group).saturating_sub(1) {
            0 => "您是下一位".to_string(),
            ahead => format!("前面还有 {ahead} 位"),
        };
        let settings = self.tx.get_settings()?;
        // Waiting, the bot still answers what it is sure of (see `apply`).
        let text = if picture.on_duty(conv.group) {
            format!("{lead}，{place}，请稍候～")
        } else if !settings.is_staffed(self.now) && self.tx.get_reception()?.off_hours_reply {
            // After hours nobody is coming online soon: say when they do (unless the
            // shop switched the off-hours reply off).
            let back = super::scenes::humans_back_label(&settings, self.now);
            format!(
                "{lead}。现在是非人工服务时间，已为您排队（{place}），人工客服 {back} 上班后会第一时间接待您；排队期间也可以继续问小二哦～"
            )
        } else {
            format!(
                "{lead}。人工客服暂时都不在线，已为您排队（{place}），客服上线后会第一时间接待您；排队期间也可以继续问小二哦～"
            )
        };
        self.say(conv, Sender::System, &text, None, None)?;
        Ok(())
    }
}

impl Desk {
    /// Takes a buyer's message: answers it, hands the buyer over when the rules say so,
    /// stores everything durably, then publishes the events. A repeated
    /// `client_msg_id` returns the first answer and stores nothing.
    pub async fn on_buyer_message(&self, m: Incoming) -> Result<Outcome> {
        let text = check_text(&m.text)?.to_string();
        let receipt = m
            .client_msg_id
            .as_deref()
            .map(|id| client_msg_key(&m.channel, &m.buyer, id));
        let now = self.clock.now();
        if let Some(key) = &receipt
            && let Some(rec) = self.store.receipt(key)
        {
            return self.replay(&rec, &text);
        }
        // The newest buyer and conversation: `apply` checks the plan against the
        // conversation again, so a snapshot of all the rest is not needed.
        let generation = self.store.config_generation();
        let r = self.store.read_newest()?;
        let setup = self.setup(generation, &r)?;
        let (settings, reception) = (&setup.settings, &setup.reception);
        let buyer = r.find_buyer(&m.channel, &m.buyer)?;
        // A conversation closed since the snapshot began is as good as none: the
        // writer opens a new one, which the plan is then made for.
        let conv = match &buyer {
            Some(b) => r
                .open_conv_of(b.id)?
                .filter(|c| c.state != ConvState::Closed),
            None => None,
        };
        let mut orders: Vec<Order> = match &buyer {
            Some(b) => b
                .orders
                .iter()
                .filter_map(|k| r.get_order(k).ok().flatten())
                .collect(),
            None => Vec::new(),
        };
        orders.sort_by_key(|o| std::cmp::Reverse(o.updated_at));
        let state = conv.as_ref().map(|c| c.state).unwrap_or(ConvState::Bot);
        // A buyer waiting in the queue is answered too (see `apply`).
        let plan = if matches!(state, ConvState::Bot | ConvState::Queued) {
            let product = match (&m.product, &conv) {
                (Some(page), Some(c)) if c.page.as_ref() == Some(page) => {
                    c.product.clone().or_else(|| Some(page.clone()))
                }
                (Some(page), _) => Some(page.clone()),
                (None, c) => c.as_ref().and_then(|c| c.product.clone()),
            };
            let menu = conv.as_ref().map(|c| c.menu.clone()).unwrap_or_default();
            let previous = conv.as_ref().and_then(|c| c.last_entry.clone());
            let previous_ask = conv.as_ref().and_then(|c| c.last_ask.clone());
            let mut ctx = Ctx::new(settings, now);
            ctx.product = product.as_deref();
            ctx.has_order = orders.iter().any(Order::is_after_sale)
                || conv.as_ref().is_some_and(|c| c.bought)
                || says_bought(&text);
            ctx.orders = &orders;
            ctx.menu = &menu;
            ctx.unmatched_streak = conv.as_ref().map(|c| c.unmatched_streak).unwrap_or(0);
            ctx.previous = previous.as_deref();
            ctx.previous_ask = previous_ask.as_deref();
            let bot = self.bot()?;
            let mut reply = bot.reply_shared(&ctx, &text);
            // What the product talked about since does not answer from its record, the
            // page the buyer writes from may ("支持magsafe吗" on the case's page after a
            // question that named the car mount).
            let from_record = |r: &Reply| {
                r.band == Band::Exact && matches!(r.explain.route, Route::Product | Route::Search)
            };
            if let Some(page) = m.product.as_deref()
                && ctx.product != Some(page)
                && reply.intent.is_none()
                && !from_record(&reply)
                && reply.explain.route != Route::Order
            {
                let mut on_page = ctx.clone();
                on_page.product = Some(page);
                let again = bot.reply_shared(&on_page, &text);
                if from_record(&again) {
                    reply = again;
                }
            }
            let mode = scene_mode(&setup.switches, reply.scene.as_deref(), settings, now);
            let first = conv
                .is_none()
                .then(|| reception_mode(reception, settings, now))
                .filter(|m| *m != crate::model::ReceptionMode::BotFirst);
            let streak = ctx.unmatched_streak;
            let mut p = plan(&reply, mode, settings, reception, now, first, streak);
            // Read only while waiting in the queue (see `apply`).
            p.no_human = state == ConvState::Queued
                && crate::bot::intents::refuses_transfer(&crate::bot::normalize::normalize(&text));
            // "衣服开线了 转人工", "衣服有线头，我要投诉": the buyer goes to the group for
            // what they ask about (质量问题), not for whatever the bot answered last.
            let beside = match reply.intent {
                Some(Intent::Transfer) => {
                    crate::bot::intents::beside_transfer(&reply.explain.normalized)
                }
                Some(Intent::Complaint) => {
                    crate::bot::intents::beside_complaint(&reply.explain.normalized)
                }
                _ => None,
            };
            if let Some(asked) = beside {
                let about = bot.reply(&ctx, &asked);
                if about.band == Band::Exact && about.intent.is_none() {
                    p.scene = about.scene.or(p.scene);
                }
            }
            Some(p)
        } else {
            None
        };
        drop(r);
        let expected = conv.as_ref().map(|c| (c.id, c.state));
        let (store_m, now_c, key) = (m.clone(), now, receipt.clone());
        let written = self
            .store
            .write(move |tx| {
                apply(
                    tx,
                    &store_m,
                    &text,
                    plan.clone(),
                    expected,
                    &setup.reception,
                    key.as_deref(),
                    now_c,
                )
            })
            .await;
        let outcome = match written {
            Ok(o) => o,
            Err(store::Error::Conflict(msg)) if msg == DUPLICATE => {
                let key = receipt.unwrap_or_default();
                let rec = match self.store.receipt(&key) {
                    Some(rec) => rec,
                    None => {
                        // The first attempt was in the same batch, which commits after
                        // this answer: any later write waits for that commit.
                        self.store.write(|_| Ok(())).await?;
                        self.store.receipt(&key).ok_or(Error::NotFound)?
                    }
                };
                return self.replay(&rec, check_text(&m.text)?);
            }
            Err(store::Error::Conflict(msg)) => return Err(Error::Refused(msg)),
            Err(e) => return Err(e.into()),
        };
        self.bus.publish(&outcome.1);
        if outcome.2 {
            self.bus.ring_outbox();
        }
        Ok(outcome.0)
    }

    /// The shop settings, reception settings and scene switches as of `generation`,
    /// read from the store before `r` began: kept from an earlier message while the
    /// store's [`config_generation`](store::Store::config_generation) has not moved,
    /// else read from `r` and kept.
    fn setup(&self, generation: u64, r: &store::ReadTx) -> Result<Arc<Setup>> {
        let kept = self.setup.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(s) = kept.filter(|s| s.generation == generation) {
            return Ok(s);
        }
        let s = Arc::new(Setup {
            generation,
            settings: r.get_settings()?,
            reception: r.get_reception()?,
            switches: r.scene_switches()?,
        });
        *self.setup.write().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
        Ok(s)
    }

    /// The stored answer to a message sent before with the same `client_msg_id`.
    /// The first answer to a repeated `client_msg_id`. The same id with other words is
    /// not a retry but a bridge's mistake, refused rather than silently answered with
    /// the first message's replies.
    fn replay(&self, rec: &ClientMsg, text: &str) -> Result<Outcome> {
        let r = self.store.read()?;
        let conv = r.get_conv(rec.conv)?.ok_or(Error::NotFound)?;
        let msgs = r.messages_after(
            rec.conv,
            rec.seq.saturating_sub(1),
            1 + rec.replies.len() * 4 + 8,
        )?;
        let message = msgs
            .iter()
            .find(|x| x.seq == rec.seq)
            .cloned()
            .ok_or(Error::NotFound)?;
        if message.text != text {
            return Err(Error::Refused(
                "这个 client_msg_id 已用于内容不同的另一条消息：重试请发送相同的内容，新消息请换一个 client_msg_id".into(),
            ));
        }
        let replies = msgs
            .into_iter()
            .filter(|x| rec.replies.contains(&x.seq))
            .collect();
        Ok(Outcome {
            conv,
            message,
            replies,
            duplicate: true,
        })
    }
}

/// What every buyer message reads of the shop's set-up, decoded once per change.
pub(crate) struct Setup {
    /// The store's configuration generation it was read at.
    generation: u64,
    settings: ShopSettings,
    reception: Reception,
    switches: std::collections::BTreeMap<String, crate::model::SceneSwitch>,
}

/// The write transaction of `on_buyer_message`. Returns the outcome, the events to
/// publish, and whether webhook deliveries were queued.
#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &WriteTx,
    m: &Incoming,
    text: &str,
    plan: Option<Plan>,
    expected: Option<(ConvId, ConvState)>,
    reception: &Reception,
    receipt: Option<&str>,
    now: DateTime<Utc>,
) -> store::Result<(Outcome, Vec<Event>, bool)> {
    // A retry that raced the first attempt: answer like the first.
    if let Some(key) = receipt
        && tx.get_client_msg(key).is_some()
    {
        return Err(store::Error::Conflict(DUPLICATE.into()));
    }
    let mut buyer = tx.buyer_for(&m.channel, &m.buyer, now)?;
    let before = buyer.clone();
    if now - buyer.last_seen >= chrono::Duration::minutes(1) {
        // To the minute is enough, and spares a write per message.
        buyer.last_seen = now;
    }
    if let Some(n) = &m.nickname {
        buyer.nickname = n.clone();
    }
    if let Some(r) = &m.region {
        buyer.region = r.clone();
    }
    if let Some(l) = m.member_level {
        buyer.member_level = l;
    }
    let mut conv = match tx.open_conv_of(buyer.id)? {
        Some(c) => c,
        None => {
            let id = tx.new_conv_id()?;
            buyer.remember_conv(id);
            let c = Conversation::start(id, buyer.id, &m.channel, buyer.member_level, now);
            tx.index_conv_start(&c)?;
            c
        }
    };
    if buyer != before {
        tx.put_buyer(&buyer)?;
    }
    // A new page makes its product the chat's; the same page again keeps the product
    // talked about since.
    if m.product.is_some() && m.product != conv.page {
        conv.page = m.product.clone();
        conv.product = m.product.clone();
    }
    let fresh = conv.next_seq == 1;
    let mut c = Changes::new(tx, now);
    let message = c.say(
        &mut conv,
        Sender::Buyer,
        text,
        None,
        m.client_msg_id.clone(),
    )?;
    // The plan holds only if the conversation is still what the plan was made for (an
    // agent may have taken it meanwhile); else the buyer's message is all there is.
    let current = (!fresh).then_some((conv.id, conv.state));
    let mut plan = plan.filter(|_| {
        current == expected && matches!(conv.state, ConvState::Bot | ConvState::Queued)
    });
    conv.bought |= says_bought(text);
    // Waiting in the queue, the buyer who no longer wants a human goes back to the bot
    // ("不用人工了 机器人回答也行 礼盒能写贺卡吗"); any other gets the bot's sure answers
    // ("白茶怎么煮" while nobody is online yet) and keeps their place, and the rest
    // waits for the agent.
    if conv.state == ConvState::Queued {
        match plan.take() {
            Some(p) if p.no_human => {
                c.change(&mut conv, Trigger::Release, LEFT_QUEUE)?;
                c.say(&mut conv, Sender::System, LEFT_QUEUE_TEXT, None, None)?;
                plan = Some(p);
            }
            Some(p)
                if p.sure
                    && p.transfer.is_none()
                    && !ASKS_QUEUE.iter().any(|w| text.contains(w)) =>
            {
                if let Some((t, meta)) = &p.bot {
                    c.say(&mut conv, Sender::Bot, t, Some(meta.clone()), None)?;
                    p.remember(&mut conv);
                }
            }
            // Anything else ("人呢", "我要投诉", a question the bot cannot answer) is
            // told where the buyer stands, so no one waits in silence; thanks need no
            // answer. A complaint moves the buyer up the queue.
            Some(p) => {
                let meta = p.bot.as_ref().map(|(_, m)| m);
                let is = |i| meta.is_some_and(|m| said(m, i));
                let lead = if is(Intent::Complaint) {
                    conv.urgent = true;
                    Some(QUEUED_SORRY)
                } else if p.sure
                    || p.transfer.as_deref().is_some_and(|t| t != MISSED_TWICE)
                    || ASKS_AFTER_HUMANS.iter().any(|w| text.contains(w))
                {
                    Some(QUEUED_WAITING)
                } else if is(Intent::Positive) {
                    None
                } else {
                    Some(QUEUED_UNSURE)
                };
                if let Some(lead) = lead {
                    c.queue_or_assign(&mut conv, reception.agent_cap, lead)?;
                }
            }
            None => {}
        }
    }
    if let Some(p) = plan {
        if let Some(note) = &p.train {
            tx.add_training(TrainingItem {
                id: 0,
                at: now,
                conv: conv.id,
                seq: message.seq,
                text: note.text.clone().unwrap_or_else(|| text.to_string()),
                norm: note.norm.clone(),
                reason: note.reason,
                candidates: note.guesses.clone(),
                status: TrainStatus::Open,
                entry: None,
                resolved_at: None,
                resolved_by: None,
            })?;
        }
        if p.train_previous
            && let Some(item) = answered_before(tx, &conv, message.seq, now)?
        {
            tx.add_training(item)?;
        }
        p.remember(&mut conv);
        conv.unmatched_streak = if p.matched {
            0
        } else {
            conv.unmatched_streak + 1
        };
        if p.scene.is_some() {
            conv.scene = p.scene.clone();
        }
        if let Some(notice) = &p.no_humans {
            if let Some((_, meta)) = p.bot.as_ref().filter(|(_, m)| said(m, Intent::Complaint)) {
                let sorry = compose::COMPLAINT_SORRY_TEXT;
                c.say(&mut conv, Sender::Bot, sorry, Some(meta.clone()), None)?;
            }
            c.say(&mut conv, Sender::Bot, notice, None, None)?;
        } else if let Some(mode) = p.human_first {
            let states = tx.agent_states()?;
            let groups = tx.list_groups()?;
            let open = tx.list_open_convs()?;
            let picture = Picture {
                groups: &groups,
                states: &states,
                open: &open,
                cap: reception.agent_cap,
            };
            let group = pick_group(&groups, conv.scene.as_deref(), &buyer);
            let crowded = picture.queue_len() > reception.queue_limit as usize;
            let wanted = !crowded && human_first(mode, reception, conv.id);
            match picture.pick_agent(group, &[]).filter(|_| wanted) {
                Some(agent) => {
                    conv.group = group;
                    conv.transfer_reason = Some("人工优先接待".into());
                    c.assign(&mut conv, agent)?;
                }
                None => {
                    if let Some((t, meta)) = &p.bot {
                        c.say(&mut conv, Sender::Bot, t, Some(meta.clone()), None)?;
                    }
                }
            }
        } else {
            // With no agent online or busy (soon free), say so honestly: off-hours, with
            // when humans are back and no queue no one serves; within staffed hours, the
            // buyer waits in the queue knowing nobody is online yet (the queue notice
            // says so).
            let nobody = p.transfer.is_some() && !anyone_on_duty(tx)?;
            let unattended = nobody && reception.off_hours_reply;
            let notice = if unattended {
                let settings = tx.get_settings()?;
                (!settings.is_staffed(now)).then(|| {
                    let text = off_hours_text(&settings, now);
                    if p.transfer.as_deref() == Some(MISSED_TWICE) {
                        format!("{MISSED_LEAD}{text}")
                    } else {
                        text
                    }
                })
            } else {
                None
            };
            // A scene set to go straight to a human with no human at work: the bot
            // answers after all, and the buyer still waits for a human.
            let mut bot = p.bot.clone().or(p.held.clone().filter(|_| nobody));
            // A first miss offers "回复“转人工”": not while nobody could take the buyer.
            if let Some((text, _)) = bot.as_mut().filter(|(t, _)| compose::offers_human(t)) {
                let settings = tx.get_settings()?;
                let back = if reception.bot_only {
                    Some(None)
                } else if !settings.is_staffed(now) && !anyone_on_duty(tx)? {
                    Some(Some(humans_back_label(&settings, now)))
                } else {
                    None
                };
                if let Some(back) = back {
                    *text = compose::without_humans(text, back.as_deref());
                }
            }
            if let Some((t, meta)) = &bot {
                // Thanks earn a rating invite only from a buyer who was served and has
                // not been invited yet; "嗯嗯" or "😊" opening the conversation gets a
                // welcome, and thanks after a miss a plain reply (it got the welcome).
                let thanks = said(meta, Intent::Positive);
                let opening = message.seq <= 1;
                // The bot's last replies, read once: whether it served the buyer, and
                // whether it just answered a complaint (no time to ask for a rating).
                let recent = if thanks {
                    recent_bot_replies(tx, &conv, message.seq)?
                } else {
                    Vec::new()
                };
                let served = thanks && served_before(&conv, &recent);
                let invite = served
                    && conv.invited_at.is_none()
                    && conv.rating.is_none()
                    && !recent.iter().any(|b| said(b, Intent::Complaint));
                // "好的" is acknowledged, not answered with "不客气".
                let agreed = !thanks_said(text) && agreed(text);
                let text = match (thanks, served, invite) {
                    _ if notice.is_some() && said(meta, Intent::Complaint) => {
                        compose::COMPLAINT_SORRY_TEXT
                    }
                    (true, true, true) if agreed => compose::ACK_INVITE_TEXT,
                    (false, ..) | (true, true, true) => t.as_str(),
                    // A bare "嗯嗯" or "😊"; "好的 拍两包" says more than that.
                    (true, false, _)
                        if (opening || !thanks_said(text)) && !leaving(text) && bare(text) =>
                    {
                        compose::WELCOME_TEXT
                    }
                    (true, ..) if agreed => compose::ACK_TEXT,
                    (true, ..) => compose::THANKS_TEXT,
                };
                c.say(&mut conv, Sender::Bot, text, Some(meta.clone()), None)?;
                if meta.band == "exact" {
                    for entry in meta.entry.iter().chain(&meta.also) {
                        tx.count_hit(entry, &p.day)?;
                    }
                }
                if invite {
                    c.invite(&mut conv)?;
                }
            }
            match (&p.transfer, notice) {
                (_, Some(notice)) => {
                    c.say(&mut conv, Sender::Bot, &notice, None, None)?;
                }
                (Some(reason), None) => {
                    c.transfer(&mut conv, &buyer, reason, reception.agent_cap)?;
                }
                (None, None) => {}
            }
        }
    }
    tx.put_conv(&conv)?;
    let replies: Vec<Message> = c
        .messages
        .iter()
        .filter(|x| x.seq != message.seq)
        .cloned()
        .collect();
    if let Some(key) = receipt {
        tx.put_client_msg(
            key,
            &ClientMsg {
                conv: conv.id,
                seq: message.seq,
                replies: replies.iter().map(|x| x.seq).collect(),
            },
            now,
        )?;
    }
    let webhooks = c.queued;
    Ok((
        Outcome {
            conv,
            message,
            replies,
            duplicate: false,
        },
        c.events,
        webhooks,
    ))
}

/// Whether the bot's reply was to this built-in intent.
fn said(meta: &BotMeta, intent: Intent) -> bool {
    meta.intent.as_deref() == Some(intent.as_str())
}

/// Whether any agent is online, or busy and so soon free to take a queued buyer.
fn anyone_on_duty(tx: &WriteTx) -> store::Result<bool> {
    use crate::model::AgentState::{Busy, Online};
    Ok(tx
        .agent_states()?
        .values()
        .any(|s| matches!(s.state, Online | Busy)))
}

/// Whether the buyer was served: a human wrote, or one of the bot's `recent` replies
/// answered a question (an exact answer, not a reply to thanks or a menu).
fn served_before(conv: &Conversation, recent: &[BotMeta]) -> bool {
    conv.last_agent_at.is_some()
        || recent
            .iter()
            .any(|b| b.band == "exact" && b.intent.is_none())
}

/// What the bot's replies among the 20 messages before `seq` say of themselves.
fn recent_bot_replies(tx: &WriteTx, conv: &Conversation, seq: u64) -> store::Result<Vec<BotMeta>> {
    Ok(tx
        .messages_after(conv.id, seq.saturating_sub(21), 20)?
        .into_iter()
        .filter(|m| m.seq < seq && m.from == Sender::Bot)
        .filter_map(|m| m.bot)
        .collect())
}

/// Whether the buyer's words thank ("谢谢", "感谢", "thx"), not only agree ("嗯", "好的").
fn thanks_said(text: &str) -> bool {
    let t = text.to_lowercase();
    ["谢", "感恩", "thank", "thx"].iter().any(|w| t.contains(w))
}

/// Whether a positive message agrees or acknowledges ("好的", "行 我试试", "收到"),
/// rather than praising ("芒果超好吃").
fn agreed(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "好的",
        "好滴",
        "好嘞",
        "好哒",
        "好吧",
        "好呀",
        "行",
        "嗯",
        "ok",
        "收到",
        "知道",
        "明白",
        "了解",
        "懂了",
        "没问题",
        "我去",
        "我试",
        "可以",
        // The buyer has ordered or paid ("拍了", "已付款", "拍两包").
        "拍",
        "付款",
        "下单",
        "尽快发",
        "早点发",
        "各来",
    ]
    .iter()
    .any(|w| t.contains(w))
        || leaving(text)
}

/// What a buyer who has the goods says: "收到货了", "收到的杯子", "到货了",
/// "我买的电饭煲不加热", "才买三天", "买了一个礼拜了", "已付款", "我昨天拍的四件套怎么还
/// 没发货", "已经拆了一小包", "装好了晃得厉害", "洗了一次就掉毛". "收到" alone may only acknowledge a message, and "买了不合适能退吗" or "拍的
/// 时候选什么" asks before buying.
static BOUGHT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"收到货|收到的|东西收到|货收到|刚收到|到货了|签收了|已签收|已付款|付款了|已下单|下单了|拍了|我买的|才买|刚买|(?:我|昨天|前天|今天|上周|之前|前几天|早上|刚刚?)[拍买]的|还没发货|还不发货|怎么没发货|拆了|拆开了|已经拆|打开了|装好了|安装好了|(?:用|吃|穿|洗)了[一两二三四五六七八九十几半\d]+(?:次|天|个|周|回|顿)|买了[一两二三四五六七八九十几半\d]+(?:天|个|周|星期|礼拜|月)",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Whether `text` says the buyer has bought or received the goods.
fn says_bought(text: &str) -> bool {
    BOUGHT.is_match(text)
}

/// Whether a message is at most two Chinese characters besides emoji and punctuation
/// ("嗯嗯", "好的", "😊").
fn bare(text: &str) -> bool {
    text.chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count()
        <= 2
}

/// Whether a positive message takes leave ("算了不买了", "不用了"): no welcome, even
/// as the first message.
fn leaving(text: &str) -> bool {
    ["算了", "不买", "不用了", "没事了", "明天再"]
        .iter()
        .any(|w| text.contains(w))
}

fn answered_before(
    tx: &WriteTx,
    conv: &Conversation,
    seq: u64,
    now: DateTime<Utc>,
) -> store::Result<Option<TrainingItem>> {
    let recent = tx.messages_after(conv.id, seq.saturating_sub(6), 5)?;
    let mut before = recent.iter().rev().filter(|m| m.seq < seq);
    let Some(answer) = before.next() else {
        return Ok(None);
    };
    let Some(meta) = answer
        .bot
        .as_ref()
        .filter(|b| b.band == "exact" && b.intent.is_none())
    else {
        return Ok(None);
    };
    let Some(question) = before.next().filter(|m| m.from == Sender::Buyer) else {
        return Ok(None);
    };
    // "你好", then "找真人": the greeting was answered right; the buyer wants a human.
    if crate::bot::intents::only_greets(&crate::bot::normalize::normalize(&question.text)) {
        return Ok(None);
    }
    // A pick from the bot's menu or follow-ups ("2", or the option's own question)
    // teaches nothing: the question that brought the menu is queued already.
    let offered = before.next().and_then(|m| m.bot.as_ref()).is_some_and(|b| {
        b.menu
            .iter()
            .chain(&b.follow_ups)
            .any(|(id, _)| meta.entry.as_ref() == Some(id))
    });
    if offered {
        return Ok(None);
    }
    Ok(Some(answered_question(
        now,
        conv.id,
        question,
        TrainReason::Transfer,
        meta,
    )))
}

/// A training item for a buyer `question` the bot answered with `meta` (the entry it
/// answered with is the item's guess), queued at `at` for `reason`.
pub(super) fn answered_question(
    at: DateTime<Utc>,
    conv: ConvId,
    question: &Message,
    reason: TrainReason,
    meta: &BotMeta,
) -> TrainingItem {
    TrainingItem {
        id: 0,
        at,
        conv,
        seq: question.seq,
        text: question.text.clone(),
        norm: crate::bot::normalize::normalize(&question.text),
        reason,
        candidates: meta
            .entry
            .iter()
            .map(|e| (e.clone(), meta.confidence))
            .collect(),
        status: TrainStatus::Open,
        entry: None,
        resolved_at: None,
        resolved_by: None,
    }
}

/// Most line items one order may carry.
pub const MAX_ORDER_ITEMS: usize = 200;
/// Longest logistics status a bridge may send (the bot reads it to the buyer).
pub const MAX_LOGISTICS: usize = 200;

/// An order event from a channel.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrderInput {
    pub channel: String,
    pub order_id: String,
    /// The channel's id for the buyer.
    pub buyer: String,
    pub items: Vec<crate::model::OrderItem>,
    pub status: String,
    pub amount: Option<crate::model::Price>,
    pub paid: Option<crate::model::Price>,
    pub logistics: Option<String>,
}

impl Desk {
    /// Records (creates or updates) an order; the buyer is created if new.
    pub async fn record_order(&self, o: OrderInput) -> Result<crate::model::Order> {
        let mut inv = crate::model::Invalid::default();
        if o.order_id.trim().is_empty() || o.order_id.chars().count() > 64 {
            inv.add("order_id", "order_id 为 1–64 个字符");
        }
        if o.buyer.trim().is_empty() || o.buyer.chars().count() > 128 {
            inv.add("buyer_id", "buyer_id 为 1–128 个字符");
        }
        let status = o.status.trim().to_ascii_lowercase();
        if !ORDER_STATUSES.iter().any(|(code, _)| *code == status) {
            let codes: Vec<&str> = ORDER_STATUSES.iter().map(|(code, _)| *code).collect();
            inv.add(
                "status",
                format!("status 应为以下之一：{}", codes.join("、")),
            );
        }
        if o.items.len() > MAX_ORDER_ITEMS {
            inv.add("items", format!("items 最多 {MAX_ORDER_ITEMS} 项"));
        }
        if let Some(n) = o
            .items
            .iter()
            .position(|i| i.qty == 0 || i.name.trim().is_empty())
        {
            inv.add(
                "items",
                format!("items 第 {} 项：name 不能为空，qty 至少为 1", n + 1),
            );
        }
        if let (Some(amount), Some(paid)) = (o.amount, o.paid)
            && paid > amount
        {
            inv.add("paid", "paid（实付）不能大于 amount（订单金额）");
        }
        if o.logistics
            .as_deref()
            .is_some_and(|l| l.chars().count() > MAX_LOGISTICS)
        {
            inv.add(
                "logistics_status",
                format!("logistics_status 最多 {MAX_LOGISTICS} 个字"),
            );
        }
        inv.into_result()?;
        let now = self.clock.now();
        self.store
            .write(move |tx| {
                let key = crate::model::Order::key(&o.channel, &o.order_id);
                let before = tx.get_order(&key)?;
                // An order stays its buyer's: another buyer's id is a bridge's mistake,
                // and telling that buyer about it would leak it.
                if let Some(b) = &before
                    && let Some(owner) = tx.get_buyer(b.buyer)?
                    && owner.external_id != o.buyer
                {
                    return Err(store::Error::Conflict(format!(
                        "订单 {} 属于其他买家",
                        o.order_id
                    )));
                }
                let buyer = tx.buyer_for(&o.channel, &o.buyer, now)?;
                // A status update need not repeat the order: what it leaves out is kept.
                let order = crate::model::Order {
                    channel: o.channel.clone(),
                    order_id: o.order_id.clone(),
                    buyer: buyer.id,
                    items: match (&before, o.items.is_empty()) {
                        (Some(b), true) => b.items.clone(),
                        _ => o.items.clone(),
                    },
                    status: status.clone(),
                    amount: o.amount.or(before.as_ref().and_then(|b| b.amount)),
                    paid: o.paid.or(before.as_ref().and_then(|b| b.paid)),
                    logistics: o
                        .logistics
                        .clone()
                        .or_else(|| before.as_ref().and_then(|b| b.logistics.clone())),
                    created_at: before.as_ref().map_or(now, |b| b.created_at),
                    updated_at: now,
                };
                if let (Some(amount), Some(paid)) = (order.amount, order.paid)
                    && paid > amount
                {
                    return Err(store::Error::Conflict(
                        "paid（实付）不能大于 amount（订单金额）".into(),
                    ));
                }
                tx.put_order(&order)?;
                Ok(order)
            })
            .await
            .map_err(|e| match e {
                store::Error::Conflict(m) => Error::Refused(m),
                e => e.into(),
            })
    }
}

/// A buyer's rating as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RatingInput {
    pub level: u8,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

impl Desk {
    /// A rating relayed by a channel bridge for one of its channel's conversations
    /// (another channel's is not found).
    pub async fn channel_rate(
        &self,
        channel: &str,
        conv: crate::model::ConvId,
        input: RatingInput,
    ) -> Result<crate::model::Rating> {
        let buyer = self
            .store
            .read()?
            .get_conv(conv)?
            .filter(|c| c.channel == channel)
            .ok_or(Error::NotFound)?
            .buyer;
        self.rate(conv, buyer, input).await
    }

    /// Records the buyer's rating of their conversation: only when invited, only once,
    /// credited to the last agent who served (or the bot).
    pub async fn rate(
        &self,
        conv: ConvId,
        buyer: crate::model::BuyerId,
        input: RatingInput,
    ) -> Result<crate::model::Rating> {
        let mut inv = crate::model::Invalid::default();
        if !(1..=5).contains(&input.level) {
            inv.add("level", "请选择 1–5 星");
        }
        if input
            .reasons
            .iter()
            .any(|r| !crate::model::conv::RATING_REASONS.contains(&r.as_str()))
        {
            inv.add("reasons", "未知的评价原因");
        } else if input.level > 3 && !input.reasons.is_empty() {
            // The reasons say what was not good: the chat offers them up to 3 stars.
            inv.add("reasons", "4 星及以上的评价不选不满意原因");
        }
        if input.comment.chars().count() > 300 {
            inv.add("comment", "评价内容最多 300 字");
        }
        inv.into_result()?;
        let now = self.clock.now();
        let (rating, events) = self
            .store
            .write(move |tx| {
                let mut c = Changes::new(tx, now);
                let mut conv = tx
                    .get_conv(conv)?
                    .filter(|x| x.buyer == buyer)
                    .ok_or(store::Error::NotFound)?;
                if conv.invited_at.is_none() {
                    return Err(store::Error::Conflict("这次服务还没有邀请评价".into()));
                }
                if conv.rating.is_some() {
                    return Err(store::Error::Conflict("已经评价过了，感谢您的反馈".into()));
                }
                let rating = crate::model::Rating {
                    level: input.level,
                    reasons: input.reasons.clone(),
                    comment: input.comment.trim().to_string(),
                    at: now,
                    agent: conv.last_agent,
                };
                conv.rating = Some(rating.clone());
                let e = tx.append_event(
                    now,
                    &conv,
                    EventKind::Rated {
                        level: rating.level,
                    },
                )?;
                c.events.push(e);
                tx.put_conv(&conv)?;
                Ok((rating, c.events))
            })
            .await
            .map_err(super::agents::conflict)?;
        self.bus.publish(&events);
        Ok(rating)
    }
}
