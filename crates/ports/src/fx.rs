//! Dated exchange rates (see `costwatch_domain::fx` for how they are used).
//!
//! Rates are reference data shared by every tenant — the one store here whose keys carry no
//! tenant: a fixing is the same fact for everybody, and no tenant's data is in it.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use costwatch_domain::fx::DatedRate;

use crate::StoreError;

/// A stored rate from its text columns (both adapters keep day, currency and rate as text, so a
/// rate reads back with its exact scale); a bad column is `Corrupt` naming it.
pub fn decode_rate(
    table: &'static str,
    day: &str,
    currency: &str,
    per_eur: &str,
    source: String,
    fetched_at: DateTime<Utc>,
) -> Result<DatedRate, StoreError> {
    let corrupt = |column: &str, value: &str, e: String| StoreError::Corrupt {
        table,
        reason: format!("{column} {value:?}: {e}"),
    };
    Ok(DatedRate {
        day: day
            .parse()
            .map_err(|e: chrono::ParseError| corrupt("day", day, e.to_string()))?,
        currency: currency
            .parse()
            .map_err(|e: costwatch_domain::money::CurrencyError| {
                corrupt("currency", currency, e.to_string())
            })?,
        per_eur: per_eur
            .parse()
            .map_err(|e: rust_decimal::Error| corrupt("per_eur", per_eur, e.to_string()))?,
        source,
        fetched_at,
    })
}

#[async_trait]
pub trait FxRateStore: Send + Sync {
    /// Upserts rates keyed by (currency, day); the last write wins, so a manual correction
    /// replaces a published fixing and re-importing a file changes nothing. Returns the count.
    async fn put_rates(&self, rates: &[DatedRate]) -> Result<usize, StoreError>;

    /// Every stored rate with `from <= day <= to`, ordered by (currency, day).
    async fn rates(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DatedRate>, StoreError>;
}
