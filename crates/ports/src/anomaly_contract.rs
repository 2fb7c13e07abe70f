//! The contract every [`AnomalyStore`] passes: `anomaly_store_contract!(make())`, where `make()`
//! yields a fresh, empty store each time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use costwatch_analytics::detect::{AnomalyKind, Contributor, Severity};
use costwatch_domain::Currency;
use futures::StreamExt;
use rust_decimal::Decimal;

use crate::anomalies::{AnomalyRecord, AnomalyStore, Feedback, SeriesState, anomaly_id};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

pub fn sample_anomaly(tenant: &str, series: &str, hour: i64) -> AnomalyRecord {
    let start = t0() + Duration::hours(hour);
    AnomalyRecord {
        id: anomaly_id(tenant, series, start, AnomalyKind::Spike),
        tenant: tenant.into(),
        series: series.into(),
        window_start: start,
        window_end: start + Duration::hours(1),
        kind: AnomalyKind::Spike,
        severity: Severity::Critical,
        score: 0.999_123_456_789,
        currency: Currency::USD,
        expected: dec("10.000000000001"),
        actual: dec("100.5"),
        lo: dec("9.5"),
        hi: dec("10.5"),
        root_cause: vec![Contributor {
            key: "resource=r-spiky".into(),
            window: dec("90.5"),
            baseline: dec("0.000000000001"),
            delta: dec("90.499999999999"),
            share_percent: Some(dec("100")),
        }],
        label_causes: vec![],
        detected_at: start + Duration::hours(1) + Duration::seconds(1),
        feedback: None,
    }
}

pub async fn series_states_round_trip_per_tenant(store: impl AnomalyStore) {
    let a = SeriesState {
        detector_json: "{\"a\":1}".into(),
        processed_until: t0(),
    };
    let b = SeriesState {
        detector_json: "{\"b\":2}".into(),
        processed_until: t0() + Duration::hours(1),
    };
    store
        .save_series_states("acme", vec![("total|USD".into(), a.clone())])
        .await
        .expect("save");
    store
        .save_series_states("globex", vec![("total|USD".into(), b.clone())])
        .await
        .expect("save");
    assert_eq!(
        store.series_states("acme").await.expect("load"),
        vec![("total|USD".to_string(), a)]
    );
    // Replacing keeps one row per (tenant, series).
    store
        .save_series_states("acme", vec![("total|USD".into(), b.clone())])
        .await
        .expect("save");
    assert_eq!(
        store.series_states("acme").await.expect("load"),
        vec![("total|USD".to_string(), b.clone())]
    );
    assert!(
        store
            .series_states("initech")
            .await
            .expect("load")
            .is_empty()
    );
}

pub async fn anomalies_are_idempotent_and_streamed(store: impl AnomalyStore) {
    let mut stream = store.subscribe();
    let a = sample_anomaly("acme", "total|USD", 5);
    assert!(store.insert_anomaly(&a).await.expect("insert"), "new");
    assert!(!store.insert_anomaly(&a).await.expect("insert"), "repeat");
    let got = tokio::time::timeout(std::time::Duration::from_secs(2), stream.next())
        .await
        .expect("streamed in time")
        .expect("stream open");
    assert_eq!(got, a, "exact round trip through the stream");
    // The repeat was not streamed.
    let b = sample_anomaly("acme", "total|USD", 6);
    assert!(store.insert_anomaly(&b).await.expect("insert"));
    let next = tokio::time::timeout(std::time::Duration::from_secs(2), stream.next())
        .await
        .expect("streamed in time")
        .expect("stream open");
    assert_eq!(next.id, b.id);
    assert_eq!(
        store.anomaly("acme", &a.id).await.expect("get"),
        Some(a.clone()),
        "exact round trip (decimals, score, contributors)"
    );
    assert_eq!(
        store.anomaly("globex", &a.id).await.expect("get"),
        None,
        "ids are tenant-scoped"
    );
}

pub async fn anomalies_are_listed_per_tenant_and_range(store: impl AnomalyStore) {
    for h in [1, 3, 2, 10] {
        store
            .insert_anomaly(&sample_anomaly("acme", "total|USD", h))
            .await
            .expect("insert");
    }
    store
        .insert_anomaly(&sample_anomaly("acme", "service=ec2|USD", 2))
        .await
        .expect("insert");
    store
        .insert_anomaly(&sample_anomaly("globex", "total|USD", 2))
        .await
        .expect("insert");
    let listed = store
        .anomalies("acme", t0(), t0() + Duration::hours(10), 100)
        .await
        .expect("list");
    let hours: Vec<i64> = listed
        .iter()
        .map(|a| (a.window_start - t0()).num_hours())
        .collect();
    assert_eq!(hours, [3, 2, 2, 1], "newest first, `to` excluded");
    assert!(listed.iter().all(|a| a.tenant == "acme"));
    let limited = store
        .anomalies("acme", t0(), t0() + Duration::hours(24), 2)
        .await
        .expect("list");
    assert_eq!(limited.len(), 2);
    assert_eq!((limited[0].window_start - t0()).num_hours(), 10);
    let of_series = store
        .series_anomalies("acme", "total|USD", t0() + Duration::hours(2))
        .await
        .expect("series");
    let hours: Vec<i64> = of_series
        .iter()
        .map(|a| (a.window_start - t0()).num_hours())
        .collect();
    assert_eq!(hours, [10, 3, 2]);
    assert!(
        store
            .anomalies("initech", t0(), t0() + Duration::hours(24), 10)
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn feedback_round_trips(store: impl AnomalyStore) {
    let a = sample_anomaly("acme", "total|USD", 1);
    store.insert_anomaly(&a).await.expect("insert");
    let fb = Feedback {
        expected: true,
        note: Some("planned load test".into()),
        by: Some("ana".into()),
        at: t0() + Duration::hours(3),
    };
    let updated = store
        .record_feedback("acme", &a.id, fb.clone())
        .await
        .expect("feedback")
        .expect("found");
    assert_eq!(updated.feedback.as_ref(), Some(&fb));
    let read = store
        .anomaly("acme", &a.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(read.feedback, Some(fb));
    assert_eq!(
        store
            .record_feedback(
                "globex",
                &a.id,
                Feedback {
                    expected: false,
                    note: None,
                    by: None,
                    at: t0(),
                }
            )
            .await
            .expect("feedback"),
        None,
        "another tenant cannot mark it"
    );
    // A repeated insert (re-detection after a restart) keeps the feedback.
    store.insert_anomaly(&a).await.expect("insert");
    let read = store
        .anomaly("acme", &a.id)
        .await
        .expect("get")
        .expect("found");
    assert!(read.feedback.is_some_and(|f| f.expected));
}

#[macro_export]
macro_rules! anomaly_store_contract {
    ($make:expr) => {
        mod anomaly_store_contract {
            use super::*;
            #[tokio::test]
            async fn series_states_round_trip_per_tenant() {
                $crate::anomaly_contract::series_states_round_trip_per_tenant($make.await).await;
            }
            #[tokio::test]
            async fn anomalies_are_idempotent_and_streamed() {
                $crate::anomaly_contract::anomalies_are_idempotent_and_streamed($make.await).await;
            }
            #[tokio::test]
            async fn anomalies_are_listed_per_tenant_and_range() {
                $crate::anomaly_contract::anomalies_are_listed_per_tenant_and_range($make.await)
                    .await;
            }
            #[tokio::test]
            async fn feedback_round_trips() {
                $crate::anomaly_contract::feedback_round_trips($make.await).await;
            }
            #[tokio::test]
            async fn erases_one_tenant() {
                $crate::erasure_contract::anomaly_store_erases_one_tenant($make.await).await;
            }
        }
    };
}
