//! The event bus: a partitioned, durable, replayable log of usage events, and the stream of cost
//! updates the aggregator emits after each commit.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_domain::{Currency, UsageEvent};
use futures::stream::BoxStream;
use rust_decimal::Decimal;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt record at partition {partition} offset {offset}: {reason}")]
    Corrupt {
        partition: u32,
        offset: u64,
        reason: String,
    },
    #[error("no such partition {0}")]
    NoSuchPartition(u32),
}

/// One event as stored in the log, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub partition: u32,
    pub offset: u64,
    pub event: UsageEvent,
    /// The W3C `traceparent` of the request that published it, when the log carries one (the
    /// Kafka log does, in a record header; the embedded log runs in one process and does not).
    pub trace_parent: Option<String>,
}

/// The usage-event log. Delivery is at-least-once: the same event may appear at several offsets
/// (a producer retry, a client resend); consumers dedupe by `(tenant, id)`.
#[async_trait]
pub trait UsageLog: Send + Sync + 'static {
    /// Appends the events; returns only once they are durable. Events of one tenant go to one
    /// partition, in order.
    async fn publish(&self, events: &[UsageEvent]) -> Result<(), BusError>;

    /// Reads up to `max` records of `partition` from offset `from` (inclusive), waiting up to
    /// `wait` for the first one when none is there yet.
    async fn read(
        &self,
        partition: u32,
        from: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, BusError>;

    /// Number of partitions.
    fn partitions(&self) -> u32;
}

/// Where events the aggregator could not count are announced (the dead-letter topic in
/// distributed mode), for operators and replay tools. The store keeps them too; this is the
/// stream. At-least-once: a letter may be published again after a crash; consumers drop
/// repeats by `(tenant, event_id)`.
#[async_trait]
pub trait DeadLetterLog: Send + Sync + 'static {
    async fn publish(&self, letters: &[crate::DeadLetter]) -> Result<(), BusError>;
}

/// What changed in a tenant's totals after an aggregator commit (the payload of the cost-updates
/// topic in distributed mode, JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CostUpdate {
    pub tenant: String,
    /// When the commit happened.
    pub committed_at: DateTime<Utc>,
    /// Events counted by the commit for this tenant.
    pub events: u64,
    /// Amount added, per currency, exact.
    pub added: BTreeMap<Currency, Decimal>,
    /// Ids of the events counted (bounded; used by clients to confirm their own writes).
    pub event_ids: Vec<String>,
}

/// The cost-update stream (a topic in distributed mode). Subscribers see updates published after
/// they subscribed.
#[async_trait]
pub trait CostUpdates: Send + Sync + 'static {
    async fn publish(&self, update: CostUpdate) -> Result<(), BusError>;
    fn subscribe(&self) -> BoxStream<'static, CostUpdate>;
}
