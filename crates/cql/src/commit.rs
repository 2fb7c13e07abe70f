//! The commit protocol (see the crate docs): write set → commit record → compare-and-set of the
//! positions (the fencing point) → idempotent timestamped writes. Recovery re-applies a record
//! whose commit passed the fencing point.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use costwatch_domain::{RollupKey, RollupValue};
use costwatch_ports::{Commit, StoreError};
use futures::{StreamExt, TryStreamExt};
use scylla::value::{CqlTimestamp, CqlValue, Row};

use crate::store::{CELL_CACHE_LIMIT, CONCURRENCY, CqlStore, parse_decimal, unavailable};
use crate::writeset::{CellWrite, DeadLetterWrite, MeterWrite, WriteSet, cell_key};

/// A cell's write and its new value (for the cache).
type CellOutcome = Result<(CellWrite, RollupKey, RollupValue), StoreError>;

/// A consumer's row in `consumer_positions`.
#[derive(Debug, Clone)]
pub(crate) struct PositionRow {
    pub offsets: BTreeMap<u32, u64>,
    pub last_commit: i64,
    pub pending: Option<i64>,
}

fn corrupt(reason: String) -> StoreError {
    StoreError::Corrupt {
        table: "consumer_positions",
        reason,
    }
}

fn to_cql_offsets(p: &BTreeMap<u32, u64>) -> Result<BTreeMap<i32, i64>, StoreError> {
    p.iter()
        .map(|(k, v)| {
            Ok((
                i32::try_from(*k).map_err(|e| corrupt(format!("partition {k}: {e}")))?,
                i64::try_from(*v).map_err(|e| corrupt(format!("offset {v}: {e}")))?,
            ))
        })
        .collect()
}

/// Did a conditional statement apply? (First column of its result is `[applied]`.)
fn applied(result: scylla::response::query_result::QueryResult) -> Result<bool, StoreError> {
    let rows = result.into_rows_result().map_err(unavailable)?;
    match rows.maybe_first_row::<Row>().map_err(unavailable)? {
        Some(row) => match row.columns.first() {
            Some(Some(CqlValue::Boolean(b))) => Ok(*b),
            other => Err(corrupt(format!("unexpected [applied] column {other:?}"))),
        },
        None => Err(corrupt("conditional statement returned no row".into())),
    }
}

impl CqlStore {
    /// The row as this instance last committed it, else as stored. A cached row may be stale only
    /// if another instance committed since; then the compare-and-set fails and the cache is
    /// dropped, so staleness can cost a retry but never a wrong write.
    pub(crate) async fn known_position_row(
        &self,
        consumer: &str,
    ) -> Result<Option<PositionRow>, StoreError> {
        if let Some(row) = self.rows.lock().ok().and_then(|r| r.get(consumer).cloned()) {
            return Ok(Some(row));
        }
        self.position_row(consumer).await
    }

    pub(crate) async fn position_row(
        &self,
        consumer: &str,
    ) -> Result<Option<PositionRow>, StoreError> {
        type Raw = (Option<BTreeMap<i32, i64>>, Option<i64>, Option<i64>);
        let res = self
            .session
            .execute_unpaged(&self.st.select_position, (consumer,))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        let Some((offsets, last_commit, pending)) =
            res.maybe_first_row::<Raw>().map_err(unavailable)?
        else {
            return Ok(None);
        };
        let offsets = offsets
            .unwrap_or_default()
            .into_iter()
            .map(|(p, o)| {
                Ok((
                    u32::try_from(p).map_err(|e| corrupt(format!("partition {p}: {e}")))?,
                    u64::try_from(o).map_err(|e| corrupt(format!("offset {o}: {e}")))?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(PositionRow {
            offsets,
            last_commit: last_commit.unwrap_or(0),
            pending,
        }))
    }

    /// Re-applies the consumer's pending commit unless this instance applied it itself.
    pub(crate) async fn recover(
        &self,
        consumer: &str,
        row: &Option<PositionRow>,
    ) -> Result<(), StoreError> {
        let Some(ts) = row.as_ref().and_then(|r| r.pending) else {
            return Ok(());
        };
        if self.applied.lock().await.get(consumer) == Some(&ts) {
            return Ok(());
        }
        let writes = self.load_record(consumer, ts).await?;
        tracing::info!(
            consumer,
            commit_ts = ts,
            "re-applying a commit that passed its fencing point"
        );
        // Cells changed under this instance: its cached values may be stale.
        self.clear_cell_cache();
        self.apply(&writes, ts).await?;
        self.applied.lock().await.insert(consumer.to_string(), ts);
        Ok(())
    }

    pub(crate) async fn commit_fenced(&self, c: Commit) -> Result<(), StoreError> {
        let outcome = async {
            let (writes, ts, new_values) = self.record_and_fence(&c).await?;
            // Past the fencing point: an error from here on leaves `pending` set, and the next
            // `positions()` (this instance or another) completes the commit from its record.
            self.apply(&writes, ts).await?;
            self.applied.lock().await.insert(c.consumer.clone(), ts);
            let row = PositionRow {
                offsets: c.positions.clone(),
                last_commit: ts,
                pending: Some(ts),
            };
            Ok::<_, StoreError>((new_values, row))
        }
        .await;
        match outcome {
            Ok((new_values, row)) => {
                self.remember_cells(new_values);
                if let Ok(mut rows) = self.rows.lock() {
                    rows.insert(c.consumer.clone(), row);
                }
                Ok(())
            }
            Err(e) => {
                // Fenced or failed: another writer may own the cells and the positions now.
                self.clear_cell_cache();
                if let Ok(mut rows) = self.rows.lock() {
                    rows.remove(&c.consumer);
                }
                Err(e)
            }
        }
    }

    /// Steps 1-3 of the protocol; returns the write set and its timestamp, to be applied.
    pub(crate) async fn record_and_fence(
        &self,
        c: &Commit,
    ) -> Result<(WriteSet, i64, Vec<(RollupKey, RollupValue)>), StoreError> {
        let fenced = || StoreError::Fenced {
            consumer: c.consumer.clone(),
        };
        let row = self.known_position_row(&c.consumer).await?;
        self.recover(&c.consumer, &row).await?;
        let current = row.as_ref().map(|r| r.offsets.clone()).unwrap_or_default();
        if current != c.expected_positions {
            return Err(fenced());
        }
        // Write timestamps only grow, also across instances and clock skew: a newer commit always
        // wins over a late write of an older one.
        let previous = row.as_ref().map_or(0, |r| r.last_commit);
        let ts = Utc::now().timestamp_micros().max(previous + 1);
        let (writes, new_values) = self.write_set(c).await?;
        self.store_record(&c.consumer, ts, &writes).await?;

        let new_offsets = to_cql_offsets(&c.positions)?;
        let result = match &row {
            None => self
                .session
                .execute_unpaged(
                    &self.st.insert_position,
                    (&c.consumer, &new_offsets, ts, ts),
                )
                .await
                .map_err(unavailable)?,
            Some(r) => self
                .session
                .execute_unpaged(
                    &self.st.update_position,
                    (
                        &new_offsets,
                        ts,
                        ts,
                        &c.consumer,
                        to_cql_offsets(&c.expected_positions)?,
                        r.last_commit,
                    ),
                )
                .await
                .map_err(unavailable)?,
        };
        if !applied(result)? {
            return Err(fenced());
        }
        Ok((writes, ts, new_values))
    }

    /// The commit as absolute values: each rollup cell's stored value plus its delta.
    async fn write_set(
        &self,
        c: &Commit,
    ) -> Result<(WriteSet, Vec<(RollupKey, RollupValue)>), StoreError> {
        // Boxed futures in a Vec: a closure over borrowed items trips the async-trait lifetimes.
        let mut reads: Vec<futures::future::BoxFuture<'_, CellOutcome>> = Vec::new();
        for (k, delta) in &c.deltas {
            reads.push(Box::pin(async move {
                let (tenant, granularity, period, bucket) = cell_key(k);
                let s = &k.series;
                let cached = self.cached_cell(k);
                let old = match cached {
                    Some(v) => v,
                    None => self.read_cell(k).await?,
                };
                let new = old.checked_add(*delta).ok_or_else(|| {
                    StoreError::Unavailable(format!("rollup overflow in {tenant} {bucket}"))
                })?;
                let write = CellWrite {
                    tenant,
                    granularity,
                    period,
                    bucket,
                    category: s.category.as_str().to_string(),
                    sub_kind: s.sub_kind.as_str().to_string(),
                    provider: s.provider.clone(),
                    service: s.service.clone(),
                    resource: s.resource.clone(),
                    labels: s.labels.clone(),
                    currency: s.currency.as_str().to_string(),
                    amount: new.amount.normalize().to_string(),
                    billed: new.billed.normalize().to_string(),
                    events: i64::try_from(new.events).map_err(unavailable)?,
                };
                Ok((write, k.clone(), new))
            }));
        }
        let computed: Vec<(CellWrite, RollupKey, RollupValue)> = futures::stream::iter(reads)
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut cells = Vec::with_capacity(computed.len());
        let mut new_values = Vec::with_capacity(computed.len());
        for (write, key, value) in computed {
            cells.push(write);
            new_values.push((key, value));
        }
        let tenants: BTreeSet<String> = c.deltas.keys().map(|k| k.series.tenant.clone()).collect();
        let writes = WriteSet {
            cells,
            meters: c
                .meters
                .iter()
                .map(|(k, q)| MeterWrite {
                    tenant: k.tenant.clone(),
                    month: k.month.clone(),
                    provider: k.provider.clone(),
                    service: k.service.clone(),
                    metric: k.metric.clone(),
                    quantity: q.normalize().to_string(),
                })
                .collect(),
            counted: c.counted.clone(),
            dead_letters: c
                .dead_letters
                .iter()
                .enumerate()
                .map(|(i, d)| DeadLetterWrite {
                    tenant: d.tenant.clone(),
                    month: d.at.format("%Y-%m").to_string(),
                    at_millis: d.at.timestamp_millis(),
                    idx: i32::try_from(i).unwrap_or(i32::MAX),
                    event_id: d.event_id.clone(),
                    event_json: d.event_json.clone(),
                    reason: d.reason.clone(),
                })
                .collect(),
            tenants: tenants.into_iter().collect(),
        };
        Ok((writes, new_values))
    }

    /// A cell's stored value (zero when absent).
    async fn read_cell(&self, k: &RollupKey) -> Result<RollupValue, StoreError> {
        let (tenant, granularity, period, bucket) = cell_key(k);
        let s = &k.series;
        let res = self
            .session
            .execute_unpaged(
                &self.st.select_cell,
                (
                    &tenant,
                    &granularity,
                    period,
                    bucket,
                    s.category.as_str(),
                    s.sub_kind.as_str(),
                    &s.provider,
                    &s.service,
                    &s.resource,
                    &s.labels,
                    s.currency.as_str(),
                ),
            )
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        Ok(
            match res
                .maybe_first_row::<(String, String, i64)>()
                .map_err(unavailable)?
            {
                Some((a, b, n)) => RollupValue {
                    amount: parse_decimal("rollups", &a)?,
                    billed: parse_decimal("rollups", &b)?,
                    events: u64::try_from(n).map_err(unavailable)?,
                },
                None => RollupValue::default(),
            },
        )
    }

    /// The cell cache is write-through and only trusted while this instance's commits succeed:
    /// the fencing point guarantees nobody else wrote the consumer's cells in between.
    fn cached_cell(&self, k: &RollupKey) -> Option<RollupValue> {
        self.cells.lock().ok()?.get(k).copied()
    }

    fn remember_cells(&self, values: Vec<(RollupKey, RollupValue)>) {
        if let Ok(mut cache) = self.cells.lock() {
            if cache.len() + values.len() > CELL_CACHE_LIMIT {
                cache.clear();
            }
            cache.extend(values);
        }
    }

    pub(crate) fn clear_cell_cache(&self) {
        if let Ok(mut cache) = self.cells.lock() {
            cache.clear();
        }
    }

    async fn store_record(
        &self,
        consumer: &str,
        ts: i64,
        writes: &WriteSet,
    ) -> Result<(), StoreError> {
        let parts = writes.to_parts().map_err(unavailable)?;
        let mut writes: Vec<futures::future::BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
        for (i, body) in parts.iter().enumerate() {
            writes.push(Box::pin(async move {
                let part = i32::try_from(i).map_err(unavailable)?;
                self.session
                    .execute_unpaged(&self.st.insert_record_part, (consumer, ts, part, body))
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }));
        }
        futures::stream::iter(writes)
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn load_record(&self, consumer: &str, ts: i64) -> Result<WriteSet, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.select_record, (consumer, ts))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        let parts: Vec<String> = res
            .rows::<(i32, String)>()
            .map_err(unavailable)?
            .map(|r| r.map(|(_, body)| body))
            .collect::<Result<_, _>>()
            .map_err(unavailable)?;
        WriteSet::join_parts(&parts).map_err(|e| StoreError::Corrupt {
            table: "commit_records",
            reason: format!("commit {ts} of {consumer}: {e} ({} parts)", parts.len()),
        })
    }

    /// Every write of the set with the commit's timestamp; idempotent, so safe to repeat.
    pub(crate) async fn apply(&self, w: &WriteSet, ts: i64) -> Result<(), StoreError> {
        let s = &self.st;
        let session = &self.session;
        let mut jobs: Vec<futures::future::BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
        for c in &w.cells {
            jobs.push(Box::pin(async move {
                let values = (
                    &c.tenant,
                    &c.granularity,
                    c.period,
                    c.bucket,
                    &c.category,
                    &c.sub_kind,
                    &c.provider,
                    &c.service,
                    &c.resource,
                    &c.labels,
                    &c.currency,
                    &c.amount,
                    &c.billed,
                    c.events,
                    ts,
                );
                session
                    .execute_unpaged(&s.insert_cell, values)
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }));
        }
        for m in &w.meters {
            jobs.push(Box::pin(async move {
                let values = (
                    &m.tenant,
                    &m.month,
                    &m.provider,
                    &m.service,
                    &m.metric,
                    &m.quantity,
                    ts,
                );
                session
                    .execute_unpaged(&s.insert_meter, values)
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }));
        }
        for (tenant, id) in &w.counted {
            jobs.push(Box::pin(async move {
                session
                    .execute_unpaged(&s.insert_counted, (tenant, id, ts, ts))
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }));
        }
        for d in &w.dead_letters {
            jobs.push(Box::pin(async move {
                let values = (
                    &d.tenant,
                    &d.month,
                    CqlTimestamp(d.at_millis),
                    ts,
                    d.idx,
                    &d.event_id,
                    &d.event_json,
                    &d.reason,
                    ts,
                );
                session
                    .execute_unpaged(&s.insert_dead_letter, values)
                    .await
                    .map_err(unavailable)?;
                session
                    .execute_unpaged(&s.insert_dead_letter_month, (&d.tenant, &d.month, ts))
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }));
        }
        for t in &w.tenants {
            jobs.push(Box::pin(async move {
                session
                    .execute_unpaged(&s.insert_tenant, (t, ts))
                    .await
                    .map_err(unavailable)
                    .map(|_| ())
            }));
        }
        futures::stream::iter(jobs)
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}
