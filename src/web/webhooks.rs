//! The webhook worker: posts queued agent and bot messages to each channel's webhook,
//! signed with the webhook's secret; the desk keeps the queue and its retry schedule.
//! Also the service sweep (queue drain, re-route, idle close) that runs beside it.

use crate::AppState;
use crate::desk::Desk;
use crate::desk::channels::{TOO_OLD, max_age, signature};
use crate::model::{Delivery, Webhook};
use actix_web::web::Data;
use std::collections::HashMap;
use std::time::Duration;

/// Header with `sha256=<hex HMAC-SHA256 of the body under the webhook secret>`.
pub const SIGNATURE_HEADER: &str = "X-Xiaoer-Signature";
/// Header with the delivery id: the same id again means a retry of the same message.
pub const DELIVERY_HEADER: &str = "X-Xiaoer-Delivery";
/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries are looked at this often even without a doorbell (for retries).
const TICK: Duration = Duration::from_secs(5);
/// The service sweep runs this often.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// The HTTP client for webhooks: no redirects followed, status codes as data.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("xiaoer/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Starts the webhook worker and the service sweep on the current runtime.
pub fn spawn(state: Data<AppState>) {
    let worker = state.clone();
    actix_web::rt::spawn(async move {
        let client = client();
        loop {
            deliver_due(&worker.desk, &client).await;
            let bus = worker.desk.bus().clone();
            tokio::select! {
                _ = bus.outbox_rung() => {}
                _ = actix_web::rt::time::sleep(TICK) => {}
            }
        }
    });
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            match state.desk.sweep().await {
                Ok(s) if s.assigned + s.rerouted + s.closed > 0 => tracing::info!(
                    assigned = s.assigned,
                    rerouted = s.rerouted,
                    closed = s.closed,
                    "service sweep"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "service sweep failed"),
            }
        }
    });
}

/// Sends every delivery due now, one channel's messages in order; returns how many
/// were delivered.
pub async fn deliver_due(desk: &Desk, client: &ureq::Agent) -> usize {
    let due = match desk.due_deliveries(desk.clock().now()) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the webhook queue");
            return 0;
        }
    };
    if due.is_empty() {
        return 0;
    }
    let hooks: HashMap<String, Webhook> = match desk.webhooks() {
        Ok(h) => h.into_iter().map(|h| (h.channel.clone(), h)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read webhooks");
            return 0;
        }
    };
    let mut stopped = std::collections::HashSet::new();
    let mut delivered = 0;
    let now = desk.clock().now();
    for d in due {
        if stopped.contains(&d.channel) {
            continue;
        }
        let result = match hooks.get(&d.channel).filter(|h| h.enabled) {
            _ if now - d.created_at >= max_age() => {
                let (id, channel) = (d.id, d.channel.clone());
                tracing::warn!(delivery = id, %channel, "webhook delivery too old: dropped");
                desk.delivery_failed(d, TOO_OLD.into(), true)
                    .await
                    .map(|_| ())
            }
            None => {
                let (id, channel) = (d.id, d.channel.clone());
                let r = desk
                    .delivery_failed(d, "该渠道的 webhook 已停用或已删除".into(), true)
                    .await;
                tracing::warn!(delivery = id, %channel, "webhook gone: delivery dropped");
                r.map(|_| ())
            }
            Some(hook) => match post(client, hook, &d).await {
                Ok(()) => {
                    delivered += 1;
                    desk.delivery_done(d.id).await
                }
                Err(why) => {
                    tracing::warn!(delivery = d.id, channel = %d.channel, error = %why, "webhook delivery failed");
                    stopped.insert(d.channel.clone());
                    desk.delivery_failed(d, why, false).await.map(|_| ())
                }
            },
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot update the webhook queue");
        }
    }
    delivered
}

/// POSTs one delivery; any 2xx is success, anything else the reason it failed.
async fn post(client: &ureq::Agent, hook: &Webhook, d: &Delivery) -> Result<(), String> {
    let (client, url, body, id) = (client.clone(), hook.url.clone(), d.body.clone(), d.id);
    let sig = signature(&hook.secret, body.as_bytes());
    let sent = actix_web::rt::task::spawn_blocking(move || {
        client
            .post(&url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &sig)
            .header(DELIVERY_HEADER, id.to_string())
            .send(body.as_bytes())
    })
    .await;
    match sent {
        Ok(Ok(res)) if res.status().is_success() => Ok(()),
        Ok(Ok(res)) => Err(format!("HTTP {}", res.status().as_u16())),
        Ok(Err(e)) => Err(send_trouble(&e)),
        Err(e) => Err(format!("worker: {e}")),
    }
}

/// Why a webhook could not be sent, in words the owner can act on (ureq's are English).
fn send_trouble(e: &ureq::Error) -> String {
    use std::io::ErrorKind;
    match e {
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => {
                "连接被拒绝：对方的服务没有启动，或地址、端口填错了".into()
            }
            ErrorKind::TimedOut => "连接超时：对方没有响应".into(),
            _ => format!("网络错误：{io}"),
        },
        ureq::Error::Timeout(_) => "请求超时：对方没有及时响应".into(),
        ureq::Error::HostNotFound => "找不到这个域名：请检查 webhook 地址".into(),
        ureq::Error::ConnectionFailed => "连接失败：请检查 webhook 地址和网络".into(),
        other => format!("发送失败：{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_failures_are_told_in_chinese() {
        let refused = ureq::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(send_trouble(&refused).starts_with("连接被拒绝"));
        assert!(send_trouble(&ureq::Error::HostNotFound).starts_with("找不到这个域名"));
    }
}
