//! Anomalies, detector state and feedback in SQLite, with an in-process stream of new anomalies.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_ports::{AnomalyRecord, AnomalyStore, Feedback, SeriesState, StoreError};
use futures::StreamExt;
use futures::stream::BoxStream;
use rusqlite::{OptionalExtension, params};
use tokio::sync::broadcast;

use crate::OpenError;
use crate::db::Db;

const SCHEMA: &str = include_str!("../migrations/anomalies.sql");
const TABLE: &str = "anomalies";

pub struct SqliteAnomalyStore {
    pub(crate) db: Db,
    tx: broadcast::Sender<AnomalyRecord>,
}

impl SqliteAnomalyStore {
    pub fn open(path: &Path) -> Result<SqliteAnomalyStore, OpenError> {
        Ok(SqliteAnomalyStore {
            db: Db::open(path, SCHEMA)?,
            // A subscriber more than this far behind misses anomalies (it can list them).
            tx: broadcast::channel(1024).0,
        })
    }
}

/// Fixed width, so text order in SQLite is time order.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(table: &'static str, s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            table,
            reason: format!("{s:?}: {e}"),
        })
}

fn decode(text: &str) -> Result<AnomalyRecord, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table: TABLE,
        reason: e.to_string(),
    })
}

fn encode(a: &AnomalyRecord) -> Result<String, StoreError> {
    serde_json::to_string(a).map_err(|e| StoreError::Corrupt {
        table: TABLE,
        reason: e.to_string(),
    })
}

impl SqliteAnomalyStore {
    async fn docs(
        &self,
        sql: &'static str,
        args: Vec<String>,
    ) -> Result<Vec<AnomalyRecord>, StoreError> {
        let texts = self
            .db
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
            .map_err(StoreError::Unavailable)?;
        texts.iter().map(|t| decode(t)).collect()
    }
}

#[async_trait]
impl AnomalyStore for SqliteAnomalyStore {
    async fn series_states(&self, tenant: &str) -> Result<Vec<(String, SeriesState)>, StoreError> {
        let tenant = tenant.to_string();
        let rows = self
            .db
            .call(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT series, processed_until, detector FROM anomaly_series
                         WHERE tenant = ?1 ORDER BY series",
                    )
                    .map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map(params![tenant], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        rows.into_iter()
            .map(|(series, until, detector_json)| {
                Ok((
                    series,
                    SeriesState {
                        detector_json,
                        processed_until: parse_ts("anomaly_series", &until)?,
                    },
                ))
            })
            .collect()
    }

    async fn save_series_states(
        &self,
        tenant: &str,
        states: Vec<(String, SeriesState)>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction().map_err(|e| e.to_string())?;
                {
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT INTO anomaly_series (tenant, series, processed_until, detector)
                             VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (tenant, series) DO UPDATE SET
                               processed_until = excluded.processed_until,
                               detector = excluded.detector",
                        )
                        .map_err(|e| e.to_string())?;
                    for (series, s) in &states {
                        stmt.execute(params![
                            tenant,
                            series,
                            ts(s.processed_until),
                            s.detector_json
                        ])
                        .map_err(|e| e.to_string())?;
                    }
                }
                tx.commit().map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn insert_anomaly(&self, anomaly: &AnomalyRecord) -> Result<bool, StoreError> {
        let doc = encode(anomaly)?;
        let (tenant, id, series, start) = (
            anomaly.tenant.clone(),
            anomaly.id.clone(),
            anomaly.series.clone(),
            ts(anomaly.window_start),
        );
        let inserted = self
            .db
            .call(move |c| {
                c.execute(
                    "INSERT INTO anomalies (tenant, id, series, window_start, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant, id) DO NOTHING",
                    params![tenant, id, series, start, doc],
                )
                .map(|n| n > 0)
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        if inserted {
            // No subscriber is not an error.
            let _ = self.tx.send(anomaly.clone());
        }
        Ok(inserted)
    }

    async fn anomalies(
        &self,
        tenant: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AnomalyRecord>, StoreError> {
        self.docs(
            "SELECT doc FROM anomalies WHERE tenant = ?1 AND window_start >= ?2 AND window_start < ?3
             ORDER BY window_start DESC, id LIMIT ?4",
            vec![tenant.into(), ts(from), ts(to), limit.to_string()],
        )
        .await
    }

    async fn series_anomalies(
        &self,
        tenant: &str,
        series: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<AnomalyRecord>, StoreError> {
        self.docs(
            "SELECT doc FROM anomalies WHERE tenant = ?1 AND series = ?2 AND window_start >= ?3
             ORDER BY window_start DESC, id",
            vec![tenant.into(), series.into(), ts(since)],
        )
        .await
    }

    async fn anomaly(&self, tenant: &str, id: &str) -> Result<Option<AnomalyRecord>, StoreError> {
        let docs = self
            .docs(
                "SELECT doc FROM anomalies WHERE tenant = ?1 AND id = ?2",
                vec![tenant.into(), id.into()],
            )
            .await?;
        Ok(docs.into_iter().next())
    }

    async fn record_feedback(
        &self,
        tenant: &str,
        id: &str,
        feedback: Feedback,
    ) -> Result<Option<AnomalyRecord>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        // Read-modify-write in one transaction so two concurrent marks cannot interleave.
        let doc = self
            .db
            .call(move |c| {
                let tx = c.transaction().map_err(|e| e.to_string())?;
                let doc: Option<String> = tx
                    .query_row(
                        "SELECT doc FROM anomalies WHERE tenant = ?1 AND id = ?2",
                        params![tenant, id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| e.to_string())?;
                let Some(doc) = doc else {
                    return Ok(None);
                };
                let mut record = decode(&doc).map_err(|e| e.to_string())?;
                record.feedback = Some(feedback);
                let doc = encode(&record).map_err(|e| e.to_string())?;
                tx.execute(
                    "UPDATE anomalies SET doc = ?3 WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id, doc],
                )
                .map_err(|e| e.to_string())?;
                tx.commit().map_err(|e| e.to_string())?;
                Ok(Some(doc))
            })
            .await
            .map_err(StoreError::Unavailable)?;
        doc.map(|d| decode(&d)).transpose()
    }

    fn subscribe(&self) -> BoxStream<'static, AnomalyRecord> {
        tokio_stream::wrappers::BroadcastStream::new(self.tx.subscribe())
            .filter_map(|r| async move { r.ok() })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> SqliteAnomalyStore {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteAnomalyStore::open(&dir.join("anomalies.sqlite")).expect("open")
    }

    costwatch_ports::anomaly_store_contract!(fresh());
}
