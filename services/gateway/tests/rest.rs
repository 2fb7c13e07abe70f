//! REST and the other HTTP routes: same numbers as GraphQL, errors naming the parameter, the
//! OpenAPI document, GraphiQL, and the query limits.

mod common;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use common::*;
use costwatch_domain::Category;
use costwatch_domain::query::month_to_date;
use costwatch_gateway::router;
use serde_json::{Value, json};

fn points(v: &Value) -> Vec<(DateTime<Utc>, Value, Value, Value)> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|p| {
            let bucket = p["bucket"]
                .as_str()
                .and_then(|b| b.parse().ok())
                .unwrap_or_else(|| panic!("bucket of {p}"));
            (
                bucket,
                p["keys"].clone(),
                p["amount"].clone(),
                p["events"].clone(),
            )
        })
        .collect()
}

fn store() -> FakeStore {
    let store = FakeStore::default();
    for (i, ts) in [
        "2026-03-13T23:59:59Z",
        "2026-03-14T00:00:00Z",
        "2026-03-14T15:09:26Z",
        "2026-03-14T15:40:00Z",
        "2026-03-15T00:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        store.add(fact("acme", ts, "0.00000000503"));
        store.add(Fact {
            category: Category::Api,
            provider: "internal",
            ..fact("acme", ts, &format!("0.000{i}"))
        });
        store.add(fact("globex", ts, "99"));
    }
    store
}

#[tokio::test]
async fn rest_history_serves_the_same_amounts_as_graphql() {
    let app = router(state(&store(), &FakeUpdates::default()));
    for (g, group_by, gql_group) in [
        ("hour", "category,provider", "[CATEGORY,PROVIDER]"),
        ("day", "", "[]"),
        ("minute", "subKind", "[SUB_KIND]"),
    ] {
        let uri = format!(
            "/api/admin/costs/history?tenant=acme&from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z&granularity={g}&groupBy={group_by}"
        );
        let (status, rest) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{rest}");
        let q = format!(
            "{{costHistory(tenant:\"acme\",range:{{from:\"2026-03-14T00:00:00Z\",to:\"2026-03-15T00:00:00Z\"}},granularity:{},groupBy:{gql_group}){{bucket keys amount{{amount currency}} events}}}}",
            g.to_uppercase()
        );
        let gql = graphql(&app, &q, json!({})).await;
        let from_rest = points(&rest["points"]);
        assert!(!from_rest.is_empty(), "{rest}");
        assert_eq!(
            from_rest,
            points(&gql["data"]["costHistory"]),
            "granularity {g}"
        );
        assert_eq!(rest["tenant"], "acme");
        assert_eq!(rest["granularity"], g);
    }
    // One day: the three acme facts of the 14th, both categories, exactly.
    let (_, rest) = get(&app, "/api/admin/costs/history?tenant=acme&from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z&granularity=day&currency=USD").await;
    assert_eq!(
        rest["points"],
        json!([{"bucket": "2026-03-14T00:00:00Z", "keys": [], "amount": {"amount": "0.00060001509", "currency": "USD"}, "events": 6}])
    );
}

#[tokio::test]
async fn rest_current_is_the_month_to_date_summary() {
    let store = FakeStore::default();
    let start = month_to_date(Utc::now()).from;
    store.add(fact("acme", &start.to_rfc3339(), "0.00000000503"));
    store.add(Fact {
        category: Category::Database,
        ..fact("acme", &start.to_rfc3339(), "2")
    });
    store.add(fact("globex", &start.to_rfc3339(), "5"));
    let app = router(state(&store, &FakeUpdates::default()));
    let (status, rest) = get(&app, "/api/admin/costs/current?tenant=acme&currency=EUR").await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    let mtd = month_to_date(Utc::now());
    let q = "query($r:TimeRangeInput!){costSummary(tenant:\"acme\",range:$r,currency:\"EUR\"){total{amount currency} billed{amount currency} events categories{category amount{amount currency}} projectedMonthEnd{currency}}}";
    let gql = graphql(&app, q, json!({"r": {"from": mtd.from, "to": mtd.to}})).await;
    let s = &gql["data"]["costSummary"];
    for key in ["total", "billed", "events"] {
        assert_eq!(rest[key], s[key], "{key}: {rest} vs {gql}");
    }
    assert_eq!(rest["categories"][0]["category"], "database");
    assert_eq!(
        rest["categories"][0]["amount"],
        s["categories"][0]["amount"]
    );
    assert_eq!(rest["total"]["currency"], "EUR");
    assert_eq!(rest["range"]["from"], json!(start));
    assert_eq!(rest["tenant"], "acme");
    assert!(rest["projectedMonthEnd"]["amount"].is_string(), "{rest}");
}

#[tokio::test]
async fn rest_errors_name_the_parameter() {
    let store = store();
    let app = router(state(&store, &FakeUpdates::default()));
    let h = "/api/admin/costs/history?";
    let ok = "tenant=acme&from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z&granularity=day";
    let cases = [
        ("/api/admin/costs/current?".to_string(), "tenant"),
        ("/api/admin/costs/current?tenant=a%20b".into(), "tenant"),
        (
            "/api/admin/costs/current?tenant=acme&currency=eur".into(),
            "currency",
        ),
        (
            "/api/admin/costs/current?tenant=acme&currency=XYZ".into(),
            "currency",
        ),
        ("/api/admin/costs/current?tenat=acme".into(), "tenat"),
        (
            format!("{h}{ok}").replace("from=2026-03-14T00:00:00Z", "from=yesterday"),
            "from",
        ),
        (
            format!("{h}{ok}").replace("&to=2026-03-15T00:00:00Z", ""),
            "to",
        ),
        (
            format!("{h}{ok}").replace("to=2026-03-15", "to=2026-03-13"),
            "to",
        ),
        (
            format!("{h}{ok}").replace("granularity=day", "granularity=week"),
            "granularity",
        ),
        (
            format!("{h}{ok}")
                .replace("granularity=day", "granularity=minute")
                .replace("to=2026-03-15", "to=2026-03-30"),
            "granularity",
        ),
        (format!("{h}{ok}&groupBy=category,region"), "groupBy"),
        (format!("{h}{ok}&groupBy=label"), "labelKey"),
    ];
    for (uri, field) in cases {
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["field"], field, "{uri}: {body}");
        assert!(
            body["error"].as_str().unwrap_or("").contains(field),
            "{uri}: {body}"
        );
    }
    let (status, _) = get(&app, &format!("{h}{ok}&groupBy=label&labelKey=team")).await;
    assert_eq!(status, StatusCode::OK);

    store.fail();
    let (status, body) = get(&app, &format!("{h}{ok}")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.to_string().contains("disk on fire"), "{body}");
}

#[tokio::test]
async fn openapi_document_describes_every_rest_route() {
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()));
    let (status, doc) = get(&app, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{doc}"
    );
    for (path, method) in [
        ("/v1/events", "post"),
        ("/api/admin/costs/current", "get"),
        ("/api/admin/costs/history", "get"),
        ("/healthz", "get"),
        ("/api/admin/costs/budgets", "get"),
        ("/api/admin/costs/budgets", "post"),
        ("/api/admin/costs/budgets/{id}", "put"),
        ("/api/admin/costs/budgets/{id}", "delete"),
        ("/api/admin/costs/alerts", "get"),
        ("/api/admin/costs/alerts", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "openapi lacks {method} {path}"
        );
    }
    let events = &doc["paths"]["/v1/events"]["post"];
    for code in ["202", "400", "413", "503"] {
        assert!(
            events["responses"][code].is_object(),
            "/v1/events lacks {code}"
        );
    }
    assert!(events["requestBody"]["content"]["application/x-ndjson"].is_object());
    assert!(doc["components"]["schemas"]["UsageEvent"]["properties"]["tenant"].is_object());
    // Every reference resolves inside the document.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 10);
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
}

#[tokio::test]
async fn graphiql_and_the_websocket_endpoint_are_served() {
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()));
    let (status, page) = get(&app, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap_or("");
    assert!(
        page.contains("graphiql") || page.contains("GraphiQL"),
        "{page}"
    );
    assert!(
        page.contains("/graphql/ws"),
        "subscriptions not pointed at /graphql/ws"
    );
    // Without a WebSocket upgrade the endpoint refuses, but it exists.
    let (status, _) = get(&app, "/graphql/ws").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The introspection query of GraphiQL (graphql-js `getIntrospectionQuery`, all options on, with
/// the 9-level `TypeRef` of graphql-js 17).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    description
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }
"#;

#[tokio::test]
async fn depth_and_complexity_are_limited_but_introspection_works() {
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()));
    let v = graphql(&app, INTROSPECTION, json!({})).await;
    assert!(
        v["errors"].is_null(),
        "GraphiQL could not load the schema: {v}"
    );
    assert_eq!(v["data"]["__schema"]["queryType"]["name"], "Query");

    // Deep once it is not pure introspection.
    let deep = "{tenants __type(name:\"Query\"){fields{type{ofType{ofType{ofType{ofType{ofType{ofType{ofType{ofType{name}}}}}}}}}}}}";
    let v = graphql(&app, deep, json!({})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_DEEP",
        "{v}"
    );
    // Introspection that fans out type → fields → type → fields.
    let v = graphql(
        &app,
        "{__schema{types{fields{type{ofType{fields{name}}}}}}}",
        json!({}),
    )
    .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{v}"
    );
    // Too many fields.
    let wide: String = (0..1001).map(|i| format!("t{i}:tenants ")).collect();
    let v = graphql(&app, &format!("{{{wide}}}"), json!({})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{v}"
    );
    let ok: String = (0..50).map(|i| format!("t{i}:tenants ")).collect();
    assert!(graphql(&app, &format!("{{{ok}}}"), json!({})).await["errors"].is_null());
}

/// POSTs a raw JSON body to /graphql; returns the status and the JSON answer.
async fn post_raw(app: &axum::Router, body: String) -> (StatusCode, Value) {
    let req = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .expect("request");
    call(app, req).await
}

/// The attack set of the security issue: each is refused with an error and no data, at parse
/// or validation time (no resolver runs: the fake store would answer otherwise).
#[tokio::test]
async fn an_attack_set_is_refused_before_execution() {
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()));
    let refused = |v: &Value, what: &str| {
        assert!(v["data"].is_null(), "{what}: {v}");
        assert!(!v["errors"][0]["message"].is_null(), "{what}: {v}");
    };
    // Depth 100.
    let deep = format!(
        "{{__type(name:\"Query\"){}name{}}}",
        "{ofType".repeat(100),
        "}".repeat(100)
    );
    let (_, v) = post_raw(&app, json!({ "query": deep }).to_string()).await;
    refused(&v, "depth 100");
    // 1000 aliases of a cheap field.
    let wide: String = (0..1000).map(|i| format!("a{i}:tenants ")).collect();
    let v = graphql(&app, &format!("{{{wide}}}"), json!({})).await;
    refused(&v, "1000 aliases");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("aliases"),
        "{v}"
    );
    // 10k directives (over the body limit as text, so also refused at the door; 60 already are).
    let many = " @include(if:true)".repeat(10_000);
    let (status, v) = post_raw(
        &app,
        json!({ "query": format!("{{tenants{many}}}") }).to_string(),
    )
    .await;
    assert!(
        status.is_client_error() || v["data"].is_null(),
        "{status} {v}"
    );
    let sixty = " @include(if:true)".repeat(60);
    let v = graphql(&app, &format!("{{tenants{sixty}}}"), json!({})).await;
    refused(&v, "60 directives");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("directives"),
        "{v}"
    );
    // A 100-operation batch: one operation per request.
    let batch: Vec<Value> = (0..100).map(|_| json!({ "query": "{tenants}" })).collect();
    let (status, v) = post_raw(&app, Value::Array(batch).to_string()).await;
    assert!(
        status.is_client_error(),
        "a batch must be refused: {status} {v}"
    );
    // Deeply nested fragments: a chain of 40, each one level deeper.
    let chain: String = (0..40)
        .map(|i| {
            format!(
                "fragment T{i} on __Type {{ name ofType {{ ...T{} }} }}\n",
                i + 1
            )
        })
        .collect();
    let q =
        format!("{{__type(name:\"Query\"){{...T0}}}}\n{chain}fragment T40 on __Type {{ name }}");
    let v = graphql(&app, &q, json!({})).await;
    refused(&v, "nested fragments");
    // 60 fragment definitions.
    let defs: String = (0..60)
        .map(|i| format!("fragment F{i} on Query {{ tenants }}\n"))
        .collect();
    let v = graphql(&app, &format!("{{...F0}}\n{defs}"), json!({})).await;
    refused(&v, "60 fragments");
}

#[tokio::test]
async fn oversized_graphql_bodies_are_refused() {
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()));
    let padding = " ".repeat(costwatch_gateway::MAX_GRAPHQL_BODY_BYTES);
    let body = json!({ "query": format!("{{tenants{padding}}}") }).to_string();
    let req = |with_length: bool| {
        let mut r =
            axum::http::Request::post("/graphql").header("content-type", "application/json");
        if with_length {
            r = r.header("content-length", body.len());
        }
        r.body(axum::body::Body::from(body.clone()))
            .expect("request")
    };
    // Announced length: refused up front. Streamed: refused once the limit is crossed.
    assert_eq!(call(&app, req(true)).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, v) = call(&app, req(false)).await;
    assert!(status.is_client_error(), "{status} {v}");
    assert!(v["data"].is_null(), "{v}");
}
