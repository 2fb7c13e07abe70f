#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use costwatch_billing_import::{EventReader, Format, ImportOptions, RowError};
use costwatch_domain::TenantId;
use rust_decimal::Decimal;
use serde_json::Value;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn options() -> ImportOptions {
    ImportOptions {
        tenant: Some(TenantId::parse("acme").expect("tenant")),
        tenant_column: None,
        now: "2026-11-28T00:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("now"),
    }
}

/// Every row's outcome, in file order.
pub fn read_with(
    format: Format,
    path: &Path,
    opts: ImportOptions,
) -> Vec<Result<Value, Vec<RowError>>> {
    let (reader, _) = costwatch_billing_import::source::open(path).expect("open");
    EventReader::new(format, reader, opts)
        .expect("header")
        .collect()
}

/// Every row's event; panics on the first broken row.
pub fn events(format: Format, path: &Path) -> Vec<Value> {
    read_with(format, path, options())
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("row {}: {e:?}", i + 1)))
        .collect()
}

pub fn amount(event: &Value) -> Decimal {
    event["cost"]["amount"]
        .as_str()
        .expect("amount")
        .parse()
        .expect("decimal")
}

/// Sum of one column, read with the plain csv crate (independent of the importer's mapping).
pub fn column_sum(path: &Path, column: &str) -> (Decimal, usize) {
    let mut reader = csv::Reader::from_path(path).expect("open");
    let position = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == column)
        .expect("column");
    let mut sum = Decimal::ZERO;
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("record");
        sum += record[position].parse::<Decimal>().expect("decimal");
        rows += 1;
    }
    (sum, rows)
}
