//! The live event bus: every committed event is published here for the SSE streams of
//! buyer pages, consoles and monitors. Subscribers that fall behind catch up from the
//! stored event log, so the bus itself may drop.

use crate::model::Event;
use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

/// Events published after their commit, and a doorbell for the webhook worker.
#[derive(Clone)]
pub struct Bus {
    events: broadcast::Sender<Arc<Event>>,
    outbox: Arc<Notify>,
}

impl Default for Bus {
    fn default() -> Bus {
        Bus {
            events: broadcast::channel(4096).0,
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
        }
    }

    /// Receives events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
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
