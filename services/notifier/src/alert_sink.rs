//! The notifier as a sink of the alert outbox: maps a domain [`AlertEvent`] to a
//! [`Notification`] and delivers it.
//!
//! When [`NotifierSink`] returns `Err` (the publisher then keeps the event and retries): only
//! when the delivery log does not take writes *before* anything is sent
//! ([`Notifier::deliver_checked`]). Then nothing went out, so the retry cannot page twice.
//! Once sending has started, every outcome is "handled" and `Ok`: delivered, already delivered
//! (a replay), dead-lettered (the notifier keeps the dead letter), or no channel routed. A log
//! that fails mid-delivery is only traced: answering `Err` after a page went out would make the
//! outbox re-send it on every poll while the log stays broken.

use std::sync::Arc;

use async_trait::async_trait;
use costwatch_alerting::AlertSink;
use costwatch_domain::Currency;
use costwatch_domain::alerting::{self as domain, AlertEvent, AlertKind};

use crate::engine::{DeliveryOutcome, Notifier};
use crate::notification::{AlertState, Field, Notification, Severity};

/// The notification for one alert change. `dashboard_url` (e.g. `http://127.0.0.1:8080`) adds a
/// link to the tenant's alerts page.
pub fn notification_of(event: &AlertEvent, dashboard_url: Option<&str>) -> Notification {
    let alert = &event.alert;
    let transition = event.transition();
    let mut fields = vec![Field::new("Kind", kind_name(alert.kind))];
    if let Some(actual) = money(alert.actual.as_ref(), alert.currency.as_ref()) {
        fields.push(Field::new("Actual", actual));
    }
    if let Some(threshold) = money(alert.threshold.as_ref(), alert.currency.as_ref()) {
        fields.push(Field::new("Threshold", threshold));
    }
    if let Some(owner) = &alert.owner {
        fields.push(Field::new("Owner", owner.clone()));
    }
    if let Some(note) = transition.and_then(|t| t.note.as_ref()) {
        fields.push(Field::new("Note", note.clone()));
    }
    if let Some(budget_id) = &alert.budget_id {
        fields.push(Field::new("Budget id", budget_id.clone()));
    }
    Notification {
        alert_id: alert.id.clone(),
        tenant: alert.tenant.clone(),
        dedupe_key: alert.dedupe_key.clone(),
        severity: match alert.severity {
            domain::Severity::Critical => Severity::Critical,
            domain::Severity::Warning => Severity::Warning,
            domain::Severity::Info => Severity::Info,
        },
        state: match alert.state {
            domain::AlertState::Triggered => AlertState::Triggered,
            domain::AlertState::Acknowledged => AlertState::Acknowledged,
            domain::AlertState::Resolved => AlertState::Resolved,
        },
        title: alert.title.clone(),
        summary: alert.message.clone(),
        fields,
        link: dashboard_url.map(|base| {
            format!(
                "{}/?tenant={}#alerts",
                base.trim_end_matches('/'),
                percent_encode(&alert.tenant)
            )
        }),
        occurred_at: transition.map_or(alert.updated_at, |t| t.at),
    }
}

/// `1250.00000000503 USD`: the decimal exactly as stored (its scale kept), then the currency.
fn money(amount: Option<&impl std::fmt::Display>, currency: Option<&Currency>) -> Option<String> {
    amount.map(|amount| match currency {
        Some(currency) => format!("{amount} {currency}"),
        None => amount.to_string(),
    })
}

fn kind_name(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::BudgetThreshold => "budget_threshold",
        AlertKind::BudgetForecast => "budget_forecast",
        AlertKind::BudgetDepletion => "budget_depletion",
        AlertKind::CostSpike => "cost_spike",
        AlertKind::PeriodChange => "period_change",
        AlertKind::ResourceUtilization => "resource_utilization",
        AlertKind::Anomaly => "anomaly",
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for a query value).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Delivers every alert change of the outbox through a [`Notifier`]. Routing (which channel
/// takes which severity and tenant) is the notifier's, from its configuration.
pub struct NotifierSink {
    pub(crate) notifier: Arc<Notifier>,
    dashboard_url: Option<String>,
}

impl NotifierSink {
    pub fn new(notifier: Arc<Notifier>, dashboard_url: Option<String>) -> Self {
        NotifierSink {
            notifier,
            dashboard_url,
        }
    }
}

#[async_trait]
impl AlertSink for NotifierSink {
    async fn deliver(&self, event: &AlertEvent) -> Result<(), String> {
        let notification = notification_of(event, self.dashboard_url.as_deref());
        let reports = self
            .notifier
            .deliver_checked(&notification)
            .await
            .map_err(|e| format!("alert {} not sent: {e}", notification.alert_id))?;
        for report in &reports {
            if let DeliveryOutcome::DeadLettered { last_error, .. } = &report.outcome {
                tracing::warn!(event = %event.event_id, channel = %report.channel,
                    error = %last_error, "alert change dead-lettered; kept by the notifier");
            }
        }
        tracing::debug!(event = %event.event_id, channels = reports.len(), "alert change handled");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use costwatch_domain::alerting::{Condition, acknowledge, reconcile};

    use super::*;

    fn condition(severity: domain::Severity) -> Condition {
        Condition {
            dedupe_key: "budget:b1:threshold:100".into(),
            group: "budget:b1:threshold".into(),
            epoch: "2026-11-01".into(),
            kind: AlertKind::BudgetThreshold,
            severity,
            title: "Budget exceeded".into(),
            message: "acme spent 1250.00000000503 USD of 1200.00 USD".into(),
            budget_id: Some("b1".into()),
            actual: Some("1250.00000000503".parse().expect("decimal")),
            threshold: Some("1200.00".parse().expect("decimal")),
            currency: Some(Currency::USD),
            owner: Some("finops@acme.test".into()),
        }
    }

    fn triggered(severity: domain::Severity) -> AlertEvent {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
            .single()
            .expect("valid time");
        let alerts = reconcile(
            "acme corp",
            "budget:b1",
            &[],
            vec![condition(severity)],
            None,
            at,
            Duration::minutes(5),
        );
        AlertEvent::of(alerts.into_iter().next().expect("one alert"))
    }

    fn field<'a>(n: &'a Notification, name: &str) -> Option<&'a str> {
        n.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    #[test]
    fn a_triggered_alert_maps_every_field() {
        let event = triggered(domain::Severity::Critical);
        let n = notification_of(&event, Some("http://127.0.0.1:8080/"));
        assert_eq!(n.alert_id, event.alert.id);
        assert_eq!(n.tenant, "acme corp");
        assert_eq!(n.dedupe_key, "budget:b1:threshold:100");
        assert_eq!(n.severity, Severity::Critical);
        assert_eq!(n.state, AlertState::Triggered);
        assert_eq!(n.title, "Budget exceeded");
        assert_eq!(n.summary, "acme spent 1250.00000000503 USD of 1200.00 USD");
        assert_eq!(field(&n, "Kind"), Some("budget_threshold"));
        assert_eq!(field(&n, "Actual"), Some("1250.00000000503 USD"));
        assert_eq!(field(&n, "Threshold"), Some("1200.00 USD"));
        assert_eq!(field(&n, "Owner"), Some("finops@acme.test"));
        assert_eq!(field(&n, "Budget id"), Some("b1"));
        assert_eq!(field(&n, "Note"), None);
        assert_eq!(
            n.link.as_deref(),
            Some("http://127.0.0.1:8080/?tenant=acme%20corp#alerts")
        );
        assert_eq!(n.occurred_at, event.alert.history[0].at);
    }

    #[test]
    fn the_transition_gives_state_time_and_note() {
        let event = triggered(domain::Severity::Warning);
        let later = event.alert.updated_at + Duration::minutes(3);
        let acked = acknowledge(
            &event.alert,
            Some("ana".into()),
            Some("looking into it".into()),
            later,
        )
        .expect("acknowledge");
        let n = notification_of(&AlertEvent::of(acked), None);
        assert_eq!(n.state, AlertState::Acknowledged);
        assert_eq!(n.occurred_at, later);
        assert_eq!(field(&n, "Note"), Some("looking into it"));
        assert_eq!(n.link, None);
    }

    #[test]
    fn severities_map_one_to_one_and_absent_values_leave_no_field() {
        for (from, to) in [
            (domain::Severity::Critical, Severity::Critical),
            (domain::Severity::Warning, Severity::Warning),
            (domain::Severity::Info, Severity::Info),
        ] {
            assert_eq!(notification_of(&triggered(from), None).severity, to);
        }
        let mut event = triggered(domain::Severity::Info);
        event.alert.actual = None;
        event.alert.threshold = Some("7".parse().expect("decimal"));
        event.alert.currency = None;
        event.alert.owner = None;
        event.alert.budget_id = None;
        let n = notification_of(&event, None);
        let names: Vec<&str> = n.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Kind", "Threshold"]);
        assert_eq!(field(&n, "Threshold"), Some("7"));
    }
}
