//! The Costwatch gateway: GraphQL (`/graphql`, GraphiQL on GET, subscriptions over
//! `graphql-transport-ws` on `/graphql/ws`), the REST admin API (`/api/admin/costs/*`) and the
//! OpenAPI document (`/api/openapi.json`), all answered by one query layer ([`queries`]) over the
//! [`CostStore`], so GraphQL and REST serve identical numbers.

pub mod auth;
pub mod fx_rates;
pub mod graphql;
pub mod grpc;
pub mod hardening;
pub mod hardening_grpc;
pub mod openapi;
mod openapi_budgets;
pub mod queries;
pub mod reconciliation;
pub mod rest;
pub mod rest_budgets;
pub mod rest_fx;
pub mod views;

use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use costwatch_domain::Currency;
use costwatch_domain::fx::FxRates;
use costwatch_ports::{CostStore, CostUpdates, FxRateStore};
use tower_http::limit::RequestBodyLimitLayer;

use crate::fx_rates::FxRatesApi;
use crate::graphql::CostSchema;
use crate::queries::CostQueries;

pub const GRAPHQL_PATH: &str = "/graphql";
pub const GRAPHQL_WS_PATH: &str = "/graphql/ws";
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// The largest GraphQL request body accepted (a query is text; this is generous).
pub const MAX_GRAPHQL_BODY_BYTES: usize = 256 * 1024;

/// Budgets and alerts: the services behind their queries, mutations and subscriptions.
pub struct Alerting {
    pub budgets: Arc<costwatch_alerting::BudgetService>,
    pub evaluator: Arc<costwatch_alerting::Evaluator>,
    pub stream: Arc<dyn costwatch_ports::AlertStream>,
    /// Woken after a person changes an alert, so the change is published at once.
    pub publisher_wake: Arc<tokio::sync::Notify>,
    /// The currency of recommendations that do not ask for one.
    pub default_currency: Currency,
    /// Delivery status and dead letters of the notifier, when one is configured.
    pub deliveries: Option<Arc<dyn costwatch_ports::DeliveryView>>,
}

impl Alerting {
    /// Re-evaluates the tenant right after a budget change, so a budget created already past a
    /// threshold alerts now rather than at the next sweep.
    pub async fn evaluate_now(&self, tenant: &str) {
        evaluate_now(&self.evaluator, Some(&self.publisher_wake), tenant).await;
    }
}

/// Evaluates one tenant now and wakes the publisher when alerts changed. A failure is only
/// logged: the runner's periodic sweep evaluates the tenant again.
pub(crate) async fn evaluate_now(
    evaluator: &costwatch_alerting::Evaluator,
    publisher_wake: Option<&tokio::sync::Notify>,
    tenant: &str,
) {
    match evaluator.evaluate_tenant(tenant, chrono::Utc::now()).await {
        Ok(changed) if !changed.is_empty() => {
            if let Some(wake) = publisher_wake {
                wake.notify_one();
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(%tenant, error = %e, "evaluation after a budget change failed"),
    }
}

/// Whether the API describes itself. GraphiQL, introspection and field suggestions help people
/// exploring the API, and help an attacker map it just as well: production turns them off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApiMode {
    /// GraphiQL on `GET /graphql`, introspection, "did you mean" suggestions (`costwatch up`).
    #[default]
    Development,
    /// None of those (distributed deployments by default).
    Production,
}

/// What the gateway serves from.
#[derive(Clone)]
pub struct GatewayState {
    /// Budgets and alerts; `None` where the deployment has no alert store.
    pub alerting: Option<Arc<Alerting>>,
    pub store: Arc<dyn CostStore>,
    pub updates: Arc<dyn CostUpdates>,
    /// Reference rates for converting totals into the requested currency.
    pub fx: FxRates,
    /// Dated rates (the rate of the charge day), where the deployment stores them.
    pub fx_rates: Option<Arc<dyn FxRateStore>>,
    /// Notes on days of the cost trends chart, where the deployment stores them.
    pub annotations: Option<Arc<dyn costwatch_ports::AnnotationStore>>,
    /// The currency of answers that do not ask for one.
    pub default_currency: Currency,
    /// Who may call (tokens, API keys) and where refusals and changes are audited.
    pub auth: auth::GatewayAuth,
    /// Every store holding tenant rows, for `deleteTenant`; `None` where erasure is not wired.
    pub erasure: Option<costwatch_ports::TenantErasure>,
    /// Whether GraphiQL, introspection and suggestions are served.
    pub mode: ApiMode,
}

/// The GraphQL schema over `state` (for embedding or executing directly).
pub fn schema(state: &GatewayState) -> CostSchema {
    graphql::schema_from(graphql::SchemaSources {
        queries: cost_queries(state),
        updates: state.updates.clone(),
        alerting: state.alerting.clone(),
        anomalies: None,
        fx: state.fx_rates.clone().map(FxRatesApi::new),
        annotations: state.annotations.clone(),
        erasure: state.erasure.clone(),
        mode: state.mode,
    })
}

fn cost_queries(state: &GatewayState) -> Arc<CostQueries> {
    let q = CostQueries::new(
        state.store.clone(),
        state.fx.clone(),
        state.default_currency,
    );
    Arc::new(match &state.fx_rates {
        Some(rates) => q.with_rates(rates.clone()),
        None => q,
    })
}

/// Every gateway route, with its state applied: ready to merge or serve.
pub fn router(state: GatewayState) -> Router {
    router_with_anomalies(state, None)
}

/// [`router`], also serving the anomaly detector's results when its store is given.
pub fn router_with_anomalies(state: GatewayState, anomalies: Option<graphql::Anomalies>) -> Router {
    let queries = cost_queries(&state);
    let fx = state.fx_rates.clone().map(FxRatesApi::new);
    let schema = graphql::schema_from(graphql::SchemaSources {
        queries: queries.clone(),
        updates: state.updates,
        alerting: state.alerting.clone(),
        anomalies,
        fx: fx.clone(),
        annotations: state.annotations.clone(),
        erasure: state.erasure.clone(),
        mode: state.mode,
    });
    let gate = state.auth.clone();
    let ws = auth::ws::WsState {
        schema: schema.clone(),
        auth: gate.clone(),
    };
    let post = axum::routing::post(graphql_post)
        .layer::<_, std::convert::Infallible>(axum::middleware::from_fn_with_state(
            gate.clone(),
            auth::authenticate,
        ))
        .layer::<_, std::convert::Infallible>(RequestBodyLimitLayer::new(MAX_GRAPHQL_BODY_BYTES));
    let graphql_routes = match state.mode {
        ApiMode::Development => post.get(graphiql),
        ApiMode::Production => post,
    };
    let graphql = Router::new()
        .route(GRAPHQL_PATH, graphql_routes)
        .with_state(GraphqlState {
            schema,
            audit: gate.audit.clone(),
            sensitive_labels: gate.sensitive_labels.clone(),
        })
        .route(GRAPHQL_WS_PATH, get(auth::ws::graphql_ws).with_state(ws));
    let api = Router::new()
        .merge(rest::routes(queries))
        .merge(rest_budgets::routes(state.alerting))
        .merge(rest_fx::routes(fx))
        // Layers run outside-in: authenticate first, then the route policy.
        .route_layer(axum::middleware::from_fn_with_state(
            gate.clone(),
            auth::rest_guard,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            gate,
            auth::authenticate,
        ));
    graphql
        .route(OPENAPI_PATH, get(|| async { Json(openapi::document()) }))
        .merge(api)
}

/// The GraphQL SDL of the schema (checked in at `schemas/graphql/schema.graphql`).
pub fn sdl() -> String {
    graphql::sdl()
}

#[derive(Clone)]
struct GraphqlState {
    schema: CostSchema,
    audit: auth::Auditor,
    sensitive_labels: Arc<costwatch_domain::sensitive_labels::SensitiveLabels>,
}

/// One operation per request (no batches, so the depth and complexity limits bound a request),
/// run as the authenticated caller.
async fn graphql_post(
    State(state): State<GraphqlState>,
    axum::Extension(principal): axum::Extension<costwatch_domain::access::Principal>,
    axum::Extension(source): axum::Extension<auth::RequestSource>,
    req: GraphQLRequest,
) -> GraphQLResponse {
    let req = req
        .into_inner()
        .data(principal)
        .data(source)
        .data(state.audit.clone())
        .data(state.sensitive_labels.clone());
    state.schema.execute(req).await.into()
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint(GRAPHQL_PATH)
            .subscription_endpoint(GRAPHQL_WS_PATH)
            .title("Costwatch GraphQL")
            .finish(),
    )
}
