//! `forecast(tenant, scope, horizon)`: daily spend in a scope, forecast with the analytics
//! ensemble (80 % and 95 % bands), with an optional what-if scenario.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use costwatch_analytics::AnalyticsError;
use costwatch_analytics::forecast::{DailyForecast, Scenario, forecast_daily};
use costwatch_domain::Currency;
use costwatch_domain::budget::{BudgetScope, PeriodWindow};
use rust_decimal::Decimal;

use crate::{AlertingError, BudgetService, daily_spend, parse_tenant};

/// Limits on what one request may ask for (days).
pub const MAX_HORIZON_DAYS: u32 = 366;
pub const MIN_HISTORY_DAYS: u32 = 7;
pub const MAX_HISTORY_DAYS: u32 = 730;
/// Fewest days since the scope's first spend that give a forecast (the ensemble's backtest
/// needs room for one fold).
const MIN_MODEL_DAYS: usize = 4;

/// What to forecast.
#[derive(Debug, Clone)]
pub struct ForecastRequest {
    pub tenant: String,
    pub scope: BudgetScope,
    pub currency: Currency,
    /// Complete days of history the model is fitted on (ending yesterday, UTC).
    pub history_days: u32,
    /// Days ahead, starting today.
    pub horizon_days: u32,
    pub scenario: Scenario,
}

/// The history the model saw and what it forecast; `days[i]` is `start + i` days.
#[derive(Debug, Clone)]
pub struct SpendForecast {
    pub tenant: String,
    pub currency: Currency,
    pub history_start: NaiveDate,
    pub history: Vec<Decimal>,
    pub forecast_start: NaiveDate,
    pub forecast: DailyForecast,
}

fn as_input_error(e: AnalyticsError) -> AlertingError {
    match e {
        AnalyticsError::InvalidInput { field, reason } => AlertingError::bad(field, reason),
        AnalyticsError::TooShort { needed, got, .. } => AlertingError::bad(
            "historyDays",
            format!("the model needs at least {needed} days of history, got {got}"),
        ),
    }
}

impl BudgetService {
    pub async fn forecast(
        &self,
        req: ForecastRequest,
        now: DateTime<Utc>,
    ) -> Result<SpendForecast, AlertingError> {
        let tenant = parse_tenant(&req.tenant)?;
        self.check_currency("currency", req.currency)?;
        if !(1..=MAX_HORIZON_DAYS).contains(&req.horizon_days) {
            return Err(AlertingError::bad(
                "horizonDays",
                format!("must be between 1 and {MAX_HORIZON_DAYS}"),
            ));
        }
        if !(MIN_HISTORY_DAYS..=MAX_HISTORY_DAYS).contains(&req.history_days) {
            return Err(AlertingError::bad(
                "historyDays",
                format!("must be between {MIN_HISTORY_DAYS} and {MAX_HISTORY_DAYS}"),
            ));
        }
        req.scenario.factor().map_err(as_input_error)?;
        // Today is incomplete: the history ends at midnight, the forecast starts today.
        let today = now.date_naive();
        let end = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let window = PeriodWindow {
            start: end - Duration::days(i64::from(req.history_days)),
            end,
        };
        let history = daily_spend(
            self.costs(),
            self.fx(),
            &tenant,
            &req.scope,
            window,
            req.currency,
        )
        .await?;
        // Days before the scope's first spend are not history (a new service would otherwise
        // look like steep growth from zero); a scope with no spend at all forecasts zero.
        let first = history.iter().position(|d| !d.is_zero()).unwrap_or(0);
        let history = history[first..].to_vec();
        if history.len() < MIN_MODEL_DAYS {
            return Err(AlertingError::bad(
                "scope",
                format!(
                    "has spend on only the last {} days; a forecast needs {MIN_MODEL_DAYS}",
                    history.len()
                ),
            ));
        }
        let forecast = forecast_daily(&history, req.horizon_days as usize, &req.scenario)
            .map_err(as_input_error)?;
        Ok(SpendForecast {
            tenant,
            currency: req.currency,
            history_start: window.start.date_naive() + Duration::days(first as i64),
            history,
            forecast_start: today,
            forecast,
        })
    }
}
