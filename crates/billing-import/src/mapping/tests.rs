use std::path::PathBuf;

use chrono::{DateTime, Utc};
use costwatch_domain::TenantId;
use serde_json::{Value, json};

use super::*;
use crate::{EventReader, ImportError, ImportOptions, RowError};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name)
}

fn example_mapping() -> Mapping {
    Mapping::load(&example("custom-provider.toml")).expect("the example mapping is valid")
}

fn example_csv() -> String {
    std::fs::read_to_string(example("custom-provider.csv")).expect("example csv")
}

fn options() -> ImportOptions {
    ImportOptions {
        tenant: Some(TenantId::parse("acme").expect("tenant")),
        tenant_column: None,
        now: "2026-11-28T00:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("now"),
    }
}

fn outcomes(mapping: &Mapping, csv: &str) -> Vec<Result<Value, Vec<RowError>>> {
    EventReader::new(mapping.clone(), csv.as_bytes(), options())
        .expect("header")
        .collect()
}

fn events(mapping: &Mapping, csv: &str) -> Vec<Value> {
    outcomes(mapping, csv)
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("row {}: {e:?}", i + 1)))
        .collect()
}

fn key_errors(text: &str) -> Vec<String> {
    match Mapping::parse(text) {
        Err(MappingError::Invalid(errors)) => errors.iter().map(KeyError::to_string).collect(),
        other => panic!("expected key errors, got {other:?}"),
    }
}

const MINIMAL: &str = r#"
id_prefix = "tiny"
[columns]
timestamp = "Date"
cost = "Cost"
service = "Service"
identity = ["Date", "Service"]
[fixed]
currency = "USD"
provider = "tiny"
category = "api"
"#;

#[test]
fn a_small_csv_maps_to_exact_events() {
    let events = events(&example_mapping(), &example_csv());
    assert_eq!(events.len(), 5);
    let mut first = events[0].clone();
    let id = first
        .as_object_mut()
        .and_then(|o| o.remove("id"))
        .expect("id");
    assert!(
        id.as_str()
            .is_some_and(|id| id.starts_with("acmecloud-") && id.len() == 46),
        "{id}"
    );
    assert_eq!(
        first,
        json!({
            "tenant": "acme", "timestamp": "2024-09-01T00:00:00Z", "category": "hosting",
            "subKind": "compute", "provider": "acmecloud", "service": "Compute",
            "resource": "vm-web-1", "metric": "vCPU hours", "quantity": "720", "unit": "hour",
            "cost": {"amount": "43.20", "currency": "EUR"},
            "labels": {"invoice": "INV-1001", "project": "web", "region": "fsn1"},
        })
    );
    // Mapped value with its sub-kind; plain category (sub-kind inferred by the domain).
    assert_eq!(events[1]["subKind"], "storage");
    assert_eq!(events[2]["category"], "database");
    assert_eq!(events[3]["timestamp"], "2024-09-02T00:00:00Z");
    assert_eq!(events[3]["cost"]["amount"], "1.50");
    // An unmapped family takes fixed.category; empty columns give "(none)", 0 and no label.
    let support = &events[4];
    assert_eq!(support["category"], "other");
    assert_eq!(support["resource"], "(none)");
    assert_eq!(support["quantity"], "0");
    assert_eq!(support["unit"], "(none)");
    assert_eq!(support["tenant"], "acme");
    assert_eq!(support["labels"], json!({"invoice": "INV-1001"}));
}

#[test]
fn reimporting_gives_the_same_ids_even_reordered_or_reformatted() {
    let mapping = example_mapping();
    let csv = example_csv();
    let ids = |events: Vec<Value>| -> Vec<String> {
        let mut ids: Vec<String> = events
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    };
    let first = ids(events(&mapping, &csv));
    let mut unique = first.clone();
    unique.dedup();
    assert_eq!(unique.len(), first.len(), "every charge has its own id");
    assert_eq!(ids(events(&mapping, &csv)), first);

    // An overlapping export: rows reversed, the header's columns in another order.
    let mut lines: Vec<&str> = csv.lines().collect();
    lines[1..].reverse();
    let reversed = lines.join("\n");
    assert_eq!(ids(events(&mapping, &reversed)), first);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let swap =
        |r: &csv::StringRecord| -> Vec<String> { r.iter().rev().map(str::to_string).collect() };
    writer.write_record(swap(&header)).expect("write");
    for record in reader.records() {
        writer
            .write_record(swap(&record.expect("record")))
            .expect("write");
    }
    let swapped = String::from_utf8(writer.into_inner().expect("csv")).expect("utf8");
    assert_eq!(ids(events(&mapping, &swapped)), first);
}

#[test]
fn identity_normalises_timestamp_and_decimals() {
    let mapping = Mapping::parse(&MINIMAL.replace(
        r#"identity = ["Date", "Service"]"#,
        r#"identity = ["Date", "Service", "Cost"]"#,
    ))
    .expect("mapping");
    let a = events(
        &mapping,
        "Date,Service,Cost\n2024-09-01T00:00:00Z,sms,1.50\n",
    );
    let b = events(&mapping, "Date,Service,Cost\n2024-09-01 00:00:00,sms,1.5\n");
    let c = events(&mapping, "Date,Service,Cost\n2024-09-01 00:00:00,sms,1.6\n");
    assert_eq!(a[0]["id"], b[0]["id"]);
    assert_ne!(a[0]["id"], c[0]["id"]);
}

#[test]
fn a_bad_row_reports_row_column_and_reason() {
    let csv = example_csv()
        .replace("4.40,EUR", "4,40,EUR")
        .replace("02/09/2024,acme", "2024-09-02,acme");
    // "4,40" splits into two fields: the whole row is broken.
    let broken: Vec<_> = outcomes(&example_mapping(), &csv)
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert_eq!(broken.len(), 2);
    assert_eq!(broken[0][0].row, 2);
    assert_eq!(broken[0][0].reason, "has 14 fields; the header has 13");
    assert_eq!(
        broken[1],
        vec![RowError {
            row: 4,
            line: 5,
            column: "Usage Date".into(),
            reason: "\"2024-09-02\" is not a timestamp in the mapping's timestamp_format \
                     \"%d/%m/%Y\""
                .into(),
        }]
    );

    let csv = example_csv()
        .replace("57.60,EUR", "\"57,60\",EUR")
        .replace("Databases", "Mainframes");
    let mapping = Mapping::parse(
        &std::fs::read_to_string(example("custom-provider.toml"))
            .expect("read")
            .replace("category = \"other\"", ""),
    )
    .expect("mapping");
    let row3 = outcomes(&mapping, &csv)
        .remove(2)
        .expect_err("row 3 is broken");
    let found: Vec<String> = row3.iter().map(RowError::to_string).collect();
    assert_eq!(
        found,
        [
            "row 3 (line 4), column Amount: \"57,60\" is not a decimal number (at most 28 \
             significant digits)",
            "row 3 (line 4), column Product Family: \"Mainframes\" is not in category_map nor a \
             Costwatch category, and no fixed.category default is set",
        ]
    );
}

#[test]
fn header_problems_name_the_mapping_key_before_any_row() {
    let csv = example_csv()
        .replace("Amount", "Amt")
        .replace(",Region", ",Zone");
    match EventReader::new(example_mapping(), csv.as_bytes(), options()) {
        Err(ImportError::Header(errors)) => {
            let found: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.column, e.reason))
                .collect();
            assert_eq!(
                found,
                [
                    "columns.cost: column \"Amount\" is not in the file header",
                    "labels.region: column \"Region\" is not in the file header",
                ]
            );
        }
        Err(e) => panic!("expected a header error, got {e}"),
        Ok(_) => panic!("expected a header error"),
    }
}

#[test]
fn mapping_problems_are_all_reported_with_their_key() {
    let errors = key_errors(
        r#"
id_prefix = "Acme Cloud"
timestamp_format = "%Q"
[columns]
timestamp = "Date"
currency = "Cur"
identity = ["Service", "Service"]
[fixed]
currency = "EURO"
category = "hosting/queries"
sub_kind = "fast"
[category_map]
"Block Storage" = "disk"
[labels]
team = " "
"#,
    );
    assert_eq!(
        errors,
        [
            "id_prefix: \"Acme Cloud\" must be 1 to 64 characters of a-z, 0-9, - and _",
            "timestamp_format: \"%Q\" is not a valid strftime format (e.g. \"%d/%m/%Y %H:%M\")",
            "columns.cost: is required",
            "columns.currency: give columns.currency or fixed.currency, not both",
            "columns.provider: is required: give columns.provider or fixed.provider",
            "columns.service: is required: give columns.service or fixed.service",
            "fixed.sub_kind: \"fast\" must be one of requests, data_transfer, premium_features, \
             compute, storage, network, cdn, queries, backup_replication, general",
            "fixed.category: \"hosting/queries\": hosting admits the sub-kinds compute, storage, \
             network, cdn, general",
            "category_map: maps values of columns.category, which is not given",
            "category_map.\"Block Storage\": \"disk\": the category must be one of api, hosting, \
             database, third_party, other",
            "columns.identity: lists \"Service\" twice",
            "columns.identity: must include the timestamp column \"Date\": without it the same \
             charge on different days would share one event id and all but one would be dropped",
            "labels.team: must name a column",
        ]
    );
}

#[test]
fn unknown_and_mistyped_keys_are_named() {
    let errors = key_errors(&MINIMAL.replace("cost = \"Cost\"", "cost = \"Cost\"\namt = \"A\""));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("columns.amt: unknown field `amt`, expected one of"),
        "{errors:?}"
    );
    assert!(errors[0].ends_with("(line 6)"), "{errors:?}");

    let errors = key_errors(&MINIMAL.replace(r#"["Date", "Service"]"#, r#""Date""#));
    assert!(
        errors[0]
            .starts_with("columns.identity: invalid type: string \"Date\", expected a sequence"),
        "{errors:?}"
    );
    let errors = key_errors(&format!("{MINIMAL}\n[extra]\nx = 1\n"));
    assert!(
        errors[0].starts_with("extra: unknown field `extra`"),
        "{errors:?}"
    );
    assert_eq!(
        key_errors("[columns]\ncost = \"A\"\n")[0],
        "id_prefix: is required (event ids are \"<id_prefix>-<uuid>\", e.g. the provider's name)"
    );
}

#[test]
fn the_mapping_can_name_the_tenant_column_and_the_caller_can_override_it() {
    let mapping = Mapping::parse(&format!(
        "{}\n",
        MINIMAL.replace(
            "service = \"Service\"",
            "service = \"Service\"\ntenant = \"Team\""
        )
    ))
    .expect("mapping");
    let csv = "Date,Service,Cost,Team,Other\n2024-09-01,sms,1,web,ops\n2024-09-01,mms,1,,ops\n";
    let no_default = ImportOptions {
        tenant: None,
        ..options()
    };
    let rows: Vec<_> = EventReader::new(mapping.clone(), csv.as_bytes(), no_default.clone())
        .expect("the mapping's tenant column is enough")
        .collect();
    assert_eq!(rows[0].as_ref().expect("row 1")["tenant"], "web");
    let err = rows[1].as_ref().expect_err("row 2 has no tenant");
    assert_eq!(err[0].column, "Team");

    let overridden = ImportOptions {
        tenant_column: Some("Other".into()),
        ..no_default
    };
    let rows: Vec<_> = EventReader::new(mapping, csv.as_bytes(), overridden)
        .expect("header")
        .collect();
    assert_eq!(rows[1].as_ref().expect("row 2")["tenant"], "ops");
}

#[test]
fn validator_errors_on_fixed_values_name_the_mapping_key() {
    // A TOML escape: the validator, not the mapping check, refuses control characters.
    let mapping =
        Mapping::parse(&MINIMAL.replace("provider = \"tiny\"", r#"provider = "p\u0007""#))
            .expect("mapping");
    let errors = outcomes(&mapping, "Date,Service,Cost\n2024-09-01,sms,1\n")
        .remove(0)
        .expect_err("control character");
    assert_eq!(errors[0].column, "fixed.provider");
}
