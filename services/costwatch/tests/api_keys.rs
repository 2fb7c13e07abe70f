//! API keys end to end on the embedded platform (default `auth.mode = "local"`): keys created,
//! listed and revoked by the real `costwatch api-key` binary, used over HTTP next to tokens.

use std::path::{Path, PathBuf};
use std::process::Output;

use costwatch::{Platform, UpConfig};
use serde_json::{Value, json};

fn costwatch(args: &[&str], data_dir: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_costwatch"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run costwatch")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn event(tenant: &str, id: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-02T10:00:00Z",
        "category": "hosting", "provider": "aws", "service": "ec2", "resource": "i-1",
        "metric": "vcpu_hours", "quantity": "1", "unit": "hour",
        "cost": {"amount": "2.5", "currency": "USD"}
    })
}

struct Running {
    platform: Platform,
    base: String,
    data_dir: PathBuf,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn ingest(&self, credential: &str, events: Value) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}/v1/events", self.base))
            .bearer_auth(credential)
            .json(&events)
            .send()
            .await
            .expect("ingest");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn graphql(&self, credential: &str, query: &str) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(credential)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("graphql");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

async fn start() -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data_dir.clone(),
        demo: false,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform starts");
    Running {
        base: format!("http://{}", platform.http_addr),
        platform,
        data_dir,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

/// Every byte of the key store, WAL included (a fresh row may not be checkpointed yet).
fn store_bytes(data_dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in [
        "api_keys.sqlite",
        "api_keys.sqlite-wal",
        "api_keys.sqlite-shm",
    ] {
        bytes.extend(std::fs::read(data_dir.join(name)).unwrap_or_default());
    }
    bytes
}

#[tokio::test]
async fn an_ingest_key_ingests_for_its_tenant_only_until_revoked() {
    let s = start().await;

    let out = costwatch(
        &[
            "api-key",
            "create",
            "--name",
            "acme collector",
            "--role",
            "ingest",
            "--tenant",
            "acme",
        ],
        &s.data_dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_string();
    assert!(key.starts_with("cwk_"), "the key on stdout");
    let (id, secret) = key["cwk_".len()..]
        .split_once('_')
        .expect("cwk_<id>_<secret>");
    assert_eq!(id.len(), 12);
    assert!(text(&out.stderr).contains(id), "the id on stderr");
    assert!(
        !text(&out.stderr).contains(secret),
        "the secret only on stdout"
    );

    // Admin keys and bad tenants are refused with a usage error.
    let out = costwatch(
        &["api-key", "create", "--name", "x", "--role", "admin"],
        &s.data_dir,
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));

    // Ingest for its tenant; refused for another; tokens still work next to keys.
    let (status, body) = s.ingest(&key, json!([event("acme", "k1")])).await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = s.ingest(&key, json!([event("globex", "k2")])).await;
    assert_eq!(status, 403, "{body}");
    let admin = s.platform.login_token.clone().expect("login token");
    let (status, body) = s.ingest(&admin, json!([event("globex", "a1")])).await;
    assert_eq!(status, 202, "{body}");

    // An ingest key reads nothing.
    let (status, v) = s
        .graphql(
            &key,
            "{costSummary(tenant:\"acme\",range:{from:\"2026-03-01T00:00:00Z\",to:\"2026-04-01T00:00:00Z\"}){events}}",
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"], Value::Null, "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");

    // A wrong secret and an unknown id answer alike; a malformed key is 401 too.
    let wrong = format!("cwk_{id}_{}", "A".repeat(43));
    let unknown = format!("cwk_000000000000_{secret}");
    for bad in [wrong.as_str(), unknown.as_str(), "cwk_short"] {
        let (status, body) = s.ingest(bad, json!([event("acme", "x")])).await;
        assert_eq!(status, 401, "{bad}: {body}");
        assert!(!body.to_string().contains(secret), "{body}");
    }

    // The listing shows the use and never the secret.
    let out = costwatch(&["api-key", "list"], &s.data_dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(!listing.contains(secret), "{listing}");
    let row: Vec<&str> = listing
        .lines()
        .find(|l| l.starts_with(id))
        .expect("the key is listed")
        .split('\t')
        .collect();
    assert_eq!(row[1..4], ["acme collector", "ingest", "acme"], "{listing}");
    assert_ne!(row[5], "-", "last used is set: {listing}");
    assert_eq!(row[6], "-", "not revoked: {listing}");

    // The audit log names the key.
    let out = costwatch(&["audit", "list"], &s.data_dir);
    let audit = text(&out.stdout);
    assert!(
        audit
            .lines()
            .any(|l| l.contains(&format!("key:{id}")) && l.contains("denied")),
        "{audit}"
    );

    // Revoked: refused from the next request on.
    let out = costwatch(&["api-key", "revoke", id], &s.data_dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, body) = s.ingest(&key, json!([event("acme", "k3")])).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("revoked"), "{body}");
    let out = costwatch(&["api-key", "list"], &s.data_dir);
    let listing = text(&out.stdout);
    let revoked = listing.lines().find(|l| l.starts_with(id)).expect("listed");
    assert_ne!(revoked.split('\t').nth(6), Some("-"), "{listing}");

    // The key store holds the hash, never the secret.
    let bytes = store_bytes(&s.data_dir);
    assert!(!bytes.is_empty());
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is not in api_keys.sqlite"
    );
    assert!(
        !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
        "the key is not in api_keys.sqlite"
    );

    s.platform.stop().await;
}
