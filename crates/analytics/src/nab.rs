//! NAB scoring (Numenta Anomaly Benchmark; Lavin & Ahmad, "Evaluating Real-time Anomaly
//! Detection Algorithms — the Numenta Anomaly Benchmark", ICMLA 2015; github.com/numenta/NAB,
//! `nab/sweeper.py`), re-implemented from that description.
//!
//! - **Windows**: each labelled anomaly gets a window of `10% of the series length / number of
//!   anomalies` points centred on it (overlapping windows merge).
//! - **Probationary period**: detections in the first 15% of a series (at most 750 points)
//!   are ignored — every detector needs time to learn.
//! - **Scaled sigmoid**: σ(y) = 2/(1 + e^{5y}) − 1 of the relative position y. Inside a window
//!   y = −(right − i + 1)/width, from −1 at the left edge (σ ≈ 0.987) to ≈ 0 at the right edge;
//!   a true positive earns `A_TP · σ(y)/σ(−1)`, so early detection earns the full A_TP. Only
//!   the **first** detection in a window counts; later ones in the same window earn nothing.
//! - **False positives** outside windows cost `A_FP · σ(y)` (σ ≤ 0): after a window
//!   y = |i − right|/(width − 1), so a detection just after a window costs little (it is
//!   probably the same event, reported late) and one more than 3 widths away costs the full
//!   A_FP; before the first window it costs the full A_FP.
//! - **Missed windows** cost `A_FN` each. True negatives earn nothing (A_TN is listed for
//!   completeness, as in NAB's profiles).
//! - **Normalisation** over a corpus: `100 · (raw − null)/(perfect − null)`, where the null
//!   detector never fires (raw = −A_FN per window) and the perfect one fires at every window's
//!   left edge (raw = A_TP per window).

use serde::{Deserialize, Serialize};

use crate::AnalyticsError;

/// An application profile: the weights of each outcome (all positive; FP and FN are costs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
    pub tn: f64,
}

impl Profile {
    pub const STANDARD: Profile = Profile {
        name: "standard",
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
        tn: 1.0,
    };
    pub const REWARD_LOW_FP: Profile = Profile {
        name: "reward_low_FP_rate",
        tp: 1.0,
        fp: 0.22,
        fn_: 1.0,
        tn: 1.0,
    };
    pub const REWARD_LOW_FN: Profile = Profile {
        name: "reward_low_FN_rate",
        tp: 1.0,
        fp: 0.11,
        fn_: 2.0,
        tn: 1.0,
    };
    pub const ALL: [Profile; 3] = [Self::STANDARD, Self::REWARD_LOW_FP, Self::REWARD_LOW_FN];
}

/// An anomaly window: point indices `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: usize,
    pub end: usize,
}

impl Window {
    pub fn width(&self) -> usize {
        self.end - self.start + 1
    }
}

/// NAB's window fraction of the series length, shared among its anomalies.
pub const WINDOW_FRACTION: f64 = 0.10;

/// Windows of `⌊0.10·len / labels⌋` points centred on each label, clipped to the series and
/// merged where they overlap.
pub fn windows_from_labels(len: usize, labels: &[usize]) -> Result<Vec<Window>, AnalyticsError> {
    if let Some(bad) = labels.iter().find(|l| **l >= len) {
        return Err(AnalyticsError::invalid(
            "labels",
            format!("label index {bad} is outside a series of {len} points"),
        ));
    }
    if labels.is_empty() {
        return Ok(Vec::new());
    }
    let width = (WINDOW_FRACTION * len as f64 / labels.len() as f64).floor() as usize;
    let half = width / 2;
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    let mut windows: Vec<Window> = Vec::with_capacity(sorted.len());
    for label in sorted {
        let w = Window {
            start: label.saturating_sub(half),
            end: (label + half).min(len - 1),
        };
        match windows.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => windows.push(w),
        }
    }
    Ok(windows)
}

/// Detections in the first `min(⌊0.15·len⌋, 750)` points are ignored.
pub fn probationary_period(len: usize) -> usize {
    ((0.15 * len as f64).floor() as usize).min(750)
}

/// NAB's scaled sigmoid, 2/(1 + e^{5y}) − 1, and −1 beyond y > 3.
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// One series' outcome under one profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FileScore {
    /// Sum of the weighted TP, FP and FN contributions.
    pub raw: f64,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub windows: usize,
}

impl FileScore {
    /// Raw score of the detector that never fires.
    pub fn null(windows: usize, profile: &Profile) -> f64 {
        -profile.fn_ * windows as f64
    }

    /// Raw score of the detector that fires at every window's left edge.
    pub fn perfect(windows: usize, profile: &Profile) -> f64 {
        profile.tp * windows as f64
    }
}

/// Scores the detections (point indices, any order) of one series of `len` points.
pub fn score_file(
    len: usize,
    windows: &[Window],
    detections: &[usize],
    profile: &Profile,
) -> Result<FileScore, AnalyticsError> {
    if let Some(w) = windows.iter().find(|w| w.start > w.end || w.end >= len) {
        return Err(AnalyticsError::invalid(
            "windows",
            format!(
                "window {}..={} does not fit a series of {len} points",
                w.start, w.end
            ),
        ));
    }
    if windows.windows(2).any(|p| p[1].start <= p[0].end) {
        return Err(AnalyticsError::invalid(
            "windows",
            "must be sorted and disjoint",
        ));
    }
    if let Some(bad) = detections.iter().find(|d| **d >= len) {
        return Err(AnalyticsError::invalid(
            "detections",
            format!("index {bad} is outside a series of {len} points"),
        ));
    }
    let mut sorted = detections.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let probation = probationary_period(len);
    let max_tp = scaled_sigmoid(-1.0);
    let mut score = FileScore {
        windows: windows.len(),
        ..FileScore::default()
    };
    let mut detected = vec![false; windows.len()];
    for i in sorted.into_iter().filter(|i| *i >= probation) {
        // The window containing i, or the last window that ended before i.
        let after = windows.partition_point(|w| w.start <= i);
        let containing = after.checked_sub(1).filter(|k| windows[*k].end >= i);
        if let Some(k) = containing {
            if !detected[k] {
                detected[k] = true;
                let w = windows[k];
                let y = -((w.end - i + 1) as f64) / w.width() as f64;
                score.raw += profile.tp * scaled_sigmoid(y) / max_tp;
                score.true_positives += 1;
            }
            continue;
        }
        let sigma = match after.checked_sub(1).map(|k| windows[k]) {
            Some(prev) => {
                let y = (i - prev.end) as f64 / (prev.width().saturating_sub(1).max(1)) as f64;
                scaled_sigmoid(y)
            }
            None => -1.0,
        };
        score.raw += profile.fp * sigma;
        score.false_positives += 1;
    }
    score.false_negatives = detected.iter().filter(|d| !**d).count();
    score.raw -= profile.fn_ * score.false_negatives as f64;
    Ok(score)
}

/// A corpus total under one profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusScore {
    pub raw: f64,
    pub null: f64,
    pub perfect: f64,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl CorpusScore {
    pub fn add(&mut self, file: &FileScore, profile: &Profile) {
        self.raw += file.raw;
        self.null += FileScore::null(file.windows, profile);
        self.perfect += FileScore::perfect(file.windows, profile);
        self.true_positives += file.true_positives;
        self.false_positives += file.false_positives;
        self.false_negatives += file.false_negatives;
    }

    /// `100 · (raw − null)/(perfect − null)`: 0 for the null detector, 100 for the perfect
    /// one; negative when false positives cost more than the detections earn. `None` when the
    /// corpus has no window at all.
    pub fn normalized(&self) -> Option<f64> {
        let span = self.perfect - self.null;
        (span > 0.0).then(|| 100.0 * (self.raw - self.null) / span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEN: usize = 1000;

    fn two_windows() -> Vec<Window> {
        windows_from_labels(LEN, &[400, 800]).unwrap()
    }

    fn corpus(detections: &[usize], profile: &Profile) -> CorpusScore {
        let mut c = CorpusScore::default();
        c.add(
            &score_file(LEN, &two_windows(), detections, profile).unwrap(),
            profile,
        );
        c
    }

    #[test]
    fn windows_are_ten_percent_shared_and_centred() {
        assert_eq!(
            two_windows(),
            vec![
                Window {
                    start: 375,
                    end: 425
                },
                Window {
                    start: 775,
                    end: 825
                }
            ]
        );
        // Overlapping windows merge; windows clip at the ends.
        let merged = windows_from_labels(LEN, &[500, 510]).unwrap();
        assert_eq!(
            merged,
            vec![Window {
                start: 475,
                end: 535
            }]
        );
        let clipped = windows_from_labels(100, &[98]).unwrap();
        assert_eq!(clipped, vec![Window { start: 93, end: 99 }]);
        assert!(windows_from_labels(10, &[10]).is_err());
    }

    #[test]
    fn perfect_scores_100_and_null_scores_0_under_every_profile() {
        for profile in Profile::ALL {
            let perfect = corpus(&[375, 775], &profile);
            assert!(
                (perfect.normalized().unwrap() - 100.0).abs() < 1e-9,
                "{profile:?}"
            );
            assert_eq!(corpus(&[], &profile).normalized(), Some(0.0));
        }
    }

    #[test]
    fn early_detection_beats_late_and_only_the_first_counts() {
        let p = Profile::STANDARD;
        let left = score_file(LEN, &two_windows(), &[375], &p).unwrap();
        let middle = score_file(LEN, &two_windows(), &[400], &p).unwrap();
        let right = score_file(LEN, &two_windows(), &[425], &p).unwrap();
        assert!(left.raw > middle.raw && middle.raw > right.raw);
        // At the right edge the sigmoid is near 0: the hit earns almost nothing (the other
        // window is missed: −1).
        let earned = right.raw + 1.0;
        assert!(earned > 0.0 && earned < 0.1, "{right:?}");
        assert!((left.raw + 1.0 - 1.0).abs() < 1e-12, "{left:?}");
        let twice = score_file(LEN, &two_windows(), &[425, 380], &p).unwrap();
        assert_eq!(
            twice.raw,
            score_file(LEN, &two_windows(), &[380], &p).unwrap().raw
        );
        assert_eq!(twice.true_positives, 1);
    }

    #[test]
    fn false_positives_cost_the_profile_weight() {
        for (profile, cost) in [(Profile::STANDARD, 0.11), (Profile::REWARD_LOW_FP, 0.22)] {
            let base = score_file(LEN, &two_windows(), &[375, 775], &profile).unwrap();
            // Far from any window end (> 3 widths after the first): the full cost.
            let fp = score_file(LEN, &two_windows(), &[375, 775, 600], &profile).unwrap();
            assert!((base.raw - fp.raw - cost).abs() < 1e-12, "{profile:?}");
            assert_eq!(fp.false_positives, 1);
            // Just after a window: a smaller cost.
            let late = score_file(LEN, &two_windows(), &[375, 775, 427], &profile).unwrap();
            assert!(base.raw - late.raw < cost / 2.0, "{late:?}");
        }
        // Before the first window (after probation): the full cost.
        let p = Profile::STANDARD;
        let early = score_file(LEN, &two_windows(), &[375, 775, 200], &p).unwrap();
        let base = score_file(LEN, &two_windows(), &[375, 775], &p).unwrap();
        assert!((base.raw - early.raw - 0.11).abs() < 1e-12);
    }

    #[test]
    fn misses_cost_fn_weight_and_probation_is_ignored() {
        let low_fn = score_file(LEN, &two_windows(), &[375], &Profile::REWARD_LOW_FN).unwrap();
        assert!((low_fn.raw - (1.0 - 2.0)).abs() < 1e-12);
        assert_eq!(low_fn.false_negatives, 1);
        let probation = score_file(LEN, &two_windows(), &[10, 149], &Profile::STANDARD).unwrap();
        assert_eq!(probation.false_positives, 0);
        assert_eq!(probationary_period(LEN), 150);
        assert_eq!(probationary_period(100_000), 750);
    }

    #[test]
    fn bad_input_is_named() {
        let err =
            score_file(10, &[Window { start: 5, end: 12 }], &[], &Profile::STANDARD).unwrap_err();
        assert!(err.to_string().starts_with("windows"), "{err}");
        let err = score_file(10, &[], &[10], &Profile::STANDARD).unwrap_err();
        assert!(err.to_string().starts_with("detections"), "{err}");
    }
}
