//! Cost spikes: the spend of the latest window against the median of the windows before it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::lifecycle::{AlertKind, Condition, Severity};
use crate::money::{Currency, format_amount};

/// Raise when the latest window costs at least `factor` × the median of the `baseline` windows
/// before it, and at least `min_amount` (so cents doubling to cents stay quiet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpikeRule {
    pub scope: String,
    pub factor: Decimal,
    pub min_amount: Decimal,
    pub baseline: usize,
}

fn median(values: &mut [Decimal]) -> Option<Decimal> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / Decimal::TWO),
    }
}

/// `windows` holds `(window start, spend)` oldest first; the last is the window being judged.
/// Needs a full baseline: a young series has nothing to compare with.
pub fn spike_condition(
    rule: &SpikeRule,
    windows: &[(DateTime<Utc>, Decimal)],
    currency: Currency,
) -> Option<Condition> {
    let (&(start, current), before) = windows.split_last()?;
    if before.len() < rule.baseline || current < rule.min_amount {
        return None;
    }
    let mut baseline: Vec<Decimal> = before[before.len() - rule.baseline..]
        .iter()
        .map(|(_, v)| *v)
        .collect();
    let median = median(&mut baseline)?;
    // Spend in fewer than half the baseline windows (a new or intermittent series) gives no
    // baseline to compare with: its first busy hour is not a spike.
    if median <= Decimal::ZERO {
        return None;
    }
    let limit = median.checked_mul(rule.factor)?;
    if current < limit || current.is_zero() {
        return None;
    }
    let epoch = start.format("%Y-%m-%dT%H:%M").to_string();
    Some(Condition {
        dedupe_key: format!("spike:{}:{epoch}", rule.scope),
        group: format!("spike:{}", rule.scope),
        epoch: epoch.clone(),
        kind: AlertKind::CostSpike,
        severity: if current >= limit * Decimal::TWO {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: format!("Cost spike in {}", rule.scope),
        message: format!(
            "{} {currency} in the window starting {epoch} UTC, {}× the median {} {currency} of the previous {} windows.",
            format_amount(current),
            format_amount(if median.is_zero() {
                Decimal::ZERO
            } else {
                (current / median).round_dp(1)
            }),
            format_amount(median),
            rule.baseline,
        ),
        budget_id: None,
        actual: Some(current),
        threshold: Some(limit),
        currency: Some(currency),
        owner: None,
    })
}
