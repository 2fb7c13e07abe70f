//! Security in distributed mode, across real processes on Kafka and Cassandra: an API key made
//! with `costwatch api-key create --distributed` is honoured by a collector process (its tenant
//! only), and the refusals land in the CQL audit log that every process shares.

mod support;

use std::process::Stdio;

use costwatch_ports::{AuditQuery, AuditStore};
use serde_json::{Value, json};
use support::distributed::{Stack, wait_healthy};

fn event(tenant: &str, id: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-02T10:00:00Z",
        "category": "hosting", "provider": "aws", "service": "ec2", "resource": "i-1",
        "metric": "vcpu_hours", "quantity": "1", "unit": "hour",
        "cost": {"amount": "2.5", "currency": "USD"}
    })
}

#[tokio::test]
#[ignore = "needs Kafka and a CQL server: make adapters"]
async fn api_keys_and_the_audit_log_span_processes() {
    let mut stack = Stack::migrated();
    // Auth on (the stack defaults to none): a local signing key in the run's data dir.
    stack
        .env
        .push(("COSTWATCH_AUTH_MODE".into(), "local".into()));
    let keyspace = stack
        .env
        .iter()
        .find(|(k, _)| k == "COSTWATCH_KEYSPACE")
        .map(|(_, v)| v.clone())
        .expect("keyspace");

    let created = stack
        .command(&[
            "api-key",
            "create",
            "--name",
            "edge",
            "--role",
            "ingest",
            "--tenant",
            "acme",
            "--distributed",
            "-",
        ])
        .stdout(Stdio::piped())
        .output()
        .expect("api-key create");
    assert!(created.status.success(), "api-key create failed");
    let key = String::from_utf8_lossy(&created.stdout).trim().to_string();
    assert!(key.starts_with("cwk_"), "{key}");

    let _collector = stack.spawn("collector");
    let client = reqwest::Client::new();
    wait_healthy(&client, &stack.collector).await;
    let post = |token: Option<&str>, body: Value| {
        let mut req = client
            .post(format!("{}/v1/events", stack.collector))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            post(Some(&key), json!([event("acme", "a1")]))
                .await
                .expect("post")
        ),
        202
    );
    assert_eq!(
        status(
            post(Some(&key), json!([event("globex", "g1")]))
                .await
                .expect("post")
        ),
        403
    );
    assert_eq!(
        status(
            post(None, json!([event("acme", "a2")]))
                .await
                .expect("post")
        ),
        401
    );

    // The refusals are in the shared CQL audit log, chained.
    let cfg = costwatch::distributed::config::DistributedConfig {
        keyspace,
        cql_nodes: std::env::var("COSTWATCH_CQL_NODES").unwrap_or_else(|_| "127.0.0.1:9042".into()),
        ..Default::default()
    };
    let audit = costwatch_cql::CqlAuditStore::open(&cfg.cql_options().expect("cql options"))
        .await
        .expect("audit store");
    let records = audit
        .records(&AuditQuery {
            tenant: None,
            from_seq: 1,
            limit: 100,
        })
        .await
        .expect("records");
    let lines: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} {}",
                r.actor,
                r.action,
                r.tenant,
                r.outcome.kind()
            )
        })
        .collect();
    assert!(
        records.iter().any(|r| r.actor.starts_with("key:")
            && r.action == "ingest"
            && r.tenant.as_deref() == Some("globex")
            && r.outcome.kind() == "denied"),
        "{lines:#?}"
    );
    assert!(
        records
            .iter()
            .any(|r| r.actor == "anonymous" && r.action == "ingest"),
        "{lines:#?}"
    );
    let verified = costwatch_ports::verify_store(&audit, 100, None)
        .await
        .expect("the chain verifies");
    assert_eq!(verified.records, records.len() as u64);

    // The key's last use is recorded in CQL too.
    let listed = stack
        .command(&["api-key", "list", "--distributed", "-"])
        .stdout(Stdio::piped())
        .output()
        .expect("api-key list");
    let listing = String::from_utf8_lossy(&listed.stdout).to_string();
    let row = listing
        .lines()
        .find(|l| l.contains("\tedge\t"))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(
        !row.split('\t').nth(5).unwrap_or("-").starts_with('-'),
        "{row}"
    );
}
