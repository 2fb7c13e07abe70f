//! Exchange rates in GraphQL: `exchangeRates`, `putExchangeRates`, `importEcbRates`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::resolve;
use crate::fx_rates::{FxRatesApi, RateInput, RateView};
use crate::queries::QueryError;

/// A dated exchange rate: `perEur` units of `currency` buy 1 EUR on `day`.
#[derive(SimpleObject)]
#[graphql(name = "ExchangeRate")]
pub struct ExchangeRateGql {
    /// YYYY-MM-DD.
    pub day: String,
    pub currency: String,
    /// Exact decimal string.
    pub per_eur: String,
    /// `ecb`, `manual`, or what the writer named.
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

impl From<RateView> for ExchangeRateGql {
    fn from(r: RateView) -> Self {
        ExchangeRateGql {
            day: r.day.to_string(),
            currency: r.currency,
            per_eur: r.per_eur,
            source: r.source,
            fetched_at: r.fetched_at,
        }
    }
}

#[derive(InputObject)]
pub struct ExchangeRateInput {
    /// YYYY-MM-DD.
    pub day: String,
    pub currency: String,
    /// Units of `currency` per 1 EUR, as a decimal string.
    pub per_eur: String,
    /// Defaults to `manual`.
    pub source: Option<String>,
}

fn api<'a>(ctx: &Context<'a>) -> Result<&'a FxRatesApi, QueryError> {
    ctx.data_opt::<FxRatesApi>().ok_or_else(|| {
        QueryError::Internal("exchange rates are not stored in this deployment".into())
    })
}

#[derive(Default)]
pub struct FxQuery;

#[Object]
impl FxQuery {
    /// Stored dated rates with `from <= day <= to` (YYYY-MM-DD), of one currency when given.
    async fn exchange_rates(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        currency: Option<String>,
    ) -> Result<Vec<ExchangeRateGql>> {
        resolve(async {
            let rates = api(ctx)?.list(&from, &to, currency.as_deref()).await?;
            Ok(rates.into_iter().map(ExchangeRateGql::from).collect())
        })
        .await
    }
}

#[derive(Default)]
pub struct FxMutation;

#[Object]
impl FxMutation {
    /// Sets rates by hand (replacing the fixing of that currency and day); all or none.
    /// Returns how many were stored.
    async fn put_exchange_rates(
        &self,
        ctx: &Context<'_>,
        rates: Vec<ExchangeRateInput>,
    ) -> Result<usize> {
        resolve(async {
            let inputs: Vec<RateInput> = rates
                .into_iter()
                .map(|r| RateInput {
                    day: r.day,
                    currency: r.currency,
                    per_eur: r.per_eur,
                    source: r.source,
                })
                .collect();
            api(ctx)?.put(&inputs, "manual", Utc::now()).await
        })
        .await
    }

    /// Imports an ECB reference-rates XML document (`eurofxref-daily.xml` or the 90-day file;
    /// the full history goes to `POST /api/admin/fx/ecb`). Returns how many rates were stored.
    async fn import_ecb_rates(&self, ctx: &Context<'_>, xml: String) -> Result<usize> {
        resolve(async { api(ctx)?.import_ecb(xml.as_bytes(), Utc::now()).await }).await
    }
}
