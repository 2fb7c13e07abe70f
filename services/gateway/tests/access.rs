//! The tenant-isolation matrix, generated from the schema and the OpenAPI document: for every
//! root field (query, mutation, subscription) and every REST operation, a caller confined to
//! tenant `acme` asking for tenant `globex` is refused with no data, while the same request for
//! `acme` passes the guard. A field or route added later is covered without editing this file.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use costwatch_domain::access::Principal;
use costwatch_gateway::auth::{Auditor, GatewayAuth};
use costwatch_ports::{AuthError, Authenticator};
use serde_json::{Value, json};

/// Tokens are looked up in a table: this suite tests the gateway's decisions, not JWT
/// verification (that has its own tests in `costwatch-auth` and the end-to-end suite).
struct TableAuth(HashMap<&'static str, Principal>);

#[async_trait]
impl Authenticator for TableAuth {
    async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        self.0
            .get(token)
            .cloned()
            .ok_or_else(|| AuthError::Invalid("unknown token".into()))
    }
}

fn principal(role: &str, tenants: &[&str]) -> Principal {
    let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
    Principal::from_claims(&format!("{role}-user"), role, &tenants, None).expect("claims")
}

fn app() -> axum::Router {
    app_with(Auditor::default())
}

fn app_with(audit: Auditor) -> axum::Router {
    let store = FakeStore::default();
    store.add(fact("acme", "2026-03-02T10:00:00Z", "1.5"));
    store.add(fact("globex", "2026-03-02T10:00:00Z", "777"));
    let updates = FakeUpdates::default();
    let mut state = state(&store, &updates);
    state.auth = GatewayAuth {
        authenticator: Arc::new(TableAuth(HashMap::from([
            ("admin", principal("admin", &[])),
            ("finance", principal("finance", &[])),
            ("acme-admin", principal("tenant-admin", &["acme"])),
            ("acme-viewer", principal("tenant-viewer", &["acme"])),
            ("acme-ingest", principal("ingest", &["acme"])),
        ]))),
        audit,
        sensitive_labels: Arc::default(),
    };
    costwatch_gateway::router(state)
}

/// `(operation type, field, takes a tenant)` of every root field in the SDL.
fn root_fields() -> Vec<(&'static str, String, bool)> {
    let sdl = costwatch_gateway::sdl();
    let mut out = Vec::new();
    for (ty, keyword) in [
        ("Query", "query"),
        ("Mutation", "mutation"),
        ("Subscription", "subscription"),
    ] {
        let start = sdl
            .find(&format!("type {ty} {{"))
            .unwrap_or_else(|| panic!("type {ty} in the SDL"));
        let body = &sdl[start..];
        let body = &body[..body.find("\n}").expect("end of type")];
        let mut in_doc = false;
        for line in body.lines().skip(1) {
            let line = line.trim();
            // Descriptions: `"""` blocks (possibly one line) and `"…"` lines.
            if line.starts_with("\"\"\"") {
                let one_line = line.len() > 3 && line.ends_with("\"\"\"");
                if !one_line {
                    in_doc = !in_doc;
                }
                continue;
            }
            if in_doc || line.starts_with('"') {
                continue;
            }
            // Field lines start with a name followed by `(` or `:`; doc strings do not.
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let rest = &line[name.len()..];
            if name.is_empty() || !(rest.starts_with('(') || rest.starts_with(':')) {
                continue;
            }
            out.push((keyword, name, rest.contains("tenant: String!")));
        }
    }
    out
}

async fn post(app: &axum::Router, token: &str, query: &str) -> (StatusCode, Value) {
    let body = json!({ "query": query }).to_string();
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request");
    call(app, req).await
}

fn codes(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_tenant_field_refuses_another_tenant_with_no_data() {
    let app = app();
    let fields = root_fields();
    let tenant_fields: Vec<_> = fields.iter().filter(|(_, _, t)| *t).collect();
    assert!(
        tenant_fields.len() >= 30,
        "the SDL parse found only {} tenant fields",
        tenant_fields.len()
    );
    let mut checked = 0;
    for (keyword, field, _) in tenant_fields {
        for token in ["acme-admin", "acme-viewer", "acme-ingest"] {
            // Arguments other than `tenant` do not matter: the guard decides before validation.
            let query = format!("{keyword} {{ {field}(tenant: \"globex\") {{ __typename }} }}");
            let (status, v) = post(&app, token, &query).await;
            assert_eq!(status, StatusCode::OK, "{field} as {token}: {v}");
            assert_eq!(v["data"], Value::Null, "{field} as {token} leaked: {v}");
            assert_eq!(codes(&v), vec!["FORBIDDEN"], "{field} as {token}: {v}");
            assert!(!v.to_string().contains("777"), "{field} as {token}: {v}");
            checked += 1;
            // The same request for the caller's own tenant passes the guard (it may still fail
            // validation for the missing arguments): the refusal above is about the tenant.
            let own = query.replace("globex", "acme");
            let (_, v) = post(&app, token, &own).await;
            let forbidden = codes(&v).contains(&"FORBIDDEN".to_string());
            // Platform administration (deleteTenant) is for admins even on their own tenant.
            let administers = keyword == &"mutation"
                && costwatch_gateway::auth::policy::root_field(
                    costwatch_gateway::auth::policy::Root::Mutation,
                    field,
                )
                .is_some_and(|r| r.action == costwatch_domain::access::Action::Administer);
            let role_may = token != "acme-ingest"
                && !(token == "acme-viewer" && keyword == &"mutation")
                && !administers;
            assert_eq!(!forbidden, role_may, "{field} as {token} for acme: {v}");
        }
    }
    println!("{checked} field × role refusals checked");
}

#[tokio::test]
async fn platform_wide_fields_follow_the_role_and_filter_tenants() {
    let app = app();
    for (keyword, field, tenant) in root_fields() {
        if tenant {
            continue;
        }
        let query = format!("{keyword} {{ {field} {{ __typename }} }}");
        let (_, v) = post(&app, "acme-ingest", &query).await;
        assert_eq!(codes(&v), vec!["FORBIDDEN"], "ingest key on {field}: {v}");
        if keyword == "mutation" {
            let (_, v) = post(&app, "finance", &query).await;
            assert_eq!(codes(&v), vec!["FORBIDDEN"], "finance on {field}: {v}");
        }
    }
    let (_, v) = post(&app, "acme-viewer", "{ tenants }").await;
    assert_eq!(v["data"]["tenants"], json!(["acme"]), "{v}");
    let (_, v) = post(&app, "finance", "{ tenants }").await;
    assert_eq!(v["data"]["tenants"], json!(["acme", "globex"]), "{v}");
}

#[tokio::test]
async fn fragments_aliases_and_variables_do_not_hide_a_tenant() {
    let app = app();
    let attempts = [
        "query { a: costSummary(tenant: \"acme\", range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}) { total { amount } } b: costSummary(tenant: \"globex\", range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}) { total { amount } } }",
        "query { ...F } fragment F on Query { costSummary(tenant: \"globex\", range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}) { total { amount } } }",
        "query { ... on Query { costSummary(tenant: \"globex\", range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}) { total { amount } } } }",
    ];
    for q in attempts {
        let (_, v) = post(&app, "acme-viewer", q).await;
        assert_eq!(v["data"], Value::Null, "{q}: {v}");
        assert_eq!(codes(&v), vec!["FORBIDDEN"], "{q}: {v}");
    }
    let body = json!({
        "query": "query($t: String!) { costSummary(tenant: $t, range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}) { total { amount } } }",
        "variables": { "t": "globex" },
    });
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", "Bearer acme-viewer")
        .body(Body::from(body.to_string()))
        .expect("request");
    let (_, v) = call(&app, req).await;
    assert_eq!(codes(&v), vec!["FORBIDDEN"], "{v}");
    // And the caller's own data is served.
    let (_, v) = post(&app, "acme-viewer", &attempts[0].replace("globex", "acme")).await;
    assert_eq!(v["data"]["b"]["total"]["amount"], json!("1.5"), "{v}");
}

#[tokio::test]
async fn missing_or_bad_credentials_get_401_and_no_data() {
    let app = app();
    for auth in [
        None,
        Some("Bearer nope"),
        Some("Basic YWRtaW46YWRtaW4="),
        Some("Bearer "),
    ] {
        let mut req = Request::post("/graphql").header("content-type", "application/json");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let req = req
            .body(Body::from(json!({"query": "{ tenants }"}).to_string()))
            .expect("request");
        let (status, v) = call(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}: {v}");
        assert_eq!(codes(&v), vec!["UNAUTHENTICATED"], "{auth:?}: {v}");
        assert!(v.get("data").is_none(), "{auth:?}: {v}");
    }
    let (status, _) = get(&app, "/api/admin/costs/current?tenant=acme").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The schema document stays public (it holds no data).
    let (status, _) = get(&app, costwatch_gateway::OPENAPI_PATH).await;
    assert_eq!(status, StatusCode::OK);
}

/// Every REST operation in the OpenAPI document, with `tenant=globex`, as acme's callers.
#[tokio::test]
async fn every_rest_operation_refuses_another_tenant() {
    let app = app();
    let doc = costwatch_gateway::openapi::document();
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, ops) in paths {
        let path = path.replace("{id}", "some-id");
        for method in ops.as_object().expect("ops").keys() {
            let takes_tenant = ops[method]["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "tenant"));
            if !takes_tenant {
                continue;
            }
            for token in ["acme-viewer", "acme-admin", "acme-ingest"] {
                let req = Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(format!("{path}?tenant=globex"))
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .expect("request");
                let (status, v) = call(&app, req).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {token}: {v}"
                );
                assert!(!v.to_string().contains("777"), "{method} {path}: {v}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} REST checks");
    println!("{checked} REST operation × role refusals checked");
}

/// The policy table and the schema agree: every root field has a rule, a field is
/// tenant-scoped exactly when it takes a `tenant`, and no rule names a field that is gone.
#[test]
fn the_policy_table_covers_exactly_the_schema() {
    use costwatch_gateway::auth::policy::{Root, root_field};
    let fields = root_fields();
    for (keyword, field, takes_tenant) in &fields {
        let root = match *keyword {
            "query" => Root::Query,
            "mutation" => Root::Mutation,
            _ => Root::Subscription,
        };
        let rule = root_field(root, field)
            .unwrap_or_else(|| panic!("{keyword} {field} has no access rule"));
        assert_eq!(rule.tenant_scoped, *takes_tenant, "{keyword} {field}");
    }
    assert!(root_field(Root::Query, "noSuchField").is_none());
    assert!(
        fields.len() >= 35,
        "only {} root fields parsed",
        fields.len()
    );
}

/// Refusals and changes land in the audit log, which only admins can read over GraphQL.
#[tokio::test]
async fn refusals_are_audited_and_the_log_is_for_admins_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = costwatch_embedded::SqliteAuditStore::open(&dir.path().join("audit.sqlite"))
        .expect("audit store");
    let app = app_with(Auditor(Some(Arc::new(store))));
    let (_, v) = post(
        &app,
        "acme-viewer",
        "{ costSummary(tenant: \"globex\") { events } }",
    )
    .await;
    assert_eq!(codes(&v), vec!["FORBIDDEN"], "{v}");
    for token in ["finance", "acme-admin", "acme-viewer"] {
        let (_, v) = post(&app, token, "{ auditLog { seq } }").await;
        assert_eq!(codes(&v), vec!["FORBIDDEN"], "{token}: {v}");
    }
    let (_, v) = post(
        &app,
        "admin",
        "{ auditLog(limit: 50) { seq actor tenant action outcome reason hash prevHash } auditHead }",
    )
    .await;
    let records = v["data"]["auditLog"].as_array().expect("records").clone();
    let denied = records
        .iter()
        .find(|r| r["actor"] == "tenant-viewer-user" && r["action"] == "costSummary")
        .unwrap_or_else(|| panic!("no record of the refusal: {v}"));
    assert_eq!(denied["outcome"], "denied");
    assert_eq!(denied["tenant"], "globex");
    assert!(
        denied["reason"].as_str().unwrap_or("").contains("globex"),
        "{denied}"
    );
    // The three refused auditLog reads are recorded too, and the head is the last record.
    assert_eq!(records.len(), 4, "{v}");
    let last = records.last().expect("last");
    assert_eq!(
        v["data"]["auditHead"],
        json!(format!(
            "{}:{}",
            last["seq"],
            last["hash"].as_str().unwrap_or("")
        )),
    );
    let (_, v) = post(&app, "admin", "{ auditLog(limit: 0) { seq } }").await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "limit", "{v}");
}

/// Tenant-viewers get resource ARNs masked in every answer; roles with the right see them.
#[tokio::test]
async fn arns_are_masked_for_viewers_only() {
    let store = FakeStore::default();
    store.add(Fact {
        service: "arn:aws:lambda:us-east-1:123456789012:function:orders",
        ..fact("acme", "2026-03-02T10:00:00Z", "3")
    });
    let mut state = state(&store, &FakeUpdates::default());
    state.auth = GatewayAuth {
        authenticator: Arc::new(TableAuth(HashMap::from([
            ("acme-admin", principal("tenant-admin", &["acme"])),
            ("acme-viewer", principal("tenant-viewer", &["acme"])),
        ]))),
        audit: Auditor::default(),
        sensitive_labels: Arc::default(),
    };
    let app = costwatch_gateway::router(state);
    let q = "{ costBreakdown(tenant: \"acme\", range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}, groupBy: [SERVICE]) { keys amount { amount } } }";
    let (_, v) = post(&app, "acme-viewer", q).await;
    assert_eq!(
        v["data"]["costBreakdown"][0]["keys"][0],
        "arn:aws:lambda:us-east-1:********9012:function:**ders",
        "{v}"
    );
    assert_eq!(
        v["data"]["costBreakdown"][0]["amount"]["amount"], "3",
        "{v}"
    );
    assert!(!v.to_string().contains("123456789012"), "{v}");
    let (_, v) = post(&app, "acme-admin", q).await;
    assert_eq!(
        v["data"]["costBreakdown"][0]["keys"][0],
        "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "{v}"
    );

    // REST answers are masked the same way.
    let rest = "/api/admin/costs/history?tenant=acme&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&granularity=day&groupBy=service";
    let get_as = |token: &str| {
        Request::get(rest)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let (status, v) = call(&app, get_as("acme-viewer")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let text = v.to_string();
    assert!(
        text.contains("arn:aws:lambda:us-east-1:********9012"),
        "{v}"
    );
    assert!(
        !text.contains("123456789012"),
        "REST leaked the account: {v}"
    );
    let (status, v) = call(&app, get_as("acme-admin")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v.to_string().contains("123456789012"), "{v}");
}

/// Labels marked sensitive: a tenant-viewer may not group or filter by them (GraphQL or REST);
/// a tenant-admin may, and other labels stay open to the viewer.
#[tokio::test]
async fn sensitive_labels_cannot_be_grouped_or_filtered_by_viewers() {
    let store = FakeStore::default();
    store.add(Fact {
        labels: r#"{"owner":"alice@example.com","team":"checkout"}"#,
        ..fact("acme", "2026-03-02T10:00:00Z", "3")
    });
    let mut state = state(&store, &FakeUpdates::default());
    state.auth = GatewayAuth {
        authenticator: Arc::new(TableAuth(HashMap::from([
            ("acme-admin", principal("tenant-admin", &["acme"])),
            ("acme-viewer", principal("tenant-viewer", &["acme"])),
        ]))),
        audit: Auditor::default(),
        sensitive_labels: Arc::new(costwatch_domain::sensitive_labels::SensitiveLabels::new([
            "owner",
        ])),
    };
    let app = costwatch_gateway::router(state);
    let range = "range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-03T00:00:00Z\"}";
    let by = |key: &str| {
        format!(
            "{{ costBreakdown(tenant: \"acme\", {range}, groupBy: [LABEL], labelKey: \"{key}\") {{ keys }} }}"
        )
    };
    let (_, v) = post(&app, "acme-viewer", &by("owner")).await;
    assert_eq!(codes(&v), vec!["FORBIDDEN"], "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("labelKey"),
        "{v}"
    );
    assert!(!v.to_string().contains("alice"), "{v}");
    let (_, v) = post(&app, "acme-viewer", &by("team")).await;
    assert_eq!(v["data"]["costBreakdown"][0]["keys"][0], "checkout", "{v}");
    let (_, v) = post(&app, "acme-admin", &by("owner")).await;
    assert_eq!(
        v["data"]["costBreakdown"][0]["keys"][0], "alice@example.com",
        "{v}"
    );

    // Filtering by a sensitive value is probing for it: refused too, also through a variable.
    let filtered = format!(
        "query($f: CostFilterInput) {{ costBreakdown(tenant: \"acme\", {range}, groupBy: [SERVICE], filter: $f) {{ keys }} }}"
    );
    let body = json!({"query": filtered, "variables": {"f": {"labels": [{"key": "owner", "value": "alice@example.com"}]}}});
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", "Bearer acme-viewer")
        .body(Body::from(body.to_string()))
        .expect("request");
    let (_, v) = call(&app, req).await;
    assert_eq!(codes(&v), vec!["FORBIDDEN"], "{v}");

    // REST: the same rule on `labelKey`.
    let rest = |key: &str, token: &str| {
        Request::get(format!("/api/admin/costs/history?tenant=acme&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&granularity=day&groupBy=label&labelKey={key}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let (status, v) = call(&app, rest("owner", "acme-viewer")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(!v.to_string().contains("alice"), "{v}");
    let (status, _) = call(&app, rest("team", "acme-viewer")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = call(&app, rest("owner", "acme-admin")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v.to_string().contains("alice@example.com"), "{v}");
}
