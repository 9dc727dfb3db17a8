//! Routing and channel configuration: skill groups, agent states, scene switches, the
//! reception settings, API tokens, webhooks and their deliveries, and quick replies.

use super::codec::{decode, encode};
use super::tables::{
    AGENT_STATUS, API_TOKENS, DELIVERIES, GROUPS, QUICK_REPLIES, SCENES, SWITCHES, TOKEN_HASHES,
    WEBHOOKS,
};
use super::{Reads, Result, WriteTx};
use crate::model::{
    AgentStatus, ApiToken, Delivery, Group, GroupId, QuickReply, Reception, SceneSwitch, UserId,
    Webhook,
};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition, TableHandle};
use std::collections::BTreeMap;

const RECEPTION: &str = "reception";

fn all<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    t: &impl ReadableTable<K, &'static [u8]>,
    def: &'static TableDefinition<'static, K, &'static [u8]>,
) -> Result<Vec<T>> {
    t.iter()?
        .map(|row| {
            let (_, v) = row?;
            decode(def.name(), v.value())
        })
        .collect()
}

fn one<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    t: &impl ReadableTable<K, &'static [u8]>,
    def: &'static TableDefinition<'static, K, &'static [u8]>,
    key: K::SelfType<'_>,
) -> Result<Option<T>> {
    t.get(key)?
        .map(|v| decode(def.name(), v.value()))
        .transpose()
}

/// Reads of routing and channel configuration.
pub trait ServiceReads: Reads {
    /// Every skill group, by id.
    fn list_groups(&self) -> Result<Vec<Group>> {
        all(&*self.table(GROUPS)?, &GROUPS)
    }

    /// The group with `id`.
    fn get_group(&self, id: GroupId) -> Result<Option<Group>> {
        one(&*self.table(GROUPS)?, &GROUPS, id.0)
    }

    /// Every agent's state (agents never set are offline).
    fn agent_states(&self) -> Result<BTreeMap<UserId, AgentStatus>> {
        let t = self.table(AGENT_STATUS)?;
        let mut out = BTreeMap::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.insert(UserId(k.value()), decode(AGENT_STATUS.name(), v.value())?);
        }
        Ok(out)
    }

    /// Every scene switch that was set, by scene name.
    fn scene_switches(&self) -> Result<BTreeMap<String, SceneSwitch>> {
        let t = self.table(SCENES)?;
        let mut out = BTreeMap::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.insert(k.value().to_string(), decode(SCENES.name(), v.value())?);
        }
        Ok(out)
    }

    /// The reception settings (defaults until saved).
    fn get_reception(&self) -> Result<Reception> {
        Ok(one(&*self.table(SWITCHES)?, &SWITCHES, RECEPTION)?.unwrap_or_default())
    }

    /// Every API token, by id.
    fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        all(&*self.table(API_TOKENS)?, &API_TOKENS)
    }

    /// The token whose SHA-256 is `hash`.
    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let id = self.table(TOKEN_HASHES)?.get(hash)?.map(|v| v.value());
        match id {
            Some(id) => one(&*self.table(API_TOKENS)?, &API_TOKENS, id),
            None => Ok(None),
        }
    }

    /// The webhook of `channel`.
    fn get_webhook(&self, channel: &str) -> Result<Option<Webhook>> {
        one(&*self.table(WEBHOOKS)?, &WEBHOOKS, channel)
    }

    /// Every webhook, by channel.
    fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        all(&*self.table(WEBHOOKS)?, &WEBHOOKS)
    }

    /// Every quick reply, by id.
    fn list_quick_replies(&self) -> Result<Vec<QuickReply>> {
        all(&*self.table(QUICK_REPLIES)?, &QUICK_REPLIES)
    }

    /// Every delivery still pending or kept as failed, oldest first.
    fn list_deliveries(&self) -> Result<Vec<Delivery>> {
        all(&*self.table(DELIVERIES)?, &DELIVERIES)
    }
}

impl<T: Reads> ServiceReads for T {}

impl WriteTx<'_> {
    /// Creates (`id` 0) or replaces a group.
    pub fn put_group(&self, mut g: Group) -> Result<Group> {
        if g.id.0 == 0 {
            g.id = GroupId(self.next_id("groups")?);
        }
        self.table(GROUPS)?.insert(g.id.0, encode(&g)?.as_slice())?;
        Ok(g)
    }

    /// Stores a quick reply (a new one when its id is 0).
    pub fn put_quick_reply(&self, mut q: QuickReply) -> Result<QuickReply> {
        if q.id == 0 {
            q.id = self.next_id("quick_replies")?;
        }
        self.table(QUICK_REPLIES)?
            .insert(q.id, encode(&q)?.as_slice())?;
        Ok(q)
    }

    /// Deletes a quick reply.
    pub fn delete_quick_reply(&self, id: u64) -> Result<bool> {
        Ok(self.table(QUICK_REPLIES)?.remove(id)?.is_some())
    }

    /// Deletes a group.
    pub fn delete_group(&self, id: GroupId) -> Result<bool> {
        Ok(self.table(GROUPS)?.remove(id.0)?.is_some())
    }

    /// Sets an agent's state.
    pub fn put_agent_state(&self, user: UserId, s: &AgentStatus) -> Result<()> {
        self.table(AGENT_STATUS)?
            .insert(user.0, encode(s)?.as_slice())?;
        Ok(())
    }

    /// Sets a scene's switch.
    pub fn put_scene_switch(&self, scene: &str, s: &SceneSwitch) -> Result<()> {
        self.table(SCENES)?.insert(scene, encode(s)?.as_slice())?;
        self.config_changed();
        Ok(())
    }

    /// Replaces the reception settings.
    pub fn put_reception(&self, r: &Reception) -> Result<()> {
        self.table(SWITCHES)?
            .insert(RECEPTION, encode(r)?.as_slice())?;
        self.config_changed();
        Ok(())
    }

    /// Stores a new token under its hash.
    pub fn insert_token(
        &self,
        name: &str,
        channel: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<ApiToken> {
        let t = ApiToken {
            id: self.next_id("api_tokens")?,
            name: name.to_string(),
            channel: channel.to_string(),
            hash: hash.to_string(),
            created_at: now,
            revoked: false,
        };
        self.table(API_TOKENS)?
            .insert(t.id, encode(&t)?.as_slice())?;
        self.table(TOKEN_HASHES)?.insert(hash, t.id)?;
        Ok(t)
    }

    /// Revokes a token; `None` when there is no such token.
    pub fn revoke_token(&self, id: u64) -> Result<Option<ApiToken>> {
        let found: Option<ApiToken> = one(&*self.table(API_TOKENS)?, &API_TOKENS, id)?;
        let Some(mut t) = found else { return Ok(None) };
        t.revoked = true;
        self.table(API_TOKENS)?
            .insert(t.id, encode(&t)?.as_slice())?;
        self.table(TOKEN_HASHES)?.remove(t.hash.as_str())?;
        Ok(Some(t))
    }

    /// Sets a channel's webhook.
    pub fn put_webhook(&self, w: &Webhook) -> Result<()> {
        self.table(WEBHOOKS)?
            .insert(w.channel.as_str(), encode(w)?.as_slice())?;
        Ok(())
    }

    /// Removes a channel's webhook; returns it, or `None` when there was none.
    pub fn delete_webhook(&self, channel: &str) -> Result<Option<Webhook>> {
        let mut table = self.table(WEBHOOKS)?;
        let old = table.remove(channel)?;
        old.map(|v| decode(WEBHOOKS.name(), v.value())).transpose()
    }

    /// Queues (id 0) or updates a delivery.
    pub fn put_delivery(&self, mut d: Delivery) -> Result<Delivery> {
        if d.id == 0 {
            d.id = self.next_id("deliveries")?;
        }
        self.table(DELIVERIES)?
            .insert(d.id, encode(&d)?.as_slice())?;
        Ok(d)
    }

    /// Removes a delivery (done).
    pub fn delete_delivery(&self, id: u64) -> Result<()> {
        self.table(DELIVERIES)?.remove(id)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentState, SceneMode};
    use crate::store::testing::temp_store;

    #[actix_web::test]
    async fn service_configuration_round_trips() {
        let (_dir, store) = temp_store();
        let now = Utc::now();
        let g = store
            .write(move |tx| {
                tx.put_agent_state(
                    UserId(2),
                    &AgentStatus {
                        state: AgentState::Online,
                        since: now,
                    },
                )?;
                tx.put_scene_switch(
                    "退换货",
                    &SceneSwitch {
                        staffed: SceneMode::Human,
                        off_hours: SceneMode::Bot,
                    },
                )?;
                tx.put_reception(&Reception {
                    bot_only: true,
                    ..Reception::default()
                })?;
                tx.put_webhook(&Webhook {
                    channel: "qianniu".into(),
                    url: "http://x".into(),
                    secret: "s".into(),
                    enabled: true,
                })?;
                tx.put_group(Group {
                    id: GroupId(0),
                    name: "售后组".into(),
                    members: vec![UserId(2)],
                    scenes: vec!["退换货".into()],
                    regions: vec![],
                    is_default: false,
                })
            })
            .await
            .unwrap();
        assert_eq!(g.id, GroupId(1));
        let r = store.read().unwrap();
        assert_eq!(r.list_groups().unwrap(), vec![g.clone()]);
        assert_eq!(
            r.agent_states().unwrap()[&UserId(2)].state,
            AgentState::Online
        );
        assert_eq!(
            r.scene_switches().unwrap()["退换货"].staffed,
            SceneMode::Human
        );
        assert!(r.get_reception().unwrap().bot_only);
        assert_eq!(r.get_webhook("qianniu").unwrap().unwrap().url, "http://x");
    }

    #[actix_web::test]
    async fn tokens_are_found_by_hash_until_revoked() {
        let (_dir, store) = temp_store();
        let t = store
            .write(|tx| tx.insert_token("千牛桥", "qianniu", "abc", Utc::now()))
            .await
            .unwrap();
        assert_eq!(
            store.read().unwrap().token_by_hash("abc").unwrap(),
            Some(t.clone())
        );
        let id = t.id;
        let revoked = store
            .write(move |tx| tx.revoke_token(id))
            .await
            .unwrap()
            .unwrap();
        assert!(revoked.revoked);
        assert_eq!(store.read().unwrap().token_by_hash("abc").unwrap(), None);
        assert!(
            store
                .write(|tx| tx.revoke_token(99))
                .await
                .unwrap()
                .is_none()
        );
    }
}
