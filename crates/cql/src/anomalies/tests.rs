use chrono::Duration as ChronoDuration;

use super::*;

pub(crate) async fn fresh_anomaly_store() -> CqlAnomalyStore {
    let (session, keyspace) = crate::contract_tests::migrated_keyspace().await;
    CqlAnomalyStore::with_session(session, &keyspace, Arc::new(LocalAnomalyFeed::default()))
        .await
        .expect("open anomaly store")
}

pub(crate) use crate::contract_tests::drop_keyspace;

fn handle(store: &CqlAnomalyStore) -> (Arc<Session>, String) {
    (store.session.clone(), store.keyspace.clone())
}

/// The shared contract (`costwatch_ports::anomaly_store_contract!` has no `ignore = ".."` form
/// yet, so its cases are listed here, each on a fresh keyspace, dropped when it passed).
mod anomaly_store_contract {
    use costwatch_ports::anomaly_contract as contract;

    use super::{drop_keyspace, fresh_anomaly_store, handle};

    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn series_states_round_trip_per_tenant() {
        let store = fresh_anomaly_store().await;
        let h = handle(&store);
        contract::series_states_round_trip_per_tenant(store).await;
        drop_keyspace(h).await;
    }

    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn anomalies_are_idempotent_and_streamed() {
        let store = fresh_anomaly_store().await;
        let h = handle(&store);
        contract::anomalies_are_idempotent_and_streamed(store).await;
        drop_keyspace(h).await;
    }

    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn anomalies_are_listed_per_tenant_and_range() {
        let store = fresh_anomaly_store().await;
        let h = handle(&store);
        contract::anomalies_are_listed_per_tenant_and_range(store).await;
        drop_keyspace(h).await;
    }

    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn feedback_round_trips() {
        let store = fresh_anomaly_store().await;
        let h = handle(&store);
        contract::feedback_round_trips(store).await;
        drop_keyspace(h).await;
    }

    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn erases_one_tenant() {
        let store = fresh_anomaly_store().await;
        let h = handle(&store);
        costwatch_ports::erasure_contract::anomaly_store_erases_one_tenant(store).await;
        drop_keyspace(h).await;
    }
}

#[test]
fn the_anomalies_migration_creates_its_tables() {
    let (version, name, text) = crate::MIGRATIONS[2];
    assert_eq!((version, name), (3, "003_anomalies"));
    let all = crate::migrate::statements(text, "cw", "{}");
    assert_eq!(all.len(), 6, "{all:#?}");
    for table in [
        "anomaly_series",
        "anomalies",
        "anomalies_by_day",
        "anomaly_days",
        "anomalies_by_series",
        "anomaly_feedback",
    ] {
        let head = format!("CREATE TABLE IF NOT EXISTS cw.{table} (");
        assert!(
            all.iter().any(|s| s.starts_with(&head)),
            "{table}: {all:#?}"
        );
    }
}

#[test]
fn days_are_utc_days_since_the_epoch() {
    let t = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
    assert_eq!(day_of(t("1970-01-01T23:59:59Z")), 0);
    assert_eq!(day_of(t("1970-01-02T00:00:00Z")), 1);
    assert_eq!(day_of(t("1969-12-31T23:59:59Z")), -1);
}

/// A range over several days (and a century with no anomalies) reads only the days that have
/// some, newest first, across day boundaries, and stops at the limit.
#[tokio::test]
#[ignore = "needs a CQL server: make adapters"]
async fn ranges_span_day_partitions_newest_first() {
    let store = fresh_anomaly_store().await;
    let sample = costwatch_ports::anomaly_contract::sample_anomaly;
    for h in [1, 23, 24, 25, 49, 100] {
        assert!(
            store
                .insert_anomaly(&sample("acme", "total|USD", h))
                .await
                .expect("insert")
        );
    }
    let t0 = sample("acme", "total|USD", 0).window_start;
    let listed = store
        .anomalies(
            "acme",
            t0 - ChronoDuration::days(36_500),
            t0 + ChronoDuration::hours(100),
            100,
        )
        .await
        .expect("list");
    let hours: Vec<i64> = listed
        .iter()
        .map(|a| (a.window_start - t0).num_hours())
        .collect();
    assert_eq!(hours, [49, 25, 24, 23, 1]);
    let limited = store
        .anomalies("acme", t0, t0 + ChronoDuration::days(30), 3)
        .await
        .expect("list");
    let hours: Vec<i64> = limited
        .iter()
        .map(|a| (a.window_start - t0).num_hours())
        .collect();
    assert_eq!(hours, [100, 49, 25]);
    drop_keyspace(handle(&store)).await;
}

/// A re-detection with a later `detected_at` keeps the first document everywhere, and feedback
/// shows in the lists too.
#[tokio::test]
#[ignore = "needs a CQL server: make adapters"]
async fn the_first_detection_wins_in_every_view() {
    let store = fresh_anomaly_store().await;
    let first = costwatch_ports::anomaly_contract::sample_anomaly("acme", "total|USD", 3);
    assert!(store.insert_anomaly(&first).await.expect("insert"));
    let again = AnomalyRecord {
        detected_at: first.detected_at + ChronoDuration::hours(5),
        ..first.clone()
    };
    assert!(!store.insert_anomaly(&again).await.expect("insert"));
    let fb = Feedback {
        expected: true,
        note: None,
        by: Some("ana".into()),
        at: first.detected_at,
    };
    store
        .record_feedback("acme", &first.id, fb.clone())
        .await
        .expect("mark")
        .expect("found");
    let want = AnomalyRecord {
        feedback: Some(fb),
        ..first.clone()
    };
    let listed = store
        .anomalies("acme", first.window_start, first.window_end, 10)
        .await
        .expect("list");
    assert_eq!(listed, vec![want.clone()]);
    let of_series = store
        .series_anomalies("acme", "total|USD", first.window_start)
        .await
        .expect("series");
    assert_eq!(of_series, vec![want.clone()]);
    assert_eq!(
        store.anomaly("acme", &first.id).await.expect("get"),
        Some(want)
    );
    drop_keyspace(handle(&store)).await;
}

/// A tenant's save bigger than the multi-partition batch limits (and than one batch) lands.
#[tokio::test]
#[ignore = "needs a CQL server: make adapters"]
async fn large_series_saves_land_whole() {
    let store = fresh_anomaly_store().await;
    let t0 = costwatch_ports::anomaly_contract::sample_anomaly("acme", "total|USD", 0).window_start;
    let detector_json = format!("{{\"pad\":\"{}\"}}", "x".repeat(20_000));
    let states: Vec<(String, SeriesState)> = (0..120)
        .map(|i| {
            (
                format!("service=s{i:03}|USD"),
                SeriesState {
                    detector_json: detector_json.clone(),
                    processed_until: t0,
                },
            )
        })
        .collect();
    store
        .save_series_states("acme", states.clone())
        .await
        .expect("save");
    assert_eq!(store.series_states("acme").await.expect("load"), states);
    drop_keyspace(handle(&store)).await;
}
