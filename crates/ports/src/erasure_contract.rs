//! The erasure contract: for each kind of store, a tenant's rows are all gone after
//! [`TenantData::erase_tenant`], another tenant's rows are untouched, and a second erasure
//! removes nothing. Each store's contract macro runs its function here.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, TimeZone, Utc};
use costwatch_domain::Granularity;
use rust_decimal::Decimal;

use crate::alert_contract::{sample_budget, sample_resource_rule, triggered};
use crate::annotation::contract::sample as sample_annotation;
use crate::anomaly_contract::sample_anomaly;
use crate::contract::{cell, hour, meter};
use crate::{
    AlertStore, AnnotationStore, AnomalyStore, ApiKeyStore, Commit, CostStore, DeadLetter,
    SeriesState, TenantData,
};

async fn erase_twice(store: &impl TenantData, tenant: &str) -> u64 {
    let rows = store.erase_tenant(tenant).await.expect("erase");
    assert_eq!(
        store.erase_tenant(tenant).await.expect("erase again"),
        0,
        "a second erasure finds nothing"
    );
    rows
}

pub async fn cost_store_erases_one_tenant(store: impl CostStore + TenantData) {
    let letter = |tenant: &str| DeadLetter {
        tenant: tenant.into(),
        event_id: format!("bad-{tenant}"),
        event_json: "{}".into(),
        reason: "no rate".into(),
        at: hour(3),
    };
    store
        .commit(Commit {
            consumer: "agg".into(),
            positions: BTreeMap::from([(0, 4)]),
            counted: vec![("acme".into(), "e1".into()), ("globex".into(), "e1".into())],
            meters: HashMap::from([
                (meter("acme"), Decimal::TEN),
                (meter("globex"), Decimal::ONE),
            ]),
            deltas: BTreeMap::from([
                cell("acme", 1, "1.5"),
                cell("acme", 2, "2"),
                cell("globex", 1, "40"),
            ]),
            dead_letters: vec![letter("acme"), letter("globex")],
            ..Default::default()
        })
        .await
        .expect("commit");

    let rows = erase_twice(&store, "acme").await;
    // 1 counted event + 1 meter + 2 rollup cells + 1 dead letter + the tenant entry, at least.
    assert!(rows >= 6, "only {rows} rows reported erased");

    let (from, to) = (hour(0), hour(23));
    assert!(
        store
            .rollups("acme", Granularity::Hour, from, to)
            .await
            .expect("rollups")
            .is_empty()
    );
    let pair = |t: &str| (t.to_string(), "e1".to_string());
    let seen = store
        .seen(&[pair("acme"), pair("globex")])
        .await
        .expect("seen");
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![pair("globex")]);
    let meters = store
        .meters(&[meter("acme"), meter("globex")])
        .await
        .expect("meters");
    assert_eq!(meters.get(&meter("acme")), None);
    assert_eq!(meters.get(&meter("globex")), Some(&Decimal::ONE));
    assert!(
        store
            .dead_letters("acme", 10)
            .await
            .expect("dead letters")
            .is_empty()
    );
    assert_eq!(store.dead_letters("globex", 10).await.expect("dl").len(), 1);
    assert_eq!(
        store.tenants().await.expect("tenants"),
        vec!["globex".to_string()]
    );
    let globex = store
        .rollups("globex", Granularity::Hour, from, to)
        .await
        .expect("rollups");
    assert_eq!(globex.len(), 1);
    assert_eq!(globex[0].value.amount, Decimal::from(40));
    // The consumer's position is not tenant data: the aggregator resumes where it was.
    assert_eq!(
        store.positions("agg").await.expect("positions"),
        BTreeMap::from([(0, 4)])
    );
}

pub async fn alert_store_erases_one_tenant(store: impl AlertStore + TenantData) {
    let window = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    for tenant in ["acme", "globex"] {
        store
            .put_budget(&sample_budget(tenant, "b1", "Monthly"))
            .await
            .expect("budget");
        store
            .put_resource_rule(&sample_resource_rule(tenant, "r1", "Idle"))
            .await
            .expect("rule");
        store
            .apply_alert_changes(triggered(tenant, &["k1", "k2"]))
            .await
            .expect("alerts");
        store
            .record_digest_sent(tenant, "daily", window)
            .await
            .expect("digest");
    }

    let rows = erase_twice(&store, "acme").await;
    assert!(rows >= 5, "only {rows} rows reported erased");

    assert!(store.budgets("acme").await.expect("budgets").is_empty());
    assert!(
        store
            .resource_rules("acme")
            .await
            .expect("rules")
            .is_empty()
    );
    assert!(
        store
            .alerts("acme", None, 100)
            .await
            .expect("alerts")
            .is_empty()
    );
    assert!(
        !store
            .digest_sent("acme", "daily", window)
            .await
            .expect("digest")
    );
    assert_eq!(
        store.budget_tenants().await.expect("tenants"),
        vec!["globex".to_string()]
    );
    // Alert events not yet published are the tenant's data too.
    let outbox = store.unpublished(100).await.expect("outbox");
    assert!(
        outbox.iter().all(|o| o.event.alert.tenant != "acme"),
        "acme alerts left in the outbox"
    );
    assert_eq!(outbox.len(), 2, "globex's outbox entries stay");
    assert_eq!(store.budgets("globex").await.expect("budgets").len(), 1);
    assert_eq!(
        store.resource_rules("globex").await.expect("rules").len(),
        1
    );
    assert_eq!(
        store
            .alerts("globex", None, 100)
            .await
            .expect("alerts")
            .len(),
        2
    );
    assert!(
        store
            .digest_sent("globex", "daily", window)
            .await
            .expect("digest")
    );
}

pub async fn anomaly_store_erases_one_tenant(store: impl AnomalyStore + TenantData) {
    let state = SeriesState {
        detector_json: "{}".into(),
        processed_until: hour(5),
    };
    for tenant in ["acme", "globex"] {
        store
            .save_series_states(tenant, vec![("s1".into(), state.clone())])
            .await
            .expect("states");
        for hour in 0..3 {
            store
                .insert_anomaly(&sample_anomaly(tenant, "s1", hour))
                .await
                .expect("anomaly");
        }
    }
    let rows = erase_twice(&store, "acme").await;
    assert!(rows >= 4, "only {rows} rows reported erased");

    let (from, to) = (
        Utc::now() - Duration::days(3650),
        Utc::now() + Duration::days(3650),
    );
    assert!(store.series_states("acme").await.expect("s").is_empty());
    assert!(
        store
            .anomalies("acme", from, to, 100)
            .await
            .expect("a")
            .is_empty()
    );
    assert!(
        store
            .series_anomalies("acme", "s1", from)
            .await
            .expect("a")
            .is_empty()
    );
    let id = sample_anomaly("acme", "s1", 0).id;
    assert_eq!(store.anomaly("acme", &id).await.expect("a"), None);
    assert_eq!(store.series_states("globex").await.expect("s").len(), 1);
    assert_eq!(
        store
            .anomalies("globex", from, to, 100)
            .await
            .expect("a")
            .len(),
        3
    );
}

pub async fn annotation_store_erases_one_tenant(store: &(impl AnnotationStore + TenantData)) {
    for tenant in ["acme", "globex"] {
        for (id, day) in [("n1", "2025-12-31"), ("n2", "2026-11-29")] {
            store
                .put(&sample_annotation(tenant, id, day, 9))
                .await
                .expect("put");
        }
    }
    assert_eq!(erase_twice(store, "acme").await, 2);
    let (from, to) = (
        "2020-01-01".parse().expect("day"),
        "2030-01-01".parse().expect("day"),
    );
    assert!(store.list("acme", from, to).await.expect("list").is_empty());
    assert!(!store.delete("acme", "n1").await.expect("delete"));
    assert_eq!(store.list("globex", from, to).await.expect("list").len(), 2);
}

/// A key of only the erased tenant goes; a key of several tenants loses that one; keys of
/// every tenant (finance) stay.
pub async fn api_key_store_erases_one_tenant(store: &(impl ApiKeyStore + TenantData)) {
    use crate::api_keys::contract::sample;
    let only = sample(1, 1, "ingest", &["acme"]);
    let both = sample(2, 2, "tenant-viewer", &["acme", "globex"]);
    let other = sample(3, 3, "ingest", &["globex"]);
    let finance = sample(4, 4, "finance", &[]);
    for k in [&only, &both, &other, &finance] {
        store.create(k).await.expect("create");
    }
    assert_eq!(erase_twice(store, "acme").await, 2);
    assert_eq!(store.get(&only.id).await.expect("get"), None);
    let narrowed = store.get(&both.id).await.expect("get").expect("kept");
    assert_eq!(
        narrowed
            .tenants
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>(),
        vec!["globex".to_string()]
    );
    assert_eq!(narrowed.secret_hash, both.secret_hash);
    assert_eq!(store.get(&other.id).await.expect("get"), Some(other));
    assert_eq!(store.get(&finance.id).await.expect("get"), Some(finance));
}
