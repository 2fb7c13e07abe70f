//! `CostStore` on CQL: reads, and the trait wiring of the commit protocol (`commit.rs`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::{Granularity, RollupKey, RollupRow, RollupValue, SeriesKey};
use costwatch_ports::{Commit, CostStore, DeadLetter, StoreError};
use futures::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use scylla::client::session::Session;
use scylla::value::CqlTimestamp;
use tokio::sync::Mutex;

use crate::statements::Statements;
use crate::writeset::periods_between;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

/// How many statements of one commit or lookup are in flight at once.
pub(crate) const CONCURRENCY: usize = 128;

/// Most rollup cells kept in the write-through cache (about 200 bytes each).
pub(crate) const CELL_CACHE_LIMIT: usize = 200_000;

pub struct CqlStore {
    pub(crate) session: Arc<Session>,
    pub(crate) st: Statements,
    /// The newest commit this instance knows to be fully applied, per consumer: a `pending`
    /// marker equal to it needs no re-apply.
    pub(crate) applied: Mutex<HashMap<String, i64>>,
    /// Write-through cache of rollup cells this instance committed (see `cached_cell`).
    pub(crate) cells: std::sync::Mutex<BTreeMap<RollupKey, RollupValue>>,
    /// Position rows this instance committed (see `known_position_row`).
    pub(crate) rows: std::sync::Mutex<HashMap<String, crate::commit::PositionRow>>,
    pub(crate) keyspace: String,
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) fn parse_decimal(table: &'static str, text: &str) -> Result<Decimal, StoreError> {
    text.parse::<Decimal>().map_err(|e| StoreError::Corrupt {
        table,
        reason: format!("{text:?}: {e}"),
    })
}

impl CqlStore {
    /// Connects and prepares the statements; the schema must exist (`costwatch migrate`).
    pub async fn open(o: &CqlOptions) -> Result<CqlStore, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlStore::with_session(session, &o.keyspace).await
    }

    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    pub async fn with_session(session: Arc<Session>, keyspace: &str) -> Result<CqlStore, CqlError> {
        check_keyspace(keyspace)?;
        let st = Statements::prepare(&session, keyspace).await?;
        Ok(CqlStore {
            session,
            st,
            applied: Mutex::new(HashMap::new()),
            cells: std::sync::Mutex::new(BTreeMap::new()),
            rows: std::sync::Mutex::new(HashMap::new()),
            keyspace: keyspace.to_string(),
        })
    }
}

#[async_trait]
impl CostStore for CqlStore {
    async fn positions(&self, consumer: &str) -> Result<BTreeMap<u32, u64>, StoreError> {
        let row = self.known_position_row(consumer).await?;
        // Complete a commit that passed its fencing point but may not have been applied, before
        // the caller reads anything that depends on it.
        self.recover(consumer, &row).await?;
        Ok(row.map(|r| r.offsets).unwrap_or_default())
    }

    async fn seen(
        &self,
        ids: &[(String, String)],
    ) -> Result<HashSet<(String, String)>, StoreError> {
        let found: Vec<Option<(String, String)>> = futures::stream::iter(ids.iter().cloned())
            .map(|(tenant, id)| async move {
                let res = self
                    .session
                    .execute_unpaged(&self.st.select_counted, (&tenant, &id))
                    .await
                    .map_err(unavailable)?
                    .into_rows_result()
                    .map_err(unavailable)?;
                let hit = res
                    .maybe_first_row::<(String,)>()
                    .map_err(unavailable)?
                    .is_some();
                Ok::<_, StoreError>(hit.then_some((tenant, id)))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn meters(&self, keys: &[MeterKey]) -> Result<HashMap<MeterKey, Decimal>, StoreError> {
        let found: Vec<Option<(MeterKey, Decimal)>> = futures::stream::iter(keys.iter().cloned())
            .map(|k| async move {
                let res = self
                    .session
                    .execute_unpaged(
                        &self.st.select_meter,
                        (&k.tenant, &k.month, &k.provider, &k.service, &k.metric),
                    )
                    .await
                    .map_err(unavailable)?
                    .into_rows_result()
                    .map_err(unavailable)?;
                match res.maybe_first_row::<(String,)>().map_err(unavailable)? {
                    Some((q,)) => Ok::<_, StoreError>(Some((k, parse_decimal("meters", &q)?))),
                    None => Ok(None),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        self.commit_fenced(commit).await
    }

    async fn rollups(
        &self,
        tenant: &str,
        granularity: Granularity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        type Raw = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
        );
        let mut out = Vec::new();
        for period in periods_between(granularity, from, to) {
            let mut rows = self
                .session
                .execute_iter(
                    self.st.select_cells.clone(),
                    (
                        tenant,
                        granularity.as_str(),
                        period,
                        from.timestamp(),
                        to.timestamp(),
                    ),
                )
                .await
                .map_err(unavailable)?
                .rows_stream::<Raw>()
                .map_err(unavailable)?;
            while let Some(row) = rows.next().await {
                let (
                    bucket,
                    cat,
                    sub,
                    provider,
                    service,
                    resource,
                    labels,
                    currency,
                    amount,
                    billed,
                    events,
                ) = row.map_err(unavailable)?;
                let corrupt = |reason: String| StoreError::Corrupt {
                    table: "rollups",
                    reason,
                };
                out.push(RollupRow {
                    bucket: Utc
                        .timestamp_opt(bucket, 0)
                        .single()
                        .ok_or_else(|| corrupt(format!("bucket {bucket}")))?,
                    series: SeriesKey {
                        tenant: tenant.to_string(),
                        category: cat.parse().map_err(corrupt)?,
                        sub_kind: sub.parse().map_err(corrupt)?,
                        provider,
                        service,
                        resource,
                        labels,
                        currency: currency.parse().map_err(
                            |e: costwatch_domain::money::CurrencyError| corrupt(e.to_string()),
                        )?,
                    },
                    value: RollupValue {
                        amount: parse_decimal("rollups", &amount)?,
                        billed: parse_decimal("rollups", &billed)?,
                        events: u64::try_from(events)
                            .map_err(|e| corrupt(format!("events {events}: {e}")))?,
                    },
                });
            }
        }
        Ok(out)
    }

    async fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(self.st.select_tenants.clone(), ())
            .await
            .map_err(unavailable)?
            .rows_stream::<(String,)>()
            .map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            out.push(row.map_err(unavailable)?.0);
        }
        Ok(out)
    }

    async fn dead_letters(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let months: Vec<String> = self
            .session
            .execute_unpaged(&self.st.select_dead_letter_months, (tenant,))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?
            .rows::<(String,)>()
            .map_err(unavailable)?
            .map(|r| r.map(|(m,)| m))
            .collect::<Result<_, _>>()
            .map_err(unavailable)?;
        let mut out = Vec::new();
        // Months come newest first (clustering order), rows within a month too.
        for month in months {
            if out.len() >= limit {
                break;
            }
            let want = i32::try_from(limit - out.len()).unwrap_or(i32::MAX);
            let res = self
                .session
                .execute_unpaged(&self.st.select_dead_letters, (tenant, &month, want))
                .await
                .map_err(unavailable)?
                .into_rows_result()
                .map_err(unavailable)?;
            for row in res
                .rows::<(String, String, String, CqlTimestamp)>()
                .map_err(unavailable)?
            {
                let (event_id, event_json, reason, at) = row.map_err(unavailable)?;
                let at =
                    Utc.timestamp_millis_opt(at.0)
                        .single()
                        .ok_or_else(|| StoreError::Corrupt {
                            table: "dead_letters",
                            reason: format!("at {}", at.0),
                        })?;
                out.push(DeadLetter {
                    tenant: tenant.to_string(),
                    event_id,
                    event_json,
                    reason,
                    at,
                });
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
