//! Day-by-day spend forecasts for the API: a band per day ahead, the total over the horizon,
//! the trend as a growth rate, and what-if scenarios ("usage grows 20 %", "the price drops 10 %").
//!
//! A scenario scales the *forecast*, never the history: usage growth and a price change both
//! multiply cost, so the factor is `(1 + growth) × (1 + price change)`, applied in `Decimal` to
//! every point and band after the model ran (scaling a Gaussian forecast scales its σ too, so the
//! bands stay honest). Why not feed scaled history to the model: the question is about the future
//! changing, not the past having been different.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ensemble::ensemble;
use super::planning::{DAILY_SEASON, TotalForecast};
use super::{Method, validate};
use crate::AnalyticsError;
use crate::money::{slice_to_f64, to_amount};
use crate::stats::{interval_z, ols_line};

/// Largest growth or price change a scenario accepts, in percent.
pub const MAX_CHANGE_PERCENT: i64 = 1000;

/// A what-if on the forecast; both default to no change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Usage change from today on, in percent (`20` = 20 % more usage).
    pub usage_growth_percent: Decimal,
    /// Unit price change from today on, in percent (`-10` = 10 % cheaper).
    pub price_change_percent: Decimal,
}

impl Scenario {
    /// The multiplier on forecast cost. Errors name the field: each change must be above −100 %
    /// (cost cannot turn negative) and at most +1000 %.
    pub fn factor(&self) -> Result<Decimal, AnalyticsError> {
        let hundred = Decimal::ONE_HUNDRED;
        let mut factor = Decimal::ONE;
        for (field, pct) in [
            ("scenario.usage_growth_percent", self.usage_growth_percent),
            ("scenario.price_change_percent", self.price_change_percent),
        ] {
            if pct <= -hundred || pct > Decimal::from(MAX_CHANGE_PERCENT) {
                return Err(AnalyticsError::invalid(
                    field,
                    format!("{pct} is outside (-100, {MAX_CHANGE_PERCENT}]"),
                ));
            }
            factor *= Decimal::ONE + pct / hundred;
        }
        Ok(factor)
    }
}

/// A forecast of daily spend `horizon` days ahead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyForecast {
    /// One entry per day ahead (day 1 = the day after the history ends), scenario applied.
    pub days: Vec<TotalForecast>,
    /// Spend over the whole horizon, scenario applied (σ of the days added: see `project_total`).
    pub total: TotalForecast,
    /// Weight of each ensemble member (from the rolling backtest), summing to 1.
    pub weights: Vec<(Method, f64)>,
    /// The history's linear trend over 30 days relative to its mean daily spend, in percent
    /// (`None` when the mean is zero).
    pub growth_percent_per_30_days: Option<Decimal>,
    pub scenario_factor: Decimal,
}

/// Forecasts daily spend from `history` (one amount per day, oldest first) with the ensemble
/// (weekly season once two weeks exist).
pub fn forecast_daily(
    history: &[Decimal],
    horizon: usize,
    scenario: &Scenario,
) -> Result<DailyForecast, AnalyticsError> {
    let factor = scenario.factor()?;
    let values = slice_to_f64("history", history)?;
    let season = (values.len() >= 2 * DAILY_SEASON).then_some(DAILY_SEASON);
    let m = validate(&values, season, horizon)?;
    let fitted = ensemble(&values, m, horizon)?;
    let f = fitted.forecast;
    let (z80, z95) = (interval_z(0.80), interval_z(0.95));
    // Costs are not negative: every amount stops at 0 before the scenario scales it.
    let scaled = |field: &'static str, v: f64| -> Result<Decimal, AnalyticsError> {
        Ok((to_amount(field, v.max(0.0))? * factor).round_dp(12))
    };
    let band = |point: f64, sigma: f64| -> Result<TotalForecast, AnalyticsError> {
        Ok(TotalForecast {
            point: scaled("point", point)?,
            lo80: scaled("lo80", point - z80 * sigma)?,
            hi80: scaled("hi80", point + z80 * sigma)?,
            lo95: scaled("lo95", point - z95 * sigma)?,
            hi95: scaled("hi95", point + z95 * sigma)?,
        })
    };
    let days = f
        .point
        .iter()
        .zip(&f.sigma)
        .map(|(p, s)| band(*p, *s))
        .collect::<Result<Vec<_>, _>>()?;
    let total_point: f64 = f.point.iter().map(|v| v.max(0.0)).sum();
    let total = band(total_point, f.sigma.iter().sum())?;
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let growth = match ols_line(&values) {
        Some((slope, _)) if mean > 0.0 => Some(to_amount("growth", slope * 30.0 / mean * 100.0)?),
        _ => None,
    };
    Ok(DailyForecast {
        days,
        total,
        weights: fitted.weights,
        growth_percent_per_30_days: growth.map(|g| g.round_dp(2)),
        scenario_factor: factor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    /// 8 weeks of a weekly pattern (weekdays 100, weekends 40) growing 1 per week.
    fn weekly_history() -> Vec<Decimal> {
        (0..56)
            .map(|d| {
                let base = if d % 7 >= 5 { 40 } else { 100 };
                Decimal::from(base + d / 7)
            })
            .collect()
    }

    #[test]
    fn bands_are_ordered_and_the_total_is_the_sum_of_the_days() {
        let f = forecast_daily(&weekly_history(), 14, &Scenario::default()).expect("forecast");
        assert_eq!(f.days.len(), 14);
        for d in &f.days {
            assert!(d.lo95 <= d.lo80 && d.lo80 <= d.point, "{d:?}");
            assert!(d.point <= d.hi80 && d.hi80 <= d.hi95, "{d:?}");
        }
        let sum: Decimal = f.days.iter().map(|d| d.point).sum();
        // Each day is rounded once, the total once: they agree to rounding.
        assert!(
            (sum - f.total.point).abs() < dec("0.000001"),
            "{sum} vs {}",
            f.total.point
        );
        // The weekly pattern is followed: a forecast weekday costs more than a weekend day.
        assert!(f.days[0].point > f.days[5].point, "{:?}", f.days);
        let weights: f64 = f.weights.iter().map(|(_, w)| w).sum();
        assert!((weights - 1.0).abs() < 1e-9);
        assert_eq!(f.scenario_factor, Decimal::ONE);
    }

    #[test]
    fn a_scenario_scales_every_amount_exactly() {
        let base = forecast_daily(&weekly_history(), 7, &Scenario::default()).expect("base");
        let what_if = Scenario {
            usage_growth_percent: dec("20"),
            price_change_percent: dec("-10"),
        };
        let f = forecast_daily(&weekly_history(), 7, &what_if).expect("scenario");
        assert_eq!(f.scenario_factor, dec("1.08"));
        for (a, b) in base.days.iter().zip(&f.days) {
            assert_eq!((a.point * dec("1.08")).round_dp(12), b.point);
            assert_eq!((a.hi95 * dec("1.08")).round_dp(12), b.hi95);
        }
    }

    #[test]
    fn growth_rate_reads_the_trend() {
        let rising: Vec<Decimal> = (0..30).map(|d| Decimal::from(100 + d)).collect();
        let f = forecast_daily(&rising, 5, &Scenario::default()).expect("forecast");
        // Slope 1/day over a mean of 114.5: 30/114.5 = 26.20 %.
        assert_eq!(f.growth_percent_per_30_days, Some(dec("26.20")));
        let zeros = vec![Decimal::ZERO; 10];
        let f = forecast_daily(&zeros, 5, &Scenario::default()).expect("forecast");
        assert_eq!(f.growth_percent_per_30_days, None);
        assert!(f.days.iter().all(|d| d.point.is_zero() && d.lo95.is_zero()));
    }

    #[test]
    fn bad_scenarios_and_history_name_the_field() {
        let down = Scenario {
            usage_growth_percent: dec("-100"),
            ..Scenario::default()
        };
        let e = forecast_daily(&weekly_history(), 7, &down).expect_err("-100 %");
        assert!(
            e.to_string().contains("scenario.usage_growth_percent"),
            "{e}"
        );
        let up = Scenario {
            price_change_percent: dec("1000.5"),
            ..Scenario::default()
        };
        let e = forecast_daily(&weekly_history(), 7, &up).expect_err("too much");
        assert!(
            e.to_string().contains("scenario.price_change_percent"),
            "{e}"
        );
        let e = forecast_daily(&[], 7, &Scenario::default()).expect_err("empty");
        assert!(e.to_string().contains("history"), "{e}");
    }
}
