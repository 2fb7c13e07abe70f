//! Apache Parquet billing files (Azure/Microsoft FOCUS exports, AWS Data Exports CUR 2.0), read
//! with the `parquet` crate's row API and turned into the same CSV records the FOCUS and CUR
//! mappings read, so mapping and validation are shared with CSV files.
//!
//! The columns are the schema's top-level fields, by name. Each value becomes the text a CSV
//! export of the same data carries:
//!
//! - strings as they are (a BYTE_ARRAY without the STRING annotation too, when it is UTF-8;
//!   other binary data is a row error); null is an empty field;
//! - booleans as `true`/`false`; integers as decimal text;
//! - DECIMAL exactly, from its unscaled integer and scale (`DECIMAL(38,11)` 1.23 is
//!   `1.23000000000`), never through a float; an unscaled value wider than 128 bits is a row
//!   error;
//! - FLOAT and DOUBLE with Rust's shortest round-trip formatting (`{}`): such columns are
//!   already inexact at the source, and this writes the binary value's shortest decimal form;
//! - timestamps (milli-, micro- and nanoseconds; INT96 as the record API gives it, in
//!   milliseconds) as RFC 3339 UTC, e.g. `2024-09-02T10:00:00Z`; a timestamp not adjusted to UTC
//!   is read as UTC, as FOCUS requires UTC; DATE as `YYYY-MM-DD`; TIME as `HH:MM:SS[.fff]`;
//! - MAP and struct (FOCUS `Tags`, CUR 2.0 `resource_tags`) as a JSON object, lists as a JSON
//!   array, written with `", "` and `": "` separators, entries in file order: the form the CSV
//!   exports and the FOCUS sample data write (`{"team": "web", "env": "prod"}`). The tag text is
//!   part of a charge's identity, so the same charge read from CSV and from Parquet gets the same
//!   event id. Inside them strings, dates and times are JSON strings; DECIMAL is a JSON string
//!   too (a JSON number would be read back through a float); a non-finite float is the string
//!   `"NaN"`, `"inf"` or `"-inf"`; nanosecond timestamps nested in a group stay integers (the
//!   row API does not tell them from plain INT64 there).
//!
//! Reading streams one row group at a time (the row API reads each column chunk page by page),
//! never the whole file. A row has no line: its [`crate::RowError`] `line` is `row + 1`, the
//! line the row would have in a CSV export of the same data (header on line 1).
//!
//! The file's footer is checked when it is opened: a file that is not Parquet, is truncated, or
//! uses a codec or a type this build cannot read fails there, with [`ImportError::Parquet`],
//! before any row. Snappy (what AWS and Azure exports use) and gzip are read; zstd, Brotli, LZ4
//! and LZO are refused by name (zstd alone would add about 30 s of C compilation to the build).
//! Progress is estimated from the row groups' compressed sizes and the rows read.

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ::parquet::basic::{
    Compression, ConvertedType, LogicalType, TimeUnit, TimestampType, Type as PhysicalType,
};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::record::reader::RowIter;
use ::parquet::schema::types::ColumnDescriptor;

use crate::ImportError;
use crate::source::BytesRead;

mod render;

use render::render;

/// Why a row yields no record.
pub(crate) enum RowProblem {
    /// Values that have no text form: (column, reason) for each.
    Values(Vec<(String, String)>),
    /// The file cannot be read any further (corrupt page, I/O error).
    Fatal(String),
}

/// One row group, for the progress estimate.
struct Group {
    rows: u64,
    /// Compressed bytes of the row groups before this one.
    bytes_before: u64,
    bytes: u64,
}

/// The rows of a Parquet file, one record at a time.
pub(crate) struct ParquetRows {
    rows: RowIter<'static>,
    /// Top-level column names, and whether each holds nanosecond timestamps (plain INT64 values
    /// in the row API).
    columns: Vec<(String, bool)>,
    groups: Vec<Group>,
    group: usize,
    rows_in_group: u64,
    file_len: u64,
    progress: BytesRead,
    done: bool,
}

impl ParquetRows {
    /// Reads and checks the footer; returns the rows and the top-level column names.
    pub fn open(
        file: File,
        progress: BytesRead,
    ) -> Result<(ParquetRows, Vec<String>), ImportError> {
        let file_len = file.metadata()?.len();
        let reader =
            SerializedFileReader::new(file).map_err(|e| ImportError::Parquet(e.to_string()))?;
        let meta = reader.metadata();
        let schema = meta.file_metadata().schema_descr();
        let mut problems: Vec<String> = schema
            .columns()
            .iter()
            .filter_map(|c| unsupported_type(c))
            .collect();
        let mut bytes_before = 0u64;
        let mut groups = Vec::with_capacity(meta.num_row_groups());
        for rg in meta.row_groups() {
            for column in rg.columns() {
                if let Some(name) = unsupported_codec(column.compression()) {
                    let problem = format!(
                        "column {} is compressed with {name}, which this build cannot read \
                         (Snappy, gzip and uncompressed are)",
                        column.column_path()
                    );
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                }
            }
            let bytes = u64::try_from(rg.compressed_size()).unwrap_or(0);
            groups.push(Group {
                rows: u64::try_from(rg.num_rows()).unwrap_or(0),
                bytes_before,
                bytes,
            });
            bytes_before += bytes;
        }
        if !problems.is_empty() {
            return Err(ImportError::Parquet(problems.join("; ")));
        }
        let columns: Vec<(String, bool)> = schema
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| {
                let nanos = f.is_primitive()
                    && matches!(
                        f.get_basic_info().logical_type_ref(),
                        Some(LogicalType::Timestamp(TimestampType {
                            unit: TimeUnit::NANOS,
                            ..
                        }))
                    );
                (f.name().to_string(), nanos)
            })
            .collect();
        let names = columns.iter().map(|(n, _)| n.clone()).collect();
        progress.set(0);
        let rows = ParquetRows {
            rows: RowIter::from_file_into(Box::new(reader)),
            columns,
            groups,
            group: 0,
            rows_in_group: 0,
            file_len,
            progress,
            done: false,
        };
        Ok((rows, names))
    }

    /// Renders the next row into `record`; `None` after the last row or a fatal problem.
    pub fn next_record(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Option<Result<(), RowProblem>> {
        if self.done {
            return None;
        }
        // The row API panics on some malformed files instead of failing; such a file stops here.
        let next = catch_unwind(AssertUnwindSafe(|| self.rows.next())).unwrap_or_else(|_| {
            Some(Err(::parquet::errors::ParquetError::General(
                "the Parquet reader failed on malformed data".into(),
            )))
        });
        let row = match next {
            None => {
                self.done = true;
                self.progress.set(self.file_len);
                return None;
            }
            Some(Err(e)) => {
                self.done = true;
                return Some(Err(RowProblem::Fatal(e.to_string())));
            }
            Some(Ok(row)) => row,
        };
        self.advance_progress();
        let values = row.into_columns();
        if values.len() != self.columns.len() {
            self.done = true;
            return Some(Err(RowProblem::Fatal(format!(
                "a row has {} values; the schema has {} columns",
                values.len(),
                self.columns.len()
            ))));
        }
        record.clear();
        let mut problems = Vec::new();
        let mut text = String::new();
        for ((_, field), (name, nanos)) in values.iter().zip(&self.columns) {
            text.clear();
            if let Err(reason) = render(field, *nanos, &mut text) {
                problems.push((name.clone(), reason));
            }
            record.push_field(&text);
        }
        if problems.is_empty() {
            Some(Ok(()))
        } else {
            Some(Err(RowProblem::Values(problems)))
        }
    }

    fn advance_progress(&mut self) {
        self.rows_in_group += 1;
        while let Some(g) = self.groups.get(self.group) {
            if self.rows_in_group <= g.rows {
                let part = g.bytes.saturating_mul(self.rows_in_group) / g.rows.max(1);
                self.progress.set(g.bytes_before + part);
                return;
            }
            self.rows_in_group -= g.rows;
            self.group += 1;
        }
    }
}

/// The codec's name when this build cannot decompress it.
fn unsupported_codec(codec: Compression) -> Option<&'static str> {
    match codec {
        Compression::UNCOMPRESSED | Compression::SNAPPY | Compression::GZIP(_) => None,
        Compression::ZSTD(_) => Some("zstd"),
        Compression::LZO => Some("LZO"),
        Compression::BROTLI(_) => Some("Brotli"),
        Compression::LZ4 => Some("LZ4 (Hadoop)"),
        Compression::LZ4_RAW => Some("LZ4_RAW"),
    }
}

/// A leaf column whose type the row API has no conversion for (it would panic on its values).
fn unsupported_type(column: &ColumnDescriptor) -> Option<String> {
    use ConvertedType as C;
    let converted = column.converted_type();
    let supported = match column.physical_type() {
        PhysicalType::BOOLEAN
        | PhysicalType::INT96
        | PhysicalType::FLOAT
        | PhysicalType::DOUBLE => true,
        PhysicalType::INT32 => matches!(
            converted,
            C::NONE
                | C::INT_8
                | C::INT_16
                | C::INT_32
                | C::UINT_8
                | C::UINT_16
                | C::UINT_32
                | C::DATE
                | C::TIME_MILLIS
                | C::DECIMAL
        ),
        PhysicalType::INT64 => matches!(
            converted,
            C::NONE
                | C::INT_64
                | C::UINT_64
                | C::TIME_MICROS
                | C::TIMESTAMP_MILLIS
                | C::TIMESTAMP_MICROS
                | C::DECIMAL
        ),
        PhysicalType::BYTE_ARRAY => matches!(
            converted,
            C::NONE | C::UTF8 | C::ENUM | C::JSON | C::BSON | C::DECIMAL
        ),
        PhysicalType::FIXED_LEN_BYTE_ARRAY => matches!(converted, C::NONE | C::DECIMAL),
    };
    (!supported).then(|| {
        format!(
            "column {} has type {} {converted}, which cannot be read",
            column.path(),
            column.physical_type()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_outside_the_build_are_named() {
        assert_eq!(unsupported_codec(Compression::SNAPPY), None);
        assert_eq!(
            unsupported_codec(Compression::GZIP(Default::default())),
            None
        );
        assert_eq!(unsupported_codec(Compression::UNCOMPRESSED), None);
        assert_eq!(
            unsupported_codec(Compression::ZSTD(Default::default())),
            Some("zstd")
        );
        assert_eq!(
            unsupported_codec(Compression::BROTLI(Default::default())),
            Some("Brotli")
        );
        assert_eq!(unsupported_codec(Compression::LZ4_RAW), Some("LZ4_RAW"));
    }
}
