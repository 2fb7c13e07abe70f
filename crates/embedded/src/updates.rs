use async_trait::async_trait;
use costwatch_ports::{BusError, CostUpdate, CostUpdates};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;

/// In-process cost-update stream. A subscriber that falls more than `capacity` updates behind
/// skips the missed ones (updates are notifications; totals are always re-read from the store).
pub struct BroadcastUpdates {
    tx: broadcast::Sender<CostUpdate>,
}

impl BroadcastUpdates {
    pub fn new(capacity: usize) -> Self {
        BroadcastUpdates {
            tx: broadcast::channel(capacity).0,
        }
    }
}

impl Default for BroadcastUpdates {
    fn default() -> Self {
        BroadcastUpdates::new(4096)
    }
}

#[async_trait]
impl CostUpdates for BroadcastUpdates {
    async fn publish(&self, update: CostUpdate) -> Result<(), BusError> {
        // No subscriber is not an error.
        let _ = self.tx.send(update);
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, CostUpdate> {
        tokio_stream::wrappers::BroadcastStream::new(self.tx.subscribe())
            .filter_map(|r| async move { r.ok() })
            .boxed()
    }
}
