//! Streaming per-series anomaly detection.
//!
//! One [`SeriesDetector`] per series; push one `(timestamp, value)` at a time. State is
//! bounded (ring buffers sized by the configuration) and `serde` serialisable, so a restart
//! resumes exactly where it stopped. Each point costs O(window): a median over the same phase
//! of the last few cycles, a median/MAD over the residual ring, and O(1) tests. Three signals:
//!
//! - **(a) robust seasonal residual** — `expected` is the median of the values at the same
//!   phase (t mod period) over the last `cycles` cycles; the residual is scaled into a robust
//!   z by the MAD-based sigma of recent residuals (at least their 99th percentile over its
//!   Gaussian value, so bursts that are routine for a series do not count as anomalies). The point score is a logistic of
//!   |z| (see [`score_from_z`]). A point whose score reaches `alert_score` is a `Spike`;
//!   several moderately unusual points close together are an `UnusualPattern`.
//! - **(b) two-sided CUSUM** on the standardised residuals (clipped, so one spike cannot trip
//!   it) — a sustained shift in either direction accumulates until it crosses `cusum_h`. The
//!   recent residuals are then fitted with a step and with a hinge (`classify.rs`) to name a
//!   `LevelShift` or a `TrendChange`, and the detector adapts (an offset and a drift are
//!   added to the seasonal baseline) so the new regime is not reported again.
//! - **(c) user threshold rules** ([`ThresholdRule`]), checked on every point, even during
//!   warm-up.
//!
//! Why seasonal medians rather than exponential smoothing: a median of the same phase ignores
//! a past spike completely (smoothing would absorb part of it and under-predict the next
//! cycle), needs no learning rate, and its memory is exactly `period × cycles` values.

mod classify;
mod cusum;
pub mod root_cause;
mod rules;
mod series;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::AnalyticsError;
use crate::money::to_amount;

pub use root_cause::{Contributor, rank_contributors};
pub use rules::ThresholdRule;
pub use series::{PointScore, SeriesDetector};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    Spike,
    LevelShift,
    TrendChange,
    UnusualPattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// Critical when the deviation is extreme in statistical terms (|z| ≥ 10) or in money
    /// terms (more than double or less than nothing of the expected value); Warning at |z| ≥ 6
    /// or 30% off; Info otherwise (statistically clear but small in relative terms). Both
    /// scales matter: a 5σ blip on a tiny line item is not worth paging anyone.
    pub fn from_evidence(z: f64, relative_deviation: f64) -> Self {
        let (z, rel) = (z.abs(), relative_deviation.abs());
        if z >= 10.0 || rel >= 1.0 {
            Severity::Critical
        } else if z >= 6.0 || rel >= 0.3 {
            Severity::Warning
        } else {
            Severity::Info
        }
    }
}

/// One detected anomaly. `expected`, `lo` and `hi` describe the baseline at `at`: `lo..hi` is
/// `expected ± z·σ` with z the robust z at which the point score reaches `alert_score`, so a
/// single point outside it is exactly a `Spike`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// When the anomaly starts: the point itself for a spike, the estimated change point for a
    /// level shift or trend change, the first unusual point of a pattern.
    pub at: DateTime<Utc>,
    /// Index of `at` in the series (0 = the first point pushed).
    pub index: u64,
    /// Index of the point whose arrival confirmed the anomaly (≥ `index`).
    pub detected_index: u64,
    pub expected: f64,
    pub actual: f64,
    pub lo: f64,
    pub hi: f64,
    /// Calibrated score in [0, 1] (logistic of the robust z, see [`score_from_z`]).
    pub score: f64,
    pub severity: Severity,
    pub kind: AnomalyKind,
    /// The user rule that fired, when the anomaly comes from a rule.
    pub rule: Option<String>,
}

/// An anomaly's values as computed money amounts (12 places, half to even).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyAmounts {
    pub expected: Decimal,
    pub actual: Decimal,
    pub lo: Decimal,
    pub hi: Decimal,
}

impl Anomaly {
    /// For cost series: the values as `Decimal` amounts (see `money::to_amount`).
    pub fn amounts(&self) -> Result<AnomalyAmounts, AnalyticsError> {
        Ok(AnomalyAmounts {
            expected: to_amount("expected", self.expected)?,
            actual: to_amount("actual", self.actual)?,
            lo: to_amount("lo", self.lo)?,
            hi: to_amount("hi", self.hi)?,
        })
    }
}

/// Midpoint and slope of the score logistic.
pub const SCORE_Z_MID: f64 = 3.5;
pub const SCORE_SLOPE: f64 = 2.0;

/// Maps a robust z to a score in [0, 1]: `1 / (1 + exp(−2(|z| − 3.5)))`.
///
/// Calibration: under Gaussian residuals |z| = 3.5 (score 0.5) is exceeded by 1 point in
/// 2 150, |z| = 4.6 (score 0.9, the default alert) by 1 in 240 000, |z| = 5.8 (score 0.99) by
/// about 1 in 150 million. The logistic keeps the score monotone and readable while ordinary
/// noise (|z| < 2.5) stays below 0.12.
pub fn score_from_z(z: f64) -> f64 {
    if z.is_nan() {
        return 0.0;
    }
    1.0 / (1.0 + (-SCORE_SLOPE * (z.abs() - SCORE_Z_MID)).exp())
}

/// The |z| at which [`score_from_z`] reaches `score` (inverse logistic).
pub fn z_for_score(score: f64) -> f64 {
    let s = score.clamp(1e-12, 1.0 - 1e-12);
    SCORE_Z_MID + (s / (1.0 - s)).ln() / SCORE_SLOPE
}

/// Detector settings. Periods and windows are in samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Seasonal period, e.g. 24 for hourly data with a daily cycle, 288 for 5-minute data;
    /// 1 = no seasonality (the baseline is then a rolling median of the last `cycles` points).
    pub period: usize,
    /// Cycles kept per phase for the seasonal median.
    pub cycles: usize,
    /// Between changes the offset follows the residuals (Holt-style error correction: offset
    /// += α·e, drift += β·e, e clipped to ± `cusum_clip` σ), so a change estimated from a few
    /// points keeps converging instead of leaving a small bias the CUSUM would report again.
    pub level_alpha: f64,
    pub trend_beta: f64,
    /// Full cycles seen before any score or alert (at least 1).
    pub warmup_cycles: usize,
    /// Residuals kept for the robust (median/MAD) scale.
    pub residual_window: usize,
    /// A point whose score reaches this is a spike (0.9 ↔ |z| ≈ 4.6).
    pub alert_score: f64,
    /// When above 0, sigma is also at least the `tail_quantile` quantile of the recent
    /// |residual − median| divided by its Gaussian value (2.576 for 0.99). Why: the MAD only
    /// sees the middle half of the residuals; on bursty series (CPU, batch-job costs) a 5σ
    /// MAD excursion happens every day and is nobody's anomaly. Under Gaussian noise both
    /// scales agree, so this costs little sensitivity where the MAD is right.
    pub tail_quantile: f64,
    /// Sigma never drops below this fraction of |expected| (flat series: MAD would be 0 and
    /// every blip infinitely unusual).
    pub min_relative_sigma: f64,
    /// CUSUM reference value k (in sigmas): shifts smaller than k are ignored.
    pub cusum_k: f64,
    /// CUSUM decision threshold h (in sigmas).
    pub cusum_h: f64,
    /// Standardised residuals are clipped to ± this before entering the CUSUM.
    pub cusum_clip: f64,
    /// Recent residuals fitted (step vs hinge) to classify a change.
    pub change_window: usize,
    /// Unusual pattern: at least `pattern_count` of the last `pattern_window` points beyond
    /// `pattern_z`.
    pub pattern_window: usize,
    pub pattern_count: usize,
    pub pattern_z: f64,
    /// Points after an alarm during which no new statistical alarm is raised (a spike of a
    /// few points is one anomaly, not several).
    pub cooldown: usize,
    /// User rules checked on every point.
    pub rules: Vec<ThresholdRule>,
}

impl DetectorConfig {
    /// Defaults for the given seasonal period (in samples).
    pub fn with_period(period: usize) -> Self {
        Self {
            period: period.max(1),
            cycles: 8,
            level_alpha: 0.02,
            trend_beta: 0.0,
            warmup_cycles: 2,
            residual_window: 256,
            alert_score: 0.9,
            min_relative_sigma: 0.01,
            tail_quantile: 0.99,
            cusum_k: 1.0,
            cusum_h: 20.0,
            cusum_clip: 3.0,
            change_window: 48,
            pattern_window: 12,
            pattern_count: 4,
            pattern_z: 3.0,
            cooldown: 6,
            rules: Vec::new(),
        }
    }

    /// Hourly series with a daily cycle.
    pub fn hourly() -> Self {
        Self::with_period(24)
    }

    pub fn validate(&self) -> Result<(), AnalyticsError> {
        use AnalyticsError as E;
        let positive = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(E::invalid(
                    field,
                    format!("must be a positive number, got {v}"),
                ))
            }
        };
        if self.period == 0 {
            return Err(E::invalid("period", "must be at least 1"));
        }
        if self.cycles < 2 {
            return Err(E::invalid("cycles", "must be at least 2"));
        }
        if self.warmup_cycles == 0 || self.warmup_cycles > self.cycles {
            return Err(E::invalid("warmup_cycles", "must be in 1..=cycles"));
        }
        if self.residual_window < 16 {
            return Err(E::invalid("residual_window", "must be at least 16"));
        }
        if !(self.alert_score > 0.0 && self.alert_score < 1.0) {
            return Err(E::invalid(
                "alert_score",
                format!("must be in (0, 1), got {}", self.alert_score),
            ));
        }
        if !(self.tail_quantile == 0.0 || (0.5..1.0).contains(&self.tail_quantile)) {
            return Err(E::invalid(
                "tail_quantile",
                format!("must be 0 (off) or in [0.5, 1), got {}", self.tail_quantile),
            ));
        }
        if !(self.min_relative_sigma.is_finite() && self.min_relative_sigma >= 0.0) {
            return Err(E::invalid(
                "min_relative_sigma",
                "must be a non-negative number",
            ));
        }
        for (field, v) in [
            ("level_alpha", self.level_alpha),
            ("trend_beta", self.trend_beta),
        ] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(E::invalid(field, format!("must be in [0, 1), got {v}")));
            }
        }
        positive("cusum_k", self.cusum_k)?;
        positive("cusum_h", self.cusum_h)?;
        positive("cusum_clip", self.cusum_clip)?;
        positive("pattern_z", self.pattern_z)?;
        if self.change_window < 12 {
            return Err(E::invalid("change_window", "must be at least 12"));
        }
        if self.pattern_count < 2 || self.pattern_count > self.pattern_window {
            return Err(E::invalid("pattern_count", "must be in 2..=pattern_window"));
        }
        Ok(())
    }
}
