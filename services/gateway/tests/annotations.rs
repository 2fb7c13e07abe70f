//! Chart annotations end to end: GraphQL over a real SQLite annotation store.

mod common;

use std::sync::Arc;

use common::*;
use costwatch_embedded::SqliteAnnotations;
use costwatch_gateway::router;
use serde_json::{Value, json};

const ADD: &str = "mutation($t:String!,$d:String!,$n:String!,$a:String){addAnnotation(tenant:$t,day:$d,note:$n,author:$a){id tenant day note author createdAt}}";
const LIST: &str = "query($t:String!,$f:String!,$to:String!){annotations(tenant:$t,from:$f,to:$to){id day note author}}";
const DELETE: &str = "mutation($t:String!,$id:ID!){deleteAnnotation(tenant:$t,id:$id)}";

fn app() -> axum::Router {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let store = SqliteAnnotations::open(&dir.join("annotations.sqlite")).expect("open store");
    let mut state = state(&FakeStore::default(), &FakeUpdates::default());
    state.annotations = Some(Arc::new(store));
    router(state)
}

async fn add(app: &axum::Router, tenant: &str, day: &str, note: &str) -> Value {
    let v = graphql(
        app,
        ADD,
        json!({"t": tenant, "d": day, "n": note, "a": "alice"}),
    )
    .await;
    assert!(v["errors"].is_null(), "{v}");
    v["data"]["addAnnotation"].clone()
}

async fn list(app: &axum::Router, tenant: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let v = graphql(app, LIST, json!({"t": tenant, "f": from, "to": to})).await;
    assert!(v["errors"].is_null(), "{v}");
    v["data"]["annotations"]
        .as_array()
        .unwrap_or_else(|| panic!("no list in {v}"))
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (s("day"), s("note"))
        })
        .collect()
}

fn pair(day: &str, note: &str) -> (String, String) {
    (day.into(), note.into())
}

#[tokio::test]
async fn added_annotations_are_listed_in_range_by_day() {
    let app = app();
    let added = add(&app, "acme", "2026-11-27", "  Black Friday  ").await;
    assert_eq!(added["tenant"], "acme");
    assert_eq!(added["day"], "2026-11-27");
    assert_eq!(added["note"], "Black Friday", "trimmed");
    assert_eq!(added["author"], "alice");
    assert!(
        added["id"].as_str().is_some_and(|id| id.len() == 36),
        "{added}"
    );
    add(&app, "acme", "2026-11-20", "new cache").await;
    add(&app, "acme", "2026-12-01", "outside").await;
    assert_eq!(
        list(&app, "acme", "2026-11-01", "2026-11-30").await,
        vec![
            pair("2026-11-20", "new cache"),
            pair("2026-11-27", "Black Friday")
        ]
    );
}

#[tokio::test]
async fn tenants_see_and_delete_only_their_own() {
    let app = app();
    let acme = add(&app, "acme", "2026-11-27", "acme note").await;
    add(&app, "globex", "2026-11-27", "globex note").await;
    let (from, to) = ("2026-11-01", "2026-11-30");
    assert_eq!(
        list(&app, "globex", from, to).await,
        vec![pair("2026-11-27", "globex note")]
    );

    let id = acme["id"].clone();
    let v = graphql(&app, DELETE, json!({"t": "globex", "id": id})).await;
    assert_eq!(v["data"]["deleteAnnotation"], false, "{v}");
    assert_eq!(
        list(&app, "acme", from, to).await,
        vec![pair("2026-11-27", "acme note")]
    );

    let v = graphql(&app, DELETE, json!({"t": "acme", "id": id})).await;
    assert_eq!(v["data"]["deleteAnnotation"], true, "{v}");
    assert!(list(&app, "acme", from, to).await.is_empty());
    let v = graphql(&app, DELETE, json!({"t": "acme", "id": id})).await;
    assert_eq!(v["data"]["deleteAnnotation"], false, "deleted once: {v}");
    assert_eq!(list(&app, "globex", from, to).await.len(), 1);
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let app = app();
    let cases = [
        (
            ADD,
            json!({"t": "acme", "d": "2026-11-27", "n": " "}),
            "note",
        ),
        (
            ADD,
            json!({"t": "acme", "d": "2026-11-27", "n": "a\u{7}b"}),
            "note",
        ),
        (
            ADD,
            json!({"t": "acme", "d": "2026-11-27", "n": "x".repeat(501)}),
            "note",
        ),
        (
            ADD,
            json!({"t": "acme", "d": "2026-13-01", "n": "x"}),
            "day",
        ),
        (
            ADD,
            json!({"t": "acme", "d": "2026-11-27", "n": "x", "a": "a".repeat(101)}),
            "author",
        ),
        (
            ADD,
            json!({"t": "a b", "d": "2026-11-27", "n": "x"}),
            "tenant",
        ),
        (
            LIST,
            json!({"t": "acme", "f": "nope", "to": "2026-11-30"}),
            "from",
        ),
        (
            LIST,
            json!({"t": "acme", "f": "2026-11-30", "to": "2026-11-01"}),
            "to",
        ),
        (
            LIST,
            json!({"t": "acme", "f": "2023-11-01", "to": "2026-11-02"}),
            "to",
        ),
        (DELETE, json!({"t": "acme", "id": ""}), "id"),
    ];
    for (query, vars, field) in cases {
        let v = graphql(&app, query, vars.clone()).await;
        let (_, code, got) = first_error(&v);
        assert_eq!((code, got), ("BAD_USER_INPUT", field), "{vars}: {v}");
    }
    // Exactly three years is allowed.
    assert!(
        list(&app, "acme", "2023-11-01", "2026-11-01")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn without_a_store_the_fields_say_unavailable() {
    let app = router(state(&FakeStore::default(), &FakeUpdates::default()));
    let v = graphql(
        &app,
        LIST,
        json!({"t": "acme", "f": "2026-11-01", "to": "2026-11-30"}),
    )
    .await;
    let (message, code, _) = first_error(&v);
    assert_eq!(code, "UNAVAILABLE", "{v}");
    assert!(
        message.contains("not stored in this deployment"),
        "{message}"
    );
}
