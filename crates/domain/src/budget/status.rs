//! The live status of a budget: spent so far, forecast at the period's end with an 80 %
//! interval, the date the budget runs out at the current rate, and a health verdict.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use super::period::PeriodWindow;
use super::spec::BudgetSpec;
use crate::money::{checked_sum, round_computed};
use crate::query::percentage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetHealth {
    OnTrack,
    /// The forecast reaches the amount before the period ends.
    AtRisk,
    /// Spent reached the amount.
    Exceeded,
}

/// When a forecast is trusted enough to alert on. Early in a period one event extrapolated over a
/// month is noise, so forecast thresholds wait for `min_elapsed` of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForecastPolicy {
    pub min_elapsed: Duration,
}

impl Default for ForecastPolicy {
    fn default() -> Self {
        ForecastPolicy {
            min_elapsed: Duration::days(1),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    pub window: PeriodWindow,
    /// Exact sum of the period's spend so far.
    pub spent: Decimal,
    /// Spent plus the period-average daily rate over the days left (computed, 12 places).
    pub forecast: Decimal,
    /// 80 % interval of the forecast.
    pub forecast_low: Decimal,
    pub forecast_high: Decimal,
    /// Whether enough of the period has elapsed for forecast alerts (see [`ForecastPolicy`]).
    pub forecast_confident: bool,
    /// `spent / amount × 100`, two places.
    pub percent_spent: Decimal,
    pub health: BudgetHealth,
    /// When spend reaches the amount at the current rate, if that is before the period ends.
    pub depletion: Option<DateTime<Utc>>,
}

const SECONDS_PER_DAY: i64 = 86_400;
/// z of the two-sided 80 % normal interval.
const Z80: f64 = 1.281_551_565_5;

fn days(d: Duration) -> Decimal {
    Decimal::from(d.num_seconds()) / Decimal::from(SECONDS_PER_DAY)
}

/// Half-width of the 80 % interval of the spend over `remaining_days`. Daily spend is treated as
/// independent draws with the spread of the complete days seen so far, so the remainder's
/// variance is `remaining × sd²`. With fewer than three complete days there is no spread to
/// measure and the half-width is half the projected remainder (a deliberately wide guess).
/// Statistics in f64 are fine here: the interval is a model output, not a ledger amount.
fn half_width_80(
    complete_days: &[Decimal],
    projected_remainder: Decimal,
    remaining_days: f64,
) -> Decimal {
    let values: Vec<f64> = complete_days.iter().filter_map(|d| d.to_f64()).collect();
    if values.len() < 3 {
        return (projected_remainder / Decimal::TWO).abs();
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let hw = Z80 * (var * remaining_days).sqrt();
    Decimal::from_f64(hw).map_or(Decimal::ZERO, round_computed)
}

/// The status at `now` of a budget whose period `window` saw `daily` spend (index 0 = the day
/// starting at `window.start`; missing trailing days are zero).
pub fn status(
    spec: &BudgetSpec,
    window: PeriodWindow,
    daily: &[Decimal],
    now: DateTime<Utc>,
    policy: ForecastPolicy,
) -> BudgetStatus {
    let spent = checked_sum(daily.iter().copied()).unwrap_or(Decimal::MAX);
    let elapsed = window.elapsed(now);
    let remaining = window.length() - elapsed;
    let (elapsed_days, remaining_days) = (days(elapsed), days(remaining));
    // Rate over the whole elapsed period: steadier than the last day, and exactly the
    // month-end projection finance teams already use.
    let rate = if elapsed_days.is_zero() {
        Decimal::ZERO
    } else {
        spent.checked_div(elapsed_days).unwrap_or(Decimal::ZERO)
    };
    let remainder = rate
        .checked_mul(remaining_days)
        .map_or(Decimal::ZERO, round_computed);
    let forecast = spent.checked_add(remainder).unwrap_or(spent);
    let complete = (elapsed.num_seconds() / SECONDS_PER_DAY).max(0) as usize;
    let complete_days: Vec<Decimal> = (0..complete)
        .map(|i| daily.get(i).copied().unwrap_or_default())
        .collect();
    let hw = half_width_80(
        &complete_days,
        remainder,
        remaining.num_seconds() as f64 / SECONDS_PER_DAY as f64,
    );
    let forecast_low = forecast.checked_sub(hw).unwrap_or(forecast).max(spent);
    let forecast_high = forecast.checked_add(hw).unwrap_or(forecast);
    let forecast_confident = elapsed >= policy.min_elapsed;
    let health = if spent >= spec.amount {
        BudgetHealth::Exceeded
    } else if forecast_confident && forecast >= spec.amount {
        BudgetHealth::AtRisk
    } else {
        BudgetHealth::OnTrack
    };
    let depletion = depletion(spec.amount, spent, rate, now, window);
    BudgetStatus {
        window,
        spent,
        forecast,
        forecast_low,
        forecast_high,
        forecast_confident,
        percent_spent: percentage(spent, spec.amount).unwrap_or_default(),
        health,
        depletion,
    }
}

fn depletion(
    amount: Decimal,
    spent: Decimal,
    rate_per_day: Decimal,
    now: DateTime<Utc>,
    window: PeriodWindow,
) -> Option<DateTime<Utc>> {
    if spent >= amount || rate_per_day <= Decimal::ZERO || !window.contains(now) {
        return None;
    }
    let days_left = (amount - spent).checked_div(rate_per_day)?;
    let seconds = (days_left * Decimal::from(SECONDS_PER_DAY))
        .trunc()
        .to_i64()?;
    let at = now.checked_add_signed(Duration::try_seconds(seconds)?)?;
    (at < window.end).then_some(at)
}
