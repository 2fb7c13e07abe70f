//! The per-series streaming detector (see the module documentation in `detect`).
//!
//! Points are assumed evenly spaced: the phase of a point is its index mod `period`, not its
//! timestamp (gaps should be filled by the caller, e.g. with the expected value).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

mod change;

use self::change::REFIT_EVERY;
use super::cusum::Cusum;
use super::{Anomaly, AnomalyKind, DetectorConfig, Severity, score_from_z, z_for_score};
use crate::AnalyticsError;
use crate::money::to_f64;
use crate::stats::{MAD_TO_SIGMA, interval_z, median_in_place};

/// Standard deviation over mean absolute deviation under Gaussian noise (√(π/2)).
const MEAN_ABS_TO_SIGMA: f64 = 1.2533;
/// Fewest residuals behind a robust scale.
const MIN_RESIDUALS: usize = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RecentPoint {
    index: u64,
    timestamp: DateTime<Utc>,
    value: f64,
    expected: f64,
    /// Residual minus the residual median (what a change fit looks at).
    residual: f64,
    z: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settling {
    kind: AnomalyKind,
    /// Index of the alarm.
    alarm: u64,
    /// Estimated start of the change, and its timestamp.
    start: u64,
    at: DateTime<Utc>,
}

/// The detector's baseline at one point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub expected: f64,
    /// `expected ± z_alert·σ`: a single point outside is a spike.
    pub lo: f64,
    pub hi: f64,
    pub z: f64,
}

/// What the detector says about one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointScore {
    pub index: u64,
    /// `None` during warm-up.
    pub baseline: Option<Baseline>,
    /// Score in [0, 1]: the point's own logistic score, or the score of an anomaly confirmed
    /// at this point when higher (0 during warm-up).
    pub score: f64,
    /// Anomalies confirmed at this point (usually none).
    pub anomalies: Vec<Anomaly>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesDetector {
    config: DetectorConfig,
    next_index: u64,
    /// Last `period × cycles` values minus the offset in force when each arrived.
    history: VecDeque<f64>,
    /// Last `residual_window` raw residuals (value − expected).
    residuals: VecDeque<f64>,
    /// Last `max(change_window, pattern_window)` scored points.
    recent: VecDeque<RecentPoint>,
    /// Level correction added to the seasonal median after a level shift or trend change.
    offset: f64,
    /// Per-step growth of `offset` after a trend change.
    drift: f64,
    cusum: Cusum,
    /// No statistical alarm before this index.
    quiet_until: u64,
    /// After a change alarm, until its correction is final (see `refit`).
    settling: Option<Settling>,
    rules_active: Vec<bool>,
}

impl SeriesDetector {
    pub fn new(config: DetectorConfig) -> Result<Self, AnalyticsError> {
        config.validate()?;
        Ok(Self {
            rules_active: vec![false; config.rules.len()],
            history: VecDeque::with_capacity(config.period * config.cycles),
            residuals: VecDeque::with_capacity(config.residual_window),
            recent: VecDeque::new(),
            config,
            next_index: 0,
            offset: 0.0,
            drift: 0.0,
            cusum: Cusum::default(),
            quiet_until: 0,
            settling: None,
        })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Points observed so far.
    pub fn len(&self) -> u64 {
        self.next_index
    }

    pub fn is_empty(&self) -> bool {
        self.next_index == 0
    }

    /// Observes a money amount. Rules compare the exact Decimal.
    pub fn push_amount(
        &mut self,
        at: DateTime<Utc>,
        value: Decimal,
    ) -> Result<PointScore, AnalyticsError> {
        let x = to_f64("value", value)?;
        self.step(at, x, value)
    }

    /// Observes a plain measurement (CPU %, bytes, or a cost already in f64).
    pub fn push(&mut self, at: DateTime<Utc>, value: f64) -> Result<PointScore, AnalyticsError> {
        if !value.is_finite() {
            return Err(AnalyticsError::invalid(
                "value",
                format!("{value} is not a finite number"),
            ));
        }
        let exact = Decimal::from_f64(value).ok_or_else(|| {
            AnalyticsError::invalid("value", format!("{value} does not fit a Decimal"))
        })?;
        self.step(at, value, exact)
    }

    /// Median of the adjusted values at the same phase over the kept cycles, or `None` before
    /// `warmup_cycles` cycles exist.
    fn seasonal_median(&self) -> Option<f64> {
        let (len, period) = (self.history.len(), self.config.period);
        let mut same_phase: Vec<f64> = (1..=self.config.cycles)
            .map_while(|j| len.checked_sub(j * period))
            .map(|i| self.history[i])
            .collect();
        if same_phase.len() < self.config.warmup_cycles {
            return None;
        }
        median_in_place(&mut same_phase)
    }

    /// Median and sigma of the residual ring (MAD, falling back to the mean absolute
    /// deviation when over half the residuals are identical, floored relative to `expected`).
    fn residual_scale(&self, expected: f64) -> Option<(f64, f64)> {
        let floor_len = MIN_RESIDUALS.max(self.config.residual_window / 4);
        if self.residuals.len() < floor_len {
            return None;
        }
        let mut values: Vec<f64> = self.residuals.iter().copied().collect();
        let center = median_in_place(&mut values)?;
        let mut deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
        let mean_abs = deviations.iter().sum::<f64>() / deviations.len() as f64;
        let mad = median_in_place(&mut deviations)?;
        let mut sigma = if mad > 0.0 {
            MAD_TO_SIGMA * mad
        } else {
            MEAN_ABS_TO_SIGMA * mean_abs
        };
        if self.config.tail_quantile > 0.0 {
            // The tail-aware scale: the |deviation| quantile over its Gaussian value. Equal to
            // the MAD scale under Gaussian noise; larger when bursts are routine for this series.
            let k = ((deviations.len() - 1) as f64 * self.config.tail_quantile).round() as usize;
            let (_, q, _) = deviations.select_nth_unstable_by(k, f64::total_cmp);
            sigma = sigma.max(*q / interval_z(self.config.tail_quantile));
        }
        let floor = (self.config.min_relative_sigma * expected.abs()).max(1e-12);
        Some((center, sigma.max(floor)))
    }

    fn step(
        &mut self,
        at: DateTime<Utc>,
        x: f64,
        exact: Decimal,
    ) -> Result<PointScore, AnalyticsError> {
        let index = self.next_index;
        self.next_index += 1;
        self.offset += self.drift;
        let expected = self.seasonal_median().map(|m| m + self.offset);
        let scale = expected.and_then(|e| self.residual_scale(e));
        let z_alert = z_for_score(self.config.alert_score);

        let mut anomalies = Vec::new();
        let mut baseline = None;
        if let (Some(expected), Some((center, sigma))) = (expected, scale) {
            let residual = x - expected - center;
            let z = residual / sigma;
            let b = Baseline {
                expected: expected + center,
                lo: expected + center - z_alert * sigma,
                hi: expected + center + z_alert * sigma,
                z,
            };
            baseline = Some(b);
            self.recent.push_back(RecentPoint {
                index,
                timestamp: at,
                value: x,
                expected: b.expected,
                residual,
                z,
            });
            let keep = self.config.change_window.max(self.config.pattern_window);
            while self.recent.len() > keep {
                self.recent.pop_front();
            }
            let clipped = z.clamp(-self.config.cusum_clip, self.config.cusum_clip);
            let alarm = match self.settling.as_ref().map(|s| index - s.alarm) {
                Some(age) => {
                    let last = age >= self.config.change_window as u64;
                    if age % REFIT_EVERY == 0 || last {
                        anomalies.extend(self.refit(index, last, b, x));
                    }
                    None
                }
                None => self
                    .cusum
                    .update(index, clipped, self.config.cusum_k, self.config.cusum_h),
            };
            if let Some(alarm) = alarm.filter(|_| index >= self.quiet_until) {
                anomalies.extend(self.change_detected(index, alarm, b, x, z_alert));
            } else {
                if let Some(a) = self.point_alarm(index, b, x, z_alert) {
                    anomalies.push(a);
                }
                // Not while settling: `refit` accounts for every baseline move since the
                // alarm, and a move it does not know about would bias its next estimate.
                if self.settling.is_none() {
                    let limit = self.config.cusum_clip * sigma;
                    let e = (x - expected).clamp(-limit, limit);
                    self.offset += self.config.level_alpha * e;
                    self.drift += self.config.trend_beta * e;
                }
            }
        }
        anomalies.extend(self.check_rules(index, at, x, exact, baseline)?);

        // State update. The value enters the seasonal history net of the current offset.
        self.history.push_back(x - self.offset);
        while self.history.len() > self.config.period * self.config.cycles {
            self.history.pop_front();
        }
        if let Some(e) = expected {
            self.residuals.push_back(x - e);
            while self.residuals.len() > self.config.residual_window {
                self.residuals.pop_front();
            }
        }
        let own = baseline.map_or(0.0, |b| score_from_z(b.z));
        let score = anomalies.iter().map(|a| a.score).fold(own, f64::max);
        Ok(PointScore {
            index,
            baseline,
            score,
            anomalies,
        })
    }

    /// Spike (one point past the alert score) or unusual pattern (several moderate ones).
    fn point_alarm(&mut self, index: u64, b: Baseline, x: f64, z_alert: f64) -> Option<Anomaly> {
        if index < self.quiet_until {
            return None;
        }
        let cfg = &self.config;
        let (kind, first) = if b.z.abs() >= z_alert {
            (AnomalyKind::Spike, self.recent.back()?)
        } else if self.settling.is_some() {
            // While a change is settling its baseline is provisional: moderate deviations are
            // expected and say nothing about the pattern.
            return None;
        } else {
            let window = self
                .recent
                .iter()
                .rev()
                .take(cfg.pattern_window)
                .filter(|p| p.z.abs() > cfg.pattern_z);
            let unusual: Vec<&RecentPoint> = window.collect();
            if unusual.len() < cfg.pattern_count {
                return None;
            }
            (AnomalyKind::UnusualPattern, *unusual.last()?)
        };
        let anomaly = Anomaly {
            at: first.timestamp,
            index: first.index,
            detected_index: index,
            expected: b.expected,
            actual: x,
            lo: b.lo,
            hi: b.hi,
            score: score_from_z(b.z),
            severity: Severity::from_evidence(b.z, relative(x, b.expected)),
            kind,
            rule: None,
        };
        self.quiet_until = index + 1 + self.config.cooldown as u64;
        Some(anomaly)
    }

    /// User rules: each fires once when it enters breach, again only after it has cleared.
    fn check_rules(
        &mut self,
        index: u64,
        at: DateTime<Utc>,
        x: f64,
        exact: Decimal,
        baseline: Option<Baseline>,
    ) -> Result<Vec<Anomaly>, AnalyticsError> {
        let mut out = Vec::new();
        let expected = baseline.map(|b| b.expected);
        let expected_amount = expected.and_then(Decimal::from_f64);
        for (rule, active) in self.config.rules.iter().zip(self.rules_active.iter_mut()) {
            let breached = rule.breached(exact, expected_amount);
            if breached && !*active {
                let e = expected.unwrap_or(x);
                out.push(Anomaly {
                    at,
                    index,
                    detected_index: index,
                    expected: e,
                    actual: x,
                    lo: baseline.map_or(e, |b| b.lo),
                    hi: baseline.map_or(e, |b| b.hi),
                    // A user rule is a declared limit, not a statistical guess.
                    score: 1.0,
                    severity: rule.severity,
                    kind: AnomalyKind::Spike,
                    rule: Some(rule.name.clone()),
                });
            }
            *active = breached;
        }
        Ok(out)
    }
}

fn relative(actual: f64, expected: f64) -> f64 {
    if expected.abs() > 0.0 {
        (actual - expected) / expected.abs()
    } else {
        1.0
    }
}
