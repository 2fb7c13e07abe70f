//! Annotations: a person's note on one day of a tenant's cost trends chart ("deployed the new
//! cache", "Black Friday"), stored server-side so everybody on the tenant sees it.
//!
//! Pure: the caller supplies the id and `now`, so validation is deterministic and testable.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::TenantId;

/// Longest note, in characters after trimming (a chart label, not a document).
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest author name, in characters after trimming.
pub const MAX_AUTHOR_CHARS: usize = 100;
/// Days outside these years are typing mistakes, and a bounded year keeps the stores' per-year
/// partitions bounded.
pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 9999;

/// A stored note on `day` of `tenant`'s chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub tenant: String,
    /// Unique within the tenant (a UUID string, chosen by whoever creates the annotation).
    pub id: String,
    pub day: NaiveDate,
    /// Trimmed, 1..=500 characters, no control characters.
    pub note: String,
    /// Trimmed, at most 100 characters; `None` when not given or blank.
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An annotation as a caller submits it, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationDraft {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub note: String,
    pub author: Option<String>,
}

/// Why a draft was refused; `field()` names the input to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl AnnotationError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> AnnotationError {
        AnnotationError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The input field the error is about (`tenant`, `day`, `note` or `author`).
    pub fn field(&self) -> &'static str {
        match self {
            AnnotationError::Invalid { field, .. } => field,
        }
    }
}

/// Parses a `YYYY-MM-DD` day within [`MIN_YEAR`]..=[`MAX_YEAR`]; errors name `field`.
pub fn parse_day(field: &'static str, raw: &str) -> Result<NaiveDate, AnnotationError> {
    let day: NaiveDate = raw.trim().parse().map_err(|_| {
        AnnotationError::invalid(field, format!("{raw:?} is not a YYYY-MM-DD date"))
    })?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&day.year()) {
        return Err(AnnotationError::invalid(
            field,
            format!("year must be {MIN_YEAR} to {MAX_YEAR}"),
        ));
    }
    Ok(day)
}

/// Trims `raw` and refuses control characters (newlines included: a note is one chart label, and
/// stray escape sequences must not reach logs or terminals).
fn clean_text(field: &'static str, raw: &str, max: usize) -> Result<String, AnnotationError> {
    let text = raw.trim();
    if text.chars().any(char::is_control) {
        return Err(AnnotationError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    let len = text.chars().count();
    if len > max {
        return Err(AnnotationError::invalid(
            field,
            format!("must be at most {max} characters (got {len})"),
        ));
    }
    Ok(text.to_string())
}

impl AnnotationDraft {
    /// Checks the draft and builds the annotation `id` of `tenant`, created at `now`.
    pub fn validate(
        self,
        tenant: &TenantId,
        id: String,
        now: DateTime<Utc>,
    ) -> Result<Annotation, AnnotationError> {
        let day = parse_day("day", &self.day)?;
        let note = clean_text("note", &self.note, MAX_NOTE_CHARS)?;
        if note.is_empty() {
            return Err(AnnotationError::invalid("note", "must not be empty"));
        }
        let author = match self.author.as_deref() {
            Some(raw) => {
                Some(clean_text("author", raw, MAX_AUTHOR_CHARS)?).filter(|a| !a.is_empty())
            }
            None => None,
        };
        Ok(Annotation {
            tenant: tenant.as_str().to_string(),
            id,
            day,
            note,
            author,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn draft(day: &str, note: &str, author: Option<&str>) -> AnnotationDraft {
        AnnotationDraft {
            day: day.into(),
            note: note.into(),
            author: author.map(str::to_string),
        }
    }

    fn check(d: AnnotationDraft) -> Result<Annotation, AnnotationError> {
        let tenant = TenantId::parse("acme").expect("tenant");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 29, 13, 0, 0)
            .single()
            .expect("time");
        d.validate(&tenant, "id-1".into(), now)
    }

    fn field_of(d: AnnotationDraft) -> &'static str {
        check(d).expect_err("must be refused").field()
    }

    #[test]
    fn valid_draft_is_trimmed() {
        let a = check(draft(" 2026-11-27 ", "  Black Friday  ", Some(" alice "))).expect("valid");
        assert_eq!(a.tenant, "acme");
        assert_eq!(a.id, "id-1");
        assert_eq!(a.day, NaiveDate::from_ymd_opt(2026, 11, 27).expect("day"));
        assert_eq!(a.note, "Black Friday");
        assert_eq!(a.author.as_deref(), Some("alice"));
    }

    #[test]
    fn blank_author_is_none() {
        let a = check(draft("2026-11-27", "x", Some("   "))).expect("valid");
        assert_eq!(a.author, None);
    }

    #[test]
    fn note_length_counts_characters_not_bytes() {
        assert!(check(draft("2026-11-27", &"é".repeat(500), None)).is_ok());
        assert_eq!(
            field_of(draft("2026-11-27", &"é".repeat(501), None)),
            "note"
        );
    }

    #[test]
    fn bad_inputs_name_their_field() {
        assert_eq!(field_of(draft("2026-11-27", "   ", None)), "note");
        assert_eq!(field_of(draft("2026-11-27", "a\nb", None)), "note");
        assert_eq!(field_of(draft("2026-11-27", "a\u{1b}[31m", None)), "note");
        assert_eq!(field_of(draft("2026-02-30", "x", None)), "day");
        assert_eq!(field_of(draft("27.11.2026", "x", None)), "day");
        assert_eq!(field_of(draft("1969-12-31", "x", None)), "day");
        assert_eq!(
            field_of(draft("2026-11-27", "x", Some(&"a".repeat(101)))),
            "author"
        );
        assert_eq!(field_of(draft("2026-11-27", "x", Some("a\tb"))), "author");
    }
}
