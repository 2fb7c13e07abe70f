//! Exponential smoothing: additive Holt-Winters with a damped trend, ETS(A,Ad,A), and Holt's
//! damped linear method, ETS(A,Ad,N), when there is no season.
//!
//! Error-correction form with one-step error e = y − ŷ:
//!   level ← level + φ·trend + α·e,  trend ← φ·trend + β·e,  season[t mod m] ← season + γ·e.
//! Parameters come from a grid search minimising the in-sample squared one-step errors (cheap
//! and deterministic; a gradient optimiser would shave little off MASE on short hourly series).
//! h-step variance (Hyndman et al. 2008, class 1):
//!   var_h = σ²[1 + Σ_{j=1}^{h−1} (α + β·(φ + … + φ^j) + γ·1{j mod m = 0})²].

use super::{Forecast, Method};
use crate::AnalyticsError;
use crate::stats::mean;

const ALPHAS: [f64; 8] = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9];
const BETAS: [f64; 4] = [0.0, 0.005, 0.02, 0.08];
const GAMMAS: [f64; 7] = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7];
const PHIS: [f64; 3] = [0.9, 0.98, 1.0];

#[derive(Debug, Clone, Copy)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

/// A fitted model: final state plus the one-step error sigma.
#[derive(Debug, Clone)]
pub(crate) struct EtsFit {
    params: Params,
    level: f64,
    trend: f64,
    /// Seasonal state indexed by absolute time mod m (m = 1 means no season).
    season: Vec<f64>,
    n: usize,
    sigma: f64,
}

impl EtsFit {
    pub(crate) fn forecast(&self, horizon: usize) -> Result<Forecast, AnalyticsError> {
        let Params {
            alpha,
            beta,
            gamma,
            phi,
        } = self.params;
        let m = self.season.len();
        let mut mean = Vec::with_capacity(horizon);
        let mut sigmas = Vec::with_capacity(horizon);
        let mut damp_sum = 0.0; // φ + φ² + … + φ^h
        let mut var_terms: f64 = 0.0;
        for h in 1..=horizon {
            damp_sum += phi.powi(h as i32);
            mean.push(self.level + damp_sum * self.trend + self.season[(self.n + h - 1) % m]);
            sigmas.push(self.sigma * (1.0 + var_terms).sqrt());
            // Term j = h for the next step's variance.
            let seasonal_hit = if m > 1 && h % m == 0 { gamma } else { 0.0 };
            var_terms += (alpha + beta * damp_sum + seasonal_hit).powi(2);
        }
        Forecast::from_point_sigma(Method::HoltWinters, mean, sigmas)
    }
}

/// Runs the recursions; returns the sum of squared one-step errors and the final state.
fn run(y: &[f64], m: usize, p: Params, keep_state: bool) -> (f64, Option<EtsFit>) {
    // Initial state at time −1: the first cycle's mean sits at its centre t = (m − 1)/2, so
    // the level one step before the data is that mean minus (m + 1)/2 trend steps, and the
    // seasonal offsets are the first cycle's deviations from the (detrended) line. Getting
    // this off by one step would make even a noiseless line produce one-step errors.
    let first = &y[..m.min(y.len())];
    let first_mean = mean(first).unwrap_or(0.0);
    let trend0 = if m > 1 && y.len() >= 2 * m {
        (mean(&y[m..2 * m]).unwrap_or(first_mean) - first_mean) / m as f64
    } else if y.len() >= 2 {
        y[1] - y[0]
    } else {
        0.0
    };
    let centre = (m as f64 - 1.0) / 2.0;
    let mut level = first_mean - trend0 * (centre + 1.0);
    let mut trend = trend0;
    let mut season: Vec<f64> = if m > 1 {
        first
            .iter()
            .enumerate()
            .map(|(i, v)| v - first_mean - trend0 * (i as f64 - centre))
            .collect()
    } else {
        vec![0.0]
    };
    let mut sse = 0.0;
    for (t, obs) in y.iter().enumerate() {
        let s = t % m;
        let predicted = level + p.phi * trend + season[s];
        let e = obs - predicted;
        sse += e * e;
        level = level + p.phi * trend + p.alpha * e;
        trend = p.phi * trend + p.beta * e;
        season[s] += p.gamma * e;
        if !sse.is_finite() {
            return (f64::INFINITY, None);
        }
    }
    if !keep_state {
        return (sse, None);
    }
    let n_params = 4 + m;
    let dof = y.len().saturating_sub(n_params).max(1);
    let fit = EtsFit {
        params: p,
        level,
        trend,
        season,
        n: y.len(),
        sigma: (sse / dof as f64).sqrt(),
    };
    (sse, Some(fit))
}

/// Grid-searched fit. `m = 1` fits Holt's damped linear method (no season).
pub(crate) fn fit(y: &[f64], m: usize) -> Result<EtsFit, AnalyticsError> {
    let m = m.max(1);
    let gammas: &[f64] = if m > 1 { &GAMMAS } else { &[0.0] };
    let mut best: Option<(f64, Params)> = None;
    for &alpha in &ALPHAS {
        for &beta in BETAS.iter().filter(|b| **b <= alpha) {
            for &gamma in gammas.iter().filter(|g| **g <= 1.0 - alpha) {
                for &phi in &PHIS {
                    let p = Params {
                        alpha,
                        beta,
                        gamma,
                        phi,
                    };
                    let (sse, _) = run(y, m, p, false);
                    if best.is_none_or(|(b, _)| sse < b) {
                        best = Some((sse, p));
                    }
                }
            }
        }
    }
    let (_, params) =
        best.ok_or_else(|| AnalyticsError::invalid("history", "no finite ETS fit"))?;
    run(y, m, params, true)
        .1
        .ok_or_else(|| AnalyticsError::invalid("history", "ETS recursion diverged"))
}

/// Additive Holt-Winters with period `m` (Holt's damped linear method when m = 1). Needs two
/// full seasons: the first initialises the seasonal state, the second the trend.
pub fn holt_winters(history: &[f64], m: usize, horizon: usize) -> Result<Forecast, AnalyticsError> {
    if m > 1 && history.len() < 2 * m {
        return Err(AnalyticsError::TooShort {
            field: "history (holt_winters needs two full seasons)",
            needed: 2 * m,
            got: history.len(),
        });
    }
    fit(history, m)?.forecast(horizon)
}
