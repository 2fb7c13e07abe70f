//! User threshold rules ("alert when hourly spend is above 50", "more than 30% above normal").

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Severity;

/// A rule fires once when a value enters breach and again only after it has cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRule {
    pub name: String,
    /// Breach when the value is strictly above this amount.
    pub above: Option<Decimal>,
    /// Breach when the value is strictly below this amount.
    pub below: Option<Decimal>,
    /// Breach when the value exceeds the expected value by more than this percentage.
    pub percent_above_expected: Option<Decimal>,
    /// Severity of the anomaly the rule raises.
    #[serde(default = "default_severity")]
    pub severity: Severity,
}

fn default_severity() -> Severity {
    Severity::Warning
}

impl ThresholdRule {
    /// "Alert when the value is above `limit`", at Warning severity.
    pub fn above(name: impl Into<String>, limit: Decimal) -> Self {
        Self {
            name: name.into(),
            above: Some(limit),
            below: None,
            percent_above_expected: None,
            severity: Severity::Warning,
        }
    }

    /// Whether `value` breaches the rule given the detector's `expected` value. The amounts
    /// are compared exactly as Decimals; `expected` is the model's value rounded at the boundary.
    pub fn breached(&self, value: Decimal, expected: Option<Decimal>) -> bool {
        let above = self.above.is_some_and(|limit| value > limit);
        let below = self.below.is_some_and(|limit| value < limit);
        let relative = match (self.percent_above_expected, expected) {
            (Some(pct), Some(exp)) if exp > Decimal::ZERO => {
                let limit = exp * (Decimal::ONE + pct / Decimal::ONE_HUNDRED);
                value > limit
            }
            _ => false,
        };
        above || below || relative
    }
}
