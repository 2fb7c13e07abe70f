//! `POST /v1/events`: a JSON array (or one object) or NDJSON (`application/x-ndjson`).

use std::sync::Arc;
use tracing::Instrument;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use costwatch_domain::validate::FieldError;
use serde_json::{Value, json};

use crate::ingest::{IngestError, Ingestor};

pub fn router(ingestor: Arc<Ingestor>) -> Router {
    let limit = ingestor.limits().max_body_bytes;
    Router::new()
        .route("/v1/events", post(post_events))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(ingestor)
}

fn error(status: StatusCode, message: impl Into<String>, errors: Vec<FieldError>) -> Response {
    (
        status,
        Json(json!({ "error": message.into(), "errors": errors })),
    )
        .into_response()
}

/// Splits the body into event values, reporting unparseable lines as field errors.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Value>, Vec<FieldError>> {
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/x-ndjson") || ct.starts_with("application/jsonl")
        });
    let bad = |index: usize, reason: String| FieldError {
        index,
        field: String::new(),
        reason,
    };
    if ndjson {
        let text = std::str::from_utf8(body)
            .map_err(|e| vec![bad(0, format!("body is not UTF-8: {e}"))])?;
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for (line_no, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str::<Value>(line) {
                Ok(v) => values.push(v),
                Err(e) => errors.push(bad(
                    values.len() + errors.len(),
                    format!("line {}: invalid JSON: {e}", line_no + 1),
                )),
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(values)) => Ok(values),
            Ok(obj @ Value::Object(_)) => Ok(vec![obj]),
            Ok(_) => Err(vec![bad(
                0,
                "body must be a JSON array of events, one event object, or NDJSON".into(),
            )]),
            Err(e) => Err(vec![bad(0, format!("invalid JSON: {e}"))]),
        }
    }
}

/// The peer address, for the audit log.
fn source(
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
) -> String {
    peer.map_or_else(|| "unknown".into(), |p| p.0.0.to_string())
}

/// The W3C trace-context request headers, for parenting the ingest span.
fn trace_fields(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    [
        costwatch_telemetry::TRACEPARENT,
        costwatch_telemetry::TRACESTATE,
    ]
    .into_iter()
    .filter_map(|name| Some((name, headers.get(name)?.to_str().ok()?)))
}

async fn post_events(
    State(ingestor): State<Arc<Ingestor>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let max = ingestor.limits().max_body_bytes;
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body exceeds {max} bytes; split the batch (nothing was accepted)"),
                vec![],
            );
        }
        Err(rejection) => return error(rejection.status(), rejection.body_text(), vec![]),
    };
    let values = match parse_body(&headers, &body) {
        Ok(v) => v,
        Err(errors) => {
            return error(
                StatusCode::BAD_REQUEST,
                "the body could not be parsed; nothing was accepted",
                errors,
            );
        }
    };
    let span = tracing::info_span!("ingest_http", events = values.len());
    costwatch_telemetry::parent_from_fields(&span, trace_fields(&headers));
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    match ingestor
        .ingest_as(authorization, &source(peer), &values, Utc::now())
        .instrument(span)
        .await
    {
        Ok(receipt) => (StatusCode::ACCEPTED, Json(receipt)).into_response(),
        Err(IngestError::Unauthenticated(e)) => {
            error(StatusCode::UNAUTHORIZED, e.to_string(), vec![])
        }
        Err(IngestError::Forbidden(errors)) => error(
            StatusCode::FORBIDDEN,
            IngestError::Forbidden(vec![]).to_string(),
            errors,
        ),
        Err(e @ IngestError::TooManyEvents { .. }) => {
            error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string(), vec![])
        }
        Err(e @ IngestError::Empty) => error(StatusCode::BAD_REQUEST, e.to_string(), vec![]),
        Err(IngestError::Invalid(errors)) => error(
            StatusCode::BAD_REQUEST,
            format!(
                "the batch has {} invalid field(s); nothing was accepted",
                errors.len()
            ),
            errors,
        ),
        Err(e @ IngestError::Bus(_)) => {
            tracing::error!(error = %e, "publish failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "events could not be stored durably; retry the batch (ids make retries safe)",
                vec![],
            )
        }
    }
}
