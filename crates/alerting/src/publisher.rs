//! Drains the alert outbox: each stored alert change goes to the alert stream and every sink
//! (the notifier) before it is marked published. A crash in between publishes it again on
//! restart; consumers drop repeats by `event_id` (the notifier by alert × state).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use costwatch_domain::alerting::AlertEvent;
use costwatch_ports::{AlertStore, AlertStream};
use tokio::sync::{Notify, watch};

use crate::AlertingError;

/// Something that must see every alert change at least once (the notifier).
#[async_trait]
pub trait AlertSink: Send + Sync + 'static {
    /// Returns once the event is handled (delivered, or given up on and dead-lettered: the
    /// sink keeps its own record). An `Err` leaves the event in the outbox for a retry.
    async fn deliver(&self, event: &AlertEvent) -> Result<(), String>;
}

pub struct Publisher {
    store: Arc<dyn AlertStore>,
    stream: Arc<dyn AlertStream>,
    sinks: Vec<Arc<dyn AlertSink>>,
    wake: Arc<Notify>,
}

const BATCH: usize = 100;
/// Without a wake-up the outbox is still polled this often (another process may have written).
const POLL: Duration = Duration::from_millis(500);

impl Publisher {
    pub fn new(
        store: Arc<dyn AlertStore>,
        stream: Arc<dyn AlertStream>,
        sinks: Vec<Arc<dyn AlertSink>>,
    ) -> Publisher {
        Publisher {
            store,
            stream,
            sinks,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Notify this after storing alert changes to publish them at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Publishes what is pending; returns how many events were published. Stops at the first
    /// event a sink could not take, keeping the order.
    pub async fn drain_once(&self) -> Result<usize, AlertingError> {
        let mut published = 0;
        loop {
            let pending = self.store.unpublished(BATCH).await?;
            if pending.is_empty() {
                return Ok(published);
            }
            for entry in pending {
                if let Err(e) = self.stream.publish(entry.event.clone()).await {
                    tracing::warn!(error = %e, event = %entry.event.event_id, "alert stream publish failed; will retry");
                    return Ok(published);
                }
                for sink in &self.sinks {
                    if let Err(e) = sink.deliver(&entry.event).await {
                        tracing::warn!(error = %e, event = %entry.event.event_id, "alert sink failed; will retry");
                        return Ok(published);
                    }
                }
                self.store.mark_published(&[entry.seq]).await?;
                published += 1;
            }
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.drain_once().await {
                tracing::warn!(error = %e, "alert outbox unavailable; retrying");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
