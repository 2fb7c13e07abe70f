//! Parquet billing files read like their CSV form. The files are written here, from the CSV
//! fixtures, with the parquet crate's writer and typed as exporters type them (DECIMAL costs,
//! TIMESTAMP periods, MAP tags), so no binary fixture is checked in.

mod common;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use common::*;
use costwatch_billing_import::source::{self, Input};
use costwatch_billing_import::{EventReader, Format, ImportError, RowError, parse_timestamp};
use parquet::basic::{Compression, GzipLevel};
use parquet::data_type::{
    ByteArray, ByteArrayType, DoubleType, FixedLenByteArray, FixedLenByteArrayType, Int32Type,
    Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
use parquet::schema::parser::parse_message_type;
use rust_decimal::Decimal;
use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::Value;

/// How a CSV column is typed in the Parquet file.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Text,
    /// DECIMAL(38,11) in 16 bytes.
    Decimal,
    Double,
    /// TIMESTAMP(unit, adjusted to UTC).
    Timestamp(&'static str, bool),
    Date,
    /// MAP<string,string> from the CSV's JSON object.
    Map,
}

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_csv(path: &Path) -> Table {
    let mut reader = csv::Reader::from_path(path).expect("open");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    Table { header, rows }
}

fn write_csv(path: &Path, table: &Table) {
    let mut writer = csv::Writer::from_path(path).expect("create");
    writer.write_record(&table.header).expect("header");
    for row in &table.rows {
        writer.write_record(row).expect("row");
    }
    writer.flush().expect("flush");
}

fn schema(table: &Table, kind: &dyn Fn(&str) -> Kind) -> String {
    let mut text = String::from("message billing {\n");
    for name in &table.header {
        let field = match kind(name) {
            Kind::Text => format!("OPTIONAL BYTE_ARRAY {name} (UTF8);"),
            Kind::Decimal => format!("OPTIONAL FIXED_LEN_BYTE_ARRAY (16) {name} (DECIMAL(38,11));"),
            Kind::Double => format!("OPTIONAL DOUBLE {name};"),
            Kind::Timestamp(unit, utc) => {
                format!("OPTIONAL INT64 {name} (TIMESTAMP({unit},{utc}));")
            }
            Kind::Date => format!("OPTIONAL INT32 {name} (DATE);"),
            Kind::Map => format!(
                "OPTIONAL group {name} (MAP) {{ REPEATED group key_value {{ \
                 REQUIRED BYTE_ARRAY key (UTF8); OPTIONAL BYTE_ARRAY value (UTF8); }} }}"
            ),
        };
        text.push_str(&field);
        text.push('\n');
    }
    text.push('}');
    text
}

/// Writes `table` as Parquet, `rows_per_group` rows per row group. Empty and `NULL` cells are
/// nulls.
fn write_parquet(
    path: &Path,
    table: &Table,
    kind: &dyn Fn(&str) -> Kind,
    compression: Compression,
    rows_per_group: usize,
) {
    let schema = Arc::new(parse_message_type(&schema(table, kind)).expect("schema"));
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let file = File::create(path).expect("create");
    let mut writer = SerializedFileWriter::new(file, schema, props).expect("writer");
    for chunk in table.rows.chunks(rows_per_group) {
        let mut group = writer.next_row_group().expect("row group");
        for (i, name) in table.header.iter().enumerate() {
            let cells: Vec<Option<&str>> = chunk
                .iter()
                .map(|row| Some(row[i].as_str()).filter(|v| !v.is_empty() && *v != "NULL"))
                .collect();
            write_column(&mut group, kind(name), &cells);
        }
        group.close().expect("close row group");
    }
    writer.close().expect("close file");
}

fn write_column(
    group: &mut SerializedRowGroupWriter<'_, File>,
    kind: Kind,
    cells: &[Option<&str>],
) {
    if kind == Kind::Map {
        return write_map(group, cells);
    }
    let defs: Vec<i16> = cells.iter().map(|c| i16::from(c.is_some())).collect();
    let present = cells.iter().flatten();
    let mut column = group.next_column().expect("column").expect("a column");
    match kind {
        Kind::Text => {
            let values: Vec<ByteArray> = present
                .map(|v| ByteArray::from(v.as_bytes().to_vec()))
                .collect();
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, Some(&defs), None)
        }
        Kind::Decimal => {
            let values: Vec<FixedLenByteArray> = present
                .map(|v| {
                    let exact: Decimal = v.parse().expect("decimal");
                    let mut scaled = exact;
                    scaled.rescale(11);
                    assert_eq!(scaled, exact, "{v} fits DECIMAL(38,11)");
                    FixedLenByteArray::from(scaled.mantissa().to_be_bytes().to_vec())
                })
                .collect();
            column
                .typed::<FixedLenByteArrayType>()
                .write_batch(&values, Some(&defs), None)
        }
        Kind::Double => {
            let values: Vec<f64> = present.map(|v| v.parse().expect("double")).collect();
            column
                .typed::<DoubleType>()
                .write_batch(&values, Some(&defs), None)
        }
        Kind::Timestamp(unit, _) => {
            let values: Vec<i64> = present
                .map(|v| {
                    let t = parse_timestamp(v).expect("timestamp");
                    match unit {
                        "MILLIS" => t.timestamp_millis(),
                        "MICROS" => t.timestamp_micros(),
                        _ => t.timestamp_nanos_opt().expect("nanos"),
                    }
                })
                .collect();
            column
                .typed::<Int64Type>()
                .write_batch(&values, Some(&defs), None)
        }
        Kind::Date => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
            let values: Vec<i32> = present
                .map(|v| {
                    let day = parse_timestamp(v).expect("date").date_naive();
                    i32::try_from((day - epoch).num_days()).expect("days")
                })
                .collect();
            column
                .typed::<Int32Type>()
                .write_batch(&values, Some(&defs), None)
        }
        Kind::Map => unreachable!(),
    }
    .expect("write");
    column.close().expect("close column");
}

/// A MAP column: key and value leaves; definition 0 = null map, 1 = empty, 2 = key (3 = value).
fn write_map(group: &mut SerializedRowGroupWriter<'_, File>, cells: &[Option<&str>]) {
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    let (mut key_defs, mut value_defs, mut reps) = (Vec::new(), Vec::new(), Vec::new());
    for cell in cells {
        let pairs = cell.map(json_pairs);
        match pairs.as_deref() {
            None | Some([]) => {
                let def = i16::from(pairs.is_some());
                key_defs.push(def);
                value_defs.push(def);
                reps.push(0);
            }
            Some(pairs) => {
                for (i, (k, v)) in pairs.iter().enumerate() {
                    reps.push(i16::from(i > 0));
                    key_defs.push(2);
                    keys.push(ByteArray::from(k.as_bytes().to_vec()));
                    value_defs.push(3);
                    values.push(ByteArray::from(v.as_bytes().to_vec()));
                }
            }
        }
    }
    for (data, defs) in [(&keys, &key_defs), (&values, &value_defs)] {
        let mut column = group.next_column().expect("column").expect("a column");
        column
            .typed::<ByteArrayType>()
            .write_batch(data, Some(defs), Some(&reps))
            .expect("write map");
        column.close().expect("close column");
    }
}

/// A JSON object's string entries in file order.
fn json_pairs(text: &str) -> Vec<(String, String)> {
    struct Pairs;
    impl<'de> Visitor<'de> for Pairs {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    (&mut de).deserialize_map(Pairs).expect("JSON object")
}

fn focus_kind(name: &str) -> Kind {
    match name {
        "BilledCost"
        | "EffectiveCost"
        | "ListCost"
        | "ContractedCost"
        | "PricingQuantity"
        | "ConsumedQuantity"
        | "ListUnitPrice"
        | "ContractedUnitPrice" => Kind::Decimal,
        "ChargePeriodStart" => Kind::Timestamp("MICROS", true),
        "ChargePeriodEnd" => Kind::Timestamp("NANOS", false),
        "BillingPeriodStart" => Kind::Date,
        "BillingPeriodEnd" => Kind::Timestamp("MILLIS", true),
        _ => Kind::Text,
    }
}

fn cur_kind(name: &str) -> Kind {
    match name {
        "line_item_unblended_cost" | "line_item_blended_cost" | "line_item_net_unblended_cost" => {
            Kind::Decimal
        }
        // AWS writes these as doubles.
        "line_item_usage_amount" | "line_item_unblended_rate" | "pricing_public_on_demand_cost" => {
            Kind::Double
        }
        n if n.ends_with("_date") => Kind::Timestamp("MILLIS", true),
        "product" | "resource_tags" | "cost_category" => Kind::Map,
        _ => Kind::Text,
    }
}

/// Every row's outcome, the file opened as the CLI opens it (Parquet recognised by content).
fn outcomes(format: Format, path: &Path) -> Vec<Result<Value, Vec<RowError>>> {
    let (input, _) = source::open_any(path).expect("open");
    assert!(
        matches!(input, Input::Parquet(..)),
        "{} is Parquet",
        path.display()
    );
    EventReader::from_input(format, input, options())
        .expect("header")
        .collect()
}

fn parquet_events(format: Format, path: &Path) -> Vec<Value> {
    outcomes(format, path)
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("row {}: {e:?}", i + 1)))
        .collect()
}

/// Decimal texts by value: a DECIMAL(38,11) cost reads `1.23000000000` where the CSV says `1.23`.
fn by_value(v: &Value) -> Value {
    match v {
        Value::String(s) => match s.parse::<Decimal>() {
            Ok(d) => Value::String(d.normalize().to_string()),
            Err(_) => v.clone(),
        },
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), by_value(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(by_value).collect()),
        other => other.clone(),
    }
}

/// Same events, ids and all; decimal texts compared by value.
fn assert_same_events(parquet: &[Value], csv: &[Value]) {
    assert_eq!(parquet.len(), csv.len());
    for (i, (p, c)) in parquet.iter().zip(csv).enumerate() {
        assert_eq!(p["id"], c["id"], "row {} id", i + 1);
        assert_eq!(by_value(p), by_value(c), "row {}", i + 1);
    }
}

#[test]
fn focus_1_2_parquet_with_typed_columns_gives_the_csv_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("focus.parquet");
    let table = read_csv(&fixture("focus_1_2.csv"));
    write_parquet(&path, &table, &focus_kind, Compression::SNAPPY, 2);
    let from_csv = events(Format::Focus, &fixture("focus_1_2.csv"));
    let from_parquet = parquet_events(Format::Focus, &path);
    assert!(from_csv.len() >= 3);
    assert_same_events(&from_parquet, &from_csv);

    // DECIMAL(38,11) is rendered exactly at its scale.
    assert_eq!(from_parquet[0]["cost"]["amount"], "0.08320000000");
    assert_eq!(from_parquet[0]["quantity"], "1.00000000000");
    assert_eq!(from_parquet[0]["timestamp"], "2024-09-02T10:00:00Z");
    assert_eq!(from_parquet[0]["labels"]["billing_period"], "2024-09-01");
    assert_eq!(from_parquet[0]["labels"]["team"], "web");
    let tax = |events: &[Value]| {
        events
            .iter()
            .find(|e| e["labels"]["charge_category"] == "Tax")
            .expect("tax row")
            .clone()
    };
    assert_eq!(tax(&from_parquet)["cost"]["amount"], "1.23000000000");
    assert_eq!(
        tax(&from_parquet)["labels"]["effective_cost"],
        "1.23000000000"
    );
    assert_eq!(tax(&from_csv)["cost"]["amount"], "1.23");
}

#[test]
fn cur_2_parquet_with_map_tags_gives_the_csv_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cur.parquet");
    let table = read_csv(&fixture("cur2.csv"));
    write_parquet(&path, &table, &cur_kind, Compression::SNAPPY, 3);
    let from_csv = events(Format::Cur, &fixture("cur2.csv"));
    let from_parquet = parquet_events(Format::Cur, &path);
    assert!(from_csv.len() >= 4);
    assert_same_events(&from_parquet, &from_csv);
    let ec2 = &from_parquet[0];
    assert_eq!(ec2["labels"]["user_team"], "web");
    assert_eq!(ec2["labels"]["user_env"], "prod");
    assert_eq!(ec2["cost"]["amount"], "0.08320000000");
    // A DOUBLE reads as its shortest decimal form.
    assert_eq!(ec2["quantity"], "1");
    assert_eq!(ec2["labels"]["list_cost"], "0.0832");
    assert_eq!(from_parquet[1]["quantity"], "0.0000002187");
}

#[test]
fn snappy_gzip_and_uncompressed_files_read_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = read_csv(&fixture("focus_1_2.csv"));
    let expected = events(Format::Focus, &fixture("focus_1_2.csv"));
    // Tags as a MAP here: rendered back to the CSV's JSON text, the ids do not change.
    let kind = |name: &str| match name {
        "Tags" => Kind::Map,
        other => focus_kind(other),
    };
    let mut all = Vec::new();
    for (name, codec) in [
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("plain", Compression::UNCOMPRESSED),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        write_parquet(&path, &table, &kind, codec, 1);
        let reader = SerializedFileReader::new(File::open(&path).expect("open")).expect("read");
        let groups = reader.metadata().row_groups();
        assert_eq!(groups.len(), table.rows.len(), "one row group per row");
        assert_eq!(groups[0].column(1).compression(), codec, "{name}");
        let events = parquet_events(Format::Focus, &path);
        assert_same_events(&events, &expected);
        all.push(events);
    }
    assert_eq!(all[0], all[1]);
    assert_eq!(all[0], all[2]);
}

#[test]
fn a_null_billed_cost_is_the_same_row_error_as_in_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut table = read_csv(&fixture("focus_1_2.csv"));
    let billed = table
        .header
        .iter()
        .position(|h| h == "BilledCost")
        .expect("column");
    table.rows[1][billed] = String::new();
    let csv_path = dir.path().join("broken.csv");
    let parquet_path = dir.path().join("broken.parquet");
    write_csv(&csv_path, &table);
    write_parquet(&parquet_path, &table, &focus_kind, Compression::SNAPPY, 2);

    let from_csv = read_with(Format::Focus, &csv_path, options());
    let from_parquet = outcomes(Format::Focus, &parquet_path);
    assert_eq!(from_parquet.len(), from_csv.len());
    let expected = vec![RowError {
        row: 2,
        line: 3,
        column: "BilledCost".into(),
        reason: "is required but empty or NULL".into(),
    }];
    assert_eq!(from_csv[1].as_ref().err(), Some(&expected));
    assert_eq!(from_parquet[1].as_ref().err(), Some(&expected));
    for i in [0, 2] {
        let (p, c) = (&from_parquet[i], &from_csv[i]);
        assert_eq!(
            by_value(p.as_ref().expect("valid")),
            by_value(c.as_ref().expect("valid"))
        );
    }
}

#[test]
fn the_broken_focus_file_as_text_parquet_reports_the_csv_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.parquet");
    let table = read_csv(&fixture("focus_broken.csv"));
    write_parquet(
        &path,
        &table,
        &|_| Kind::Text,
        Compression::GZIP(GzipLevel::default()),
        2,
    );
    let from_csv = read_with(Format::Focus, &fixture("focus_broken.csv"), options());
    let from_parquet = outcomes(Format::Focus, &path);
    assert!(from_csv.iter().any(Result::is_err));
    assert_eq!(from_parquet, from_csv);
}

#[test]
fn progress_reaches_the_file_size() {
    let table = read_csv(&fixture("cur2.csv"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cur.parquet");
    write_parquet(&path, &table, &cur_kind, Compression::SNAPPY, 1);
    let (input, bytes) = source::open_any(&path).expect("open");
    let mut reader = EventReader::from_input(Format::Cur, input, options()).expect("header");
    assert!(reader.next().is_some_and(|r| r.is_ok()));
    let after_one = bytes.get();
    let size = std::fs::metadata(&path).expect("size").len();
    assert!(after_one > 0 && after_one < size, "{after_one} of {size}");
    assert_eq!(reader.by_ref().count(), table.rows.len() - 1);
    assert_eq!(bytes.get(), size);
    assert_eq!(reader.rows_read(), table.rows.len() as u64);
}

fn parquet_error(result: Result<EventReader<Box<dyn std::io::Read>>, ImportError>) -> String {
    match result {
        Err(ImportError::Parquet(reason)) => reason,
        Err(other) => panic!("expected a Parquet error, got {other}"),
        Ok(_) => panic!("expected a Parquet error, got a reader"),
    }
}

#[test]
fn a_file_that_is_not_parquet_or_is_truncated_is_refused_up_front() {
    let csv = File::open(fixture("cur2.csv")).expect("open");
    let reason = parquet_error(EventReader::from_parquet(Format::Cur, csv, options()));
    assert!(!reason.is_empty());

    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.parquet");
    write_parquet(
        &good,
        &read_csv(&fixture("cur2.csv")),
        &cur_kind,
        Compression::SNAPPY,
        2,
    );
    let bytes = std::fs::read(&good).expect("read");
    for (name, len) in [
        ("half", bytes.len() / 2),
        ("magic", 4),
        ("no-tail", bytes.len() - 1),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        std::fs::write(&path, &bytes[..len]).expect("write");
        let (input, _) = source::open_any(&path).expect("open");
        assert!(
            matches!(input, Input::Parquet(..)),
            "{name}: PAR1 at the start"
        );
        let error = EventReader::from_input(Format::Cur, input, options()).map(|_| ());
        let message = error.as_ref().map_err(ToString::to_string).err();
        assert!(
            matches!(error, Err(ImportError::Parquet(_))),
            "{name}: {message:?}"
        );
        assert!(message.is_some_and(|m| m.starts_with("the file is not readable Parquet")));
    }
}

#[test]
fn a_corrupt_page_stops_reading_with_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("corrupt.parquet");
    write_parquet(
        &path,
        &read_csv(&fixture("cur2.csv")),
        &cur_kind,
        Compression::SNAPPY,
        4,
    );
    let mut bytes = std::fs::read(&path).expect("read");
    // Column chunks start right after the leading magic; overwrite the first ones.
    for b in &mut bytes[4..200] {
        *b = 0xa5;
    }
    std::fs::write(&path, &bytes).expect("write");
    let outcomes = outcomes(Format::Cur, &path);
    let last = outcomes.last().expect("an outcome");
    let errors = last.as_ref().expect_err("an error");
    assert!(
        errors[0].reason.starts_with("reading stopped"),
        "{errors:?}"
    );
}
