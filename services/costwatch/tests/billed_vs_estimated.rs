//! Estimated vs billed through the whole embedded platform: live usage priced by the rate card
//! is the number of record until a FOCUS import brings the bill for its service and day; then
//! the bill counts, the estimate stays visible, and re-importing changes nothing.

mod support;

use serde_json::{Value, json};
use support::embedded::{Embedded, amount};

const FROM: &str = "2024-09-01T00:00:00Z";
const TO: &str = "2024-10-01T00:00:00Z";
const SERVICE: &str = "Amazon Elastic Compute Cloud";

const RATE_CARD: &str = r#"
[[rate]]
provider = "aws"
service = "Amazon Elastic Compute Cloud"
metric = "vcpu_hours"
unit = "hour"
currency = "USD"
tiers = [{ unit_price = "0.05" }]
"#;

/// One FOCUS 1.2 row: the bill for the 10th, 1.30 USD where the rate card estimated 1.20.
const FOCUS: &str = "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodEnd,ChargePeriodStart,ContractedCost,EffectiveCost,InvoiceIssuerName,ListCost,PricingQuantity,PricingUnit,ProviderName,PublisherName,ServiceCategory,ServiceName,ResourceId
1.30000000001,acct-1,Acme,USD,2024-10-01T00:00:00Z,2024-09-01T00:00:00Z,Usage,,vCPU hours,2024-09-11T00:00:00Z,2024-09-10T00:00:00Z,1.30000000001,1.30000000001,AWS,1.5,24,Hours,AWS,AWS,Compute,Amazon Elastic Compute Cloud,i-1
";

/// 24 hourly vCPU-hours of live usage (no cost: the rate card prices them) on `day`.
fn usage(day: u32) -> Value {
    let events: Vec<Value> = (0..24)
        .map(|h| {
            json!({
                "id": format!("use-{day}-{h}"), "tenant": "acme",
                "timestamp": format!("2024-09-{day:02}T{h:02}:30:00Z"),
                "category": "hosting", "subKind": "compute", "provider": "aws", "service": SERVICE,
                "resource": "i-1", "metric": "vcpu_hours", "quantity": "1", "unit": "hour"
            })
        })
        .collect();
    Value::Array(events)
}

const SUMMARY: &str = "query($f:DateTime!,$t:DateTime!){costSummary(tenant:\"acme\",range:{from:$f,to:$t}){total{amount} billed{amount} estimated{amount} replacedEstimate{amount}}}";
const LINES: &str = "query($f:DateTime!,$t:DateTime!){costReconciliation(tenant:\"acme\",range:{from:$f,to:$t}){day service estimated{amount} billed{amount} difference{amount} record{amount} isBilled}}";

async fn summary(app: &Embedded) -> [rust_decimal::Decimal; 4] {
    let v = app.graphql(SUMMARY, json!({"f": FROM, "t": TO})).await;
    let s = &v["data"]["costSummary"];
    [
        amount(&s["total"]),
        amount(&s["billed"]),
        amount(&s["estimated"]),
        amount(&s["replacedEstimate"]),
    ]
}

fn d(s: &str) -> rust_decimal::Decimal {
    s.parse().expect("decimal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_focus_bill_replaces_the_rate_card_estimate_of_its_day() {
    let app = Embedded::start(|cfg, dir| {
        let card = dir.join("rate-card.toml");
        std::fs::write(&card, RATE_CARD).expect("write rate card");
        cfg.rate_card = Some(card);
    })
    .await;
    app.ingest(&usage(10)).await;
    app.ingest(&usage(11)).await;
    app.wait_for_events("acme", FROM, TO, 48).await;
    assert_eq!(summary(&app).await, [d("2.4"), d("0"), d("2.4"), d("0")]);

    let file = app.path("focus.csv");
    std::fs::write(&file, FOCUS).expect("write FOCUS file");
    let file = file.to_string_lossy().to_string();
    let out = app
        .run_cli(&["import", "focus", &file, "--tenant", "acme"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.wait_for_events("acme", FROM, TO, 49).await;

    // The 10th counts its bill (1.30000000001), the 11th its estimate (1.20).
    let after = summary(&app).await;
    assert_eq!(
        after,
        [d("2.50000000001"), d("1.30000000001"), d("1.2"), d("1.2")]
    );
    let v = app.graphql(LINES, json!({"f": FROM, "t": TO})).await;
    let lines = v["data"]["costReconciliation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(lines.len(), 2, "{v}");
    assert_eq!(lines[0]["day"], "2024-09-10");
    assert_eq!(lines[0]["isBilled"], true);
    assert_eq!(amount(&lines[0]["estimated"]), d("1.2"));
    assert_eq!(amount(&lines[0]["difference"]), d("0.10000000001"));
    assert_eq!(lines[1]["isBilled"], false);
    assert_eq!(amount(&lines[1]["record"]), d("1.2"));

    // Re-importing the same bill changes nothing.
    let out = app
        .run_cli(&["import", "focus", &file, "--tenant", "acme"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.barrier("barrier").await;
    assert_eq!(summary(&app).await, after);
}
