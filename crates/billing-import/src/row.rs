//! Reading one CSV record: named columns, null tokens, and exact parsing of decimals and times,
//! with every problem recorded against its column.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use costwatch_domain::validate::parse_decimal;
use rust_decimal::Decimal;
use serde::Serialize;

/// One problem with one column of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based data row (the header is row 0).
    pub row: u64,
    /// Physical line where the row starts (quoted fields may span lines).
    pub line: u64,
    /// The column at fault; empty when the row as a whole is broken.
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} (line {})", self.row, self.line)?;
        if !self.column.is_empty() {
            write!(f, ", column {}", self.column)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Column name → position, after the format's name normalisation.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    index: HashMap<String, usize>,
    /// Names as normalised, by position (for tag columns and identity).
    pub names: Vec<String>,
}

impl Columns {
    pub fn new(header: &csv::StringRecord, normalise: impl Fn(&str) -> String) -> Columns {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            // Some exporters (and the FOCUS spec's own examples) start the file with a UTF-8 BOM.
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                normalise(h.trim())
            })
            .collect();
        let mut index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            index.entry(n.clone()).or_insert(i);
        }
        Columns { index, names }
    }

    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

/// FOCUS samples write a null as the bare token `NULL`; CUR writes an empty field.
/// (A CSV reader cannot tell a quoted "NULL" from a bare one, so a literal text "NULL" reads as null.)
fn is_null(raw: &str) -> bool {
    raw.is_empty() || raw == "NULL"
}

/// A record being mapped: typed getters that record errors instead of failing fast, so a row
/// reports every broken column at once.
pub(crate) struct Row<'a> {
    pub cols: &'a Columns,
    pub record: &'a csv::StringRecord,
    pub errors: Vec<(String, String)>,
}

impl<'a> Row<'a> {
    pub fn new(cols: &'a Columns, record: &'a csv::StringRecord) -> Row<'a> {
        Row {
            cols,
            record,
            errors: Vec::new(),
        }
    }

    pub fn err(&mut self, column: &str, reason: impl Into<String>) {
        self.errors.push((column.to_string(), reason.into()));
    }

    /// The trimmed value, `None` when the column is absent or null.
    pub fn opt(&self, column: &str) -> Option<&'a str> {
        let raw = self.record.get(self.cols.position(column)?)?.trim();
        (!is_null(raw)).then_some(raw)
    }

    /// The first of `columns` present in the header (for renamed columns).
    pub fn first_present<'c>(&self, columns: &[&'c str]) -> &'c str {
        columns
            .iter()
            .copied()
            .find(|c| self.cols.has(c))
            .unwrap_or(columns[0])
    }

    pub fn req(&mut self, column: &str) -> Option<&'a str> {
        let v = self.opt(column);
        if v.is_none() {
            self.err(column, "is required but empty or NULL");
        }
        v
    }

    pub fn decimal(&mut self, column: &str) -> Option<Decimal> {
        let raw = self.opt(column)?;
        parse_decimal(raw).map_err(|r| self.err(column, r)).ok()
    }

    pub fn req_decimal(&mut self, column: &str) -> Option<Decimal> {
        let raw = self.req(column)?;
        parse_decimal(raw).map_err(|r| self.err(column, r)).ok()
    }

    /// An ISO 4217 code, checked here so a row reports it along with its other problems.
    pub fn req_currency(&mut self, column: &str) -> Option<&'a str> {
        let raw = self.req(column)?;
        match raw.parse::<costwatch_domain::Currency>() {
            Ok(_) => Some(raw),
            Err(e) => {
                self.err(column, e.to_string());
                None
            }
        }
    }

    pub fn req_timestamp(&mut self, column: &str) -> Option<DateTime<Utc>> {
        let raw = self.req(column)?;
        parse_timestamp(raw).map_err(|r| self.err(column, r)).ok()
    }

    pub fn timestamp(&mut self, column: &str) -> Option<DateTime<Utc>> {
        let raw = self.opt(column)?;
        parse_timestamp(raw).map_err(|r| self.err(column, r)).ok()
    }
}

/// Parses the timestamp forms billing exports use. FOCUS specifies ISO 8601 in UTC, but real
/// files also write `2024-09-01 00:00:00` (no `T`, no zone: read as UTC, as FOCUS requires UTC).
pub fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(raw, format) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    let naive = raw.trim_end_matches('Z');
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "{raw:?} is not a timestamp (expected ISO 8601 such as 2024-09-01T00:00:00Z or 2024-09-01 00:00:00)"
    ))
}

/// Fits a name into `max` characters. Resource ids (Azure paths, ARNs) can be longer than an
/// event field allows; their tail is the most specific part, so the head is elided with `…`.
/// The event id hashes the full value, so two long ids sharing a tail stay distinct events.
pub(crate) fn fit(value: &str, max: usize) -> String {
    let count = value.chars().count();
    if count <= max {
        return value.to_string();
    }
    let tail: String = value.chars().skip(count - (max - 1)).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_export_form_parse_as_utc() {
        let expected: DateTime<Utc> = "2024-09-18T22:00:00Z".parse().expect("ts");
        for raw in [
            "2024-09-18T22:00:00Z",
            "2024-09-18T22:00:00.000Z",
            "2024-09-18 22:00:00",
            "2024-09-18T22:00:00",
            "2024-09-18T23:00:00+01:00",
            "2024-09-18 22:00:00+00:00",
            "2024-09-18T22:00Z",
        ] {
            assert_eq!(parse_timestamp(raw), Ok(expected), "{raw}");
        }
        assert_eq!(
            parse_timestamp("2024-09-18").map(|t| t.to_rfc3339()),
            Ok("2024-09-18T00:00:00+00:00".to_string())
        );
        assert!(parse_timestamp("18/09/2024").is_err());
        assert!(parse_timestamp("2024-09-31 00:00:00").is_err());
    }

    #[test]
    fn long_names_keep_their_tail() {
        assert_eq!(fit("abc", 3), "abc");
        let long = format!("/subscriptions/{}/vm-1", "x".repeat(300));
        let fitted = fit(&long, 256);
        assert_eq!(fitted.chars().count(), 256);
        assert!(fitted.starts_with('…') && fitted.ends_with("/vm-1"));
    }
}
