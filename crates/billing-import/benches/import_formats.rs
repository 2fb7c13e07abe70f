//! Import throughput by file format: the FOCUS sample (shared data) repeated to `ROWS` rows,
//! written as plain CSV, gzip CSV and Parquet (Snappy, text columns, 10k-row groups), then read
//! and validated in full the way `costwatch import` does (parse, map, validate every event).
//! Prints rows/s and the ratio to plain CSV measured in the same run (best of `RUNS`).
//!
//! `cargo bench -p costwatch-billing-import --bench import_formats` (part of `make bench`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use costwatch_billing_import::{EventReader, Format, ImportOptions, source, validate};
use costwatch_domain::TenantId;
use flate2::Compression as Gzip;
use flate2::write::GzEncoder;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

const SAMPLE: &str = "/work/shared/data/focus_sample_data/focus_sample.csv";
const ROWS: usize = 50_000;
const RUNS: usize = 3;
const ROWS_PER_GROUP: usize = 10_000;

type Table = (Vec<String>, Vec<Vec<String>>);

fn sample() -> Result<Table, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(SAMPLE)?;
    let header = reader.headers()?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

fn write_csv(out: impl Write, (header, rows): &Table) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header)?;
    for row in rows.iter().cycle().take(ROWS) {
        w.write_record(row)?;
    }
    w.flush()?;
    Ok(())
}

fn write_parquet(path: &Path, (header, rows): &Table) -> Result<(), Box<dyn std::error::Error>> {
    let fields: Vec<String> = header
        .iter()
        .map(|h| format!("optional binary {h} (UTF8);"))
        .collect();
    let schema = Arc::new(parse_message_type(&format!(
        "message focus {{ {} }}",
        fields.join(" ")
    ))?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(File::create(path)?, schema, props)?;
    let all: Vec<&Vec<String>> = rows.iter().cycle().take(ROWS).collect();
    for chunk in all.chunks(ROWS_PER_GROUP) {
        let mut group = writer.next_row_group()?;
        for i in 0..header.len() {
            let cells: Vec<Option<&str>> = chunk
                .iter()
                .map(|r| Some(r[i].as_str()).filter(|v| !v.is_empty()))
                .collect();
            let defs: Vec<i16> = cells.iter().map(|c| i16::from(c.is_some())).collect();
            let values: Vec<ByteArray> = cells
                .iter()
                .flatten()
                .map(|v| ByteArray::from(v.as_bytes().to_vec()))
                .collect();
            let mut column = group.next_column()?.ok_or("schema has fewer columns")?;
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, Some(&defs), None)?;
            column.close()?;
        }
        group.close()?;
    }
    writer.close()?;
    Ok(())
}

/// Reads and validates the whole file; returns the time taken and the rows read.
fn validate_file(path: &Path) -> Result<(Duration, u64), Box<dyn std::error::Error>> {
    let opts = ImportOptions::for_tenant(TenantId::parse("bench")?);
    let start = Instant::now();
    let (input, _bytes) = source::open_any(path)?;
    let reader = EventReader::from_input(Format::Focus, input, opts)?;
    let report = validate(reader, 10);
    let took = start.elapsed();
    if !report.is_valid() {
        return Err(format!("{}: {} invalid rows", path.display(), report.invalid_rows).into());
    }
    Ok((took, report.rows))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table = sample()?;
    let dir = tempfile::tempdir()?;
    let csv_path = dir.path().join("focus.csv");
    let gz_path = dir.path().join("focus.csv.gz");
    let parquet_path = dir.path().join("focus.parquet");
    write_csv(BufWriter::new(File::create(&csv_path)?), &table)?;
    let gz = GzEncoder::new(BufWriter::new(File::create(&gz_path)?), Gzip::default());
    write_csv(gz, &table)?;
    write_parquet(&parquet_path, &table)?;

    println!(
        "import_formats: FOCUS sample x{} = {ROWS} rows, best of {RUNS}",
        ROWS / table.1.len().max(1)
    );
    let mut baseline = None;
    for (name, path) in [
        ("csv", &csv_path),
        ("csv.gz", &gz_path),
        ("parquet", &parquet_path),
    ] {
        let mut best = Duration::MAX;
        let mut rows = 0;
        for _ in 0..RUNS {
            let (took, n) = validate_file(path)?;
            best = best.min(took);
            rows = n;
        }
        let rate = rows as f64 / best.as_secs_f64();
        let base = *baseline.get_or_insert(rate);
        let size = std::fs::metadata(path)?.len();
        println!(
            "  {name:<8} {:>7.1} MB  {rows} rows in {:>6.3} s  {:>9.0} rows/s  {:.2}x plain CSV",
            size as f64 / 1e6,
            best.as_secs_f64(),
            rate,
            rate / base
        );
    }
    Ok(())
}
