//! The shared store contract against a real CQL server (Cassandra from `deploy/dev`, or
//! ScyllaDB): `make adapters` starts it and runs these with `--include-ignored`.
//! Each test gets its own fresh keyspace.

use std::sync::Arc;

use scylla::client::session::Session;

use crate::{CqlOptions, CqlStore, Replication, connect, migrate};

pub(crate) fn nodes() -> Vec<String> {
    std::env::var("COSTWATCH_CQL_NODES")
        .unwrap_or_else(|_| "127.0.0.1:9042".into())
        .split(',')
        .map(str::to_string)
        .collect()
}

/// A new keyspace with every migration applied, on a new session.
pub(crate) async fn migrated_keyspace() -> (Arc<Session>, String) {
    let keyspace = format!("cw_test_{}", uuid::Uuid::new_v4().simple());
    let options = CqlOptions {
        nodes: nodes(),
        keyspace: keyspace.clone(),
        replication: Replication::Simple { factor: 1 },
    };
    let session = Arc::new(connect(&options.nodes).await.expect("connect to CQL"));
    migrate(&session, &options).await.expect("migrate");
    (session, keyspace)
}

/// Drops a test keyspace once its test passed: a single dev node (small heap) runs out of
/// memory with a few dozen leftover keyspaces of ~20 tables each.
pub(crate) async fn drop_keyspace(store: (Arc<Session>, String)) {
    let (session, keyspace) = store;
    let statement = format!("DROP KEYSPACE IF EXISTS {keyspace}");
    if let Err(e) = session.query_unpaged(statement.as_str(), &[]).await {
        eprintln!("leaving keyspace {keyspace}: {e}");
    }
}

pub(crate) async fn fresh_store() -> CqlStore {
    let (session, keyspace) = migrated_keyspace().await;
    CqlStore::with_session(session, &keyspace)
        .await
        .expect("open store")
}

costwatch_ports::cost_store_contract!(fresh_store(), ignore = "needs a CQL server: make adapters");

mod crash_recovery {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};
    use costwatch_domain::rollup::SeriesKey;
    use costwatch_domain::{Category, Granularity, RollupKey, RollupValue, SubKind};
    use costwatch_ports::{Commit, CostStore};
    use rust_decimal::Decimal;

    use super::*;

    fn cell(amount: &str) -> (RollupKey, RollupValue) {
        let key = RollupKey {
            granularity: Granularity::Hour,
            bucket: Utc
                .with_ymd_and_hms(2026, 3, 14, 15, 0, 0)
                .single()
                .expect("time"),
            series: SeriesKey {
                tenant: "acme".into(),
                category: Category::Api,
                sub_kind: SubKind::Requests,
                provider: "aws".into(),
                service: "apigw".into(),
                resource: "api/checkout".into(),
                labels: "{}".into(),
                currency: "USD".parse().expect("currency"),
            },
        };
        let value = RollupValue {
            amount: amount.parse().expect("decimal"),
            billed: Decimal::ZERO,
            events: 1,
        };
        (key, value)
    }

    fn commit(from: u64, to: u64, id: &str, amount: &str) -> Commit {
        Commit {
            consumer: "agg".into(),
            expected_positions: if from == 0 {
                BTreeMap::new()
            } else {
                BTreeMap::from([(0, from)])
            },
            positions: BTreeMap::from([(0, to)]),
            counted: vec![("acme".into(), id.into())],
            deltas: BTreeMap::from([cell(amount)]),
            ..Default::default()
        }
    }

    async fn total(store: &CqlStore) -> (Decimal, u64) {
        let from = Utc
            .with_ymd_and_hms(2026, 3, 14, 0, 0, 0)
            .single()
            .expect("time");
        let rows = store
            .rollups(
                "acme",
                Granularity::Hour,
                from,
                from + chrono::Duration::days(1),
            )
            .await
            .expect("rollups");
        rows.iter().fold((Decimal::ZERO, 0), |(a, n), r| {
            (a + r.value.amount, n + r.value.events)
        })
    }

    /// The process dies right after the fencing point, before any rollup is written: the next
    /// instance completes the commit from its record before reading anything.
    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn a_commit_that_passed_its_fencing_point_is_completed_by_the_next_instance() {
        let store = fresh_store().await;
        store
            .commit(commit(0, 1, "e1", "1.5"))
            .await
            .expect("first commit");
        let (_writes, _ts, _) = store
            .record_and_fence(&commit(1, 2, "e2", "0.25"))
            .await
            .expect("fence");
        // "Crash": the write set is never applied by this instance.
        assert_eq!(
            total(&store).await,
            ("1.5".parse().expect("d"), 1),
            "not applied yet"
        );

        let next = CqlStore::with_session(store.session.clone(), &keyspace_of(&store))
            .await
            .expect("open");
        assert_eq!(
            next.positions("agg").await.expect("positions"),
            BTreeMap::from([(0, 2)])
        );
        assert_eq!(total(&next).await, ("1.75".parse().expect("d"), 2));
        let seen = next
            .seen(&[("acme".into(), "e2".into())])
            .await
            .expect("seen");
        assert_eq!(seen.len(), 1, "the completed commit's events count as seen");
        // Completing twice changes nothing.
        let again = CqlStore::with_session(store.session.clone(), &keyspace_of(&store))
            .await
            .expect("open");
        again.positions("agg").await.expect("positions");
        assert_eq!(total(&again).await, ("1.75".parse().expect("d"), 2));
    }

    /// A zombie that stalled after its fencing point and writes late loses to every newer commit.
    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn a_late_write_of_an_older_commit_loses_to_newer_ones() {
        let store = fresh_store().await;
        store.commit(commit(0, 1, "e1", "1")).await.expect("first");
        let (stale, stale_ts, _) = store
            .record_and_fence(&commit(1, 2, "e2", "2"))
            .await
            .expect("fence");
        // Another instance takes over: completes the pending commit and commits on top.
        let other = CqlStore::with_session(store.session.clone(), &keyspace_of(&store))
            .await
            .expect("open");
        other.positions("agg").await.expect("positions");
        other
            .commit(commit(2, 3, "e3", "4"))
            .await
            .expect("newer commit");
        assert_eq!(total(&other).await, ("7".parse().expect("d"), 3));
        // The zombie wakes up and writes its (older) absolute values.
        store.apply(&stale, stale_ts).await.expect("late apply");
        assert_eq!(
            total(&other).await,
            ("7".parse().expect("d"), 3),
            "the late write must not win"
        );
    }

    /// An instance that was fenced must not trust the cells it cached: after re-reading its
    /// positions its next commit adds to what the other instance wrote.
    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn a_fenced_instance_forgets_its_cached_cells() {
        let a = fresh_store().await;
        a.commit(commit(0, 1, "e1", "1")).await.expect("a commits");
        let b = CqlStore::with_session(a.session.clone(), a.keyspace())
            .await
            .expect("open");
        b.positions("agg").await.expect("positions");
        b.commit(commit(1, 2, "e2", "2")).await.expect("b commits");
        let err = a
            .commit(commit(1, 2, "e2", "2"))
            .await
            .expect_err("a is fenced");
        assert!(
            matches!(err, costwatch_ports::StoreError::Fenced { .. }),
            "{err}"
        );
        assert_eq!(
            a.positions("agg").await.expect("positions"),
            BTreeMap::from([(0, 2)])
        );
        a.commit(commit(2, 3, "e3", "4"))
            .await
            .expect("a commits again");
        assert_eq!(total(&a).await, ("7".parse().expect("d"), 3));
    }

    fn keyspace_of(store: &CqlStore) -> String {
        store.keyspace().to_string()
    }
}
