//! Azure Cost Management Query API poller against a local server shaped like the API reference
//! (`properties.columns`/`rows`/`nextLink`, `UsageDate` numbers, Cost Management 429 headers).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use costwatch_providers::azure::{AzureConfig, AzureSource};
use costwatch_providers::http::Token;
use costwatch_providers::{
    CheckpointStore, HttpSink, MemoryCheckpoints, PollError, PollOptions, PollReport,
    SqliteCheckpoints, poll,
};
use serde_json::{Value, json};

const SCOPE: &str = "subscriptions/00000000-0000-0000-0000-000000000001";
const QUERY_PATH: &str =
    "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.CostManagement/query";

/// Rows as Azure sends them: Cost, UsageDate, grouping columns, Currency. Amounts are JSON
/// numbers, some beyond f64 precision, one in exponent form.
fn rows() -> Vec<(u32, String)> {
    vec![
        (20240501, r#"[12.345678901234567891, 20240501, "virtual machines", "rg-web", "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/vm1", "Virtual Machines", "USD"]"#.into()),
        (20240501, r#"[0.1, 20240501, "storage", "rg-data", "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-data/providers/microsoft.storage/storageaccounts/sa1", "Storage", "USD"]"#.into()),
        (20240502, r#"[1.5E-05, 20240502, "bandwidth", "", "", "Bandwidth", "USD"]"#.into()),
        (20240503, r#"[7.2, 20240503, "azure cosmos db", "rg-data", "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-data/providers/microsoft.documentdb/databaseaccounts/db1", "Azure Cosmos DB", "USD"]"#.into()),
        // The open day: partial, must not be sent before it closes.
        (20240504, r#"[3.3, 20240504, "virtual machines", "rg-web", "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/vm1", "Virtual Machines", "USD"]"#.into()),
    ]
}

#[derive(Default)]
struct Mock {
    calls: AtomicUsize,
    throttle_first: bool,
    bodies: Mutex<Vec<Value>>,
    pages: Mutex<Vec<Option<String>>>,
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "application/json")],
        r#"{"error":{"code":"AuthenticationFailed","message":"Authentication failed. The 'Authorization' header is missing or invalid."}}"#,
    )
        .into_response()
}

/// The vendor's 429 answer, for the first request when the mock throttles.
fn throttled() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (
                "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
                "1",
            ),
            ("content-type", "application/json"),
        ],
        r#"{"error":{"code":"429","message":"Too many requests. Please retry."}}"#,
    )
        .into_response()
}

async fn query(
    State(mock): State<Arc<Mock>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    admit!(mock.calls, headers, unauthorized, mock.throttle_first => throttled);
    if params.get("api-version").map(String::as_str) != Some("2023-11-01") {
        return (StatusCode::BAD_REQUEST, "api-version").into_response();
    }
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    mock.bodies.lock().expect("lock").push(body.clone());
    let skip = params.get("$skiptoken").cloned();
    mock.pages.lock().expect("lock").push(skip.clone());
    // Everything the mock holds from the window's first day on (the open day included).
    let from: u32 = body["timePeriod"]["from"]
        .as_str()
        .map(|s| s[..10].replace('-', ""))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let all: Vec<String> = rows()
        .into_iter()
        .filter(|(d, _)| *d >= from)
        .map(|(_, r)| r)
        .collect();
    let (page, next) = match skip.as_deref() {
        None => (
            all.iter().take(2).cloned().collect::<Vec<_>>(),
            // Absolute, on Azure's host: the poller must re-base it on the configured base URL.
            Some(format!(
                "https://management.azure.com{QUERY_PATH}?api-version=2023-11-01&$skiptoken=AQAAAA%3D%3D"
            )),
        ),
        Some(_) => (all.iter().skip(2).cloned().collect(), None),
    };
    let text = format!(
        r#"{{"id":"{QUERY_PATH}/query/q1","name":"q1","type":"Microsoft.CostManagement/query","location":null,"sku":null,"eTag":null,"properties":{{"nextLink":{next},"columns":[{{"name":"Cost","type":"Number"}},{{"name":"UsageDate","type":"Number"}},{{"name":"ServiceName","type":"String"}},{{"name":"ResourceGroupName","type":"String"}},{{"name":"ResourceId","type":"String"}},{{"name":"MeterCategory","type":"String"}},{{"name":"Currency","type":"String"}}],"rows":[{rows}]}}}}"#,
        next = next.map(|n| format!("{n:?}")).unwrap_or("null".into()),
        rows = page.join(","),
    );
    ([("content-type", "application/json")], text).into_response()
}

async fn azure_server(throttle_first: bool) -> (String, Arc<Mock>) {
    let mock = Mock {
        throttle_first,
        ..Default::default()
    };
    serve_mock(mock, Router::new().route(QUERY_PATH, post(query))).await
}

fn source(base: &str, token: &str) -> AzureSource {
    let mut config = AzureConfig::new(SCOPE);
    config.base_url = base.into();
    AzureSource::new(config, Token::new(token), http_config()).expect("source")
}

fn opts(now_day: u32) -> PollOptions {
    poll_options(at(2024, 5, now_day, 10), day(2024, 5, 1))
}

/// A poll of the mock at `base` into the ingest endpoint at `ingest_url`.
async fn poll_into_ingest(
    base: &str,
    ingest_url: &str,
    store: &impl CheckpointStore,
    opts: &PollOptions,
) -> Result<PollReport, PollError> {
    poll(
        &source(base, TOKEN),
        &HttpSink::new(ingest_url),
        store,
        opts,
    )
    .await
}

#[tokio::test]
async fn azure_pages_throttle_and_the_open_day_into_a_real_ingest_endpoint() -> TestResult {
    let (base, mock) = azure_server(true).await;
    let (ingest_url, ingest) = ingest_server().await;
    let dir = tempfile::tempdir()?;
    let store = SqliteCheckpoints::open(&dir.path().join("cp.sqlite"))?;
    let started = Instant::now();
    let report = poll_into_ingest(&base, &ingest_url, &store, &opts(4)).await?;
    let waited = started.elapsed();

    // 429 (qpu-retry-after: 1) then two pages; the 1 s header wait, not the 5 s back-off.
    assert_eq!(mock.calls.load(Ordering::SeqCst), 3);
    assert!(
        waited.as_millis() >= 900 && waited.as_secs() < 4,
        "{waited:?}"
    );
    assert_eq!(
        *mock.pages.lock().expect("lock"),
        vec![None, Some("AQAAAA==".into())]
    );
    let body = mock.bodies.lock().expect("lock")[0].clone();
    assert_eq!(body["type"], "ActualCost");
    assert_eq!(body["timeframe"], "Custom");
    assert_eq!(body["timePeriod"]["from"], "2024-05-01T00:00:00+00:00");
    assert_eq!(body["timePeriod"]["to"], "2024-05-03T23:59:59+00:00");
    assert_eq!(body["dataset"]["granularity"], "Daily");
    assert_eq!(body["dataset"]["aggregation"]["totalCost"]["name"], "Cost");
    assert_eq!(
        body["dataset"]["grouping"].as_array().map(Vec::len),
        Some(4)
    );

    // The four closed-day rows, exactly; the open day deferred.
    assert_eq!(report.sent, 4);
    assert_eq!(report.deferred, 1);
    let stored = ingest.stored();
    assert_eq!(stored.len(), 4);
    assert_eq!(total(&stored), dec("19.645693901234567891"));
    let vm = stored
        .iter()
        .find(|e| e["service"] == "virtual machines")
        .expect("vm event");
    assert_eq!(
        vm["cost"],
        json!({"amount": "12.345678901234567891", "currency": "USD"})
    );
    assert_eq!(vm["timestamp"], "2024-05-01T00:00:00Z");
    assert_eq!(vm["category"], "hosting");
    assert_eq!(vm["subKind"], "compute");
    assert_eq!(vm["provider"], "azure");
    assert_eq!(vm["labels"]["resource_group"], "rg-web");
    let bw = stored
        .iter()
        .find(|e| e["metric"] == "Bandwidth")
        .expect("bw");
    assert_eq!(bw["cost"]["amount"], "0.000015");
    assert_eq!(bw["resource"], "(none)");
    assert!(
        stored
            .iter()
            .all(|e| e["id"].as_str().is_some_and(|i| i.starts_with("azure-")))
    );

    // Only closed days are checkpointed.
    assert_eq!(report.checkpoint, Some(day(2024, 5, 3)));
    assert_eq!(store.get("azure", "acme", SCOPE)?, Some(day(2024, 5, 3)));

    // Next day, from the checkpoint: only 2024-05-04 is polled and sent, now closed.
    let mut next_day = opts(5);
    next_day.backfill_from = None;
    let report = poll_into_ingest(&base, &ingest_url, &store, &next_day).await?;
    assert_eq!(report.sent, 1);
    assert_eq!(report.deferred, 0);
    assert_eq!(report.checkpoint, Some(day(2024, 5, 4)));
    assert_eq!(ingest.events.lock().expect("lock").len(), 5);

    // Up to date: no request at all.
    let calls = mock.calls.load(Ordering::SeqCst);
    let report = poll_into_ingest(&base, &ingest_url, &store, &next_day).await?;
    assert_eq!((report.window, report.sent), (None, 0));
    assert_eq!(mock.calls.load(Ordering::SeqCst), calls);
    Ok(())
}

#[tokio::test]
async fn azure_ids_are_deterministic_and_a_repoll_never_double_counts() -> TestResult {
    let (base, _mock) = azure_server(false).await;
    let (ingest_url, ingest) = ingest_server().await;
    let first = poll_fresh(&source(&base, TOKEN), &opts(4)).await?;
    let second = poll_fresh(&source(&base, TOKEN), &opts(4)).await?;
    assert_eq!(ids(&first), ids(&second));
    assert_eq!(first.len(), 4);

    // Delivered twice to the ingest endpoint: stored once.
    for _ in 0..2 {
        let fresh = MemoryCheckpoints::default();
        poll_into_ingest(&base, &ingest_url, &fresh, &opts(4)).await?;
    }
    let stored = ingest.stored();
    assert_eq!(stored.len(), 4);
    assert_eq!(total(&stored), total(&first));
    Ok(())
}

#[tokio::test]
async fn azure_sink_failure_leaves_the_checkpoint_unchanged() -> TestResult {
    let (base, _mock) = azure_server(false).await;
    let store =
        assert_sink_failure_keeps_the_checkpoint(&source(&base, TOKEN), &opts(4), "azure", SCOPE)
            .await?;

    // Once the sink is back, the same store moves.
    let ok = CollectingSink::default();
    let report = poll(&source(&base, TOKEN), &ok, &store, &opts(4)).await?;
    assert_eq!(report.sent, 4);
    assert_eq!(store.get("azure", "acme", SCOPE)?, Some(day(2024, 5, 3)));
    Ok(())
}

#[tokio::test]
async fn azure_401_is_a_clear_error_without_the_token() -> TestResult {
    let (base, mock) = azure_server(false).await;
    let err = assert_401_without_the_token(
        &source(&base, "wrong-token-value"),
        &opts(4),
        "azure",
        SCOPE,
        "wrong-token-value",
        "Authentication failed",
        &mock.calls,
    )
    .await?;
    // Not even a part of the token.
    assert!(!format!("{err:?}").contains("wrong-token"));
    Ok(())
}
