//! Resource utilization rules: alert when one resource's usage over a trailing window goes above
//! a threshold. One condition per breaching resource; it clears when the resource falls back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lifecycle::{AlertKind, Condition, Severity};
use crate::money::{COMPUTED_SCALE, Currency, format_amount};
use crate::query::Filter;

/// Shortest and longest window: below 5 minutes one late event flaps the alert; a week is the
/// longest window the minute/hour rollups cover cheaply.
pub const MIN_WINDOW_MINUTES: u32 = 5;
pub const MAX_WINDOW_MINUTES: u32 = 10_080;
const MAX_TEXT: usize = 200;

/// What a rule measures. Rollups hold, per resource and bucket, the priced amount and the number
/// of usage events, and nothing else: there is no CPU or memory gauge in a cost event. So the two
/// honest utilization measures are the cost a resource ran up in the window and how many usage
/// events it reported (requests, invocations, metered samples) in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceMeasure {
    /// Cost in the window, in the rule's currency (other currencies converted once).
    Cost,
    /// Usage events counted in the window.
    Events,
}

impl ResourceMeasure {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceMeasure::Cost => "cost",
            ResourceMeasure::Events => "events",
        }
    }
}

/// Which resources a rule watches. Empty fields mean "any"; every label must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceScope {
    pub provider: Option<String>,
    pub service: Option<String>,
    pub resource: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl ResourceScope {
    pub fn filter(&self) -> Filter {
        Filter {
            providers: self.provider.iter().cloned().collect(),
            services: self.service.iter().cloned().collect(),
            resources: self.resource.iter().cloned().collect(),
            labels: self.labels.clone(),
            ..Filter::default()
        }
    }
}

/// The user-editable part of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRuleSpec {
    pub name: String,
    pub scope: ResourceScope,
    pub measure: ResourceMeasure,
    pub window_minutes: u32,
    /// Raise when the measure is strictly above this.
    #[serde(with = "rust_decimal::serde::str")]
    pub above: Decimal,
    /// Required for [`ResourceMeasure::Cost`], absent for events.
    pub currency: Option<Currency>,
    pub severity: Severity,
    pub enabled: bool,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRule {
    pub id: String,
    pub tenant: String,
    pub spec: ResourceRuleSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A rule input rejected: `field` is the input path (e.g. `input.window_minutes`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ResourceRuleError {
    pub field: String,
    pub reason: String,
}

fn bad(field: String, reason: impl Into<String>) -> ResourceRuleError {
    ResourceRuleError {
        field,
        reason: reason.into(),
    }
}

fn check_text(field: String, value: &str) -> Result<(), ResourceRuleError> {
    if value.trim().is_empty() {
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

impl ResourceRuleSpec {
    /// Checks every rule; the first broken one is returned with its path under `prefix`.
    pub fn validate(self, prefix: &str) -> Result<ResourceRuleSpec, ResourceRuleError> {
        let f = |name: &str| format!("{prefix}.{name}");
        check_text(f("name"), &self.name)?;
        for (name, value) in [
            ("scope.provider", &self.scope.provider),
            ("scope.service", &self.scope.service),
            ("scope.resource", &self.scope.resource),
        ] {
            if let Some(v) = value {
                check_text(f(name), v)?;
            }
        }
        for (k, v) in &self.scope.labels {
            check_text(f("scope.labels"), k)?;
            check_text(f(&format!("scope.labels.{k}")), v)?;
        }
        if !(MIN_WINDOW_MINUTES..=MAX_WINDOW_MINUTES).contains(&self.window_minutes) {
            return Err(bad(
                f("window_minutes"),
                format!("must be between {MIN_WINDOW_MINUTES} and {MAX_WINDOW_MINUTES}"),
            ));
        }
        if self.above < Decimal::ZERO {
            return Err(bad(f("above"), "must not be negative"));
        }
        if self.above.normalize().scale() > COMPUTED_SCALE {
            return Err(bad(
                f("above"),
                format!("more than {COMPUTED_SCALE} decimal places"),
            ));
        }
        match (self.measure, self.currency) {
            (ResourceMeasure::Cost, None) => {
                return Err(bad(f("currency"), "is required when measure is cost"));
            }
            (ResourceMeasure::Events, Some(_)) => {
                return Err(bad(f("currency"), "must be empty when measure is events"));
            }
            (ResourceMeasure::Events, None) if !self.above.fract().is_zero() => {
                return Err(bad(f("above"), "must be a whole number of events"));
            }
            _ => {}
        }
        Ok(ResourceRuleSpec {
            name: self.name.trim().to_string(),
            above: self.above.normalize(),
            ..self
        })
    }
}

/// One resource's measure over the rule's window, computed by the evaluator from rollups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUsage {
    pub provider: String,
    pub service: String,
    pub resource: String,
    pub value: Decimal,
}

/// The alert source of a rule: reconciliation looks at one rule at a time.
pub fn resource_rule_source(rule_id: &str) -> String {
    format!("resource:{rule_id}")
}

/// The stream event type of an alert kind: what subscribers and webhook receivers switch on.
pub fn alert_event_type(kind: AlertKind) -> &'static str {
    match kind {
        k if k.is_budget() => "budget_alert",
        AlertKind::ResourceUtilization => "resource_alert",
        AlertKind::Anomaly => "anomaly_detected",
        _ => "cost_alert",
    }
}

/// The conditions holding now: one per resource whose measure is above the threshold. A
/// disabled rule holds none (so its open alerts resolve). The dedupe key names the rule, the
/// resource and the window length, not the window start: a sliding window that stays above is
/// one incident, and changing the window makes a new one.
pub fn resource_conditions(rule: &ResourceRule, usage: &[ResourceUsage]) -> Vec<Condition> {
    if !rule.spec.enabled {
        return Vec::new();
    }
    let spec = &rule.spec;
    let unit = match (spec.measure, spec.currency) {
        (ResourceMeasure::Cost, Some(c)) => c.to_string(),
        _ => "events".to_string(),
    };
    usage
        .iter()
        .filter(|u| u.value > spec.above)
        .map(|u| {
            let who = format!("{}/{}/{}", u.provider, u.service, u.resource);
            Condition {
                dedupe_key: format!("resource:{}:{who}:{}m", rule.id, spec.window_minutes),
                group: format!("resource:{}:{who}", rule.id),
                epoch: String::new(),
                kind: AlertKind::ResourceUtilization,
                severity: spec.severity,
                title: format!(
                    "{}: {} above {} {unit}",
                    spec.name,
                    u.resource,
                    format_amount(spec.above)
                ),
                message: format!(
                    "{who} used {} {unit} ({}) in the last {} minutes, above the rule's {} {unit}.",
                    format_amount(u.value),
                    spec.measure.as_str(),
                    spec.window_minutes,
                    format_amount(spec.above),
                ),
                budget_id: None,
                actual: Some(u.value),
                threshold: Some(spec.above),
                currency: spec.currency,
                owner: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec() -> ResourceRuleSpec {
        ResourceRuleSpec {
            name: " GPU box ".into(),
            scope: ResourceScope {
                provider: Some("aws".into()),
                ..ResourceScope::default()
            },
            measure: ResourceMeasure::Cost,
            window_minutes: 60,
            above: "10.50".parse().expect("decimal"),
            currency: Some(Currency::USD),
            severity: Severity::Warning,
            enabled: true,
        }
    }

    fn field(s: ResourceRuleSpec) -> String {
        s.validate("input").expect_err("invalid").field
    }

    #[test]
    fn validation_names_the_field() {
        let ok = spec().validate("input").expect("valid");
        assert_eq!(ok.name, "GPU box");
        assert_eq!(ok.above.to_string(), "10.5");
        let w = ResourceRuleSpec {
            window_minutes: 4,
            ..spec()
        }
        .validate("input")
        .expect_err("too short");
        assert_eq!(
            w.to_string(),
            "input.window_minutes: must be between 5 and 10080"
        );
        assert_eq!(
            field(ResourceRuleSpec {
                window_minutes: 10_081,
                ..spec()
            }),
            "input.window_minutes"
        );
        assert_eq!(
            field(ResourceRuleSpec {
                name: " ".into(),
                ..spec()
            }),
            "input.name"
        );
        assert_eq!(
            field(ResourceRuleSpec {
                above: Decimal::NEGATIVE_ONE,
                ..spec()
            }),
            "input.above"
        );
        assert_eq!(
            field(ResourceRuleSpec {
                currency: None,
                ..spec()
            }),
            "input.currency"
        );
        assert_eq!(
            field(ResourceRuleSpec {
                measure: ResourceMeasure::Events,
                currency: None,
                ..spec()
            }),
            "input.above",
            "fractional events"
        );
        let mut s = spec();
        s.scope.service = Some("".into());
        assert_eq!(field(s), "input.scope.service");
    }

    fn usage(resource: &str, value: &str) -> ResourceUsage {
        ResourceUsage {
            provider: "aws".into(),
            service: "ec2".into(),
            resource: resource.into(),
            value: value.parse().expect("decimal"),
        }
    }

    #[test]
    fn one_condition_per_breaching_resource_keyed_by_rule_resource_window() {
        let rule = ResourceRule {
            id: "r1".into(),
            tenant: "acme".into(),
            spec: spec().validate("input").expect("valid"),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let c = resource_conditions(
            &rule,
            &[
                usage("i-1", "10.5"),
                usage("i-2", "10.51"),
                usage("i-3", "99"),
            ],
        );
        let keys: Vec<&str> = c.iter().map(|c| c.dedupe_key.as_str()).collect();
        assert_eq!(
            keys,
            vec!["resource:r1:aws/ec2/i-2:60m", "resource:r1:aws/ec2/i-3:60m"],
            "exactly at the threshold is not above"
        );
        assert!(c.iter().all(|c| c.kind == AlertKind::ResourceUtilization));
        assert_eq!(c[0].actual, Some("10.51".parse().expect("decimal")));
        let mut off = rule.clone();
        off.spec.enabled = false;
        assert!(resource_conditions(&off, &[usage("i-3", "99")]).is_empty());
        assert_eq!(
            alert_event_type(AlertKind::ResourceUtilization),
            "resource_alert"
        );
        assert_eq!(alert_event_type(AlertKind::BudgetForecast), "budget_alert");
    }
}
