//! Where the anomaly store announces new anomalies (see "The subscription" in the module docs).

use std::future::Future;
use std::pin::Pin;

use costwatch_ports::{AnomalyRecord, BusError};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;

/// What [`AnomalyFeed::announce`] returns (a plain boxed future, so a feed can be written without
/// `async_trait`).
pub type Announce<'a> = Pin<Box<dyn Future<Output = Result<(), BusError>> + Send + 'a>>;
/// What [`AnomalyFeed::subscribe`] returns.
pub type AnomalyStream = BoxStream<'static, AnomalyRecord>;

/// Where the store announces new anomalies, and where subscribers get them from.
pub trait AnomalyFeed: Send + Sync + 'static {
    /// Sends a newly stored anomaly to every subscriber (of every process sharing the feed).
    fn announce<'a>(&'a self, anomaly: &'a AnomalyRecord) -> Announce<'a>;
    /// Anomalies announced from now on.
    fn subscribe(&self) -> AnomalyStream;
}

/// An in-process feed: subscribers of this process only (tests, single-process use).
pub struct LocalAnomalyFeed {
    tx: broadcast::Sender<AnomalyRecord>,
}

impl Default for LocalAnomalyFeed {
    fn default() -> Self {
        // A subscriber more than this far behind misses anomalies (it can list them).
        LocalAnomalyFeed {
            tx: broadcast::channel(1024).0,
        }
    }
}

impl AnomalyFeed for LocalAnomalyFeed {
    fn announce<'a>(&'a self, anomaly: &'a AnomalyRecord) -> Announce<'a> {
        // No subscriber is not an error.
        let _ = self.tx.send(anomaly.clone());
        Box::pin(futures::future::ready(Ok(())))
    }

    fn subscribe(&self) -> AnomalyStream {
        futures::stream::unfold(self.tx.subscribe(), |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(a) => return Some((a, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}
