//! The contract every [`AuditStore`] passes: `audit_store_contract!(make())`, where `make()`
//! yields a fresh, empty store each time.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use costwatch_domain::audit::{AuditChain, AuditDraft, ChainHash, ChainHead, Outcome};

use crate::audit::{AuditQuery, AuditStore, verify_store};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 13, minute % 60, 0)
        .single()
        .expect("valid time")
}

/// A draft for `tenant` (`None`: a platform-wide action such as a login).
pub fn sample_draft(n: u32, tenant: Option<&str>) -> AuditDraft {
    AuditDraft {
        at: at(n) + chrono::Duration::nanoseconds(123_456_789),
        actor: format!("key-{n}"),
        tenant: tenant.map(str::to_string),
        action: ["createBudget", "export"][n as usize % 2].into(),
        target: format!("budget/{n}"),
        source: "192.0.2.10:40000".into(),
        outcome: match n % 3 {
            0 => Outcome::Allowed,
            1 => Outcome::Denied {
                reason: "role viewer cannot write".into(),
            },
            _ => Outcome::Failed {
                reason: String::new(),
            },
        },
    }
}

/// Appends link after each other from genesis and read back exactly (nanoseconds, empty
/// reasons and missing tenants included); the head follows the last append.
pub async fn appends_chain_and_round_trip(store: &impl AuditStore) {
    assert_eq!(store.head().await.expect("head"), None);
    let mut expected = Vec::new();
    for (n, tenant) in [
        (1, Some("acme")),
        (2, None),
        (3, Some("globex")),
        (4, Some("")),
    ] {
        let draft = sample_draft(n, tenant);
        let record = store.append(draft.clone()).await.expect("append");
        let want = AuditChain::append(expected.last(), draft);
        assert_eq!(record, want, "the store links like AuditChain::append");
        assert_eq!(store.head().await.expect("head"), Some(record.head()));
        expected.push(record);
    }
    assert_eq!(expected[0].prev_hash, ChainHash::GENESIS);
    let got = store
        .records(&AuditQuery::all(1, 100))
        .await
        .expect("records");
    assert_eq!(got, expected);
    assert_eq!(AuditChain::verify(&got), Ok(()));
    let verified = verify_store(store, 3, None).await.expect("verify");
    assert_eq!(verified.records, 4);
    assert_eq!(verified.head, Some(expected[3].head()));
}

/// Fifty concurrent appends still make one linear chain, seq 1..=50, no fork, none lost.
pub async fn concurrent_appends_do_not_fork<S: AuditStore + 'static>(store: S) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..50u32)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.append(sample_draft(n, Some("acme"))).await })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("task").expect("append").seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());
    let all = store
        .records(&AuditQuery::all(1, 1000))
        .await
        .expect("records");
    assert_eq!(all.len(), 50);
    assert_eq!(AuditChain::verify(&all), Ok(()));
    let verified = verify_store(store.as_ref(), 7, None).await.expect("verify");
    assert_eq!(verified.records, 50);
    assert_eq!(verified.head.map(|h| h.seq), Some(50));
}

/// Reads filter by tenant, start at `from_seq`, stop at `limit`, always in seq order.
pub async fn tenant_filter_and_paging(store: &impl AuditStore) {
    for n in 1..=9 {
        let tenant = match n % 3 {
            0 => None,
            1 => Some("acme"),
            _ => Some("globex"),
        };
        store.append(sample_draft(n, tenant)).await.expect("append");
    }
    let seqs = |records: Vec<costwatch_domain::audit::AuditRecord>| {
        records.iter().map(|r| r.seq).collect::<Vec<_>>()
    };
    let acme = AuditQuery {
        tenant: Some("acme".into()),
        from_seq: 1,
        limit: 100,
    };
    assert_eq!(seqs(store.records(&acme).await.expect("acme")), [1, 4, 7]);
    let page = AuditQuery {
        from_seq: 2,
        limit: 2,
        ..acme.clone()
    };
    assert_eq!(seqs(store.records(&page).await.expect("page")), [4, 7]);
    let nobody = AuditQuery {
        tenant: Some("initech".into()),
        ..acme
    };
    assert!(store.records(&nobody).await.expect("none").is_empty());
    let all = |from, limit| async move {
        seqs(
            store
                .records(&AuditQuery::all(from, limit))
                .await
                .expect("page"),
        )
    };
    assert_eq!(all(1, 4).await, [1, 2, 3, 4]);
    assert_eq!(all(5, 4).await, [5, 6, 7, 8]);
    assert_eq!(all(9, 4).await, [9]);
    assert!(all(10, 4).await.is_empty());
    assert!(all(1, 0).await.is_empty());
    assert_eq!(all(0, 2).await, [1, 2]);
}

/// `verify_store` checks a saved head: still there passes, beyond the end is a truncation.
pub async fn verify_against_saved_head(store: &impl AuditStore) {
    assert_eq!(
        verify_store(store, 10, None).await.expect("empty").records,
        0
    );
    for n in 1..=3 {
        store
            .append(sample_draft(n, Some("acme")))
            .await
            .expect("append");
    }
    let head = store.head().await.expect("head").expect("non-empty");
    verify_store(store, 2, Some(head)).await.expect("same head");
    let earlier = ChainHead { seq: 2, ..head };
    let err = verify_store(store, 2, Some(earlier))
        .await
        .expect_err("wrong hash at 2");
    assert!(
        err.to_string().contains("record 2 is not the saved head"),
        "{err}"
    );
    let later = ChainHead { seq: 5, ..head };
    let err = verify_store(store, 2, Some(later))
        .await
        .expect_err("truncated");
    assert!(err.to_string().contains("removed from the end"), "{err}");
}

/// `audit_store_contract!(make() [, teardown = f] [, ignore = ".."])`: `f(&store)` runs after a
/// case passed.
#[macro_export]
macro_rules! audit_store_contract {
    ($make:expr $(, teardown = $teardown:path)? $(, ignore = $why:literal)?) => {
        mod audit_store_contract {
            use super::*;
            #[tokio::test]
            $(#[ignore = $why])?
            async fn appends_chain_and_round_trip() {
                let store = $make.await;
                $crate::audit_contract::appends_chain_and_round_trip(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            $(#[ignore = $why])?
            async fn concurrent_appends_do_not_fork() {
                let store = $make.await;
                $crate::audit_contract::concurrent_appends_do_not_fork(store).await;
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn tenant_filter_and_paging() {
                let store = $make.await;
                $crate::audit_contract::tenant_filter_and_paging(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn verify_against_saved_head() {
                let store = $make.await;
                $crate::audit_contract::verify_against_saved_head(&store).await;
                $($teardown(&store).await;)?
            }
        }
    };
}
