//! Shared test helpers: local servers on 127.0.0.1:0, sinks, sums. No traffic leaves the machine.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use costwatch_domain::TenantId;
use costwatch_domain::validate::parse_batch;
use costwatch_providers::http::ClientConfig;
use costwatch_providers::{
    CheckpointStore, MemoryCheckpoints, PollError, PollOptions, Sink, SinkError, Source, poll,
};
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

/// Serves a vendor mock: `router`'s handlers get `mock` as their state.
pub async fn serve_mock<M: Send + Sync + 'static>(
    mock: M,
    router: Router<Arc<M>>,
) -> (String, Arc<M>) {
    let mock = Arc::new(mock);
    (serve(router.with_state(mock.clone())).await, mock)
}

/// The options every vendor test polls with: tenant `acme`, "now" and the first day to poll.
pub fn poll_options(now: DateTime<Utc>, backfill_from: NaiveDate) -> PollOptions {
    let mut o = PollOptions::new(TenantId::parse("acme").expect("tenant"));
    o.now = now;
    o.backfill_from = Some(backfill_from);
    o
}

/// One poll from scratch (no checkpoint) into a fresh sink: the events it sent.
pub async fn poll_fresh<S: Source>(
    source: &S,
    opts: &PollOptions,
) -> Result<Vec<Value>, PollError> {
    let sink = CollectingSink::default();
    poll(source, &sink, &MemoryCheckpoints::default(), opts).await?;
    Ok(sink.taken())
}

/// A poll whose sink refuses everything fails with a sink error and leaves no checkpoint for
/// (`provider`, `acme`, `scope`). Returns the store, for a follow-up poll.
pub async fn assert_sink_failure_keeps_the_checkpoint<S: Source>(
    source: &S,
    opts: &PollOptions,
    provider: &str,
    scope: &str,
) -> Result<MemoryCheckpoints, Box<dyn std::error::Error>> {
    let store = MemoryCheckpoints::default();
    let err = poll(source, &CollectingSink::failing(), &store, opts)
        .await
        .expect_err("the sink refused");
    assert!(matches!(err, PollError::Sink(_)), "{err}");
    assert_eq!(store.get(provider, "acme", scope)?, None);
    Ok(store)
}

/// A poll with a wrong token (`source` was built with `bad_token`): one request, not retried,
/// a `{provider}: … HTTP 401: {vendor message}` error that never shows the token, nothing sent,
/// no checkpoint. Returns the error for vendor-specific checks.
pub async fn assert_401_without_the_token<S: Source>(
    source: &S,
    opts: &PollOptions,
    provider: &str,
    scope: &str,
    bad_token: &str,
    vendor_message: &str,
    calls: &AtomicUsize,
) -> Result<PollError, Box<dyn std::error::Error>> {
    let store = MemoryCheckpoints::default();
    let sink = CollectingSink::default();
    let err = poll(source, &sink, &store, opts).await.expect_err("401");
    let text = err.to_string();
    assert!(
        matches!(err, PollError::Status { status: 401, .. }),
        "{text}"
    );
    assert!(
        text.starts_with(&format!("{provider}:")) && text.contains("HTTP 401"),
        "{text}"
    );
    assert!(text.contains(vendor_message), "{text}");
    assert!(!text.contains(bad_token) && !format!("{err:?}").contains(bad_token));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a 401 is not retried");
    assert!(sink.taken().is_empty());
    assert_eq!(store.get(provider, "acme", scope)?, None);
    Ok(err)
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

/// The start of every vendor mock handler: counts the request in `calls` (tests assert how many
/// were made, e.g. that a 401 is not retried), then returns `unauthorized()` — the vendor's own
/// 401 answer — from the handler unless the request carries the test token. Evaluates to the
/// request's number (0 for the first). With `throttle_first => throttled`, the first request
/// (once authorized) gets `throttled()`, the vendor's 429. A macro because it returns from the
/// handler.
// Not every vendor test uses it (AWS signs with SigV4, no bearer token).
#[allow(unused_macros)]
macro_rules! admit {
    ($calls:expr, $headers:expr, $unauthorized:expr) => {{
        let n = $calls.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
        if !$crate::common::bearer_ok(&$headers) {
            return $unauthorized();
        }
        n
    }};
    ($calls:expr, $headers:expr, $unauthorized:expr, $throttle_first:expr => $throttled:expr) => {{
        let n = admit!($calls, $headers, $unauthorized);
        if $throttle_first && n == 0 {
            return $throttled();
        }
        n
    }};
}
#[allow(unused_imports)]
pub(crate) use admit;

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

impl Ingest {
    /// The events kept (one per tenant and id).
    pub fn stored(&self) -> Vec<Value> {
        self.events
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect()
    }
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
