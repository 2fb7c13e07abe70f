//! DigitalOcean invoices poller against a local server shaped like the API reference. The first
//! invoice page is the official example response, read from
//! /work/shared/data/digitalocean/invoice_items_example.json (its `next` link points at
//! api.digitalocean.com: the poller re-bases it on the local server).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::*;
use costwatch_domain::TenantId;
use costwatch_providers::digitalocean::{
    DigitalOceanConfig, DigitalOceanSource, InvoicePage, map_items,
};
use costwatch_providers::http::Token;
use costwatch_providers::{CheckpointStore, MemoryCheckpoints, PollOptions, poll};
use serde_json::{Value, json};

const EXAMPLE: &str = "/work/shared/data/digitalocean/invoice_items_example.json";
/// The invoice of the example (its items are January 2020).
const JAN: &str = "22737513-0ea7-4206-8ceb-98a575af7681";
const DEC: &str = "fdabb512-6faf-443c-ba2e-665452332a9e";

fn example() -> String {
    std::fs::read_to_string(EXAMPLE).expect("the DigitalOcean example file")
}

#[derive(Default)]
struct Mock {
    list_calls: AtomicUsize,
    calls: AtomicUsize,
    throttle_first: bool,
    requests: Mutex<Vec<String>>,
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "application/json")],
        r#"{"id":"Unauthorized","message":"Unable to authenticate you"}"#,
    )
        .into_response()
}

/// The vendor's 429 answer, for the first request when the mock throttles.
fn throttled() -> Response {
    let reset = chrono::Utc::now().timestamp() + 1;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            ("ratelimit-limit", "5000".to_string()),
            ("ratelimit-remaining", "0".to_string()),
            ("ratelimit-reset", reset.to_string()),
            ("content-type", "application/json".to_string()),
        ],
        r#"{"id":"too_many_requests","message":"API Rate limit exceeded."}"#,
    )
        .into_response()
}

async fn list(
    State(mock): State<Arc<Mock>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    mock.list_calls.fetch_add(1, Ordering::SeqCst);
    // The first request of a poll is always a list page, so that is what gets throttled.
    admit!(mock.calls, headers, unauthorized, mock.throttle_first => throttled);
    mock.requests
        .lock()
        .expect("lock")
        .push(format!("list page {:?}", q.get("page")));
    // One invoice a page (per_page=1), both pages with the same preview of the month in progress.
    let page = |p: u32| {
        format!("https://api.digitalocean.com/v2/customers/my/invoices?page={p}&per_page=1")
    };
    let (invoice, pages) = match q.get("page").map(String::as_str) {
        None | Some("1") => (
            json!({"invoice_uuid": JAN, "amount": "52.00", "invoice_period": "2020-01",
                   "updated_at": "2020-02-23T06:31:50Z"}),
            json!({"next": page(2), "last": page(2)}),
        ),
        _ => (
            json!({"invoice_uuid": DEC, "amount": "9.99", "invoice_period": "2019-12",
                   "updated_at": "2020-01-02T06:31:50Z"}),
            json!({"first": page(1), "prev": page(1)}),
        ),
    };
    axum::Json(json!({
        "invoices": [invoice],
        "invoice_preview": {"invoice_uuid": "1afe95e6-0958-4eb0-8d9a-9c5060d3ef03",
            "amount": "34.56", "invoice_period": "2020-02", "updated_at": "2020-02-09T06:31:50Z"},
        "links": {"pages": pages},
        "meta": {"total": 2}
    }))
    .into_response()
}

async fn invoice(
    State(mock): State<Arc<Mock>>,
    Path(uuid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    admit!(mock.calls, headers, unauthorized);
    let page = q.get("page").cloned();
    mock.requests
        .lock()
        .expect("lock")
        .push(format!("{uuid} page {page:?}"));
    let next = |p: u32| {
        format!("https://api.digitalocean.com/v2/customers/my/invoices/{uuid}?page={p}&per_page=2")
    };
    let text = match (uuid.as_str(), page.as_deref()) {
        (JAN, None | Some("1")) => example(),
        (JAN, Some("2")) => json!({
            "invoice_items": [
                {"product": "Droplets", "resource_uuid": "2f0a6c62-6c41-4c3f-9a5d-2a9d1c0b7e11",
                 "group_description": "", "description": "web-1 (s-1vcpu-1gb)", "amount": "5.00",
                 "duration": "744", "duration_unit": "Hours",
                 "start_time": "2020-01-01T00:00:00Z", "end_time": "2020-02-01T00:00:00Z"},
                {"product": "Floating IPs", "description": "Unused Floating IP - 1.1.1.1",
                 "amount": "0.000000000000000001", "duration": "100", "duration_unit": "Hours",
                 "start_time": "2020-01-01T00:00:00Z", "end_time": "2020-01-22T18:14:39Z"}
            ],
            "links": {"pages": {"next": next(3), "last": next(3)}},
            "meta": {"total": 6}
        })
        .to_string(),
        (JAN, Some(_)) => json!({
            "invoice_items": [
                {"product": "Taxes", "description": "STATE SALES TAX (6.25%)", "amount": "0.16",
                 "start_time": "2020-01-01T00:00:00Z", "end_time": "2020-01-31T23:59:59Z"},
                {"product": "Taxes", "description": "STATE SALES TAX (6.25%)", "amount": "0.16",
                 "start_time": "2020-01-01T00:00:00Z", "end_time": "2020-01-31T23:59:59Z"}
            ],
            "links": {"pages": {"first": next(1), "prev": next(2)}},
            "meta": {"total": 6}
        })
        .to_string(),
        (DEC, _) => json!({
            "invoice_items": [
                {"product": "Managed Databases", "resource_uuid": "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30",
                 "group_description": "db-pg", "description": "db-s-1vcpu-1gb", "amount": "15.01",
                 "duration": "744", "duration_unit": "Hours",
                 "start_time": "2019-12-01T00:00:00Z", "end_time": "2020-01-01T00:00:00Z"}
            ],
            "links": {},
            "meta": {"total": 1}
        })
        .to_string(),
        _ => return (StatusCode::NOT_FOUND, r#"{"id":"not_found","message":"The resource you were accessing could not be found."}"#).into_response(),
    };
    ([("content-type", "application/json")], text).into_response()
}

async fn do_server(throttle_first: bool) -> (String, Arc<Mock>) {
    let mock = Mock {
        throttle_first,
        ..Default::default()
    };
    let router = Router::new()
        .route("/v2/customers/my/invoices", get(list))
        .route("/v2/customers/my/invoices/{uuid}", get(invoice));
    serve_mock(mock, router).await
}

fn source(base: &str, token: &str) -> DigitalOceanSource {
    let config = DigitalOceanConfig {
        base_url: base.into(),
        ..Default::default()
    };
    DigitalOceanSource::new(config, Token::new(token), http_config()).expect("source")
}

fn opts(now: chrono::DateTime<chrono::Utc>) -> PollOptions {
    poll_options(now, day(2019, 12, 1))
}

#[tokio::test]
async fn digitalocean_invoices_pages_throttle_and_preview() -> TestResult {
    let (base, mock) = do_server(true).await;
    let store = MemoryCheckpoints::default();
    let sink = CollectingSink::default();
    let started = Instant::now();
    let report = poll(
        &source(&base, TOKEN),
        &sink,
        &store,
        &opts(at(2020, 2, 10, 9)),
    )
    .await?;
    // Waited for ratelimit-reset (≤ 1 s), not the 5 s back-off.
    assert!(started.elapsed().as_secs() < 4, "{:?}", started.elapsed());
    assert_eq!(
        mock.list_calls.load(Ordering::SeqCst),
        3,
        "429, page 1, page 2"
    );
    assert_eq!(
        *mock.requests.lock().expect("lock"),
        vec![
            "list page None".to_string(),
            "list page Some(\"2\")".into(),
            format!("{DEC} page None"),
            format!("{JAN} page None"),
            format!("{JAN} page Some(\"2\")"),
            format!("{JAN} page Some(\"3\")"),
        ]
    );

    let events = sink.taken();
    // 1 (December) + 2 (the example) + 2 + 2; the preview (February) is not final: not sent.
    assert_eq!(report.sent, 7);
    assert_eq!(events.len(), 7);
    assert_eq!(total(&events), dec("67.120000000000000001"));
    let jan: Vec<&Value> = events
        .iter()
        .filter(|e| e["labels"]["invoice_uuid"] == JAN)
        .collect();
    let jan_total: rust_decimal::Decimal = jan.iter().map(|e| amount(e)).sum();
    assert_eq!(jan_total, dec("52.110000000000000001"));

    // The example's items, as served.
    let doks = &events[1];
    assert_eq!(doks["service"], "Kubernetes Clusters");
    assert_eq!(doks["resource"], "711157cb-37c8-4817-b371-44fa3504a39c");
    assert_eq!(doks["cost"], json!({"amount": "12.34", "currency": "USD"}));
    assert_eq!(doks["quantity"], "744");
    assert_eq!(doks["unit"], "Hours");
    assert_eq!(doks["timestamp"], "2020-01-01T00:00:00Z");
    assert_eq!(doks["category"], "hosting");
    assert_eq!(doks["labels"]["group_description"], "my-doks-cluster");
    assert_eq!(doks["labels"]["billing_period"], "2020-01-01");
    let spaces = &events[2];
    assert_eq!(spaces["service"], "Spaces Subscription");
    assert_eq!(spaces["cost"]["amount"], "34.45");
    assert_eq!(spaces["subKind"], "storage");
    assert_eq!(events[0]["category"], "database");
    // Two identical tax lines stay two events.
    assert_eq!(ids(&events).windows(2).filter(|w| w[0] == w[1]).count(), 0);

    // Checkpoint: the end of the last invoiced month, not "yesterday".
    assert_eq!(report.checkpoint, Some(day(2020, 1, 31)));
    assert_eq!(
        store.get("digitalocean", "acme", "customers/my")?,
        Some(day(2020, 1, 31))
    );

    // A month later the February invoice is still not issued: nothing sent, checkpoint kept.
    let mut later = opts(at(2020, 3, 2, 9));
    later.backfill_from = None;
    let report = poll(&source(&base, TOKEN), &sink, &store, &later).await?;
    assert_eq!(report.sent, 0);
    assert_eq!(
        store.get("digitalocean", "acme", "customers/my")?,
        Some(day(2020, 1, 31))
    );
    Ok(())
}

#[tokio::test]
async fn digitalocean_ids_are_deterministic_and_survive_a_reissued_invoice() -> TestResult {
    let (base, _mock) = do_server(false).await;
    let now = at(2020, 2, 10, 9);
    let a = poll_fresh(&source(&base, TOKEN), &opts(now)).await?;
    let b = poll_fresh(&source(&base, TOKEN), &opts(now)).await?;
    assert_eq!(ids(&a), ids(&b));

    // The same items under a re-issued invoice (another uuid) keep their ids.
    let page: InvoicePage = serde_json::from_str(&example())?;
    let tenant = TenantId::parse("acme").map_err(|e| e.to_string())?;
    let first = map_items(JAN, "2020-01", &page.invoice_items, &tenant, now)?;
    let reissued = map_items(
        "0c5b3f5e-reissued",
        "2020-01",
        &page.invoice_items,
        &tenant,
        now,
    )?;
    let id = |v: &[(chrono::NaiveDate, Value)]| -> Vec<Value> {
        v.iter().map(|(_, e)| e["id"].clone()).collect()
    };
    assert_eq!(id(&first), id(&reissued));
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|(d, _)| *d == day(2020, 1, 31)));
    Ok(())
}

#[tokio::test]
async fn digitalocean_sink_failure_leaves_the_checkpoint_unchanged() -> TestResult {
    let (base, _mock) = do_server(false).await;
    assert_sink_failure_keeps_the_checkpoint(
        &source(&base, TOKEN),
        &opts(at(2020, 2, 10, 9)),
        "digitalocean",
        "customers/my",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn digitalocean_401_is_a_clear_error_without_the_token() -> TestResult {
    let (base, mock) = do_server(false).await;
    assert_401_without_the_token(
        &source(&base, "dop_v1_wrong"),
        &opts(at(2020, 2, 10, 9)),
        "digitalocean",
        "customers/my",
        "dop_v1_wrong",
        "Unable to authenticate you",
        &mock.calls,
    )
    .await?;
    Ok(())
}
