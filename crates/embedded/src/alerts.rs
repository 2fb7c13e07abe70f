//! Budgets, alerts and the alert outbox in SQLite, plus the in-process alert stream.

use std::path::Path;

use async_trait::async_trait;
use costwatch_domain::alerting::{Alert, AlertEvent, AlertState, ResourceRule};
use costwatch_domain::budget::Budget;
use costwatch_ports::{AlertStore, AlertStream, BusError, Outboxed, StoreError};
use futures::StreamExt;
use futures::stream::BoxStream;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use crate::OpenError;
use crate::db::Db;

const SCHEMA: &str = include_str!("../migrations/alerts.sql");

pub struct SqliteAlertStore {
    pub(crate) db: Db,
}

impl SqliteAlertStore {
    pub fn open(path: &Path) -> Result<SqliteAlertStore, OpenError> {
        Ok(SqliteAlertStore {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| e.to_string())
}

fn from_json<T: DeserializeOwned>(table: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

fn state_str(s: AlertState) -> &'static str {
    match s {
        AlertState::Triggered => "triggered",
        AlertState::Acknowledged => "acknowledged",
        AlertState::Resolved => "resolved",
    }
}

impl SqliteAlertStore {
    async fn docs(&self, sql: &'static str, args: Vec<String>) -> Result<Vec<String>, StoreError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(sql).map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl AlertStore for SqliteAlertStore {
    async fn put_budget(&self, budget: &Budget) -> Result<(), StoreError> {
        let doc = to_json(budget).map_err(StoreError::Unavailable)?;
        let (tenant, id, name) = (
            budget.tenant.clone(),
            budget.id.clone(),
            budget.spec.name.clone(),
        );
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO budgets (tenant, id, name, doc) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                    params![tenant, id, name, doc],
                )
                .map(|_| ())
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn delete_budget(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db
            .call(move |c| {
                c.execute(
                    "DELETE FROM budgets WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                )
                .map(|n| n > 0)
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn budget(&self, tenant: &str, id: &str) -> Result<Option<Budget>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM budgets WHERE tenant = ?1 AND id = ?2",
                vec![tenant.into(), id.into()],
            )
            .await?;
        docs.first().map(|d| from_json("budgets", d)).transpose()
    }

    async fn budgets(&self, tenant: &str) -> Result<Vec<Budget>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM budgets WHERE tenant = ?1 ORDER BY name, id",
                vec![tenant.into()],
            )
            .await?;
        docs.iter().map(|d| from_json("budgets", d)).collect()
    }

    async fn budget_tenants(&self) -> Result<Vec<String>, StoreError> {
        self.docs(
            "SELECT DISTINCT tenant FROM budgets ORDER BY tenant",
            vec![],
        )
        .await
    }

    async fn alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM alerts WHERE tenant = ?1 AND id = ?2",
                vec![tenant.into(), id.into()],
            )
            .await?;
        docs.first().map(|d| from_json("alerts", d)).transpose()
    }

    async fn alerts_of_source(&self, tenant: &str, source: &str) -> Result<Vec<Alert>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM alerts WHERE tenant = ?1 AND source = ?2",
                vec![tenant.into(), source.into()],
            )
            .await?;
        docs.iter().map(|d| from_json("alerts", d)).collect()
    }

    async fn alerts(
        &self,
        tenant: &str,
        state: Option<AlertState>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        let limit = limit.min(10_000).to_string();
        let docs = match state {
            None => {
                self.docs(
                    "SELECT doc FROM alerts WHERE tenant = ?1 ORDER BY updated_at DESC, id LIMIT ?2",
                    vec![tenant.into(), limit],
                )
                .await?
            }
            Some(s) => {
                self.docs(
                    "SELECT doc FROM alerts WHERE tenant = ?1 AND state = ?2
                     ORDER BY updated_at DESC, id LIMIT ?3",
                    vec![tenant.into(), state_str(s).into(), limit],
                )
                .await?
            }
        };
        docs.iter().map(|d| from_json("alerts", d)).collect()
    }

    async fn apply_alert_changes(&self, changes: Vec<Alert>) -> Result<Vec<Alert>, StoreError> {
        self.db
            .call(move |c| {
                let tx = c.transaction().map_err(|e| e.to_string())?;
                let mut applied = Vec::new();
                for alert in changes {
                    let stored: Option<i64> = tx
                        .query_row(
                            "SELECT version FROM alerts WHERE tenant = ?1 AND id = ?2",
                            params![alert.tenant, alert.id],
                            |r| r.get(0),
                        )
                        .optional()
                        .map_err(|e| e.to_string())?;
                    let expected = alert.version.checked_sub(1).map(|v| v as i64);
                    let fits = match stored {
                        None => expected == Some(0),
                        Some(v) => expected == Some(v),
                    };
                    if !fits {
                        continue;
                    }
                    let doc = to_json(&alert)?;
                    let event = to_json(&AlertEvent::of(alert.clone()))?;
                    tx.execute(
                        "INSERT INTO alerts (tenant, id, source, state, updated_at, version, doc)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state,
                           updated_at = excluded.updated_at, version = excluded.version, doc = excluded.doc",
                        params![
                            alert.tenant,
                            alert.id,
                            alert.source,
                            state_str(alert.state),
                            alert.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                            alert.version as i64,
                            doc
                        ],
                    )
                    .map_err(|e| e.to_string())?;
                    tx.execute("INSERT INTO alert_outbox (event) VALUES (?1)", params![event])
                        .map_err(|e| e.to_string())?;
                    applied.push(alert);
                }
                tx.commit().map_err(|e| e.to_string())?;
                Ok(applied)
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn unpublished(&self, limit: usize) -> Result<Vec<Outboxed>, StoreError> {
        let limit = limit.min(10_000) as i64;
        let rows = self
            .db
            .call(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT seq, event FROM alert_outbox WHERE published = 0 ORDER BY seq LIMIT ?1",
                    )
                    .map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map(params![limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        rows.into_iter()
            .map(|(seq, text)| {
                Ok(Outboxed {
                    seq: seq as u64,
                    event: from_json("alert_outbox", &text)?,
                })
            })
            .collect()
    }

    async fn mark_published(&self, seqs: &[u64]) -> Result<(), StoreError> {
        let seqs = seqs.to_vec();
        self.db
            .call(move |c| {
                let tx = c.transaction().map_err(|e| e.to_string())?;
                for s in seqs {
                    tx.execute(
                        "UPDATE alert_outbox SET published = 1 WHERE seq = ?1",
                        params![s as i64],
                    )
                    .map_err(|e| e.to_string())?;
                }
                tx.commit().map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn put_resource_rule(&self, rule: &ResourceRule) -> Result<(), StoreError> {
        let doc = to_json(rule).map_err(StoreError::Unavailable)?;
        let (tenant, id, name) = (rule.tenant.clone(), rule.id.clone(), rule.spec.name.clone());
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO resource_rules (tenant, id, name, doc) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                    params![tenant, id, name, doc],
                )
                .map(|_| ())
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn delete_resource_rule(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db
            .call(move |c| {
                c.execute(
                    "DELETE FROM resource_rules WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                )
                .map(|n| n > 0)
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn resource_rule(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ResourceRule>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM resource_rules WHERE tenant = ?1 AND id = ?2",
                vec![tenant.into(), id.into()],
            )
            .await?;
        docs.first()
            .map(|d| from_json("resource_rules", d))
            .transpose()
    }

    async fn resource_rules(&self, tenant: &str) -> Result<Vec<ResourceRule>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM resource_rules WHERE tenant = ?1 ORDER BY name, id",
                vec![tenant.into()],
            )
            .await?;
        docs.iter()
            .map(|d| from_json("resource_rules", d))
            .collect()
    }

    async fn record_digest_sent(
        &self,
        tenant: &str,
        kind: &str,
        window_start: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let (tenant, kind) = (tenant.to_string(), kind.to_string());
        let start = window_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO sent_digests (tenant, kind, window_start, sent_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![tenant, kind, start, now],
                )
                .map(|n| n > 0)
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn digest_sent(
        &self,
        tenant: &str,
        kind: &str,
        window_start: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let start = window_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let rows = self
            .docs(
                "SELECT sent_at FROM sent_digests WHERE tenant = ?1 AND kind = ?2 AND window_start = ?3",
                vec![tenant.into(), kind.into(), start],
            )
            .await?;
        Ok(!rows.is_empty())
    }
}

/// In-process alert stream for `costwatch up`. A subscriber that falls more than `capacity`
/// behind misses events (it can re-read alerts from the store); the notifier is fed from the
/// outbox, not from here.
pub struct BroadcastAlerts {
    tx: broadcast::Sender<AlertEvent>,
}

impl Default for BroadcastAlerts {
    fn default() -> Self {
        BroadcastAlerts {
            tx: broadcast::channel(1024).0,
        }
    }
}

#[async_trait]
impl AlertStream for BroadcastAlerts {
    async fn publish(&self, event: AlertEvent) -> Result<(), BusError> {
        let _ = self.tx.send(event);
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, AlertEvent> {
        tokio_stream::wrappers::BroadcastStream::new(self.tx.subscribe())
            .filter_map(|r| async move { r.ok() })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> SqliteAlertStore {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteAlertStore::open(&dir.join("alerts.sqlite")).expect("open")
    }

    costwatch_ports::alert_store_contract!(fresh());
}
