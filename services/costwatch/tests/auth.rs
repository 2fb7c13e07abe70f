//! Authentication and tenant isolation end to end, on the embedded platform with its default
//! `auth.mode = "local"`: tokens minted by the real `costwatch token` binary, HTTP, ingest, the
//! GraphQL WebSocket close codes, revocation and expiry, gRPC, and the audit records they leave.

mod support;

use std::time::Duration;

use base64::Engine;
use costwatch::{Platform, UpConfig};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Secured {
    platform: Platform,
    base: String,
    data_dir: std::path::PathBuf,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Secured {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data_dir.clone(),
        demo: false,
        ..UpConfig::default()
    };
    assert_eq!(
        cfg.auth.mode,
        costwatch::auth::AuthMode::Local,
        "auth is on by default"
    );
    let platform = Platform::start(cfg).await.expect("platform starts");
    Secured {
        base: format!("http://{}", platform.http_addr),
        platform,
        data_dir,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Secured {
    /// `costwatch token` (the real binary) with this platform's key.
    fn token(&self, role: &str, tenants: &[&str]) -> String {
        let mut args = vec!["token", "--role", role, "--subject", role];
        for t in tenants {
            args.extend(["--tenant", t]);
        }
        let data_dir = self.data_dir.to_string_lossy().to_string();
        args.extend(["--data-dir", &data_dir]);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_costwatch"))
            .args(&args)
            .output()
            .expect("run costwatch token");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    async fn graphql(&self, token: Option<&str>, query: &str) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("graphql");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ingest(&self, token: Option<&str>, events: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/v1/events", self.base))
            .json(&events);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("ingest");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ws(&self, init: Option<Value>) -> Ws {
        let mut req = format!("{}/graphql/ws", self.base.replace("http://", "ws://"))
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect");
        if let Some(payload) = init {
            ws.send(Message::text(
                json!({"type": "connection_init", "payload": payload}).to_string(),
            ))
            .await
            .expect("init");
        }
        ws
    }

    fn audit(&self) -> Vec<String> {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_costwatch"))
            .args(["audit", "list", "--data-dir"])
            .arg(&self.data_dir)
            .output()
            .expect("audit list");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn event(tenant: &str, id: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-02T10:00:00Z",
        "category": "hosting", "provider": "aws", "service": "ec2", "resource": "i-1",
        "metric": "vcpu_hours", "quantity": "1", "unit": "hour",
        "cost": {"amount": "2.5", "currency": "USD"}
    })
}

const SUMMARY: &str = "{costSummary(tenant:\"TENANT\",range:{from:\"2026-03-01T00:00:00Z\",to:\"2026-04-01T00:00:00Z\"}){total{amount} events}}";

fn summary(tenant: &str) -> String {
    SUMMARY.replace("TENANT", tenant)
}

/// The close frame the server ends `ws` with, within `wait`.
async fn close_code(ws: &mut Ws, wait: Duration) -> Option<(u16, String)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.ok()?? {
            Ok(Message::Close(Some(frame))) => {
                return Some((u16::from(frame.code), frame.reason.to_string()));
            }
            Ok(Message::Close(None)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

fn jti(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["jti"].as_str().expect("jti").to_string()
}

#[tokio::test]
async fn tokens_roles_and_tenants_are_enforced_over_http() {
    let s = start().await;
    let admin = s
        .platform
        .login_token
        .clone()
        .expect("a login token in local mode");
    let ingest_acme = s.token("ingest", &["acme"]);
    let viewer_acme = s.token("tenant-viewer", &["acme"]);

    // Ingest: no token → 401; another tenant → 403 naming the event; own tenant → 202.
    let (status, _) = s.ingest(None, json!([event("acme", "e0")])).await;
    assert_eq!(status, 401);
    let (status, body) = s
        .ingest(
            Some(&ingest_acme),
            json!([event("acme", "e1"), event("globex", "e2")]),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["index"], 1, "{body}");
    assert_eq!(body["errors"][0]["field"], "tenant", "{body}");
    let (status, body) = s
        .ingest(Some(&ingest_acme), json!([event("acme", "e1")]))
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, _) = s.ingest(Some(&admin), json!([event("globex", "g1")])).await;
    assert_eq!(status, 202);

    // Queries: the viewer reads acme (once counted) and is refused globex with no data.
    let mut seen = Value::Null;
    for _ in 0..100 {
        let (_, v) = s.graphql(Some(&viewer_acme), &summary("acme")).await;
        if v["data"]["costSummary"]["events"] == 1 {
            seen = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen["data"]["costSummary"]["total"]["amount"], "2.5",
        "{seen}"
    );
    let (status, v) = s.graphql(Some(&viewer_acme), &summary("globex")).await;
    assert_eq!(status, 200);
    assert_eq!(v["data"], Value::Null, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    let (status, _) = s.graphql(None, &summary("acme")).await;
    assert_eq!(status, 401);
    let (status, _) = s.graphql(Some("not.a.token"), &summary("acme")).await;
    assert_eq!(status, 401);
    let (_, v) = s.graphql(Some(&viewer_acme), "{ tenants }").await;
    assert_eq!(v["data"]["tenants"], json!(["acme"]), "{v}");
    let (_, v) = s.graphql(Some(&admin), "{ tenants }").await;
    assert_eq!(v["data"]["tenants"], json!(["acme", "globex"]), "{v}");

    // A viewer may not change anything; an admin may, and both leave audit records.
    let add = "mutation{addAnnotation(tenant:\"acme\",day:\"2026-03-02\",note:\"deploy\"){id}}";
    let (_, v) = s.graphql(Some(&viewer_acme), add).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    let (_, v) = s.graphql(Some(&admin), add).await;
    assert!(v["data"]["addAnnotation"]["id"].is_string(), "{v}");

    // REST follows the same rules.
    let resp = s
        .client
        .get(format!("{}/api/admin/costs/current?tenant=globex", s.base))
        .bearer_auth(&viewer_acme)
        .send()
        .await
        .expect("rest");
    assert_eq!(resp.status().as_u16(), 403);

    let log = s.audit();
    let has = |needle: &[&str]| log.iter().any(|l| needle.iter().all(|n| l.contains(n)));
    assert!(
        has(&["tenant-viewer", "addAnnotation", "denied"]),
        "{log:#?}"
    );
    assert!(has(&["admin", "addAnnotation", "allowed"]), "{log:#?}");
    assert!(has(&["tenant-viewer", "costSummary", "denied"]), "{log:#?}");
    assert!(has(&["anonymous", "denied"]), "{log:#?}");
    // Refused ingests are audited too: the token-less one and the one for another tenant.
    assert!(has(&["anonymous", "ingest", "denied"]), "{log:#?}");
    assert!(
        has(&["ingest", "ingest", "globex", "1 event(s) refused"]),
        "{log:#?}"
    );
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_costwatch"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&s.data_dir)
        .output()
        .expect("audit verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    s.platform.stop().await;
}

#[tokio::test]
async fn websocket_close_codes_revocation_and_tenant_filters() {
    let s = start().await;
    let viewer = s.token("tenant-viewer", &["acme"]);

    // No credential → 4403.
    let mut ws = s.ws(Some(json!({}))).await;
    let (code, _) = close_code(&mut ws, Duration::from_secs(5))
        .await
        .expect("closed");
    assert_eq!(code, 4403);
    // A forged credential → 4403.
    let mut ws = s
        .ws(Some(json!({"authorization": "Bearer abc.def.ghi"})))
        .await;
    let (code, _) = close_code(&mut ws, Duration::from_secs(5))
        .await
        .expect("closed");
    assert_eq!(code, 4403);
    // No connection_init within the timeout → 4408.
    let mut ws = s.ws(None).await;
    let (code, _) = close_code(&mut ws, Duration::from_secs(15))
        .await
        .expect("closed");
    assert_eq!(code, 4408);

    // A good token: its own tenant streams, another tenant is refused with an error message.
    let mut ws = s
        .ws(Some(json!({"authorization": format!("Bearer {viewer}")})))
        .await;
    for (id, tenant) in [("own", "acme"), ("other", "globex")] {
        let q = format!("subscription{{costUpdates(tenant:\"{tenant}\"){{tenant}}}}");
        ws.send(Message::text(
            json!({"id": id, "type": "subscribe", "payload": {"query": q}}).to_string(),
        ))
        .await
        .expect("subscribe");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut refused = None;
    while refused.is_none() {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("an answer to the other-tenant subscription")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = msg {
            // graphql-transport-ws: a refused operation answers `next` with the errors (or
            // `error`), then `complete`.
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["id"] == "other" && (v["type"] == "error" || v["type"] == "next") {
                refused = Some(v);
            }
        }
    }
    let refused = refused.expect("error");
    let errors = if refused["type"] == "next" {
        assert_eq!(refused["payload"]["data"], Value::Null, "{refused}");
        refused["payload"]["errors"].clone()
    } else {
        refused["payload"].clone()
    };
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{refused}");

    // Revoking the token closes the session with 4403 within the revocation check period.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_costwatch"))
        .args(["token", "--revoke", &jti(&viewer), "--data-dir"])
        .arg(&s.data_dir)
        .output()
        .expect("revoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, reason) = close_code(&mut ws, Duration::from_secs(15))
        .await
        .expect("closed");
    assert_eq!(code, 4403);
    assert!(reason.contains("revoked"), "{reason}");
    // And the revoked token is refused over HTTP too.
    let (status, _) = s.graphql(Some(&viewer), &summary("acme")).await;
    assert_eq!(status, 401);
    s.platform.stop().await;
}

#[tokio::test]
async fn an_expiring_token_ends_its_websocket_session() {
    let s = start().await;
    let signer = costwatch_auth::LocalSigner::load_or_create(&s.data_dir).expect("key");
    let short = signer
        .mint(&costwatch_auth::MintRequest {
            subject: "short-lived".into(),
            role: costwatch_domain::access::Role::TenantViewer,
            tenants: vec!["acme".into()],
            ttl: chrono::Duration::seconds(3),
        })
        .expect("mint");
    let mut ws = s
        .ws(Some(json!({"authorization": format!("Bearer {short}")})))
        .await;
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription{costUpdates(tenant:\"acme\"){tenant}}"}}).to_string(),
    ))
    .await
    .expect("subscribe");
    let started = tokio::time::Instant::now();
    let (code, reason) = close_code(&mut ws, Duration::from_secs(10))
        .await
        .expect("closed");
    assert_eq!(code, 4403);
    assert!(reason.contains("expired"), "{reason}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "closed before expiry"
    );
    s.platform.stop().await;
}

#[tokio::test]
async fn auth_none_is_refused_off_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "0.0.0.0:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        auth: costwatch::auth::AuthSettings::disabled(),
        ..UpConfig::default()
    };
    let err = Platform::start(cfg).await.err().expect("refused");
    let text = format!("{err:#}");
    assert!(text.contains("auth.mode"), "{text}");
    assert!(text.contains("http is 0.0.0.0:0"), "{text}");
}

#[tokio::test]
async fn grpc_budget_calls_are_authorized_per_tenant() {
    use costwatch_proto::v1::budget_service_client::BudgetServiceClient;
    let s = start().await;
    let viewer = s.token("tenant-viewer", &["acme"]);
    let mut client = BudgetServiceClient::connect(format!("http://{}", s.platform.grpc_addr))
        .await
        .expect("grpc connect");
    let call = |tenant: &str, token: Option<&str>| {
        let mut req = tonic::Request::new(costwatch_proto::v1::ListBudgetsRequest {
            tenant: tenant.into(),
        });
        if let Some(t) = token {
            req.metadata_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("meta"),
            );
        }
        req
    };
    let err = client
        .list_budgets(call("acme", None))
        .await
        .expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let err = client
        .list_budgets(call("globex", Some(&viewer)))
        .await
        .expect_err("other tenant");
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    client
        .list_budgets(call("acme", Some(&viewer)))
        .await
        .expect("own tenant");
    s.platform.stop().await;
}
