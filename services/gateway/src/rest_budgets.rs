//! The spec's REST endpoints for budgets and alerts, over the same alerting service as GraphQL
//! (same validation, same JSON field names as the GraphQL types).
//!
//! - `GET  /api/admin/costs/budgets?tenant=T` → `{budgets: [Budget]}`
//! - `POST /api/admin/costs/budgets` `{tenant, input: BudgetInput}` → 201 `Budget`
//! - `PUT  /api/admin/costs/budgets/{id}` `{tenant, input}` → `Budget`
//! - `DELETE /api/admin/costs/budgets/{id}?tenant=T` → 204 or 404
//! - `GET  /api/admin/costs/alerts?tenant=T[&state=TRIGGERED][&limit=N]` → `{alerts: [Alert]}`
//! - `POST /api/admin/costs/alerts` `{tenant, id, action: "acknowledge"|"resolve", by?, note?}`

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::Utc;
use costwatch_alerting::AlertingError;
use serde::Deserialize;
use serde_json::json;

use crate::Alerting;
use crate::graphql::{AlertGql, AlertState, BudgetGql, BudgetInput};

pub const BUDGETS_PATH: &str = "/api/admin/costs/budgets";
pub const ALERTS_PATH: &str = "/api/admin/costs/alerts";

pub fn routes(alerting: Option<Arc<Alerting>>) -> Router {
    Router::new()
        .route(BUDGETS_PATH, get(list_budgets).post(create_budget))
        .route(
            &format!("{BUDGETS_PATH}/{{id}}"),
            put(update_budget).delete(delete_budget),
        )
        .route(ALERTS_PATH, get(list_alerts).post(change_alert))
        .with_state(alerting)
}

/// 400 `{error, field}`, 404, 409, 503 (details logged), 500.
struct ApiError(AlertingError);

impl From<AlertingError> for ApiError {
    fn from(e: AlertingError) -> Self {
        ApiError(e)
    }
}

fn bad(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError(AlertingError::bad(field, reason))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self.0 {
            AlertingError::BadInput { field, .. } => (
                StatusCode::BAD_REQUEST,
                json!({ "error": self.0.to_string(), "field": field }),
            ),
            AlertingError::NotFound { .. } => (
                StatusCode::NOT_FOUND,
                json!({ "error": self.0.to_string() }),
            ),
            AlertingError::Conflict { .. } => {
                (StatusCode::CONFLICT, json!({ "error": self.0.to_string() }))
            }
            AlertingError::Store(e) => {
                tracing::error!(error = %e, "alert store failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": "budgets and alerts are temporarily unavailable; retry shortly" }),
                )
            }
            AlertingError::Compute(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": self.0.to_string() }),
            ),
        };
        (status, Json(body)).into_response()
    }
}

type Params = BTreeMap<String, String>;

fn not_enabled() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": "budgets and alerts are not enabled in this deployment" })),
    )
        .into_response()
}

fn params(
    raw: Result<Query<Params>, QueryRejection>,
    allowed: &[&str],
) -> Result<Params, ApiError> {
    let Query(p) = raw.map_err(|e| bad("query", e.body_text()))?;
    if let Some(unknown) = p.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(
            unknown,
            format!("unknown parameter; expected {}", allowed.join(", ")),
        ));
    }
    Ok(p)
}

fn tenant(p: &Params) -> Result<String, ApiError> {
    let raw = p
        .get("tenant")
        .ok_or_else(|| bad("tenant", "is required"))?;
    Ok(costwatch_alerting::parse_tenant(raw)?)
}

/// The JSON body, with serde's message (which names the field) on failure.
fn body<T>(raw: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    raw.map(|Json(v)| v).map_err(|e| bad("body", e.body_text()))
}

macro_rules! try_enabled {
    ($a:expr) => {
        match $a.as_ref() {
            Some(a) => a,
            None => return Ok(not_enabled()),
        }
    };
}

async fn list_budgets(
    State(a): State<Option<Arc<Alerting>>>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let a = try_enabled!(a);
    let p = params(raw, &["tenant"])?;
    let views = a.budgets.list(&tenant(&p)?, Utc::now()).await?;
    let budgets: Vec<BudgetGql> = views.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "budgets": budgets })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetBody {
    tenant: String,
    input: BudgetInput,
}

async fn create_budget(
    State(a): State<Option<Arc<Alerting>>>,
    raw: Result<Json<BudgetBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let a = try_enabled!(a);
    let b = body(raw)?;
    let view = a
        .budgets
        .create(&b.tenant, b.input.spec()?, Utc::now())
        .await?;
    a.evaluate_now(&view.budget.tenant).await;
    Ok((StatusCode::CREATED, Json(BudgetGql::from(view))).into_response())
}

async fn update_budget(
    State(a): State<Option<Arc<Alerting>>>,
    Path(id): Path<String>,
    raw: Result<Json<BudgetBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let a = try_enabled!(a);
    let b = body(raw)?;
    let view = a
        .budgets
        .update(&b.tenant, &id, b.input.spec()?, Utc::now())
        .await?;
    a.evaluate_now(&view.budget.tenant).await;
    Ok(Json(BudgetGql::from(view)).into_response())
}

async fn delete_budget(
    State(a): State<Option<Arc<Alerting>>>,
    Path(id): Path<String>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let a = try_enabled!(a);
    let p = params(raw, &["tenant"])?;
    let tenant = tenant(&p)?;
    if !a.budgets.delete(&tenant, &id).await? {
        return Err(ApiError(AlertingError::NotFound { what: "budget", id }));
    }
    a.evaluate_now(&tenant).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_alerts(
    State(a): State<Option<Arc<Alerting>>>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let a = try_enabled!(a);
    let p = params(raw, &["tenant", "state", "limit"])?;
    let tenant = tenant(&p)?;
    let state = p
        .get("state")
        // The same names as the GraphQL enum (its serde form), case-insensitive.
        .map(|s| {
            serde_json::from_value::<AlertState>(json!(s.to_ascii_uppercase()))
                .map(costwatch_domain::alerting::AlertState::from)
                .map_err(|_| bad("state", "must be TRIGGERED, ACKNOWLEDGED or RESOLVED"))
        })
        .transpose()?;
    let limit = match p.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| bad("limit", "must be an integer between 1 and 1000"))?,
    };
    let alerts = a
        .budgets
        .alert_store()
        .alerts(&tenant, state, limit)
        .await
        .map_err(AlertingError::from)?;
    let alerts: Vec<AlertGql> = alerts.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "alerts": alerts })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Acknowledge,
    Resolve,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertBody {
    tenant: String,
    id: String,
    action: Action,
    by: Option<String>,
    note: Option<String>,
}

async fn change_alert(
    State(a): State<Option<Arc<Alerting>>>,
    raw: Result<Json<AlertBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let a = try_enabled!(a);
    let b = body(raw)?;
    let tenant = costwatch_domain::TenantId::parse(&b.tenant).map_err(|r| bad("tenant", r))?;
    let now = Utc::now();
    let alert = match b.action {
        Action::Acknowledge => {
            a.evaluator
                .acknowledge(tenant.as_str(), &b.id, b.by, b.note, now)
                .await?
        }
        Action::Resolve => {
            a.evaluator
                .resolve(tenant.as_str(), &b.id, b.by, b.note, now)
                .await?
        }
    };
    a.publisher_wake.notify_one();
    Ok(Json(AlertGql::from(alert)).into_response())
}
