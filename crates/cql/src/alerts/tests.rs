use chrono::Duration as ChronoDuration;
use costwatch_domain::alerting::{AlertKind, Condition, Severity, acknowledge, reconcile};

use super::outbox::bucket_of;
use super::*;
use crate::{Replication, migrate};

pub(crate) async fn fresh_alert_store() -> CqlAlertStore {
    let keyspace = format!("cw_test_{}", uuid::Uuid::new_v4().simple());
    let options = CqlOptions {
        nodes: crate::contract_tests::nodes(),
        keyspace: keyspace.clone(),
        replication: Replication::Simple { factor: 1 },
    };
    let session = Arc::new(connect(&options.nodes).await.expect("connect to CQL"));
    migrate(&session, &options).await.expect("migrate");
    CqlAlertStore::with_session(session, &keyspace)
        .await
        .expect("open alert store")
}

costwatch_ports::alert_store_contract!(
    fresh_alert_store(),
    ignore = "needs a CQL server: make adapters"
);

#[test]
fn the_alerts_migration_creates_its_tables() {
    let (version, name, text) = crate::MIGRATIONS[1];
    assert_eq!((version, name), (2, "002_alerts"));
    let all = crate::migrate::statements(text, "cw", "{}");
    assert_eq!(all.len(), 6, "{all:#?}");
    for table in [
        "budgets",
        "alerts",
        "alerts_by_source",
        "alert_outbox",
        "resource_rules",
        "sent_digests",
    ] {
        let head = format!("CREATE TABLE IF NOT EXISTS cw.{table} (");
        assert!(
            all.iter().any(|s| s.starts_with(&head)),
            "{table}: {all:#?}"
        );
    }
}

#[test]
fn seqs_grow_and_name_their_bucket() {
    let node = 0x5a5;
    let seq = |micros: i64| (micros << NODE_BITS) | node;
    assert_eq!(bucket_of(seq(16)), 0);
    assert_eq!(bucket_of(seq(13)), 5);
    assert!(seq(1) < seq(2));
}

fn new_alert(tenant: &str, key: &str) -> Alert {
    let condition = Condition {
        dedupe_key: key.into(),
        group: "g".into(),
        epoch: "e".into(),
        kind: AlertKind::BudgetThreshold,
        severity: Severity::Warning,
        title: "t".into(),
        message: "m".into(),
        budget_id: Some("b1".into()),
        actual: None,
        threshold: None,
        currency: None,
        owner: None,
    };
    reconcile(
        tenant,
        "budget:b1",
        &[],
        vec![condition],
        None,
        Utc::now(),
        ChronoDuration::hours(1),
    )
    .pop()
    .expect("one new alert")
}

/// Outbox entries whose alert change never landed are never published: the leftover of a
/// writer that lost its race and crashed before deleting it goes at once, the entry of a
/// writer that crashed before its transaction is held for the grace period, then dropped.
#[tokio::test]
#[ignore = "needs a CQL server: make adapters"]
async fn an_outbox_entry_whose_change_never_landed_is_not_published() {
    let store = fresh_alert_store().await;
    let landed = new_alert("acme", "landed");
    store
        .apply_alert_changes(vec![landed.clone()])
        .await
        .expect("apply");
    let acked = acknowledge(&landed, Some("ana".into()), None, Utc::now()).expect("ack");
    store
        .apply_alert_changes(vec![acked.clone()])
        .await
        .expect("apply");

    // Crash after step 3: the outbox entry of a new alert, no transaction.
    let never = new_alert("acme", "never");
    let orphan = store.next_seq(0);
    store
        .write_outbox(orphan, &AlertEvent::of(never.clone()))
        .await
        .expect("outbox");
    // A writer that lost version 2 to `acked` and crashed before deleting its entry.
    let lost = acknowledge(&landed, Some("bob".into()), None, Utc::now()).expect("ack");
    let loser = store.next_seq(0);
    store
        .write_outbox(loser, &AlertEvent::of(lost))
        .await
        .expect("outbox");

    let pending = store.unpublished(10).await.expect("outbox");
    let versions: Vec<(String, u64)> = pending
        .iter()
        .map(|o| (o.event.alert.id.clone(), o.event.alert.version))
        .collect();
    assert_eq!(
        versions,
        vec![(landed.id.clone(), 1), (landed.id.clone(), 2)],
        "only the changes that landed"
    );
    assert_eq!(
        pending[1].event.alert, acked,
        "the winner's event, not the loser's"
    );
    let rows: Vec<i64> = store
        .outbox_entries()
        .await
        .expect("rows")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert!(!rows.contains(&loser), "the loser's entry is deleted");
    assert!(rows.contains(&orphan), "a young orphan is kept");
    assert!(
        store.alert("acme", &never.id).await.expect("get").is_none(),
        "waiting did not make the change land"
    );

    // Past the grace period (another instance, no grace) the orphan is dropped.
    let mut other = CqlAlertStore::with_session(store.session.clone(), store.keyspace())
        .await
        .expect("open");
    other.orphan_grace = Duration::ZERO;
    let pending = other.unpublished(10).await.expect("outbox");
    assert_eq!(pending.len(), 2);
    let rows: Vec<i64> = other
        .outbox_entries()
        .await
        .expect("rows")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert!(!rows.contains(&orphan), "an old orphan is deleted");
    assert_eq!(rows.len(), 2);

    // The new alert can still be raised later, and its real change is published.
    assert_eq!(
        store
            .apply_alert_changes(vec![never.clone()])
            .await
            .expect("apply")
            .len(),
        1
    );
    let pending = store.unpublished(10).await.expect("outbox");
    assert_eq!(pending.len(), 3);
    assert_eq!(pending[2].event.alert, never);
    assert!(
        pending.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );
}

/// A tenant whose budgets were all deleted is not listed.
#[tokio::test]
#[ignore = "needs a CQL server: make adapters"]
async fn budget_tenants_forget_tenants_without_budgets() {
    let store = fresh_alert_store().await;
    let b = costwatch_ports::alert_contract::sample_budget("acme", "b1", "B");
    store.put_budget(&b).await.expect("put");
    assert_eq!(store.budget_tenants().await.expect("tenants"), vec!["acme"]);
    assert!(store.delete_budget("acme", "b1").await.expect("delete"));
    assert!(store.budget_tenants().await.expect("tenants").is_empty());
}
