//! GraphQL over the fake store: exact totals, tenancy, validation, limits, subscriptions.

mod common;

use async_graphql::Request;
use chrono::Duration;
use common::*;
use costwatch_domain::query::{TimeRange, cover};
use costwatch_domain::{Category, Currency};
use costwatch_gateway::router;
use costwatch_ports::{CostUpdate, CostUpdates};
use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SUMMARY: &str =
    "query($t:String!,$r:TimeRangeInput!,$c:String){costSummary(tenant:$t,range:$r,currency:$c){
    tenant range{from to} total{amount currency} billed{amount currency} events dailyAverage{amount}
    previousPeriodTotal{amount} changePercent projectedMonthEnd{amount currency}
    categories{category amount{amount} percentage trend change{amount} previous{amount}}}}";

fn amount(v: &Value) -> Decimal {
    d(v["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {v}")))
}

/// Facts every 37 minutes from 2026-02-20 to 2026-04-10 for acme (0.00000000503 each) and, on
/// the same instants, globex (7 each).
fn seeded() -> (FakeStore, Vec<Fact>) {
    let store = FakeStore::default();
    let mut facts = Vec::new();
    let mut t = at("2026-02-20T00:00:00Z");
    while t < at("2026-04-10T00:00:00Z") {
        let mut f = fact("acme", "2026-01-01T00:00:00Z", "0.00000000503");
        f.at = t;
        facts.push(f.clone());
        store.add(f);
        store.add(Fact {
            tenant: "globex",
            amount: d("7"),
            ..facts[facts.len() - 1].clone()
        });
        t += Duration::seconds(37 * 60 + 11);
    }
    (store, facts)
}

#[tokio::test]
async fn summary_total_is_the_exact_sum_of_the_rows_in_the_range() {
    let (store, facts) = seeded();
    // Edges: just outside both ends, and just inside.
    for (ts, a) in [
        ("2026-03-14T15:06:59Z", "1000"),
        ("2026-03-14T15:07:00Z", "0.00000000001"),
        ("2026-04-02T03:29:59Z", "0.00000000002"),
        ("2026-04-02T03:30:00Z", "1000"),
    ] {
        store.add(fact("acme", ts, a));
    }
    let app = router(state(&store, &FakeUpdates::default()));
    let (from, to) = (at("2026-03-14T15:07:00Z"), at("2026-04-02T03:30:00Z"));
    let inside = facts.iter().filter(|f| f.at >= from && f.at < to).count();
    let expected = d("0.00000000503") * Decimal::from(inside) + d("0.00000000003");

    let v = graphql(
        &app,
        SUMMARY,
        json!({"t": "acme", "r": {"from": from, "to": to}}),
    )
    .await;
    let s = &v["data"]["costSummary"];
    assert_eq!(amount(&s["total"]), expected, "{v}");
    assert_eq!(s["total"]["currency"], "USD");
    assert_eq!(amount(&s["billed"]), expected);
    assert_eq!(s["events"], json!(inside + 2));
    assert_eq!(s["tenant"], "acme");

    // The rows were read with the coarsest exact buckets, for the range and the previous period,
    // and each read is scoped to the tenant.
    let range = TimeRange::new(from, to).expect("range");
    let calls = store.calls();
    for span in cover(range).into_iter().chain(cover(range.previous())) {
        assert!(
            calls.contains(&("acme".into(), span.granularity, span.from, span.to)),
            "{span:?} not read: {calls:?}"
        );
    }
    assert!(calls.iter().all(|c| c.0 == "acme"));
}

#[tokio::test]
async fn summary_compares_with_the_previous_period_and_converts_currency() {
    let store = FakeStore::default();
    store.add(fact("acme", "2026-02-10T00:00:00Z", "10"));
    store.add(fact("acme", "2026-03-10T00:00:00Z", "12"));
    store.add(Fact {
        category: Category::Api,
        ..fact("acme", "2026-03-11T00:00:00Z", "3")
    });
    store.add(Fact {
        currency: Currency::EUR,
        billed: false,
        ..fact("acme", "2026-03-12T00:00:00Z", "100")
    });
    let app = router(state(&store, &FakeUpdates::default()));
    let r = json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-31T00:00:00Z"});
    let v = graphql(&app, SUMMARY, json!({"t": "acme", "r": r, "c": "USD"})).await;
    let s = &v["data"]["costSummary"];
    // 12 + 3 + 100 EUR × 1.08
    assert_eq!(amount(&s["total"]), d("123"), "{v}");
    assert_eq!(amount(&s["billed"]), d("15"));
    assert_eq!(amount(&s["previousPeriodTotal"]), d("10"));
    assert_eq!(s["changePercent"], "1130");
    assert_eq!(amount(&s["dailyAverage"]), d("4.1"));
    let cats = s["categories"].as_array().expect("categories");
    assert_eq!(cats[0]["category"], "hosting");
    assert_eq!(cats[0]["trend"], "UP");
    assert_eq!(amount(&cats[0]["previous"]), d("10"));
    assert_eq!(amount(&cats[0]["change"]), d("110"));
    assert_eq!(cats[1]["category"], "api");

    let v = graphql(&app, SUMMARY, json!({"t": "acme", "r": r, "c": "EUR"})).await;
    let total = amount(&v["data"]["costSummary"]["total"]);
    assert_eq!(v["data"]["costSummary"]["total"]["currency"], "EUR");
    assert_eq!(
        total,
        d("100") + costwatch_domain::money::round_computed(d("15") / d("1.08"))
    );
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_rows() {
    let (store, _) = seeded();
    let app = router(state(&store, &FakeUpdates::default()));
    let r = json!({"from": "2026-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"});
    let acme = graphql(&app, SUMMARY, json!({"t": "acme", "r": r})).await;
    let nobody = graphql(&app, SUMMARY, json!({"t": "nobody", "r": r})).await;
    assert_eq!(
        amount(&nobody["data"]["costSummary"]["total"]),
        Decimal::ZERO,
        "{nobody}"
    );
    assert!(
        amount(&acme["data"]["costSummary"]["total"]) < Decimal::ONE,
        "globex leaked into acme: {acme}"
    );

    // Even an adapter that ignores the tenant cannot leak rows through the query layer.
    store.leak_tenants();
    let leaky = graphql(&app, SUMMARY, json!({"t": "acme", "r": r})).await;
    assert_eq!(
        leaky["data"]["costSummary"]["total"],
        acme["data"]["costSummary"]["total"]
    );
    let q =
        "query($r:TimeRangeInput!){costBreakdown(tenant:\"acme\",range:$r,groupBy:[TENANT]){keys}
             costHistory(tenant:\"acme\",range:$r,granularity:MONTH,groupBy:[TENANT]){keys}}";
    let v = graphql(&app, q, json!({"r": r})).await;
    assert_eq!(
        v["data"]["costBreakdown"],
        json!([{"keys": ["acme"]}]),
        "{v}"
    );
    assert!(
        v["data"]["costHistory"]
            .as_array()
            .expect("history")
            .iter()
            .all(|p| p["keys"] == json!(["acme"])),
        "{v}"
    );
}

#[tokio::test]
async fn breakdowns_group_filter_and_need_a_label_key() {
    let store = FakeStore::default();
    store.add(Fact {
        labels: r#"{"team":"web"}"#,
        ..fact("acme", "2026-03-10T00:00:00Z", "1.5")
    });
    store.add(Fact {
        labels: r#"{"team":"data"}"#,
        provider: "gcp",
        ..fact("acme", "2026-03-10T00:00:00Z", "4")
    });
    store.add(Fact {
        category: Category::Api,
        ..fact("acme", "2026-03-10T00:00:00Z", "0.5")
    });
    let app = router(state(&store, &FakeUpdates::default()));
    let r = json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"});
    let q = "query($r:TimeRangeInput!,$f:CostFilterInput){costBreakdown(tenant:\"acme\",range:$r,groupBy:[LABEL,PROVIDER],labelKey:\"team\",filter:$f){keys amount{amount} billed{amount} events percentage}}";
    let v = graphql(&app, q, json!({"r": r})).await;
    let keys: Vec<&Value> = v["data"]["costBreakdown"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| &g["keys"])
        .collect();
    assert_eq!(
        keys,
        [
            &json!(["data", "gcp"]),
            &json!(["web", "aws"]),
            &json!(["(none)", "aws"])
        ],
        "{v}"
    );
    assert_eq!(v["data"]["costBreakdown"][0]["percentage"], "66.67");

    let v = graphql(&app, q, json!({"r": r, "f": {"categories": ["hosting"], "labels": [{"key": "team", "value": "web"}]}})).await;
    assert_eq!(
        v["data"]["costBreakdown"],
        json!([{"keys": ["web", "aws"], "amount": {"amount": "1.5"}, "billed": {"amount": "1.5"}, "events": 1, "percentage": "100"}])
    );

    let v = graphql(&app, "{costBreakdown(tenant:\"acme\",range:{from:\"2026-03-01T00:00:00Z\",to:\"2026-04-01T00:00:00Z\"},groupBy:[LABEL]){keys}}", json!({})).await;
    assert_eq!(first_error(&v).1, "BAD_USER_INPUT", "{v}");
    assert_eq!(first_error(&v).2, "labelKey", "{v}");
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let store = FakeStore::default();
    let app = router(state(&store, &FakeUpdates::default()));
    let ok = json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"});
    let cases = [
        (json!({"t": "a b", "r": ok}), "tenant"),
        (json!({"t": "", "r": ok}), "tenant"),
        (json!({"t": "acme", "r": ok, "c": "usd"}), "currency"),
        (json!({"t": "acme", "r": ok, "c": "XYZ"}), "currency"),
        (
            json!({"t": "acme", "r": {"from": "2026-04-01T00:00:00Z", "to": "2026-04-01T00:00:30Z"}}),
            "range",
        ),
        (
            json!({"t": "acme", "r": {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}),
            "range",
        ),
    ];
    for (vars, field) in cases {
        let v = graphql(&app, SUMMARY, vars.clone()).await;
        let (message, code, f) = first_error(&v);
        assert_eq!((code, f), ("BAD_USER_INPUT", field), "{vars} -> {v}");
        assert!(message.contains(field), "{message}");
        assert!(v["data"].is_null(), "{v}");
    }
    let q = "query($f:CostFilterInput,$g:Granularity!,$to:DateTime!){costHistory(tenant:\"acme\",range:{from:\"2026-03-01T00:00:00Z\",to:$to},granularity:$g,filter:$f){keys}}";
    let v = graphql(
        &app,
        q,
        json!({"g": "MINUTE", "to": "2026-03-09T00:00:00Z"}),
    )
    .await;
    assert_eq!(first_error(&v).2, "granularity", "{v}");
    let v = graphql(
        &app,
        q,
        json!({"g": "MINUTE", "to": "2026-03-08T00:00:00Z"}),
    )
    .await;
    assert!(v["errors"].is_null(), "{v}");
    let v = graphql(
        &app,
        q,
        json!({"g": "DAY", "to": "2026-03-09T00:00:00Z", "f": {"categories": ["compute"]}}),
    )
    .await;
    assert_eq!(first_error(&v).2, "filter.categories", "{v}");
}

#[tokio::test]
async fn store_failures_are_unavailable_without_internals() {
    let store = FakeStore::default();
    store.fail();
    let app = router(state(&store, &FakeUpdates::default()));
    let r = json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"});
    for v in [
        graphql(&app, SUMMARY, json!({"t": "acme", "r": r})).await,
        graphql(&app, "{tenants}", json!({})).await,
    ] {
        let (message, code, _) = first_error(&v);
        assert_eq!(code, "UNAVAILABLE", "{v}");
        assert!(
            !v.to_string().contains("disk on fire") && !message.is_empty(),
            "{v}"
        );
    }
}

#[tokio::test]
async fn tenants_are_listed() {
    let (store, _) = seeded();
    let app = router(state(&store, &FakeUpdates::default()));
    assert_eq!(
        graphql(&app, "{tenants}", json!({})).await,
        json!({"data": {"tenants": ["acme", "globex"]}})
    );
}

fn update(tenant: &str, id: &str, amount: &str) -> CostUpdate {
    CostUpdate {
        tenant: tenant.into(),
        committed_at: at("2026-03-14T15:09:27Z"),
        events: 1,
        added: [(Currency::USD, d(amount))].into(),
        event_ids: vec![id.into()],
    }
}

#[tokio::test]
async fn subscribers_only_get_their_own_tenants_updates() {
    let updates = FakeUpdates::default();
    for u in [
        update("globex", "g1", "1"),
        update("acme", "a1", "0.00000000503"),
        update("acme-2", "x", "1"),
        update("acme", "a2", "2"),
    ] {
        updates.publish(u).await.expect("publish");
    }
    let schema = costwatch_gateway::schema(&state(&FakeStore::default(), &updates));
    let q = "subscription{costUpdates(tenant:\"acme\"){tenant committedAt events eventIds added{amount currency}}}";
    let got: Vec<Value> = schema
        .execute_stream(as_admin(Request::new(q)))
        .map(|r| r.data.into_json().unwrap_or_default())
        .collect()
        .await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter().all(|v| v["costUpdates"]["tenant"] == "acme"),
        "{got:?}"
    );
    assert_eq!(got[0]["costUpdates"]["eventIds"], json!(["a1"]));
    assert_eq!(
        got[0]["costUpdates"]["added"],
        json!([{"amount": "0.00000000503", "currency": "USD"}])
    );
    assert_eq!(got[1]["costUpdates"]["eventIds"], json!(["a2"]));

    let bad: Vec<_> = schema
        .execute_stream(as_admin(Request::new(
            "subscription{costUpdates(tenant:\"a/b\"){tenant}}",
        )))
        .collect()
        .await;
    let err = serde_json::to_value(&bad[0].errors).unwrap_or_default();
    assert_eq!(err[0]["extensions"]["field"], "tenant", "{err}");
}

fn as_admin(req: async_graphql::Request) -> async_graphql::Request {
    req.data(costwatch_domain::access::Principal::local_admin())
}
