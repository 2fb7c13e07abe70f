//! The alert lifecycle and its reconciliation with the conditions that hold now.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    BudgetThreshold,
    BudgetForecast,
    BudgetDepletion,
    CostSpike,
    PeriodChange,
    /// A resource's usage crossed a utilization rule (the spec's `resource_alert`).
    ResourceUtilization,
    /// A cost series left its expected band (raised by the anomaly detector).
    Anomaly,
}

impl AlertKind {
    pub fn is_budget(self) -> bool {
        matches!(
            self,
            AlertKind::BudgetThreshold | AlertKind::BudgetForecast | AlertKind::BudgetDepletion
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Triggered,
    Acknowledged,
    Resolved,
}

/// Something that holds now and deserves an alert. Two evaluations of the same situation give
/// the same `dedupe_key`, which is what makes re-delivery and restarts raise nothing new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub dedupe_key: String,
    /// Conditions of one group replace each other (a higher threshold supersedes a lower one).
    pub group: String,
    /// The period the condition belongs to (its start); alerts of an older epoch end with it.
    pub epoch: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub title: String,
    pub message: String,
    pub budget_id: Option<String>,
    pub actual: Option<Decimal>,
    pub threshold: Option<Decimal>,
    pub currency: Option<Currency>,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub state: AlertState,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub tenant: String,
    /// What evaluates it, e.g. `budget:<id>`; reconciliation looks at one source at a time.
    pub source: String,
    pub dedupe_key: String,
    pub group: String,
    pub epoch: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub state: AlertState,
    pub title: String,
    pub message: String,
    pub budget_id: Option<String>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub actual: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub threshold: Option<Decimal>,
    pub currency: Option<Currency>,
    pub owner: Option<String>,
    pub triggered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; stores use it for optimistic concurrency.
    pub version: u64,
    /// Resolved by the system because its condition cleared (it may reopen), not by a person.
    pub auto_resolved: bool,
    /// Newest last, at most [`MAX_HISTORY`] entries.
    pub history: Vec<Transition>,
}

/// One change of one alert, as published on the alerts stream. `event_id` is unique per change
/// and stable across retries, so consumers (the notifier) drop re-deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub event_id: String,
    pub alert: Alert,
}

impl AlertEvent {
    pub fn of(alert: Alert) -> AlertEvent {
        AlertEvent {
            event_id: format!("{}:{}", alert.id, alert.version),
            alert,
        }
    }

    /// The transition this event reports.
    pub fn transition(&self) -> Option<&Transition> {
        self.alert.history.last()
    }
}

pub const MAX_HISTORY: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("alert {id} is already resolved")]
    AlreadyResolved { id: String },
    #[error("alert {id} is already acknowledged")]
    AlreadyAcknowledged { id: String },
}

/// The alert id of a dedupe key: the same key always names the same alert, on every instance.
pub fn alert_id(tenant: &str, dedupe_key: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("costwatch-alert\0{tenant}\0{dedupe_key}").as_bytes(),
    )
    .to_string()
}

fn push(
    alert: &mut Alert,
    state: AlertState,
    at: DateTime<Utc>,
    by: Option<String>,
    note: Option<String>,
) {
    alert.state = state;
    alert.updated_at = at;
    alert.version += 1;
    alert.history.push(Transition {
        state,
        at,
        by,
        note,
    });
    if alert.history.len() > MAX_HISTORY {
        let excess = alert.history.len() - MAX_HISTORY;
        alert.history.drain(..excess);
    }
}

fn new_alert(tenant: &str, source: &str, c: Condition, now: DateTime<Utc>) -> Alert {
    let mut alert = Alert {
        id: alert_id(tenant, &c.dedupe_key),
        tenant: tenant.to_string(),
        source: source.to_string(),
        dedupe_key: c.dedupe_key,
        group: c.group,
        epoch: c.epoch,
        kind: c.kind,
        severity: c.severity,
        state: AlertState::Triggered,
        title: c.title,
        message: c.message,
        budget_id: c.budget_id,
        actual: c.actual,
        threshold: c.threshold,
        currency: c.currency,
        owner: c.owner,
        triggered_at: now,
        updated_at: now,
        version: 0,
        auto_resolved: false,
        history: Vec::new(),
    };
    push(&mut alert, AlertState::Triggered, now, None, None);
    alert
}

/// Compares the alerts of one source (`existing`, any state) with the conditions holding now
/// (`active`) and returns the alerts that change:
/// - a condition with no alert triggers a new one;
/// - an alert the system resolved reopens when its condition holds again after `cooldown`
///   (one a person resolved stays resolved: they decided);
/// - an open alert whose condition no longer holds is auto-resolved, noting why (superseded by a
///   higher condition of its group, its period ended, or cleared).
///
/// Evaluating the same situation twice changes nothing the second time.
pub fn reconcile(
    tenant: &str,
    source: &str,
    existing: &[Alert],
    active: Vec<Condition>,
    current_epoch: Option<&str>,
    now: DateTime<Utc>,
    cooldown: Duration,
) -> Vec<Alert> {
    let mut changed = Vec::new();
    for alert in existing {
        if alert.state == AlertState::Resolved
            || active.iter().any(|c| c.dedupe_key == alert.dedupe_key)
        {
            continue;
        }
        let note = if current_epoch.is_some_and(|e| e != alert.epoch) {
            "period ended".to_string()
        } else if let Some(higher) = active
            .iter()
            .find(|c| c.group == alert.group && c.epoch == alert.epoch)
        {
            format!("superseded by {}", higher.title)
        } else {
            "condition cleared".to_string()
        };
        let mut a = alert.clone();
        a.auto_resolved = true;
        push(&mut a, AlertState::Resolved, now, None, Some(note));
        changed.push(a);
    }
    for c in active {
        match existing.iter().find(|a| a.dedupe_key == c.dedupe_key) {
            None => changed.push(new_alert(tenant, source, c, now)),
            Some(a)
                if a.state == AlertState::Resolved
                    && a.auto_resolved
                    && now - a.updated_at >= cooldown =>
            {
                let mut a = a.clone();
                a.auto_resolved = false;
                a.severity = c.severity;
                a.message = c.message;
                a.actual = c.actual;
                push(
                    &mut a,
                    AlertState::Triggered,
                    now,
                    None,
                    Some("condition holds again".into()),
                );
                changed.push(a);
            }
            Some(_) => {}
        }
    }
    changed
}

/// A person takes the alert.
pub fn acknowledge(
    alert: &Alert,
    by: Option<String>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Alert, LifecycleError> {
    match alert.state {
        AlertState::Resolved => Err(LifecycleError::AlreadyResolved {
            id: alert.id.clone(),
        }),
        AlertState::Acknowledged => Err(LifecycleError::AlreadyAcknowledged {
            id: alert.id.clone(),
        }),
        AlertState::Triggered => {
            let mut a = alert.clone();
            push(&mut a, AlertState::Acknowledged, now, by, note);
            Ok(a)
        }
    }
}

/// A person closes the alert; it stays closed while its condition holds.
pub fn resolve(
    alert: &Alert,
    by: Option<String>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Alert, LifecycleError> {
    if alert.state == AlertState::Resolved {
        return Err(LifecycleError::AlreadyResolved {
            id: alert.id.clone(),
        });
    }
    let mut a = alert.clone();
    a.auto_resolved = false;
    push(&mut a, AlertState::Resolved, now, by, note);
    Ok(a)
}
