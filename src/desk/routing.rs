//! Routing rules: which skill group a conversation goes to, which agent takes it, and
//! the order of the queue. Pure functions over the current picture of the shop.

use crate::model::{
    AgentState, AgentStatus, Buyer, ConvId, ConvState, Conversation, Group, GroupId, UserId,
};
use std::collections::{BTreeMap, HashMap};

/// Everything routing looks at.
pub struct Picture<'a> {
    pub groups: &'a [Group],
    pub states: &'a BTreeMap<UserId, AgentStatus>,
    /// Open conversations (their agents' loads and the queue).
    pub open: &'a [Conversation],
    /// Most conversations one agent serves at once.
    pub cap: u32,
}

/// The group for a conversation: one routing its scene, else its buyer's region, else
/// the default group, else none (every agent).
pub fn pick_group(groups: &[Group], scene: Option<&str>, buyer: &Buyer) -> Option<GroupId> {
    let by_scene = scene.and_then(|s| groups.iter().find(|g| g.scenes.iter().any(|x| x == s)));
    let by_region = || {
        (!buyer.region.is_empty())
            .then(|| {
                groups
                    .iter()
                    .find(|g| g.regions.iter().any(|r| buyer.region.contains(r.as_str())))
            })
            .flatten()
    };
    by_scene
        .or_else(by_region)
        .or_else(|| groups.iter().find(|g| g.is_default))
        .map(|g| g.id)
}

impl Picture<'_> {
    /// Conversations each agent serves now.
    pub fn loads(&self) -> HashMap<UserId, u32> {
        let mut loads = HashMap::new();
        for c in self.open.iter().filter(|c| c.state == ConvState::Human) {
            if let Some(a) = c.agent {
                *loads.entry(a).or_default() += 1;
            }
        }
        loads
    }

    /// The agents of `group` (every agent with a state, for no group).
    fn candidates(&self, group: Option<GroupId>) -> Vec<UserId> {
        match group.and_then(|g| self.groups.iter().find(|x| x.id == g)) {
            Some(g) => g.members.clone(),
            None => self.states.keys().copied().collect(),
        }
    }

    /// The least-loaded online agent of `group` under the cap, other than `exclude`
    /// (ties go to the lower id, for a stable choice).
    pub fn pick_agent(&self, group: Option<GroupId>, exclude: &[UserId]) -> Option<UserId> {
        let loads = self.loads();
        self.candidates(group)
            .into_iter()
            .filter(|a| !exclude.contains(a))
            .filter(|a| {
                self.states
                    .get(a)
                    .is_some_and(|s| s.state == AgentState::Online)
            })
            .map(|a| (loads.get(&a).copied().unwrap_or(0), a))
            .filter(|(load, _)| *load < self.cap)
            .min()
            .map(|(_, a)| a)
    }

    /// Whether some agent of `group` is at work (在线 or 忙碌), so a queued buyer of the
    /// group will be served soon.
    pub fn on_duty(&self, group: Option<GroupId>) -> bool {
        self.candidates(group).iter().any(|a| {
            self.states
                .get(a)
                .is_some_and(|s| matches!(s.state, AgentState::Online | AgentState::Busy))
        })
    }

    /// Whether some agent could take a conversation of `group` now.
    pub fn agent_free(&self, group: Option<GroupId>) -> bool {
        self.pick_agent(group, &[]).is_some()
    }

    /// Waiting conversations of `group`, in serving order: priority first, then the
    /// longest waiting.
    pub fn queue(&self, group: Option<GroupId>) -> Vec<&Conversation> {
        let mut q: Vec<&Conversation> = self
            .open
            .iter()
            .filter(|c| c.state == ConvState::Queued && c.group == group)
            .collect();
        q.sort_by(|a, b| serving_order(a, b));
        q
    }

    /// Buyers waiting in all groups.
    pub fn queue_len(&self) -> usize {
        self.open
            .iter()
            .filter(|c| c.state == ConvState::Queued)
            .count()
    }

    /// The 1-based place of `conv` in its group's queue.
    pub fn position(&self, conv: ConvId, group: Option<GroupId>) -> usize {
        self.queue(group)
            .iter()
            .position(|c| c.id == conv)
            .map(|i| i + 1)
            .unwrap_or(1)
    }

    /// The groups `agent` serves (none when groups are not used).
    pub fn groups_of(&self, agent: UserId) -> Vec<Option<GroupId>> {
        let mine: Vec<Option<GroupId>> = self
            .groups
            .iter()
            .filter(|g| g.members.contains(&agent))
            .map(|g| Some(g.id))
            .collect();
        if mine.is_empty() { vec![None] } else { mine }
    }
}

/// The order waiting buyers are served in: higher priority (member level) first, then
/// complaints, then the longest waiting.
pub fn serving_order(a: &Conversation, b: &Conversation) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(b.urgent.cmp(&a.urgent))
        .then(a.queued_at.cmp(&b.queued_at))
        .then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BuyerId, ConvState};
    use chrono::{Duration, TimeZone, Utc};

    fn group(id: u64, members: &[u64], scenes: &[&str], regions: &[&str], default: bool) -> Group {
        Group {
            id: GroupId(id),
            name: format!("g{id}"),
            members: members.iter().map(|m| UserId(*m)).collect(),
            scenes: scenes.iter().map(|s| s.to_string()).collect(),
            regions: regions.iter().map(|s| s.to_string()).collect(),
            is_default: default,
        }
    }

    fn buyer(region: &str) -> Buyer {
        let now = Utc::now();
        Buyer {
            id: BuyerId(1),
            channel: "web".into(),
            external_id: "x".into(),
            nickname: String::new(),
            region: region.into(),
            member_level: 0,
            tags: vec![],
            notes: String::new(),
            orders: vec![],
            convs: vec![],
            created_at: now,
            last_seen: now,
        }
    }

    fn conv(
        id: u64,
        state: ConvState,
        agent: Option<u64>,
        group: Option<u64>,
        priority: u8,
        waited: i64,
    ) -> Conversation {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap();
        let mut c = Conversation::start(ConvId(id), BuyerId(id), "web", priority, t0);
        c.state = state;
        c.group = group.map(GroupId);
        c.agent = agent.map(UserId);
        c.queued_at = Some(t0 - Duration::seconds(waited));
        c
    }

    fn online(ids: &[u64]) -> BTreeMap<UserId, AgentStatus> {
        let since = Utc::now();
        ids.iter()
            .map(|i| {
                (
                    UserId(*i),
                    AgentStatus {
                        state: AgentState::Online,
                        since,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn groups_by_scene_then_region_then_default() {
        let groups = [
            group(1, &[1], &["退换货"], &[], false),
            group(2, &[2], &[], &["广东"], false),
            group(3, &[3], &[], &[], true),
        ];
        assert_eq!(
            pick_group(&groups, Some("退换货"), &buyer("广东深圳")),
            Some(GroupId(1))
        );
        assert_eq!(
            pick_group(&groups, Some("物流"), &buyer("广东深圳")),
            Some(GroupId(2))
        );
        assert_eq!(pick_group(&groups, None, &buyer("上海")), Some(GroupId(3)));
        assert_eq!(pick_group(&[], None, &buyer("上海")), None);
    }

    #[test]
    fn the_least_loaded_online_agent_under_the_cap_takes_it() {
        let groups = [group(1, &[1, 2, 3], &[], &[], true)];
        let mut states = online(&[1, 2]);
        states.insert(
            UserId(3),
            AgentStatus {
                state: AgentState::Busy,
                since: Utc::now(),
            },
        );
        let open = [
            conv(10, ConvState::Human, Some(1), Some(1), 0, 0),
            conv(11, ConvState::Human, Some(1), Some(1), 0, 0),
            conv(12, ConvState::Human, Some(2), Some(1), 0, 0),
        ];
        let p = Picture {
            groups: &groups,
            states: &states,
            open: &open,
            cap: 2,
        };
        assert_eq!(
            p.pick_agent(Some(GroupId(1)), &[]),
            Some(UserId(2)),
            "agent 2 has one, agent 3 is busy"
        );
        assert_eq!(
            p.pick_agent(Some(GroupId(1)), &[UserId(2)]),
            None,
            "agent 1 is at the cap"
        );
        let p = Picture { cap: 3, ..p };
        assert_eq!(
            p.pick_agent(Some(GroupId(1)), &[UserId(2)]),
            Some(UserId(1))
        );
    }

    #[test]
    fn the_queue_serves_priority_then_the_longest_waiting() {
        let open = [
            conv(1, ConvState::Queued, None, Some(1), 0, 300),
            conv(2, ConvState::Queued, None, Some(1), 2, 10),
            conv(3, ConvState::Queued, None, Some(1), 0, 600),
            conv(4, ConvState::Queued, None, Some(9), 5, 999),
            conv(5, ConvState::Bot, None, Some(1), 9, 999),
            // A complaint goes ahead of its own level, not of a higher one.
            Conversation {
                urgent: true,
                ..conv(6, ConvState::Queued, None, Some(1), 0, 5)
            },
        ];
        let states = online(&[]);
        let p = Picture {
            groups: &[],
            states: &states,
            open: &open,
            cap: 10,
        };
        let order: Vec<u64> = p.queue(Some(GroupId(1))).iter().map(|c| c.id.0).collect();
        assert_eq!(order, [2, 6, 3, 1]);
        assert_eq!(p.position(ConvId(1), Some(GroupId(1))), 4);
        assert_eq!(p.queue_len(), 5);
    }
}
