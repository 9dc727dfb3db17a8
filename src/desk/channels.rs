//! Channel bridges: API tokens (shown once, stored hashed), webhooks, and the webhook
//! delivery queue with its retry schedule.

use super::auth::{random_token, session_key};
use super::{Actor, Desk, Error, Result};
use crate::model::service::token_problems;
use crate::model::{ApiToken, Delivery, Invalid, Webhook};
use crate::store::{self, prelude::*};
use chrono::{DateTime, Duration, Utc};

/// Delivery attempts before a webhook message is given up on.
pub const MAX_ATTEMPTS: u32 = 6;
/// Failed deliveries kept for the owner to see.
const KEEP_FAILED: usize = 100;

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
        Ok((token, secret))
    }

    /// Revokes an API token.
    pub async fn revoke_token(&self, actor: &Actor, id: u64) -> Result<ApiToken> {
        let audit = self.audit(actor, "token.revoke", &id.to_string(), String::new());
        self.store
            .write(move |tx| {
                let t = tx.revoke_token(id)?.ok_or(store::Error::NotFound)?;
                let mut a = audit.clone();
                a.target = t.name.clone();
                tx.append_audit(&a)?;
                Ok(t)
            })
            .await
            .map_err(|e| match e {
                store::Error::NotFound => Error::NotFound,
                other => other.into(),
            })
    }

    /// The live token whose secret is `secret`.
    pub fn token_for(&self, secret: &str) -> Result<Option<ApiToken>> {
        let t = self.store.read()?.token_by_hash(&session_key(secret))?;
        Ok(t.filter(|t| !t.revoked))
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
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.len() > 500
            || url.contains(char::is_whitespace)
        {
            inv.add("url", "请填写 http:// 或 https:// 开头的地址");
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
        self.store
            .write(move |tx| {
                tx.put_webhook(&saved)?;
                tx.append_audit(&audit)
            })
            .await?;
        Ok(hook)
    }

    /// Deliveries due at `now`, oldest first.
    pub fn due_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        let mut due: Vec<Delivery> = self
            .store
            .read()?
            .list_deliveries()?
            .into_iter()
            .filter(|d| !d.failed && d.next_at <= now)
            .collect();
        due.sort_by_key(|d| d.id);
        Ok(due)
    }

    /// Removes a delivered message from the queue.
    pub async fn delivery_done(&self, id: u64) -> Result<()> {
        Ok(self.store.write(move |tx| tx.delete_delivery(id)).await?)
    }

    /// Records a failed attempt: retried later, or after the last attempt kept as failed
    /// for the owner to see (the oldest failures beyond 100 are dropped).
    pub async fn delivery_failed(&self, mut d: Delivery, error: String) -> Result<Delivery> {
        let now = self.clock.now();
        d.attempts += 1;
        d.last_error = Some(error);
        if d.attempts >= MAX_ATTEMPTS {
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
        let mut d = desk.delivery_failed(d, "HTTP 500".into()).await.unwrap();
        assert_eq!(d.next_at, now + Duration::seconds(5));
        assert!(
            desk.due_deliveries(now).unwrap().is_empty(),
            "not before the back-off"
        );
        for _ in 1..MAX_ATTEMPTS {
            d = desk.delivery_failed(d, "timeout".into()).await.unwrap();
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
