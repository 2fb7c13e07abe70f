//! Streaming a billing file into validated wire events, one CSV record at a time (a Parquet row
//! is first rendered as such a record, see the `parquet` module).

use std::fs::File;
use std::io::Read;

use serde_json::Value;

use crate::draft::Field;
use crate::parquet::{ParquetRows, RowProblem};
use crate::row::{Columns, Row, RowError};
use crate::source::{BytesRead, Input};
use crate::{Format, ImportError, ImportOptions, Layout, cur, focus, mapping};

/// Where the records come from.
enum Records<R> {
    Csv {
        csv: csv::Reader<R>,
        /// The csv crate counts a CRLF line only when it reads the next record, so its line
        /// numbers run one behind on CRLF files; this corrects them (0 for LF files).
        line_offset: u64,
    },
    Parquet(Box<ParquetRows>),
}

/// Yields, per data row, the validated wire event or every problem of that row.
pub struct EventReader<R: Read> {
    layout: Layout,
    records: Records<R>,
    cols: Columns,
    tenant_column: Option<String>,
    opts: ImportOptions,
    record: csv::StringRecord,
    row: u64,
    done: bool,
}

impl<R: Read> EventReader<R> {
    /// Reads and checks the header; a missing mandatory column fails here, before any row.
    pub fn new(
        layout: impl Into<Layout>,
        reader: R,
        opts: ImportOptions,
    ) -> Result<Self, ImportError> {
        let layout = layout.into();
        check_tenant(&layout, &opts)?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let header = match csv.headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(header_error(e)),
        };
        // After the header the next record starts on line 2.
        let line_offset = 2u64.saturating_sub(csv.position().line());
        Self::with_header(layout, &header, Records::Csv { csv, line_offset }, opts)
    }

    /// Checks the header against the format or mapping; a missing column fails here.
    fn with_header(
        layout: Layout,
        header: &csv::StringRecord,
        records: Records<R>,
        opts: ImportOptions,
    ) -> Result<Self, ImportError> {
        let cols = match &layout {
            Layout::Builtin(Format::Cur) => Columns::new(header, cur::normalise_column),
            // A custom provider's columns are named in its mapping exactly as in its header.
            Layout::Builtin(Format::Focus) | Layout::Mapped(_) => {
                Columns::new(header, str::to_string)
            }
        };
        let mut missing = match &layout {
            Layout::Builtin(Format::Focus) => focus::missing_columns(&cols),
            Layout::Builtin(Format::Cur) => cur::missing_columns(&cols),
            Layout::Mapped(m) => m.missing_columns(&cols),
        };
        let tenant_column = layout.tenant_column(&opts).map(|c| match &layout {
            Layout::Builtin(Format::Cur) => cur::normalise_column(&c),
            _ => c,
        });
        // A mapping's own tenant column was checked with its other columns, under its key.
        if opts.tenant_column.is_some()
            && let Some(tc) = &tenant_column
            && !cols.has(tc)
        {
            missing.push((
                tc.clone(),
                "the tenant column is not in the header".to_string(),
            ));
        }
        if !missing.is_empty() {
            return Err(ImportError::Header(
                missing
                    .into_iter()
                    .map(|(column, reason)| RowError {
                        row: 0,
                        line: 1,
                        column,
                        reason,
                    })
                    .collect(),
            ));
        }
        Ok(EventReader {
            layout,
            records,
            cols,
            tenant_column,
            opts,
            record: csv::StringRecord::new(),
            row: 0,
            done: false,
        })
    }

    /// Data rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.row
    }

    fn map_record(&self, line: u64) -> Result<Value, Vec<RowError>> {
        let mut row = Row::new(&self.cols, &self.record);
        let tenant = self.tenant(&mut row);
        let draft = match &self.layout {
            Layout::Builtin(Format::Focus) => focus::map(&mut row),
            Layout::Builtin(Format::Cur) => cur::map(&mut row),
            Layout::Mapped(m) => mapping::map(m, &mut row),
        };
        let as_errors = |errors: Vec<(String, String)>| {
            errors
                .into_iter()
                .map(|(column, reason)| RowError {
                    row: self.row,
                    line,
                    column,
                    reason,
                })
                .collect::<Vec<_>>()
        };
        match (tenant, draft) {
            (Some(tenant), Some(draft)) if row.errors.is_empty() => {
                let mut draft = draft;
                draft.tenant = tenant;
                draft.finish(self.row, line, self.opts.now)
            }
            _ => Err(as_errors(row.errors)),
        }
    }

    /// The row's tenant: its tenant column when given and not empty, else the default tenant.
    fn tenant(&self, row: &mut Row<'_>) -> Option<Field> {
        if let Some(column) = &self.tenant_column
            && let Some(value) = row.opt(column)
        {
            return match costwatch_domain::TenantId::parse(value) {
                Ok(t) => Some(Field::new(t.as_str(), column)),
                Err(reason) => {
                    row.err(column, format!("{value:?} is not a tenant id: {reason}"));
                    None
                }
            };
        }
        match &self.opts.tenant {
            Some(t) => Some(Field::new(t.as_str(), "--tenant")),
            None => {
                let column = self.tenant_column.as_deref().unwrap_or("--tenant");
                row.err(
                    column,
                    "is empty and no default --tenant was given for such rows",
                );
                None
            }
        }
    }
}

impl EventReader<Box<dyn Read>> {
    /// Reads an Apache Parquet file (it needs seeking: its schema is in a footer). The footer
    /// and the header built from its top-level column names are checked here, before any row.
    pub fn from_parquet(
        layout: impl Into<Layout>,
        file: File,
        opts: ImportOptions,
    ) -> Result<Self, ImportError> {
        Self::parquet(layout.into(), file, BytesRead::default(), opts)
    }

    /// Reads a file opened by [`crate::source::open_any`]: CSV (plain or gzip) or Parquet.
    pub fn from_input(
        layout: impl Into<Layout>,
        input: Input,
        opts: ImportOptions,
    ) -> Result<Self, ImportError> {
        match input {
            Input::Stream(reader) => EventReader::new(layout, reader, opts),
            Input::Parquet(file, progress) => Self::parquet(layout.into(), file, progress, opts),
        }
    }

    fn parquet(
        layout: Layout,
        file: File,
        progress: BytesRead,
        opts: ImportOptions,
    ) -> Result<Self, ImportError> {
        check_tenant(&layout, &opts)?;
        let (rows, names) = ParquetRows::open(file, progress)?;
        let header = csv::StringRecord::from(names);
        Self::with_header(layout, &header, Records::Parquet(Box::new(rows)), opts)
    }
}

/// Every row needs a tenant: a default one, or a column (the caller's or the mapping's).
fn check_tenant(layout: &Layout, opts: &ImportOptions) -> Result<(), ImportError> {
    if opts.tenant.is_none() && layout.tenant_column(opts).is_none() {
        return Err(ImportError::NoTenant);
    }
    Ok(())
}

fn header_error(e: csv::Error) -> ImportError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ImportError::Io(io),
        other => ImportError::Header(vec![RowError {
            row: 0,
            line: 1,
            column: String::new(),
            reason: format!("the header is not valid CSV: {other:?}"),
        }]),
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<Value, Vec<RowError>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (csv, line_offset) = match &mut self.records {
            Records::Csv { csv, line_offset } => (csv, *line_offset),
            Records::Parquet(rows) => {
                let outcome = rows.next_record(&mut self.record);
                return self.parquet_outcome(outcome);
            }
        };
        // Where the next record starts (errors do not always carry their record's position).
        let start_line = csv.position().line() + line_offset;
        match csv.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                self.row += 1;
                let line = start_line;
                Some(self.map_record(line))
            }
            Err(e) => {
                self.row += 1;
                let line = start_line;
                let reason = match e.kind() {
                    csv::ErrorKind::Io(io) => {
                        // The stream itself failed (truncated gzip, disk error): nothing after
                        // this point can be trusted, so reading stops.
                        self.done = true;
                        format!("reading stopped: {io}")
                    }
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("has {len} fields; the header has {expected_len}"),
                    csv::ErrorKind::Utf8 { err, .. } => format!("is not valid UTF-8: {err}"),
                    other => format!("is not valid CSV: {other:?}"),
                };
                Some(Err(vec![RowError {
                    row: self.row,
                    line,
                    column: String::new(),
                    reason,
                }]))
            }
        }
    }
}

impl<R: Read> EventReader<R> {
    /// A Parquet row's outcome. Its `line` is the line it would have in a CSV export of the same
    /// data (the header is line 1), as Parquet has no lines.
    fn parquet_outcome(
        &mut self,
        outcome: Option<Result<(), RowProblem>>,
    ) -> Option<Result<Value, Vec<RowError>>> {
        let Some(outcome) = outcome else {
            self.done = true;
            return None;
        };
        self.row += 1;
        let line = self.row + 1;
        let error = |column: String, reason: String| RowError {
            row: self.row,
            line,
            column,
            reason,
        };
        Some(match outcome {
            Ok(()) => self.map_record(line),
            Err(RowProblem::Values(problems)) => Err(problems
                .into_iter()
                .map(|(column, reason)| error(column, reason))
                .collect()),
            Err(RowProblem::Fatal(reason)) => {
                let e = error(String::new(), format!("reading stopped: {reason}"));
                self.done = true;
                Err(vec![e])
            }
        })
    }
}

/// The outcome of the validation pass over a whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    pub rows: u64,
    pub invalid_rows: u64,
    /// Every problem found, even those not kept in `errors`.
    pub error_count: u64,
    /// The first problems, at most the cap given to [`validate`].
    pub errors: Vec<RowError>,
}

impl ValidationReport {
    pub fn is_valid(&self) -> bool {
        self.error_count == 0
    }
}

/// Reads the whole file, keeping only counts and the first `cap` errors (constant memory).
pub fn validate<R: Read>(reader: EventReader<R>, cap: usize) -> ValidationReport {
    let mut report = ValidationReport::default();
    for outcome in reader {
        report.rows += 1;
        if let Err(errors) = outcome {
            report.invalid_rows += 1;
            report.error_count += errors.len() as u64;
            let room = cap.saturating_sub(report.errors.len());
            report.errors.extend(errors.into_iter().take(room));
        }
    }
    report
}
