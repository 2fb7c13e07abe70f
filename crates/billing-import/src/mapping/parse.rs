//! Checking a parsed mapping file: every problem is collected with its dotted key, so one run
//! reports them all.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::format::{Item, StrftimeItems};
use costwatch_domain::validate::{MAX_LABEL_KEY_LEN, MAX_LABELS, MAX_NAME_LEN};
use costwatch_domain::{Category, Currency, SubKind};

use super::{Categories, KeyError, Kind, Mapping, RawMapping, Source};

/// Event ids must fit the validator's 128 characters with the `-` and the 36-character UUID.
const MAX_ID_PREFIX_LEN: usize = 64;

#[derive(Default)]
pub(super) struct Errors(pub(super) Vec<KeyError>);

impl Errors {
    fn push(&mut self, key: impl Into<String>, reason: impl Into<String>) {
        self.0.push(KeyError {
            key: key.into(),
            reason: reason.into(),
        });
    }
}

pub(super) fn check(raw: RawMapping, errors: &mut Errors) -> Option<Mapping> {
    let id_prefix = raw.id_prefix.unwrap_or_default();
    if id_prefix.is_empty() {
        errors.push(
            "id_prefix",
            "is required (event ids are \"<id_prefix>-<uuid>\", e.g. the provider's name)",
        );
    } else if id_prefix.len() > MAX_ID_PREFIX_LEN
        || !id_prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        errors.push(
            "id_prefix",
            format!(
                "{id_prefix:?} must be 1 to {MAX_ID_PREFIX_LEN} characters of a-z, 0-9, - and _"
            ),
        );
    }
    if let Some(format) = &raw.timestamp_format
        && StrftimeItems::new(format).any(|item| matches!(item, Item::Error))
    {
        errors.push(
            "timestamp_format",
            format!("{format:?} is not a valid strftime format (e.g. \"%d/%m/%Y %H:%M\")"),
        );
    }
    let Some(columns) = raw.columns else {
        errors.push(
            "columns",
            "is required: the table naming the file's timestamp, cost, … columns",
        );
        return None;
    };
    let fixed = raw.fixed;

    let timestamp = column(errors, "timestamp", columns.timestamp, true);
    let cost = column(errors, "cost", columns.cost, true);
    let quantity = column(errors, "quantity", columns.quantity, false);
    let tenant = column(errors, "tenant", columns.tenant, false);
    let currency = source(errors, "currency", columns.currency, fixed.currency, true);
    if let Some(Source::Fixed { value, .. }) = &currency
        && let Err(e) = value.parse::<Currency>()
    {
        errors.push("fixed.currency", e.to_string());
    }
    let unit = source(errors, "unit", columns.unit, fixed.unit, false);
    let provider = source(errors, "provider", columns.provider, fixed.provider, true).map(|s| {
        // Lowercased as FOCUS provider names are, so "AWS" from any file groups as "aws".
        match s {
            Source::Fixed { value, key } => Source::Fixed {
                value: value.to_lowercase(),
                key,
            },
            column => column,
        }
    });
    let service = source(errors, "service", columns.service, fixed.service, true);
    let resource = source(errors, "resource", columns.resource, fixed.resource, false);
    let metric = source(errors, "metric", columns.metric, fixed.metric, false);
    let sub_kind = source(errors, "sub_kind", columns.sub_kind, fixed.sub_kind, false);
    if let Some(Source::Fixed { value, .. }) = &sub_kind
        && let Err(e) = value.parse::<SubKind>()
    {
        errors.push("fixed.sub_kind", format!("{value:?} {e}"));
    }
    let category = categories(errors, columns.category, fixed.category, raw.category_map);
    let identity = identity(errors, columns.identity, timestamp.as_deref());
    let labels = labels(errors, raw.labels);

    Some(Mapping {
        id_prefix,
        timestamp: timestamp?,
        timestamp_format: raw.timestamp_format,
        cost: cost?,
        currency: currency?,
        quantity,
        unit,
        provider: provider?,
        service: service?,
        resource,
        metric,
        category: category?,
        sub_kind,
        tenant,
        identity: identity?,
        labels,
    })
}

/// A `columns.<key>` column name.
fn column(errors: &mut Errors, key: &str, value: Option<String>, required: bool) -> Option<String> {
    match value {
        Some(v) if v.trim().is_empty() => {
            errors.push(format!("columns.{key}"), "must not be empty");
            None
        }
        Some(v) => Some(v.trim().to_string()),
        None if required => {
            errors.push(format!("columns.{key}"), "is required");
            None
        }
        None => None,
    }
}

/// A field given by `columns.<key>` or `fixed.<key>`, exactly one of them.
fn source(
    errors: &mut Errors,
    key: &'static str,
    column_name: Option<String>,
    fixed: Option<String>,
    required: bool,
) -> Option<Source> {
    let fixed_key = fixed_key(key);
    match (column_name, fixed) {
        (Some(_), Some(_)) => {
            errors.push(
                format!("columns.{key}"),
                format!("give columns.{key} or {fixed_key}, not both"),
            );
            None
        }
        (Some(c), None) => column(errors, key, Some(c), true).map(Source::Column),
        (None, Some(v)) => {
            let value = v.trim().to_string();
            if value.is_empty() || value.chars().count() > MAX_NAME_LEN {
                errors.push(fixed_key, format!("must be 1 to {MAX_NAME_LEN} characters"));
                return None;
            }
            Some(Source::Fixed {
                value,
                key: fixed_key,
            })
        }
        (None, None) if required => {
            errors.push(
                format!("columns.{key}"),
                format!("is required: give columns.{key} or {fixed_key}"),
            );
            None
        }
        (None, None) => None,
    }
}

/// `fixed.<key>` as a `'static` string, so row errors can name it without allocating.
fn fixed_key(key: &str) -> &'static str {
    match key {
        "currency" => "fixed.currency",
        "unit" => "fixed.unit",
        "provider" => "fixed.provider",
        "service" => "fixed.service",
        "resource" => "fixed.resource",
        "metric" => "fixed.metric",
        "category" => "fixed.category",
        _ => "fixed.sub_kind",
    }
}

/// `hosting` or `hosting/storage`.
pub(super) fn parse_kind(text: &str) -> Result<Kind, String> {
    let (category, sub_kind) = match text.split_once('/') {
        Some((c, s)) => (c, Some(s)),
        None => (text, None),
    };
    let category: Category = category
        .trim()
        .parse()
        .map_err(|e| format!("{text:?}: the category {e}"))?;
    let sub_kind = match sub_kind {
        None => None,
        Some(s) => {
            let s: SubKind = s
                .trim()
                .parse()
                .map_err(|e| format!("{text:?}: the sub-kind {e}"))?;
            if s != SubKind::General && !category.sub_kinds().contains(&s) {
                return Err(format!(
                    "{text:?}: {category} admits the sub-kinds {}",
                    category
                        .sub_kinds()
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Some(s)
        }
    };
    Ok((category, sub_kind))
}

fn categories(
    errors: &mut Errors,
    column_name: Option<String>,
    fixed: Option<String>,
    map: BTreeMap<String, String>,
) -> Option<Categories> {
    let column = column(errors, "category", column_name, false);
    let default = match fixed.as_deref().map(parse_kind) {
        Some(Ok(kind)) => Some(kind),
        Some(Err(reason)) => {
            errors.push("fixed.category", reason);
            None
        }
        None => None,
    };
    if column.is_none() && fixed.is_none() {
        errors.push(
            "columns.category",
            "is required: give columns.category (with category_map) or fixed.category",
        );
        return None;
    }
    if column.is_none() && !map.is_empty() {
        errors.push(
            "category_map",
            "maps values of columns.category, which is not given",
        );
    }
    let mut kinds = HashMap::with_capacity(map.len());
    for (value, kind) in map {
        match parse_kind(&kind) {
            Ok(k) => {
                kinds.insert(value, k);
            }
            Err(reason) => errors.push(format!("category_map.{}", toml_key(&value)), reason),
        }
    }
    Some(Categories {
        column,
        map: kinds,
        default,
    })
}

fn identity(
    errors: &mut Errors,
    columns: Option<Vec<String>>,
    timestamp: Option<&str>,
) -> Option<Vec<String>> {
    let key = "columns.identity";
    let Some(columns) = columns.filter(|c| !c.is_empty()) else {
        errors.push(
            key,
            "is required: the columns that tell one charge from another (event ids derive \
             from them, so re-importing never counts a charge twice)",
        );
        return None;
    };
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        let c = c.trim().to_string();
        if c.is_empty() {
            errors.push(key, "lists an empty column name");
        } else if !seen.insert(c.clone()) {
            errors.push(key, format!("lists {c:?} twice"));
        } else {
            out.push(c);
        }
    }
    if let Some(ts) = timestamp
        && !out.iter().any(|c| c == ts)
    {
        errors.push(
            key,
            format!(
                "must include the timestamp column {ts:?}: without it the same charge on \
                 different days would share one event id and all but one would be dropped"
            ),
        );
    }
    Some(out)
}

fn labels(errors: &mut Errors, labels: BTreeMap<String, String>) -> Vec<(String, String)> {
    if labels.len() > MAX_LABELS {
        errors.push(
            "labels",
            format!(
                "has {} labels; an event holds at most {MAX_LABELS}",
                labels.len()
            ),
        );
    }
    let mut out = Vec::with_capacity(labels.len());
    for (key, column) in labels {
        let path = format!("labels.{}", toml_key(&key));
        if key.trim().is_empty()
            || key.chars().count() > MAX_LABEL_KEY_LEN
            || key.chars().any(char::is_control)
        {
            errors.push(
                path,
                format!("a label key must be 1 to {MAX_LABEL_KEY_LEN} printable characters"),
            );
        } else if column.trim().is_empty() {
            errors.push(path, "must name a column");
        } else {
            out.push((key, column.trim().to_string()));
        }
    }
    out
}

/// A key as written in a dotted TOML path: bare when it can be, else quoted.
pub(super) fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// The dotted key a TOML error points at: the `key =` on the error's line, under the nearest
/// `[table]` header above it. toml's own message names only the innermost field, which is
/// ambiguous (`currency` is a key of both `columns` and `fixed`).
pub(super) fn key_at(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return "mapping".to_string();
    };
    let start = char_boundary(text, span.start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(['[', ']']).trim().to_string());
    if line.starts_with('[') {
        return line.trim_matches(['[', ']']).trim().to_string();
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_string())
        .filter(|k| !k.is_empty());
    match (table, key) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => "mapping".to_string(),
    }
}

/// The char boundary at or before `at` (toml spans are byte offsets into `text`).
fn char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// toml's message with the line it refers to (its Display adds a multi-line source excerpt).
pub(super) fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..char_boundary(text, span.start)]
                .matches('\n')
                .count()
                + 1;
            format!("{message} (line {line})")
        }
        None => message,
    }
}
