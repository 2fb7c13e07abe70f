//! Level shifts and trend changes: what the detector does once the CUSUM alarms.
//!
//! The recent residuals are fitted with a step and with a hinge (`classify.rs`); the better
//! fit names the change and gives a first correction of the baseline. The detector then
//! "settles": the CUSUM rests and the correction is re-estimated from all points since the
//! alarm every [`REFIT_EVERY`] points, until `change_window` points have passed.

use super::{Baseline, MIN_RESIDUALS, SeriesDetector, Settling, relative};
use crate::detect::classify::{Change, classify_change};
use crate::detect::cusum::CusumAlarm;
use crate::detect::{Anomaly, AnomalyKind, Severity, score_from_z};
use crate::stats::{median, ols_line};

/// Fewest points after a bend for it to count as a trend change rather than a step.
const MIN_TREND_POINTS: usize = 8;
/// During settling, the correction is re-estimated every this many points.
pub const REFIT_EVERY: u64 = 12;
/// A slope left after a level shift is a trend when its t-statistic exceeds this.
const SLOPE_T: f64 = 4.0;

impl SeriesDetector {
    /// A CUSUM alarm: classify step vs hinge on the recent residuals, adapt, report.
    pub(super) fn change_detected(
        &mut self,
        index: u64,
        alarm: CusumAlarm,
        b: Baseline,
        x: f64,
        z_alert: f64,
    ) -> Option<Anomaly> {
        let residuals: Vec<f64> = self.recent.iter().map(|p| p.residual).collect();
        let first_index = self.recent.front()?.index;
        let change = classify_change(&residuals, 3);
        let (kind, start, correction): (AnomalyKind, u64, Correction) = match change {
            // A bend needs a few points after it to be told from a step: near the end of the
            // window a steep hinge fits a fresh step about as well, and its slope would be
            // extrapolated forever.
            Some(Change::Hinge {
                at,
                slope_after,
                end_value,
            }) if residuals.len() - at >= MIN_TREND_POINTS => (
                AnomalyKind::TrendChange,
                first_index + at as u64,
                Correction::Ramp {
                    end: index,
                    end_value,
                    slope: slope_after,
                },
            ),
            other => {
                let start = match other {
                    Some(Change::Step { at, .. } | Change::Hinge { at, .. }) => {
                        first_index + at as u64
                    }
                    None => alarm.start,
                };
                let after: Vec<f64> = self
                    .recent
                    .iter()
                    .filter(|p| p.index >= start)
                    .map(|p| p.residual)
                    .collect();
                let size = median(&after).unwrap_or(0.0);
                (AnomalyKind::LevelShift, start, Correction::Step(size))
            }
        };
        let since: Vec<f64> = self
            .recent
            .iter()
            .filter(|p| p.index >= start)
            .map(|p| p.z)
            .collect();
        let z_equiv = since.iter().sum::<f64>() / (since.len().max(1) as f64).sqrt();
        let at = self
            .recent
            .iter()
            .find(|p| p.index >= start)
            .map(|p| (p.timestamp, p.value, p.expected));
        let (at, actual_at, expected_at) =
            at.unwrap_or((self.recent.back()?.timestamp, x, b.expected));

        // Adapt: the baseline gains the fitted correction (and, for a trend, its slope), and
        // the values since the change move onto the new baseline. Their residuals belong to
        // neither regime and are forgotten. The estimate is refined every `REFIT_EVERY`
        // points for `change_window` points (see `refit`); until then the CUSUM rests.
        self.apply(correction, start, index);
        let stale = index.saturating_sub(start) as usize;
        let keep = self
            .residuals
            .len()
            .saturating_sub(stale)
            .max(MIN_RESIDUALS.min(self.residuals.len()));
        self.residuals.truncate(keep);
        self.recent.clear();
        self.cusum.reset();
        self.quiet_until = index + 1 + self.config.cooldown as u64;
        self.settling = Some(Settling {
            kind,
            alarm: index,
            start,
            at,
        });
        let half = b.hi - b.expected;
        Some(Anomaly {
            at,
            index: start,
            detected_index: index,
            expected: expected_at,
            actual: actual_at,
            lo: expected_at - half,
            hi: expected_at + half,
            score: score_from_z(z_equiv),
            severity: Severity::from_evidence(z_equiv.abs().max(z_alert), relative(x, b.expected)),
            kind,
            rule: None,
        })
    }

    /// Adds `correction` to the baseline from `index` on, and moves the stored values of
    /// `start..index` (kept against the old baseline) onto the new one.
    fn apply(&mut self, correction: Correction, start: u64, index: u64) {
        if let Correction::Ramp { slope, .. } = correction {
            self.drift += slope;
        }
        self.offset += correction.at(index);
        let stale = index.saturating_sub(start) as usize;
        let len = self.history.len();
        for (k, v) in self
            .history
            .iter_mut()
            .skip(len.saturating_sub(stale))
            .enumerate()
        {
            *v -= correction.at(start + k as u64);
        }
        // The recent residuals are now measured against the new baseline too, so a later
        // refit estimates only what is left.
        for p in self.recent.iter_mut().filter(|p| p.index >= start) {
            p.residual -= correction.at(p.index);
        }
    }

    /// During the settling period after a change. The first correction came from the few
    /// points before the alarm and is noisy (a slope from 15 points can be off by a third, and
    /// the error grows every step), so it is re-estimated from all points since the alarm — a
    /// median for a level shift, an OLS line for a trend change — leaving the CUSUM a residual
    /// bias well below its reference value k. A "level shift" whose points keep a significant
    /// slope (t > [`SLOPE_T`]) is re-classified and reported once as a trend change.
    ///
    /// `recent` holds exactly the points since the alarm, and `apply` re-expresses their
    /// residuals against the corrected baseline, so each refit estimates only what is left.
    pub(super) fn refit(&mut self, index: u64, last: bool, b: Baseline, x: f64) -> Option<Anomaly> {
        let settling = self.settling.clone()?;
        if last {
            self.settling = None;
        }
        let first = self.recent.front()?.index;
        let residuals: Vec<f64> = self.recent.iter().map(|p| p.residual).collect();
        let (slope, intercept) = ols_line(&residuals)?;
        // Is there a slope left? t-statistic of the OLS slope against its standard error.
        let n = residuals.len() as f64;
        let sse: f64 = residuals
            .iter()
            .enumerate()
            .map(|(t, r)| (r - intercept - slope * t as f64).powi(2))
            .sum();
        let se = (sse / (n - 2.0).max(1.0) * 12.0 / (n * (n * n - 1.0))).sqrt();
        let trending = slope.abs() > SLOPE_T * se;
        let correction = if settling.kind == AnomalyKind::TrendChange || trending {
            Correction::Ramp {
                end: index,
                end_value: intercept + slope * (index - first) as f64,
                slope,
            }
        } else {
            Correction::Step(median(&residuals).unwrap_or(0.0))
        };
        self.apply(correction, first, index);
        self.cusum.reset();
        if settling.kind == AnomalyKind::TrendChange || !trending {
            return None;
        }
        // What looked like a step keeps moving: report the trend change, once.
        self.settling = (!last).then_some(Settling {
            kind: AnomalyKind::TrendChange,
            ..settling.clone()
        });
        let z = slope / se.max(f64::MIN_POSITIVE);
        Some(Anomaly {
            at: settling.at,
            index: settling.start,
            detected_index: index,
            expected: b.expected,
            actual: x,
            lo: b.lo,
            hi: b.hi,
            score: score_from_z(z),
            severity: Severity::from_evidence(z, relative(x, b.expected)),
            kind: AnomalyKind::TrendChange,
            rule: None,
        })
    }
}

/// The fitted residual of a change, as a function of the point index.
#[derive(Debug, Clone, Copy)]
enum Correction {
    Step(f64),
    /// A line through `end_value` at index `end` with the given slope.
    Ramp {
        end: u64,
        end_value: f64,
        slope: f64,
    },
}

impl Correction {
    fn at(self, j: u64) -> f64 {
        match self {
            Correction::Step(size) => size,
            Correction::Ramp {
                end,
                end_value,
                slope,
            } => end_value - slope * (end as f64 - j as f64),
        }
    }
}
