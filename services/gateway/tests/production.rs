//! Production mode: the API stops describing itself (no GraphiQL, no introspection, no "did you
//! mean" suggestions), while every query the dashboard sends keeps working.

mod common;

use axum::http::StatusCode;
use common::*;
use costwatch_gateway::{ApiMode, router};
use serde_json::json;

fn app(mode: ApiMode) -> axum::Router {
    let store = FakeStore::default();
    store.add(fact("acme", "2026-03-01T10:00:00Z", "12.50"));
    router(costwatch_gateway::GatewayState {
        mode,
        ..state(&store, &FakeUpdates::default())
    })
}

#[tokio::test]
async fn production_refuses_introspection_in_every_form() {
    let prod = app(ApiMode::Production);
    for query in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Query\") { fields { name } } }",
        "query { tenants __schema { types { name } } }",
    ] {
        let v = graphql(&prod, query, json!({})).await;
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED",
            "{query}: {v}"
        );
        assert!(v["data"].is_null(), "{query}: answered: {v}");
        let text = v.to_string();
        assert!(
            !text.contains("costSummary") && !text.contains("\"Query\",\"fields\""),
            "{query}: the schema leaked: {v}"
        );
    }
    // The same query in development mode answers, so the refusal above is the mode's doing.
    let v = graphql(
        &app(ApiMode::Development),
        "{ __schema { queryType { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(v["data"]["__schema"]["queryType"]["name"], "Query", "{v}");
}

#[tokio::test]
async fn production_gives_no_field_suggestions() {
    // A typo in a nested field (a root typo is refused by the access guard before validation).
    let typo = "{ costSummary(tenant: \"acme\", range: {from: \"2026-03-01T00:00:00Z\", to: \"2026-03-02T00:00:00Z\"}) { tenat } }";
    let dev = graphql(&app(ApiMode::Development), typo, json!({})).await;
    assert!(
        dev.to_string().contains("Did you mean"),
        "development should suggest the field: {dev}"
    );
    let prod = graphql(&app(ApiMode::Production), typo, json!({})).await;
    assert!(prod["errors"].is_array(), "{prod}");
    assert!(
        !prod.to_string().contains("Did you mean"),
        "production suggested a field: {prod}"
    );
}

#[tokio::test]
async fn production_serves_no_graphiql_but_answers_queries() {
    let prod = app(ApiMode::Production);
    let (status, _) = get(&prod, "/graphql").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "GraphiQL is served");
    let (status, _) = get(&app(ApiMode::Development), "/graphql").await;
    assert_eq!(status, StatusCode::OK);

    let v = graphql(&prod, "{ tenants }", json!({})).await;
    assert!(v["errors"].is_null(), "{v}");
    assert_eq!(v["data"]["tenants"], json!(["acme"]));
}
