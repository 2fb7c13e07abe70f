//! FOCUS 1.0, 1.1, 1.2 (and 1.3 column names): mapping, identity and validation.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use common::*;
use costwatch_billing_import::{EventReader, Format, ImportError, ImportOptions, validate};
use costwatch_domain::TenantId;
use rust_decimal::Decimal;
use serde_json::Value;

const SHARED_SAMPLE: &str = "/work/shared/data/focus_sample_data/focus_sample.csv";

#[test]
fn focus_1_0_rows_map_to_billed_events_exactly() {
    let events = events(Format::Focus, &fixture("focus_1_0.csv"));
    assert_eq!(events.len(), 5);
    let ec2 = &events[0];
    assert_eq!(ec2["tenant"], "acme");
    assert_eq!(ec2["timestamp"], "2024-09-02T10:00:00Z");
    assert_eq!(ec2["category"], "hosting");
    assert_eq!(ec2["subKind"], "compute");
    assert_eq!(ec2["provider"], "aws");
    assert_eq!(ec2["service"], "Amazon Elastic Compute Cloud");
    assert_eq!(ec2["resource"], "i-0abc123");
    assert_eq!(ec2["unit"], "Hours");
    assert_eq!(ec2["quantity"], "1.00000000000");
    assert_eq!(ec2["cost"]["amount"], "0.08320000000");
    assert_eq!(ec2["cost"]["currency"], "USD");
    let labels = &ec2["labels"];
    assert_eq!(labels["billing_account"], "111122223333");
    assert_eq!(labels["sub_account"], "444455556666");
    assert_eq!(labels["region"], "us-east-1");
    assert_eq!(labels["charge_category"], "Usage");
    assert_eq!(labels["billing_period"], "2024-09-01");
    assert_eq!(labels["effective_cost"], "0.08320000000");
    assert_eq!(labels["list_cost"], "0.08320000000");
    assert_eq!(labels["contracted_cost"], "0.08320000000");
    assert_eq!(labels["resource_name"], "web-1");
    assert_eq!(labels["team"], "web");
    assert_eq!(labels["env"], "prod");
    assert!(labels.get("charge_class").is_none());
    assert!(
        ec2["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("focus-"))
    );

    // A tag named like an importer label is kept under `tag.`; the importer's label wins.
    let s3 = &events[1];
    assert_eq!(s3["subKind"], "storage");
    assert_eq!(s3["cost"]["amount"], "0.00000000503");
    assert_eq!(s3["labels"]["region"], "us-east-1");
    assert_eq!(s3["labels"]["tag.region"], "tag-wins-not");

    assert_eq!(events[2]["category"], "database");

    // A credit: no resource, no quantity, negative billed cost, no sub account.
    let credit = &events[3];
    assert_eq!(credit["resource"], "(none)");
    assert_eq!(credit["quantity"], "0");
    assert_eq!(credit["unit"], "(none)");
    assert_eq!(credit["cost"]["amount"], "-2.61370000000");
    assert_eq!(credit["labels"]["charge_category"], "Credit");
    assert_eq!(credit["labels"]["effective_cost"], "-3.00000000000");
    assert!(credit["labels"].get("sub_account").is_none());

    // A refund: negative quantity on a billed row is admitted by the domain.
    let refund = &events[4];
    assert_eq!(refund["quantity"], "-0.00152815692");
    assert_eq!(refund["provider"], "microsoft");
    assert_eq!(refund["subKind"], "network");
}

#[test]
fn focus_1_1_subcategories_corrections_and_api_services() {
    let events = events(Format::Focus, &fixture("focus_1_1.csv"));
    assert_eq!(events.len(), 4);
    assert_eq!(events[1]["subKind"], "cdn");
    let correction = &events[2];
    assert_eq!(correction["labels"]["charge_class"], "Correction");
    assert_eq!(correction["labels"]["billing_period"], "2024-10-01");
    // The correction is dated in the charge period it corrects, and is its own event.
    assert_eq!(correction["timestamp"], events[0]["timestamp"]);
    assert_ne!(correction["id"], events[0]["id"]);
    assert_eq!(correction["cost"]["amount"], "-0.01000000000");
    assert_eq!(events[3]["category"], "api");
    assert_eq!(events[3]["subKind"], "requests");
}

#[test]
fn focus_1_2_with_a_byte_order_mark_and_new_columns() {
    let events = events(Format::Focus, &fixture("focus_1_2.csv"));
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["labels"]["charge_category"], "Tax");
    assert_eq!(events[1]["category"], "other");
    assert_eq!(events[1]["cost"]["amount"], "1.23");
}

#[test]
fn focus_1_3_provider_column_names_are_accepted() {
    let events = events(Format::Focus, &fixture("focus_1_3_names.csv"));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["provider"], "aws");
}

#[test]
fn ids_depend_on_the_charge_not_on_the_file() {
    let v10 = events(Format::Focus, &fixture("focus_1_0.csv"));
    let v11 = events(Format::Focus, &fixture("focus_1_1.csv"));
    // The same EC2 charge, written with other timestamp syntax and null tokens in another version.
    assert_eq!(v10[0]["id"], v11[0]["id"]);
    let ids: BTreeSet<_> = v10.iter().map(|e| e["id"].to_string()).collect();
    assert_eq!(ids.len(), v10.len());

    // Columns in another order: the same ids.
    let dir = tempfile::tempdir().expect("tempdir");
    let reordered = dir.path().join("reordered.csv");
    reverse_columns(&fixture("focus_1_0.csv"), &reordered);
    let again = events(Format::Focus, &reordered);
    let ids_again: BTreeSet<_> = again.iter().map(|e| e["id"].to_string()).collect();
    assert_eq!(ids, ids_again);
}

fn reverse_columns(from: &Path, to: &Path) {
    let mut reader = csv::Reader::from_path(from).expect("open");
    let mut writer = csv::Writer::from_path(to).expect("create");
    let header: Vec<String> = reader
        .headers()
        .expect("h")
        .iter()
        .rev()
        .map(String::from)
        .collect();
    writer.write_record(&header).expect("write");
    for r in reader.records() {
        let r = r.expect("record");
        writer.write_record(r.iter().rev()).expect("write");
    }
    writer.flush().expect("flush");
}

#[test]
fn broken_rows_are_reported_with_row_line_column_and_reason() {
    let (reader, _) =
        costwatch_billing_import::source::open(&fixture("focus_broken.csv")).expect("open");
    let report = validate(
        EventReader::new(Format::Focus, reader, options()).expect("header"),
        100,
    );
    assert_eq!(report.rows, 5);
    assert_eq!(report.invalid_rows, 3);
    let found: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    for expected in [
        (2, "BilledCost"),
        (4, "ChargePeriodStart"),
        (4, "ServiceCategory"),
        (5, "BillingCurrency"),
        (5, "Tags"),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    assert_eq!(report.error_count as usize, report.errors.len());
    let billed = &report.errors[0];
    assert_eq!(billed.line, 3, "the header is line 1");
    assert!(billed.reason.contains("12,5"), "{}", billed.reason);
    assert!(!report.is_valid());

    // The list is capped; the count is not.
    let (reader, _) =
        costwatch_billing_import::source::open(&fixture("focus_broken.csv")).expect("open");
    let capped = validate(
        EventReader::new(Format::Focus, reader, options()).expect("header"),
        2,
    );
    assert_eq!(capped.errors.len(), 2);
    assert_eq!(capped.error_count, report.error_count);
}

#[test]
fn a_missing_mandatory_column_fails_before_any_row() {
    let text = std::fs::read_to_string(fixture("focus_1_1.csv")).expect("read");
    let broken = text.replacen("BilledCost", "BilledCosts", 1);
    match EventReader::new(Format::Focus, broken.as_bytes(), options()) {
        Err(ImportError::Header(errors)) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].column, "BilledCost");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a header without BilledCost was accepted"),
    }
}

#[test]
fn a_row_with_a_wrong_field_count_is_a_row_error() {
    let mut text = std::fs::read_to_string(fixture("focus_1_1.csv")).expect("read");
    text.push_str("only,three,fields\n");
    let outcomes: Vec<_> = EventReader::new(Format::Focus, text.as_bytes(), options())
        .expect("header")
        .collect();
    assert_eq!(outcomes.len(), 5);
    let errors = outcomes[4].as_ref().expect_err("short row");
    assert_eq!(errors[0].row, 5);
    assert_eq!(errors[0].line, 6);
    assert!(errors[0].reason.contains("has 3 fields"), "{errors:?}");
}

#[test]
fn the_tenant_comes_from_a_column_when_asked() {
    let opts = ImportOptions {
        tenant_column: Some("SubAccountId".into()),
        ..options()
    };
    let outcomes = read_with(Format::Focus, &fixture("focus_1_0.csv"), opts.clone());
    let tenants: Vec<String> = outcomes
        .iter()
        .map(|o| {
            o.as_ref().expect("valid")["tenant"]
                .as_str()
                .expect("t")
                .to_string()
        })
        .collect();
    // The credit row has no sub account: it falls back to --tenant. The Azure row's sub account is
    // the fixture's default too.
    assert_eq!(tenants[0], "444455556666");
    assert_eq!(tenants[3], "acme");

    let no_default = ImportOptions {
        tenant: None,
        ..opts
    };
    let outcomes = read_with(Format::Focus, &fixture("focus_1_0.csv"), no_default);
    let errors = outcomes[3].as_ref().expect_err("credit has no tenant");
    assert_eq!(errors[0].column, "SubAccountId");

    let bad_column = ImportOptions {
        tenant_column: Some("Team".into()),
        ..options()
    };
    let (reader, _) =
        costwatch_billing_import::source::open(&fixture("focus_1_0.csv")).expect("open");
    assert!(matches!(
        EventReader::new(Format::Focus, reader, bad_column),
        Err(ImportError::Header(e)) if e[0].column == "Team"
    ));
}

#[test]
fn gzip_files_read_the_same_as_plain_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("focus.csv.gz");
    let plain = std::fs::read(fixture("focus_1_1.csv")).expect("read");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::default(),
    );
    encoder.write_all(&plain).expect("write");
    encoder.finish().expect("finish");
    assert_eq!(
        events(Format::Focus, &gz),
        events(Format::Focus, &fixture("focus_1_1.csv"))
    );
}

#[test]
fn the_shared_focus_sample_maps_every_row_exactly() {
    let path = Path::new(SHARED_SAMPLE);
    if !path.exists() {
        eprintln!("skipped: {SHARED_SAMPLE} is not present");
        return;
    }
    let events = events(Format::Focus, path);
    let (expected_sum, rows) = column_sum(path, "BilledCost");
    assert_eq!(events.len(), rows);
    let sum: Decimal = events.iter().map(amount).sum();
    assert_eq!(sum, expected_sum);
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), rows, "every row is its own event");
    let categories: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["category"].as_str())
        .collect();
    assert!(
        categories.contains("hosting") && categories.contains("database"),
        "{categories:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| matches!(&e["labels"]["billing_account"], Value::String(_)))
    );
}

#[test]
fn every_invalid_tenant_is_refused_up_front() {
    assert!(TenantId::parse("a b").is_err());
    let opts = ImportOptions {
        tenant: None,
        tenant_column: None,
        ..options()
    };
    let text = std::fs::read_to_string(fixture("focus_1_1.csv")).expect("read");
    assert!(matches!(
        EventReader::new(Format::Focus, text.as_bytes(), opts),
        Err(ImportError::NoTenant)
    ));
}
