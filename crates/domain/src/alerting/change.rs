//! Change vs the previous period: this period so far against the same days of the last one.

use rust_decimal::Decimal;

use super::lifecycle::{AlertKind, Condition, Severity};
use crate::money::{Currency, format_amount};
use crate::query::percentage;

/// Raise when spend so far this period exceeds the same days of the previous period by at least
/// `percent` % and by at least `min_absolute` (both must hold, so small tenants doubling pennies
/// stay quiet and big tenants' noise of a few percent too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRule {
    pub scope: String,
    pub percent: Decimal,
    pub min_absolute: Decimal,
}

/// `epoch` names the current period (its start); the alert ends with it.
pub fn change_condition(
    rule: &ChangeRule,
    current: Decimal,
    previous: Decimal,
    epoch: &str,
    currency: Currency,
) -> Option<Condition> {
    if previous <= Decimal::ZERO {
        return None;
    }
    let increase = current.checked_sub(previous)?;
    let pct = percentage(increase, previous)?;
    if increase < rule.min_absolute || pct < rule.percent {
        return None;
    }
    Some(Condition {
        dedupe_key: format!("change:{}:{epoch}", rule.scope),
        group: format!("change:{}", rule.scope),
        epoch: epoch.to_string(),
        kind: AlertKind::PeriodChange,
        severity: if pct >= rule.percent * Decimal::TWO {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: format!(
            "Spend in {} up {}% on last period",
            rule.scope,
            format_amount(pct)
        ),
        message: format!(
            "{} {currency} so far this period (from {epoch}) against {} {currency} over the same days of the previous period: +{} {currency} (+{}%).",
            format_amount(current),
            format_amount(previous),
            format_amount(increase),
            format_amount(pct),
        ),
        budget_id: None,
        actual: Some(current),
        threshold: Some(previous),
        currency: Some(currency),
        owner: None,
    })
}
