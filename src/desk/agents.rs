//! What agents and supervisors do with conversations: set their state, take a waiting
//! buyer, reply, hand back to the bot, pass on, close; and the sweeps that keep the
//! queue moving (assign waiting buyers, re-route unanswered ones, close idle ones).

use super::conversation::Trigger;
use super::routing::Picture;
use super::service::{Changes, check_text};
use super::{Desk, Error, Result};
use crate::model::{
    AgentState, AgentStatus, ConvId, ConvState, Conversation, Event, GroupId, Message, Role,
    Sender, User, UserId,
};
use crate::store::prelude::*;
use crate::store::{self, WriteTx};
use chrono::{DateTime, Duration, Utc};

/// The rating invitation sent when an agent ends a conversation.
pub const INVITE_TEXT: &str = "感谢您的咨询！请为本次服务评价，您的反馈对我们很重要～";

/// Where a conversation is passed on to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Agent(UserId),
    Group(GroupId),
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    pub assigned: usize,
    pub rerouted: usize,
    pub closed: usize,
}

/// A store refusal as the desk reports it.
pub(super) fn conflict(e: store::Error) -> Error {
    match e {
        store::Error::Conflict(m) => Error::Refused(m),
        other => other.into(),
    }
}

/// Whether `user` may act on `conv`: its agent, a member of its group taking it from the
/// queue, or a supervisor or the owner.
fn may_act(tx: &WriteTx, user: &User, conv: &Conversation, taking: bool) -> store::Result<()> {
    if matches!(user.role, Role::Owner | Role::Supervisor) || conv.agent == Some(user.id) {
        return Ok(());
    }
    if taking && user.role == Role::Agent {
        let in_group = match conv.group {
            Some(g) => tx
                .get_group(g)?
                .is_some_and(|g| g.members.contains(&user.id)),
            None => true,
        };
        if in_group {
            return Ok(());
        }
    }
    Err(store::Error::Conflict("这个会话不归您接待".into()))
}

impl Desk {
    /// Runs one conversation action in a write transaction and publishes its events.
    pub(super) async fn act<R: Send + 'static>(
        &self,
        conv: ConvId,
        f: impl Fn(&mut Changes, &mut Conversation) -> store::Result<R> + Send + 'static,
    ) -> Result<R> {
        let now = self.clock.now();
        let (out, events, deliveries) = self
            .store
            .write(move |tx| {
                let mut c = Changes::new(tx, now);
                let mut conv = tx.get_conv(conv)?.ok_or(store::Error::NotFound)?;
                let out = f(&mut c, &mut conv)?;
                tx.put_conv(&conv)?;
                Ok((out, c.events, c.queued))
            })
            .await
            .map_err(conflict)?;
        self.publish(&events, deliveries);
        Ok(out)
    }

    pub(super) fn publish(&self, events: &[Event], deliveries: bool) {
        self.bus.publish(events);
        if deliveries {
            self.bus.ring_outbox();
        }
    }

    /// A user's current state (offline when never set).
    pub fn agent_state(&self, user: UserId) -> Result<AgentState> {
        Ok(self.agent_states()?.get(&user).copied().unwrap_or_default())
    }

    /// Every user's state that was ever set (the others are offline).
    pub fn agent_states(&self) -> Result<std::collections::BTreeMap<UserId, AgentState>> {
        Ok(self
            .store
            .read()?
            .agent_states()?
            .into_iter()
            .map(|(id, s)| (id, s.state))
            .collect())
    }

    /// Sets an agent's state; an agent coming online takes waiting buyers.
    pub async fn set_agent_state(&self, user: &User, state: AgentState) -> Result<()> {
        let (id, now) = (user.id, self.clock.now());
        let (events, deliveries) = self
            .store
            .write(move |tx| {
                tx.put_agent_state(id, &AgentStatus { state, since: now })?;
                let mut c = Changes::new(tx, now);
                // Going offline hands the agent's buyers on: nobody would answer them.
                if state == AgentState::Offline {
                    let cap = tx.get_reception()?.agent_cap;
                    for mut conv in tx.list_open_convs()? {
                        if conv.state != ConvState::Human || conv.agent != Some(id) {
                            continue;
                        }
                        c.say(
                            &mut conv,
                            Sender::System,
                            "当前客服已下线，正在为您转接其他客服～",
                            None,
                            None,
                        )?;
                        c.change(&mut conv, Trigger::Transfer, "客服下线")?;
                        c.queue_or_assign(&mut conv, cap, "正在为您转接")?;
                        c.tx.put_conv(&conv)?;
                    }
                }
                Ok((c.events, c.queued))
            })
            .await?;
        self.publish(&events, deliveries);
        if state == AgentState::Online {
            self.drain_queue().await?;
        }
        Ok(())
    }

    /// Takes a waiting buyer (接入). Of two agents taking the same one at once, exactly
    /// one wins; the other is refused.
    pub async fn claim(&self, user: &User, conv: ConvId) -> Result<Conversation> {
        let user = user.clone();
        self.act(conv, move |c, conv| {
            may_act(c.tx, &user, conv, true)?;
            if conv.state != ConvState::Queued {
                return Err(store::Error::Conflict("这位买家已被接待".into()));
            }
            c.assign(conv, user.id)?;
            Ok(conv.clone())
        })
        .await
    }

    /// Starts a conversation with a buyer (主动联系): the agent writes first (about an
    /// order, a restock) and the buyer answers in that conversation, served by them.
    /// A buyer the agent already serves gets the message there; a buyer in another
    /// open conversation is served there and is refused here. The buyer is invited to
    /// rate only if they answer (see `Changes::invite`).
    pub async fn start_conversation(
        &self,
        user: &User,
        buyer: crate::model::BuyerId,
        text: &str,
    ) -> Result<ConvId> {
        if user.role == Role::Trainer {
            return Err(Error::Forbidden);
        }
        check_text(text)?;
        let now = self.clock.now();
        let who = user.clone();
        let (id, events) = self
            .store
            .write(move |tx| {
                let mut b = tx.get_buyer(buyer)?.ok_or(store::Error::NotFound)?;
                let mut conv = match tx.open_conv_of(buyer)? {
                    Some(c) if c.state == ConvState::Human && c.agent == Some(who.id) => {
                        return Ok((c.id, Vec::new()));
                    }
                    Some(c) => {
                        return Err(store::Error::Conflict(format!(
                            "这位买家正在会话 #{} 中（{}），请在对话里接待",
                            c.id.0,
                            c.state.label()
                        )));
                    }
                    None => {
                        let id = tx.new_conv_id()?;
                        b.remember_conv(id);
                        tx.put_buyer(&b)?;
                        let c = Conversation::start(id, buyer, &b.channel, b.member_level, now);
                        tx.index_conv_start(&c)?;
                        c
                    }
                };
                let mut c = Changes::new(tx, now);
                let reason = format!("{} 主动联系买家", who.nickname);
                conv.transfer_reason = Some(reason.clone());
                c.give(&mut conv, who.id, &reason)?;
                tx.put_conv(&conv)?;
                Ok((conv.id, c.events))
            })
            .await
            .map_err(conflict)?;
        self.publish(&events, false);
        self.agent_send(user, id, text).await?;
        Ok(id)
    }

    /// An agent's reply to the buyer.
    pub async fn agent_send(&self, user: &User, conv: ConvId, text: &str) -> Result<Message> {
        let text = check_text(text)?.to_string();
        let user = user.clone();
        // Red lines are whole words as the bot's dictionary cuts them.
        let bot = self.bot().ok().cloned();
        self.act(conv, move |c, conv| {
            if conv.state == ConvState::Closed {
                let how = conv.closed_by.as_deref().unwrap_or("已结束");
                return Err(store::Error::Conflict(format!(
                    "会话已结束（{how}），消息没有发出"
                )));
            }
            if conv.state != ConvState::Human {
                return Err(store::Error::Conflict("请先接入这位买家".into()));
            }
            may_act(c.tx, &user, conv, false)?;
            let from = Sender::Agent {
                id: user.id,
                name: user.nickname.clone(),
            };
            let m = c.say(conv, from, &text, None, None)?;
            // 质检: a red line is recorded and supervisors are alerted at once.
            let rules = c.tx.qa_settings()?;
            let cut = |t: &str| bot.as_ref().map(|b| b.cut(t)).unwrap_or_default();
            let hits = super::qa::red_lines_in(
                &text,
                &rules,
                bot.as_ref().map(|_| &cut as super::qa::Cut),
            );
            if !hits.is_empty() {
                let detail = format!("使用了红线词：{}", hits.join("、"));
                c.tx.add_finding(&crate::model::Finding {
                    conv: conv.id,
                    rule: crate::model::QaRule::RedLine,
                    severity: crate::model::QaRule::RedLine.severity(),
                    agent: Some(user.name.clone()),
                    seq: Some(m.seq),
                    at: c.now,
                    detail: detail.clone(),
                })?;
                let e = c.tx.append_event(
                    c.now,
                    conv,
                    crate::model::EventKind::Alert {
                        rule: crate::model::QaRule::RedLine.as_str().into(),
                        agent: user.nickname.clone(),
                        detail,
                    },
                )?;
                c.events.push(e);
            }
            Ok(m)
        })
        .await
    }

    /// Hands the buyer back to the bot (the buyer goes on in the same conversation).
    pub async fn release(&self, user: &User, conv: ConvId) -> Result<()> {
        let user = user.clone();
        self.act(conv, move |c, conv| {
            may_act(c.tx, &user, conv, false)?;
            c.change(conv, Trigger::Release, "客服交还机器人")?;
            c.say(
                conv,
                Sender::System,
                "人工客服已结束接待，有问题可以继续问小二哦～",
                None,
                None,
            )?;
            Ok(())
        })
        .await?;
        self.drain_queue().await.map(drop)
    }

    /// Ends the conversation.
    pub async fn close(&self, user: &User, conv: ConvId) -> Result<()> {
        let user = user.clone();
        self.act(conv, move |c, conv| {
            may_act(c.tx, &user, conv, false)?;
            // 强拆: a supervisor ending another agent's conversation (an abusive buyer, a
            // stuck one) asks no rating, which would be the agent's.
            let forced = conv.state == ConvState::Human && conv.agent != Some(user.id);
            if !forced && c.invite(conv)? {
                c.say(conv, Sender::System, INVITE_TEXT, None, None)?;
            }
            if forced {
                c.say(conv, Sender::System, FORCED_CLOSE_TEXT, None, None)?;
            }
            let how = if forced {
                "强制结束"
            } else {
                "结束会话"
            };
            c.change(conv, Trigger::Close, &format!("{} {how}", user.nickname))?;
            Ok(())
        })
        .await?;
        self.drain_queue().await.map(drop)
    }

    /// Passes the conversation to another agent (directly) or group (its queue).
    pub async fn transfer_to(
        &self,
        user: &User,
        conv: ConvId,
        target: Target,
        note: &str,
    ) -> Result<Conversation> {
        let (user, note) = (user.clone(), note.trim().to_string());
        let cap = self.store.read()?.get_reception()?.agent_cap;
        let conv = self
            .act(conv, move |c, conv| {
                may_act(c.tx, &user, conv, false)?;
                let reason = if note.is_empty() {
                    format!("{} 转交", user.nickname)
                } else {
                    format!("{} 转交：{note}", user.nickname)
                };
                match target {
                    Target::Agent(agent) => {
                        let who =
                            c.tx.get_user(agent)?
                                .filter(|u| !u.disabled)
                                .ok_or(store::Error::NotFound)?;
                        if conv.state == ConvState::Human && conv.agent == Some(who.id) {
                            return Err(store::Error::Conflict(format!(
                                "{}已在接待这位买家",
                                who.nickname
                            )));
                        }
                        // The buyer is told they are connected: only to someone there.
                        let state = c.tx.agent_states()?.get(&who.id).map(|s| s.state);
                        if state != Some(AgentState::Online) {
                            return Err(store::Error::Conflict(format!(
                                "{}当前不在线，请转给在线的客服，或转到分组排队",
                                who.nickname
                            )));
                        }
                        conv.transfer_reason = Some(reason);
                        c.assign(conv, who.id)?;
                    }
                    Target::Group(group) => {
                        c.tx.get_group(group)?.ok_or(store::Error::NotFound)?;
                        conv.group = Some(group);
                        c.change(conv, Trigger::Transfer, &reason)?;
                        conv.transfer_reason = Some(reason);
                        c.queue_or_assign(conv, cap, "正在为您转接")?;
                    }
                }
                Ok(conv.clone())
            })
            .await?;
        Ok(conv)
    }

    /// A supervisor (or the owner) takes a conversation over from the bot, the queue or
    /// another agent (接管).
    pub async fn take_over(&self, user: &User, conv: ConvId) -> Result<Conversation> {
        if !matches!(user.role, Role::Owner | Role::Supervisor) {
            return Err(Error::Forbidden);
        }
        let user = user.clone();
        self.act(conv, move |c, conv| {
            if conv.state == ConvState::Human && conv.agent == Some(user.id) {
                return Err(store::Error::Conflict("您已在接待这位买家".into()));
            }
            conv.transfer_reason = Some(format!("{} 接管", user.nickname));
            c.assign(conv, user.id)?;
            conv.taken_over = true;
            Ok(conv.clone())
        })
        .await
    }

    /// Gives waiting buyers to free agents, highest priority and longest waiting first;
    /// returns how many were assigned.
    pub async fn drain_queue(&self) -> Result<usize> {
        let now = self.clock.now();
        let (n, events, deliveries) = self
            .store
            .write(move |tx| {
                let mut c = Changes::new(tx, now);
                let cap = tx.get_reception()?.agent_cap;
                let n = drain(&mut c, cap)?;
                let deliveries = c.queued;
                Ok((n, c.events, deliveries))
            })
            .await?;
        self.publish(&events, deliveries);
        Ok(n)
    }

    /// Keeps the service moving: assigns waiting buyers, re-routes buyers an agent has
    /// not answered for `reroute_minutes` (and widens a queue wait that long to every
    /// group), and closes conversations idle for `idle_close_minutes`.
    pub async fn sweep(&self) -> Result<Sweep> {
        let now = self.clock.now();
        let (sweep, events, deliveries) = self
            .store
            .write(move |tx| {
                let mut c = Changes::new(tx, now);
                let rec = tx.get_reception()?;
                let mut sweep = Sweep {
                    rerouted: reroute(
                        &mut c,
                        now - Duration::minutes(i64::from(rec.reroute_minutes)),
                        rec.agent_cap,
                    )?,
                    ..Sweep::default()
                };
                sweep.closed = close_idle(
                    &mut c,
                    now - Duration::minutes(i64::from(rec.idle_close_minutes)),
                )?;
                sweep.assigned = drain(&mut c, rec.agent_cap)?;
                let deliveries = c.queued;
                Ok((sweep, c.events, deliveries))
            })
            .await?;
        self.publish(&events, deliveries);
        Ok(sweep)
    }
}

/// Assigns waiting conversations to free agents, in queue order.
fn drain(c: &mut Changes, cap: u32) -> store::Result<usize> {
    let groups = c.tx.list_groups()?;
    let states = c.tx.agent_states()?;
    let mut open = c.tx.list_open_convs()?;
    let mut waiting: Vec<ConvId> = {
        let mut q: Vec<&Conversation> = open
            .iter()
            .filter(|o| o.state == ConvState::Queued)
            .collect();
        q.sort_by(|a, b| super::routing::serving_order(a, b));
        q.iter().map(|o| o.id).collect()
    };
    let mut assigned = 0;
    for id in waiting.drain(..) {
        let Some(pos) = open.iter().position(|o| o.id == id) else {
            continue;
        };
        let picture = Picture {
            groups: &groups,
            states: &states,
            open: &open,
            cap,
        };
        let Some(agent) = picture.pick_agent(open[pos].group, &[]) else {
            continue;
        };
        let mut conv = open[pos].clone();
        c.assign(&mut conv, agent)?;
        c.tx.put_conv(&conv)?;
        open[pos] = conv;
        assigned += 1;
    }
    Ok(assigned)
}

/// Re-routes assigned buyers whose agent has not answered since `before`, and widens
/// queue waits older than `before` to any group.
fn reroute(c: &mut Changes, before: DateTime<Utc>, cap: u32) -> store::Result<usize> {
    let groups = c.tx.list_groups()?;
    let states = c.tx.agent_states()?;
    let mut open = c.tx.list_open_convs()?;
    let mut moved = 0;
    for i in 0..open.len() {
        let conv = open[i].clone();
        // A supervisor's 接管 is theirs to answer, even offline: moving it on would
        // undo it (and might hand it back to the agent it was taken from).
        let unanswered = conv.state == ConvState::Human
            && !conv.taken_over
            && conv.assigned_at.is_some_and(|t| t < before)
            && conv
                .last_agent_at
                .is_none_or(|t| Some(t) < conv.assigned_at);
        let long_wait =
            conv.state == ConvState::Queued && conv.queued_at.is_some_and(|t| t < before);
        if !unanswered && !long_wait {
            continue;
        }
        let picture = Picture {
            groups: &groups,
            states: &states,
            open: &open,
            cap,
        };
        // Every agent who let this buyer wait is passed over until the buyer is
        // answered, so a buyer nobody answers is moved once per free agent, not back
        // and forth between two at every sweep.
        let mut passed = conv.passed_over.clone();
        passed.extend(conv.agent.filter(|a| unanswered && !passed.contains(a)));
        let group = if unanswered { conv.group } else { None };
        let Some(agent) = picture
            .pick_agent(group, &passed)
            .or_else(|| picture.pick_agent(None, &passed))
        else {
            continue;
        };
        let mut conv = conv;
        conv.passed_over = passed;
        c.say(
            &mut conv,
            Sender::System,
            "让您久等了，正在为您转接其他客服～",
            None,
            None,
        )?;
        c.assign(&mut conv, agent)?;
        c.tx.put_conv(&conv)?;
        open[i] = conv;
        moved += 1;
    }
    Ok(moved)
}

/// What a queued buyer hears when the wait ends without a human.
pub const QUEUE_TIMEOUT_TEXT: &str = "抱歉让您久等了，人工客服暂时无法接待，本次排队已结束；您可以继续向小二提问，或稍后回复“转人工”重新排队。";
/// What the buyer hears when a supervisor ends the conversation (强拆): no rating is
/// asked, but they know it ended and how to go on.
pub const FORCED_CLOSE_TEXT: &str = "本次会话已结束；如还有问题，直接发消息即可～";
/// What a buyer served by a human hears when the conversation ends for silence.
pub const IDLE_CLOSE_TEXT: &str =
    "由于长时间没有新消息，本次会话已结束；如还有问题，直接发消息即可～";

/// Closes open conversations with no message since `before`.
fn close_idle(c: &mut Changes, before: DateTime<Utc>) -> store::Result<usize> {
    let mut closed = 0;
    for mut conv in c.tx.list_open_convs()? {
        let last = conv
            .last_buyer_at
            .max(conv.last_agent_at)
            .unwrap_or(conv.updated_at)
            .max(conv.updated_at);
        if last < before {
            // A buyer left waiting for a human is told why the wait ends; a chat with
            // the bot just ends.
            let notice = match conv.state {
                ConvState::Queued => Some(QUEUE_TIMEOUT_TEXT),
                ConvState::Human => Some(IDLE_CLOSE_TEXT),
                ConvState::Bot | ConvState::Closed => None,
            };
            if let Some(text) = notice {
                c.say(&mut conv, Sender::System, text, None, None)?;
            }
            c.change(&mut conv, Trigger::Close, "超时自动结束")?;
            c.tx.put_conv(&conv)?;
            closed += 1;
        }
    }
    Ok(closed)
}
