//! `/api/admin/fx/*`: exchange rates over REST. The ECB import takes the XML file as the body
//! (the full history is ~7 MB, more than a GraphQL request may carry).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use crate::fx_rates::{FxRatesApi, RateInput};
use crate::queries::QueryError;
use crate::rest::{ApiError, Params, params, required};

pub const RATES_PATH: &str = "/api/admin/fx/rates";
pub const ECB_PATH: &str = "/api/admin/fx/ecb";
/// Larger than the ECB full history file (~7 MB in 2026).
pub const MAX_ECB_BODY_BYTES: usize = 32 * 1024 * 1024;

pub fn routes(api: Option<FxRatesApi>) -> Router {
    let Some(api) = api else {
        return Router::new();
    };
    Router::new()
        .route(RATES_PATH, get(list).post(put))
        .route(
            ECB_PATH,
            post(import_ecb).layer(RequestBodyLimitLayer::new(MAX_ECB_BODY_BYTES)),
        )
        .with_state(Arc::new(api))
}

/// `GET /api/admin/fx/rates?from=YYYY-MM-DD&to=YYYY-MM-DD[&currency=C]`.
async fn list(
    State(api): State<Arc<FxRatesApi>>,
    raw: Result<Query<Params>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(raw, &["from", "to", "currency"])?;
    let rates = api
        .list(
            required(&p, "from")?,
            required(&p, "to")?,
            p.get("currency").map(String::as_str),
        )
        .await?;
    Ok(Json(json!({ "rates": rates })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    rates: Vec<RateInput>,
}

/// `POST /api/admin/fx/rates` `{"rates":[{"day","currency","perEur","source"?}]}`: all or none.
async fn put(
    State(api): State<Arc<FxRatesApi>>,
    body: Result<Json<PutBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| QueryError::bad("body", e.body_text()))?;
    let stored = api.put(&body.rates, "manual", Utc::now()).await?;
    Ok(Json(json!({ "stored": stored })).into_response())
}

/// `POST /api/admin/fx/ecb` with an ECB `eurofxref*.xml` document as the body.
async fn import_ecb(State(api): State<Arc<FxRatesApi>>, body: Bytes) -> Result<Response, ApiError> {
    let stored = api.import_ecb(&body, Utc::now()).await?;
    Ok(Json(json!({ "stored": stored })).into_response())
}
