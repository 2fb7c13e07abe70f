//! `AnomalyStore` on CQL: detector state, anomalies and feedback (tables in
//! `schemas/cql/003_anomalies.cql`).
//!
//! # Tables (one per query, every partition bounded)
//! - `anomaly_series ((tenant), series) → processed_until, detector`: what `series_states`
//!   reads and `save_series_states` writes, one partition per tenant (tens to hundreds of series).
//!   A save is one *single-partition* unlogged batch, which Cassandra and ScyllaDB apply
//!   atomically and in isolation (and do not hold to the multi-partition batch size limits). A
//!   save larger than [`MAX_BATCH_BYTES`] is split into several batches, each atomic: the
//!   detector only needs each series' row to be consistent (every series resumes from its own
//!   `processed_until`), so a crash between two of them re-scores some hours of some series,
//!   whose anomaly ids are already stored.
//! - `anomalies ((tenant, id)) → series, window_start, doc`: `anomaly(tenant, id)`, one partition
//!   per anomaly, written **only** with `INSERT .. IF NOT EXISTS` (never updated, so no plain
//!   write is mixed into a lightweight transaction). The source of truth for "is it new".
//! - `anomalies_by_day ((tenant, day), window_start DESC, id) → doc`, plus the day index
//!   `anomaly_days ((tenant), day DESC)`: `anomalies(tenant, from, to, limit)` reads the tenant's
//!   days in range from the index (one small partition, a row per day with anomalies), then
//!   those day partitions newest first until `limit` is reached. A day partition holds one
//!   tenant's anomalies of one UTC day; a range far in the past costs nothing (no empty days).
//! - `anomalies_by_series ((tenant, series), window_start DESC, id) → doc`: `series_anomalies`,
//!   a clustering-range read from `since`. It grows by that one series' anomalies (~1-2 KB each:
//!   at one a day, under 1 MB a year).
//! - `anomaly_feedback ((tenant, id)) → feedback`: the only place feedback is stored (a plain
//!   upsert, last mark wins), merged into every read by point reads (at most `limit` of them).
//!   Keeping it out of the documents means a mark is one write, not three that could diverge,
//!   and the LWT-only `anomalies` table is never updated.
//!
//! # Inserting (`insert_anomaly`)
//! 1. `INSERT INTO anomalies .. IF NOT EXISTS` (the fencing point): applied ⇔ new, so the store
//!    reports `true` once per id across every instance and restart. Documents are stored without
//!    feedback.
//! 2. The list rows (`anomalies_by_day`, `anomaly_days`, `anomalies_by_series`) are written with
//!    the *stored* document: ours if the LWT applied, else the one read back. So a repeated
//!    insert (re-detection after a restart, with a later `detected_at`) never makes the lists
//!    disagree with `anomaly()`, and it repairs the lists if a crash came between 1 and 2.
//! 3. If new, the anomaly is announced on the [`AnomalyFeed`] (after it is stored).
//!
//! # The subscription (`subscribe`)
//! The store takes an `Arc<dyn AnomalyFeed>` rather than owning a Kafka topic. Why:
//! - only `insert_anomaly` knows an anomaly is new (the LWT's `[applied]`), and the port promises
//!   subscribers exactly the new ones, so announcing belongs in the store, not around it;
//! - in distributed mode the detector and the gateways are different processes: the
//!   `costwatch` wiring passes a feed backed by `KafkaFanout<AnomalyRecord>` on the anomalies
//!   topic (each gateway reads it from its end), while this crate stays free of a broker
//!   dependency and its tests use [`LocalAnomalyFeed`] (in-process).
//!
//! Announcing is a notification, not state (like the cost-update stream): at most once, and a
//! failure to publish is logged, not returned. The anomaly is stored, a retry would find it not
//! new anyway, and the `Anomaly` alert raised for it goes through the alert outbox, which does
//! not lose it. Likewise an LWT whose outcome is unknown (a timeout) returns an error; if it had
//! applied, the retry reports "not new" and the anomaly is listed but was never announced.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use costwatch_ports::{AnomalyRecord, AnomalyStore, Feedback, SeriesState, StoreError};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use scylla::client::session::Session;
use scylla::response::query_result::QueryResult;
use scylla::statement::Consistency;
use scylla::statement::batch::{Batch, BatchType};
use scylla::value::{CqlTimestamp, CqlValue, Row};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::unavailable;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

mod feed;
mod statements;
#[cfg(test)]
mod tests;

pub use feed::{Announce, AnomalyFeed, AnomalyStream, LocalAnomalyFeed};
use statements::AnomalyStatements;

/// Largest series-state batch (bytes of detector documents); bigger saves are split.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Point reads (feedback) in flight at once.
const READ_CONCURRENCY: usize = 32;
const SECONDS_PER_DAY: i64 = 86_400;

/// The anomaly store on CQL; see the module docs for the tables and the protocol.
pub struct CqlAnomalyStore {
    pub(crate) session: Arc<Session>,
    st: AnomalyStatements,
    keyspace: String,
    feed: Arc<dyn AnomalyFeed>,
}

fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(unavailable)
}

fn from_json<T: DeserializeOwned>(table: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

fn ts(t: DateTime<Utc>) -> CqlTimestamp {
    CqlTimestamp(t.timestamp_millis())
}

fn from_ts(table: &'static str, t: CqlTimestamp) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(t.0)
        .single()
        .ok_or_else(|| StoreError::Corrupt {
            table,
            reason: format!("timestamp {} out of range", t.0),
        })
}

/// The UTC day (days since 1970-01-01) of `t`: the `anomalies_by_day` partition.
fn day_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(SECONDS_PER_DAY)
}

/// Did a conditional statement apply? (First column of its result is `[applied]`.)
fn applied(result: QueryResult) -> Result<bool, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        table: "anomalies",
        reason,
    };
    let rows = result.into_rows_result().map_err(unavailable)?;
    match rows.maybe_first_row::<Row>().map_err(unavailable)? {
        Some(row) => match row.columns.first() {
            Some(Some(CqlValue::Boolean(b))) => Ok(*b),
            other => Err(corrupt(format!("unexpected [applied] column {other:?}"))),
        },
        None => Err(corrupt("conditional statement returned no row".into())),
    }
}

impl CqlAnomalyStore {
    /// Connects and prepares the statements; the schema must exist (`costwatch migrate`).
    pub async fn open(
        o: &CqlOptions,
        feed: Arc<dyn AnomalyFeed>,
    ) -> Result<CqlAnomalyStore, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlAnomalyStore::with_session(session, &o.keyspace, feed).await
    }

    /// On an existing session (e.g. the one of a [`crate::CqlStore`]).
    pub async fn with_session(
        session: Arc<Session>,
        keyspace: &str,
        feed: Arc<dyn AnomalyFeed>,
    ) -> Result<CqlAnomalyStore, CqlError> {
        check_keyspace(keyspace)?;
        let st = AnomalyStatements::prepare(&session, keyspace).await?;
        Ok(CqlAnomalyStore {
            session,
            st,
            keyspace: keyspace.to_string(),
            feed,
        })
    }

    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// The stored document of an anomaly (no feedback).
    async fn stored_doc(&self, tenant: &str, id: &str) -> Result<Option<String>, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.select_anomaly, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        match res
            .maybe_first_row::<(Option<String>,)>()
            .map_err(unavailable)?
        {
            Some((Some(doc),)) => Ok(Some(doc)),
            _ => Ok(None),
        }
    }

    async fn feedback(&self, tenant: &str, id: &str) -> Result<Option<Feedback>, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.select_feedback, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        match res
            .maybe_first_row::<(Option<String>,)>()
            .map_err(unavailable)?
        {
            Some((Some(doc),)) => Ok(Some(from_json("anomaly_feedback", &doc)?)),
            _ => Ok(None),
        }
    }

    /// Decodes listed documents and merges in their feedback.
    async fn with_feedback(
        &self,
        table: &'static str,
        docs: Vec<String>,
    ) -> Result<Vec<AnomalyRecord>, StoreError> {
        let records: Vec<AnomalyRecord> = docs
            .iter()
            .map(|d| from_json(table, d))
            .collect::<Result<_, _>>()?;
        futures::stream::iter(records)
            .map(|mut a| async move {
                a.feedback = self.feedback(&a.tenant, &a.id).await?;
                Ok::<_, StoreError>(a)
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The list rows of a stored anomaly (idempotent upserts of the stored document).
    async fn write_lists(&self, a: &AnomalyRecord, doc: &str) -> Result<(), StoreError> {
        let day = day_of(a.window_start);
        let start = ts(a.window_start);
        let by_day = self
            .session
            .execute_unpaged(&self.st.insert_by_day, (&a.tenant, day, start, &a.id, doc));
        let index = self
            .session
            .execute_unpaged(&self.st.insert_day, (&a.tenant, day));
        let by_series = self.session.execute_unpaged(
            &self.st.insert_by_series,
            (&a.tenant, &a.series, start, &a.id, doc),
        );
        futures::try_join!(by_day, index, by_series).map_err(unavailable)?;
        Ok(())
    }

    async fn collect_docs(
        &self,
        statement: &scylla::statement::prepared::PreparedStatement,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> Result<Vec<String>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(statement.clone(), values)
            .await
            .map_err(unavailable)?
            .rows_stream::<(Option<String>,)>()
            .map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            if let (Some(doc),) = row.map_err(unavailable)? {
                out.push(doc);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl AnomalyStore for CqlAnomalyStore {
    async fn series_states(&self, tenant: &str) -> Result<Vec<(String, SeriesState)>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(self.st.select_series.clone(), (tenant,))
            .await
            .map_err(unavailable)?
            .rows_stream::<(String, Option<CqlTimestamp>, Option<String>)>()
            .map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            let (series, until, detector) = row.map_err(unavailable)?;
            let (Some(until), Some(detector_json)) = (until, detector) else {
                return Err(StoreError::Corrupt {
                    table: "anomaly_series",
                    reason: format!("{tenant}/{series}: missing processed_until or detector"),
                });
            };
            out.push((
                series,
                SeriesState {
                    detector_json,
                    processed_until: from_ts("anomaly_series", until)?,
                },
            ));
        }
        // Clustering order already, but the port promises it whatever the partitioner.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn save_series_states(
        &self,
        tenant: &str,
        states: Vec<(String, SeriesState)>,
    ) -> Result<(), StoreError> {
        let mut chunks: Vec<Vec<(String, SeriesState)>> = Vec::new();
        let mut bytes = 0;
        for s in states {
            let size = s.1.detector_json.len() + s.0.len();
            match chunks.last_mut() {
                Some(chunk) if bytes + size <= MAX_BATCH_BYTES => {
                    bytes += size;
                    chunk.push(s);
                }
                _ => {
                    bytes = size;
                    chunks.push(vec![s]);
                }
            }
        }
        for chunk in chunks {
            let mut batch = Batch::new(BatchType::Unlogged);
            batch.set_consistency(Consistency::LocalQuorum);
            batch.set_is_idempotent(true);
            let mut values = Vec::with_capacity(chunk.len());
            for (series, s) in &chunk {
                batch.append_statement(self.st.upsert_series.clone());
                values.push((
                    tenant,
                    series.as_str(),
                    ts(s.processed_until),
                    s.detector_json.as_str(),
                ));
            }
            self.session
                .batch(&batch, values)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn insert_anomaly(&self, anomaly: &AnomalyRecord) -> Result<bool, StoreError> {
        let doc = to_json(&AnomalyRecord {
            feedback: None,
            ..anomaly.clone()
        })?;
        let result = self
            .session
            .execute_unpaged(
                &self.st.insert_anomaly,
                (
                    &anomaly.tenant,
                    &anomaly.id,
                    &anomaly.series,
                    ts(anomaly.window_start),
                    &doc,
                ),
            )
            .await
            .map_err(unavailable)?;
        let new = applied(result)?;
        let stored = if new {
            doc
        } else {
            self.stored_doc(&anomaly.tenant, &anomaly.id)
                .await?
                .ok_or_else(|| {
                    StoreError::Unavailable(format!(
                        "anomaly {}/{} exists but is not readable yet",
                        anomaly.tenant, anomaly.id
                    ))
                })?
        };
        let stored_record: AnomalyRecord = from_json("anomalies", &stored)?;
        let lists = self.write_lists(&stored_record, &stored).await;
        if new && let Err(e) = self.feed.announce(anomaly).await {
            tracing::warn!(
                tenant = %anomaly.tenant,
                id = %anomaly.id,
                error = %e,
                "anomaly stored but not announced to subscribers"
            );
        }
        lists?;
        Ok(new)
    }

    async fn anomalies(
        &self,
        tenant: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AnomalyRecord>, StoreError> {
        if from >= to || limit == 0 {
            return Ok(Vec::new());
        }
        let mut days = self
            .session
            .execute_iter(
                self.st.select_days.clone(),
                (tenant, day_of(from), day_of(to)),
            )
            .await
            .map_err(unavailable)?
            .rows_stream::<(i64,)>()
            .map_err(unavailable)?;
        let mut day_list = Vec::new();
        while let Some(row) = days.next().await {
            day_list.push(row.map_err(unavailable)?.0);
        }
        // Newest day first (the clustering order, made explicit).
        day_list.sort_unstable_by(|a, b| b.cmp(a));
        let mut docs = Vec::new();
        for day in day_list {
            let left = limit - docs.len();
            let got = self
                .collect_docs(
                    &self.st.select_by_day,
                    (
                        tenant,
                        day,
                        ts(from),
                        ts(to),
                        i32::try_from(left).unwrap_or(i32::MAX),
                    ),
                )
                .await?;
            docs.extend(got);
            if docs.len() >= limit {
                break;
            }
        }
        docs.truncate(limit);
        let mut out = self.with_feedback("anomalies_by_day", docs).await?;
        // Timestamps are stored in milliseconds: the exact bounds are checked on the documents.
        out.retain(|a| a.window_start >= from && a.window_start < to);
        Ok(out)
    }

    async fn series_anomalies(
        &self,
        tenant: &str,
        series: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<AnomalyRecord>, StoreError> {
        let docs = self
            .collect_docs(&self.st.select_by_series, (tenant, series, ts(since)))
            .await?;
        let mut out = self.with_feedback("anomalies_by_series", docs).await?;
        out.retain(|a| a.window_start >= since);
        Ok(out)
    }

    async fn anomaly(&self, tenant: &str, id: &str) -> Result<Option<AnomalyRecord>, StoreError> {
        let (doc, feedback) =
            futures::try_join!(self.stored_doc(tenant, id), self.feedback(tenant, id))?;
        let Some(doc) = doc else { return Ok(None) };
        let mut a: AnomalyRecord = from_json("anomalies", &doc)?;
        a.feedback = feedback;
        Ok(Some(a))
    }

    async fn record_feedback(
        &self,
        tenant: &str,
        id: &str,
        feedback: Feedback,
    ) -> Result<Option<AnomalyRecord>, StoreError> {
        let Some(doc) = self.stored_doc(tenant, id).await? else {
            return Ok(None);
        };
        let mut a: AnomalyRecord = from_json("anomalies", &doc)?;
        self.session
            .execute_unpaged(&self.st.upsert_feedback, (tenant, id, to_json(&feedback)?))
            .await
            .map_err(unavailable)?;
        a.feedback = Some(feedback);
        Ok(Some(a))
    }

    fn subscribe(&self) -> BoxStream<'static, AnomalyRecord> {
        self.feed.subscribe()
    }
}
