//! Tenant erasure on CQL (`costwatch_ports::TenantData`); the embedded stores
//! (`crates/embedded/src/erasure.rs`) cover the same data.
//!
//! # Finding a tenant's partitions
//! CQL deletes whole partitions, or rows named by their full key, and most partition keys hold
//! more than the tenant (`rollups ((tenant, granularity, period))`, `counted_events ((tenant,
//! event_id))`, ...). A tenant's partitions are found
//! - from an index of the tenant where a complete one exists: `dead_letter_months` (written by
//!   the same commit as the dead letters) and `anomaly_days`;
//! - otherwise by a **full scan of the table's partition keys** (`SELECT DISTINCT`, paged),
//!   filtered here on the tenant. Erasure is a rare admin operation, so reading every partition
//!   key of `counted_events` (one per event ever counted) or `rollups` is acceptable, rather than
//!   keeping one more index on the hot path. Scans are also used where the tenant's own rows
//!   would miss rows left behind by design (`alerts_by_source` of an alert whose transaction
//!   lost, an `anomalies` row whose list rows were never written).
//!
//! Every delete is a plain partition (or row) delete through a prepared, idempotent statement,
//! prepared when the erasure starts (rare: not worth preparing with every store). An index is
//! deleted after what it finds, so an interrupted erasure is finished by running it again.
//! `alerts` and `sent_digests` are otherwise written only with lightweight transactions: a plain
//! delete is safe there, as a change still in flight that a serial read completes later is
//! written with its (older) ballot timestamp, which the tombstone shadows.
//!
//! # What is counted
//! Rows removed from the tables the embedded store has too, so both report the same numbers for
//! the same data: `counted_events` (one row per partition, counted from the scan that found it),
//! `meters`, `rollups`, `dead_letters`, the `tenants` entry; `budgets`, `alerts`, the tenant's
//! `alert_outbox` entries, `resource_rules`, `sent_digests`; `anomaly_series`, `anomalies` (one
//! row per anomaly); `annotations`. Multi-row partitions are read (paged) and their rows counted
//! before they are deleted. Copies and indexes (`dead_letter_months`, `alerts_by_source`,
//! `anomalies_by_day`, `anomaly_days`, `anomalies_by_series`, `anomaly_feedback` (a column of
//! the anomaly in the embedded store), `annotation_ids`) are deleted but not counted. A second
//! erasure finds nothing and returns 0.
//!
//! Not tenant data, left alone: `consumer_positions`, `fx_rates`, `schema_migrations`, and
//! `commit_records` (recent commits' write sets for crash recovery, expiring after 14 days).
//! Rows written for the tenant *after* the erasure (events of the tenant still being ingested)
//! are new data: erase the tenant from the usage log first.

use async_trait::async_trait;
use chrono::Utc;
use costwatch_ports::{CostStore, StoreError, TenantData};
use futures::{StreamExt, TryStreamExt};
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};

use crate::CqlStore;
use crate::statements::idempotent;
use crate::store::unavailable;

/// Partitions checked and deleted at once.
const CONCURRENCY: usize = 16;
/// Rows per page of a scan or a count.
const PAGE: i32 = 1000;

/// How the rows under a removed key are counted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Count {
    /// Read (paged) and counted before the delete.
    Rows,
    /// A partition without clustering columns: one row, seen by the scan that found it.
    One,
    /// A copy or an index: deleted, not counted.
    No,
}

/// The prepared statements removing the rows under one key of a table.
struct Target {
    count: Count,
    select: PreparedStatement,
    delete: PreparedStatement,
}

/// One erasure's statements on a keyspace.
struct Eraser<'a> {
    session: &'a Session,
    ks: &'a str,
    /// Write timestamp of the deletes (µs); the coordinator's clock when `None`.
    timestamp: Option<i64>,
}

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_string())
}

/// The columns of a row, all set (key columns are never null).
fn values(row: Row) -> Option<Vec<CqlValue>> {
    row.columns.into_iter().collect()
}

impl<'a> Eraser<'a> {
    fn new(session: &'a Session, ks: &'a str, timestamp: Option<i64>) -> Eraser<'a> {
        Eraser {
            session,
            ks,
            timestamp,
        }
    }

    async fn prepare(&self, cql: String) -> Result<PreparedStatement, StoreError> {
        let mut p = idempotent(self.session, cql).await.map_err(unavailable)?;
        p.set_page_size(PAGE);
        Ok(p)
    }

    /// Every row of a paged read.
    async fn rows(
        &self,
        st: &PreparedStatement,
        key: impl scylla::serialize::row::SerializeRow,
    ) -> Result<Vec<Row>, StoreError> {
        self.session
            .execute_iter(st.clone(), key)
            .await
            .map_err(unavailable)?
            .rows_stream::<Row>()
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)
    }

    /// Statements for the rows under `cols[0] = ? AND ..` (a partition key, or a primary key).
    async fn target(&self, table: &str, cols: &[&str], count: Count) -> Result<Target, StoreError> {
        let ks = self.ks;
        let key = cols
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut delete = self
            .prepare(format!("DELETE FROM {ks}.{table} WHERE {key}"))
            .await?;
        delete.set_timestamp(self.timestamp);
        let select = self
            .prepare(format!("SELECT {} FROM {ks}.{table} WHERE {key}", cols[0]))
            .await?;
        Ok(Target {
            count,
            select,
            delete,
        })
    }

    /// Deletes the rows under `key`; returns how many are counted (see [`Count`]).
    async fn remove(&self, t: &Target, key: Vec<CqlValue>) -> Result<u64, StoreError> {
        let rows = match t.count {
            Count::Rows => self.rows(&t.select, &key).await?.len() as u64,
            Count::One => 1,
            Count::No => 0,
        };
        self.session
            .execute_unpaged(&t.delete, &key)
            .await
            .map_err(unavailable)?;
        Ok(rows)
    }

    /// Deletes the rows under each key, a few at a time.
    async fn remove_all(&self, t: &Target, keys: Vec<Vec<CqlValue>>) -> Result<u64, StoreError> {
        let counts: Vec<u64> = futures::stream::iter(keys)
            .map(|key| self.remove(t, key))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(counts.into_iter().sum())
    }

    /// The tenant's partition keys of `table` (`cols`, tenant first): a full scan of the
    /// table's partition keys, filtered here (see the module docs for why that is acceptable).
    async fn scan(
        &self,
        table: &str,
        cols: &[&str],
        tenant: &str,
    ) -> Result<Vec<Vec<CqlValue>>, StoreError> {
        let st = self
            .prepare(format!(
                "SELECT DISTINCT {} FROM {}.{table}",
                cols.join(", "),
                self.ks
            ))
            .await?;
        let tenant = text(tenant);
        let mut keys = Vec::new();
        let mut rows = self
            .session
            .execute_iter(st, ())
            .await
            .map_err(unavailable)?
            .rows_stream::<Row>()
            .map_err(unavailable)?;
        while let Some(row) = rows.next().await {
            let row = row.map_err(unavailable)?;
            if row.columns.first() == Some(&Some(tenant.clone()))
                && let Some(key) = values(row)
            {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// Removes the tenant's partitions of `table`, found by [`Eraser::scan`].
    async fn scanned(
        &self,
        table: &str,
        cols: &[&str],
        count: Count,
        tenant: &str,
    ) -> Result<u64, StoreError> {
        let keys = self.scan(table, cols, tenant).await?;
        let t = self.target(table, cols, count).await?;
        self.remove_all(&t, keys).await
    }

    /// Removes the partitions `(tenant, c)` of `table` for each `c` listed in the tenant's
    /// index partition `index ((tenant), column)`, then the index partition.
    async fn indexed(
        &self,
        table: &str,
        cols: [&str; 2],
        count: Count,
        index: &str,
        tenant: &str,
    ) -> Result<u64, StoreError> {
        let list = self
            .prepare(format!(
                "SELECT {} FROM {}.{index} WHERE tenant = ?",
                cols[1], self.ks
            ))
            .await?;
        let keys = self
            .rows(&list, (tenant,))
            .await?
            .into_iter()
            .filter_map(values)
            .map(|v| [vec![text(tenant)], v].concat())
            .collect();
        let rows = self
            .remove_all(&self.target(table, &cols, count).await?, keys)
            .await?;
        let index = self.target(index, &["tenant"], Count::No).await?;
        self.remove(&index, vec![text(tenant)]).await?;
        Ok(rows)
    }

    /// Removes the tenant's single partition `table ((tenant), ..)`.
    async fn partition(&self, table: &str, count: Count, tenant: &str) -> Result<u64, StoreError> {
        let t = self.target(table, &["tenant"], count).await?;
        self.remove(&t, vec![text(tenant)]).await
    }
}

impl CqlStore {
    /// Completes every consumer's pending commit first: one past its fencing point could
    /// otherwise write rows of the tenant (in partitions no scan found yet) after the erasure.
    /// Returns a write timestamp above every commit's so far for the deletes, since a tombstone
    /// only shadows writes with a lower timestamp and commits may run ahead of the clock.
    async fn settle_commits(&self) -> Result<i64, StoreError> {
        let e = Eraser::new(&self.session, &self.keyspace, None);
        // A full scan of a table of one row per consumer.
        let all = e
            .prepare(format!(
                "SELECT consumer, last_commit FROM {}.consumer_positions",
                self.keyspace
            ))
            .await?;
        let mut newest = 0;
        for row in e.rows(&all, ()).await? {
            if let [Some(CqlValue::Text(consumer)), last] = row.columns.as_slice() {
                if let Some(CqlValue::BigInt(last)) = last {
                    newest = newest.max(*last);
                }
                self.positions(consumer).await?;
            }
        }
        Ok(Utc::now().timestamp_micros().max(newest + 1))
    }
}

#[async_trait]
impl TenantData for CqlStore {
    fn holds(&self) -> &'static str {
        "cost projections"
    }

    /// Rows of `counted_events`, `meters`, `rollups`, `dead_letters` and the `tenants` entry.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        let ts = self.settle_commits().await?;
        let e = Eraser::new(&self.session, &self.keyspace, Some(ts));
        let mut rows = e
            .scanned(
                "counted_events",
                &["tenant", "event_id"],
                Count::One,
                tenant,
            )
            .await?;
        rows += e
            .scanned("meters", &["tenant", "month"], Count::Rows, tenant)
            .await?;
        let rollup_key = ["tenant", "granularity", "period"];
        rows += e
            .scanned("rollups", &rollup_key, Count::Rows, tenant)
            .await?;
        rows += e
            .indexed(
                "dead_letters",
                ["tenant", "month"],
                Count::Rows,
                "dead_letter_months",
                tenant,
            )
            .await?;
        let entry = e
            .target("tenants", &["scope", "tenant"], Count::Rows)
            .await?;
        rows += e.remove(&entry, vec![text("all"), text(tenant)]).await?;
        // Cached cells of the tenant now hold erased amounts.
        self.clear_cell_cache();
        Ok(rows)
    }
}

mod stores;
#[cfg(test)]
mod tests;
