//! One row of a custom provider's CSV → a draft event, as its [`Mapping`] says.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use costwatch_domain::SubKind;
use rust_decimal::Decimal;

use super::parse::parse_kind;
use super::{Kind, Mapping, Source};
use crate::draft::{Draft, Field, Identity, Labels, NONE};
use crate::row::{Row, parse_timestamp};

pub(crate) fn map(m: &Mapping, row: &mut Row<'_>) -> Option<Draft> {
    let timestamp = timestamp(m, row);
    let cost = row.req_decimal(&m.cost);
    let currency = match &m.currency {
        Source::Column(c) => row.req_currency(c).map(|v| Field::new(v, c)),
        Source::Fixed { value, key } => Some(Field::new(value, key)),
    };
    // A row without a quantity (a fee, a credit) measures nothing, as in FOCUS.
    let quantity = m.quantity.as_deref().and_then(|c| row.decimal(c));
    let provider = required(row, &m.provider).map(|mut p| {
        p.value = p.value.to_lowercase();
        p
    });
    let service = required(row, &m.service);
    let kind = category(m, row);
    let sub_kind = sub_kind(m, row);

    let mut labels = Labels::default();
    for (key, column) in &m.labels {
        labels.set(key, row.opt(column), column);
    }

    // Timestamp, cost and quantity enter the identity normalised, so "1.50" and "1.5" or two
    // spellings of the same instant in different exports still give the same event id.
    let mut identity = Identity::default();
    for column in &m.identity {
        if *column == m.timestamp {
            identity.time(column, timestamp);
        } else if *column == m.cost {
            identity.decimal(column, cost);
        } else if m.quantity.as_ref() == Some(column) {
            identity.decimal(column, quantity);
        } else {
            identity.text(column, row.opt(column));
        }
    }

    let (category, category_column) = kind?;
    Some(Draft {
        id: identity.event_id(&m.id_prefix),
        tenant: Field::new(NONE, ""),
        timestamp: timestamp?,
        timestamp_column: m.timestamp.clone(),
        category: category.0,
        category_column,
        sub_kind: sub_kind?.or(category.1),
        provider: provider?,
        service: service?,
        resource: optional(row, m.resource.as_ref()),
        metric: optional(row, m.metric.as_ref()),
        unit: optional(row, m.unit.as_ref()),
        quantity: quantity.unwrap_or(Decimal::ZERO),
        quantity_column: m.quantity.clone().unwrap_or_default(),
        cost: cost?,
        cost_column: m.cost.clone(),
        currency: currency?,
        labels,
    })
}

fn timestamp(m: &Mapping, row: &mut Row<'_>) -> Option<DateTime<Utc>> {
    let raw = row.req(&m.timestamp)?;
    let parsed = match &m.timestamp_format {
        Some(format) => parse_with_format(raw, format),
        None => parse_timestamp(raw),
    };
    parsed.map_err(|r| row.err(&m.timestamp, r)).ok()
}

/// A timestamp in the mapping's strftime format: with an offset (`%z`) it is converted to UTC;
/// without one it is read as UTC, as FOCUS times are; a date-only format means midnight UTC.
pub(crate) fn parse_with_format(raw: &str, format: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_str(raw, format) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, format)
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "{raw:?} is not a timestamp in the mapping's timestamp_format {format:?}"
    ))
}

/// A required name: the column's value (an error when empty) or the fixed value.
fn required(row: &mut Row<'_>, source: &Source) -> Option<Field> {
    match source {
        Source::Column(c) => row.req(c).map(|v| Field::new(v, c)),
        Source::Fixed { value, key } => Some(Field::new(value, key)),
    }
}

/// An optional name: `(none)` when the mapping or the row does not give it, as for FOCUS rows.
fn optional(row: &Row<'_>, source: Option<&Source>) -> Field {
    match source {
        Some(Source::Column(c)) => Field::new(row.opt(c).unwrap_or(NONE), c),
        Some(Source::Fixed { value, key }) => Field::new(value, key),
        None => Field::new(NONE, ""),
    }
}

/// The row's category and the column (or mapping key) it came from. A column value is looked up
/// in `category_map`, else read as a Costwatch category (`hosting`, `hosting/storage`), else
/// `fixed.category` is the default; an empty value takes the default too.
fn category(m: &Mapping, row: &mut Row<'_>) -> Option<(Kind, String)> {
    let cats = &m.category;
    let fixed = || "fixed.category".to_string();
    let Some(column) = &cats.column else {
        return cats.default.map(|k| (k, fixed()));
    };
    let Some(value) = row.opt(column) else {
        if let Some(k) = cats.default {
            return Some((k, fixed()));
        }
        row.err(
            column,
            "is required but empty or NULL (fixed.category would be the default)",
        );
        return None;
    };
    if let Some(k) = cats.map.get(value) {
        return Some((*k, column.clone()));
    }
    if let Ok(k) = parse_kind(value) {
        return Some((k, column.clone()));
    }
    if let Some(k) = cats.default {
        return Some((k, fixed()));
    }
    row.err(
        column,
        format!(
            "{value:?} is not in category_map nor a Costwatch category, and no \
             fixed.category default is set"
        ),
    );
    None
}

/// The sub-kind the mapping gives explicitly: `Some(None)` when it gives none for this row (the
/// category's, or the domain's inference, applies); `None` when the value is not a sub-kind.
fn sub_kind(m: &Mapping, row: &mut Row<'_>) -> Option<Option<SubKind>> {
    match &m.sub_kind {
        None => Some(None),
        Some(Source::Fixed { value, .. }) => Some(value.parse().ok()),
        Some(Source::Column(c)) => match row.opt(c) {
            None => Some(None),
            Some(v) => match v.parse::<SubKind>() {
                Ok(k) => Some(Some(k)),
                Err(e) => {
                    row.err(c, format!("{v:?} {e}"));
                    None
                }
            },
        },
    }
}
