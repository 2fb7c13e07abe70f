//! The projection store: rollups, meters, counted-event ids and consumer positions, written
//! together in one atomic commit so a crash at any instant neither loses nor double-counts.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::{Granularity, RollupKey, RollupRow, RollupValue};
use rust_decimal::Decimal;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error(
        "positions of consumer {consumer:?} moved since they were read (another instance is writing); refusing the commit"
    )]
    Fenced { consumer: String },
    #[error("corrupt value in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
}

/// An event that could not be counted, kept with the reason (never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub tenant: String,
    pub event_id: String,
    pub event_json: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Everything one aggregator batch changes, applied atomically.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub consumer: String,
    /// The positions the batch was read from; the commit is refused if they changed (fencing).
    pub expected_positions: BTreeMap<u32, u64>,
    /// The positions after the batch (next offset to read per partition).
    pub positions: BTreeMap<u32, u64>,
    /// `(tenant, event id)` of the events counted.
    pub counted: Vec<(String, String)>,
    /// New meter readings (absolute, not deltas).
    pub meters: HashMap<MeterKey, Decimal>,
    /// Amounts to add to rollup cells.
    pub deltas: BTreeMap<RollupKey, RollupValue>,
    pub dead_letters: Vec<DeadLetter>,
}

#[async_trait]
pub trait CostStore: Send + Sync + 'static {
    /// Next offset per partition for `consumer` (missing partitions start at 0).
    async fn positions(&self, consumer: &str) -> Result<BTreeMap<u32, u64>, StoreError>;

    /// Which of `ids` were already counted.
    async fn seen(&self, ids: &[(String, String)])
    -> Result<HashSet<(String, String)>, StoreError>;

    /// Current readings of the meters (missing = zero).
    async fn meters(&self, keys: &[MeterKey]) -> Result<HashMap<MeterKey, Decimal>, StoreError>;

    /// Applies a commit atomically, or not at all.
    async fn commit(&self, commit: Commit) -> Result<(), StoreError>;

    /// Rollup cells of one tenant and granularity with `from <= bucket < to`.
    async fn rollups(
        &self,
        tenant: &str,
        granularity: Granularity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError>;

    /// Tenants with any counted cost.
    async fn tenants(&self) -> Result<Vec<String>, StoreError>;

    /// Dead-lettered events of a tenant, newest first.
    async fn dead_letters(&self, tenant: &str, limit: usize)
    -> Result<Vec<DeadLetter>, StoreError>;
}
