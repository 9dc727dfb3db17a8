//! The agent workspace (对话): which conversations a user may see, the lists of the
//! workspace (mine, the queue, others'), one conversation with its history, buyer and
//! smart-assist answers, the rating invitation, and quick replies (快捷短语).

use super::agents::{INVITE_TEXT, conflict};
use super::crm::BuyerProfile;
use super::service::Changes;
use super::{Actor, Desk, Error, Result};
use crate::bot::{Assist, Ctx};
use crate::model::{
    Buyer, ConvId, ConvState, Conversation, Group, Message, QuickReply, Role, Sender, User, UserId,
};
use crate::store::{self, prelude::*};
use chrono::{DateTime, Utc};

/// Messages of a conversation shown at once (the latest).
pub const HISTORY: usize = 200;
/// Smart-assist answers offered.
pub const ASSISTS: usize = 3;
/// Most quick replies per owner (each agent, and the team).
const MAX_QUICK: usize = 200;

/// Whether `user` may see `conv`: supervisors and the owner see every conversation; an
/// agent sees those they serve or served, and those of their groups (a conversation no
/// group was chosen for is everyone's). Trainers see none here.
pub fn may_see(user: &User, conv: &Conversation, groups: &[Group]) -> bool {
    match user.role {
        Role::Owner | Role::Supervisor => true,
        Role::Trainer => false,
        Role::Agent => {
            conv.agent == Some(user.id)
                || conv.last_agent == Some(user.id)
                || match conv.group {
                    None => true,
                    Some(g) => groups
                        .iter()
                        .any(|x| x.id == g && x.members.contains(&user.id)),
                }
        }
    }
}

/// A conversation in a workspace list.
#[derive(Debug, Clone)]
pub struct ConvRow {
    pub conv: Conversation,
    pub buyer: Buyer,
    /// Buyer messages since the last agent, bot or system message.
    pub unread: usize,
    /// Since when the buyer has been waiting for a human: the first unanswered buyer
    /// message, or entering the queue.
    pub waiting_since: Option<DateTime<Utc>>,
    /// The latest message's text (one line).
    pub last_text: String,
    pub agent_name: Option<String>,
}

/// The workspace lists.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// Conversations the user serves now.
    pub mine: Vec<ConvRow>,
    /// Buyers waiting in the user's groups, in serving order.
    pub queue: Vec<ConvRow>,
    /// Conversations other agents serve (supervisors and the owner only).
    pub others: Vec<ConvRow>,
}

/// One conversation as the workspace shows it.
#[derive(Debug, Clone)]
pub struct ConvDetail {
    pub conv: Conversation,
    pub profile: BuyerProfile,
    /// The latest messages, oldest first.
    pub messages: Vec<Message>,
    /// KB answers for the buyer's latest message.
    pub assist: Vec<Assist>,
    pub assist_for: Option<String>,
    pub group_name: Option<String>,
    pub agent_name: Option<String>,
    /// The user serves it now.
    pub mine: bool,
    /// A supervisor (or the owner) looking at a conversation that is not theirs: they
    /// may barge in (强插) while an agent serves it, take it over, force-close it (强拆)
    /// and reassign it.
    pub oversee: bool,
    /// The user may write to the buyer now.
    pub can_reply: bool,
    /// The user may take it from the queue.
    pub can_take: bool,
}

impl Desk {
    fn visible_conv(&self, user: &User, id: ConvId) -> Result<(Conversation, Vec<Group>)> {
        let r = self.store.read()?;
        let conv = r.get_conv(id)?.ok_or(Error::NotFound)?;
        let groups = r.list_groups()?;
        if !may_see(user, &conv, &groups) {
            return Err(Error::Forbidden);
        }
        Ok((conv, groups))
    }

    /// The workspace lists for `user`.
    pub fn workspace(&self, user: &User) -> Result<Lists> {
        let r = self.store.read()?;
        let groups = r.list_groups()?;
        let names = self.user_names()?;
        let mut open = r.list_open_convs()?;
        open.sort_by_key(|c| {
            (
                std::cmp::Reverse(c.priority),
                std::cmp::Reverse(c.urgent),
                c.queued_at.unwrap_or(c.created_at),
                c.id,
            )
        });
        let mut lists = Lists::default();
        for conv in open {
            let list = match conv.state {
                ConvState::Human if conv.agent == Some(user.id) => &mut lists.mine,
                ConvState::Queued if may_see(user, &conv, &groups) => &mut lists.queue,
                ConvState::Human if matches!(user.role, Role::Owner | Role::Supervisor) => {
                    &mut lists.others
                }
                _ => continue,
            };
            let Some(buyer) = r.get_buyer(conv.buyer)? else {
                continue;
            };
            let recent = r.messages_after(conv.id, conv.next_seq.saturating_sub(30), 30)?;
            // The buyer was handed to humans at the start of this run of queue and
            // agents (a re-queue when an agent went offline does not move it), or, for
            // older conversations, at the queue or the assignment.
            let handed_over = conv
                .handed_over_at()
                .or(conv.queued_at)
                .or(conv.assigned_at);
            let unanswered = unanswered(&recent, handed_over);
            let answered = conv
                .last_agent_at
                .zip(handed_over)
                .is_some_and(|(said, handed)| said >= handed);
            let waiting_since = match conv.state {
                ConvState::Queued => conv.queued_at,
                _ => unanswered
                    .last()
                    .map(|m| m.at)
                    .or(handed_over.filter(|_| !answered)),
            };
            list.push(ConvRow {
                unread: unanswered.len(),
                waiting_since,
                // The service's own notices ("已为您接通…") say nothing about the buyer;
                // what the bot or an agent said is marked, so it never reads as the
                // buyer's words.
                last_text: recent
                    .iter()
                    .rfind(|m| m.from != Sender::System)
                    .map(|m| {
                        let line = m.text.lines().next().unwrap_or_default();
                        match m.from {
                            Sender::Agent { .. } => format!("客服：{line}"),
                            Sender::Bot => format!("机器人：{line}"),
                            _ => line.to_string(),
                        }
                    })
                    .unwrap_or_default(),
                agent_name: conv.agent.and_then(|a| names.get(&a).cloned()),
                conv,
                buyer,
            });
        }
        Ok(lists)
    }

    /// Nicknames of every user, by login name (质检 and the metrics know agents by
    /// login name; pages show the nickname).
    pub fn nicknames_by_login(&self) -> Result<std::collections::HashMap<String, String>> {
        Ok(self
            .store
            .read()?
            .list_users()?
            .into_iter()
            .map(|u| (u.name, u.nickname))
            .collect())
    }

    /// Nicknames of every user, by id.
    pub fn user_names(&self) -> Result<std::collections::HashMap<UserId, String>> {
        Ok(self
            .store
            .read()?
            .list_users()?
            .into_iter()
            .map(|u| (u.id, u.nickname))
            .collect())
    }

    /// One conversation for `user` (403 when it is not theirs to see).
    pub fn conv_detail(&self, user: &User, id: ConvId) -> Result<ConvDetail> {
        let (conv, groups) = self.visible_conv(user, id)?;
        let profile = self.buyer_profile(conv.buyer)?;
        let r = self.store.read()?;
        let messages = r.messages_after(
            conv.id,
            conv.next_seq.saturating_sub(HISTORY as u64 + 1),
            HISTORY,
        )?;
        // Help with the buyer's latest question: "转人工" or "谢谢" after it ask nothing.
        let settings = r.get_settings()?;
        let mut ctx = Ctx::new(&settings, self.clock.now());
        ctx.product = conv.product.as_deref();
        ctx.orders = &profile.orders;
        ctx.has_order = profile.orders.iter().any(|o| o.is_after_sale());
        let bot = self.bot().ok();
        let mut latest = None;
        let mut assist = Vec::new();
        for m in messages.iter().rev().filter(|m| m.from == Sender::Buyer) {
            latest.get_or_insert_with(|| m.text.clone());
            let Some(bot) = &bot else { break };
            if let Some(found) = bot.assist(&ctx, &m.text, ASSISTS) {
                latest = Some(m.text.clone());
                assist = found;
                break;
            }
        }
        let names = self.user_names()?;
        let mine = conv.state == ConvState::Human && conv.agent == Some(user.id);
        let oversee = matches!(user.role, Role::Owner | Role::Supervisor)
            && !mine
            && conv.state != ConvState::Closed;
        let can_reply = mine || (oversee && conv.state == ConvState::Human);
        let can_take = conv.state == ConvState::Queued && user.role != Role::Trainer;
        Ok(ConvDetail {
            group_name: conv
                .group
                .and_then(|g| groups.iter().find(|x| x.id == g))
                .map(|g| g.name.clone()),
            agent_name: conv.agent.and_then(|a| names.get(&a).cloned()),
            assist_for: latest,
            assist,
            messages,
            profile,
            mine,
            oversee,
            can_reply,
            can_take,
            conv,
        })
    }

    /// Messages of a conversation `user` may see, after `after`.
    pub fn conv_messages(&self, user: &User, id: ConvId, after: u64) -> Result<Vec<Message>> {
        self.visible_conv(user, id)?;
        Ok(self.store.read()?.messages_after(id, after, HISTORY)?)
    }

    /// A conversation's whole record, read-only: for those who may see it in the
    /// workspace, and for trainers (who learn from every conversation but serve none).
    pub fn transcript(&self, user: &User, id: ConvId) -> Result<(Conversation, Vec<Message>)> {
        let r = self.store.read()?;
        // Good examples (训练场) are for every colleague to learn from.
        let example = r.sample(id)?.is_some_and(|s| s.example);
        let conv = match user.role {
            Role::Trainer => r.get_conv(id)?.ok_or(Error::NotFound)?,
            _ if example => r.get_conv(id)?.ok_or(Error::NotFound)?,
            _ => self.check_visible(user, id)?,
        };
        drop(r);
        let msgs = self.store.read()?.messages_after(id, 0, usize::MAX)?;
        Ok((conv, msgs))
    }

    /// The conversation, or 403 when `user` may not see it; checked before every
    /// workspace action, so an agent of another group is forbidden, not merely refused.
    pub fn check_visible(&self, user: &User, id: ConvId) -> Result<Conversation> {
        self.visible_conv(user, id).map(|(conv, _)| conv)
    }

    /// Whether `user` may see conversation `id` (for live updates).
    pub fn can_see(&self, user: &User, id: ConvId) -> Result<bool> {
        // Called for every event on every open console: spare supervisors the read.
        match user.role {
            Role::Owner | Role::Supervisor => return Ok(true),
            Role::Trainer => return Ok(false),
            Role::Agent => {}
        }
        match self.visible_conv(user, id) {
            Ok(_) => Ok(true),
            Err(Error::Forbidden | Error::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Invites the buyer to rate now (at most once per conversation).
    pub async fn invite_rating(&self, user: &User, conv: ConvId) -> Result<()> {
        self.visible_conv(user, conv)?;
        let user = user.clone();
        self.act(conv, move |c: &mut Changes, conv| {
            if conv.agent != Some(user.id) && !matches!(user.role, Role::Owner | Role::Supervisor) {
                return Err(store::Error::Conflict("这个会话不归您接待".into()));
            }
            if conv.state == ConvState::Closed {
                return Err(store::Error::Conflict("会话已结束".into()));
            }
            if !c.invite(conv)? {
                return Err(store::Error::Conflict("这位买家已被邀请过评价".into()));
            }
            c.say(conv, Sender::System, INVITE_TEXT, None, None)?;
            Ok(())
        })
        .await
    }

    /// The quick replies `user` can use: the team's, then their own, each by key.
    pub fn quick_replies(&self, user: &User) -> Result<Vec<QuickReply>> {
        let mut all: Vec<QuickReply> = self
            .store
            .read()?
            .list_quick_replies()?
            .into_iter()
            .filter(|q| q.owner.is_none() || q.owner == Some(user.id))
            .collect();
        all.sort_by(|a, b| {
            (a.owner.is_some(), &a.key, a.id).cmp(&(b.owner.is_some(), &b.key, b.id))
        });
        Ok(all)
    }

    /// The user's quick replies with their `{{variables}}` filled for the conversation
    /// open (its product and the buyer's orders), as the agent will send them.
    pub fn quick_replies_for(
        &self,
        user: &User,
        open: Option<&ConvDetail>,
    ) -> Result<Vec<QuickReply>> {
        let mut all = self.quick_replies(user)?;
        if !all.iter().any(|q| q.text.contains("{{")) {
            return Ok(all);
        }
        let settings = self.settings()?;
        let bot = self.bot().ok();
        let product = open
            .and_then(|d| d.conv.product.as_deref())
            .and_then(|sku| bot.as_ref()?.product(sku));
        let orders = open
            .map(|d| d.profile.orders.as_slice())
            .unwrap_or_default();
        let about = crate::bot::compose::orders_about("", orders);
        for q in &mut all {
            q.text = crate::bot::compose::fill(&q.text, &settings, product.as_ref(), &about);
        }
        Ok(all)
    }

    /// Adds or changes a quick reply. `team` replies are for supervisors and the owner;
    /// anyone else's become their own. A reply may only be changed by whoever may add it.
    pub async fn save_quick_reply(
        &self,
        user: &User,
        id: u64,
        team: bool,
        key: &str,
        text: &str,
    ) -> Result<QuickReply> {
        if team && !matches!(user.role, Role::Owner | Role::Supervisor) {
            return Err(Error::Forbidden);
        }
        let q = QuickReply {
            id,
            owner: (!team).then_some(user.id),
            key: key.trim().to_string(),
            text: text.trim().to_string(),
        };
        let mut inv = q.validate().err().unwrap_or_default();
        if let Some(why) = crate::model::settings::unknown_variables(&q.text) {
            inv.add("text", why);
        }
        inv.into_result()?;
        let audit = self.audit(
            &Actor::user(user),
            "quick_reply.save",
            &q.key,
            if team { "团队" } else { "个人" }.into(),
        );
        let user = user.clone();
        self.store
            .write(move |tx| {
                let all = tx.list_quick_replies()?;
                if id != 0 {
                    let old = all
                        .iter()
                        .find(|x| x.id == id)
                        .ok_or(store::Error::NotFound)?;
                    if !may_edit(&user, old) {
                        return Err(store::Error::Conflict("不能修改别人的快捷短语".into()));
                    }
                }
                let same_owner = all.iter().filter(|x| x.owner == q.owner && x.id != id);
                // A personal key may not hide a team one either: the agent sees both.
                let clash = all
                    .iter()
                    .filter(|x| x.id != id && (x.owner == q.owner || x.owner.is_none()))
                    .any(|x| x.key == q.key);
                if clash {
                    return Err(store::Error::Conflict(format!("简码“{}”已经在用了", q.key)));
                }
                if id == 0 && same_owner.count() >= MAX_QUICK {
                    return Err(store::Error::Conflict(format!(
                        "最多 {MAX_QUICK} 条快捷短语"
                    )));
                }
                if team {
                    tx.append_audit(&audit)?;
                }
                tx.put_quick_reply(q.clone())
            })
            .await
            .map_err(conflict)
    }

    /// Deletes a quick reply the user may edit.
    pub async fn delete_quick_reply(&self, user: &User, id: u64) -> Result<()> {
        let user = user.clone();
        self.store
            .write(move |tx| {
                let all = tx.list_quick_replies()?;
                let old = all
                    .iter()
                    .find(|x| x.id == id)
                    .ok_or(store::Error::NotFound)?;
                if !may_edit(&user, old) {
                    return Err(store::Error::Conflict("不能删除别人的快捷短语".into()));
                }
                tx.delete_quick_reply(id).map(drop)
            })
            .await
            .map_err(conflict)
    }
}

/// Team replies are edited by supervisors and the owner; personal ones by their owner.
fn may_edit(user: &User, q: &QuickReply) -> bool {
    match q.owner {
        None => matches!(user.role, Role::Owner | Role::Supervisor),
        Some(o) => o == user.id,
    }
}

/// The buyer's messages no agent has answered yet, newest first: back to the last
/// agent message, and none from before `since`, the handover (what the bot answered
/// before it does not wait for a human). Notices and bot messages in between are
/// passed over.
fn unanswered(recent: &[Message], since: Option<DateTime<Utc>>) -> Vec<&Message> {
    recent
        .iter()
        .rev()
        .take_while(|m| !matches!(m.from, Sender::Agent { .. }) && since.is_none_or(|s| m.at >= s))
        .filter(|m| m.from == Sender::Buyer)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BuyerId, GroupId};

    fn user(id: u64, role: Role) -> User {
        User {
            id: UserId(id),
            name: format!("u{id}"),
            nickname: format!("u{id}"),
            role,
            disabled: false,
            password_hash: String::new(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn unanswered_buyer_messages_pass_over_notices_and_stop_at_an_agent_or_the_handover() {
        let t0 = Utc::now();
        let agent = || Sender::Agent {
            id: UserId(2),
            name: "小美".into(),
        };
        let say = |seq: u64, secs: i64, from: Sender| Message {
            conv: ConvId(1),
            seq,
            at: t0 + chrono::Duration::seconds(secs),
            from,
            text: format!("m{seq}"),
            client_msg_id: None,
            bot: None,
        };
        let seqs = |v: Vec<&Message>| v.iter().map(|m| m.seq).collect::<Vec<_>>();
        let handed = Some(t0 + chrono::Duration::seconds(10));
        // Bot talk, then "我要投诉" hands the buyer over with two notices.
        let mut log = vec![
            say(1, 0, Sender::Buyer),
            say(2, 0, Sender::Bot),
            say(3, 10, Sender::Buyer),
            say(4, 10, Sender::Bot),
            say(5, 10, Sender::System),
            say(6, 12, Sender::System),
        ];
        assert_eq!(seqs(unanswered(&log, handed)), [3]);
        log.push(say(7, 20, Sender::Buyer));
        assert_eq!(seqs(unanswered(&log, handed)), [7, 3]);
        log.push(say(8, 30, agent()));
        assert!(unanswered(&log, handed).is_empty());
        log.push(say(9, 40, Sender::Buyer));
        log.push(say(10, 41, Sender::Buyer));
        assert_eq!(seqs(unanswered(&log, handed)), [10, 9]);
        // Without a handover time, back to the last agent message.
        assert_eq!(seqs(unanswered(&log, None)), [10, 9]);
    }

    #[test]
    fn who_sees_which_conversation() {
        let groups = vec![Group {
            id: GroupId(1),
            name: "售后组".into(),
            members: vec![UserId(2)],
            scenes: vec![],
            regions: vec![],
            is_default: false,
        }];
        let conv = |group: Option<u64>, agent: Option<u64>, last: Option<u64>| {
            let mut c = Conversation::start(ConvId(9), BuyerId(1), "web", 0, Utc::now());
            c.group = group.map(GroupId);
            c.agent = agent.map(UserId);
            c.last_agent = last.map(UserId);
            c
        };
        // (user, role, group, agent, last agent) → sees
        let table = [
            (2, Role::Agent, Some(1), None, None, true), // member of the group
            (3, Role::Agent, Some(1), None, None, false), // not a member
            (3, Role::Agent, Some(1), Some(3), None, true), // serves it (transferred to)
            (3, Role::Agent, Some(1), None, Some(3), true), // served it before
            (3, Role::Agent, None, None, None, true),    // no group: everyone's
            (4, Role::Supervisor, Some(1), None, None, true),
            (5, Role::Owner, Some(1), None, None, true),
            (6, Role::Trainer, None, None, None, false),
        ];
        for (id, role, group, agent, last, sees) in table {
            assert_eq!(
                may_see(&user(id, role), &conv(group, agent, last), &groups),
                sees,
                "user {id} {role:?} group {group:?} agent {agent:?} last {last:?}"
            );
        }
    }
}
