//! The two baselines: seasonal naive and an OLS linear trend.

use super::{Forecast, Method};
use crate::AnalyticsError;
use crate::stats::ols_line;

/// Repeats the last observed cycle of period `m` (m = 1: the last value).
///
/// σ² is the mean squared seasonal difference; the error variance grows with the number of
/// whole cycles ahead, k = ⌊(h − 1)/m⌋: var_h = σ²(k + 1) (a seasonal random walk).
pub fn seasonal_naive(
    history: &[f64],
    m: usize,
    horizon: usize,
) -> Result<Forecast, AnalyticsError> {
    let n = history.len();
    if n <= m {
        return Err(AnalyticsError::TooShort {
            field: "history (seasonal_naive needs one full season plus a point)",
            needed: m + 1,
            got: n,
        });
    }
    let diffs = history.windows(m + 1).map(|w| w[m] - w[0]);
    let sigma = (diffs.map(|d| d * d).sum::<f64>() / (n - m) as f64).sqrt();
    let mut point = Vec::with_capacity(horizon);
    let mut sigmas = Vec::with_capacity(horizon);
    for h in 1..=horizon {
        point.push(history[n - m + (h - 1) % m]);
        let cycles_ahead = ((h - 1) / m) as f64;
        sigmas.push(sigma * (cycles_ahead + 1.0).sqrt());
    }
    Forecast::from_point_sigma(Method::SeasonalNaive, point, sigmas)
}

/// OLS line through the whole history, extrapolated. Interval: the OLS prediction variance
/// σ²(1 + 1/n + (t − t̄)²/Sxx) with σ² = SSE/(n − 2), so it widens away from the data.
pub fn linear_trend(history: &[f64], horizon: usize) -> Result<Forecast, AnalyticsError> {
    let n = history.len();
    let (slope, intercept) = ols_line(history).ok_or(AnalyticsError::TooShort {
        field: "history",
        needed: 2,
        got: n,
    })?;
    let sse: f64 = history
        .iter()
        .enumerate()
        .map(|(t, y)| (y - intercept - slope * t as f64).powi(2))
        .sum();
    let sigma = (sse / n.saturating_sub(2).max(1) as f64).sqrt();
    let t_mean = (n - 1) as f64 / 2.0;
    let sxx: f64 = (0..n).map(|t| (t as f64 - t_mean).powi(2)).sum();
    let mut point = Vec::with_capacity(horizon);
    let mut sigmas = Vec::with_capacity(horizon);
    for h in 1..=horizon {
        let t = (n - 1 + h) as f64;
        point.push(intercept + slope * t);
        sigmas.push(sigma * (1.0 + 1.0 / n as f64 + (t - t_mean).powi(2) / sxx).sqrt());
    }
    Forecast::from_point_sigma(Method::LinearTrend, point, sigmas)
}
