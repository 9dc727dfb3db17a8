//! 问答训练: the queue of buyer questions the bot could not settle, grouped, with the
//! agent's actual answer and the bot's guesses; the one-click ways out (add as a similar
//! phrasing, new entry, ignore); trainers' right/wrong marks on sampled bot answers.

use super::service::{answered_question, local_day};
use super::{Actor, Desk, Error, Result};
use crate::bot::Ctx;
use crate::bot::rank::dice;
use crate::model::{
    BotMark, ConvId, Invalid, KbEntry, Message, Sender, TrainReason, TrainStatus, TrainingItem,
    User,
};
use crate::store::prelude::*;
use crate::store::{self, WriteTx};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};

/// Open questions looked at when grouping (the newest).
const GROUPING_WINDOW: usize = 5000;
/// Two questions whose characters overlap this much (Dice) are one group.
const SAME_QUESTION: f32 = 0.8;

/// Similar open questions, shown as one row of the queue.
#[derive(Debug, Clone)]
pub struct TrainGroup {
    /// The newest question's text: what the row shows.
    pub text: String,
    /// The questions, newest first.
    pub items: Vec<TrainingItem>,
    /// Distinct texts, newest first.
    pub texts: Vec<String>,
    /// Why they came here (distinct reasons).
    pub reasons: Vec<TrainReason>,
    /// The bot's best guesses for it now and then: (entry id, question), best first;
    /// never an entry a trainer marked wrong for it.
    pub candidates: Vec<(String, String)>,
    /// Entries whose answer to it a trainer marked wrong (答案抽检): (id, question).
    pub wrong: Vec<(String, String)>,
    /// What an agent answered when a human took one of these questions.
    pub agent_answer: Option<String>,
    pub last_at: DateTime<Utc>,
}

impl TrainGroup {
    /// The item ids, comma-separated (the one-click forms carry them).
    pub fn ids(&self) -> String {
        self.items
            .iter()
            .map(|i| i.id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The training page's figures and rows.
#[derive(Debug, Clone)]
pub struct TrainingQueue {
    pub groups: Vec<TrainGroup>,
    /// Open questions (待处理).
    pub open: usize,
    /// Questions settled today (今日已清).
    pub cleared_today: u64,
}

/// Training questions to settle inside a KB write (see `Desk::save_entry_settling`).
pub struct Settling {
    ids: Vec<u64>,
    status: TrainStatus,
    entry: Option<String>,
    at: DateTime<Utc>,
    by: String,
    day: String,
}

impl Settling {
    /// Marks the still-open items among `ids` as settled.
    pub fn apply(&self, tx: &WriteTx) -> store::Result<usize> {
        let mut n = 0;
        for id in &self.ids {
            let Some(mut item) = tx.get_training(*id)? else {
                continue;
            };
            if item.status != TrainStatus::Open {
                continue;
            }
            item.status = self.status;
            item.entry = self.entry.clone();
            item.resolved_at = Some(self.at);
            item.resolved_by = Some(self.by.clone());
            tx.settle_training(&item, &self.day)?;
            n += 1;
        }
        Ok(n)
    }
}

/// One bot answer offered for marking: the buyer's question and the bot's reply.
#[derive(Debug, Clone)]
pub struct MarkSample {
    pub conv: ConvId,
    pub question: String,
    pub answer: Message,
    pub entry: Option<String>,
    pub mark: Option<bool>,
}

/// Parses `1,2,3` into ids (a bad id is a 400, not a guess).
pub fn parse_ids(s: &str) -> Result<Vec<u64>> {
    let ids: Result<Vec<u64>, _> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::parse)
        .collect();
    match ids {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => {
            let mut inv = Invalid::default();
            inv.add("ids", "没有选中要处理的问题");
            Err(inv.into())
        }
    }
}

fn chars(s: &str) -> HashSet<char> {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `group` over the newest `GROUPING_WINDOW` of `open` (oldest first, as stored).
fn group_newest(mut open: Vec<TrainingItem>) -> Vec<Vec<TrainingItem>> {
    if open.len() > GROUPING_WINDOW {
        open.drain(..open.len() - GROUPING_WINDOW);
    }
    group(open)
}

/// Groups open questions: the same normalized text, then texts whose characters
/// overlap almost completely. Biggest groups first, then the most recent.
pub fn group(mut items: Vec<TrainingItem>) -> Vec<Vec<TrainingItem>> {
    items.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    let mut exact: BTreeMap<String, Vec<TrainingItem>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for i in items {
        let key = i.norm.replace(' ', "");
        let key = if key.is_empty() { i.text.clone() } else { key };
        if !exact.contains_key(&key) {
            order.push(key.clone());
        }
        exact.entry(key).or_default().push(i);
    }
    type Group = (HashSet<char>, HashSet<char>, usize, Vec<TrainingItem>);
    let mut groups: Vec<Group> = Vec::new();
    for key in order {
        let members = exact.remove(&key).unwrap_or_default();
        let set = chars(&key);
        let named = named_chars(&key);
        let len = key.chars().count();
        let near = groups.iter_mut().find(|(s, n, l, _)| {
            let (a, b) = (len.min(*l) as f32, len.max(*l) as f32);
            (a / b >= SAME_QUESTION && dice(s, &set) >= SAME_QUESTION)
                || (named.len() >= 2 && *n == named)
        });
        match near {
            Some((_, _, _, g)) => g.extend(members),
            None => groups.push((set, named, len, members)),
        }
    }
    let mut out: Vec<Vec<TrainingItem>> = groups.into_iter().map(|(_, _, _, g)| g).collect();
    for g in &mut out {
        g.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    }
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(b[0].at.cmp(&a[0].at)));
    out
}

/// The characters that name what a question is about, without particles and the ways
/// of asking ("帽子能拆卸吗" and "帽子可以拆卸吗" both name 帽子拆卸).
fn named_chars(key: &str) -> HashSet<char> {
    let mut buf = [0u8; 4];
    key.chars()
        .filter(|c| !c.is_whitespace() && !"能可以会要吗呢吧么不".contains(*c))
        .filter(|c| !crate::bot::tokenize::is_stop(c.encode_utf8(&mut buf)))
        .collect()
}

/// What two questions have in common when they are the same question: their
/// normalized text without spaces.
fn same_question(text: &str) -> String {
    crate::bot::normalize::normalize(text).replace(' ', "")
}

/// The first agent message after `seq` in `msgs`.
fn agent_reply(msgs: &[Message], seq: u64) -> Option<String> {
    msgs.iter()
        .filter(|m| m.seq > seq)
        .find(|m| matches!(m.from, Sender::Agent { .. }))
        .map(|m| m.text.clone())
}

impl Desk {
    /// What settling `ids` with `status` (for `entry`) by `actor` means, now.
    pub fn settling(
        &self,
        actor: &Actor,
        ids: Vec<u64>,
        status: TrainStatus,
        entry: Option<&str>,
    ) -> Settling {
        let at = self.clock.now();
        let tz = self
            .settings()
            .map(|s| s.tz())
            .unwrap_or(chrono_tz::Asia::Shanghai);
        Settling {
            ids,
            status,
            entry: entry.map(String::from),
            at,
            by: actor.name.clone(),
            day: local_day(at, tz),
        }
    }

    /// Open questions asked on the shop's days `from..=to`, grouped as in the queue:
    /// (the newest wording, how many times), biggest first.
    pub fn open_questions_between(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        limit: usize,
    ) -> Result<Vec<(String, u64)>> {
        let tz = self.settings()?.tz();
        let mut open = self.store.read()?.open_training()?;
        open.retain(|i| (from..=to).contains(&i.at.with_timezone(&tz).date_naive()));
        Ok(group_newest(open)
            .into_iter()
            .take(limit)
            .map(|items| (items[0].text.clone(), items.len() as u64))
            .collect())
    }

    /// The training queue: at most `limit` groups, biggest first, with the figures.
    pub fn training_queue(&self, limit: usize) -> Result<TrainingQueue> {
        let settings = self.settings()?;
        let now = self.clock.now();
        let r = self.store.read()?;
        let open = r.open_training()?;
        let total = open.len();
        let cleared_today = r.cleared_on(&local_day(now, settings.tz()))?;
        let ctx = Ctx::new(&settings, now);
        let bot = self.bot.as_ref();
        let mut groups = Vec::new();
        for items in group_newest(open).into_iter().take(limit) {
            let text = items[0].text.clone();
            let mut texts: Vec<String> = Vec::new();
            let mut reasons = Vec::new();
            for i in &items {
                if !texts.contains(&i.text) {
                    texts.push(i.text.clone());
                }
                if !reasons.contains(&i.reason) {
                    reasons.push(i.reason);
                }
            }
            // Entries marked wrong for these questions are named, never suggested.
            let mut wrong: Vec<(String, String)> = Vec::new();
            for (id, _) in items
                .iter()
                .filter(|i| i.reason == TrainReason::Wrong)
                .flat_map(|i| i.candidates.iter())
            {
                if !wrong.iter().any(|(w, _)| w == id)
                    && let Some(e) = r.get_entry(id)?
                {
                    wrong.push((e.id, e.question));
                }
            }
            // The bot's guesses now (the KB may have grown), then those it made then.
            let mut candidates: Vec<(String, String)> = bot
                .map(|b| {
                    b.reply(&ctx, &text)
                        .candidates
                        .into_iter()
                        .map(|c| (c.id, c.question))
                        .collect()
                })
                .unwrap_or_default();
            for (id, _) in items
                .iter()
                .filter(|i| i.reason != TrainReason::Wrong)
                .flat_map(|i| i.candidates.iter())
            {
                if !candidates.iter().any(|(c, _)| c == id)
                    && let Some(e) = r.get_entry(id)?
                {
                    candidates.push((e.id, e.question));
                }
            }
            candidates.retain(|(id, _)| !wrong.iter().any(|(w, _)| w == id));
            candidates.truncate(3);
            let mut agent_answer = None;
            for i in items.iter().take(5) {
                let msgs = r.messages_after(i.conv, i.seq, 40)?;
                if let Some(a) = agent_reply(&msgs, i.seq) {
                    agent_answer = Some(a);
                    break;
                }
            }
            groups.push(TrainGroup {
                text,
                texts,
                reasons,
                candidates,
                wrong,
                agent_answer,
                last_at: items[0].at,
                items,
            });
        }
        Ok(TrainingQueue {
            groups,
            open: total,
            cleared_today,
        })
    }

    /// Open questions among `ids`, newest first (404 when none is open any more).
    pub fn open_training_items(&self, ids: &[u64]) -> Result<Vec<TrainingItem>> {
        let r = self.store.read()?;
        let mut items = Vec::new();
        for id in ids {
            if let Some(i) = r
                .get_training(*id)?
                .filter(|i| i.status == TrainStatus::Open)
            {
                items.push(i);
            }
        }
        if items.is_empty() {
            return Err(Error::NotFound);
        }
        items.sort_by_key(|i| std::cmp::Reverse(i.at));
        Ok(items)
    }

    /// The open training questions asked in one of `phrasings` (as the bot normalizes
    /// them).
    pub(super) fn open_questions_in<'p>(
        &self,
        phrasings: impl Iterator<Item = &'p str>,
    ) -> Result<Vec<u64>> {
        let wanted: HashSet<String> = phrasings.map(same_question).collect();
        Ok(self
            .store
            .read()?
            .open_training()?
            .into_iter()
            .filter(|i| wanted.contains(&same_question(&i.text)))
            .map(|i| i.id)
            .collect())
    }

    /// One click: the questions `ids` become similar phrasings of entry `entry_id`
    /// (answerable at once) and leave the queue.
    pub async fn train_add_phrasing(
        &self,
        actor: &Actor,
        ids: &[u64],
        entry_id: &str,
    ) -> Result<KbEntry> {
        let items = self.open_training_items(ids)?;
        // By id, or by its standard question (picked from the page's list).
        let r = self.store.read()?;
        let found = match r.get_entry(entry_id)? {
            Some(e) => Some(e),
            None => r
                .list_entries()?
                .into_iter()
                .find(|e| e.question == entry_id),
        };
        drop(r);
        let mut entry = found.ok_or_else(|| {
            Error::Invalid(Invalid::general(format!(
                "知识库里没有编号或标准问题为「{entry_id}」的问题，请从列表中选择"
            )))
        })?;
        for i in &items {
            if i.text != entry.question && !entry.similar.contains(&i.text) {
                entry.similar.push(i.text.clone());
            }
        }
        let ids = items.iter().map(|i| i.id).collect();
        self.save_entry_settling(actor, entry, Some((ids, TrainStatus::Added)))
            .await
    }

    /// A new entry made from training questions: stored, and the questions settled.
    pub async fn train_create_entry(
        &self,
        actor: &Actor,
        ids: &[u64],
        entry: KbEntry,
    ) -> Result<KbEntry> {
        self.create_entry(actor, entry, Some((ids.to_vec(), TrainStatus::Created)))
            .await
    }

    /// One click: the questions `ids` are not worth an entry.
    pub async fn train_ignore(&self, actor: &Actor, ids: &[u64]) -> Result<usize> {
        let items = self.open_training_items(ids)?;
        let s = self.settling(
            actor,
            items.iter().map(|i| i.id).collect(),
            TrainStatus::Ignored,
            None,
        );
        Ok(self.store.write(move |tx| s.apply(tx)).await?)
    }

    /// How many questions wait in the training queue (待处理).
    pub fn open_training_count(&self) -> Result<u64> {
        Ok(self.store.read()?.open_training_count()?)
    }

    /// Recently settled questions, newest first.
    pub fn settled_training(&self, limit: usize) -> Result<Vec<TrainingItem>> {
        Ok(self.store.read()?.settled_training(limit)?)
    }

    /// Bot answers to mark: from the latest conversations, at most `limit` answers
    /// (entry answers, unmarked first), each with the buyer's question before it.
    pub fn mark_samples(&self, limit: usize) -> Result<Vec<MarkSample>> {
        use rand::seq::SliceRandom;
        let r = self.store.read()?;
        let mut convs = r.recent_conv_ids(500)?;
        convs.shuffle(&mut rand::rng());
        let mut out = Vec::new();
        for conv in convs {
            let msgs = r.messages_after(conv, 0, 200)?;
            let mut question: Option<&Message> = None;
            for m in &msgs {
                match &m.from {
                    Sender::Buyer => question = Some(m),
                    Sender::Bot => {
                        let Some(meta) = m.bot.as_ref().filter(|b| b.entry.is_some()) else {
                            continue;
                        };
                        let Some(q) = question.take() else { continue };
                        let mark = r.bot_mark(conv, m.seq)?.map(|k| k.right);
                        if mark.is_none() {
                            out.push(MarkSample {
                                conv,
                                question: q.text.clone(),
                                answer: m.clone(),
                                entry: meta.entry.clone(),
                                mark,
                            });
                        }
                        // One answer per conversation: a sample across buyers.
                        break;
                    }
                    _ => {}
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// A trainer marks the bot message `seq` of `conv` as right or wrong.
    pub async fn mark_bot_answer(
        &self,
        user: &User,
        conv: ConvId,
        seq: u64,
        right: bool,
    ) -> Result<()> {
        let r = self.store.read()?;
        // The answer and, before it, the buyer's question.
        let recent = r.messages_after(conv, seq.saturating_sub(21), 21)?;
        let msg = recent
            .iter()
            .find(|m| m.seq == seq)
            .ok_or(Error::NotFound)?;
        let Some(meta) = msg.bot.as_ref().filter(|_| msg.from == Sender::Bot) else {
            return Err(Error::Refused("只能标注机器人的回答".into()));
        };
        let now = self.clock.now();
        // A wrong answer sends the buyer's question to 问答训练, to be fixed there; a
        // mark changed back to right takes it out again.
        let question = recent
            .iter()
            .rfind(|m| m.seq < seq && m.from == Sender::Buyer);
        // The question may be queued already (the bot missed it before, or the buyer
        // asked for a human after the answer): never twice.
        let queued: Vec<TrainingItem> = match question {
            Some(q) => r
                .open_training()?
                .into_iter()
                .filter(|i| i.conv == conv && i.seq == q.seq)
                .collect(),
            None => Vec::new(),
        };
        drop(r);
        let enqueue = question
            .filter(|_| !right && queued.is_empty())
            .map(|q| answered_question(now, conv, q, TrainReason::Wrong, meta));
        let marked_wrong: Vec<u64> = queued
            .iter()
            .filter(|i| i.reason == TrainReason::Wrong)
            .map(|i| i.id)
            .collect();
        let withdraw = right
            .then(|| self.settling(&Actor::user(user), marked_wrong, TrainStatus::Ignored, None));
        let mark = BotMark {
            conv,
            seq,
            entry: meta.entry.clone(),
            right,
            by: user.id,
            by_name: user.name.clone(),
            at: now,
        };
        self.store
            .write(move |tx| {
                tx.put_bot_mark(&mark)?;
                if let Some(item) = &enqueue {
                    tx.add_training(item.clone())?;
                }
                if let Some(w) = &withdraw {
                    w.apply(tx)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// The bot's accuracy from trainers' marks: (right, marked).
    pub fn bot_accuracy(&self) -> Result<(usize, usize)> {
        let marks = self.store.read()?.bot_marks()?;
        Ok((marks.iter().filter(|m| m.right).count(), marks.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(id: u64, text: &str, norm: &str, minute: u32) -> TrainingItem {
        TrainingItem {
            id,
            at: Utc.with_ymd_and_hms(2026, 11, 22, 2, minute, 0).unwrap(),
            conv: ConvId(id),
            seq: 1,
            text: text.into(),
            norm: norm.into(),
            reason: TrainReason::None,
            candidates: vec![],
            status: TrainStatus::Open,
            entry: None,
            resolved_at: None,
            resolved_by: None,
        }
    }

    #[test]
    fn similar_questions_group_and_the_biggest_group_comes_first() {
        let groups = group(vec![
            item(1, "可以刻字吗", "可以刻字吗", 1),
            item(2, "能不能开专票", "能不能开专票", 2),
            item(3, "可以刻字吗？", "可以刻字吗", 3),
            item(4, "可以刻字么吗", "可以刻字么吗", 4),
            item(5, "支持货到付款吗", "支持货到付款吗", 5),
            // A review found these two apart.
            item(6, "帽子能拆卸吗", "帽子能拆卸吗", 6),
            item(7, "帽子可以拆卸吗", "帽子可以拆卸吗", 7),
        ]);
        let texts: Vec<Vec<u64>> = groups
            .iter()
            .map(|g| g.iter().map(|i| i.id).collect())
            .collect();
        assert_eq!(texts[0], vec![4, 3, 1], "same words, newest first");
        assert_eq!(texts[1], vec![7, 6], "the same thing asked another way");
        assert_eq!(groups.len(), 4);
        assert_eq!(texts[2], vec![5], "then the most recent single");
    }

    #[test]
    fn ids_parse_or_fail_clearly() {
        assert_eq!(parse_ids("3, 1,2").unwrap(), vec![3, 1, 2]);
        assert!(parse_ids("").is_err());
        assert!(parse_ids("1,x").is_err());
    }
}
