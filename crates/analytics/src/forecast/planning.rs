//! "What will we have spent by the end of the period?" over a daily cost series.
//!
//! Money enters and leaves as `Decimal`. The daily history is converted to f64 for the
//! ensemble forecaster; each total is converted back once and rounded to 12 places, half to
//! even (docs/money.md, `money::to_amount`). Amounts already spent are added exactly, in
//! Decimal, never via f64.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Method, forecast};
use crate::AnalyticsError;
use crate::money::{slice_to_f64, to_amount};
use crate::stats::interval_z;

/// Weekly cycle of a daily series, used once two full weeks of history exist.
pub const DAILY_SEASON: usize = 7;

/// A projected total with its 80% and 95% intervals (computed amounts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalForecast {
    pub point: Decimal,
    pub lo80: Decimal,
    pub hi80: Decimal,
    pub lo95: Decimal,
    pub hi95: Decimal,
}

/// Forecast spend over the next `days_remaining` days from `history_daily` (one cost per day,
/// oldest first), with the ensemble forecaster (weekly season once 14 days exist).
///
/// Interval of the sum: the per-day σ_h are **added** (perfectly correlated errors). Errors of
/// one model's h-step forecasts are strongly positively correlated (a level that is off stays
/// off), so the independence formula √Σσ² would be far too narrow; this is the conservative
/// end. Costs are not negative: totals and lower bounds stop at 0.
pub fn project_total(
    history_daily: &[Decimal],
    days_remaining: usize,
) -> Result<TotalForecast, AnalyticsError> {
    if days_remaining == 0 {
        return Ok(TotalForecast {
            point: Decimal::ZERO,
            lo80: Decimal::ZERO,
            hi80: Decimal::ZERO,
            lo95: Decimal::ZERO,
            hi95: Decimal::ZERO,
        });
    }
    let values = slice_to_f64("history_daily", history_daily)?;
    let season = (values.len() >= 2 * DAILY_SEASON).then_some(DAILY_SEASON);
    let f = forecast(&values, season, days_remaining, Method::Ensemble)?;
    let point: f64 = f.point.iter().map(|v| v.max(0.0)).sum();
    let sigma: f64 = f.sigma.iter().sum();
    let (z80, z95) = (interval_z(0.80), interval_z(0.95));
    let amount = |field: &'static str, v: f64| to_amount(field, v.max(0.0));
    Ok(TotalForecast {
        point: amount("point", point)?,
        lo80: amount("lo80", point - z80 * sigma)?,
        hi80: amount("hi80", point + z80 * sigma)?,
        lo95: amount("lo95", point - z95 * sigma)?,
        hi95: amount("hi95", point + z95 * sigma)?,
    })
}

/// Spend at period end: `spent_so_far` (exact) plus [`project_total`] of the remaining days.
pub fn project_period_end(
    spent_so_far: Decimal,
    history_daily: &[Decimal],
    days_remaining: usize,
) -> Result<TotalForecast, AnalyticsError> {
    let rest = project_total(history_daily, days_remaining)?;
    let add = |field: &'static str, v: Decimal| {
        spent_so_far
            .checked_add(v)
            .ok_or_else(|| AnalyticsError::invalid(field, "sum overflows 28 significant digits"))
    };
    Ok(TotalForecast {
        point: add("point", rest.point)?,
        lo80: add("lo80", rest.lo80)?,
        hi80: add("hi80", rest.hi80)?,
        lo95: add("lo95", rest.lo95)?,
        hi95: add("hi95", rest.hi95)?,
    })
}
