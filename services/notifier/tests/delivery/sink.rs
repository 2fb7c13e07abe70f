//! `NotifierSink`: the alert outbox's view of the notifier, end to end against a webhook receiver.

use std::sync::Arc;

use chrono::{Duration, Utc};
use costwatch_alerting::AlertSink;
use costwatch_domain::Currency;
use costwatch_domain::alerting::{AlertEvent, AlertKind, Condition, Severity, reconcile};
use costwatch_notifier::{
    DeadLetter, DeliveryLog, DeliveryStatus, InMemoryDeliveryLog, LogError, Notifier,
    NotifierConfig, NotifierSink,
};

use crate::receiver::{Receiver, status};

fn event() -> AlertEvent {
    let condition = Condition {
        dedupe_key: "budget:b1:threshold:100".into(),
        group: "budget:b1:threshold".into(),
        epoch: "2026-11-01".into(),
        kind: AlertKind::BudgetThreshold,
        severity: Severity::Critical,
        title: "Budget exceeded".into(),
        message: "acme spent 1250.5 USD of 1200 USD".into(),
        budget_id: Some("b1".into()),
        actual: Some("1250.5".parse().expect("decimal")),
        threshold: Some("1200".parse().expect("decimal")),
        currency: Some(Currency::USD),
        owner: None,
    };
    let alerts = reconcile(
        "acme",
        "budget:b1",
        &[],
        vec![condition],
        None,
        Utc::now(),
        Duration::minutes(5),
    );
    AlertEvent::of(alerts.into_iter().next().expect("one alert"))
}

fn sink(url: &str, log: Arc<dyn DeliveryLog>) -> NotifierSink {
    let toml = format!(
        "[retry]\nmax_attempts = 2\ninitial_backoff_ms = 1\nmax_backoff_ms = 5\n\
         [channels.hook]\nkind = \"webhook\"\nurl = \"{url}\"\nsigning_secret = \"s\"\n"
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid config");
    let notifier = Notifier::from_config(&config, log).expect("builds");
    NotifierSink::new(Arc::new(notifier), Some("http://127.0.0.1:8080".into()))
}

#[tokio::test]
async fn an_alert_event_is_delivered_once_even_when_published_twice() {
    let receiver = Receiver::ok().await;
    let sink = sink(&receiver.url("/hook"), Arc::new(InMemoryDeliveryLog::new()));
    let event = event();

    sink.deliver(&event).await.expect("handled");
    let body = receiver.only_request().json().to_string();
    assert!(body.contains("budget:b1:threshold:100"), "{body}");
    assert!(body.contains(&event.alert.id), "{body}");
    assert!(
        body.contains("http://127.0.0.1:8080/?tenant=acme#alerts"),
        "{body}"
    );

    // The outbox publishes again after a crash before marking it published.
    sink.deliver(&event).await.expect("handled");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_dead_lettered_event_is_handled() {
    let receiver = Receiver::start(Vec::new(), status(400)).await;
    let log = Arc::new(InMemoryDeliveryLog::new());
    let sink = sink(&receiver.url("/hook"), log.clone());
    sink.deliver(&event())
        .await
        .expect("dead-lettered is handled");
    assert_eq!(log.dead_letters().expect("readable").len(), 1);
}

/// A log that takes no writes (a read-only or locked database).
struct ReadOnlyLog;

impl DeliveryLog for ReadOnlyLog {
    fn record_status(&self, _: &DeliveryStatus) -> Result<(), LogError> {
        Err(self.refuse())
    }
    fn status(&self, _: &str, _: &str) -> Result<Option<DeliveryStatus>, LogError> {
        Ok(None)
    }
    fn record_dead_letter(&self, _: &DeadLetter) -> Result<(), LogError> {
        Err(self.refuse())
    }
    fn dead_letters(&self) -> Result<Vec<DeadLetter>, LogError> {
        Ok(Vec::new())
    }
    fn check_writable(&self) -> Result<(), LogError> {
        Err(self.refuse())
    }
}

impl ReadOnlyLog {
    fn refuse(&self) -> LogError {
        LogError {
            operation: "write",
            reason: "read-only".into(),
        }
    }
}

#[tokio::test]
async fn an_unwritable_log_keeps_the_event_in_the_outbox_and_sends_nothing() {
    let receiver = Receiver::ok().await;
    let sink = sink(&receiver.url("/hook"), Arc::new(ReadOnlyLog));
    let error = sink.deliver(&event()).await.expect_err("retry later");
    assert!(error.contains("read-only"), "{error}");
    assert!(receiver.requests().is_empty());
}
