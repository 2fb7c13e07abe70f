//! Dated exchange rates end to end: ECB import and manual rates through the APIs, into a real
//! SQLite rate store, and totals converted at the rate of each charge day.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use costwatch_domain::Currency;
use costwatch_domain::money::round_computed;
use costwatch_embedded::SqliteFxRates;
use costwatch_gateway::router;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SUMMARY: &str = "query($t:String!,$r:TimeRangeInput!,$c:String){costSummary(tenant:$t,range:$r,currency:$c){total{amount currency}}}";
const MONTHS: &str = "query($t:String!,$r:TimeRangeInput!,$c:String){costHistory(tenant:$t,range:$r,granularity:MONTH,currency:$c){amount{amount}}}";

/// Friday 2026-11-20 and Monday 2026-11-23 fixings, as the ECB publishes them.
const ECB: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-11-23"><Cube currency="USD" rate="1.1012"/><Cube currency="GBP" rate="0.8465"/></Cube>
    <Cube time="2026-11-20"><Cube currency="USD" rate="1.0987"/><Cube currency="GBP" rate="0.8441"/></Cube>
  </Cube>
</gesmes:Envelope>"#;

fn amount(v: &Value) -> Decimal {
    d(v["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {v}")))
}

fn eur(ts: &str, a: &str) -> Fact {
    Fact {
        currency: Currency::EUR,
        ..fact("acme", ts, a)
    }
}

/// EUR charges on Friday, Sunday (Friday's fixing applies) and Monday, and USD on Monday.
fn app() -> axum::Router {
    let store = FakeStore::default();
    store.add(eur("2026-11-20T10:00:00Z", "100"));
    store.add(eur("2026-11-22T23:59:00Z", "50.5"));
    store.add(eur("2026-11-23T00:00:00Z", "10"));
    store.add(fact("acme", "2026-11-23T12:00:00Z", "7"));
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let rates = SqliteFxRates::open(&dir.join("fx.sqlite")).expect("open fx store");
    let mut state = state(&store, &FakeUpdates::default());
    state.fx_rates = Some(Arc::new(rates));
    router(state)
}

async fn post(app: &axum::Router, uri: &str, body: String, json_body: bool) -> (StatusCode, Value) {
    let mut req = Request::post(uri);
    if json_body {
        req = req.header("content-type", "application/json");
    }
    call(app, req.body(Body::from(body)).expect("request")).await
}

async fn total(app: &axum::Router, currency: &str) -> Value {
    let r = json!({"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"});
    graphql(app, SUMMARY, json!({"t": "acme", "r": r, "c": currency})).await
}

#[tokio::test]
async fn totals_use_the_rate_of_each_charge_day() {
    let app = app();
    // Before any dated rate, the reference table (1 EUR = 1.08 USD) converts everything.
    let v = total(&app, "USD").await;
    let reference = round_computed(d("160.5") * d("1.08")) + d("7");
    assert_eq!(amount(&v["data"]["costSummary"]["total"]), reference, "{v}");

    let (status, body) = post(&app, "/api/admin/fx/ecb", ECB.into(), false).await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"stored": 4})));
    // Friday and Sunday share Friday's fixing (summed, converted once); Monday has its own.
    let want =
        round_computed(d("150.5") * d("1.0987")) + round_computed(d("10") * d("1.1012")) + d("7");
    let v = total(&app, "USD").await;
    assert_eq!(amount(&v["data"]["costSummary"]["total"]), want, "{v}");
    // A month bucket spans many charge days: history regroups days, each at its own rate.
    let r = json!({"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"});
    let h = graphql(&app, MONTHS, json!({"t": "acme", "r": r, "c": "USD"})).await;
    assert_eq!(amount(&h["data"]["costHistory"][0]["amount"]), want, "{h}");
    // Cross rate through the pivot: USD → GBP on Monday = 7 / 1.1012 × 0.8465.
    let v = total(&app, "GBP").await;
    let gbp = round_computed(d("150.5") * d("0.8441"))
        + round_computed(d("10") * d("0.8465"))
        + round_computed(d("7") * d("0.8465") / d("1.1012"));
    assert_eq!(amount(&v["data"]["costSummary"]["total"]), gbp, "{v}");

    // Re-importing the same file changes nothing.
    post(&app, "/api/admin/fx/ecb", ECB.into(), false).await;
    assert_eq!(
        amount(&total(&app, "USD").await["data"]["costSummary"]["total"]),
        want
    );
    let (status, listed) = get(
        &app,
        "/api/admin/fx/rates?from=2026-11-01&to=2026-11-30&currency=USD",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed["rates"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    assert_eq!(listed["rates"][0]["perEur"], "1.0987");
    assert_eq!(listed["rates"][0]["source"], "ecb");
}

#[tokio::test]
async fn a_manual_rate_replaces_the_fixing_of_its_day() {
    let app = app();
    post(&app, "/api/admin/fx/ecb", ECB.into(), false).await;
    let m = "mutation($r:[ExchangeRateInput!]!){putExchangeRates(rates:$r)}";
    let v = graphql(
        &app,
        m,
        json!({"r": [{"day": "2026-11-23", "currency": "USD", "perEur": "2", "source": "manual:cfo"}]}),
    )
    .await;
    assert_eq!(v["data"]["putExchangeRates"], 1, "{v}");
    let want = round_computed(d("150.5") * d("1.0987")) + d("20") + d("7");
    assert_eq!(
        amount(&total(&app, "USD").await["data"]["costSummary"]["total"]),
        want
    );
    let q = "{exchangeRates(from:\"2026-11-23\",to:\"2026-11-23\",currency:\"USD\"){day perEur source}}";
    let v = graphql(&app, q, json!({})).await;
    assert_eq!(
        v["data"]["exchangeRates"],
        json!([{"day": "2026-11-23", "perEur": "2", "source": "manual:cfo"}])
    );
}

#[tokio::test]
async fn bad_rates_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = app();
    let m = "mutation($r:[ExchangeRateInput!]!){putExchangeRates(rates:$r)}";
    let rates = json!([
        {"day": "2026-11-20", "currency": "USD", "perEur": "1.1"},
        {"day": "2026-11-20", "currency": "GBP", "perEur": "-0.8"},
    ]);
    let v = graphql(&app, m, json!({"r": rates})).await;
    let (message, code, field) = first_error(&v);
    assert_eq!((code, field), ("BAD_USER_INPUT", "rates[1].perEur"), "{v}");
    assert!(message.contains("must be positive"), "{message}");
    let v = graphql(
        &app,
        m,
        json!({"r": [{"day": "20.11.2026", "currency": "USD", "perEur": "1"}]}),
    )
    .await;
    assert_eq!(first_error(&v).2, "rates[0].day", "{v}");
    let (status, listed) = get(&app, "/api/admin/fx/rates?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(
        (status, &listed),
        (StatusCode::OK, &json!({"rates": []})),
        "nothing stored"
    );

    let (status, body) = post(
        &app,
        "/api/admin/fx/ecb",
        ECB.replace("1.0987", "1,0987"),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "body", "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("\"rate\"")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        "/api/admin/fx/rates",
        json!({"rates": [{"day": "2026-11-20", "currency": "usd", "perEur": "1"}]}).to_string(),
        true,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("rates[0].currency")),
        "{body}"
    );
    let (status, body) = get(&app, "/api/admin/fx/rates?from=2026-11-30&to=2026-11-01").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("to"))
    );
}

#[tokio::test]
async fn a_currency_without_a_rate_on_a_charge_day_is_named_with_the_day() {
    let app = app();
    post(&app, "/api/admin/fx/ecb", ECB.into(), false).await;
    let v = total(&app, "SEK").await;
    let (message, code, field) = first_error(&v);
    assert_eq!((code, field), ("BAD_USER_INPUT", "currency"), "{v}");
    assert!(message.contains("SEK on 2026-11-2"), "{message}");
}

#[tokio::test]
async fn ecb_xml_imported_through_graphql_is_stored_and_a_truncated_file_is_refused() {
    let app = app();
    let m = "mutation($x:String!){importEcbRates(xml:$x)}";
    let truncated = &ECB[..ECB.len() / 2];
    let v = graphql(&app, m, json!({"x": truncated})).await;
    let (_, code, _) = first_error(&v);
    assert_eq!(code, "BAD_USER_INPUT", "{v}");
    let q = "{exchangeRates(from:\"2026-11-20\",to:\"2026-11-23\"){day currency perEur source}}";
    let none = graphql(&app, q, json!({})).await;
    assert_eq!(
        none["data"]["exchangeRates"],
        json!([]),
        "nothing stored: {none}"
    );

    let v = graphql(&app, m, json!({"x": ECB})).await;
    assert_eq!(v["data"]["importEcbRates"], 4, "{v}");
    let rates = graphql(&app, q, json!({})).await;
    let usd: Vec<&Value> = rates["data"]["exchangeRates"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["currency"] == "USD").collect())
        .unwrap_or_default();
    assert_eq!(usd.len(), 2, "{rates}");
    assert_eq!(usd[0]["perEur"], "1.0987");
    assert_eq!(usd[1]["day"], "2026-11-23");
}

#[tokio::test]
async fn currencies_lists_the_reference_table_and_recent_fixings() {
    let app = app();
    let q = "{currencies}";
    let before = graphql(&app, q, json!({})).await;
    let list = |v: &Value| -> Vec<String> {
        v["data"]["currencies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let reference = list(&before);
    assert!(reference.contains(&"USD".to_string()), "{before}");
    assert!(!reference.contains(&"SEK".to_string()), "{before}");
    // A fixing of today makes its currency selectable; an old one does not.
    let today = chrono::Utc::now().date_naive();
    let m = "mutation($r:[ExchangeRateInput!]!){putExchangeRates(rates:$r)}";
    let rates = json!([
        {"day": today.to_string(), "currency": "SEK", "perEur": "11.2"},
        {"day": (today - chrono::Duration::days(30)).to_string(), "currency": "NOK", "perEur": "11.7"}
    ]);
    let v = graphql(&app, m, json!({"r": rates})).await;
    assert_eq!(v["data"]["putExchangeRates"], 2, "{v}");
    let after = list(&graphql(&app, q, json!({})).await);
    assert!(after.contains(&"SEK".to_string()), "{after:?}");
    assert!(!after.contains(&"NOK".to_string()), "{after:?}");
    let mut sorted = after.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(after, sorted);
}
