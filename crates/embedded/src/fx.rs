//! Dated exchange rates in SQLite.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use costwatch_domain::fx::DatedRate;
use costwatch_ports::fx::decode_rate;
use costwatch_ports::{FxRateStore, StoreError};
use rusqlite::params;

use crate::OpenError;
use crate::db::Db;

const SCHEMA: &str = include_str!("../migrations/fx.sql");
const TABLE: &str = "fx_rates";

pub struct SqliteFxRates {
    db: Db,
}

impl SqliteFxRates {
    pub fn open(path: &Path) -> Result<SqliteFxRates, OpenError> {
        Ok(SqliteFxRates {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

type RawRate = (String, String, String, String, String);

fn decode((day, currency, per_eur, source, fetched_at): RawRate) -> Result<DatedRate, StoreError> {
    let fetched_at = DateTime::parse_from_rfc3339(&fetched_at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            table: TABLE,
            reason: format!("fetched_at {fetched_at:?}: {e}"),
        })?;
    decode_rate(TABLE, &day, &currency, &per_eur, source, fetched_at)
}

#[async_trait]
impl FxRateStore for SqliteFxRates {
    async fn put_rates(&self, rates: &[DatedRate]) -> Result<usize, StoreError> {
        let rows: Vec<RawRate> = rates
            .iter()
            .map(|r| {
                (
                    r.day.to_string(),
                    r.currency.to_string(),
                    r.per_eur.to_string(),
                    r.source.clone(),
                    r.fetched_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                )
            })
            .collect();
        self.db
            .call(move |c| {
                let tx = c.transaction().map_err(|e| e.to_string())?;
                {
                    let mut upsert = tx
                        .prepare_cached(
                            "INSERT INTO fx_rates (day, currency, per_eur, source, fetched_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT (day, currency) DO UPDATE SET
                               per_eur = excluded.per_eur, source = excluded.source,
                               fetched_at = excluded.fetched_at",
                        )
                        .map_err(|e| e.to_string())?;
                    for (day, currency, per_eur, source, fetched_at) in &rows {
                        upsert
                            .execute(params![day, currency, per_eur, source, fetched_at])
                            .map_err(|e| e.to_string())?;
                    }
                }
                tx.commit().map_err(|e| e.to_string())?;
                Ok(rows.len())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn rates(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DatedRate>, StoreError> {
        let (from, to) = (from.to_string(), to.to_string());
        let raw = self
            .db
            .call(move |c| {
                let mut q = c
                    .prepare_cached(
                        "SELECT day, currency, per_eur, source, fetched_at FROM fx_rates
                         WHERE day >= ?1 AND day <= ?2 ORDER BY currency, day",
                    )
                    .map_err(|e| e.to_string())?;
                let rows = q
                    .query_map(params![from, to], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<RawRate>, _>>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter().map(decode).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> SqliteFxRates {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteFxRates::open(&dir.join("fx.sqlite")).expect("open")
    }

    costwatch_ports::fx_rate_store_contract!(fresh());
}
