//! Anomaly queries, feedback and the live anomaly subscription, over the anomaly store.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use costwatch_domain::TenantId;
use costwatch_ports::{AnomalyStore, Feedback, StoreError};
use futures::{Stream, StreamExt, future};

use super::anomaly_types::AnomalyGql;

/// Longest note kept with feedback, in characters.
const MAX_NOTE_CHARS: usize = 2_000;

/// The anomaly store, when the detector runs in this deployment.
pub type Anomalies = Arc<dyn AnomalyStore>;

fn bad(field: &'static str, reason: impl Into<String>) -> async_graphql::Error {
    let reason = reason.into();
    async_graphql::Error::new(format!("{field}: {reason}")).extend_with(|_, e| {
        e.set("code", "BAD_USER_INPUT");
        e.set("field", field);
    })
}

fn unavailable(e: StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "anomaly store failed");
    async_graphql::Error::new("anomalies are temporarily unavailable; retry shortly")
        .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
}

fn not_found(id: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("id: no anomaly {id:?} for this tenant")).extend_with(
        |_, e| {
            e.set("code", "NOT_FOUND");
            e.set("field", "id");
        },
    )
}

fn store<'a>(ctx: &Context<'a>) -> Result<&'a Anomalies> {
    ctx.data_opt::<Anomalies>().ok_or_else(|| {
        async_graphql::Error::new("anomaly detection is not enabled in this deployment")
            .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
    })
}

fn tenant_of(raw: &str) -> Result<String> {
    TenantId::parse(raw)
        .map(|t| t.as_str().to_string())
        .map_err(|reason| bad("tenant", reason))
}

#[derive(Default)]
pub struct AnomalyQuery;

#[Object]
impl AnomalyQuery {
    /// A tenant's anomalies whose window starts in `[from, to)`, newest first (`limit` 1..=1000,
    /// default 100).
    async fn anomalies(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default = 100)] limit: i32,
    ) -> Result<Vec<AnomalyGql>> {
        let tenant = tenant_of(&tenant)?;
        if from >= to {
            return Err(bad("to", "must be after from"));
        }
        if !(1..=1000).contains(&limit) {
            return Err(bad("limit", "must be between 1 and 1000"));
        }
        let list = store(ctx)?
            .anomalies(&tenant, from, to, limit as usize)
            .await
            .map_err(unavailable)?;
        Ok(list.into_iter().map(AnomalyGql::from).collect())
    }

    /// One anomaly of the tenant, or null.
    async fn anomaly(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
    ) -> Result<Option<AnomalyGql>> {
        let tenant = tenant_of(&tenant)?;
        let found = store(ctx)?
            .anomaly(&tenant, &id)
            .await
            .map_err(unavailable)?;
        Ok(found.map(AnomalyGql::from))
    }
}

#[derive(Default)]
pub struct AnomalyMutation;

#[Object]
impl AnomalyMutation {
    /// Tells the detector whether an anomaly was expected. `expected: true` accepts the new
    /// level: the same kind of anomaly on the same series is not reported for the next 24 h.
    async fn mark_anomaly(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
        expected: bool,
        note: Option<String>,
        by: Option<String>,
    ) -> Result<AnomalyGql> {
        let tenant = tenant_of(&tenant)?;
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(bad(
                "note",
                format!("must be at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        if by.as_ref().is_some_and(|b| b.chars().count() > 200) {
            return Err(bad("by", "must be at most 200 characters"));
        }
        let feedback = Feedback {
            expected,
            note,
            by,
            at: Utc::now(),
        };
        let updated = store(ctx)?
            .record_feedback(&tenant, &id, feedback)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| not_found(&id))?;
        Ok(AnomalyGql::from(updated))
    }
}

#[derive(Default)]
pub struct AnomalySubscription;

#[Subscription]
impl AnomalySubscription {
    /// Every new anomaly of the tenant, as soon as it is stored.
    async fn anomaly_detected(
        &self,
        ctx: &Context<'_>,
        tenant: String,
    ) -> Result<impl Stream<Item = AnomalyGql> + use<>> {
        let tenant = tenant_of(&tenant)?;
        Ok(store(ctx)?
            .subscribe()
            .filter(move |a| future::ready(a.tenant == tenant))
            .map(AnomalyGql::from))
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{Request, Variables};
    use costwatch_domain::Currency;
    use costwatch_domain::fx::FxRates;
    use costwatch_embedded::{BroadcastUpdates, SqliteAnomalyStore, SqliteStore};
    use costwatch_ports::anomaly_contract::sample_anomaly;
    use serde_json::json;

    use super::*;
    use crate::graphql::{CostSchema, schema_with_anomalies};
    use crate::queries::CostQueries;

    fn schema(dir: &std::path::Path) -> (CostSchema, Arc<SqliteAnomalyStore>) {
        let costs = Arc::new(SqliteStore::open(&dir.join("store.sqlite")).expect("store"));
        let store = Arc::new(SqliteAnomalyStore::open(&dir.join("a.sqlite")).expect("store"));
        let queries = Arc::new(CostQueries::new(costs, FxRates::default(), Currency::USD));
        let s = schema_with_anomalies(
            queries,
            Arc::new(BroadcastUpdates::default()),
            None,
            Some(store.clone() as Anomalies),
        );
        (s, store)
    }

    fn as_admin(req: async_graphql::Request) -> async_graphql::Request {
        req.data(costwatch_domain::access::Principal::local_admin())
    }

    async fn run(s: &CostSchema, q: &str, vars: serde_json::Value) -> serde_json::Value {
        let resp = s
            .execute(as_admin(
                Request::new(q).variables(Variables::from_json(vars)),
            ))
            .await;
        serde_json::to_value(&resp).expect("json")
    }

    #[tokio::test]
    async fn anomalies_are_listed_marked_and_streamed_per_tenant() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (s, store) = schema(dir.path());
        let mut acme = s.execute_stream(as_admin(Request::new(
            "subscription{anomalyDetected(tenant:\"acme\"){id tenant rootCause{key}}}",
        )));
        let mut globex = s.execute_stream(as_admin(Request::new(
            "subscription{anomalyDetected(tenant:\"globex\"){id}}",
        )));
        let a = sample_anomaly("acme", "total|USD", 5);
        // Subscriptions start when first polled; poll once before inserting.
        let first = tokio::time::timeout(std::time::Duration::from_millis(50), acme.next()).await;
        assert!(first.is_err(), "nothing yet");
        store.insert_anomaly(&a).await.expect("insert");
        let pushed = tokio::time::timeout(std::time::Duration::from_secs(2), acme.next())
            .await
            .expect("pushed")
            .expect("open");
        let pushed = serde_json::to_value(&pushed).expect("json");
        assert_eq!(pushed["data"]["anomalyDetected"]["id"], a.id.as_str());
        assert_eq!(
            pushed["data"]["anomalyDetected"]["rootCause"][0]["key"],
            "resource=r-spiky"
        );
        let leaked =
            tokio::time::timeout(std::time::Duration::from_millis(200), globex.next()).await;
        assert!(leaked.is_err(), "globex must not see acme's anomaly");

        let listed = run(
            &s,
            "query($t:String!){anomalies(tenant:$t,from:\"2026-11-01T00:00:00Z\",to:\"2026-11-02T00:00:00Z\"){id actual{amount currency} kind severity}}",
            json!({"t": "acme"}),
        )
        .await;
        assert_eq!(
            listed["data"]["anomalies"],
            json!([{"id": a.id, "actual": {"amount": "100.5", "currency": "USD"}, "kind": "SPIKE", "severity": "CRITICAL"}])
        );
        let other = run(
            &s,
            "query($id:ID!){anomaly(tenant:\"globex\",id:$id){id}}",
            json!({"id": a.id}),
        )
        .await;
        assert_eq!(other["data"]["anomaly"], json!(null), "tenant-scoped");

        let marked = run(
            &s,
            "mutation($id:ID!){markAnomaly(tenant:\"acme\",id:$id,expected:false,note:\"real\",by:\"ana\"){feedback{expected note by}}}",
            json!({"id": a.id}),
        )
        .await;
        assert_eq!(
            marked["data"]["markAnomaly"]["feedback"],
            json!({"expected": false, "note": "real", "by": "ana"})
        );
        let stored = store
            .anomaly("acme", &a.id)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(stored.feedback.map(|f| f.expected), Some(false));
    }

    #[tokio::test]
    async fn errors_name_the_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (s, _) = schema(dir.path());
        for (q, field) in [
            (
                "{anomalies(tenant:\"\",from:\"2026-11-01T00:00:00Z\",to:\"2026-11-02T00:00:00Z\"){id}}",
                "tenant",
            ),
            (
                "{anomalies(tenant:\"a\",from:\"2026-11-02T00:00:00Z\",to:\"2026-11-01T00:00:00Z\"){id}}",
                "to",
            ),
            (
                "{anomalies(tenant:\"a\",from:\"2026-11-01T00:00:00Z\",to:\"2026-11-02T00:00:00Z\",limit:0){id}}",
                "limit",
            ),
            (
                "mutation{markAnomaly(tenant:\"a\",id:\"nope\",expected:true){id}}",
                "id",
            ),
        ] {
            let r = run(&s, q, json!({})).await;
            assert_eq!(r["errors"][0]["extensions"]["field"], field, "{q}: {r}");
        }
    }
}
