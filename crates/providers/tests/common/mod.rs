//! Shared test helpers: local servers on 127.0.0.1:0, sinks, sums. No traffic leaves the machine.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use costwatch_domain::validate::parse_batch;
use costwatch_providers::http::ClientConfig;
use costwatch_providers::{Sink, SinkError};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub const TOKEN: &str = "s3cr3t-token-never-printed";

/// Serves `router` on an ephemeral local port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid time")
}

/// Fast timeouts; a 5 s default back-off so a test proves the vendor's header was honoured
/// (a 0–1 s header wait is much shorter than the back-off).
pub fn http_config() -> ClientConfig {
    ClientConfig {
        max_attempts: 3,
        max_wait: Duration::from_secs(10),
        backoff: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
    }
}

pub fn bearer_ok(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

/// Collects what it is sent; fails every call while `fail` is set.
#[derive(Default)]
pub struct CollectingSink {
    pub events: Mutex<Vec<Value>>,
    pub fail: AtomicBool,
}

impl CollectingSink {
    pub fn failing() -> CollectingSink {
        let s = CollectingSink::default();
        s.fail.store(true, Ordering::SeqCst);
        s
    }

    pub fn taken(&self) -> Vec<Value> {
        self.events.lock().expect("lock").clone()
    }
}

impl Sink for CollectingSink {
    async fn send(&self, events: Vec<Value>) -> Result<u64, SinkError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SinkError::Refused("test sink is down".into()));
        }
        let n = events.len() as u64;
        self.events.lock().expect("lock").extend(events);
        Ok(n)
    }
}

/// A local stand-in for the collector's `POST /v1/events`: validates the batch with the
/// collector's own validator, keeps one event per (tenant, id) like the aggregator does.
#[derive(Default)]
pub struct Ingest {
    pub events: Mutex<BTreeMap<(String, String), Value>>,
    pub posts: Mutex<usize>,
}

pub async fn ingest_server() -> (String, Arc<Ingest>) {
    let state = Arc::new(Ingest::default());
    let router = Router::new()
        .route("/v1/events", post(ingest))
        .with_state(state.clone());
    (serve(router).await, state)
}

async fn ingest(State(state): State<Arc<Ingest>>, Json(body): Json<Value>) -> Response {
    *state.posts.lock().expect("lock") += 1;
    let Value::Array(values) = body else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "want an array"})),
        )
            .into_response();
    };
    match parse_batch(&values, Utc::now()) {
        Ok(parsed) => {
            let mut events = state.events.lock().expect("lock");
            for (e, v) in parsed.iter().zip(values) {
                events
                    .entry((e.tenant.to_string(), e.id.clone()))
                    .or_insert(v);
            }
            (
                StatusCode::ACCEPTED,
                Json(json!({"accepted": parsed.len()})),
            )
                .into_response()
        }
        Err(errors) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid", "errors": errors})),
        )
            .into_response(),
    }
}

pub fn amount(event: &Value) -> Decimal {
    event["cost"]["amount"]
        .as_str()
        .expect("cost.amount is a string")
        .parse()
        .expect("decimal")
}

pub fn total(events: &[Value]) -> Decimal {
    events.iter().map(amount).sum()
}

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

pub fn ids(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}
