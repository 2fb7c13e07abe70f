//! Chart annotations (see `costwatch_domain::annotation`): notes on a day of a tenant's cost
//! trends chart. The tenant is part of every key, so one tenant can never list or delete
//! another's notes, even knowing an id.

use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_domain::annotation::Annotation;

use crate::StoreError;

#[async_trait]
pub trait AnnotationStore: Send + Sync {
    /// Stores `annotation` under (tenant, id). Storing the same annotation again changes nothing
    /// (a retried request is harmless). Ids are fresh UUIDs: moving an existing id to another
    /// day is not supported (delete it and add a new one).
    async fn put(&self, annotation: &Annotation) -> Result<(), StoreError>;

    /// `tenant`'s annotations with `from <= day <= to`, ordered by (day, created_at, id).
    /// Callers bound the range (the gateway allows at most three years).
    async fn list(
        &self,
        tenant: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Annotation>, StoreError>;

    /// Deletes `tenant`'s annotation `id`; `false` when the tenant has no such annotation.
    async fn delete(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;
}

/// The contract every [`AnnotationStore`] passes: `annotation_store_contract!(make())`, where
/// `make()` yields a fresh, empty store each time.
pub mod contract {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use costwatch_domain::annotation::Annotation;

    use super::AnnotationStore;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, hour, 0, 0)
            .single()
            .expect("valid time")
    }

    pub fn sample(tenant: &str, id: &str, d: &str, created_hour: u32) -> Annotation {
        Annotation {
            tenant: tenant.into(),
            id: id.into(),
            day: day(d),
            note: format!("note {id} — déployé"),
            author: Some("alice".into()),
            created_at: at(created_hour),
        }
    }

    /// Annotations come back whole, ordered by (day, created_at), only inside the inclusive
    /// range, also when the range spans a year boundary.
    pub async fn round_trip_ordered_in_range(store: &impl AnnotationStore) {
        let mut no_author = sample("acme", "a5", "2027-01-02", 9);
        no_author.author = None;
        let all = [
            sample("acme", "a1", "2026-11-27", 12),
            sample("acme", "a2", "2026-11-27", 8),
            sample("acme", "a3", "2025-12-31", 10),
            sample("acme", "a4", "2026-11-30", 7),
            no_author.clone(),
            sample("acme", "a6", "2027-01-03", 7),
        ];
        for a in &all {
            store.put(a).await.expect("put");
        }
        let got = store
            .list("acme", day("2025-12-31"), day("2027-01-02"))
            .await
            .expect("list");
        let want = vec![
            all[2].clone(),
            all[1].clone(),
            all[0].clone(),
            all[3].clone(),
            no_author,
        ];
        assert_eq!(got, want);
        let none = store
            .list("acme", day("2026-11-28"), day("2026-11-29"))
            .await
            .expect("list");
        assert!(none.is_empty(), "{none:?}");
    }

    /// Putting the same annotation twice keeps one copy.
    pub async fn put_is_idempotent(store: &impl AnnotationStore) {
        let a = sample("acme", "a1", "2026-11-27", 12);
        store.put(&a).await.expect("put");
        store.put(&a).await.expect("again");
        let got = store.list("acme", a.day, a.day).await.expect("list");
        assert_eq!(got, vec![a]);
    }

    /// Another tenant neither sees nor deletes a tenant's annotations, even with the same id.
    pub async fn tenants_are_isolated(store: &impl AnnotationStore) {
        let acme = sample("acme", "same-id", "2026-11-27", 12);
        let mut globex = sample("globex", "same-id", "2026-11-27", 13);
        globex.note = "globex only".into();
        let other = sample("globex", "g2", "2026-11-28", 9);
        for a in [&acme, &globex, &other] {
            store.put(a).await.expect("put");
        }
        let (from, to) = (day("2026-01-01"), day("2026-12-31"));
        assert_eq!(
            store.list("acme", from, to).await.expect("list"),
            vec![acme.clone()]
        );
        assert!(
            !store.delete("acme", "g2").await.expect("delete"),
            "acme must not delete globex's annotation"
        );
        assert!(store.delete("globex", "same-id").await.expect("delete"));
        assert_eq!(
            store.list("acme", from, to).await.expect("list"),
            vec![acme],
            "deleting globex's same-id left acme's alone"
        );
        assert_eq!(
            store.list("globex", from, to).await.expect("list"),
            vec![other]
        );
    }

    /// Delete removes the annotation once; deleting again or an unknown id says `false`.
    pub async fn delete_removes_once(store: &impl AnnotationStore) {
        let keep = sample("acme", "keep", "2026-11-27", 8);
        let gone = sample("acme", "gone", "2026-11-27", 9);
        store.put(&keep).await.expect("put");
        store.put(&gone).await.expect("put");
        assert!(store.delete("acme", "gone").await.expect("delete"));
        assert!(!store.delete("acme", "gone").await.expect("again"));
        assert!(!store.delete("acme", "never").await.expect("unknown"));
        let got = store.list("acme", keep.day, keep.day).await.expect("list");
        assert_eq!(got, vec![keep]);
    }
}

/// `annotation_store_contract!(make() [, teardown = f] [, ignore = ".."])`: `f(&store)` runs
/// after a case passed (e.g. to drop a test keyspace).
#[macro_export]
macro_rules! annotation_store_contract {
    ($make:expr $(, teardown = $teardown:path)? $(, ignore = $why:literal)?) => {
        mod annotation_store_contract {
            use super::*;
            #[tokio::test]
            $(#[ignore = $why])?
            async fn round_trip_ordered_in_range() {
                let store = $make.await;
                $crate::annotation::contract::round_trip_ordered_in_range(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn put_is_idempotent() {
                let store = $make.await;
                $crate::annotation::contract::put_is_idempotent(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn tenants_are_isolated() {
                let store = $make.await;
                $crate::annotation::contract::tenants_are_isolated(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn delete_removes_once() {
                let store = $make.await;
                $crate::annotation::contract::delete_removes_once(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn erases_one_tenant() {
                let store = $make.await;
                $crate::erasure_contract::annotation_store_erases_one_tenant(&store).await;
                $($teardown(&store).await;)?
            }
        }
    };
}
