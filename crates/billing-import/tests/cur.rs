//! AWS CUR 2.0 and legacy CUR: mapping, identity and validation.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use costwatch_billing_import::{EventReader, Format, ImportError};
use rust_decimal::Decimal;

const LEGACY_SAMPLE: &str = "/work/shared/data/focus_converters/native_samples/aws_cur_legacy_sample-anonymous-aws-export-dataset.csv";
const KOKU_SAMPLES: [&str; 2] = [
    "/work/shared/data/koku/aws/test_cur.csv",
    "/work/shared/data/koku/aws/2023-06-01.csv",
];

#[test]
fn cur2_rows_map_to_billed_events() {
    let events = events(Format::Cur, &fixture("cur2.csv"));
    assert_eq!(events.len(), 6);
    let ec2 = &events[0];
    assert_eq!(ec2["timestamp"], "2024-09-02T10:00:00Z");
    assert_eq!(ec2["category"], "hosting");
    assert_eq!(ec2["subKind"], "compute");
    assert_eq!(ec2["provider"], "aws");
    assert_eq!(ec2["service"], "AmazonEC2");
    assert_eq!(ec2["resource"], "i-0abc123");
    assert_eq!(ec2["metric"], "BoxUsage:t3.large");
    assert_eq!(ec2["unit"], "Hrs");
    assert_eq!(ec2["quantity"], "1.0");
    assert_eq!(ec2["cost"]["amount"], "0.0832");
    let labels = &ec2["labels"];
    assert_eq!(labels["billing_account"], "123412340534");
    assert_eq!(labels["sub_account"], "222233334444");
    assert_eq!(labels["region"], "us-east-1");
    assert_eq!(labels["charge_category"], "Usage");
    assert_eq!(labels["billing_period"], "2024-09-01");
    assert_eq!(labels["list_cost"], "0.0832");
    assert_eq!(labels["net_unblended_cost"], "0.0832");
    assert_eq!(labels["user_team"], "web");
    assert!(ec2["id"].as_str().is_some_and(|id| id.starts_with("cur-")));

    assert_eq!(events[1]["subKind"], "storage");
    assert_eq!(events[1]["cost"]["amount"], "0.00000000503");
    assert_eq!(events[2]["category"], "database");
    assert_eq!(events[2]["subKind"], "queries");
    assert_eq!(events[3]["cost"]["amount"], "-2.6137");
    assert_eq!(events[3]["resource"], "(none)");
    assert_eq!(events[3]["labels"]["charge_category"], "Credit");
    assert_eq!(events[4]["category"], "third_party", "AWS Marketplace");
    assert_eq!(events[5]["labels"]["charge_category"], "Tax");
    let ids: BTreeSet<_> = events.iter().map(|e| e["id"].to_string()).collect();
    assert_eq!(ids.len(), events.len());
}

#[test]
fn a_missing_cur_column_fails_before_any_row() {
    let text = std::fs::read_to_string(fixture("cur2.csv")).expect("read");
    let broken = text.replacen("line_item_unblended_cost", "line_item_cost", 1);
    match EventReader::new(Format::Cur, broken.as_bytes(), options()) {
        Err(ImportError::Header(errors)) => {
            assert_eq!(errors[0].column, "line_item_unblended_cost", "{errors:?}");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted a CUR header without the cost"),
    }
}

#[test]
fn broken_cur_values_name_their_columns() {
    let text = std::fs::read_to_string(fixture("cur2.csv")).expect("read");
    let broken = text
        .replacen("0.0832,0.0832,0.0832,0.0832", "0.0832,1e,0.0832,0.0832", 1)
        .replacen(
            "2024-09-02T00:00:00Z,2024-09-03",
            "2024-09-02T00:00:00Z,2024-09-01",
            1,
        );
    let outcomes: Vec<_> = EventReader::new(Format::Cur, broken.as_bytes(), options())
        .expect("header")
        .collect();
    let first = outcomes[0].as_ref().expect_err("bad cost");
    assert_eq!(first[0].column, "line_item_unblended_cost");
    assert_eq!(first[0].row, 1);
    let second = outcomes[1].as_ref().expect_err("end before start");
    assert_eq!(second[0].column, "line_item_usage_end_date");
    assert!(outcomes[2].is_ok());
}

#[test]
fn the_legacy_cur_sample_maps_every_row_exactly() {
    let path = Path::new(LEGACY_SAMPLE);
    if !path.exists() {
        eprintln!("skipped: {LEGACY_SAMPLE} is not present");
        return;
    }
    let events = events(Format::Cur, path);
    let (expected, rows) = column_sum(path, "lineItem/UnblendedCost");
    assert_eq!(events.len(), rows);
    let sum: Decimal = events.iter().map(amount).sum();
    assert_eq!(sum, expected);
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), rows, "every line item is its own event");
    assert!(
        events
            .iter()
            .any(|e| e["labels"]["charge_category"] == "Tax")
    );
    assert!(events.iter().any(|e| e["category"] == "api"));
}

#[test]
fn koku_legacy_cur_fixtures_validate_or_are_refused_precisely() {
    let [broken, good] = KOKU_SAMPLES;
    if !Path::new(good).exists() || !Path::new(broken).exists() {
        eprintln!("skipped: the koku samples are not present");
        return;
    }
    let outcomes = read_with(Format::Cur, Path::new(good), options());
    assert_eq!(outcomes.len(), 3);
    for (i, o) in outcomes.iter().enumerate() {
        let event = o
            .as_ref()
            .unwrap_or_else(|e| panic!("{good} row {}: {e:?}", i + 1));
        assert_eq!(event["cost"]["currency"], "NOK");
    }
    // Koku's hand-edited test_cur.csv has a 131-column header over 130-field rows: every row is
    // refused, and says so.
    let outcomes = read_with(Format::Cur, Path::new(broken), options());
    assert_eq!(outcomes.len(), 19);
    for (i, o) in outcomes.iter().enumerate() {
        let errors = o.as_ref().expect_err("short row");
        assert_eq!(errors[0].line, i as u64 + 2);
        assert_eq!(errors[0].reason, "has 130 fields; the header has 131");
    }
}
