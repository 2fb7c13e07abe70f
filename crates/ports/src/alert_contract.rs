//! The contract every [`AlertStore`] passes: `alert_store_contract!(make())`, where `make()`
//! yields a fresh, empty store each time (see `contract.rs` for the `ignore = ".."` form).

use chrono::{Duration, TimeZone, Utc};
use costwatch_domain::alerting::{
    Alert, AlertEvent, AlertKind, AlertState, Condition, ResourceMeasure, ResourceRule,
    ResourceRuleSpec, ResourceScope, Severity, acknowledge, reconcile,
};
use costwatch_domain::budget::{Budget, BudgetScope, BudgetSpec, Period, default_thresholds};
use costwatch_domain::money::Currency;

use crate::AlertStore;

pub fn sample_budget(tenant: &str, id: &str, name: &str) -> Budget {
    let t = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    Budget {
        id: id.into(),
        tenant: tenant.into(),
        spec: BudgetSpec {
            name: name.into(),
            amount: "1000.000000000001".parse().expect("decimal"),
            currency: Currency::EUR,
            period: Period::Quarterly,
            scope: BudgetScope {
                service: Some("rds".into()),
                labels: [("team".to_string(), "core".to_string())].into(),
                ..BudgetScope::default()
            },
            thresholds: default_thresholds(),
            allocations: vec![],
            owner: Some("finops".into()),
        },
        created_at: t,
        updated_at: t,
    }
}

fn condition(key: &str) -> Condition {
    Condition {
        dedupe_key: key.into(),
        group: "g".into(),
        epoch: "e".into(),
        kind: AlertKind::BudgetThreshold,
        severity: Severity::Warning,
        title: format!("title {key}"),
        message: "m".into(),
        budget_id: Some("b1".into()),
        actual: Some("80.5".parse().expect("decimal")),
        threshold: Some("80".parse().expect("decimal")),
        currency: Some(Currency::USD),
        owner: None,
    }
}

/// New triggered budget alerts of `tenant`, one per dedupe key (for adapter tests).
pub fn triggered(tenant: &str, keys: &[&str]) -> Vec<Alert> {
    let now = Utc::now();
    reconcile(
        tenant,
        "budget:b1",
        &[],
        keys.iter().map(|k| condition(k)).collect(),
        None,
        now,
        Duration::hours(1),
    )
}

pub async fn budgets_round_trip_per_tenant(store: impl AlertStore) {
    let a = sample_budget("acme", "b1", "Zeta");
    let b = sample_budget("acme", "b2", "Alpha");
    let other = sample_budget("globex", "b1", "Globex");
    for x in [&a, &b, &other] {
        store.put_budget(x).await.expect("put");
    }
    let names: Vec<String> = store
        .budgets("acme")
        .await
        .expect("list")
        .into_iter()
        .map(|b| b.spec.name)
        .collect();
    assert_eq!(names, vec!["Alpha", "Zeta"], "by name, only acme's");
    assert_eq!(
        store.budget("acme", "b1").await.expect("get"),
        Some(a.clone()),
        "exact round trip"
    );
    assert_eq!(
        store.budget("globex", "b1").await.expect("get"),
        Some(other)
    );
    let mut tenants = store.budget_tenants().await.expect("tenants");
    tenants.sort();
    assert_eq!(tenants, vec!["acme", "globex"]);
    let mut renamed = a.clone();
    renamed.spec.name = "Renamed".into();
    store.put_budget(&renamed).await.expect("replace");
    assert_eq!(
        store.budget("acme", "b1").await.expect("get"),
        Some(renamed)
    );
    assert!(store.delete_budget("acme", "b1").await.expect("delete"));
    assert!(
        !store
            .delete_budget("acme", "b1")
            .await
            .expect("delete twice")
    );
    assert_eq!(store.budget("acme", "b1").await.expect("get"), None);
    assert!(
        store.budget("globex", "b1").await.expect("get").is_some(),
        "other tenant untouched"
    );
}

pub async fn alert_changes_are_versioned_and_outboxed(store: impl AlertStore) {
    let new = triggered("acme", &["k1", "k2"]);
    let applied = store.apply_alert_changes(new.clone()).await.expect("apply");
    assert_eq!(applied.len(), 2);
    // Re-applying the same changes (a re-delivered evaluation) is a no-op.
    assert!(
        store
            .apply_alert_changes(new.clone())
            .await
            .expect("apply")
            .is_empty()
    );
    let pending = store.unpublished(10).await.expect("outbox");
    assert_eq!(
        pending.len(),
        2,
        "one event per applied change, none for the repeat"
    );
    let ids: Vec<&str> = pending.iter().map(|o| o.event.event_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            AlertEvent::of(new[0].clone()).event_id.as_str(),
            AlertEvent::of(new[1].clone()).event_id.as_str()
        ]
    );
    assert!(pending[0].seq < pending[1].seq);
    // A stale change (built from version 1 after someone else moved it to 2) is refused.
    let acked = acknowledge(&new[0], Some("ana".into()), None, Utc::now()).expect("ack");
    let also_acked = acknowledge(&new[0], Some("bob".into()), None, Utc::now()).expect("ack");
    assert_eq!(
        store
            .apply_alert_changes(vec![acked.clone()])
            .await
            .expect("apply")
            .len(),
        1
    );
    assert!(
        store
            .apply_alert_changes(vec![also_acked])
            .await
            .expect("apply")
            .is_empty()
    );
    let stored = store
        .alert("acme", &acked.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored, acked);
    assert_eq!(
        stored.history.last().and_then(|t| t.by.as_deref()),
        Some("ana")
    );
    // Publishing drains the outbox in order; marking is idempotent.
    let pending = store.unpublished(10).await.expect("outbox");
    assert_eq!(pending.len(), 3);
    store
        .mark_published(&[pending[0].seq, pending[1].seq])
        .await
        .expect("mark");
    store
        .mark_published(&[pending[0].seq])
        .await
        .expect("mark again");
    let rest = store.unpublished(10).await.expect("outbox");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event.alert.state, AlertState::Acknowledged);
}

pub async fn alerts_are_listed_per_tenant_state_and_source(store: impl AlertStore) {
    store
        .apply_alert_changes(triggered("acme", &["a", "b", "c"]))
        .await
        .expect("apply");
    store
        .apply_alert_changes(triggered("globex", &["a"]))
        .await
        .expect("apply");
    let all = store.alerts("acme", None, 100).await.expect("list");
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|a| a.tenant == "acme"));
    let b = all.iter().find(|a| a.dedupe_key == "b").expect("b").clone();
    let later = Utc::now() + Duration::seconds(5);
    let acked = acknowledge(&b, None, None, later).expect("ack");
    store.apply_alert_changes(vec![acked]).await.expect("apply");
    let newest = store.alerts("acme", None, 1).await.expect("list");
    assert_eq!(newest.len(), 1, "limit");
    assert_eq!(newest[0].dedupe_key, "b", "most recently changed first");
    let open = store
        .alerts("acme", Some(AlertState::Triggered), 100)
        .await
        .expect("list");
    assert_eq!(open.len(), 2);
    let of_source = store
        .alerts_of_source("acme", "budget:b1")
        .await
        .expect("source");
    assert_eq!(of_source.len(), 3);
    assert!(
        store
            .alerts_of_source("acme", "budget:zz")
            .await
            .expect("source")
            .is_empty()
    );
    assert!(
        store.alert("globex", &b.id).await.expect("get").is_none(),
        "ids are tenant-scoped"
    );
    assert_eq!(
        store.alerts("initech", None, 10).await.expect("list"),
        vec![]
    );
}

pub fn sample_resource_rule(tenant: &str, id: &str, name: &str) -> ResourceRule {
    let t = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    ResourceRule {
        id: id.into(),
        tenant: tenant.into(),
        spec: ResourceRuleSpec {
            name: name.into(),
            scope: ResourceScope {
                provider: Some("aws".into()),
                service: Some("ec2".into()),
                resource: None,
                labels: [("team".to_string(), "core".to_string())].into(),
            },
            measure: ResourceMeasure::Cost,
            window_minutes: 60,
            above: "12.000000000001".parse().expect("decimal"),
            currency: Some(Currency::EUR),
            severity: Severity::Critical,
            enabled: true,
        },
        created_at: t,
        updated_at: t,
    }
}

pub async fn resource_rules_round_trip_per_tenant(store: impl AlertStore) {
    let a = sample_resource_rule("acme", "r1", "Zeta");
    let b = sample_resource_rule("acme", "r2", "Alpha");
    let other = sample_resource_rule("globex", "r1", "Globex");
    for x in [&a, &b, &other] {
        store.put_resource_rule(x).await.expect("put");
    }
    let names: Vec<String> = store
        .resource_rules("acme")
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.spec.name)
        .collect();
    assert_eq!(names, vec!["Alpha", "Zeta"], "by name, only acme's");
    assert_eq!(
        store.resource_rule("acme", "r1").await.expect("get"),
        Some(a.clone()),
        "exact round trip"
    );
    let mut changed = a.clone();
    changed.spec.enabled = false;
    store.put_resource_rule(&changed).await.expect("replace");
    assert_eq!(
        store.resource_rule("acme", "r1").await.expect("get"),
        Some(changed)
    );
    assert!(
        store
            .delete_resource_rule("acme", "r1")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_resource_rule("acme", "r1")
            .await
            .expect("again")
    );
    assert_eq!(store.resource_rule("acme", "r1").await.expect("get"), None);
    assert_eq!(
        store.resource_rule("globex", "r1").await.expect("get"),
        Some(other),
        "other tenant untouched"
    );
}

pub async fn digest_records_are_once_per_tenant_kind_window(store: impl AlertStore) {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 16, 0, 0, 0)
        .single()
        .expect("valid time");
    assert!(
        !store
            .digest_sent("acme", "weekly", start)
            .await
            .expect("read")
    );
    assert!(
        store
            .record_digest_sent("acme", "weekly", start)
            .await
            .expect("record")
    );
    assert!(
        !store
            .record_digest_sent("acme", "weekly", start)
            .await
            .expect("again"),
        "second record is refused"
    );
    assert!(
        store
            .digest_sent("acme", "weekly", start)
            .await
            .expect("read")
    );
    assert!(
        !store
            .digest_sent("acme", "monthly", start)
            .await
            .expect("kind")
    );
    assert!(
        !store
            .digest_sent("globex", "weekly", start)
            .await
            .expect("tenant")
    );
    let next = start + Duration::days(7);
    assert!(
        !store
            .digest_sent("acme", "weekly", next)
            .await
            .expect("window")
    );
}

#[macro_export]
macro_rules! alert_store_contract {
    ($make:expr) => {
        $crate::alert_store_contract!(@with [] $make);
    };
    ($make:expr, ignore = $why:literal) => {
        $crate::alert_store_contract!(@with [#[ignore = $why]] $make);
    };
    (@with [$(#[$meta:meta])*] $make:expr) => {
        mod alert_store_contract {
            use super::*;
            #[tokio::test]
            $(#[$meta])*
            async fn budgets_round_trip_per_tenant() {
                $crate::alert_contract::budgets_round_trip_per_tenant($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn alert_changes_are_versioned_and_outboxed() {
                $crate::alert_contract::alert_changes_are_versioned_and_outboxed($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn alerts_are_listed_per_tenant_state_and_source() {
                $crate::alert_contract::alerts_are_listed_per_tenant_state_and_source($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn resource_rules_round_trip_per_tenant() {
                $crate::alert_contract::resource_rules_round_trip_per_tenant($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn digest_records_are_once_per_tenant_kind_window() {
                $crate::alert_contract::digest_records_are_once_per_tenant_kind_window($make.await).await;
            }
            #[tokio::test]
            $(#[$meta])*
            async fn erases_one_tenant() {
                $crate::erasure_contract::alert_store_erases_one_tenant($make.await).await;
            }
        }
    };
}
