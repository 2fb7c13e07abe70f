//! Estimated vs billed through GraphQL and REST: billing data replaces the rate-card estimates of
//! its provider × service × day, both stay visible, and every view agrees on the total.

mod common;

use axum::http::StatusCode;
use common::*;
use costwatch_gateway::router;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SUMMARY: &str = "query($t:String!,$r:TimeRangeInput!){costSummary(tenant:$t,range:$r){total{amount} billed{amount} estimated{amount} replacedEstimate{amount}}}";
const LINES: &str = "query($t:String!,$r:TimeRangeInput!,$b:Boolean){costReconciliation(tenant:$t,range:$r,billedOnly:$b){provider service day estimated{amount} billed{amount} difference{amount} record{amount} isBilled}}";
const BY_SERVICE: &str = "query($t:String!,$r:TimeRangeInput!){costBreakdown(tenant:$t,range:$r,groupBy:[SERVICE]){keys amount{amount}}}";
const MONTHS: &str = "query($t:String!,$r:TimeRangeInput!){costHistory(tenant:$t,range:$r,granularity:MONTH){amount{amount}}}";

fn estimate(ts: &str, service: &'static str, a: &str) -> Fact {
    Fact {
        service,
        billed: false,
        ..fact("acme", ts, a)
    }
}

fn bill(ts: &str, service: &'static str, a: &str) -> Fact {
    Fact {
        service,
        ..fact("acme", ts, a)
    }
}

/// March 2026: ec2 estimated on the 10th and 11th, billed on the 10th only; s3 only estimated;
/// another tenant billed on the 10th (must not touch acme).
fn app() -> axum::Router {
    let store = FakeStore::default();
    store.add(estimate("2026-03-10T08:00:00Z", "ec2", "10.5"));
    store.add(estimate("2026-03-10T20:00:00Z", "ec2", "2.25"));
    store.add(bill("2026-03-10T00:00:00Z", "ec2", "13.00000000001"));
    store.add(estimate("2026-03-11T09:00:00Z", "ec2", "4"));
    store.add(estimate("2026-03-10T09:00:00Z", "s3", "1.5"));
    store.add(Fact {
        service: "ec2",
        ..fact("globex", "2026-03-11T00:00:00Z", "99")
    });
    router(state(&store, &FakeUpdates::default()))
}

fn amount(v: &Value) -> Decimal {
    d(v["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {v}")))
}

fn march() -> Value {
    json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"})
}

#[tokio::test]
async fn the_bill_replaces_the_estimate_of_its_service_and_day() {
    let app = app();
    let v = graphql(&app, SUMMARY, json!({"t": "acme", "r": march()})).await;
    let s = &v["data"]["costSummary"];
    // ec2 10th: billed 13.00000000001 (not 12.75 estimated); ec2 11th: 4; s3: 1.5.
    assert_eq!(amount(&s["total"]), d("18.50000000001"), "{v}");
    assert_eq!(amount(&s["billed"]), d("13.00000000001"));
    assert_eq!(amount(&s["estimated"]), d("5.5"));
    assert_eq!(amount(&s["replacedEstimate"]), d("12.75"));

    // A month read has one scope mixing bill and estimate: it is re-read as days and agrees.
    let m = graphql(&app, MONTHS, json!({"t": "acme", "r": march()})).await;
    let months = m["data"]["costHistory"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(months.len(), 1, "{m}");
    assert_eq!(amount(&months[0]["amount"]), d("18.50000000001"));

    let b = graphql(&app, BY_SERVICE, json!({"t": "acme", "r": march()})).await;
    let groups = b["data"]["costBreakdown"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sum: Decimal = groups.iter().map(|g| amount(&g["amount"])).sum();
    assert_eq!(sum, d("18.50000000001"), "{b}");
}

#[tokio::test]
async fn lines_show_estimate_bill_and_difference_per_day() {
    let app = app();
    let v = graphql(&app, LINES, json!({"t": "acme", "r": march()})).await;
    let lines = v["data"]["costReconciliation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let keys: Vec<(String, String)> = lines
        .iter()
        .map(|l| (l["day"].to_string(), l["service"].to_string()))
        .collect();
    assert_eq!(keys.len(), 3, "{v}");
    let ec2_10 = &lines[0];
    assert_eq!(ec2_10["service"], "ec2");
    assert_eq!(ec2_10["day"], "2026-03-10");
    assert_eq!(amount(&ec2_10["estimated"]), d("12.75"));
    assert_eq!(amount(&ec2_10["billed"]), d("13.00000000001"));
    assert_eq!(amount(&ec2_10["difference"]), d("0.25000000001"));
    assert_eq!(ec2_10["isBilled"], true);
    let s3 = &lines[1];
    assert_eq!(
        (s3["service"].as_str(), s3["isBilled"].as_bool()),
        (Some("s3"), Some(false))
    );
    assert!(s3["difference"].is_null());
    assert_eq!(lines[2]["day"], "2026-03-11");

    let billed = graphql(&app, LINES, json!({"t": "acme", "r": march(), "b": true})).await;
    assert_eq!(
        billed["data"]["costReconciliation"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn rest_serves_the_same_lines_and_names_bad_parameters() {
    let app = app();
    let (status, body) = get(
        &app,
        "/api/admin/costs/reconciliation?tenant=acme&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&billedOnly=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines = body["lines"].as_array().cloned().unwrap_or_default();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(amount(&lines[0]["record"]), d("13.00000000001"));

    let (status, body) = get(
        &app,
        "/api/admin/costs/reconciliation?tenant=acme&from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "range", "{body}");
    let (status, body) = get(
        &app,
        "/api/admin/costs/reconciliation?tenant=acme&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&billedOnly=yes",
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("billedOnly"))
    );
}
