//! Dated exchange rates on CQL: plain upserts keyed by (year, day, currency), so a retried or
//! repeated write is harmless and the last write wins.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use costwatch_domain::fx::DatedRate;
use costwatch_ports::fx::decode_rate;
use costwatch_ports::{FxRateStore, StoreError};
use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::CqlTimestamp;

use crate::statements::idempotent;
use crate::store::unavailable;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

const TABLE: &str = "fx_rates";
/// Rows per unlogged batch (all in one partition: one year).
const BATCH_ROWS: usize = 100;

pub struct CqlFxRates {
    session: Arc<Session>,
    keyspace: String,
    upsert: PreparedStatement,
    select: PreparedStatement,
}

impl CqlFxRates {
    pub async fn open(o: &CqlOptions) -> Result<CqlFxRates, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlFxRates::with_session(session, &o.keyspace).await
    }

    pub async fn with_session(session: Arc<Session>, ks: &str) -> Result<CqlFxRates, CqlError> {
        check_keyspace(ks)?;
        let upsert = idempotent(
            &session,
            format!(
                "INSERT INTO {ks}.fx_rates (year, day, currency, per_eur, source, fetched_at) \
                 VALUES (?, ?, ?, ?, ?, ?)"
            ),
        )
        .await?;
        let mut select = idempotent(
            &session,
            format!(
                "SELECT day, currency, per_eur, source, fetched_at FROM {ks}.fx_rates \
                 WHERE year = ? AND day >= ? AND day <= ?"
            ),
        )
        .await?;
        select.set_page_size(5000);
        Ok(CqlFxRates {
            session,
            keyspace: ks.to_string(),
            upsert,
            select,
        })
    }
}

impl CqlFxRates {
    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }
}

type RawRate = (String, String, String, String, CqlTimestamp);

fn decode((day, currency, per_eur, source, fetched_at): RawRate) -> Result<DatedRate, StoreError> {
    let fetched_at = Utc
        .timestamp_millis_opt(fetched_at.0)
        .single()
        .ok_or_else(|| StoreError::Corrupt {
            table: TABLE,
            reason: format!("fetched_at {} out of range", fetched_at.0),
        })?;
    decode_rate(TABLE, &day, &currency, &per_eur, source, fetched_at)
}

fn millis(t: DateTime<Utc>) -> CqlTimestamp {
    CqlTimestamp(t.timestamp_millis())
}

#[async_trait]
impl FxRateStore for CqlFxRates {
    async fn put_rates(&self, rates: &[DatedRate]) -> Result<usize, StoreError> {
        let mut by_year: std::collections::BTreeMap<i32, Vec<&DatedRate>> = Default::default();
        for r in rates {
            by_year.entry(r.day.year()).or_default().push(r);
        }
        for (year, rows) in by_year {
            for chunk in rows.chunks(BATCH_ROWS) {
                let mut batch = Batch::new(BatchType::Unlogged);
                let mut values = Vec::with_capacity(chunk.len());
                for r in chunk {
                    batch.append_statement(self.upsert.clone());
                    values.push((
                        year,
                        r.day.to_string(),
                        r.currency.to_string(),
                        r.per_eur.to_string(),
                        r.source.clone(),
                        millis(r.fetched_at),
                    ));
                }
                batch.set_is_idempotent(true);
                self.session
                    .batch(&batch, values)
                    .await
                    .map_err(unavailable)?;
            }
        }
        Ok(rates.len())
    }

    async fn rates(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DatedRate>, StoreError> {
        let mut out = Vec::new();
        for year in from.year()..=to.year() {
            let rows: Vec<RawRate> = self
                .session
                .execute_iter(
                    self.select.clone(),
                    (year, from.to_string(), to.to_string()),
                )
                .await
                .map_err(unavailable)?
                .rows_stream::<RawRate>()
                .map_err(unavailable)?
                .try_collect()
                .await
                .map_err(unavailable)?;
            for raw in rows {
                out.push(decode(raw)?);
            }
        }
        out.sort_by_key(|r| (r.currency, r.day));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract_tests::{drop_keyspace, migrated_keyspace};

    async fn fresh() -> CqlFxRates {
        let (session, keyspace) = migrated_keyspace().await;
        CqlFxRates::with_session(session, &keyspace)
            .await
            .expect("open fx store")
    }

    async fn teardown(store: &CqlFxRates) {
        drop_keyspace((store.session.clone(), store.keyspace.clone())).await;
    }

    costwatch_ports::fx_rate_store_contract!(
        fresh(),
        teardown = teardown,
        ignore = "needs a CQL server: make adapters"
    );
}
