//! The REST admin API: the same query layer as GraphQL, as JSON over GET.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use costwatch_domain::Granularity;
use costwatch_domain::query::{Filter, month_to_date};
use serde::Serialize;
use serde_json::json;

use crate::queries::{
    CostQueries, DimensionKind, QueryError, dimensions, parse_each, parse_range, parse_tenant,
};
use crate::reconciliation::ReconciliationLine;
use crate::views::{CostPoint, TimeRangeView};

pub const CURRENT_PATH: &str = "/api/admin/costs/current";
pub const HISTORY_PATH: &str = "/api/admin/costs/history";
pub const RECONCILIATION_PATH: &str = "/api/admin/costs/reconciliation";

pub fn routes(queries: Arc<CostQueries>) -> Router {
    Router::new()
        .route(CURRENT_PATH, get(current))
        .route(HISTORY_PATH, get(history))
        .route(RECONCILIATION_PATH, get(reconciliation))
        .with_state(queries)
}

/// 400 `{error, field}` for bad input, 503 when the store is unavailable, 500 otherwise.
pub struct ApiError(pub QueryError);

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.0.to_string();
        match self.0 {
            QueryError::BadInput { field, .. } => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": message, "field": field })),
            )
                .into_response(),
            QueryError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": message })),
            )
                .into_response(),
            QueryError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": message })),
            )
                .into_response(),
        }
    }
}

pub(crate) type Params = BTreeMap<String, String>;

/// The query parameters, refusing unknown ones (a misspelt `tenat` must not silently mean "no
/// tenant").
pub(crate) fn params(
    raw: Result<Query<Params>, QueryRejection>,
    allowed: &[&str],
) -> Result<Params, QueryError> {
    let Query(p) = raw.map_err(|e| QueryError::bad("query", e.body_text()))?;
    if let Some(unknown) = p.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(QueryError::bad(
            unknown.as_str(),
            format!("unknown parameter; expected {}", allowed.join(", ")),
        ));
    }
    Ok(p)
}

pub(crate) fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, QueryError> {
    p.get(name)
        .map(String::as_str)
        .ok_or_else(|| QueryError::bad(name, "is required"))
}

fn timestamp(p: &Params, name: &str) -> Result<DateTime<Utc>, QueryError> {
    let raw = required(p, name)?;
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            QueryError::bad(
                name,
                format!("must be an RFC 3339 timestamp such as 2026-03-01T00:00:00Z ({e})"),
            )
        })
}

/// Comma-separated values; empty items are ignored.
fn list(p: &Params, name: &str) -> Vec<String> {
    p.get(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /api/admin/costs/current?tenant=T[&currency=C]`: the month-to-date summary.
async fn current(
    State(q): State<Arc<CostQueries>>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(raw, &["tenant", "currency"])?;
    let tenant = parse_tenant(required(&p, "tenant")?)?;
    let currency = q.currency(p.get("currency").map(String::as_str))?;
    let now = Utc::now();
    let summary = q
        .summary(&tenant, month_to_date(now), currency, now)
        .await?;
    Ok(Json(summary).into_response())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub tenant: String,
    pub granularity: Granularity,
    pub currency: String,
    pub range: TimeRangeView,
    pub group_by: Vec<String>,
    pub points: Vec<CostPoint>,
}

/// `GET /api/admin/costs/history?tenant&from&to&granularity[&groupBy][&labelKey][&currency]`.
async fn history(
    State(q): State<Arc<CostQueries>>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(
        raw,
        &[
            "tenant",
            "from",
            "to",
            "granularity",
            "groupBy",
            "labelKey",
            "currency",
        ],
    )?;
    let tenant = parse_tenant(required(&p, "tenant")?)?;
    let range = parse_range("to", timestamp(&p, "from")?, timestamp(&p, "to")?)?;
    let granularity: Granularity = required(&p, "granularity")?
        .parse()
        .map_err(|reason: String| QueryError::bad("granularity", reason))?;
    let group_by = list(&p, "groupBy");
    let kinds: Vec<DimensionKind> = parse_each("groupBy", &group_by)?;
    let dims = dimensions(&kinds, p.get("labelKey").map(String::as_str), "labelKey")?;
    let currency = q.currency(p.get("currency").map(String::as_str))?;
    let points = q
        .history(
            &tenant,
            range,
            granularity,
            &dims,
            &Filter::default(),
            currency,
        )
        .await?;
    Ok(Json(History {
        tenant: tenant.to_string(),
        granularity,
        currency: currency.to_string(),
        range: range.into(),
        group_by,
        points,
    })
    .into_response())
}

#[derive(Debug, Serialize)]
pub struct Reconciliation {
    pub tenant: String,
    pub currency: String,
    pub range: TimeRangeView,
    pub lines: Vec<ReconciliationLine>,
}

/// `GET /api/admin/costs/reconciliation?tenant&from&to[&billedOnly=true][&currency]`: estimate
/// against bill per provider × service × day.
async fn reconciliation(
    State(q): State<Arc<CostQueries>>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(raw, &["tenant", "from", "to", "billedOnly", "currency"])?;
    let tenant = parse_tenant(required(&p, "tenant")?)?;
    let range = parse_range("to", timestamp(&p, "from")?, timestamp(&p, "to")?)?;
    let billed_only = match p.get("billedOnly").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(QueryError::bad("billedOnly", "must be true or false").into()),
    };
    let currency = q.currency(p.get("currency").map(String::as_str))?;
    let lines = q
        .reconciliation(&tenant, range, billed_only, currency)
        .await?;
    Ok(Json(Reconciliation {
        tenant: tenant.to_string(),
        currency: currency.to_string(),
        range: range.into(),
        lines,
    })
    .into_response())
}
