//! What a budget is and the rules a valid one follows. Every error names the input field.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::period::Period;
use crate::event::Category;
use crate::money::{COMPUTED_SCALE, Currency, checked_sum, format_amount};
use crate::query::Filter;

/// A budget input rejected: `field` is the input path (e.g. `input.amount`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BudgetError {
    pub field: String,
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> BudgetError {
    BudgetError {
        field: field.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdBasis {
    /// Spent so far in the period.
    Actual,
    /// Forecast spend at the period's end.
    Forecast,
}

impl ThresholdBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdBasis::Actual => "actual",
            ThresholdBasis::Forecast => "forecast",
        }
    }
}

/// Alert when the basis reaches `percent` of the budget amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    #[serde(with = "rust_decimal::serde::str")]
    pub percent: Decimal,
    pub basis: ThresholdBasis,
}

/// 50 %, 80 %, 100 % of actual spend and 100 % of the forecast: what most teams start with.
pub fn default_thresholds() -> Vec<Threshold> {
    let t = |p: i64, basis| Threshold {
        percent: Decimal::from(p),
        basis,
    };
    vec![
        t(50, ThresholdBasis::Actual),
        t(80, ThresholdBasis::Actual),
        t(100, ThresholdBasis::Actual),
        t(100, ThresholdBasis::Forecast),
    ]
}

pub const MAX_THRESHOLDS: usize = 20;
const MAX_TEXT: usize = 200;
const MAX_CUSTOM_DAYS: i64 = 3 * 366;

/// Part of a budget set aside for one category. Allocations must add up to the budget amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub category: Category,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// What a budget counts. Empty fields mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetScope {
    pub category: Option<Category>,
    pub provider: Option<String>,
    pub service: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl BudgetScope {
    pub fn filter(&self) -> Filter {
        Filter {
            categories: self.category.into_iter().collect(),
            providers: self.provider.iter().cloned().collect(),
            services: self.service.iter().cloned().collect(),
            labels: self.labels.clone(),
            ..Filter::default()
        }
    }
}

/// The user-editable part of a budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSpec {
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
    pub period: Period,
    pub scope: BudgetScope,
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub allocations: Vec<Allocation>,
    pub owner: Option<String>,
}

/// A stored budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub id: String,
    pub tenant: String,
    pub spec: BudgetSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn check_text(field: &str, value: &str, required: bool) -> Result<(), BudgetError> {
    if required && value.trim().is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(bad(field, format!("longer than {MAX_TEXT} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(field, "contains control characters"));
    }
    Ok(())
}

fn check_amount(field: &str, amount: Decimal) -> Result<(), BudgetError> {
    if amount <= Decimal::ZERO {
        return Err(bad(
            field,
            format!("must be greater than 0, got {}", format_amount(amount)),
        ));
    }
    if amount.normalize().scale() > COMPUTED_SCALE {
        return Err(bad(
            field,
            format!("more than {COMPUTED_SCALE} decimal places"),
        ));
    }
    Ok(())
}

impl BudgetSpec {
    /// Checks every rule; the first broken one is returned with its field path under `prefix`
    /// (e.g. `input`).
    pub fn validate(self, prefix: &str) -> Result<BudgetSpec, BudgetError> {
        let f = |name: &str| format!("{prefix}.{name}");
        check_text(&f("name"), &self.name, true)?;
        check_amount(&f("amount"), self.amount)?;
        if let Period::Custom { start, end } = self.period {
            for (name, t) in [("customStart", start), ("customEnd", end)] {
                if t.timestamp() % 86_400 != 0 {
                    return Err(bad(
                        f(name),
                        "must be at 00:00 UTC (budgets count whole days)",
                    ));
                }
            }
            if start >= end {
                return Err(bad(f("customEnd"), "must be after customStart"));
            }
            if end - start > Duration::days(MAX_CUSTOM_DAYS) {
                return Err(bad(
                    f("customEnd"),
                    format!("a custom period is at most {MAX_CUSTOM_DAYS} days"),
                ));
            }
        }
        self.validate_scope(&f("scope"))?;
        self.validate_thresholds(&f("thresholds"))?;
        self.validate_allocations(&f("allocations"))?;
        if let Some(owner) = &self.owner {
            check_text(&f("owner"), owner, true)?;
        }
        Ok(BudgetSpec {
            name: self.name.trim().to_string(),
            amount: self.amount.normalize(),
            ..self
        })
    }

    fn validate_scope(&self, field: &str) -> Result<(), BudgetError> {
        if let Some(p) = &self.scope.provider {
            check_text(&format!("{field}.provider"), p, true)?;
        }
        if let Some(s) = &self.scope.service {
            check_text(&format!("{field}.service"), s, true)?;
        }
        for (k, v) in &self.scope.labels {
            check_text(&format!("{field}.labels"), k, true)?;
            check_text(&format!("{field}.labels"), v, false)?;
        }
        Ok(())
    }

    fn validate_thresholds(&self, field: &str) -> Result<(), BudgetError> {
        if self.thresholds.len() > MAX_THRESHOLDS {
            return Err(bad(field, format!("at most {MAX_THRESHOLDS} thresholds")));
        }
        let mut seen = BTreeSet::new();
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.percent <= Decimal::ZERO || t.percent > Decimal::from(1000) {
                return Err(bad(
                    format!("{field}[{i}].percent"),
                    format!("must be in (0, 1000], got {}", format_amount(t.percent)),
                ));
            }
            if !seen.insert((t.basis, t.percent.normalize())) {
                return Err(bad(
                    format!("{field}[{i}]"),
                    format!(
                        "duplicate threshold {}% of {}",
                        format_amount(t.percent),
                        t.basis.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_allocations(&self, field: &str) -> Result<(), BudgetError> {
        if self.allocations.is_empty() {
            return Ok(());
        }
        let mut categories = BTreeSet::new();
        for (i, a) in self.allocations.iter().enumerate() {
            check_amount(&format!("{field}[{i}].amount"), a.amount)?;
            if !categories.insert(a.category) {
                return Err(bad(
                    format!("{field}[{i}].category"),
                    format!("{} is allocated twice", a.category.as_str()),
                ));
            }
            if let Some(c) = self.scope.category
                && c != a.category
            {
                return Err(bad(
                    format!("{field}[{i}].category"),
                    format!(
                        "{} is outside the budget's scope (category {})",
                        a.category.as_str(),
                        c.as_str()
                    ),
                ));
            }
        }
        let total = checked_sum(self.allocations.iter().map(|a| a.amount))
            .ok_or_else(|| bad(field, "allocations overflow"))?;
        if total != self.amount {
            return Err(bad(
                field,
                format!(
                    "allocations add up to {}, the budget amount is {}; they must be equal",
                    format_amount(total),
                    format_amount(self.amount)
                ),
            ));
        }
        Ok(())
    }
}
