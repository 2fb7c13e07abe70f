//! BigQuery billing-export poller against a local server shaped like the BigQuery REST reference
//! (jobs.query / jobs.getQueryResults: `jobComplete`, `jobReference`, `schema.fields`,
//! `rows: [{f:[{v}]}]`, `pageToken`).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::*;
use costwatch_providers::gcp::{GcpConfig, GcpSource, query_sql};
use costwatch_providers::http::Token;
use costwatch_providers::{CheckpointStore, MemoryCheckpoints, PollOptions, poll};
use serde_json::{Value, json};

const TABLE: &str = "billing-proj.billing.gcp_billing_export_v1_010101_ABCDEF_123456";

#[derive(Default)]
struct Mock {
    calls: AtomicUsize,
    throttle_first: bool,
    requests: Mutex<Vec<String>>,
    bodies: Mutex<Vec<Value>>,
}

fn schema() -> Value {
    let f = |n: &str, t: &str| json!({"name": n, "type": t, "mode": "NULLABLE"});
    json!({"fields": [
        f("usage_day", "STRING"), f("service_id", "STRING"), f("service", "STRING"),
        f("sku_id", "STRING"), f("sku", "STRING"), f("project_id", "STRING"),
        f("currency", "STRING"), f("cost", "STRING"), f("credits", "STRING"),
        f("usage_amount", "STRING"), f("usage_unit", "STRING")
    ]})
}

fn row(cells: [Option<&str>; 11]) -> Value {
    json!({"f": cells.iter().map(|c| json!({"v": c})).collect::<Vec<_>>()})
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "application/json; charset=UTF-8")],
        r#"{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError"}],"status":"UNAUTHENTICATED"}}"#,
    )
        .into_response()
}

/// The vendor's 429 answer, for the first request when the mock throttles.
fn throttled() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "0"), ("content-type", "application/json")],
        r#"{"error":{"code":429,"message":"Exceeded rate limits: too many api requests per user per method for this user_method.","status":"RESOURCE_EXHAUSTED"}}"#,
    )
        .into_response()
}

async fn jobs_query(
    State(mock): State<Arc<Mock>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    admit!(mock.calls, headers, unauthorized, mock.throttle_first => throttled);
    mock.requests
        .lock()
        .expect("lock")
        .push(format!("query {project}"));
    mock.bodies
        .lock()
        .expect("lock")
        .push(serde_json::from_str(&body).unwrap_or(Value::Null));
    // Not complete within timeoutMs: the poller must ask getQueryResults.
    axum::Json(json!({
        "kind": "bigquery#queryResponse",
        "jobReference": {"projectId": project, "jobId": "job_Wm9vYmFy", "location": "US"},
        "jobComplete": false
    }))
    .into_response()
}

async fn get_results(
    State(mock): State<Arc<Mock>>,
    Path((project, job)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    admit!(mock.calls, headers, unauthorized);
    let token = q.get("pageToken").cloned();
    mock.requests.lock().expect("lock").push(format!(
        "results {project} {job} {token:?} {:?}",
        q.get("location")
    ));
    let reference = json!({"projectId": project, "jobId": job, "location": "US"});
    let body = match token.as_deref() {
        None => json!({
            "kind": "bigquery#getQueryResultsResponse",
            "etag": "abc",
            "schema": schema(),
            "jobReference": reference,
            "totalRows": "5",
            "pageToken": "BFOA2ZJTMQAQAAASAUIIBAEAAUNAICAKCAFCBMFOCU======",
            "rows": [
                row([Some("2024-05-01"), Some("6F81-5844-456A"), Some("Compute Engine"), Some("2E27-4F75-95CD"), Some("N1 Predefined Instance Core running in Americas"), Some("my-app"), Some("USD"), Some("10.123456789"), Some("-1.5"), Some("744"), Some("hour")]),
                row([Some("2024-05-01"), Some("95FF-2EF5-5EA1"), Some("Cloud Storage"), Some("E5F0-6A5D-7BAD"), Some("Standard Storage US Multi-region"), Some("my-app"), Some("USD"), Some("0.000000001"), Some("0"), Some("12.5"), Some("gibibyte month")]),
            ],
            "totalBytesProcessed": "1048576",
            "jobComplete": true,
            "cacheHit": false
        }),
        Some(_) => json!({
            "kind": "bigquery#getQueryResultsResponse",
            "etag": "abc",
            "schema": schema(),
            "jobReference": reference,
            "totalRows": "5",
            "rows": [
                row([Some("2024-05-02"), Some("24E6-581D-38E5"), Some("BigQuery"), Some("1145-49C5-6C8C"), Some("Analysis"), Some("my-app"), Some("USD"), Some("3.2"), Some("0"), Some("0.25"), Some("tebibyte")]),
                row([Some("2024-05-03"), Some("6F81-5844-456A"), Some("Compute Engine"), Some("2E27-4F75-95CD"), Some("N1 Predefined Instance Core running in Americas"), None, Some("USD"), Some("2"), Some("0"), None, None]),
                // The open day, partial.
                row([Some("2024-05-04"), Some("6F81-5844-456A"), Some("Compute Engine"), Some("2E27-4F75-95CD"), Some("N1 Predefined Instance Core running in Americas"), Some("my-app"), Some("USD"), Some("4.4"), Some("0"), Some("10"), Some("hour")]),
            ],
            "totalBytesProcessed": "1048576",
            "jobComplete": true,
            "cacheHit": false
        }),
    };
    axum::Json(body).into_response()
}

async fn gcp_server(throttle_first: bool) -> (String, Arc<Mock>) {
    let mock = Mock {
        throttle_first,
        ..Default::default()
    };
    let router = Router::new()
        .route("/bigquery/v2/projects/{project}/queries", post(jobs_query))
        .route(
            "/bigquery/v2/projects/{project}/queries/{job}",
            get(get_results),
        );
    serve_mock(mock, router).await
}

fn source(base: &str, token: &str) -> GcpSource {
    let mut config = GcpConfig::new("billing-proj", TABLE);
    config.base_url = base.into();
    GcpSource::new(config, Token::new(token), http_config()).expect("source")
}

fn opts() -> PollOptions {
    poll_options(at(2024, 5, 4, 10), day(2024, 5, 1))
}

#[tokio::test]
async fn gcp_query_job_pages_throttle_and_the_open_day() -> TestResult {
    let (base, mock) = gcp_server(true).await;
    let store = MemoryCheckpoints::default();
    let sink = CollectingSink::default();
    let started = Instant::now();
    let report = poll(&source(&base, TOKEN), &sink, &store, &opts()).await?;
    assert!(
        started.elapsed().as_secs() < 4,
        "Retry-After: 0 honoured, not the 5 s back-off"
    );
    assert_eq!(
        mock.calls.load(Ordering::SeqCst),
        4,
        "429, query, results, results page 2"
    );
    assert_eq!(
        *mock.requests.lock().expect("lock"),
        vec![
            "query billing-proj".to_string(),
            "results billing-proj job_Wm9vYmFy None Some(\"US\")".into(),
            "results billing-proj job_Wm9vYmFy Some(\"BFOA2ZJTMQAQAAASAUIIBAEAAUNAICAKCAFCBMFOCU======\") Some(\"US\")".into(),
        ]
    );
    let body = mock.bodies.lock().expect("lock")[0].clone();
    assert_eq!(body["useLegacySql"], false);
    assert!(
        body["query"]
            .as_str()
            .is_some_and(|q| q.contains(&format!("`{TABLE}`")))
    );
    assert_eq!(
        body["queryParameters"][0]["parameterValue"]["value"],
        "2024-05-01"
    );
    assert_eq!(
        body["queryParameters"][1]["parameterValue"]["value"],
        "2024-05-03"
    );

    // 4 closed-day rows + 1 credit event; the open day deferred.
    let events = sink.taken();
    assert_eq!((report.sent, report.deferred), (5, 1));
    assert_eq!(total(&events), dec("13.823456790"));
    let credit = events
        .iter()
        .find(|e| e["labels"]["charge_category"] == "credit")
        .expect("credit event");
    assert_eq!(credit["cost"], json!({"amount": "-1.5", "currency": "USD"}));
    let gce = &events[0];
    assert_eq!(gce["cost"]["amount"], "10.123456789");
    assert_eq!(gce["quantity"], "744");
    assert_eq!(gce["unit"], "hour");
    assert_eq!(gce["service"], "Compute Engine");
    assert_eq!(gce["resource"], "my-app");
    assert_eq!(gce["subKind"], "compute");
    assert_eq!(events[2]["cost"]["amount"], "0.000000001");
    assert_eq!(events[3]["category"], "database");
    assert_eq!(events[4]["resource"], "(none)");
    assert_eq!(report.checkpoint, Some(day(2024, 5, 3)));
    assert_eq!(store.get("gcp", "acme", TABLE)?, Some(day(2024, 5, 3)));
    Ok(())
}

#[tokio::test]
async fn gcp_ids_are_deterministic() -> TestResult {
    let (base, _mock) = gcp_server(false).await;
    let a = poll_fresh(&source(&base, TOKEN), &opts()).await?;
    let b = poll_fresh(&source(&base, TOKEN), &opts()).await?;
    assert_eq!(ids(&a), ids(&b));
    let unique: std::collections::BTreeSet<String> = ids(&a).into_iter().collect();
    assert_eq!(unique.len(), 5, "cost and credit events have distinct ids");
    Ok(())
}

#[tokio::test]
async fn gcp_sink_failure_leaves_the_checkpoint_unchanged() -> TestResult {
    let (base, _mock) = gcp_server(false).await;
    assert_sink_failure_keeps_the_checkpoint(&source(&base, TOKEN), &opts(), "gcp", TABLE).await?;
    Ok(())
}

#[tokio::test]
async fn gcp_401_is_a_clear_error_without_the_token() -> TestResult {
    let (base, mock) = gcp_server(false).await;
    assert_401_without_the_token(
        &source(&base, "ya29.wrong"),
        &opts(),
        "gcp",
        TABLE,
        "ya29.wrong",
        "invalid authentication credentials",
        &mock.calls,
    )
    .await?;
    Ok(())
}

#[test]
fn gcp_table_names_cannot_inject_sql() {
    assert!(query_sql(TABLE).is_ok());
    assert!(query_sql("p.d.t` WHERE 1=1 --").is_err());
    assert!(query_sql("").is_err());
}
