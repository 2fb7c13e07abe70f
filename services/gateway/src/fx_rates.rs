//! Exchange rates as an API: list the stored dated rates, set rates by hand, import the ECB
//! reference-rates XML. GraphQL and REST both call this, so both validate the same way.
//!
//! Rates are shared reference data (no tenant). Writes are upserts keyed by (currency, day):
//! re-importing a file changes nothing, a manual rate replaces the fixing of that day.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_billing_import::ecb::parse_ecb_rates;
use costwatch_domain::Currency;
use costwatch_domain::fx::DatedRate;
use costwatch_ports::{FxRateStore, StoreError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::queries::QueryError;

/// At most this many rates per write (the full ECB history is ~200k; send it through REST).
pub const MAX_RATES_PER_WRITE: usize = 250_000;
/// At most this many days per listing (ten years).
pub const MAX_LIST_DAYS: i64 = 3_660;

/// A rate as the APIs show it: decimals as exact strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateView {
    pub day: NaiveDate,
    pub currency: String,
    /// Units of `currency` per 1 EUR.
    pub per_eur: String,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

impl From<DatedRate> for RateView {
    fn from(r: DatedRate) -> Self {
        RateView {
            day: r.day,
            currency: r.currency.to_string(),
            per_eur: r.per_eur.normalize().to_string(),
            source: r.source,
            fetched_at: r.fetched_at,
        }
    }
}

/// A rate given by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateInput {
    pub day: String,
    pub currency: String,
    pub per_eur: String,
    pub source: Option<String>,
}

#[derive(Clone)]
pub struct FxRatesApi {
    store: Arc<dyn FxRateStore>,
}

fn unavailable(e: StoreError) -> QueryError {
    tracing::error!(error = %e, "exchange-rate store failed");
    QueryError::Unavailable
}

pub fn parse_day(field: &str, raw: &str) -> Result<NaiveDate, QueryError> {
    raw.trim()
        .parse()
        .map_err(|_| QueryError::bad(field, format!("{raw:?} is not a YYYY-MM-DD date")))
}

impl FxRatesApi {
    pub fn new(store: Arc<dyn FxRateStore>) -> FxRatesApi {
        FxRatesApi { store }
    }

    /// Stored rates with `from <= day <= to`, of one currency when given.
    pub async fn list(
        &self,
        from: &str,
        to: &str,
        currency: Option<&str>,
    ) -> Result<Vec<RateView>, QueryError> {
        let (from, to) = (parse_day("from", from)?, parse_day("to", to)?);
        if to < from {
            return Err(QueryError::bad("to", "must not be before from"));
        }
        if (to - from).num_days() > MAX_LIST_DAYS {
            return Err(QueryError::bad(
                "to",
                format!("at most {MAX_LIST_DAYS} days per listing"),
            ));
        }
        let currency = currency
            .map(|c| {
                c.parse::<Currency>()
                    .map_err(|e| QueryError::bad("currency", e.to_string()))
            })
            .transpose()?;
        let rates = self.store.rates(from, to).await.map_err(unavailable)?;
        Ok(rates
            .into_iter()
            .filter(|r| currency.is_none_or(|c| r.currency == c))
            .map(RateView::from)
            .collect())
    }

    /// Validates every rate (naming `rates[i].field`), then stores all of them or none.
    pub async fn put(
        &self,
        inputs: &[RateInput],
        default_source: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, QueryError> {
        if inputs.is_empty() {
            return Err(QueryError::bad("rates", "give at least one rate"));
        }
        let mut rates = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let field = |name: &str| format!("rates[{i}].{name}");
            let rate = DatedRate {
                day: parse_day(&field("day"), &input.day)?,
                currency: input.currency.parse().map_err(
                    |e: costwatch_domain::money::CurrencyError| {
                        QueryError::bad(field("currency"), e.to_string())
                    },
                )?,
                per_eur: input.per_eur.trim().parse::<Decimal>().map_err(|_| {
                    QueryError::bad(
                        field("perEur"),
                        format!("{:?} is not a decimal number", input.per_eur),
                    )
                })?,
                source: input
                    .source
                    .clone()
                    .unwrap_or_else(|| default_source.to_string()),
                fetched_at: now,
            };
            rate.check().map_err(|(name, reason)| {
                // The input calls the rate `perEur`.
                let name = if name == "rate" { "perEur" } else { name };
                QueryError::bad(field(name), reason)
            })?;
            rates.push(rate);
        }
        self.store_all(&rates).await
    }

    /// Imports an ECB reference-rates XML document (daily, 90-day or full history).
    pub async fn import_ecb(&self, xml: &[u8], now: DateTime<Utc>) -> Result<usize, QueryError> {
        let rates = parse_ecb_rates(xml, "ecb", now)
            .map_err(|e| QueryError::bad("body", format!("ECB reference rates: {e}")))?;
        self.store_all(&rates).await
    }

    async fn store_all(&self, rates: &[DatedRate]) -> Result<usize, QueryError> {
        if rates.len() > MAX_RATES_PER_WRITE {
            return Err(QueryError::bad(
                "rates",
                format!("at most {MAX_RATES_PER_WRITE} rates per write"),
            ));
        }
        self.store.put_rates(rates).await.map_err(unavailable)
    }
}
