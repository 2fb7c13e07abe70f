//! Root cause: which dimensions (resource, label, service…) explain an anomaly's deviation.
//!
//! Given per-dimension totals over the anomaly window and over a baseline period, the baseline
//! is scaled to the window's length (computed amount: 12 places, half to even) and each
//! dimension's delta = window − scaled baseline. Contributors are ranked by how much of the
//! total deviation they carry in its direction (an increase is explained by the dimensions
//! that grew most); `share_percent` is delta / total delta (2 places, half to even).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::AnalyticsError;
use crate::money::{COMPUTED_SCALE, PERCENT_SCALE};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contributor {
    /// The dimension value, e.g. `resource=i-0abc` or `label:team=web`.
    pub key: String,
    pub window: Decimal,
    /// Baseline total scaled to the window's length.
    pub baseline: Decimal,
    pub delta: Decimal,
    /// Share of the total deviation; `None` when the total deviation is zero.
    pub share_percent: Option<Decimal>,
}

pub fn rank_contributors(
    window: &BTreeMap<String, Decimal>,
    baseline: &BTreeMap<String, Decimal>,
    window_len: u32,
    baseline_len: u32,
) -> Result<Vec<Contributor>, AnalyticsError> {
    if window_len == 0 {
        return Err(AnalyticsError::invalid("window_len", "must be at least 1"));
    }
    if baseline_len == 0 {
        return Err(AnalyticsError::invalid(
            "baseline_len",
            "must be at least 1",
        ));
    }
    let scale = Decimal::from(window_len) / Decimal::from(baseline_len);
    let keys: BTreeSet<&String> = window.keys().chain(baseline.keys()).collect();
    let mut contributors = Vec::with_capacity(keys.len());
    for key in keys {
        let in_window = window.get(key).copied().unwrap_or(Decimal::ZERO);
        let scaled = baseline
            .get(key)
            .copied()
            .unwrap_or(Decimal::ZERO)
            .checked_mul(scale)
            .ok_or_else(|| {
                AnalyticsError::invalid("baseline", format!("{key}: scaling overflows"))
            })?
            .round_dp_with_strategy(COMPUTED_SCALE, RoundingStrategy::MidpointNearestEven);
        let delta = in_window
            .checked_sub(scaled)
            .ok_or_else(|| AnalyticsError::invalid("window", format!("{key}: delta overflows")))?;
        contributors.push(Contributor {
            key: key.clone(),
            window: in_window,
            baseline: scaled,
            delta,
            share_percent: None,
        });
    }
    let total = contributors.iter().try_fold(Decimal::ZERO, |acc, c| {
        acc.checked_add(c.delta)
            .ok_or_else(|| AnalyticsError::invalid("window", "total deviation overflows"))
    })?;
    let direction = if total < Decimal::ZERO {
        -Decimal::ONE
    } else {
        Decimal::ONE
    };
    for c in &mut contributors {
        if !total.is_zero() {
            c.share_percent = c
                .delta
                .checked_div(total)
                .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
                .map(|p| {
                    p.round_dp_with_strategy(PERCENT_SCALE, RoundingStrategy::MidpointNearestEven)
                });
        }
    }
    // Largest contribution in the direction of the deviation first; ties by key for stability.
    contributors.sort_by(|a, b| {
        (b.delta * direction)
            .cmp(&(a.delta * direction))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(contributors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(items: &[(&str, i64)]) -> BTreeMap<String, Decimal> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), Decimal::from(*v)))
            .collect()
    }

    #[test]
    fn the_dimension_that_grew_most_comes_first() {
        // Baseline over 2 days, window 1 day: baseline scaled by 1/2.
        let baseline = map(&[("db", 200), ("web", 100)]);
        let window = map(&[("db", 100), ("web", 150), ("batch", 30)]);
        let ranked = rank_contributors(&window, &baseline, 1, 2).unwrap();
        let keys: Vec<&str> = ranked.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["web", "batch", "db"]);
        // Total deviation 100 + 30 + 0 = 130; web carries 100/130.
        assert_eq!(ranked[0].delta, Decimal::from(100));
        assert_eq!(ranked[0].share_percent, Some(Decimal::new(7692, 2)));
        assert!(rank_contributors(&window, &baseline, 0, 2).is_err());
    }
}
