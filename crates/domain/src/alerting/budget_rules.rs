//! Budget conditions: actual and forecast thresholds and the depletion warning.

use rust_decimal::Decimal;

use super::lifecycle::{AlertKind, Condition, Severity};
use crate::budget::{Budget, BudgetStatus, ThresholdBasis};
use crate::money::{format_amount, round_computed};

fn severity_of(percent: Decimal) -> Severity {
    if percent >= Decimal::ONE_HUNDRED {
        Severity::Critical
    } else if percent >= Decimal::from(80) {
        Severity::Warning
    } else {
        Severity::Info
    }
}

/// The epoch of a budget condition: the day its period started.
fn epoch(status: &BudgetStatus) -> String {
    status.window.start.format("%Y-%m-%d").to_string()
}

/// The conditions a budget is in. Per basis only the highest crossed threshold is active, so a
/// jump past 50 % and 80 % at once raises one alert, and crossing 100 % later supersedes the
/// 80 % alert instead of adding a third open one. The depletion warning is raised only for
/// budgets without forecast thresholds (those already say it, with the date in the message).
pub fn budget_conditions(budget: &Budget, status: &BudgetStatus) -> Vec<Condition> {
    let spec = &budget.spec;
    let currency = spec.currency;
    let epoch = epoch(status);
    let mut out = Vec::new();
    for basis in [ThresholdBasis::Actual, ThresholdBasis::Forecast] {
        if basis == ThresholdBasis::Forecast && !status.forecast_confident {
            continue;
        }
        let value = match basis {
            ThresholdBasis::Actual => status.spent,
            ThresholdBasis::Forecast => status.forecast,
        };
        let crossed = spec
            .thresholds
            .iter()
            .filter(|t| t.basis == basis)
            .filter(|t| {
                let limit = round_computed(spec.amount * t.percent / Decimal::ONE_HUNDRED);
                value >= limit
            })
            .max_by_key(|t| t.percent);
        let Some(t) = crossed else { continue };
        let pct = format_amount(t.percent);
        let limit = round_computed(spec.amount * t.percent / Decimal::ONE_HUNDRED);
        let (kind, title, message) = match basis {
            ThresholdBasis::Actual => (
                AlertKind::BudgetThreshold,
                format!("Budget \"{}\" reached {pct}%", spec.name),
                format!(
                    "Spent {} {currency} of {} {currency} ({}%) in the period starting {epoch}; the {pct}% threshold is {} {currency}.",
                    format_amount(status.spent),
                    format_amount(spec.amount),
                    format_amount(status.percent_spent),
                    format_amount(limit),
                ),
            ),
            ThresholdBasis::Forecast => (
                AlertKind::BudgetForecast,
                format!("Budget \"{}\" forecast to reach {pct}%", spec.name),
                format!(
                    "Forecast {} {currency} (80% interval {}–{}) against {} {currency} by {}{}.",
                    format_amount(status.forecast),
                    format_amount(status.forecast_low),
                    format_amount(status.forecast_high),
                    format_amount(spec.amount),
                    status.window.end.format("%Y-%m-%d"),
                    status
                        .depletion
                        .map(|d| format!(
                            "; at the current rate it runs out on {}",
                            d.format("%Y-%m-%d %H:%M UTC")
                        ))
                        .unwrap_or_default(),
                ),
            ),
        };
        let severity = match basis {
            ThresholdBasis::Actual => severity_of(t.percent),
            ThresholdBasis::Forecast => Severity::Warning,
        };
        out.push(Condition {
            dedupe_key: format!("budget:{}:{}:{epoch}:{pct}", budget.id, basis.as_str()),
            group: format!("budget:{}:{}", budget.id, basis.as_str()),
            epoch: epoch.clone(),
            kind,
            severity,
            title,
            message,
            budget_id: Some(budget.id.clone()),
            actual: Some(value),
            threshold: Some(limit),
            currency: Some(currency),
            owner: spec.owner.clone(),
        });
    }
    let has_forecast_thresholds = spec
        .thresholds
        .iter()
        .any(|t| t.basis == ThresholdBasis::Forecast);
    if let (Some(date), false, true) = (
        status.depletion,
        has_forecast_thresholds,
        status.forecast_confident,
    ) {
        out.push(Condition {
            dedupe_key: format!("budget:{}:depletion:{epoch}", budget.id),
            group: format!("budget:{}:depletion", budget.id),
            epoch,
            kind: AlertKind::BudgetDepletion,
            severity: Severity::Warning,
            title: format!("Budget \"{}\" runs out before the period ends", spec.name),
            message: format!(
                "At the current rate {} {currency} is spent on {}, before the period ends on {}.",
                format_amount(spec.amount),
                date.format("%Y-%m-%d %H:%M UTC"),
                status.window.end.format("%Y-%m-%d"),
            ),
            budget_id: Some(budget.id.clone()),
            actual: Some(status.spent),
            threshold: Some(spec.amount),
            currency: Some(currency),
            owner: spec.owner.clone(),
        });
    }
    out
}
