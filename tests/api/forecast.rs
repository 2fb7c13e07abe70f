//! `forecast(tenant, scope, horizonDays)` over real ingested history: the shape of the answer,
//! the scenario multiplier, field-named errors and tenant isolation.

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

const FORECAST: &str = "query($t:String!,$s:BudgetScopeInput,$h:Int,$sc:ScenarioInput){forecast(tenant:$t,scope:$s,horizonDays:$h,scenario:$sc){tenant history{date amount{amount currency}} days{date band{point{amount} lo80{amount} hi80{amount} lo95{amount} hi95{amount}}} total{point{amount currency}} growthPercentPer30Days scenarioFactor weights{method weight}}}";

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
}

/// 28 days of ec2 spend growing 1 USD a day (100, 101, …) plus some rds noise out of scope.
fn history() -> Value {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc();
    let events: Vec<Value> = (1..=28)
        .flat_map(|days_ago: i64| {
            let at = (today - Duration::days(days_ago)).to_rfc3339();
            let ec2 = 100 + (28 - days_ago);
            [
                json!({"id": format!("ec2-{days_ago}"), "tenant": "acme", "timestamp": at,
                    "category": "hosting", "provider": "aws", "service": "ec2", "resource": "i-1",
                    "metric": "vcpu_hours", "quantity": "1", "unit": "hour",
                    "cost": {"amount": ec2.to_string(), "currency": "USD"}}),
                json!({"id": format!("rds-{days_ago}"), "tenant": "acme", "timestamp": at,
                    "category": "database", "provider": "aws", "service": "rds", "resource": "db-1",
                    "metric": "instance_hours", "quantity": "1", "unit": "hour",
                    "cost": {"amount": "7", "currency": "USD"}}),
            ]
        })
        .collect();
    Value::Array(events)
}

#[tokio::test]
async fn a_scope_forecast_has_bands_a_trend_and_honours_scenarios() {
    let app = spawn_app().await;
    assert_eq!(app.post_events(&history()).await.status(), 202);
    // 100+…+127 for ec2 and 28 × 7 for rds.
    app.wait_for_total("acme", Decimal::from(3178 + 196)).await;

    let vars = |sc: Value| json!({"t": "acme", "s": {"service": "ec2"}, "h": 7, "sc": sc});
    let base = app.graphql(FORECAST, vars(Value::Null)).await;
    assert!(base["errors"].is_null(), "{base}");
    let f = &base["data"]["forecast"];
    let history = f["history"].as_array().expect("history");
    assert_eq!(history.len(), 28, "{f}");
    assert_eq!(
        dec(&history[0]["amount"]["amount"]),
        Decimal::from(100),
        "rds is out of scope"
    );
    let days = f["days"].as_array().expect("days");
    assert_eq!(days.len(), 7);
    assert_eq!(days[0]["date"], json!(Utc::now().date_naive().to_string()));
    for d in days {
        let b = &d["band"];
        let (lo95, lo80, p, hi80, hi95) = (
            dec(&b["lo95"]["amount"]),
            dec(&b["lo80"]["amount"]),
            dec(&b["point"]["amount"]),
            dec(&b["hi80"]["amount"]),
            dec(&b["hi95"]["amount"]),
        );
        assert!(
            lo95 <= lo80 && lo80 <= p && p <= hi80 && hi80 <= hi95,
            "{d}"
        );
    }
    // A steady +1/day trend continues: the week ahead is above the last day of history.
    assert!(
        dec(&days[0]["band"]["point"]["amount"]) > Decimal::from(120),
        "{f}"
    );
    assert_eq!(f["total"]["point"]["currency"], "USD");
    let growth = dec(&f["growthPercentPer30Days"]);
    assert!(
        growth > Decimal::from(20) && growth < Decimal::from(30),
        "{growth}"
    );
    assert_eq!(f["scenarioFactor"], "1");

    let what_if = app
        .graphql(FORECAST, vars(json!({"usageGrowthPercent": "25"})))
        .await;
    let g = &what_if["data"]["forecast"];
    assert_eq!(g["scenarioFactor"], "1.25", "{what_if}");
    let scaled = dec(&days[3]["band"]["hi95"]["amount"]) * Decimal::new(125, 2);
    assert_eq!(
        dec(&g["days"][3]["band"]["hi95"]["amount"]),
        scaled.round_dp(12).normalize()
    );

    // Errors name the field; nothing else comes back.
    let bad = app.graphql(FORECAST, json!({"t": "acme", "h": 0})).await;
    assert_eq!(
        bad["errors"][0]["extensions"]["field"], "horizonDays",
        "{bad}"
    );
    let bad = app
        .graphql(FORECAST, vars(json!({"priceChangePercent": "-100"})))
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["field"], "scenario.price_change_percent",
        "{bad}"
    );
    assert!(bad["data"].is_null(), "{bad}");

    // Another tenant's forecast sees none of acme's spend.
    let other = app
        .graphql(
            FORECAST,
            json!({"t": "globex", "s": {"service": "ec2"}, "h": 3}),
        )
        .await;
    let o = &other["data"]["forecast"];
    assert!(other["errors"].is_null(), "{other}");
    assert!(
        o["history"]
            .as_array()
            .expect("history")
            .iter()
            .all(|d| dec(&d["amount"]["amount"]).is_zero()),
        "{other}"
    );
    assert_eq!(dec(&o["total"]["point"]["amount"]), Decimal::ZERO);
}
