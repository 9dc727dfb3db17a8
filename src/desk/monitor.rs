//! The supervisor's live monitor (大屏): the queue per skill group with its longest
//! wait, the agents with their state and load, and every open conversation, filtered by
//! group, region and state. Supervisors act on a conversation from the workspace page:
//! barge in, take over, force close, reassign.

use super::{Desk, Result};
use crate::model::{AgentState, Buyer, ConvState, Conversation, GroupId, UserId};
use crate::store::prelude::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One skill group's queue (`group: None` is the buyers routed to no group).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupQueue {
    pub group: Option<GroupId>,
    pub name: String,
    pub queued: usize,
    /// When the longest-waiting buyer entered the queue.
    pub longest_since: Option<DateTime<Utc>>,
    /// Members online now.
    pub online: usize,
}

/// An agent's state and load.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLoad {
    pub id: UserId,
    pub name: String,
    pub state: AgentState,
    /// Conversations served now.
    pub load: u32,
    pub groups: Vec<String>,
    /// The user's role is agent (else a supervisor or the owner).
    pub agent: bool,
}

/// An open conversation on the monitor.
#[derive(Debug, Clone)]
pub struct OpenConv {
    pub conv: Conversation,
    pub buyer: Buyer,
    pub group: String,
    pub agent: String,
    /// Waiting for a human since (queued: entering the queue; served: the first buyer
    /// message the agent has not answered yet).
    pub waiting_since: Option<DateTime<Utc>>,
}

/// What the monitor filters by; empty fields filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    /// A group id, or `none` for buyers routed to no group.
    pub group: String,
    /// A substring of the buyer's region.
    pub region: String,
    /// `bot`, `queued` or `human`.
    pub state: String,
}

impl Filter {
    fn keeps(&self, c: &Conversation, b: &Buyer) -> bool {
        let group = match self.group.as_str() {
            "" => true,
            "none" => c.group.is_none(),
            g => g.parse().ok().map(GroupId) == c.group,
        };
        group
            && (self.region.trim().is_empty() || b.region.contains(self.region.trim()))
            && (self.state.is_empty() || c.state.as_str() == self.state)
    }
}

/// The whole monitor.
#[derive(Debug, Clone, Default)]
pub struct Monitor {
    pub queues: Vec<GroupQueue>,
    pub agents: Vec<AgentLoad>,
    /// Filtered, humans' first: the queue in serving order, then served buyers, the
    /// longest waiting first.
    pub convs: Vec<OpenConv>,
    /// Open conversations before filtering.
    pub open_total: usize,
    pub cap: u32,
}

impl Desk {
    /// The monitor now, with the conversations `filter` keeps.
    pub fn monitor(&self, filter: &Filter) -> Result<Monitor> {
        let r = self.store.read()?;
        let groups = r.list_groups()?;
        let states = r.agent_states()?;
        let open = r.list_open_convs()?;
        let cap = r.get_reception()?.agent_cap;
        let users = r.list_users()?;
        let names: HashMap<UserId, String> =
            users.iter().map(|u| (u.id, u.nickname.clone())).collect();
        let group_name = |g: Option<GroupId>| {
            g.and_then(|g| groups.iter().find(|x| x.id == g))
                .map(|g| g.name.clone())
                .unwrap_or_else(|| "未分组".into())
        };
        let is_online = |u: &UserId| states.get(u).is_some_and(|s| s.state == AgentState::Online);

        let mut loads: HashMap<UserId, u32> = HashMap::new();
        for c in open.iter().filter(|c| c.state == ConvState::Human) {
            if let Some(a) = c.agent {
                *loads.entry(a).or_default() += 1;
            }
        }
        let mut queues: Vec<GroupQueue> = groups
            .iter()
            .map(|g| {
                (
                    Some(g.id),
                    g.members.iter().filter(|m| is_online(m)).count(),
                )
            })
            .chain(std::iter::once((
                None,
                states.keys().filter(|u| is_online(u)).count(),
            )))
            .map(|(group, online)| {
                let waiting = open
                    .iter()
                    .filter(|c| c.state == ConvState::Queued && c.group == group);
                GroupQueue {
                    group,
                    name: group_name(group),
                    queued: waiting.clone().count(),
                    longest_since: waiting.filter_map(|c| c.queued_at).min(),
                    online,
                }
            })
            .collect();
        // The no-group row only when it has buyers, or when there are no groups at all.
        queues.retain(|q| q.group.is_some() || q.queued > 0 || groups.is_empty());

        // Every agent; supervisors and the owner when they serve or are on duty.
        let mut agents: Vec<AgentLoad> = users
            .iter()
            .filter(|u| !u.disabled && u.role != crate::model::Role::Trainer)
            .map(|u| (u, u.role == crate::model::Role::Agent))
            .map(|(u, agent)| AgentLoad {
                id: u.id,
                name: u.nickname.clone(),
                state: states.get(&u.id).map(|s| s.state).unwrap_or_default(),
                load: loads.get(&u.id).copied().unwrap_or(0),
                groups: groups
                    .iter()
                    .filter(|g| g.members.contains(&u.id))
                    .map(|g| g.name.clone())
                    .collect(),
                agent,
            })
            .filter(|a| a.agent || a.state != AgentState::Offline || a.load > 0)
            .collect();
        agents.sort_by_key(|a| (a.state, std::cmp::Reverse(a.load), a.id));

        let open_total = open.len();
        let mut convs = Vec::new();
        for c in open {
            let Some(b) = r.get_buyer(c.buyer)? else {
                continue;
            };
            if !filter.keeps(&c, &b) {
                continue;
            }
            let waiting_since = match c.state {
                ConvState::Queued => c.queued_at,
                ConvState::Human => c
                    .last_buyer_at
                    .filter(|at| c.last_agent_at.is_none_or(|a| a < *at)),
                _ => None,
            };
            convs.push(OpenConv {
                group: group_name(c.group),
                agent: c
                    .agent
                    .and_then(|a| names.get(&a).cloned())
                    .unwrap_or_default(),
                waiting_since,
                buyer: b,
                conv: c,
            });
        }
        let order = |s: ConvState| match s {
            ConvState::Queued => 0,
            ConvState::Human => 1,
            _ => 2,
        };
        // The queue in the order it is served (as the workspace lists it), then the
        // served buyers, the longest waiting first.
        convs.sort_by(|a, b| {
            order(a.conv.state).cmp(&order(b.conv.state)).then_with(|| {
                match (a.conv.state, b.conv.state) {
                    (ConvState::Queued, ConvState::Queued) => {
                        super::routing::serving_order(&a.conv, &b.conv)
                    }
                    _ => (a.waiting_since.unwrap_or(a.conv.updated_at), a.conv.id)
                        .cmp(&(b.waiting_since.unwrap_or(b.conv.updated_at), b.conv.id)),
                }
            })
        });
        Ok(Monitor {
            queues,
            agents,
            convs,
            open_total,
            cap,
        })
    }
}
