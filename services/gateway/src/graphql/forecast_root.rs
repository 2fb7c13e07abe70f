//! `forecast(tenant, scope, horizonDays)`: daily spend ahead with 80 % and 95 % bands, the
//! trend as a growth rate, and what-if scenarios (usage growth, price change).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{Duration, NaiveDate, Utc};
use costwatch_alerting::{AlertingError, ForecastRequest, SpendForecast};
use costwatch_analytics::forecast::{Scenario, TotalForecast};
use costwatch_domain::Currency;
use costwatch_domain::money::format_amount;
use rust_decimal::Decimal;

use super::budget_root::{alerting, gql_error};
use super::budget_types::{BudgetScopeInput, currency_of, scope_of};
use crate::views::Money;

/// A what-if applied to the forecast (not to the history). Percentages as decimal strings.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ScenarioInput {
    /// Usage change from today on, e.g. "20" for 20 % more; above -100.
    pub usage_growth_percent: Option<String>,
    /// Unit price change from today on, e.g. "-10" for 10 % cheaper; above -100.
    pub price_change_percent: Option<String>,
}

fn percent_of(field: &str, raw: Option<&str>) -> Result<Decimal, AlertingError> {
    match raw {
        None => Ok(Decimal::ZERO),
        Some(s) => s
            .trim()
            .parse::<Decimal>()
            .map_err(|_| AlertingError::bad(field, format!("{s:?} is not a decimal number"))),
    }
}

impl ScenarioInput {
    fn scenario(&self) -> Result<Scenario, AlertingError> {
        Ok(Scenario {
            usage_growth_percent: percent_of(
                "scenario.usageGrowthPercent",
                self.usage_growth_percent.as_deref(),
            )?,
            price_change_percent: percent_of(
                "scenario.priceChangePercent",
                self.price_change_percent.as_deref(),
            )?,
        })
    }
}

/// A forecast amount with its prediction intervals.
#[derive(Debug, Clone, SimpleObject)]
pub struct ForecastBand {
    pub point: Money,
    pub lo80: Money,
    pub hi80: Money,
    pub lo95: Money,
    pub hi95: Money,
}

impl ForecastBand {
    fn new(t: &TotalForecast, currency: Currency) -> ForecastBand {
        ForecastBand {
            point: Money::new(t.point, currency),
            lo80: Money::new(t.lo80, currency),
            hi80: Money::new(t.hi80, currency),
            lo95: Money::new(t.lo95, currency),
            hi95: Money::new(t.hi95, currency),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ForecastDay {
    pub date: NaiveDate,
    pub band: ForecastBand,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct HistoryDay {
    pub date: NaiveDate,
    pub amount: Money,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ModelWeight {
    /// seasonal_naive, linear_trend or holt_winters.
    pub method: String,
    /// Share in the ensemble (0..1), from a rolling backtest on this series.
    pub weight: f64,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CostForecast {
    pub tenant: String,
    /// Complete days the model was fitted on (from the scope's first spend, ending yesterday).
    pub history: Vec<HistoryDay>,
    /// One entry per day ahead, starting today.
    pub days: Vec<ForecastDay>,
    /// Spend over the whole horizon.
    pub total: ForecastBand,
    /// The history's linear trend over 30 days relative to its mean, in percent.
    pub growth_percent_per_30_days: Option<String>,
    /// The multiplier the scenario applied (1 without one).
    pub scenario_factor: String,
    pub weights: Vec<ModelWeight>,
}

impl From<SpendForecast> for CostForecast {
    fn from(f: SpendForecast) -> Self {
        let c = f.currency;
        let day = |start: NaiveDate, i: usize| start + Duration::days(i as i64);
        CostForecast {
            tenant: f.tenant,
            history: f
                .history
                .iter()
                .enumerate()
                .map(|(i, a)| HistoryDay {
                    date: day(f.history_start, i),
                    amount: Money::new(*a, c),
                })
                .collect(),
            days: f
                .forecast
                .days
                .iter()
                .enumerate()
                .map(|(i, t)| ForecastDay {
                    date: day(f.forecast_start, i),
                    band: ForecastBand::new(t, c),
                })
                .collect(),
            total: ForecastBand::new(&f.forecast.total, c),
            growth_percent_per_30_days: f.forecast.growth_percent_per_30_days.map(format_amount),
            scenario_factor: format_amount(f.forecast.scenario_factor),
            weights: f
                .forecast
                .weights
                .iter()
                .map(|(m, w)| ModelWeight {
                    method: m.name().to_string(),
                    weight: *w,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct ForecastQuery;

#[Object]
impl ForecastQuery {
    /// Daily spend in `scope` for `horizonDays` from today, fitted on up to `historyDays` of
    /// history, with an optional what-if `scenario`.
    #[allow(clippy::too_many_arguments)]
    async fn forecast(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        scope: Option<BudgetScopeInput>,
        #[graphql(default = 30)] horizon_days: i32,
        #[graphql(default = 90)] history_days: i32,
        currency: Option<String>,
        scenario: Option<ScenarioInput>,
    ) -> Result<CostForecast> {
        let a = alerting(ctx)?;
        let result = async {
            let days = |field: &str, v: i32| {
                u32::try_from(v).map_err(|_| AlertingError::bad(field, "must not be negative"))
            };
            let req = ForecastRequest {
                tenant,
                scope: scope_of("scope", scope.as_ref())?,
                currency: currency_of(
                    "currency",
                    currency.as_deref().unwrap_or(a.default_currency.as_str()),
                )?,
                history_days: days("historyDays", history_days)?,
                horizon_days: days("horizonDays", horizon_days)?,
                scenario: scenario.unwrap_or_default().scenario()?,
            };
            a.budgets.forecast(req, Utc::now()).await
        }
        .await;
        result.map(CostForecast::from).map_err(gql_error)
    }
}
