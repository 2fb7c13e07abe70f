//! `costwatch poll digitalocean` end to end: the real binary polls a local server shaped like
//! DigitalOcean's billing API (the official example invoice) into the embedded platform; the
//! tenant's total equals the invoice items, a second poll adds nothing, a wrong token fails
//! without printing it. `costwatch poll aws` the same way against a local Cost Explorer (JSON
//! 1.1), configured from the environment only.

use std::process::{Command, Output};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use costwatch::{Platform, UpConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const EXAMPLE: &str = "/work/shared/data/digitalocean/invoice_items_example.json";
const INVOICE: &str = "22737513-0ea7-4206-8ceb-98a575af7681";
const TOKEN: &str = "dop_v1_local-test-token";

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

fn unauthorized() -> Response {
    let body = json!({"id": "Unauthorized", "message": "Unable to authenticate you"});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// The invoice list (one January 2020 invoice) and its items: the API reference's example, with
/// its paging links removed (this server has one page of items).
async fn vendor() -> String {
    let mut items: Value =
        serde_json::from_str(&std::fs::read_to_string(EXAMPLE).expect("example")).expect("json");
    items["links"] = json!({});
    items["meta"] = json!({"total": 2});
    let app = Router::new()
        .route(
            "/v2/customers/my/invoices",
            get(|headers: HeaderMap| async move {
                if !authorized(&headers) {
                    return unauthorized();
                }
                Json(json!({
                    "invoices": [{"invoice_uuid": INVOICE, "amount": "46.79",
                        "invoice_period": "2020-01", "updated_at": "2020-02-01T09:00:00Z"}],
                    "links": {}, "meta": {"total": 1}
                }))
                .into_response()
            }),
        )
        .route(
            "/v2/customers/my/invoices/{uuid}",
            get(move |headers: HeaderMap| {
                let items = items.clone();
                async move {
                    if !authorized(&headers) {
                        return unauthorized();
                    }
                    Json(items).into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn poll(base: &str, vendor: &str, token: &str, data: &std::path::Path) -> Output {
    let (base, vendor, token, data) = (
        base.to_string(),
        vendor.to_string(),
        token.to_string(),
        data.to_path_buf(),
    );
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_costwatch"))
            .args([
                "poll",
                "digitalocean",
                "--tenant",
                "acme",
                "--from",
                "2020-01-01",
            ])
            .args(["--server", &base])
            .arg("--data-dir")
            .arg(&data)
            .env("COSTWATCH_DIGITALOCEAN_TOKEN", &token)
            .env("COSTWATCH_DIGITALOCEAN_BASE_URL", &vendor)
            .env("COSTWATCH_LOG", "warn")
            .output()
            .expect("run costwatch poll")
    })
    .await
    .expect("join")
}

async fn total(client: &reqwest::Client, base: &str) -> (Decimal, u64) {
    let query = "{costSummary(tenant:\"acme\",range:{from:\"2019-12-01T00:00:00Z\",to:\"2020-03-01T00:00:00Z\"},currency:\"USD\"){total{amount} events}}";
    let v: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json");
    let s = &v["data"]["costSummary"];
    let amount = s["total"]["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    (
        amount.parse().expect("decimal"),
        s["events"].as_u64().unwrap_or(0),
    )
}

/// Waits until the aggregator has counted `events` (it runs asynchronously after ingest).
async fn counted(client: &reqwest::Client, base: &str, events: u64) -> (Decimal, u64) {
    for _ in 0..100 {
        let t = total(client, base).await;
        if t.1 >= events {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    total(client, base).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digitalocean_invoices_are_polled_once_into_the_platform() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        // These suites poll in tight loops; the limiter has its own tests.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform starts");
    let base = format!("http://{}", platform.http_addr);
    let vendor = vendor().await;
    let client = reqwest::Client::new();
    let checkpoints = dir.path().join("poll");

    let out = poll(&base, &vendor, "wrong-token-123", &checkpoints).await;
    assert_eq!(out.status.code(), Some(69), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        !stderr.contains("wrong-token-123"),
        "the token is never printed: {stderr}"
    );

    let out = poll(&base, &vendor, TOKEN, &checkpoints).await;
    assert!(out.status.success(), "{out:?}");
    // The example invoice's two items: 12.34 + 34.45.
    let (amount, events) = counted(&client, &base, 2).await;
    assert_eq!((amount, events), ("46.79".parse().expect("decimal"), 2));

    let out = poll(&base, &vendor, TOKEN, &checkpoints).await;
    assert!(out.status.success(), "{out:?}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        total(&client, &base).await,
        (amount, 2),
        "a second poll adds nothing"
    );
    platform.stop().await;
}

const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A Cost Explorer endpoint: every signed `GetCostAndUsage` gets two services' costs on
/// 2020-01-01 (final, one page).
async fn cost_explorer() -> String {
    let app = Router::new().route(
        "/",
        axum::routing::post(|headers: HeaderMap| async move {
            let signed = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
            let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
            if !signed || target != Some("AWSInsightsIndexService.GetCostAndUsage") {
                let body = r#"{"__type":"UnrecognizedClientException","message":"invalid"}"#;
                return (StatusCode::FORBIDDEN, body).into_response();
            }
            let cost = |a: &str| json!({"UnblendedCost": {"Amount": a, "Unit": "USD"}});
            let answer = json!({"ResultsByTime": [{
                "TimePeriod": {"Start": "2020-01-01", "End": "2020-01-02"}, "Total": {},
                "Groups": [
                    {"Keys": ["Amazon Simple Storage Service"], "Metrics": cost("0.00000012345")},
                    {"Keys": ["AWS Lambda"], "Metrics": cost("12.5")}
                ],
                "Estimated": false
            }]});
            (
                [("content-type", "application/x-amz-json-1.1")],
                answer.to_string(),
            )
                .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn poll_aws(base: &str, endpoint: &str, secret: &str, data: &std::path::Path) -> Output {
    let (base, endpoint, secret, data) = (
        base.to_string(),
        endpoint.to_string(),
        secret.to_string(),
        data.to_path_buf(),
    );
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_costwatch"));
        cmd.args(["poll", "aws", "--tenant", "acme", "--from", "2020-01-01"])
            .args(["--server", &base])
            .arg("--data-dir")
            .arg(&data)
            .env("COSTWATCH_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("COSTWATCH_AWS_ENDPOINT_URL", &endpoint)
            // A leading zero, kept: ids are read as text, not as numbers.
            .env("COSTWATCH_AWS_ACCOUNT", "012345678901")
            .env("COSTWATCH_LOG", "warn");
        if !secret.is_empty() {
            cmd.env("COSTWATCH_AWS_SECRET_ACCESS_KEY", &secret);
        }
        cmd.output().expect("run costwatch poll")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cost_explorer_is_polled_once_into_the_platform() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        // These suites poll in tight loops; the limiter has its own tests.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform starts");
    let base = format!("http://{}", platform.http_addr);
    let endpoint = cost_explorer().await;
    let client = reqwest::Client::new();
    let checkpoints = dir.path().join("poll");

    // No secret: a configuration error naming the variable.
    let out = poll_aws(&base, &endpoint, "", &checkpoints).await;
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("COSTWATCH_AWS_SECRET_ACCESS_KEY"),
        "{stderr}"
    );

    let out = poll_aws(&base, &endpoint, AWS_SECRET, &checkpoints).await;
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("aws 012345678901: polled 2020-01-01..="),
        "{stdout}"
    );
    let printed = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!printed.contains(AWS_SECRET), "the secret is never printed");
    let (amount, events) = counted(&client, &base, 2).await;
    assert_eq!(
        (amount, events),
        ("12.50000012345".parse().expect("decimal"), 2)
    );

    let out = poll_aws(&base, &endpoint, AWS_SECRET, &checkpoints).await;
    assert!(out.status.success(), "{out:?}");
    // `--from` before the checkpoint polls the range again: the same ids, nothing added.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 events sent"),
        "{out:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        total(&client, &base).await,
        (amount, 2),
        "a second poll adds nothing"
    );
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_polls_on_a_schedule_once_per_charge() {
    use costwatch::poll::Vendor;
    use costwatch::poll::schedule::ScheduledPoll;

    let dir = tempfile::tempdir().expect("tempdir");
    let vendor = vendor().await;
    let settings = dir.path().join("poll.toml");
    std::fs::write(
        &settings,
        format!("[digitalocean]\nbase_url = \"{vendor}\"\n"),
    )
    .expect("write settings");
    let token_file = dir.path().join("do-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("write token");
    let entry = ScheduledPoll {
        vendor: Vendor::Digitalocean,
        tenant: "acme".into(),
        config: Some(settings),
        token_file: Some(dir.path().join("missing-token")),
        every_secs: 1,
        from: "2020-01-01".parse().ok(),
    };
    let mut cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        demo: false,
        pollers: vec![entry.clone()],
        auth: costwatch::auth::AuthSettings::disabled(),
        // These suites poll in tight loops; the limiter has its own tests.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    // A poller that cannot authenticate is a configuration problem named before start.
    let problems = cfg.validate().expect_err("missing token file");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("pollers[0] (digitalocean): token_file")),
        "{problems:?}"
    );
    cfg.pollers = vec![ScheduledPoll {
        token_file: Some(token_file),
        ..entry
    }];
    assert_eq!(cfg.validate(), Ok(()));

    let platform = Platform::start(cfg).await.expect("platform starts");
    let base = format!("http://{}", platform.http_addr);
    let client = reqwest::Client::new();
    let (amount, events) = counted(&client, &base, 2).await;
    assert_eq!((amount, events), ("46.79".parse().expect("decimal"), 2));
    // Several more ticks: the checkpoint (and the ids) keep the total where it is.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(total(&client, &base).await, (amount, 2));
    assert!(
        dir.path().join("data/poll-checkpoints.sqlite").is_file(),
        "checkpoints live in the data dir"
    );
    platform.stop().await;
}

const AZ_SECRET: &str = "az~secret-local";
const AZ_QUERY: &str = "/subscriptions/sub-1/providers/Microsoft.CostManagement/query";

/// Entra ID's token endpoint for directory `contoso` and a Cost Management query endpoint that
/// only accepts the token it issued: two services' cost on 2024-05-01.
async fn azure_with_login() -> String {
    let app = Router::new()
        .route(
            "/contoso/oauth2/v2.0/token",
            axum::routing::post(|body: String| async move {
                if !body.contains(&format!("client_secret={}", AZ_SECRET.replace('~', "%7E")))
                    && !body.contains(&format!("client_secret={AZ_SECRET}"))
                {
                    let err = json!({"error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided."});
                    return (StatusCode::UNAUTHORIZED, Json(err)).into_response();
                }
                Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "sp-token"}))
                    .into_response()
            }),
        )
        .route(
            AZ_QUERY,
            axum::routing::post(|headers: HeaderMap| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                if auth != Some("Bearer sp-token") {
                    return (StatusCode::UNAUTHORIZED, "no").into_response();
                }
                let text = r#"{"properties":{"nextLink":null,"columns":[{"name":"Cost","type":"Number"},{"name":"UsageDate","type":"Number"},{"name":"ServiceName","type":"String"},{"name":"ResourceGroupName","type":"String"},{"name":"ResourceId","type":"String"},{"name":"MeterCategory","type":"String"},{"name":"Currency","type":"String"}],"rows":[[12.5,20240501,"virtual machines","rg","/subscriptions/sub-1/rg/vm1","Virtual Machines","USD"],[0.25,20240501,"storage","rg","/subscriptions/sub-1/rg/sa1","Storage","USD"]]}}"#;
                ([("content-type", "application/json")], text).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn poll_azure(base: &str, vendor: &str, secret: &str) -> Output {
    let (base, vendor, secret) = (base.to_string(), vendor.to_string(), secret.to_string());
    tokio::task::spawn_blocking(move || {
        let data = tempfile::tempdir().expect("tempdir");
        Command::new(env!("CARGO_BIN_EXE_costwatch"))
            .args(["poll", "azure", "--tenant", "acme", "--from", "2024-05-01"])
            .args(["--server", &base])
            .arg("--data-dir")
            .arg(data.path())
            .env_remove("COSTWATCH_AZURE_TOKEN")
            .env("COSTWATCH_AZURE_SCOPE", "subscriptions/sub-1")
            .env("COSTWATCH_AZURE_BASE_URL", &vendor)
            .env("COSTWATCH_AZURE_LOGIN_URL", &vendor)
            .env("COSTWATCH_AZURE_TENANT_ID", "contoso")
            .env("COSTWATCH_AZURE_CLIENT_ID", "app-123")
            .env("COSTWATCH_AZURE_CLIENT_SECRET", &secret)
            .env("COSTWATCH_LOG", "warn")
            .output()
            .expect("run costwatch poll")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azure_service_principal_logs_in_and_polls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        // These suites poll in tight loops; the limiter has its own tests.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform starts");
    let base = format!("http://{}", platform.http_addr);
    let vendor = azure_with_login().await;

    let out = poll_azure(&base, &vendor, "wrong-secret-987").await;
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(
        !stderr.contains("wrong-secret-987"),
        "never printed: {stderr}"
    );

    let out = poll_azure(&base, &vendor, AZ_SECRET).await;
    assert!(out.status.success(), "{out:?}");
    let client = reqwest::Client::new();
    let query = "{costSummary(tenant:\"acme\",range:{from:\"2024-05-01T00:00:00Z\",to:\"2024-06-01T00:00:00Z\"},currency:\"USD\"){total{amount} events}}";
    let mut got = Value::Null;
    for _ in 0..100 {
        got = client
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("graphql")
            .json()
            .await
            .expect("json");
        if got["data"]["costSummary"]["events"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        got["data"]["costSummary"]["total"]["amount"], "12.75",
        "{got}"
    );
    platform.stop().await;
}
