//! The audit contract and a chain crossing partitions, against a real CQL server.

use super::*;
use crate::contract_tests::{drop_keyspace, migrated_keyspace};
use costwatch_ports::audit_contract::sample_draft;

async fn fresh() -> CqlAuditStore {
    let (session, keyspace) = migrated_keyspace().await;
    CqlAuditStore::with_session(session, &keyspace)
        .await
        .expect("open audit store")
}

async fn teardown(store: &CqlAuditStore) {
    drop_keyspace((store.session.clone(), store.keyspace.clone())).await;
}

costwatch_ports::audit_store_contract!(
    fresh(),
    teardown = teardown,
    ignore = "needs a CQL server: make adapters"
);

#[test]
fn buckets_hold_100k_records() {
    assert_eq!(
        (bucket_of(1), bucket_of(99_999), bucket_of(100_000)),
        (0, 0, 1)
    );
    assert_eq!((last_seq_of(0), last_seq_of(1)), (99_999, 199_999));
}

/// A log that crosses into the next partition: appends continue there, a new store instance
/// (knowing no bucket) finds the head there, and reads run across the boundary.
#[tokio::test]
#[ignore = "needs a CQL server: make adapters"]
async fn the_chain_crosses_partitions() {
    let store = fresh().await;
    // Records 99_998 and 99_999 (the end of bucket 0) as if the log were that long.
    let mut head = Some(ChainHead {
        seq: 99_997,
        hash: ChainHash([7; 32]),
    });
    for n in 0..2 {
        let r = AuditChain::append_after(head, sample_draft(n, Some("acme")));
        assert!(store.try_insert(&r).await.expect("insert"), "applied");
        head = Some(r.head());
    }
    assert_eq!(store.head().await.expect("head"), head);
    let next = store.append(sample_draft(2, None)).await.expect("append");
    assert_eq!(
        (next.seq, Some(next.prev_hash)),
        (100_000, head.map(|h| h.hash))
    );
    let after = store
        .append(sample_draft(3, Some("acme")))
        .await
        .expect("append");
    assert_eq!(after.seq, 100_001);

    let other = CqlAuditStore::with_session(store.session.clone(), store.keyspace())
        .await
        .expect("open");
    assert_eq!(other.head().await.expect("head"), Some(after.head()));
    let seqs = |rs: Vec<AuditRecord>| rs.iter().map(|r| r.seq).collect::<Vec<_>>();
    let all = other
        .records(&AuditQuery::all(99_998, 10))
        .await
        .expect("records");
    assert_eq!(seqs(all), [99_998, 99_999, 100_000, 100_001]);
    let acme = AuditQuery {
        tenant: Some("acme".into()),
        from_seq: 99_999,
        limit: 10,
    };
    assert_eq!(
        seqs(other.records(&acme).await.expect("acme")),
        [99_999, 100_001]
    );
    let taken = AuditChain::append_after(head, sample_draft(9, None));
    assert!(
        !other.try_insert(&taken).await.expect("insert"),
        "seq 100_000 is taken"
    );
    teardown(&store).await;
}
