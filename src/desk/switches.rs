//! The owner's and supervisors' service switches: scene modes, reception settings and
//! skill groups, each change audited with who and when.

use super::conversation::Trigger;
use super::service::Changes;
use super::{Actor, Desk, Result};
use crate::bot::compose::BOT_ONLY_TEXT;
use crate::model::{ConvState, Group, GroupId, Invalid, Reception, Role, SceneSwitch, Sender};
use crate::store::{self, prelude::*};
use std::collections::BTreeMap;

/// The service right now, for the switch page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNow {
    /// Inside staffed hours.
    pub staffed: bool,
    /// The shop's local time, `HH:MM`.
    pub local_time: String,
    /// The staffed window, `09:00-23:00`.
    pub hours: String,
    /// When humans are next on duty ("今天 09:00"), outside staffed hours.
    pub humans_back: Option<String>,
    /// Agents taking new buyers.
    pub online: usize,
    /// Buyers waiting for a human.
    pub queued: usize,
}

/// Audit actions of the switch page's trail.
const SWITCH_ACTIONS: [&str; 2] = ["scene.", "reception."];
/// Audit entries looked through for the trail.
const TRAIL_SCAN: usize = 2000;

/// A scene as the switch page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneRow {
    pub scene: String,
    pub switch: SceneSwitch,
    /// Entries of the scene.
    pub entries: usize,
}

impl Desk {
    /// Every scene of the knowledge base (and any switched scene since emptied), with its
    /// switch and entry count.
    pub fn scenes(&self) -> Result<Vec<SceneRow>> {
        let r = self.store.read()?;
        let switches = r.scene_switches()?;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for e in r.list_entries()? {
            if !e.scene.is_empty() {
                *counts.entry(e.scene).or_default() += 1;
            }
        }
        for s in switches.keys() {
            counts.entry(s.clone()).or_default();
        }
        Ok(counts
            .into_iter()
            .map(|(scene, entries)| SceneRow {
                switch: switches.get(&scene).cloned().unwrap_or_default(),
                scene,
                entries,
            })
            .collect())
    }

    /// Sets one scene's switch; effective for the next buyer message.
    pub async fn set_scene(&self, actor: &Actor, scene: &str, switch: SceneSwitch) -> Result<()> {
        let scene = scene.trim().to_string();
        if scene.is_empty() || scene.chars().count() > 40 {
            return Err(Invalid::general("未知的场景").into());
        }
        let detail = format!(
            "人工时间：{}；非人工时间：{}",
            switch.staffed.label(),
            switch.off_hours.label()
        );
        let audit = self.audit(actor, "scene.set", &scene, detail);
        self.store
            .write(move |tx| {
                tx.put_scene_switch(&scene, &switch)?;
                tx.append_audit(&audit)
            })
            .await?;
        Ok(())
    }

    /// Staffed or not, local time, online agents and the queue, now.
    pub fn service_now(&self) -> Result<ServiceNow> {
        let now = self.clock.now();
        let r = self.store.read()?;
        let settings = r.get_settings()?;
        let staffed = settings.is_staffed(now);
        let online = r
            .agent_states()?
            .values()
            .filter(|s| s.state == crate::model::AgentState::Online)
            .count();
        let queued = r
            .list_open_convs()?
            .iter()
            .filter(|c| c.state == crate::model::ConvState::Queued)
            .count();
        Ok(ServiceNow {
            staffed,
            local_time: now
                .with_timezone(&settings.tz())
                .format("%H:%M")
                .to_string(),
            hours: settings.staffed.label(),
            humans_back: (!staffed).then(|| super::scenes::humans_back_label(&settings, now)),
            online,
            queued,
        })
    }

    /// The latest changes of scene switches and reception settings, newest first.
    pub fn switch_trail(&self, limit: usize) -> Result<Vec<crate::model::AuditEntry>> {
        Ok(self
            .store
            .read()?
            .list_audit(None, TRAIL_SCAN)?
            .into_iter()
            .filter(|e| SWITCH_ACTIONS.iter().any(|p| e.action.starts_with(p)))
            .take(limit)
            .collect())
    }

    /// The reception settings.
    pub fn reception(&self) -> Result<Reception> {
        Ok(self.store.read()?.get_reception()?)
    }

    /// Saves the reception settings and global switches.
    pub async fn save_reception(&self, actor: &Actor, r: Reception) -> Result<()> {
        r.validate()?;
        let old = self.reception()?;
        let mut changes = Vec::new();
        if old.staffed != r.staffed || old.off_hours != r.off_hours {
            changes.push(format!(
                "接待模式：人工时间{}，非人工时间{}",
                r.staffed.label(),
                r.off_hours.label()
            ));
        }
        if old.bot_only != r.bot_only {
            changes.push(format!(
                "仅机器人接待：{}",
                if r.bot_only { "开" } else { "关" }
            ));
        }
        if old.off_hours_reply != r.off_hours_reply {
            changes.push(format!(
                "无人值守回复：{}",
                if r.off_hours_reply { "开" } else { "关" }
            ));
        }
        if (
            old.human_percent,
            old.queue_limit,
            old.agent_cap,
            old.reroute_minutes,
            old.idle_close_minutes,
        ) != (
            r.human_percent,
            r.queue_limit,
            r.agent_cap,
            r.reroute_minutes,
            r.idle_close_minutes,
        ) {
            changes.push(format!(
                "人工比例 {}%，排队上限 {}，每人同时接待 {}，{} 分钟未回复转接，{} 分钟无消息结束",
                r.human_percent,
                r.queue_limit,
                r.agent_cap,
                r.reroute_minutes,
                r.idle_close_minutes
            ));
        }
        if changes.is_empty() {
            return Ok(());
        }
        let audit = self.audit(actor, "reception.set", "接待设置", changes.join("；"));
        // Switched to 仅机器人接待: nobody will take the queue, so the bot takes it back
        // and says so (queued buyers' messages went unanswered).
        let release = r.bot_only && !old.bot_only;
        let now = self.clock.now();
        let (events, deliveries) = self
            .store
            .write(move |tx| {
                tx.put_reception(&r)?;
                tx.append_audit(&audit)?;
                let mut c = Changes::new(tx, now);
                if release {
                    for mut conv in tx.list_open_convs()? {
                        if conv.state == ConvState::Queued {
                            c.say(&mut conv, Sender::System, BOT_ONLY_TEXT, None, None)?;
                            c.change(&mut conv, Trigger::Release, "仅机器人接待")?;
                            tx.put_conv(&conv)?;
                        }
                    }
                }
                Ok((c.events, c.queued))
            })
            .await?;
        self.publish(&events, deliveries);
        Ok(())
    }

    /// Every skill group.
    pub fn groups(&self) -> Result<Vec<Group>> {
        Ok(self.store.read()?.list_groups()?)
    }

    /// Creates (id 0) or updates a group; members must be enabled staff who serve buyers:
    /// agents, supervisors or the owner (in a small shop often the only one).
    pub async fn save_group(&self, actor: &Actor, mut g: Group) -> Result<Group> {
        g.name = g.name.trim().to_string();
        g.scenes.retain(|s| !s.trim().is_empty());
        g.regions.retain(|s| !s.trim().is_empty());
        g.members.sort();
        g.members.dedup();
        let mut inv = g.validate().err().unwrap_or_default();
        let r = self.store.read()?;
        for m in &g.members {
            let ok = r
                .get_user(*m)?
                .is_some_and(|u| !u.disabled && u.role != Role::Trainer);
            if !ok {
                inv.add("members", "成员必须是启用中的客服、主管或店主");
                break;
            }
        }
        let taken = r
            .list_groups()?
            .into_iter()
            .any(|x| x.name == g.name && x.id != g.id);
        if taken {
            inv.add("name", "已有同名分组");
        }
        inv.into_result()?;
        drop(r);
        let audit = self.audit(
            actor,
            "group.save",
            &g.name,
            format!(
                "成员 {} 人；场景：{}；地区：{}",
                g.members.len(),
                list_or_dash(&g.scenes),
                list_or_dash(&g.regions)
            ),
        );
        Ok(self
            .store
            .write(move |tx| {
                // A form left open on a group deleted since must not bring it back.
                if g.id.0 != 0 && tx.get_group(g.id)?.is_none() {
                    return Err(store::Error::Conflict(
                        "这个分组已被删除，请刷新页面后重新填写".into(),
                    ));
                }
                // One default group at most.
                if g.is_default {
                    for mut other in tx
                        .list_groups()?
                        .into_iter()
                        .filter(|x| x.is_default && x.id != g.id)
                    {
                        other.is_default = false;
                        tx.put_group(other)?;
                    }
                }
                let saved = tx.put_group(g.clone())?;
                tx.append_audit(&audit)?;
                Ok(saved)
            })
            .await?)
    }

    /// Deletes a group (its waiting buyers stay queued for any agent).
    pub async fn delete_group(&self, actor: &Actor, id: GroupId) -> Result<()> {
        let audit = self.audit(actor, "group.delete", &id.to_string(), String::new());
        self.store
            .write(move |tx| {
                if !tx.delete_group(id)? {
                    return Err(store::Error::NotFound);
                }
                for mut c in tx
                    .list_open_convs()?
                    .into_iter()
                    .filter(|c| c.group == Some(id))
                {
                    c.group = None;
                    tx.put_conv(&c)?;
                }
                tx.append_audit(&audit)
            })
            .await?;
        Ok(())
    }
}

/// `a、b` or `—` for an empty list, for the audit trail.
fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "—".into()
    } else {
        items.join("、")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::Error;
    use crate::desk::testing::desk;
    use crate::model::{NewUser, SceneMode, UserId};

    #[actix_web::test]
    async fn scene_and_reception_changes_are_audited() {
        let (_d, desk, _c) = desk();
        let desk = desk
            .open_bot(crate::bot::index::Location::Ram)
            .await
            .unwrap();
        let scenes = desk.scenes().unwrap();
        assert!(scenes.len() >= 10, "the starter KB's scenes");
        let s = &scenes[0].scene;
        desk.set_scene(
            &Actor::cli(),
            s,
            SceneSwitch {
                staffed: SceneMode::Human,
                off_hours: SceneMode::Off,
            },
        )
        .await
        .unwrap();
        let row = desk
            .scenes()
            .unwrap()
            .into_iter()
            .find(|r| &r.scene == s)
            .unwrap();
        assert_eq!(row.switch.staffed, SceneMode::Human);
        desk.save_reception(
            &Actor::cli(),
            Reception {
                bot_only: true,
                ..Reception::default()
            },
        )
        .await
        .unwrap();
        assert!(desk.reception().unwrap().bot_only);
        let bad = Reception {
            agent_cap: 0,
            ..Reception::default()
        };
        assert!(matches!(
            desk.save_reception(&Actor::cli(), bad).await,
            Err(Error::Invalid(_))
        ));
        let log = desk.store().read().unwrap().list_audit(None, 2).unwrap();
        assert_eq!(log[0].action, "reception.set");
        assert!(log[0].detail.contains("仅机器人接待：开"));
        assert_eq!(log[1].action, "scene.set");
    }

    #[actix_web::test]
    async fn groups_take_agents_and_one_default() {
        let (_d, desk, _c) = desk();
        let agent = desk
            .add_user(
                &Actor::cli(),
                NewUser {
                    name: "a".into(),
                    nickname: String::new(),
                    role: Role::Agent,
                    password: "password-1".into(),
                },
            )
            .await
            .unwrap();
        let trainer = desk
            .add_user(
                &Actor::cli(),
                NewUser {
                    name: "t".into(),
                    nickname: String::new(),
                    role: Role::Trainer,
                    password: "password-1".into(),
                },
            )
            .await
            .unwrap();
        let g = |name: &str, members: Vec<UserId>, default: bool| Group {
            id: GroupId(0),
            name: name.into(),
            members,
            scenes: vec![],
            regions: vec![],
            is_default: default,
        };
        let g1 = desk
            .save_group(&Actor::cli(), g("售前组", vec![agent.id], true))
            .await
            .unwrap();
        let g2 = desk
            .save_group(&Actor::cli(), g("售后组", vec![], true))
            .await
            .unwrap();
        let groups = desk.groups().unwrap();
        assert!(
            !groups.iter().find(|x| x.id == g1.id).unwrap().is_default,
            "one default"
        );
        assert!(groups.iter().find(|x| x.id == g2.id).unwrap().is_default);
        assert!(matches!(
            desk.save_group(&Actor::cli(), g("售前组", vec![], false))
                .await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            desk.save_group(&Actor::cli(), g("x", vec![trainer.id], false))
                .await,
            Err(Error::Invalid(_))
        ));
        desk.delete_group(&Actor::cli(), g1.id).await.unwrap();
        assert!(matches!(
            desk.delete_group(&Actor::cli(), g1.id).await,
            Err(Error::NotFound)
        ));
    }
}
