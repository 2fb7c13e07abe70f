//! Budgets, alerts and the alert stream.
//!
//! Alerts change through [`AlertStore::apply_alert_changes`], which stores each change and its
//! [`AlertEvent`] in an outbox in one atomic write. A publisher drains the outbox to the
//! [`AlertStream`] and only then marks the events published, so a crash between the two
//! re-publishes (consumers drop repeats by `event_id`) and never loses one.

use async_trait::async_trait;
use costwatch_domain::alerting::{Alert, AlertEvent, AlertState, ResourceRule};
use costwatch_domain::budget::Budget;
use futures::stream::BoxStream;

use crate::{BusError, StoreError};

/// An outbox entry: `seq` orders entries and names them for [`AlertStore::mark_published`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outboxed {
    pub seq: u64,
    pub event: AlertEvent,
}

#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// Creates or replaces a budget (keyed by tenant and id).
    async fn put_budget(&self, budget: &Budget) -> Result<(), StoreError>;

    /// Deletes a budget; `false` when it did not exist.
    async fn delete_budget(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;

    async fn budget(&self, tenant: &str, id: &str) -> Result<Option<Budget>, StoreError>;

    /// A tenant's budgets, by name.
    async fn budgets(&self, tenant: &str) -> Result<Vec<Budget>, StoreError>;

    /// Tenants that have at least one budget.
    async fn budget_tenants(&self) -> Result<Vec<String>, StoreError>;

    async fn alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError>;

    /// Every alert (any state) of one evaluation source of a tenant.
    async fn alerts_of_source(&self, tenant: &str, source: &str) -> Result<Vec<Alert>, StoreError>;

    /// A tenant's alerts, optionally in one state, most recently changed first.
    async fn alerts(
        &self,
        tenant: &str,
        state: Option<AlertState>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError>;

    /// Stores each changed alert whose stored version is exactly one less (or absent for a new
    /// alert) together with its event in the outbox, atomically. Changes that lost a race are
    /// skipped (the next evaluation reconciles them). Returns the changes applied.
    async fn apply_alert_changes(&self, changes: Vec<Alert>) -> Result<Vec<Alert>, StoreError>;

    /// Outbox entries not yet published, oldest first.
    async fn unpublished(&self, limit: usize) -> Result<Vec<Outboxed>, StoreError>;

    async fn mark_published(&self, seqs: &[u64]) -> Result<(), StoreError>;

    /// Creates or replaces a resource utilization rule (keyed by tenant and id).
    async fn put_resource_rule(&self, rule: &ResourceRule) -> Result<(), StoreError>;

    /// Deletes a rule; `false` when it did not exist.
    async fn delete_resource_rule(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;

    async fn resource_rule(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ResourceRule>, StoreError>;

    /// A tenant's resource rules, by name.
    async fn resource_rules(&self, tenant: &str) -> Result<Vec<ResourceRule>, StoreError>;

    /// Records that the digest of `kind` for the window starting at `window_start` went out to
    /// `tenant`; `false` when it was already recorded (a restart must not send it again).
    async fn record_digest_sent(
        &self,
        tenant: &str,
        kind: &str,
        window_start: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;

    async fn digest_sent(
        &self,
        tenant: &str,
        kind: &str,
        window_start: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;
}

/// Where alert events go once stored: subscriptions, the notifier (and the alerts topic in
/// distributed mode).
#[async_trait]
pub trait AlertStream: Send + Sync + 'static {
    async fn publish(&self, event: AlertEvent) -> Result<(), BusError>;
    fn subscribe(&self) -> BoxStream<'static, AlertEvent>;
}

/// How an alert change was delivered over one channel (the notifier's record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub alert_id: String,
    pub channel: String,
    /// The alert state the delivery is about (`triggered`, `acknowledged`, `resolved`).
    pub alert_state: String,
    /// `pending`, `delivered`, `retrying` or `dead_lettered`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Read access to delivery status and dead letters, for the APIs.
pub trait DeliveryView: Send + Sync + 'static {
    /// The latest delivery of `alert_id` per channel.
    fn deliveries(&self, alert_id: &str) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// Dead-lettered deliveries of a tenant's alerts, newest first.
    fn dead_letters(&self, tenant: &str, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError>;
}
