//! 质检: every conversation is inspected when it closes (and red lines as they are
//! written, with a live alert to supervisors). The rules are pure functions of the
//! conversation's messages and state changes.

use super::{Actor, Desk, Error, Result};
use crate::bot::intents::{Intent, detect};
use crate::bot::normalize::{normalize, simplify};
use crate::metrics::{FAST_SECS, HUMAN_SECS, REJECT_RUN, Shop, Timeline, agent_login};
use crate::model::{
    ConvId, ConvState, Conversation, Finding, Invalid, Message, QaRule, QaSettings, RubricItem,
    Sample, Score, Sender, UserId,
};
use crate::store::prelude::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Spellings that dodge a red line (加V信, 加我薇信, 加个扣扣), and what they stand for,
/// in order (加我V信 → 加V信 → 加微信). Bare "wx" and "vx" are not folded: "微信支付"
/// must not become a red line because "vx" is one.
const EVASIONS: &[(&str, &str)] = &[
    ("加我", "加"),
    ("加个", "加"),
    ("v信", "微信"),
    ("薇信", "微信"),
    ("威信", "微信"),
    ("维信", "微信"),
    ("徽信", "微信"),
    ("加wx", "加微信"),
    ("加vx", "加微信"),
    ("扣扣", "qq"),
    ("企鹅号", "qq"),
];

/// `text` as red lines are matched: normalized, without spaces, evasions spelled out.
fn red_line_form(text: &str) -> String {
    let mut out = normalize(text).replace(' ', "");
    for (dodge, word) in EVASIONS {
        out = out.replace(dodge, word);
    }
    out
}

/// Cuts text into words (the bot's dictionary: `Engine::cut`).
pub type Cut<'a> = &'a dyn Fn(&str) -> Vec<String>;

/// The red-line words in `text` (case, width and 繁/简 folded; 加V信 is 加微信). With
/// `cut`, only whole words count: 滚 is not in 滚筒洗衣机, 垃圾 not in 垃圾袋, 有病
/// not in 没有病毒.
pub fn red_lines_in<'a>(text: &str, rules: &'a QaSettings, cut: Option<Cut>) -> Vec<&'a str> {
    let hay = red_line_form(text);
    let words = cut.map(|c| c(&hay));
    // 加微信 and 加我微信 are one word once evasions are spelled out: named once.
    let mut seen = std::collections::HashSet::new();
    rules
        .red_lines
        .iter()
        .filter(|w| {
            let w = red_line_form(w);
            if w.is_empty() || !hay.contains(&w) || !seen.insert(w.clone()) {
                return false;
            }
            match (cut, &words) {
                (Some(c), Some(words)) => {
                    let run = c(&w);
                    !run.is_empty() && words.windows(run.len()).any(|win| win == run)
                }
                _ => true,
            }
        })
        .map(String::as_str)
        .collect()
}

fn finding(
    conv: ConvId,
    rule: QaRule,
    agent: Option<String>,
    seq: Option<u64>,
    at: DateTime<Utc>,
    detail: String,
) -> Finding {
    Finding {
        conv,
        rule,
        severity: rule.severity(),
        agent,
        seq,
        at,
        detail,
    }
}

/// Everything the rules find in a conversation. `t` is its timeline (agents by login
/// name), `msgs` its messages in order, `logins` the agents' login names by id.
pub fn inspect(
    conv: &Conversation,
    t: &Timeline,
    msgs: &[Message],
    logins: &HashMap<UserId, String>,
    rules: &QaSettings,
    shop: Shop,
    cut: Option<Cut>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let agent_of = |m: &Message| agent_login(&m.from, logins);
    // Who a buyer was left waiting by: the last agent given the conversation (none when
    // it never left the queue).
    let assigned = conv.last_agent.and_then(|a| logins.get(&a).cloned());
    // Red lines.
    for m in msgs
        .iter()
        .filter(|m| matches!(m.from, Sender::Agent { .. }))
    {
        let hits = red_lines_in(&m.text, rules, cut);
        if !hits.is_empty() {
            out.push(finding(
                conv.id,
                QaRule::RedLine,
                agent_of(m),
                Some(m.seq),
                m.at,
                format!("使用了红线词：{}", hits.join("、")),
            ));
        }
    }
    // When it closed: a buyer left unanswered because it closed at once is not the
    // agent's to answer.
    let closed = t
        .modes
        .iter()
        .rfind(|(_, s)| *s == ConvState::Closed)
        .map(|(at, _)| *at);
    // The first human answer after the hand-over.
    if let Some(moved) = t.transferred_at() {
        let first = msgs
            .iter()
            .find(|m| m.at >= moved && matches!(m.from, Sender::Agent { .. }));
        match first {
            Some(m) if (m.at - moved).num_seconds() > FAST_SECS => {
                let waited = (m.at - moved).num_seconds();
                // The agent answers for the time since the buyer reached them; time in
                // the queue, with nobody free or online, is the shop's, not theirs.
                let reached = t
                    .modes
                    .iter()
                    .rfind(|(at, s)| *s == ConvState::Human && *at <= m.at)
                    .map_or(moved, |(at, _)| (*at).max(moved));
                let own = (m.at - reached).num_seconds();
                let (agent, detail) = if own > FAST_SECS {
                    (agent_of(m), format!("转人工后 {waited} 秒才首次回复"))
                } else {
                    (
                        None,
                        format!(
                            "转人工后 {waited} 秒才首次回复（排队等客服 {} 秒，接入后 {own} 秒回复）",
                            waited - own
                        ),
                    )
                };
                out.push(finding(
                    conv.id,
                    QaRule::SlowFirst,
                    agent,
                    Some(m.seq),
                    m.at,
                    detail,
                ))
            }
            None => {
                // Closed within 30 s of reaching an agent (a supervisor's 强拆, the
                // buyer leaving): the agent had no time to answer.
                let reached = t
                    .modes
                    .iter()
                    .rfind(|(_, s)| *s == ConvState::Human)
                    .map(|(at, _)| *at);
                let (agent, detail) = match (reached, closed) {
                    (Some(r), Some(c)) if c >= r && (c - r).num_seconds() <= FAST_SECS => (
                        None,
                        format!(
                            "转人工后没有客服回复（接入后 {} 秒会话即结束）",
                            (c - r).num_seconds()
                        ),
                    ),
                    _ => (assigned.clone(), "转人工后没有客服回复".to_string()),
                };
                out.push(finding(
                    conv.id,
                    QaRule::SlowFirst,
                    agent,
                    None,
                    moved,
                    detail,
                ))
            }
            _ => {}
        }
    }
    // Slow human replies in staffed hours.
    for turn in t.turns().iter().filter(|turn| turn.human) {
        let staffed = shop
            .staffed
            .contains(turn.start.with_timezone(&shop.tz).naive_local().time());
        if !staffed {
            continue;
        }
        match (&turn.agent, &turn.answered) {
            (Some((at, name)), _) if (*at - turn.start).num_seconds() > HUMAN_SECS => {
                out.push(finding(
                    conv.id,
                    QaRule::SlowReply,
                    Some(name.clone()),
                    None,
                    *at,
                    format!("买家等了 {} 秒才得到回复", (*at - turn.start).num_seconds()),
                ))
            }
            // Closed before 3 minutes were up ("好的" and the agent closed): no reply was
            // late. A complaint left so is its own rule.
            (None, None)
                if conv.state == ConvState::Closed
                    && closed.is_some_and(|c| (c - turn.start).num_seconds() > HUMAN_SECS) =>
            {
                out.push(finding(
                    conv.id,
                    QaRule::SlowReply,
                    assigned.clone(),
                    None,
                    turn.start,
                    "买家的消息没有得到人工回复".into(),
                ))
            }
            _ => {}
        }
    }
    // Runs of agent messages without a buyer reply.
    let mut run: Vec<&Message> = Vec::new();
    let flush = |run: &mut Vec<&Message>, out: &mut Vec<Finding>| {
        if run.len() >= REJECT_RUN {
            let last = run[run.len() - 1];
            out.push(finding(
                conv.id,
                QaRule::AgentRun,
                agent_of(last),
                Some(last.seq),
                last.at,
                format!("连续 {} 条客服消息没有买家回复", run.len()),
            ));
        }
        run.clear();
    };
    for m in msgs {
        match m.from {
            Sender::Agent { .. } => run.push(m),
            Sender::Buyer => flush(&mut run, &mut out),
            _ => {}
        }
    }
    flush(&mut run, &mut out);
    // Complaints no human answered.
    for (i, m) in msgs.iter().enumerate() {
        if m.from != Sender::Buyer
            || detect(&simplify(&m.text), &normalize(&m.text)) != Some(Intent::Complaint)
        {
            continue;
        }
        let answered = msgs[i + 1..]
            .iter()
            .any(|x| matches!(x.from, Sender::Agent { .. }));
        if !answered {
            // Left so by the agent who had the buyer then or took them after.
            let served = t
                .modes
                .iter()
                .any(|(at, s)| *s == ConvState::Human && *at >= m.at)
                || t.mode_at(m.at) == ConvState::Human;
            out.push(finding(
                conv.id,
                QaRule::NegativeUnanswered,
                assigned.clone().filter(|_| served),
                Some(m.seq),
                m.at,
                format!("买家说：“{}”", m.text.chars().take(60).collect::<String>()),
            ));
        }
    }
    // Handed over twice or more: into the queue, or from one agent straight to another.
    let passes: Vec<DateTime<Utc>> = t
        .modes
        .iter()
        .enumerate()
        .filter(|(i, (_, s))| {
            *s == ConvState::Queued
                || (*s == ConvState::Human && *i > 0 && t.modes[i - 1].1 == ConvState::Human)
        })
        .map(|(_, (at, _))| *at)
        .collect();
    if let Some(at) = passes.get(1) {
        out.push(finding(
            conv.id,
            QaRule::TransferredTwice,
            None,
            None,
            *at,
            format!("转接 {} 次", passes.len()),
        ));
    }
    out.sort_by_key(|f| f.at);
    out
}

/// Findings of one agent, or of the shop, counted by rule.
pub type RuleCounts = Vec<(QaRule, usize)>;

impl Desk {
    /// Inspects conversation `id` now and keeps what the rules find (replacing what an
    /// earlier inspection found).
    pub async fn inspect(&self, id: ConvId) -> Result<Vec<Finding>> {
        let r = self.store.read()?;
        let conv = r.get_conv(id)?.ok_or(Error::NotFound)?;
        let msgs = r.messages_after(id, 0, usize::MAX)?;
        let logins: HashMap<_, _> = r
            .list_users()?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        let rules = r.qa_settings()?;
        let settings = r.get_settings()?;
        drop(r);
        let t = Timeline::build(&conv, &msgs, &[], &logins);
        let shop = Shop {
            tz: settings.tz(),
            staffed: settings.staffed,
        };
        let bot = self.bot().ok();
        let cut = |text: &str| bot.as_ref().map(|b| b.cut(text)).unwrap_or_default();
        let found = inspect(
            &conv,
            &t,
            &msgs,
            &logins,
            &rules,
            shop,
            bot.as_ref().map(|_| &cut as Cut),
        );
        let kept = found.clone();
        self.store
            .write(move |tx| tx.put_findings(id, &kept))
            .await?;
        Ok(found)
    }

    /// Inspects every conversation that closes, from `rx` (`Bus::subscribe_closes`),
    /// until the bus closes (the server runs this in the background).
    pub async fn inspect_closes(self, mut rx: tokio::sync::broadcast::Receiver<ConvId>) {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok(conv) => {
                    if let Err(err) = self.inspect(conv).await {
                        tracing::warn!(conv = conv.0, error = %err, "inspection failed");
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "the inspector fell behind; some closes were not inspected"
                    )
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// The inspection rules' editable part.
    pub fn qa_settings(&self) -> Result<QaSettings> {
        Ok(self.store.read()?.qa_settings()?)
    }

    /// Replaces the red-line words.
    pub async fn save_red_lines(&self, actor: &Actor, words: Vec<String>) -> Result<()> {
        let mut words: Vec<String> = words
            .into_iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        words.dedup();
        let mut inv = Invalid::default();
        if words.len() > 1000 || words.iter().any(|w| w.chars().count() > 20) {
            inv.add("red_lines", "最多 1000 个词，每个最多 20 个字");
        }
        inv.into_result()?;
        let audit = self.audit(
            actor,
            "qa.red_lines",
            "质检",
            format!("红线词 {} 个", words.len()),
        );
        let s = QaSettings {
            red_lines: words,
            ..self.qa_settings()?
        };
        self.store
            .write(move |tx| {
                tx.put_qa_settings(&s)?;
                tx.append_audit(&audit)
            })
            .await?;
        Ok(())
    }

    /// Replaces the rubric (`name=points` items) and the daily sample size.
    pub async fn save_rubric(
        &self,
        actor: &Actor,
        rubric: Vec<RubricItem>,
        daily_sample: u32,
    ) -> Result<()> {
        let mut inv = Invalid::default();
        if rubric.is_empty() || rubric.len() > 20 {
            inv.add("rubric", "评分项应有 1–20 项");
        }
        if rubric.iter().any(|i| {
            i.name.trim().is_empty()
                || i.name.chars().count() > 30
                || i.points == 0
                || i.points > 100
        }) {
            inv.add("rubric", "每项写成 名称=分值，名称最多 30 字，分值 1–100");
        }
        let mut names = std::collections::HashSet::new();
        if let Some(twice) = rubric.iter().find(|i| !names.insert(i.name.trim())) {
            inv.add("rubric", format!("评分项“{}”重复了", twice.name.trim()));
        }
        if daily_sample == 0 || daily_sample > 500 {
            inv.add("daily_sample", "每日抽检数应在 1–500 之间");
        }
        inv.into_result()?;
        let audit = self.audit(
            actor,
            "qa.rubric",
            "质检",
            format!("评分项 {} 项，每日抽检 {daily_sample} 个", rubric.len()),
        );
        let s = QaSettings {
            rubric,
            daily_sample,
            ..self.qa_settings()?
        };
        self.store
            .write(move |tx| {
                tx.put_qa_settings(&s)?;
                tx.append_audit(&audit)
            })
            .await?;
        Ok(())
    }

    /// Draws `day`'s sample: up to the daily number of random closed conversations
    /// started that day that an agent served (not drawn before). Returns how many
    /// were drawn.
    pub async fn draw_samples(&self, day: chrono::NaiveDate) -> Result<usize> {
        use rand::seq::SliceRandom;
        if day > self.today()? {
            let mut inv = Invalid::default();
            inv.add("day", "只能抽取今天及以前的会话");
            return Err(inv.into());
        }
        let settings = self.settings()?;
        let r = self.store.read()?;
        let want = r.qa_settings()?.daily_sample as usize;
        let key = day.format("%Y-%m-%d").to_string();
        let already = r.samples()?.iter().filter(|s| s.day == key).count();
        if already >= want {
            return Ok(0);
        }
        let mut pool: Vec<Sample> = crate::metrics::load::timelines(&r, day, day, settings.tz())?
            .into_iter()
            .filter(|t| t.closed())
            .filter_map(|t| {
                // The agent who finished it, as the buyer's rating is credited.
                let agent = t.agents().last().map(|a| a.to_string())?;
                Some(Sample {
                    conv: t.conv,
                    day: key.clone(),
                    agent,
                    score: None,
                    example: false,
                })
            })
            .filter(|s| r.sample(s.conv).ok().flatten().is_none())
            .collect();
        drop(r);
        pool.shuffle(&mut rand::rng());
        pool.truncate(want - already);
        let n = pool.len();
        self.store
            .write(move |tx| {
                for s in &pool {
                    tx.put_sample(s)?;
                }
                Ok(())
            })
            .await?;
        Ok(n)
    }

    /// Scores a drawn conversation against the rubric (points per item, in rubric
    /// order) and marks it as a good example or not.
    pub async fn score_sample(
        &self,
        user: &crate::model::User,
        conv: ConvId,
        points: &[u32],
        note: &str,
        example: bool,
    ) -> Result<Sample> {
        let r = self.store.read()?;
        let mut sample = r.sample(conv)?.ok_or(Error::NotFound)?;
        if let Some(done) = &sample.score {
            // A score is a record of who judged what: a second one would silently
            // replace it (and drop its 优秀案例 mark).
            let by = r
                .get_user_by_name(&done.by)?
                .map_or_else(|| done.by.clone(), |u| u.nickname);
            return Err(Error::Refused(format!(
                "这个会话已由 {by} 评分（{}/{}），不能再次评分",
                done.total, done.out_of
            )));
        }
        let rubric = r.qa_settings()?.rubric;
        drop(r);
        let mut inv = Invalid::default();
        if points.len() != rubric.len() {
            inv.add("points", "请为每个评分项打分");
        }
        for (item, p) in rubric.iter().zip(points) {
            if *p > item.points {
                inv.add("points", format!("{}最多 {} 分", item.name, item.points));
            }
        }
        if note.chars().count() > 500 {
            inv.add("note", "备注最多 500 字");
        }
        inv.into_result()?;
        sample.score = Some(Score {
            items: rubric
                .iter()
                .zip(points)
                .map(|(i, p)| (i.name.clone(), *p))
                .collect(),
            total: points.iter().sum(),
            out_of: rubric.iter().map(|i| i.points).sum(),
            note: note.trim().to_string(),
            by: user.name.clone(),
            at: self.clock.now(),
        });
        sample.example = example;
        let kept = sample.clone();
        self.store.write(move |tx| tx.put_sample(&kept)).await?;
        Ok(sample)
    }

    /// Every drawn sample, newest day first.
    pub fn samples(&self) -> Result<Vec<Sample>> {
        let mut v = self.store.read()?.samples()?;
        v.sort_by(|a, b| b.day.cmp(&a.day).then(b.conv.cmp(&a.conv)));
        Ok(v)
    }

    /// Average score per agent, as a percentage of the points possible, with the
    /// number of scored samples.
    pub fn qa_scores(&self) -> Result<HashMap<String, (f64, usize)>> {
        let mut sums: HashMap<String, (u64, u64, usize)> = HashMap::new();
        for s in self.store.read()?.samples()? {
            if let Some(score) = &s.score {
                let e = sums.entry(s.agent.clone()).or_default();
                e.0 += u64::from(score.total);
                e.1 += u64::from(score.out_of);
                e.2 += 1;
            }
        }
        Ok(sums
            .into_iter()
            .filter(|(_, (_, out_of, _))| *out_of > 0)
            .map(|(a, (t, o, n))| (a, (t as f64 * 100.0 / o as f64, n)))
            .collect())
    }

    /// The latest findings (at most `limit`), optionally of one rule or agent.
    pub fn findings(
        &self,
        rule: Option<QaRule>,
        agent: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Finding>> {
        let mut all: Vec<Finding> = self
            .store
            .read()?
            .recent_findings(50_000)?
            .into_iter()
            .filter(|f| rule.is_none_or(|r| f.rule == r))
            .filter(|f| agent.is_none_or(|a| f.agent.as_deref() == Some(a)))
            .collect();
        // Newest first by when it happened, not by conversation.
        all.sort_by_key(|f| std::cmp::Reverse(f.at));
        all.truncate(limit);
        Ok(all)
    }

    /// Findings per agent and rule, over the latest findings.
    pub fn findings_by_agent(&self) -> Result<Vec<(String, RuleCounts)>> {
        let mut by: HashMap<String, HashMap<QaRule, usize>> = HashMap::new();
        for f in self.store.read()?.recent_findings(50_000)? {
            if let Some(a) = f.agent {
                *by.entry(a).or_default().entry(f.rule).or_default() += 1;
            }
        }
        let mut out: Vec<(String, RuleCounts)> = by
            .into_iter()
            .map(|(a, m)| {
                let counts = QaRule::ALL
                    .iter()
                    .map(|r| (*r, m.get(r).copied().unwrap_or(0)))
                    .collect();
                (a, counts)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
