//! Tenant erasure for every embedded store (see `costwatch_ports::erasure`). Each store deletes
//! its tenant rows in one transaction, then rewrites its file without them (`db::scrub`).

use async_trait::async_trait;
use costwatch_ports::{StoreError, TenantData};

use crate::{
    SqliteAlertStore, SqliteAnnotations, SqliteAnomalyStore, SqliteApiKeys, SqliteLog, SqliteStore,
};

#[async_trait]
impl TenantData for SqliteStore {
    fn holds(&self) -> &'static str {
        "cost projections"
    }

    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        const DELETES: &[&str] = &[
            "DELETE FROM counted_events WHERE tenant = ?1",
            "DELETE FROM meters WHERE tenant = ?1",
            "DELETE FROM rollups WHERE tenant = ?1",
            "DELETE FROM dead_letters WHERE tenant = ?1",
            "DELETE FROM tenants WHERE tenant = ?1",
        ];
        self.writer
            .erase_tenant(DELETES, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantData for SqliteAlertStore {
    fn holds(&self) -> &'static str {
        "budgets, alerts and rules"
    }

    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        const DELETES: &[&str] = &[
            "DELETE FROM budgets WHERE tenant = ?1",
            "DELETE FROM alerts WHERE tenant = ?1",
            // The outbox keeps whole alert events (published ones too): they name resources.
            "DELETE FROM alert_outbox WHERE json_extract(event, '$.alert.tenant') = ?1",
            "DELETE FROM resource_rules WHERE tenant = ?1",
            "DELETE FROM sent_digests WHERE tenant = ?1",
        ];
        self.db
            .erase_tenant(DELETES, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantData for SqliteAnomalyStore {
    fn holds(&self) -> &'static str {
        "anomalies and detector state"
    }

    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        const DELETES: &[&str] = &[
            "DELETE FROM anomaly_series WHERE tenant = ?1",
            "DELETE FROM anomalies WHERE tenant = ?1",
        ];
        self.db
            .erase_tenant(DELETES, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantData for SqliteAnnotations {
    fn holds(&self) -> &'static str {
        "chart annotations"
    }

    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        const DELETES: &[&str] = &["DELETE FROM annotations WHERE tenant = ?1"];
        self.db
            .erase_tenant(DELETES, tenant)
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl TenantData for SqliteLog {
    fn holds(&self) -> &'static str {
        "usage events"
    }

    /// Offsets are AUTOINCREMENT row ids, never reused, so consumers past the erased events
    /// keep their positions and nothing else is read twice.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        const DELETES: &[&str] = &["DELETE FROM usage_log WHERE tenant = ?1"];
        self.db
            .erase_tenant(DELETES, tenant)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl TenantData for SqliteApiKeys {
    fn holds(&self) -> &'static str {
        "API keys"
    }

    /// A key of only this tenant is deleted; a key of several loses this one (row count: both).
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        let tenant = tenant.to_string();
        self.db
            .call(move |conn| {
                let changed = narrow_keys(conn, &tenant)?;
                crate::db::scrub(conn)?;
                Ok(changed)
            })
            .await
            .map_err(StoreError::Unavailable)
    }
}

fn narrow_keys(conn: &mut rusqlite::Connection, tenant: &str) -> Result<u64, String> {
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    let keys: Vec<(String, Vec<String>)> = {
        let mut stmt = tx
            .prepare("SELECT id, tenants FROM api_keys")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| e.to_string())?;
        let mut keys = Vec::new();
        for row in rows {
            let (id, tenants) = row.map_err(|e| e.to_string())?;
            let tenants: Vec<String> = serde_json::from_str(&tenants)
                .map_err(|e| format!("api_keys.tenants of {id}: {e}"))?;
            if tenants.iter().any(|t| t == tenant) {
                keys.push((id, tenants));
            }
        }
        keys
    };
    let mut changed = 0u64;
    for (id, tenants) in keys {
        let rest: Vec<&String> = tenants.iter().filter(|t| *t != tenant).collect();
        changed += if rest.is_empty() {
            tx.execute("DELETE FROM api_keys WHERE id = ?1", [&id])
        } else {
            let rest = serde_json::to_string(&rest).map_err(|e| e.to_string())?;
            tx.execute(
                "UPDATE api_keys SET tenants = ?2 WHERE id = ?1",
                [&id, &rest],
            )
        }
        .map_err(|e| e.to_string())? as u64;
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use costwatch_ports::UsageLog;
    use costwatch_ports::contract::sample_event;

    use super::*;

    const MARKER: &str = "arn:aws:rds:eu-west-1:123456789012:db/acme-secret-customer-db";

    /// Every byte of the data dir's files, to look for a marker.
    fn files_contain(dir: &std::path::Path, needle: &str) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|e| e.ok())
            .filter(|e| {
                let bytes = std::fs::read(e.path()).unwrap_or_default();
                bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[tokio::test]
    async fn usage_log_erasure_leaves_no_bytes_and_keeps_offsets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = SqliteLog::open(&dir.path().join("log.sqlite")).expect("open");
        let mut events = Vec::new();
        for i in 0..50 {
            let mut e = sample_event(if i % 2 == 0 { "acme" } else { "globex" }, &format!("e{i}"));
            if e.tenant.to_string() == "acme" {
                e.resource = MARKER.into();
            }
            events.push(e);
        }
        log.publish(&events).await.expect("publish");
        assert!(
            !files_contain(dir.path(), MARKER).is_empty(),
            "marker not written"
        );

        assert_eq!(log.erase_tenant("acme").await.expect("erase"), 25);
        assert_eq!(
            files_contain(dir.path(), MARKER),
            Vec::<String>::new(),
            "erased bytes left in the files"
        );
        let left = log
            .read(0, 0, 100, Duration::from_millis(10))
            .await
            .expect("read");
        assert_eq!(left.len(), 25);
        assert!(left.iter().all(|r| r.event.tenant.to_string() == "globex"));
        // Offsets are never reused: a new event goes after every erased one.
        let last = left.last().map(|r| r.offset).expect("records");
        log.publish(&[sample_event("globex", "late")])
            .await
            .expect("publish");
        let after = log
            .read(0, last + 1, 10, Duration::from_millis(10))
            .await
            .expect("read");
        assert_eq!(after.len(), 1);
        assert!(after[0].offset > last);
    }
}
