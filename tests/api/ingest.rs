use costwatch_proto::v1::ingest_service_client::IngestServiceClient;
use costwatch_proto::v1::{IngestRequest, Money, UsageEvent};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::*;

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

#[tokio::test]
async fn http_ingest_is_reflected_exactly_in_graphql_and_rest() {
    let app = spawn_app().await;
    let batch = json!([
        billed("acme", "e1", "0.00000000503"),
        billed("acme", "e2", "12.34567890123"),
        requests("acme", "r1", 1_000_400), // 400 billable requests × 0.0000035 = 0.0014
        billed("globex", "g1", "99"),
    ]);
    let resp = app.post_events(&batch).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.expect("json")["accepted"], 4);
    let expected = d("0.00000000503") + d("12.34567890123") + d("0.0014");
    app.wait_for_total("acme", expected).await;
    app.wait_for_total("globex", d("99")).await;

    // Breakdown by category: the billed hosting and the priced api parts.
    let v = app
        .graphql(
            "{costBreakdown(tenant:\"acme\",range:{from:\"2026-03-01T00:00:00Z\",to:\"2026-04-01T00:00:00Z\"},groupBy:[CATEGORY,SUB_KIND]){keys amount{amount}}}",
            json!({}),
        )
        .await;
    let groups = v["data"]["costBreakdown"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"));
    let find = |k: &str| {
        groups
            .iter()
            .find(|g| g["keys"][0] == k)
            .map(|g| d(g["amount"]["amount"].as_str().unwrap_or("0")))
    };
    assert_eq!(find("hosting"), Some(d("12.34567890626")));
    assert_eq!(find("api"), Some(d("0.0014")));
    assert_eq!(
        groups
            .iter()
            .find(|g| g["keys"][0] == "api")
            .map(|g| g["keys"][1].clone()),
        Some(json!("requests"))
    );

    // REST history serves the same numbers as GraphQL.
    let hist: Value = app
        .client
        .get(format!(
            "{}/api/admin/costs/history?tenant=acme&from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z&granularity=day",
            app.base
        ))
        .send()
        .await
        .expect("rest")
        .json()
        .await
        .expect("json");
    let rest_total: Decimal = hist["points"]
        .as_array()
        .unwrap_or_else(|| panic!("{hist}"))
        .iter()
        .map(|p| d(p["amount"]["amount"].as_str().unwrap_or("0")))
        .sum();
    assert_eq!(rest_total, expected);
}

#[tokio::test]
async fn an_invalid_batch_is_refused_whole_with_every_error() {
    let app = spawn_app().await;
    let mut bad = billed("acme", "e2", "1");
    bad["category"] = json!("compute");
    bad["cost"]["amount"] = json!(1.5);
    let resp = app
        .post_events(&json!([
            billed("acme", "e1", "1"),
            bad,
            requests("acme", "r", 5)
        ]))
        .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let fields: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap_or(99),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(fields.contains(&(1, "category")), "{body}");
    assert!(fields.contains(&(1, "cost.amount")), "{body}");
    assert!(
        errors
            .iter()
            .all(|e| !e["reason"].as_str().unwrap_or("").is_empty())
    );

    // Nothing of the batch was accepted: a later valid event is the only one counted.
    assert_eq!(
        app.post_events(&json!([billed("acme", "ok", "2")]))
            .await
            .status(),
        202
    );
    app.wait_for_total("acme", d("2")).await;
}

#[tokio::test]
async fn an_event_without_cost_or_rate_is_refused_at_ingest() {
    let app = spawn_app().await;
    let mut e = requests("acme", "x", 1);
    e["metric"] = json!("bananas");
    let resp = app.post_events(&json!([e])).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "cost");
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("no rate card entry"),
        "{body}"
    );
}

#[tokio::test]
async fn ndjson_is_accepted_and_duplicates_are_not_counted_twice() {
    let app = spawn_app().await;
    let lines = [billed("acme", "n1", "1.1"), billed("acme", "n2", "2.2")]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for _ in 0..3 {
        let resp = app
            .client
            .post(format!("{}/v1/events", app.base))
            .header("content-type", "application/x-ndjson")
            .body(lines.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 202);
    }
    app.post_events(&json!([billed("acme", "marker", "0.0001")]))
        .await;
    app.wait_for_total("acme", d("3.3001")).await;
}

#[tokio::test]
async fn oversized_requests_get_a_clear_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = costwatch::UpConfig {
        max_batch_events: 3,
        max_body_bytes: 4096,
        ..config(dir.path())
    };
    let app = spawn_with(cfg, dir).await;
    let four: Vec<Value> = (0..4)
        .map(|i| billed("acme", &format!("e{i}"), "1"))
        .collect();
    let resp = app.post_events(&json!(four)).await;
    assert_eq!(resp.status(), 413);
    assert!(
        resp.json::<Value>().await.expect("json")["error"]
            .as_str()
            .unwrap_or("")
            .contains("at most 3")
    );
    let big = json!([{ "id": "x".repeat(8000) }]);
    let resp = app.post_events(&big).await;
    assert_eq!(resp.status(), 413);
    assert!(
        resp.json::<Value>().await.expect("json")["error"]
            .as_str()
            .unwrap_or("")
            .contains("4096 bytes")
    );
}

#[tokio::test]
async fn grpc_ingest_has_the_same_semantics() {
    let app = spawn_app().await;
    let mut client = IngestServiceClient::connect(format!("http://{}", app.platform().grpc_addr))
        .await
        .expect("connect");
    let event = |id: &str, amount: &str| UsageEvent {
        id: id.into(),
        tenant: "initech".into(),
        timestamp: Some(prost_types::Timestamp {
            seconds: 1_773_500_000,
            nanos: 0,
        }),
        category: "database".into(),
        sub_kind: String::new(),
        provider: "gcp".into(),
        service: "cloud-sql".into(),
        resource: "sql/main".into(),
        metric: "storage_gb_hours".into(),
        quantity: "10".into(),
        unit: "GB-hour".into(),
        cost: Some(Money {
            amount: amount.into(),
            currency: "USD".into(),
        }),
        labels: Default::default(),
    };
    let ok = client
        .ingest(IngestRequest {
            events: vec![event("a", "0.00232877"), event("b", "1")],
        })
        .await
        .expect("ingest");
    assert_eq!(ok.into_inner().accepted, 2);
    let err = client
        .ingest(IngestRequest {
            events: vec![event("c", "1"), event("d", "not-money")],
        })
        .await
        .expect_err("invalid");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("cost.amount"), "{}", err.message());
    app.wait_for_total("initech", d("1.00232877")).await;
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let app = spawn_app().await;
    app.post_events(&json!([
        billed("acme", "a", "5"),
        billed("globex", "a", "7")
    ]))
    .await;
    app.wait_for_total("acme", d("5")).await;
    app.wait_for_total("globex", d("7")).await;
    assert_eq!(app.total("nobody", "USD").await, Decimal::ZERO);
    let v = app.graphql("{costSummary(tenant:\"a b\",range:{from:\"2026-01-01T00:00:00Z\",to:\"2026-02-01T00:00:00Z\"}){events}}", json!({})).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("tenant"),
        "{v}"
    );
}

#[tokio::test]
async fn health_and_openapi_are_served() {
    let app = spawn_app().await;
    let h = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(h.status(), 200);
    let doc: Value = app
        .client
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    for path in [
        "/v1/events",
        "/api/admin/costs/current",
        "/api/admin/costs/history",
    ] {
        assert!(doc["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    let page = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Costwatch"));
}

#[tokio::test]
async fn grpc_health_reports_the_ingest_service_serving() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    let app = spawn_app().await;
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", app.platform().grpc_addr))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
    let mut health = HealthClient::new(channel);
    let status = health
        .check(HealthCheckRequest {
            service: "costwatch.v1.IngestService".into(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
}
