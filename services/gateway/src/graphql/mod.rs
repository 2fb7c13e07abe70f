//! The GraphQL schema: queries over the cost store and live cost updates.

mod annotation_root;
mod anomaly_root;
mod anomaly_types;
mod audit_root;
mod budget_root;
mod budget_types;
mod digest_types;
mod forecast_root;
mod fx_root;
mod inputs;
mod limits;
mod query;
mod rules_root;
mod subscription;
mod tenant_root;

use std::sync::Arc;

use async_graphql::{ErrorExtensions, MergedObject, MergedSubscription, Schema, SchemaBuilder};
use costwatch_ports::CostUpdates;

pub use annotation_root::{AnnotationGql, AnnotationMutation, AnnotationQuery, Annotations};
pub use anomaly_root::{Anomalies, AnomalyMutation, AnomalyQuery, AnomalySubscription};
pub use anomaly_types::AnomalyGql;
pub use audit_root::{AuditLogQuery, AuditRecordGql};
pub use budget_root::{AlertSubscription, BudgetMutation, BudgetQuery};
pub use budget_types::{AlertGql, AlertState, BudgetGql, BudgetInput};
pub use digest_types::{CostDigest, DigestQuery};
pub use forecast_root::{CostForecast, ForecastQuery};
pub use fx_root::{ExchangeRateGql, FxMutation, FxQuery};
pub use inputs::{CostFilterInput, Dimension, Granularity, LabelInput, TimeRangeInput};
pub use limits::{MAX_COMPLEXITY, MAX_DEPTH, MAX_INTROSPECTION_DEPTH};
pub use query::CostQuery;
pub use rules_root::{ResourceAlertSubscription, RulesMutation, RulesQuery};
pub use subscription::{CostSubscription, CostUpdateEvent, for_tenant};
pub use tenant_root::{ErasedStoreGql, TenantErasureGql, TenantMutation};

use crate::queries::{CostQueries, QueryError};

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    CostQuery,
    BudgetQuery,
    RulesQuery,
    AnomalyQuery,
    DigestQuery,
    ForecastQuery,
    FxQuery,
    AnnotationQuery,
    AuditLogQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    BudgetMutation,
    RulesMutation,
    AnomalyMutation,
    FxMutation,
    AnnotationMutation,
    TenantMutation,
);

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    CostSubscription,
    AlertSubscription,
    ResourceAlertSubscription,
    AnomalySubscription,
);

pub type CostSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .extension(limits::QueryLimits)
    .extension(crate::auth::guard::AccessGuard)
}

/// The schema, serving `queries` and `updates`, and budgets and alerts when `alerting` is given
/// (without it those fields answer `UNAVAILABLE`).
pub fn schema(
    queries: Arc<CostQueries>,
    updates: Arc<dyn CostUpdates>,
    alerting: Option<Arc<crate::Alerting>>,
) -> CostSchema {
    schema_with_anomalies(queries, updates, alerting, None)
}

/// [`schema`], also serving anomalies when the detector's store is given (without it the
/// anomaly fields answer `UNAVAILABLE`).
pub fn schema_with_anomalies(
    queries: Arc<CostQueries>,
    updates: Arc<dyn CostUpdates>,
    alerting: Option<Arc<crate::Alerting>>,
    anomalies: Option<Anomalies>,
) -> CostSchema {
    schema_with(queries, updates, alerting, anomalies, None)
}

/// [`schema_with_anomalies`], also serving stored exchange rates when `fx` is given.
pub fn schema_with(
    queries: Arc<CostQueries>,
    updates: Arc<dyn CostUpdates>,
    alerting: Option<Arc<crate::Alerting>>,
    anomalies: Option<Anomalies>,
    fx: Option<crate::fx_rates::FxRatesApi>,
) -> CostSchema {
    schema_with_annotations(queries, updates, alerting, anomalies, fx, None)
}

/// [`schema_with`], also serving chart annotations when their store is given (without it the
/// annotation fields answer `UNAVAILABLE`).
pub fn schema_with_annotations(
    queries: Arc<CostQueries>,
    updates: Arc<dyn CostUpdates>,
    alerting: Option<Arc<crate::Alerting>>,
    anomalies: Option<Anomalies>,
    fx: Option<crate::fx_rates::FxRatesApi>,
    annotations: Option<Annotations>,
) -> CostSchema {
    schema_from(SchemaSources {
        queries,
        updates,
        alerting,
        anomalies,
        fx,
        annotations,
        erasure: None,
        mode: crate::ApiMode::Development,
    })
}

/// What the schema serves from; `None` parts answer `UNAVAILABLE`.
pub struct SchemaSources {
    pub queries: Arc<CostQueries>,
    pub updates: Arc<dyn CostUpdates>,
    pub alerting: Option<Arc<crate::Alerting>>,
    pub anomalies: Option<Anomalies>,
    pub fx: Option<crate::fx_rates::FxRatesApi>,
    pub annotations: Option<Annotations>,
    /// Every store holding tenant rows, for `deleteTenant`.
    pub erasure: Option<costwatch_ports::TenantErasure>,
    /// Production hides the schema's description (introspection and "did you mean"
    /// suggestions), which maps the API for an attacker.
    pub mode: crate::ApiMode,
}

/// The schema over `sources`.
pub fn schema_from(sources: SchemaSources) -> CostSchema {
    let SchemaSources {
        queries,
        updates,
        alerting,
        anomalies,
        fx,
        annotations,
        erasure,
        mode,
    } = sources;
    let mut b = builder().data(queries).data(updates);
    if let Some(e) = erasure {
        b = b.data(e);
    }
    if mode == crate::ApiMode::Production {
        b = b.disable_introspection().disable_suggestions();
    }
    if let Some(a) = annotations {
        b = b.data(a);
    }
    if let Some(fx) = fx {
        b = b.data(fx);
    }
    if let Some(a) = alerting {
        b = b.data(a);
    }
    if let Some(a) = anomalies {
        b = b.data(a);
    }
    b.finish()
}

/// The SDL of the schema (no data needed).
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// Bad input → `BAD_USER_INPUT` naming the `field`; store trouble → `UNAVAILABLE` (details are
/// logged, not shown); unrepresentable data → `INTERNAL`.
impl ErrorExtensions for QueryError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| match self {
            QueryError::BadInput { field, .. } => {
                e.set("code", "BAD_USER_INPUT");
                e.set("field", field.as_str());
            }
            QueryError::Unavailable => e.set("code", "UNAVAILABLE"),
            QueryError::Internal(_) => e.set("code", "INTERNAL"),
        })
    }
}

/// Runs a resolver body, turning its [`QueryError`] into a GraphQL error with extensions (the
/// blanket `From<Display>` of async-graphql would drop them).
pub(crate) async fn resolve<T>(
    body: impl Future<Output = Result<T, QueryError>>,
) -> async_graphql::Result<T> {
    body.await.map_err(|e| e.extend())
}
