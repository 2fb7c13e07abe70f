//! Ensemble of the single models, weighted per series by a rolling-origin backtest.
//!
//! For each of [`BACKTEST_FOLDS`] origins (n − h, n − 2h, …) every member is fitted on the data
//! before the origin and scored by its MASE over the next h points (scale: seasonal naive on
//! that fold's training part). A member's error is its mean MASE over the folds it could run.
//!
//! Why prune and then weight: members worse than [`PRUNE_RATIO`] × the best backtest error get
//! weight 0 (a straight line extrapolated through a seasonal series should not drag a good
//! Holt-Winters forecast); the rest are weighted ∝ 1 / MASE² (inverse mean squared error, the
//! classic combination weight), which degrades gracefully to "pick the best" when one member
//! clearly wins. Without any backtest fold (short history) every member counts equally.
//!
//! The ensemble's σ_h is the weighted mean of the members' σ_h: members' errors are strongly
//! correlated, so the independence formula (which shrinks σ) would give too narrow bands.

use serde::{Deserialize, Serialize};

use super::{Forecast, Method, holt_winters, models};
use crate::AnalyticsError;

pub const BACKTEST_FOLDS: usize = 3;
pub const PRUNE_RATIO: f64 = 2.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleForecast {
    pub forecast: Forecast,
    /// Weight of each member that could be fitted (sums to 1).
    pub weights: Vec<(Method, f64)>,
    /// Mean backtest MASE of each fitted member (`None`: no fold could run).
    pub backtest_mase: Vec<(Method, Option<f64>)>,
}

fn fit_member(
    method: Method,
    history: &[f64],
    m: usize,
    horizon: usize,
) -> Result<Forecast, AnalyticsError> {
    match method {
        Method::SeasonalNaive => models::seasonal_naive(history, m, horizon),
        Method::LinearTrend => models::linear_trend(history, horizon),
        Method::HoltWinters => holt_winters::holt_winters(history, m, horizon),
        Method::Ensemble => Err(AnalyticsError::invalid(
            "method",
            "an ensemble cannot be a member",
        )),
    }
}

/// Mean backtest MASE of `method`; `None` when no fold could run.
fn backtest_mase(method: Method, history: &[f64], m: usize, horizon: usize) -> Option<f64> {
    let n = history.len();
    let mut total = 0.0;
    let mut folds = 0;
    for fold in 1..=BACKTEST_FOLDS {
        let Some(origin) = n.checked_sub(fold * horizon) else {
            break;
        };
        let train = &history[..origin];
        let Ok(f) = fit_member(method, train, m, horizon) else {
            continue;
        };
        let actual = &history[origin..origin + horizon];
        let mae = f
            .point
            .iter()
            .zip(actual)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / horizon as f64;
        total += mae / naive_scale(train, m);
        folds += 1;
    }
    (folds > 0).then(|| total / f64::from(folds))
}

/// In-sample seasonal-naive MAE, floored so a constant series still gives finite ratios (all
/// members of a fold share the scale, so the floor does not change their ranking).
fn naive_scale(train: &[f64], m: usize) -> f64 {
    let m = if train.len() > m { m } else { 1 };
    let level = train.iter().map(|v| v.abs()).sum::<f64>() / train.len().max(1) as f64;
    let floor = 1e-9 * (1.0 + level);
    if train.len() <= m {
        return floor;
    }
    let scale = train
        .windows(m + 1)
        .map(|w| (w[m] - w[0]).abs())
        .sum::<f64>()
        / (train.len() - m) as f64;
    scale.max(floor)
}

/// Fits every member on the full history and combines them (see the module documentation).
pub fn ensemble(
    history: &[f64],
    m: usize,
    horizon: usize,
) -> Result<EnsembleForecast, AnalyticsError> {
    let mut members = Vec::new();
    let mut first_error = None;
    for method in Method::MEMBERS {
        match fit_member(method, history, m, horizon) {
            Ok(full) => members.push((method, full, backtest_mase(method, history, m, horizon))),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if members.is_empty() {
        return Err(first_error.unwrap_or_else(|| {
            AnalyticsError::invalid("history", "no forecasting method could be fitted")
        }));
    }
    let best = members
        .iter()
        .filter_map(|(_, _, e)| *e)
        .fold(f64::INFINITY, f64::min);
    let raw: Vec<f64> = members
        .iter()
        .map(|(_, _, err)| match err {
            _ if !best.is_finite() => 1.0,
            Some(e) if *e <= PRUNE_RATIO * best => 1.0 / (e + 1e-9).powi(2),
            _ => 0.0,
        })
        .collect();
    let total: f64 = raw.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(AnalyticsError::invalid(
            "history",
            "ensemble weights are not finite",
        ));
    }
    let mut point = vec![0.0; horizon];
    let mut sigma = vec![0.0; horizon];
    for ((_, f, _), w) in members.iter().zip(&raw) {
        let w = w / total;
        for h in 0..horizon {
            point[h] += w * f.point[h];
            sigma[h] += w * f.sigma[h];
        }
    }
    Ok(EnsembleForecast {
        forecast: Forecast::from_point_sigma(Method::Ensemble, point, sigma)?,
        weights: members
            .iter()
            .zip(&raw)
            .map(|((m, _, _), w)| (*m, w / total))
            .collect(),
        backtest_mase: members.iter().map(|(m, _, e)| (*m, *e)).collect(),
    })
}
