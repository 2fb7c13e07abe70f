//! Tenant erasure end to end on the embedded platform: `deleteTenant` removes every row of one
//! tenant from every store — down to the bytes of the SQLite files — leaves the other tenant's
//! totals exact, and keeps the audit record of the erasure.

mod support;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use support::embedded::{Embedded, amount};

/// Written only into the erased tenant's events, to look for in the files afterwards.
const MARKER: &str = "arn:aws:rds:eu-west-1:123456789012:db/acme-erasure-marker";
const FROM: &str = "2026-03-01T00:00:00Z";
const TO: &str = "2026-04-01T00:00:00Z";

fn event(tenant: &str, id: &str, resource: &str, cost: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-02T10:00:00Z",
        "category": "database", "provider": "aws", "service": "rds", "resource": resource,
        "metric": "instance_hours", "quantity": "1", "unit": "hour",
        "cost": {"amount": cost, "currency": "USD"}
    })
}

/// Files under `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .unwrap_or_default()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

async fn raw_graphql(platform: &Embedded, query: &str) -> Value {
    platform
        .client
        .post(format!("{}/graphql", platform.base))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json")
}

const DELETE: &str = "mutation($t:String!,$c:String!){deleteTenant(tenant:$t,confirm:$c){tenant stores{store rows}}}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_tenant_erases_every_row_and_keeps_the_audit_record() {
    let cw = Embedded::start(|_, _| {}).await;
    cw.ingest(&json!([
        event("acme", "a1", MARKER, "10.000000000001"),
        event("acme", "a2", MARKER, "20"),
        event("acme", "a3", MARKER, "30"),
        event("globex", "g1", "db/globex-main", "1.25"),
        event("globex", "g2", "db/globex-main", "0.000000000011"),
    ]))
    .await;
    cw.wait_for_events("acme", FROM, TO, 3).await;
    cw.wait_for_events("globex", FROM, TO, 2).await;
    cw.graphql(
        r#"mutation{createBudget(tenant:"acme",input:{name:"acme monthly",amount:"100",currency:"USD",period:MONTHLY}){id}}"#,
        json!({}),
    )
    .await;
    cw.graphql(
        r#"mutation{addAnnotation(tenant:"acme",day:"2026-03-02",note:"acme migration"){id}}"#,
        json!({}),
    )
    .await;
    let data_dir = cw.path("data");
    assert!(
        !files_containing(&data_dir, MARKER.as_bytes()).is_empty(),
        "the marker was never stored"
    );

    // A mistyped confirmation erases nothing.
    let refused = cw
        .client
        .post(format!("{}/graphql", cw.base))
        .json(&json!({"query": DELETE, "variables": {"t": "acme", "c": "acm"}}))
        .send()
        .await
        .expect("graphql")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "confirm",
        "{refused}"
    );
    assert_eq!(cw.events("acme", FROM, TO).await, 3);

    let erased = cw.graphql(DELETE, json!({"t": "acme", "c": "acme"})).await;
    let stores = erased["data"]["deleteTenant"]["stores"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{erased}"));
    let rows = |name: &str| {
        stores
            .iter()
            .find(|s| s["store"] == name)
            .and_then(|s| s["rows"].as_u64())
            .unwrap_or_else(|| panic!("no {name} in {erased}"))
    };
    assert_eq!(rows("usage events"), 3);
    // 3 idempotency keys + 4 rollup cells (one per granularity) + the tenant entry.
    assert!(rows("cost projections") >= 8, "{erased}");
    assert!(rows("budgets, alerts and rules") >= 1, "{erased}");
    assert_eq!(rows("chart annotations"), 1);

    // Nothing of acme is left to read …
    assert_eq!(cw.events("acme", FROM, TO).await, 0);
    let tenants = cw.graphql("{tenants}", json!({})).await;
    assert_eq!(tenants["data"]["tenants"], json!(["globex"]), "{tenants}");
    let budgets = cw
        .graphql(r#"{budgets(tenant:"acme"){id}}"#, json!({}))
        .await;
    assert_eq!(budgets["data"]["budgets"], json!([]));
    // … nor in the files (deleted rows are not left in free pages or the WAL).
    assert_eq!(
        files_containing(&data_dir, MARKER.as_bytes()),
        Vec::<String>::new(),
        "erased bytes remain on disk"
    );

    // globex is untouched, to the last decimal.
    let globex = cw
        .graphql(
            &format!(r#"{{costSummary(tenant:"globex",range:{{from:"{FROM}",to:"{TO}"}}){{total{{amount}} events}}}}"#),
            json!({}),
        )
        .await;
    assert_eq!(globex["data"]["costSummary"]["events"], 2);
    assert_eq!(
        amount(&globex["data"]["costSummary"]["total"]),
        "1.250000000011".parse::<Decimal>().expect("decimal")
    );

    // The audit log keeps who erased acme, and when.
    let audit = raw_graphql(
        &cw,
        r#"{auditLog(tenant:"acme",limit:1000){action outcome}}"#,
    )
    .await;
    let records = audit["data"]["auditLog"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{audit}"));
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "deleteTenant" && r["outcome"] == "allowed"),
        "{audit}"
    );

    // The tenant id is free again: a new customer with it starts from zero.
    cw.ingest(&json!([event("acme", "new1", "db/new", "5")]))
        .await;
    cw.wait_for_events("acme", FROM, TO, 1).await;
}
