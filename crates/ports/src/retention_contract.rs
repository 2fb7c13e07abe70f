//! The retention contract: after [`TenantRetention::expire_tenant`] a tenant's time-bound rows
//! before the cutoff are gone, the bucket holding the cutoff and everything after it stay, and
//! other tenants are untouched. Adapters call these from their tests.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use costwatch_domain::{Granularity, RollupKey, RollupValue};
use rust_decimal::Decimal;

use crate::alert_contract::triggered;
use crate::annotation::contract::sample as sample_annotation;
use crate::anomaly_contract::sample_anomaly;
use crate::contract::{meter, sample_event, series};
use crate::{
    AlertStore, AnnotationStore, AnomalyStore, Commit, CostStore, TenantRetention, UsageLog,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn cells(tenant: &str, times: &[&str]) -> BTreeMap<RollupKey, RollupValue> {
    let mut cells = BTreeMap::new();
    for t in times {
        for g in Granularity::ALL {
            let value = cells
                .entry(RollupKey {
                    granularity: g,
                    bucket: g.bucket_start(at(t)),
                    series: series(tenant),
                })
                .or_insert(RollupValue {
                    amount: Decimal::ZERO,
                    billed: Decimal::ZERO,
                    events: 0,
                });
            value.amount += Decimal::ONE;
            value.events += 1;
        }
    }
    cells
}

pub async fn cost_store_expires_before_the_cutoff(store: impl CostStore + TenantRetention) {
    let times = [
        "2026-01-10T08:00:00Z",
        "2026-03-02T09:30:00Z",
        "2026-03-20T10:00:00Z",
    ];
    let mut deltas = cells("acme", &times);
    deltas.extend(cells("globex", &times));
    let mut old_meter = meter("acme");
    old_meter.month = "2026-01".into();
    store
        .commit(Commit {
            consumer: "agg".into(),
            positions: BTreeMap::from([(0, 1)]),
            counted: vec![("acme".into(), "old".into())],
            meters: HashMap::from([
                (old_meter.clone(), Decimal::TEN),
                (meter("acme"), Decimal::ONE),
            ]),
            deltas,
            ..Default::default()
        })
        .await
        .expect("commit");

    let cutoff = at("2026-03-05T00:00:00Z");
    let removed = store.expire_tenant("acme", cutoff).await.expect("expire");
    // 4 cells before March (January at each granularity but month) + 1 old meter, at least.
    assert!(removed >= 5, "only {removed} rows reported removed");
    assert_eq!(store.expire_tenant("acme", cutoff).await.expect("again"), 0);

    let (from, to) = (at("2025-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
    let buckets = |rows: Vec<costwatch_domain::RollupRow>| {
        rows.into_iter().map(|r| r.bucket).collect::<Vec<_>>()
    };
    let day = buckets(
        store
            .rollups("acme", Granularity::Day, from, to)
            .await
            .expect("r"),
    );
    assert_eq!(
        day,
        vec![at("2026-03-20T00:00:00Z")],
        "days before the cutoff go"
    );
    // The month holding the cutoff keeps its whole total (March has days inside the retention).
    let month = store
        .rollups("acme", Granularity::Month, from, to)
        .await
        .expect("r");
    assert_eq!(month.len(), 1);
    assert_eq!(month[0].bucket, at("2026-03-01T00:00:00Z"));
    assert_eq!(month[0].value.amount, Decimal::TWO);
    let meters = store
        .meters(&[old_meter.clone(), meter("acme")])
        .await
        .expect("m");
    assert_eq!(meters.get(&old_meter), None, "January's meter goes");
    assert_eq!(
        meters.get(&meter("acme")),
        Some(&Decimal::ONE),
        "March's stays"
    );
    // Idempotency keys stay: an old event delivered again must still not count twice.
    let seen = store
        .seen(&[("acme".into(), "old".into())])
        .await
        .expect("seen");
    assert_eq!(seen.len(), 1);
    let globex = store
        .rollups("globex", Granularity::Day, from, to)
        .await
        .expect("r");
    assert_eq!(globex.len(), 3, "another tenant keeps everything");
}

pub async fn usage_log_expires_before_the_cutoff(log: impl UsageLog + TenantRetention) {
    let event = |tenant: &str, id: &str, ts: &str| {
        let mut e = sample_event(tenant, id);
        e.timestamp = at(ts);
        e
    };
    log.publish(&[
        event("acme", "old", "2026-01-10T08:00:00Z"),
        event("acme", "new", "2026-03-20T08:00:00Z"),
        event("globex", "old", "2026-01-10T08:00:00Z"),
    ])
    .await
    .expect("publish");
    let removed = log
        .expire_tenant("acme", at("2026-03-05T00:00:00Z"))
        .await
        .expect("expire");
    assert_eq!(removed, 1);
    let left: Vec<(String, String)> = log
        .read(0, 0, 10, StdDuration::from_millis(10))
        .await
        .expect("read")
        .into_iter()
        .map(|r| (r.event.tenant.to_string(), r.event.id))
        .collect();
    assert_eq!(
        left,
        vec![
            ("acme".to_string(), "new".to_string()),
            ("globex".to_string(), "old".to_string())
        ]
    );
}

pub async fn alert_store_expires_only_resolved_alerts(store: impl AlertStore + TenantRetention) {
    let mut alerts = triggered("acme", &["open", "done"]);
    let old = Utc::now() - Duration::days(400);
    for a in &mut alerts {
        a.updated_at = old;
    }
    store.apply_alert_changes(alerts).await.expect("alerts");
    let mut done = store
        .alerts_of_source("acme", "budget:b1")
        .await
        .expect("alerts")
        .into_iter()
        .find(|a| a.title.contains("done"))
        .expect("done alert");
    done.state = costwatch_domain::alerting::AlertState::Resolved;
    done.version += 1;
    done.updated_at = old;
    store
        .apply_alert_changes(vec![done])
        .await
        .expect("resolve");

    let removed = store
        .expire_tenant("acme", Utc::now() - Duration::days(365))
        .await
        .expect("expire");
    assert_eq!(removed, 1);
    let left = store.alerts("acme", None, 10).await.expect("alerts");
    assert_eq!(left.len(), 1, "the open alert stays however old");
    assert!(left[0].title.contains("open"));
}

pub async fn anomaly_store_expires_before_the_cutoff(store: impl AnomalyStore + TenantRetention) {
    for hour in [0, 48] {
        for tenant in ["acme", "globex"] {
            store
                .insert_anomaly(&sample_anomaly(tenant, "s1", hour))
                .await
                .expect("anomaly");
        }
    }
    let cutoff = sample_anomaly("acme", "s1", 24).window_start;
    assert_eq!(
        store.expire_tenant("acme", cutoff).await.expect("expire"),
        1
    );
    let (from, to) = (cutoff - Duration::days(30), cutoff + Duration::days(30));
    assert_eq!(
        store
            .anomalies("acme", from, to, 10)
            .await
            .expect("a")
            .len(),
        1
    );
    assert_eq!(
        store
            .anomalies("globex", from, to, 10)
            .await
            .expect("a")
            .len(),
        2
    );
}

pub async fn annotation_store_expires_before_the_cutoff(
    store: &(impl AnnotationStore + TenantRetention),
) {
    for (id, day) in [("n1", "2026-01-10"), ("n2", "2026-03-05")] {
        store
            .put(&sample_annotation("acme", id, day, 9))
            .await
            .expect("put");
    }
    let cutoff = at("2026-03-05T12:00:00Z");
    assert_eq!(
        store.expire_tenant("acme", cutoff).await.expect("expire"),
        1
    );
    let left = store
        .list(
            "acme",
            "2020-01-01".parse().expect("d"),
            "2030-01-01".parse().expect("d"),
        )
        .await
        .expect("list");
    assert_eq!(left.len(), 1, "the cutoff's own day stays");
    assert_eq!(left[0].id, "n2");
}
