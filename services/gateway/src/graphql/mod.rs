//! The GraphQL schema: queries over the cost store and live cost updates.

mod inputs;
mod limits;
mod query;
mod subscription;

use std::sync::Arc;

use async_graphql::{EmptyMutation, ErrorExtensions, Schema, SchemaBuilder};
use costwatch_ports::CostUpdates;

pub use inputs::{CostFilterInput, Dimension, Granularity, LabelInput, TimeRangeInput};
pub use limits::{MAX_COMPLEXITY, MAX_DEPTH, MAX_INTROSPECTION_DEPTH};
pub use query::QueryRoot;
pub use subscription::{CostUpdateEvent, SubscriptionRoot, for_tenant};

use crate::queries::{CostQueries, QueryError};

pub type CostSchema = Schema<QueryRoot, EmptyMutation, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, EmptyMutation, SubscriptionRoot> {
    Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot).extension(limits::QueryLimits)
}

/// The schema, serving `queries` and `updates`.
pub fn schema(queries: Arc<CostQueries>, updates: Arc<dyn CostUpdates>) -> CostSchema {
    builder().data(queries).data(updates).finish()
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
