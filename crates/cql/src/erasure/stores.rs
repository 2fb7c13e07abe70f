//! Tenant erasure of the alert, anomaly and annotation stores (see the parent module docs for
//! how partitions are found and what is counted).

use async_trait::async_trait;
use costwatch_ports::{StoreError, TenantData};
use scylla::value::CqlValue;

use super::{Count, Eraser};
use crate::{CqlAlertStore, CqlAnnotations, CqlAnomalyStore};

#[async_trait]
impl TenantData for CqlAlertStore {
    fn holds(&self) -> &'static str {
        "budgets, alerts and rules"
    }

    /// Rows of `budgets`, `alerts`, `alert_outbox`, `resource_rules` and `sent_digests`.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        let e = Eraser::new(&self.session, self.keyspace(), None);
        let mut rows = self.erase_outbox(&e, tenant).await?;
        e.scanned("alerts_by_source", &["tenant", "source"], Count::No, tenant)
            .await?;
        for table in ["budgets", "alerts", "resource_rules", "sent_digests"] {
            rows += e.partition(table, Count::Rows, tenant).await?;
        }
        Ok(rows)
    }
}

impl CqlAlertStore {
    /// The outbox entries of the tenant's alerts (published or not: they name resources), in
    /// its [`crate::alerts::BUCKETS`] partitions, read whole (they hold pending entries only).
    async fn erase_outbox(&self, e: &Eraser<'_>, tenant: &str) -> Result<u64, StoreError> {
        let ks = self.keyspace();
        let select = e
            .prepare(format!(
                "SELECT seq, tenant, event FROM {ks}.alert_outbox WHERE bucket = ?"
            ))
            .await?;
        let delete = e
            .target("alert_outbox", &["bucket", "seq"], Count::One)
            .await?;
        let mut keys = Vec::new();
        for bucket in 0..crate::alerts::BUCKETS {
            // In 0..BUCKETS.
            let bucket = bucket as i32;
            for row in e.rows(&select, (bucket,)).await? {
                let [Some(seq), column, event] =
                    <[_; 3]>::try_from(row.columns).map_err(|_| StoreError::Corrupt {
                        table: "alert_outbox",
                        reason: "unexpected columns".into(),
                    })?
                else {
                    continue;
                };
                // The alert's tenant in the event; the `tenant` column is written from it.
                let of_event = match event {
                    Some(CqlValue::Text(event)) => {
                        serde_json::from_str::<serde_json::Value>(&event)
                            .ok()
                            .and_then(|v| Some(v.pointer("/alert/tenant")?.as_str()?.to_string()))
                    }
                    _ => None,
                };
                let of_column = match column {
                    Some(CqlValue::Text(t)) => Some(t),
                    _ => None,
                };
                if of_event.or(of_column).as_deref() == Some(tenant) {
                    keys.push(vec![CqlValue::Int(bucket), seq]);
                }
            }
        }
        e.remove_all(&delete, keys).await
    }
}

#[async_trait]
impl TenantData for CqlAnomalyStore {
    fn holds(&self) -> &'static str {
        "anomalies and detector state"
    }

    /// Rows of `anomaly_series` and `anomalies` (one per anomaly); the anomaly lists and the
    /// feedback go too, before the `anomalies` rows.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        let e = Eraser::new(&self.session, self.keyspace(), None);
        let by_day = ["tenant", "day"];
        e.indexed(
            "anomalies_by_day",
            by_day,
            Count::No,
            "anomaly_days",
            tenant,
        )
        .await?;
        let by_series = ["tenant", "series"];
        e.scanned("anomalies_by_series", &by_series, Count::No, tenant)
            .await?;
        e.scanned("anomaly_feedback", &["tenant", "id"], Count::No, tenant)
            .await?;
        let mut rows = e
            .scanned("anomalies", &["tenant", "id"], Count::One, tenant)
            .await?;
        rows += e.partition("anomaly_series", Count::Rows, tenant).await?;
        Ok(rows)
    }
}

#[async_trait]
impl TenantData for CqlAnnotations {
    fn holds(&self) -> &'static str {
        "chart annotations"
    }

    /// Rows of `annotations`; their `annotation_ids` lookups go too.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        let e = Eraser::new(&self.session, self.keyspace(), None);
        let rows = e
            .scanned("annotations", &["tenant", "year"], Count::Rows, tenant)
            .await?;
        e.scanned("annotation_ids", &["tenant", "id"], Count::No, tenant)
            .await?;
        Ok(rows)
    }
}
