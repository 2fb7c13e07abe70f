//! AWS Cost Explorer poller (the official SDK) against a local server speaking the JSON 1.1
//! protocol as the API reference documents it: `POST /`, `X-Amz-Target:
//! AWSInsightsIndexService.GetCostAndUsage`, `ResultsByTime[]` with `Groups`, `Estimated` and
//! `NextPageToken`, `{"__type":"LimitExceededException"}` with HTTP 400. The server checks the
//! SigV4 signature itself (computed here independently of the SDK) with the known secret.

#[path = "aws_mock/mod.rs"]
mod aws_mock;
mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_mock::*;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::*;
use costwatch_providers::aws::{AwsConfig, AwsCredentials, AwsSource};
use costwatch_providers::http::ClientConfig;
use costwatch_providers::{
    CheckpointStore, HttpSink, MemoryCheckpoints, PollError, PollOptions, PollReport,
    SqliteCheckpoints, poll,
};
use serde_json::json;

/// Back-off short enough for a test, long enough to show a retry happened.
fn fast_retries() -> ClientConfig {
    ClientConfig {
        backoff: std::time::Duration::from_millis(50),
        ..http_config()
    }
}

fn source(base: &str, secret: &str) -> AwsSource {
    let mut config = AwsConfig::new(ACCOUNT);
    config.endpoint_url = Some(base.into());
    let credentials = AwsCredentials::new(KEY_ID, secret, Some(SESSION.into()));
    AwsSource::new(config, credentials, fast_retries()).expect("source")
}

/// "Now" is 10:00 on May `now_day`: the last closed day is the day before.
fn opts(now_day: u32) -> PollOptions {
    poll_options(at(2024, 5, now_day, 10), may(1))
}

async fn poll_into_ingest(
    base: &str,
    ingest_url: &str,
    store: &impl CheckpointStore,
    opts: &PollOptions,
) -> Result<PollReport, PollError> {
    poll(
        &source(base, SECRET),
        &HttpSink::new(ingest_url),
        store,
        opts,
    )
    .await
}

#[tokio::test]
async fn aws_pages_throttling_and_estimated_days_into_a_real_ingest_endpoint() -> TestResult {
    let (base, mock) = aws_server(true).await;
    let (ingest_url, ingest) = ingest_server().await;
    let dir = tempfile::tempdir()?;
    let store = SqliteCheckpoints::open(&dir.path().join("cp.sqlite"))?;
    let report = poll_into_ingest(&base, &ingest_url, &store, &opts(6)).await?;

    // LimitExceededException once, then 7 groups in pages of 3.
    assert_eq!(mock.calls.load(Ordering::SeqCst), 4);
    let bodies = mock.bodies.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 3);
    assert_eq!(
        bodies[0]["TimePeriod"],
        json!({"Start": "2024-05-01", "End": "2024-05-06"})
    );
    assert_eq!(bodies[0]["Granularity"], "DAILY");
    assert_eq!(bodies[0]["Metrics"], json!(["UnblendedCost"]));
    assert_eq!(
        bodies[0]["GroupBy"],
        json!([{"Type": "DIMENSION", "Key": "SERVICE"}])
    );
    assert_eq!(bodies[0].get("NextPageToken"), None);
    assert_eq!(bodies[1]["NextPageToken"], "AAEAAU-page-3");
    assert_eq!(bodies[2]["NextPageToken"], "AAEAAU-page-6");
    assert_eq!(bodies[2]["TimePeriod"], bodies[0]["TimePeriod"]);
    // Every request was SigV4-signed with the key id (the server checked the signature).
    let auths = mock.authorizations.lock().expect("lock").clone();
    assert!(
        auths
            .iter()
            .all(|a| a.starts_with(&format!("AWS4-HMAC-SHA256 Credential={KEY_ID}/")))
    );

    // Days 1–3 sent exactly; 4 and 5 are estimated: held back, not checkpointed.
    assert_eq!((report.sent, report.deferred), (5, 2));
    assert_eq!(report.checkpoint, Some(may(3)));
    assert_eq!(store.get("aws", "acme", ACCOUNT)?, Some(may(3)));
    let stored = ingest.stored();
    assert_eq!(stored.len(), 5);
    assert_eq!(total(&stored), dec("1244.86789024685"));
    let ec2 = stored
        .iter()
        .find(|e| e["timestamp"] == "2024-05-01T00:00:00Z" && e["subKind"] == "compute")
        .expect("ec2 event");
    assert_eq!(
        ec2["cost"],
        json!({"amount": "0.00000012345", "currency": "USD"})
    );
    assert_eq!(ec2["provider"], "aws");
    assert_eq!(ec2["category"], "hosting");
    assert_eq!(ec2["service"], "Amazon Elastic Compute Cloud - Compute");
    assert_eq!(ec2["metric"], "UnblendedCost");
    assert_eq!(ec2["labels"]["account"], ACCOUNT);
    let cdn = stored.iter().find(|e| e["subKind"] == "cdn").expect("cdn");
    assert_eq!(cdn["cost"]["amount"], "0.1");
    assert!(
        stored
            .iter()
            .all(|e| e["id"].as_str().is_some_and(|i| i.starts_with("aws-")))
    );

    // AWS finalizes day 4: the next poll starts after the checkpoint and sends only day 4.
    mock.estimated.lock().expect("lock").remove(&may(4));
    let mut again = opts(6);
    again.backfill_from = None;
    let report = poll_into_ingest(&base, &ingest_url, &store, &again).await?;
    assert_eq!((report.sent, report.deferred), (1, 1));
    assert_eq!(report.checkpoint, Some(may(4)));
    let last = mock
        .bodies
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["TimePeriod"],
        json!({"Start": "2024-05-04", "End": "2024-05-06"})
    );
    assert_eq!(ingest.stored().len(), 6);

    // Day 5 too; then everything is delivered and a re-poll makes no request at all.
    mock.estimated.lock().expect("lock").clear();
    let report = poll_into_ingest(&base, &ingest_url, &store, &again).await?;
    assert_eq!((report.sent, report.checkpoint), (1, Some(may(5))));
    let calls = mock.calls.load(Ordering::SeqCst);
    let report = poll_into_ingest(&base, &ingest_url, &store, &again).await?;
    assert_eq!((report.window, report.sent), (None, 0));
    assert_eq!(mock.calls.load(Ordering::SeqCst), calls);
    let stored = ingest.stored();
    assert_eq!(stored.len(), ROWS.len());
    assert_eq!(total(&stored), dec("1249.26789024685"));
    Ok(())
}

#[tokio::test]
async fn aws_throttling_gives_up_after_the_configured_attempts() -> TestResult {
    let (base, mock) = serve_mock(
        Mock::new(false),
        Router::new().route(
            "/",
            post(|State(m): State<Arc<Mock>>| async move {
                m.calls.fetch_add(1, Ordering::SeqCst);
                aws_error(
                    StatusCode::BAD_REQUEST,
                    "LimitExceededException",
                    "Rate exceeded",
                )
            }),
        ),
    )
    .await;
    let err = poll_fresh(&source(&base, SECRET), &opts(6))
        .await
        .expect_err("throttled");
    assert_eq!(mock.calls.load(Ordering::SeqCst), 3, "max_attempts");
    let text = err.to_string();
    assert!(
        matches!(err, PollError::Status { status: 400, .. }),
        "{text}"
    );
    assert!(
        text.contains("LimitExceededException: Rate exceeded"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn aws_wrong_secret_is_a_clear_error_and_no_secret_is_ever_logged() -> TestResult {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (base, mock) = aws_server(false).await;
    let wrong = "wrong/secretAccessKeyEXAMPLE000000000000";
    let store = MemoryCheckpoints::default();
    let err = poll(
        &source(&base, wrong),
        &CollectingSink::default(),
        &store,
        &opts(6),
    )
    .await
    .expect_err("403");
    let text = err.to_string();
    assert!(
        matches!(err, PollError::Status { status: 403, .. }),
        "{text}"
    );
    assert!(
        text.starts_with("aws: GetCostAndUsage page 1 returned HTTP 403"),
        "{text}"
    );
    assert!(text.contains("InvalidSignatureException"), "{text}");
    assert_eq!(mock.calls.load(Ordering::SeqCst), 1, "a 403 is not retried");
    assert_eq!(store.get("aws", "acme", ACCOUNT)?, None);

    // A good poll, traced at every level, then neither secret shows anywhere.
    let sent = poll_fresh(&source(&base, SECRET), &opts(6)).await?;
    assert_eq!(sent.len(), 5);
    let logged = String::from_utf8_lossy(&logs.0.lock().expect("lock")).to_string();
    assert!(
        logged.contains("GetCostAndUsage"),
        "the SDK's traces were captured"
    );
    for secret in [wrong, SECRET, SESSION] {
        assert!(!logged.contains(secret), "logged: {secret}");
        assert!(!text.contains(secret) && !format!("{err:?}").contains(secret));
    }
    let debug = format!("{:?}", source(&base, SECRET));
    assert!(
        !debug.contains(SECRET) && !debug.contains(SESSION),
        "{debug}"
    );
    Ok(())
}
