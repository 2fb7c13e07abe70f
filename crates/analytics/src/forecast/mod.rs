//! Batch forecasters for one series with 80% and 95% prediction intervals, and an ensemble
//! weighted per series by a rolling-origin backtest.
//!
//! Models: [`Method::SeasonalNaive`], [`Method::LinearTrend`] (OLS line),
//! [`Method::HoltWinters`] (additive, damped trend, grid-searched parameters) and
//! [`Method::Ensemble`] (see `ensemble.rs`).
//!
//! **Intervals are a normal approximation**: every model reports an h-step forecast standard
//! deviation derived from its in-sample one-step residuals and its own variance formula, and
//! the bands are `point ± z·σ_h` with z = 1.2816 (80%) and 1.9600 (95%). Why not residual
//! quantiles: with a few hundred residuals the 2.5% / 97.5% empirical quantiles rest on a
//! handful of points each, and quantiles of one-step residuals say nothing about how the
//! error grows with h, which the variance formulas do.
//!
//! Values are f64 measurements here; money totals leave the crate as `Decimal` through
//! [`planning::project_total`].

pub mod ensemble;
pub mod holt_winters;
pub mod metrics;
pub mod models;
pub mod planning;
pub mod scenario;

use serde::{Deserialize, Serialize};

use crate::AnalyticsError;
use crate::stats::interval_z;

pub use metrics::{mase, smape};
pub use planning::{TotalForecast, project_total};
pub use scenario::{DailyForecast, Scenario, forecast_daily};

/// The forecasting methods the crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    SeasonalNaive,
    LinearTrend,
    HoltWinters,
    Ensemble,
}

impl Method {
    /// The single models the ensemble combines.
    pub const MEMBERS: [Method; 3] = [
        Method::SeasonalNaive,
        Method::LinearTrend,
        Method::HoltWinters,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::SeasonalNaive => "seasonal_naive",
            Method::LinearTrend => "linear_trend",
            Method::HoltWinters => "holt_winters",
            Method::Ensemble => "ensemble",
        }
    }
}

/// Point forecasts with 80% and 95% prediction intervals, one entry per step ahead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub point: Vec<f64>,
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
    /// Standard deviation of the h-step forecast error the bands were built from.
    pub sigma: Vec<f64>,
    pub method: Method,
}

impl Forecast {
    /// Builds the bands from points and h-step sigmas (Gaussian forecast errors).
    pub(crate) fn from_point_sigma(
        method: Method,
        point: Vec<f64>,
        sigma: Vec<f64>,
    ) -> Result<Self, AnalyticsError> {
        if point.len() != sigma.len() {
            return Err(AnalyticsError::invalid(
                "sigma",
                format!("has {} steps, point has {}", sigma.len(), point.len()),
            ));
        }
        if point.iter().chain(&sigma).any(|v| !v.is_finite()) {
            return Err(AnalyticsError::invalid(
                "history",
                format!("{} produced a non-finite forecast", method.name()),
            ));
        }
        let (z80, z95) = (interval_z(0.80), interval_z(0.95));
        let band =
            |z: f64| -> Vec<f64> { point.iter().zip(&sigma).map(|(m, s)| m + z * s).collect() };
        Ok(Self {
            lo80: band(-z80),
            hi80: band(z80),
            lo95: band(-z95),
            hi95: band(z95),
            point,
            sigma,
            method,
        })
    }

    pub fn horizon(&self) -> usize {
        self.point.len()
    }
}

/// Fewest points any method accepts.
pub const MIN_HISTORY: usize = 3;

/// Fits `method` on `history` (oldest first) and forecasts `horizon` steps.
///
/// `season` is the seasonal period in samples (24 for hourly data with a daily cycle, 7 for
/// daily data with a weekly one); `None` or `Some(1)` means no seasonality.
/// Errors: empty or too-short history (Holt-Winters with a season needs two full seasons, the
/// ensemble needs room for one backtest fold), non-finite values, zero horizon or season.
pub fn forecast(
    history: &[f64],
    season: Option<usize>,
    horizon: usize,
    method: Method,
) -> Result<Forecast, AnalyticsError> {
    let m = validate(history, season, horizon)?;
    match method {
        Method::SeasonalNaive => models::seasonal_naive(history, m, horizon),
        Method::LinearTrend => models::linear_trend(history, horizon),
        Method::HoltWinters => holt_winters::holt_winters(history, m, horizon),
        Method::Ensemble => ensemble::ensemble(history, m, horizon).map(|e| e.forecast),
    }
}

/// Checks the inputs; returns the effective period (1 = no season).
fn validate(
    history: &[f64],
    season: Option<usize>,
    horizon: usize,
) -> Result<usize, AnalyticsError> {
    if history.len() < MIN_HISTORY {
        return Err(AnalyticsError::TooShort {
            field: "history",
            needed: MIN_HISTORY,
            got: history.len(),
        });
    }
    if horizon == 0 {
        return Err(AnalyticsError::invalid("horizon", "must be at least 1"));
    }
    if let Some(i) = history.iter().position(|v| !v.is_finite()) {
        return Err(AnalyticsError::invalid(
            "history",
            format!("value at index {i} is not finite"),
        ));
    }
    match season {
        Some(0) => Err(AnalyticsError::invalid(
            "season",
            "a period must be at least 1",
        )),
        Some(m) => Ok(m),
        None => Ok(1),
    }
}

#[cfg(test)]
mod tests;
