//! The outbox publisher: every stored alert change reaches the stream and the sinks, in order;
//! a failing sink keeps the event for the next round (nothing lost), and a published event is
//! not published again.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use costwatch_alerting::{AlertSink, Publisher};
use costwatch_domain::alerting::{AlertEvent, AlertKind, Condition, Severity, reconcile};
use costwatch_embedded::{BroadcastAlerts, SqliteAlertStore};
use costwatch_ports::{AlertStore, AlertStream};
use futures::StreamExt;

#[derive(Default)]
struct FlakySink {
    failures_left: AtomicUsize,
    seen: Mutex<Vec<String>>,
}

#[async_trait]
impl AlertSink for FlakySink {
    async fn deliver(&self, event: &AlertEvent) -> Result<(), String> {
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err("receiver down".into());
        }
        self.seen.lock().expect("lock").push(event.event_id.clone());
        Ok(())
    }
}

fn condition(key: &str) -> Condition {
    Condition {
        dedupe_key: key.into(),
        group: key.into(),
        epoch: "e".into(),
        kind: AlertKind::CostSpike,
        severity: Severity::Warning,
        title: key.into(),
        message: "m".into(),
        budget_id: None,
        actual: None,
        threshold: None,
        currency: None,
        owner: None,
    }
}

#[tokio::test]
async fn failing_sink_keeps_events_until_delivered_in_order() {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let store: Arc<dyn AlertStore> =
        Arc::new(SqliteAlertStore::open(&dir.join("a.sqlite")).expect("open"));
    let stream = Arc::new(BroadcastAlerts::default());
    let mut subscribed = stream.subscribe();
    let sink = Arc::new(FlakySink {
        failures_left: AtomicUsize::new(1),
        ..FlakySink::default()
    });
    let publisher = Publisher::new(store.clone(), stream.clone(), vec![sink.clone()]);
    let changes = reconcile(
        "acme",
        "s",
        &[],
        vec![condition("a"), condition("b")],
        None,
        Utc::now(),
        Duration::hours(1),
    );
    let ids: Vec<String> = changes
        .iter()
        .map(|a| AlertEvent::of(a.clone()).event_id)
        .collect();
    store.apply_alert_changes(changes).await.expect("apply");

    assert_eq!(
        publisher.drain_once().await.expect("drain"),
        0,
        "sink down: nothing marked"
    );
    assert_eq!(store.unpublished(10).await.expect("outbox").len(), 2);
    assert_eq!(publisher.drain_once().await.expect("drain"), 2);
    assert_eq!(*sink.seen.lock().expect("lock"), ids);
    assert_eq!(
        publisher.drain_once().await.expect("drain"),
        0,
        "nothing twice"
    );
    // The stream saw the first event twice (before the sink failed, and again): subscribers
    // drop repeats by event id.
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(subscribed.next().await.expect("event").event_id);
    }
    assert_eq!(got, vec![ids[0].clone(), ids[0].clone(), ids[1].clone()]);
}
