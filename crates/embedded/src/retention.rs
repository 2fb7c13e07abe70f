//! Retention for the embedded stores (see `costwatch_ports::retention`). Each time column is
//! compared as text in the exact format it is written in, so text order is time order.
//! Not time-bound, so kept: idempotency keys (`counted_events` — they stop an old event that is
//! delivered again from being counted again), budgets, rules, API keys, detector state.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::Granularity;
use costwatch_domain::retention::{first_kept_bucket, first_kept_month};
use costwatch_ports::{StoreError, TenantRetention};
use rusqlite::types::Value;

use crate::{SqliteAlertStore, SqliteAnnotations, SqliteAnomalyStore, SqliteLog, SqliteStore};

fn text(t: String) -> Value {
    Value::Text(t)
}

#[async_trait]
impl TenantRetention for SqliteStore {
    fn holds(&self) -> &'static str {
        "cost projections"
    }

    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        const ROLLUPS: [&str; 4] = [
            "DELETE FROM rollups WHERE tenant = ?1 AND granularity = 'minute' AND bucket < ?2",
            "DELETE FROM rollups WHERE tenant = ?1 AND granularity = 'hour' AND bucket < ?2",
            "DELETE FROM rollups WHERE tenant = ?1 AND granularity = 'day' AND bucket < ?2",
            "DELETE FROM rollups WHERE tenant = ?1 AND granularity = 'month' AND bucket < ?2",
        ];
        let mut deletes: Vec<(&'static str, Value)> = Granularity::ALL
            .iter()
            .zip(ROLLUPS)
            .map(|(g, sql)| {
                debug_assert!(sql.contains(&format!("'{}'", g.as_str())));
                (
                    sql,
                    Value::Integer(first_kept_bucket(*g, cutoff).timestamp()),
                )
            })
            .collect();
        deletes.push((
            "DELETE FROM meters WHERE tenant = ?1 AND month < ?2",
            text(first_kept_month(cutoff)),
        ));
        // Written with `to_rfc3339()`.
        deletes.push((
            "DELETE FROM dead_letters WHERE tenant = ?1 AND at < ?2",
            text(cutoff.to_rfc3339()),
        ));
        self.writer
            .expire_tenant(deletes, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantRetention for SqliteLog {
    fn holds(&self) -> &'static str {
        "usage events"
    }

    /// By the event's own timestamp (serde's RFC 3339, `Z`): to the second, as text.
    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deletes = vec![(
            "DELETE FROM usage_log WHERE tenant = ?1 AND json_extract(payload, '$.timestamp') < ?2",
            text(cutoff.to_rfc3339_opts(SecondsFormat::Secs, true)),
        )];
        self.db
            .expire_tenant(deletes, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantRetention for SqliteAlertStore {
    fn holds(&self) -> &'static str {
        "alerts and sent digests"
    }

    /// Resolved alerts last changed before the cutoff; an open alert stays however old.
    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deletes = vec![
            (
                "DELETE FROM alerts WHERE tenant = ?1 AND state = 'resolved' AND updated_at < ?2",
                text(cutoff.to_rfc3339_opts(SecondsFormat::Nanos, true)),
            ),
            (
                "DELETE FROM sent_digests WHERE tenant = ?1 AND window_start < ?2",
                text(cutoff.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ),
        ];
        self.db
            .expire_tenant(deletes, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantRetention for SqliteAnomalyStore {
    fn holds(&self) -> &'static str {
        "anomalies"
    }

    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deletes = vec![(
            "DELETE FROM anomalies WHERE tenant = ?1 AND window_start < ?2",
            text(cutoff.to_rfc3339_opts(SecondsFormat::Micros, true)),
        )];
        self.db
            .expire_tenant(deletes, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantRetention for SqliteAnnotations {
    fn holds(&self) -> &'static str {
        "chart annotations"
    }

    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deletes = vec![(
            "DELETE FROM annotations WHERE tenant = ?1 AND day < ?2",
            text(cutoff.format("%Y-%m-%d").to_string()),
        )];
        self.db
            .expire_tenant(deletes, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use costwatch_ports::retention_contract as contract;

    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[tokio::test]
    async fn cost_store() {
        let d = dir();
        let store = SqliteStore::open(&d.path().join("s.sqlite")).expect("open");
        contract::cost_store_expires_before_the_cutoff(store).await;
    }

    #[tokio::test]
    async fn usage_log() {
        let d = dir();
        let log = SqliteLog::open(&d.path().join("l.sqlite")).expect("open");
        contract::usage_log_expires_before_the_cutoff(log).await;
    }

    #[tokio::test]
    async fn alert_store() {
        let d = dir();
        let store = SqliteAlertStore::open(&d.path().join("a.sqlite")).expect("open");
        contract::alert_store_expires_only_resolved_alerts(store).await;
    }

    #[tokio::test]
    async fn anomaly_store() {
        let d = dir();
        let store = SqliteAnomalyStore::open(&d.path().join("n.sqlite")).expect("open");
        contract::anomaly_store_expires_before_the_cutoff(store).await;
    }

    #[tokio::test]
    async fn annotation_store() {
        let d = dir();
        let store = SqliteAnnotations::open(&d.path().join("t.sqlite")).expect("open");
        contract::annotation_store_expires_before_the_cutoff(&store).await;
    }
}
