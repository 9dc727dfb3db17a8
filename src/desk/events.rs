//! The live event bus: every committed event is published here for the SSE streams of
//! buyer pages, consoles and monitors. Subscribers that fall behind catch up from the
//! stored event log, so the bus itself may drop.

use crate::model::{ConvId, ConvState, Event, EventKind};
use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

/// Events published after their commit, the conversations that closed (for the
/// inspector, which would otherwise be woken by every message), and a doorbell for the
/// webhook worker.
#[derive(Clone)]
pub struct Bus {
    events: broadcast::Sender<Arc<Event>>,
    closes: broadcast::Sender<ConvId>,
    outbox: Arc<Notify>,
}

impl Default for Bus {
    fn default() -> Bus {
        Bus {
            events: broadcast::channel(4096).0,
            closes: broadcast::channel(1024).0,
            outbox: Arc::new(Notify::new()),
        }
    }
}

impl Bus {
    /// Publishes committed events, in order.
    pub fn publish(&self, events: &[Event]) {
        for e in events {
            // No subscriber is fine: nobody is watching.
            let _ = self.events.send(Arc::new(e.clone()));
            if matches!(
                e.kind,
                EventKind::State {
                    to: ConvState::Closed,
                    ..
                }
            ) {
                let _ = self.closes.send(e.conv);
            }
        }
    }

    /// Receives events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Receives the conversations that close from now on.
    pub fn subscribe_closes(&self) -> broadcast::Receiver<ConvId> {
        self.closes.subscribe()
    }

    /// Wakes the webhook worker: deliveries were queued.
    pub fn ring_outbox(&self) {
        self.outbox.notify_one();
    }

    /// Waits for the webhook doorbell.
    pub async fn outbox_rung(&self) {
        self.outbox.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(seq: u64, conv: u64, kind: EventKind) -> Event {
        Event {
            seq,
            at: chrono::Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap(),
            conv: ConvId(conv),
            channel: "web".into(),
            kind,
        }
    }

    #[test]
    fn every_event_goes_to_subscribers_and_only_closes_to_the_close_stream() {
        let bus = Bus::default();
        let mut all = bus.subscribe();
        let mut closes = bus.subscribe_closes();
        let state = |to| EventKind::State {
            from: ConvState::Human,
            to,
            reason: "test".into(),
        };
        bus.publish(&[
            event(
                1,
                7,
                EventKind::Message {
                    seq: 1,
                    from: "buyer".into(),
                },
            ),
            event(2, 7, state(ConvState::Bot)),
            event(3, 7, state(ConvState::Closed)),
            event(
                4,
                8,
                EventKind::Message {
                    seq: 1,
                    from: "bot".into(),
                },
            ),
        ]);
        let seqs: Vec<u64> = std::iter::from_fn(|| all.try_recv().ok().map(|e| e.seq)).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert_eq!(closes.try_recv().ok(), Some(ConvId(7)));
        assert!(closes.try_recv().is_err(), "nothing but the close");
    }
}
