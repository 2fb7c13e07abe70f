//! Contract test suites. Every adapter runs them through the macros:
//!
//! ```ignore
//! costwatch_ports::usage_log_contract!(async { open_fresh_log().await });
//! costwatch_ports::cost_store_contract!(async { open_fresh_store().await });
//! ```
//! The expression must yield a fresh, empty, isolated instance each time it is evaluated.
//! `usage_log_contract!(make(), ignore = "needs Kafka")` marks every generated test ignored, for
//! suites that need a server which `make test` starts (and runs with `--include-ignored`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::rollup::SeriesKey;
use costwatch_domain::{
    Category, Currency, Granularity, RollupKey, RollupValue, SubKind, TenantId, UsageEvent,
};
use rust_decimal::Decimal;

use crate::{Commit, CostStore, DeadLetter, StoreError, UsageLog};

pub fn sample_event(tenant: &str, id: &str) -> UsageEvent {
    UsageEvent {
        id: id.to_string(),
        tenant: TenantId::parse(tenant).expect("valid tenant"),
        timestamp: Utc
            .with_ymd_and_hms(2026, 3, 14, 15, 9, 26)
            .single()
            .expect("valid time"),
        category: Category::Database,
        sub_kind: SubKind::Queries,
        provider: "aws".into(),
        service: "dynamodb".into(),
        resource: "table/orders".into(),
        metric: "read_units".into(),
        quantity: "12.5".parse().expect("decimal"),
        unit: "unit".into(),
        cost: None,
        labels: BTreeMap::from([("team".to_string(), "checkout".to_string())]),
    }
}

/// Reads every partition from offset 0 in small pages until `expected` records arrived (or 15 s
/// passed), then once more to catch any surplus. Real brokers need a moment after an assignment.
async fn read_all(log: &impl UsageLog, expected: usize) -> Vec<crate::LogRecord> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut next: Vec<u64> = vec![0; log.partitions() as usize];
    let mut got = Vec::new();
    let mut surplus_pass = false;
    loop {
        for p in 0..log.partitions() {
            let batch = log
                .read(p, next[p as usize], 3, Duration::from_millis(100))
                .await
                .expect("read");
            for w in batch.windows(2) {
                assert!(w[0].offset < w[1].offset, "offsets must increase");
            }
            if let Some(last) = batch.last() {
                next[p as usize] = last.offset + 1;
            }
            got.extend(batch);
        }
        if surplus_pass || tokio::time::Instant::now() > deadline {
            return got;
        }
        surplus_pass = got.len() >= expected;
    }
}

pub async fn log_reads_back_what_was_published_in_order(log: impl UsageLog) {
    let events: Vec<_> = (0..10)
        .map(|i| sample_event("acme", &format!("e{i}")))
        .collect();
    log.publish(&events).await.expect("publish");
    let got: Vec<_> = read_all(&log, events.len())
        .await
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(
        got, events,
        "one tenant's events come back whole and in order"
    );
}

pub async fn log_read_waits_for_new_events(log: impl UsageLog) {
    let log = std::sync::Arc::new(log);
    let empty = log
        .read(0, 0, 10, Duration::from_millis(20))
        .await
        .expect("read");
    assert!(empty.is_empty());
    let reader = {
        let log = log.clone();
        tokio::spawn(async move {
            let mut all = Vec::new();
            for p in 0..log.partitions() {
                all.extend(
                    log.read(p, 0, 10, Duration::from_secs(5))
                        .await
                        .expect("read"),
                );
                if !all.is_empty() {
                    break;
                }
            }
            all
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.publish(&[sample_event("acme", "late")])
        .await
        .expect("publish");
    let got = reader.await.expect("join");
    assert_eq!(
        got.len(),
        1,
        "a waiting reader sees an event published while it waits"
    );
}

pub async fn log_keeps_duplicates_for_consumers_to_dedupe(log: impl UsageLog) {
    let e = sample_event("acme", "same");
    log.publish(std::slice::from_ref(&e))
        .await
        .expect("publish");
    log.publish(std::slice::from_ref(&e))
        .await
        .expect("publish");
    let n = read_all(&log, 2).await.len();
    assert_eq!(
        n, 2,
        "the log is at-least-once; dedupe happens in the store commit"
    );
}

pub(crate) fn series(tenant: &str) -> SeriesKey {
    SeriesKey::for_event(&sample_event(tenant, "x"), Currency::USD)
}

pub(crate) fn hour(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, h, 0, 0)
        .single()
        .expect("valid time")
}

pub(crate) fn cell(tenant: &str, h: u32, amount: &str) -> (RollupKey, RollupValue) {
    (
        RollupKey {
            granularity: Granularity::Hour,
            bucket: hour(h),
            series: series(tenant),
        },
        RollupValue {
            amount: amount.parse().expect("decimal"),
            billed: Decimal::ZERO,
            events: 1,
        },
    )
}

pub(crate) fn meter(tenant: &str) -> MeterKey {
    MeterKey::for_event(&sample_event(tenant, "x"))
}

pub async fn store_commit_applies_everything_together(store: impl CostStore) {
    assert!(store.positions("agg").await.expect("positions").is_empty());
    let commit = Commit {
        consumer: "agg".into(),
        expected_positions: BTreeMap::new(),
        positions: BTreeMap::from([(0, 7)]),
        counted: vec![("acme".into(), "e1".into())],
        meters: HashMap::from([(meter("acme"), "12.5".parse().expect("decimal"))]),
        deltas: BTreeMap::from([cell("acme", 10, "0.00000000503")]),
        dead_letters: vec![],
    };
    store.commit(commit.clone()).await.expect("commit");
    assert_eq!(
        store.positions("agg").await.expect("positions"),
        BTreeMap::from([(0, 7)])
    );
    let seen = store
        .seen(&[("acme".into(), "e1".into()), ("acme".into(), "e2".into())])
        .await
        .expect("seen");
    assert_eq!(seen.len(), 1);
    assert!(seen.contains(&("acme".to_string(), "e1".to_string())));
    let m = store
        .meters(&[meter("acme"), meter("other")])
        .await
        .expect("meters");
    assert_eq!(
        m.get(&meter("acme")).map(Decimal::to_string),
        Some("12.5".to_string())
    );
    assert!(!m.contains_key(&meter("other")));

    // A second commit adds to the same cell exactly.
    let second = Commit {
        expected_positions: BTreeMap::from([(0, 7)]),
        positions: BTreeMap::from([(0, 9)]),
        counted: vec![("acme".into(), "e2".into())],
        meters: HashMap::new(),
        deltas: BTreeMap::from([cell("acme", 10, "0.00000000001")]),
        ..commit
    };
    store.commit(second).await.expect("commit");
    let rows = store
        .rollups("acme", Granularity::Hour, hour(0), hour(23))
        .await
        .expect("rollups");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].value.amount.to_string(), "0.00000000504");
    assert_eq!(rows[0].value.events, 2);
    assert_eq!(rows[0].series, series("acme"));
    assert_eq!(
        store.tenants().await.expect("tenants"),
        vec!["acme".to_string()]
    );
}

pub async fn store_refuses_a_commit_from_stale_positions(store: impl CostStore) {
    let first = Commit {
        consumer: "agg".into(),
        positions: BTreeMap::from([(0, 5)]),
        deltas: BTreeMap::from([cell("acme", 1, "1")]),
        ..Default::default()
    };
    store.commit(first.clone()).await.expect("commit");
    // A zombie that read from offset 0 as well tries to commit the same work again.
    let err = store
        .commit(first)
        .await
        .expect_err("stale commit must fail");
    assert!(matches!(err, StoreError::Fenced { .. }), "{err}");
    let rows = store
        .rollups("acme", Granularity::Hour, hour(0), hour(23))
        .await
        .expect("rollups");
    assert_eq!(
        rows[0].value.amount,
        Decimal::ONE,
        "nothing of a refused commit is applied"
    );
}

pub async fn store_keeps_tenants_and_ranges_apart(store: impl CostStore) {
    let commit = Commit {
        consumer: "agg".into(),
        positions: BTreeMap::from([(0, 3)]),
        deltas: BTreeMap::from([
            cell("acme", 1, "1"),
            cell("acme", 2, "2"),
            cell("globex", 1, "40"),
        ]),
        ..Default::default()
    };
    store.commit(commit).await.expect("commit");
    let acme = store
        .rollups("acme", Granularity::Hour, hour(1), hour(2))
        .await
        .expect("rollups");
    assert_eq!(acme.len(), 1, "from is inclusive, to exclusive");
    assert_eq!(acme[0].value.amount, Decimal::ONE);
    let globex = store
        .rollups("globex", Granularity::Hour, hour(0), hour(23))
        .await
        .expect("rollups");
    assert!(globex.iter().all(|r| r.series.tenant == "globex"));
    assert_eq!(globex.len(), 1);
    let day = store
        .rollups("acme", Granularity::Day, hour(0), hour(23))
        .await
        .expect("rollups");
    assert!(day.is_empty(), "granularities are separate");
}

pub async fn store_keeps_dead_letters(store: impl CostStore) {
    let at = hour(3);
    let letters: Vec<_> = (0..3)
        .map(|i| DeadLetter {
            tenant: "acme".into(),
            event_id: format!("bad{i}"),
            event_json: "{}".into(),
            reason: "no rate".into(),
            at,
        })
        .collect();
    store
        .commit(Commit {
            consumer: "agg".into(),
            positions: BTreeMap::from([(0, 1)]),
            dead_letters: letters,
            ..Default::default()
        })
        .await
        .expect("commit");
    let got = store.dead_letters("acme", 2).await.expect("dead letters");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].event_id, "bad2", "newest first");
    assert!(
        store
            .dead_letters("globex", 10)
            .await
            .expect("dead letters")
            .is_empty()
    );
}

#[macro_export]
macro_rules! usage_log_contract {
    ($make:expr) => {
        $crate::usage_log_contract!(@with [] $make);
    };
    ($make:expr, ignore = $why:literal) => {
        $crate::usage_log_contract!(@with [#[ignore = $why]] $make);
    };
    (@with [$(#[$meta:meta])*] $make:expr) => {
        mod usage_log_contract {
            use super::*;
            #[tokio::test]
            $(#[$meta])*
            async fn reads_back_what_was_published_in_order() {
                $crate::contract::log_reads_back_what_was_published_in_order($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn read_waits_for_new_events() {
                $crate::contract::log_read_waits_for_new_events($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn keeps_duplicates_for_consumers_to_dedupe() {
                $crate::contract::log_keeps_duplicates_for_consumers_to_dedupe($make.await).await;
            }
        }
    };
}

#[macro_export]
macro_rules! cost_store_contract {
    ($make:expr) => {
        $crate::cost_store_contract!(@with [] $make);
    };
    ($make:expr, ignore = $why:literal) => {
        $crate::cost_store_contract!(@with [#[ignore = $why]] $make);
    };
    (@with [$(#[$meta:meta])*] $make:expr) => {
        mod cost_store_contract {
            use super::*;
            #[tokio::test]
            $(#[$meta])*
            async fn commit_applies_everything_together() {
                $crate::contract::store_commit_applies_everything_together($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn refuses_a_commit_from_stale_positions() {
                $crate::contract::store_refuses_a_commit_from_stale_positions($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn keeps_tenants_and_ranges_apart() {
                $crate::contract::store_keeps_tenants_and_ranges_apart($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn keeps_dead_letters() {
                $crate::contract::store_keeps_dead_letters($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn erases_one_tenant() {
                $crate::erasure_contract::cost_store_erases_one_tenant($make.await).await;
            }
        }
    };
}
