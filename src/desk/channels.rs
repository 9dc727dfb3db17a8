//! Channel bridges: API tokens (shown once, stored hashed), webhooks, and the webhook
//! delivery queue with its retry schedule.

use super::auth::{hex, random_token, session_key};
use super::{Actor, Desk, Result};
use crate::model::service::token_problems;
use crate::model::{ApiToken, Delivery, Invalid, Webhook};
use crate::store::{self, prelude::*};
use chrono::{DateTime, Duration, Utc};

/// Delivery attempts before a webhook message is given up on.
pub const MAX_ATTEMPTS: u32 = 6;
/// Failed deliveries kept for the owner to see.
const KEEP_FAILED: usize = 100;
/// A message not delivered within this long is given up on: a buyer should not get, say,
/// "已为您接通" a day after the conversation ended.
pub fn max_age() -> Duration {
    Duration::hours(24)
}
/// Why a delivery older than [`max_age`] is not sent.
pub const TOO_OLD: &str = "超过 24 小时仍未送达，已不再投递";
/// Longest webhook address.
const MAX_URL: usize = 500;

/// A channel's undelivered messages, for the owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Messages waiting to be sent.
    pub waiting: usize,
    /// The oldest waiting message, when it has already failed at least once: the
    /// channel's other messages wait behind it.
    pub retrying: Option<Delivery>,
}

/// What is wrong with a webhook address, if anything.
fn url_problem(url: &str) -> Option<&'static str> {
    if url.chars().count() > MAX_URL {
        return Some("地址太长（最多 500 个字符）");
    }
    if url.contains(char::is_whitespace) {
        return Some("地址里不能有空格");
    }
    let parsed = ureq::http::Uri::try_from(url).ok();
    let scheme_ok = parsed
        .as_ref()
        .and_then(|u| u.scheme_str())
        .is_some_and(|s| s == "http" || s == "https");
    let host_ok = parsed
        .as_ref()
        .and_then(|u| u.host())
        .is_some_and(|h| !h.is_empty());
    if !(scheme_ok && host_ok) {
        return Some("请填写完整的 http:// 或 https:// 地址，例如 https://bridge.example.com/hook");
    }
    None
}

/// The wait before retry number `attempt` (1-based): 5 s, 30 s, 2 min, 10 min, 1 h.
pub fn backoff(attempt: u32) -> Duration {
    match attempt {
        0 | 1 => Duration::seconds(5),
        2 => Duration::seconds(30),
        3 => Duration::minutes(2),
        4 => Duration::minutes(10),
        _ => Duration::hours(1),
    }
}

/// The signature header value for a webhook `body`: `sha256=` and the hex HMAC-SHA256
/// of the exact body bytes under the webhook's secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

impl Desk {
    /// Creates an API token for `channel`; returns it with its secret, shown only now.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        channel: &str,
    ) -> Result<(ApiToken, String)> {
        let (name, channel) = (name.trim().to_string(), channel.trim().to_string());
        token_problems(&name, &channel)?;
        if channel == crate::model::conv::WEB_CHANNEL {
            return Err(Invalid::general("web 是网页聊天自己的渠道，请换一个渠道名").into());
        }
        let secret = format!("xr_{}", random_token());
        let hash = session_key(&secret);
        let now = self.clock.now();
        let audit = self.audit(actor, "token.create", &name, format!("渠道 {channel}"));
        let token = self
            .store
            .write(move |tx| {
                let t = tx.insert_token(&name, &channel, &hash, now)?;
                tx.append_audit(&audit)?;
                Ok(t)
            })
            .await?;
        self.tokens_changed();
        Ok((token, secret))
    }

    /// Revokes an API token.
    pub async fn revoke_token(&self, actor: &Actor, id: u64) -> Result<ApiToken> {
        let audit = self.audit(actor, "token.revoke", &id.to_string(), String::new());
        let revoked = self
            .store
            .write(move |tx| {
                let t = tx.revoke_token(id)?.ok_or(store::Error::NotFound)?;
                let mut a = audit.clone();
                a.target = t.name.clone();
                tx.append_audit(&a)?;
                Ok(t)
            })
            .await?;
        self.tokens_changed();
        Ok(revoked)
    }

    /// The live token whose secret is `secret`.
    pub fn token_for(&self, secret: &str) -> Result<Option<ApiToken>> {
        let hash = session_key(secret);
        if let Some(live) = self
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(live.get(&hash).cloned());
        }
        // Loading under the write lock: a change committed meanwhile drops the loaded
        // map right after (`tokens_changed` waits for this lock), never before.
        let mut cache = self.tokens.write().unwrap_or_else(|p| p.into_inner());
        if cache.is_none() {
            *cache = Some(
                self.store
                    .read()?
                    .list_tokens()?
                    .into_iter()
                    .filter(|t| !t.revoked)
                    .map(|t| (t.hash.clone(), t))
                    .collect(),
            );
        }
        Ok(cache.as_ref().and_then(|live| live.get(&hash).cloned()))
    }

    /// Forgets the loaded tokens after a change.
    fn tokens_changed(&self) {
        *self.tokens.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Every API token, revoked ones too.
    pub fn tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store.read()?.list_tokens()?)
    }

    /// Every channel's webhook.
    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        Ok(self.store.read()?.list_webhooks()?)
    }

    /// Sets a channel's webhook; a new secret is made when there is none or when asked.
    pub async fn save_webhook(
        &self,
        actor: &Actor,
        channel: &str,
        url: &str,
        enabled: bool,
        new_secret: bool,
    ) -> Result<Webhook> {
        let (channel, url) = (channel.trim().to_string(), url.trim().to_string());
        let mut inv = Invalid::default();
        if !crate::model::service::valid_channel(&channel) {
            inv.add("channel", "渠道名为 1–32 个小写字母、数字、-、_");
        }
        if let Some(why) = url_problem(&url) {
            inv.add("url", why);
        }
        inv.into_result()?;
        let old = self.store.read()?.get_webhook(&channel)?;
        let secret = match old {
            Some(w) if !new_secret => w.secret,
            _ => random_token(),
        };
        let hook = Webhook {
            channel: channel.clone(),
            url,
            secret,
            enabled,
        };
        let audit = self.audit(
            actor,
            "webhook.save",
            &channel,
            format!("{}{}", hook.url, if enabled { "" } else { "（停用）" }),
        );
        let saved = hook.clone();
        let now = self.clock.now();
        self.store
            .write(move |tx| {
                tx.put_webhook(&saved)?;
                // The owner has just fixed or checked the address: what waits for a retry
                // is sent now rather than at the end of its back-off.
                if saved.enabled {
                    for mut d in tx.list_deliveries()? {
                        if d.channel == saved.channel && !d.failed && d.next_at > now {
                            d.next_at = now;
                            tx.put_delivery(d)?;
                        }
                    }
                }
                tx.append_audit(&audit)
            })
            .await?;
        self.bus.ring_outbox();
        Ok(hook)
    }

    /// Removes a channel's webhook; its waiting messages are then dropped as failed.
    pub async fn delete_webhook(&self, actor: &Actor, channel: &str) -> Result<Webhook> {
        let channel = channel.to_string();
        let audit = self.audit(actor, "webhook.delete", &channel, String::new());
        let gone = self
            .store
            .write(move |tx| {
                let w = tx.delete_webhook(&channel)?.ok_or(store::Error::NotFound)?;
                tx.append_audit(&audit)?;
                Ok(w)
            })
            .await?;
        self.bus.ring_outbox();
        Ok(gone)
    }

    /// Sends a channel's failed messages again (those younger than [`max_age`]), from
    /// the first attempt; returns how many were queued.
    pub async fn retry_failed(&self, actor: &Actor, channel: &str) -> Result<usize> {
        let channel = channel.to_string();
        let now = self.clock.now();
        let audit = self.audit(actor, "webhook.retry", &channel, String::new());
        let queued = self
            .store
            .write(move |tx| {
                let mut n = 0;
                for mut d in tx.list_deliveries()? {
                    if d.channel == channel && d.failed && now - d.created_at < max_age() {
                        d.failed = false;
                        d.attempts = 0;
                        d.next_at = now;
                        tx.put_delivery(d)?;
                        n += 1;
                    }
                }
                let mut a = audit.clone();
                a.detail = format!("{n} 条");
                tx.append_audit(&a)?;
                Ok(n)
            })
            .await?;
        self.bus.ring_outbox();
        Ok(queued)
    }

    /// Every undelivered message that has not failed for good, oldest first.
    fn pending_deliveries(&self) -> Result<Vec<Delivery>> {
        let mut pending: Vec<Delivery> = self
            .store
            .read()?
            .list_deliveries()?
            .into_iter()
            .filter(|d| !d.failed)
            .collect();
        pending.sort_by_key(|d| d.id);
        Ok(pending)
    }

    /// Each channel's undelivered messages.
    pub fn backlogs(&self) -> Result<std::collections::BTreeMap<String, Backlog>> {
        let pending = self.pending_deliveries()?;
        let mut out = std::collections::BTreeMap::<String, Backlog>::new();
        for d in pending {
            let b = out.entry(d.channel.clone()).or_default();
            if b.waiting == 0 && d.attempts > 0 {
                b.retrying = Some(d.clone());
            }
            b.waiting += 1;
        }
        Ok(out)
    }

    /// Deliveries to send at `now`, oldest first. A channel's messages go out in order:
    /// while its oldest undelivered message waits for a retry, the newer ones wait too.
    pub fn due_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        let pending = self.pending_deliveries()?;
        let mut waiting = std::collections::HashSet::new();
        Ok(pending
            .into_iter()
            .filter(|d| {
                if d.next_at > now {
                    waiting.insert(d.channel.clone());
                }
                !waiting.contains(&d.channel)
            })
            .collect())
    }

    /// Webhook messages that have not reached the bridge: failed at least once
    /// (retrying) or given up.
    pub fn undelivered_count(&self) -> Result<usize> {
        Ok(self
            .store
            .read()?
            .list_deliveries()?
            .iter()
            .filter(|d| d.failed || d.attempts > 0)
            .count())
    }

    /// Failed deliveries (given up after the last retry), newest first, for the owner.
    pub fn failed_deliveries(&self) -> Result<Vec<Delivery>> {
        let mut failed: Vec<Delivery> = self
            .store
            .read()?
            .list_deliveries()?
            .into_iter()
            .filter(|d| d.failed)
            .collect();
        failed.sort_by_key(|d| std::cmp::Reverse(d.id));
        Ok(failed)
    }

    /// Removes a delivered message from the queue.
    pub async fn delivery_done(&self, id: u64) -> Result<()> {
        Ok(self.store.write(move |tx| tx.delete_delivery(id)).await?)
    }

    /// Records a failed attempt: retried later, or after the last attempt (or at once when
    /// `give_up`, e.g. the webhook was switched off) kept as failed for the owner to see
    /// (the oldest failures beyond 100 are dropped).
    pub async fn delivery_failed(
        &self,
        mut d: Delivery,
        error: String,
        give_up: bool,
    ) -> Result<Delivery> {
        let now = self.clock.now();
        d.attempts += 1;
        d.last_error = Some(error);
        if give_up || d.attempts >= MAX_ATTEMPTS {
            d.failed = true;
        } else {
            d.next_at = now + backoff(d.attempts);
        }
        Ok(self
            .store
            .write(move |tx| {
                let d = tx.put_delivery(d.clone())?;
                let mut failed: Vec<Delivery> = tx
                    .list_deliveries()?
                    .into_iter()
                    .filter(|x| x.failed)
                    .collect();
                if failed.len() > KEEP_FAILED {
                    failed.sort_by_key(|x| x.id);
                    for old in &failed[..failed.len() - KEEP_FAILED] {
                        tx.delete_delivery(old.id)?;
                    }
                }
                Ok(d)
            })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::Error;
    use crate::desk::testing::desk;
    use crate::model::Clock;

    #[actix_web::test]
    async fn tokens_are_shown_once_and_work_until_revoked() {
        let (_d, desk, _c) = desk();
        let (t, secret) = desk
            .create_token(&Actor::cli(), "千牛桥", "qianniu")
            .await
            .unwrap();
        assert!(secret.starts_with("xr_") && secret.len() > 60);
        assert_ne!(t.hash, secret, "only the hash is stored");
        assert_eq!(
            desk.token_for(&secret).unwrap().map(|t| t.channel),
            Some("qianniu".into())
        );
        assert_eq!(desk.token_for("xr_guess").unwrap(), None);
        desk.revoke_token(&Actor::cli(), t.id).await.unwrap();
        assert_eq!(desk.token_for(&secret).unwrap(), None);
        assert!(matches!(
            desk.revoke_token(&Actor::cli(), 99).await,
            Err(Error::NotFound)
        ));
        for (name, channel) in [("", "qianniu"), ("x", "千牛"), ("x", "web")] {
            assert!(
                matches!(
                    desk.create_token(&Actor::cli(), name, channel).await,
                    Err(Error::Invalid(_))
                ),
                "{name} {channel}"
            );
        }
    }

    #[actix_web::test]
    async fn failed_deliveries_back_off_then_give_up() {
        let (_d, desk, clock) = desk();
        let now = clock.now();
        let d = desk
            .store()
            .write(move |tx| {
                tx.put_delivery(Delivery {
                    id: 0,
                    channel: "qianniu".into(),
                    body: "{}".into(),
                    attempts: 0,
                    next_at: now,
                    last_error: None,
                    created_at: now,
                    failed: false,
                })
            })
            .await
            .unwrap();
        assert_eq!(desk.due_deliveries(now).unwrap().len(), 1);
        let mut d = desk
            .delivery_failed(d, "HTTP 500".into(), false)
            .await
            .unwrap();
        assert_eq!(d.next_at, now + Duration::seconds(5));
        assert!(
            desk.due_deliveries(now).unwrap().is_empty(),
            "not before the back-off"
        );
        for _ in 1..MAX_ATTEMPTS {
            d = desk
                .delivery_failed(d, "timeout".into(), false)
                .await
                .unwrap();
        }
        assert!(d.failed);
        assert!(
            desk.due_deliveries(now + Duration::days(1))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            desk.store()
                .read()
                .unwrap()
                .list_deliveries()
                .unwrap()
                .len(),
            1,
            "kept for the owner"
        );
    }

    #[test]
    fn signatures_are_hmac_sha256_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[actix_web::test]
    async fn a_channel_waits_behind_its_oldest_retry_and_others_do_not() {
        let (_d, desk, clock) = desk();
        let now = clock.now();
        let queue = move |channel: &'static str| Delivery {
            id: 0,
            channel: channel.into(),
            body: "{}".into(),
            attempts: 0,
            next_at: now,
            last_error: None,
            created_at: now,
            failed: false,
        };
        let (a1, _a2, b1) = desk
            .store()
            .write(move |tx| {
                Ok((
                    tx.put_delivery(queue("a"))?,
                    tx.put_delivery(queue("a"))?,
                    tx.put_delivery(queue("b"))?,
                ))
            })
            .await
            .unwrap();
        let ids = |v: Vec<Delivery>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
        assert_eq!(ids(desk.due_deliveries(now).unwrap()), vec![1, 2, 3]);
        desk.delivery_failed(a1, "HTTP 503".into(), false)
            .await
            .unwrap();
        assert_eq!(
            ids(desk.due_deliveries(now).unwrap()),
            vec![b1.id],
            "a's second message waits for its first"
        );
        assert_eq!(
            ids(desk.due_deliveries(now + Duration::seconds(5)).unwrap()),
            vec![1, 2, 3]
        );
        let first = desk.store().read().unwrap().list_deliveries().unwrap()[0].clone();
        desk.delivery_failed(first, "webhook 已停用".into(), true)
            .await
            .unwrap();
        assert_eq!(ids(desk.due_deliveries(now).unwrap()), vec![2, 3]);
        assert_eq!(ids(desk.failed_deliveries().unwrap()), vec![1]);
    }

    #[actix_web::test]
    async fn webhooks_keep_their_secret_unless_renewed() {
        let (_d, desk, _c) = desk();
        let w = desk
            .save_webhook(
                &Actor::cli(),
                "qianniu",
                "https://bridge.example/hook",
                true,
                false,
            )
            .await
            .unwrap();
        let again = desk
            .save_webhook(
                &Actor::cli(),
                "qianniu",
                "https://bridge.example/v2",
                true,
                false,
            )
            .await
            .unwrap();
        assert_eq!(w.secret, again.secret);
        let renewed = desk
            .save_webhook(
                &Actor::cli(),
                "qianniu",
                "https://bridge.example/v2",
                true,
                true,
            )
            .await
            .unwrap();
        assert_ne!(renewed.secret, w.secret);
        assert!(matches!(
            desk.save_webhook(&Actor::cli(), "qianniu", "ftp://x", true, false)
                .await,
            Err(Error::Invalid(_))
        ));
    }
}
