//! 数据看板's numbers: each day's tallies (kept once a past day's conversations are all
//! closed, so a month of history is read, not recomputed), merged over the chosen
//! range, for the whole shop or, for an agent, for their own conversations only. Also
//! the shop's targets.

use super::{Actor, Desk, Error, Result};
use crate::metrics::{DayTally, Shop, Tally, load};
use crate::model::{Invalid, Role, ShopSettings, Targets, User};
use crate::store::prelude::*;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Longest range the dashboard covers, in days.
pub const MAX_DAYS: i64 = 366;

/// The tallies of a date range.
#[derive(Debug, Clone, Default)]
pub struct MetricsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Each day of the range, in order.
    pub days: Vec<(NaiveDate, Tally)>,
    pub total: Tally,
    /// Per agent (login name), per channel and per skill group (id), over the range.
    pub agents: BTreeMap<String, Tally>,
    pub channels: BTreeMap<String, Tally>,
    pub groups: BTreeMap<u64, Tally>,
    /// Set when the view is one agent's own numbers.
    pub agent: Option<String>,
}

fn shop_of(s: &ShopSettings) -> Shop {
    Shop {
        tz: s.tz(),
        staffed: s.staffed,
    }
}

impl Desk {
    /// The shop's local date today.
    pub fn today(&self) -> Result<NaiveDate> {
        Ok(self
            .clock
            .now()
            .with_timezone(&self.settings()?.tz())
            .date_naive())
    }

    /// One day's tallies: kept ones for finished days, else counted now (and kept
    /// when the day is finished).
    pub async fn day_tally(&self, day: NaiveDate) -> Result<DayTally> {
        let key = day.format("%Y-%m-%d").to_string();
        let past = day < self.today()?;
        // Kept in another time zone, the day had other bounds; today is never final.
        let tz = self.settings()?.tz();
        if let Some(d) = self.store.read()?.get_daily::<DayTally>(&key)?
            && d.is_final()
            && d.tz == tz.name()
            && past
        {
            return Ok(d);
        }
        let desk = self.clone();
        // Counting a busy day takes a while: off the async workers.
        let d = tokio::task::spawn_blocking(move || -> Result<DayTally> {
            let settings = desk.settings()?;
            let r = desk.store.read()?;
            let timelines = load::timelines(&r, day, day, settings.tz())?;
            Ok(DayTally::of(&key, &timelines, shop_of(&settings), past))
        })
        .await
        .map_err(|e| Error::Refused(format!("counting failed: {e}")))??;
        if d.complete {
            let kept = d.clone();
            self.store
                .write(move |tx| tx.put_daily(&kept.day, &kept))
                .await?;
        }
        Ok(d)
    }

    /// Counts and keeps the finished days among the last `days` that are not kept yet
    /// (so the dashboard reads them); returns how many it kept.
    pub async fn keep_finished_days(&self, days: i64) -> Result<usize> {
        let today = self.today()?;
        let tz = self.settings()?.tz();
        let mut kept = 0;
        for back in 1..=days {
            let day = today - chrono::Duration::days(back);
            let key = day.format("%Y-%m-%d").to_string();
            let done = self
                .store
                .read()?
                .get_daily::<DayTally>(&key)?
                .is_some_and(|d| d.is_final() && d.tz == tz.name());
            if !done && self.day_tally(day).await?.complete {
                kept += 1;
            }
        }
        Ok(kept)
    }

    /// The tallies of `from..=to` as `user` may see them: everything for the owner and
    /// supervisors, their own conversations for an agent.
    pub async fn metrics(
        &self,
        user: &User,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<MetricsView> {
        let own = match user.role {
            Role::Owner | Role::Supervisor => None,
            Role::Agent => Some(user.name.clone()),
            Role::Trainer => return Err(Error::Forbidden),
        };
        self.range_metrics(from, to, own).await
    }

    /// The tallies of `from..=to` for the whole shop, or for one agent's conversations
    /// (`own`). The caller has checked who may see them.
    pub async fn range_metrics(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        own: Option<String>,
    ) -> Result<MetricsView> {
        let mut inv = Invalid::default();
        if to < from {
            inv.add("to", "结束日期不能早于开始日期");
        } else if (to - from).num_days() >= MAX_DAYS {
            inv.add("to", format!("最多查看 {MAX_DAYS} 天"));
        }
        inv.into_result()?;
        let mut v = MetricsView {
            from,
            to,
            agent: own.clone(),
            ..MetricsView::default()
        };
        let mut day = from;
        while day <= to {
            let d = self.day_tally(day).await?;
            let of_day = match &own {
                Some(me) => d.agents.get(me).cloned().unwrap_or_default(),
                None => d.all.clone(),
            };
            v.total.merge(&of_day);
            for (name, t) in &d.agents {
                if own.as_ref().is_none_or(|me| me == name) {
                    v.agents.entry(name.clone()).or_default().merge(t);
                }
            }
            if own.is_none() {
                for (c, t) in &d.channels {
                    v.channels.entry(c.clone()).or_default().merge(t);
                }
                for (g, t) in &d.groups {
                    v.groups.entry(*g).or_default().merge(t);
                }
            }
            v.days.push((day, of_day));
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(v)
    }

    /// Replaces the shop's targets.
    pub async fn save_targets(&self, actor: &Actor, targets: Targets) -> Result<()> {
        let mut inv = Invalid::default();
        for (field, v, max) in [
            ("avg_response_s", targets.avg_response_s, 3600),
            (
                "first_response_30s_pct",
                targets.first_response_30s_pct,
                100,
            ),
            ("human_3min_pct", targets.human_3min_pct, 100),
            ("answer_question_pct", targets.answer_question_pct, 1000),
            ("invite_pct", targets.invite_pct, 100),
            ("satisfaction_pct", targets.satisfaction_pct, 100),
            ("bot_resolution_pct", targets.bot_resolution_pct, 100),
        ] {
            if v > max {
                inv.add(field, format!("应在 0–{max} 之间"));
            }
        }
        inv.into_result()?;
        let mut settings = self.settings()?;
        settings.targets = targets;
        let audit = self.audit(actor, "targets.update", "数据看板目标", String::new());
        self.store
            .write(move |tx| {
                tx.put_settings(&settings)?;
                tx.append_audit(&audit)
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::service::Incoming;
    use crate::desk::testing::desk;
    use crate::model::{Clock, NewUser};

    fn say(buyer: &str, text: &str) -> Incoming {
        Incoming {
            channel: "web".into(),
            buyer: buyer.into(),
            text: text.into(),
            ..Incoming::default()
        }
    }

    #[actix_web::test]
    async fn finished_days_are_kept_and_agents_see_only_their_own_numbers() {
        let (_dir, desk, clock) = desk();
        let desk = desk
            .open_bot(crate::bot::index::Location::Ram)
            .await
            .unwrap();
        let owner = desk
            .setup_owner(NewUser {
                name: "boss".into(),
                nickname: String::new(),
                role: Role::Owner,
                password: "password-123".into(),
            })
            .await
            .unwrap()
            .user;
        let today = desk.today().unwrap();
        desk.on_buyer_message(say("b1", "包邮吗")).await.unwrap();
        clock.advance(chrono::Duration::seconds(5));
        desk.on_buyer_message(say("b1", "谢谢")).await.unwrap();
        let v = desk.metrics(&owner, today, today).await.unwrap();
        assert_eq!(v.total.conversations, 1);
        // The thanks got the bot's intent reply: not an unmatched question.
        let t = &v.total;
        assert_eq!((t.bot_exact, t.bot_intent, t.bot_none), (1, 1, 0), "{t:?}");
        assert_eq!(v.days.len(), 1);
        // Today is never kept: it is still changing.
        let key = today.format("%Y-%m-%d").to_string();
        let kept = |desk: &Desk| {
            desk.store()
                .read()
                .unwrap()
                .get_daily::<DayTally>(&key)
                .unwrap()
        };
        assert!(kept(&desk).is_none());

        // Tomorrow, yesterday's open conversation keeps it from being final.
        clock.advance(chrono::Duration::days(1));
        desk.metrics(&owner, today, today).await.unwrap();
        assert!(kept(&desk).is_none(), "a conversation is still open");

        // Once it is closed, the finished day is kept, and read back from then on.
        let id = desk.store().read().unwrap().recent_conv_ids(1).unwrap()[0];
        let at = clock.now();
        desk.store()
            .write(move |tx| {
                let mut c = tx.get_conv(id)?.unwrap();
                c.enter(crate::model::ConvState::Closed, at);
                tx.put_conv(&c)
            })
            .await
            .unwrap();
        desk.metrics(&owner, today, today).await.unwrap();
        let mut stored = kept(&desk).expect("kept");
        assert!(stored.complete);
        assert_eq!(stored.all.conversations, 1);
        stored.all.conversations = 99;
        let again = stored.clone();
        desk.store()
            .write(move |tx| tx.put_daily(&again.day, &again))
            .await
            .unwrap();
        let v = desk.metrics(&owner, today, today).await.unwrap();
        assert_eq!(v.total.conversations, 99, "read, not recounted");
        // Kept in another time zone, the day had other bounds: counted again.
        let mut other = kept(&desk).expect("kept");
        other.tz = "Australia/Adelaide".into();
        desk.store()
            .write(move |tx| tx.put_daily(&other.day, &other))
            .await
            .unwrap();
        let v = desk.metrics(&owner, today, today).await.unwrap();
        assert_eq!(v.total.conversations, 1, "recounted");
        // Today is counted, whatever was kept under its date.
        let now = desk.today().unwrap();
        let mut stale = kept(&desk).expect("kept");
        stale.day = now.format("%Y-%m-%d").to_string();
        desk.store()
            .write(move |tx| tx.put_daily(&stale.day, &stale))
            .await
            .unwrap();
        let v = desk.metrics(&owner, now, now).await.unwrap();
        assert_eq!(v.total.conversations, 0, "nobody wrote today");
        // The two quiet days before are kept too (nothing will change them); then
        // there is nothing left to keep.
        assert_eq!(desk.keep_finished_days(3).await.unwrap(), 2);
        assert_eq!(desk.keep_finished_days(3).await.unwrap(), 0);

        let mut agent = owner.clone();
        agent.role = Role::Agent;
        agent.name = "mei".into();
        let v = desk.metrics(&agent, today, today).await.unwrap();
        assert_eq!(v.total.conversations, 0, "mei wrote in none");
        assert!(v.channels.is_empty());
        let mut trainer = owner.clone();
        trainer.role = Role::Trainer;
        assert!(matches!(
            desk.metrics(&trainer, today, today).await,
            Err(Error::Forbidden)
        ));
        assert!(matches!(
            desk.metrics(&owner, today, today.pred_opt().unwrap()).await,
            Err(Error::Invalid(_))
        ));
    }
}
