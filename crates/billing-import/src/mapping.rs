//! Custom providers: a declarative TOML mapping that says how a provider's own CSV becomes usage
//! events, for bills that are neither FOCUS nor CUR. `docs/examples/custom-provider.toml` is a
//! commented example.
//!
//! ```toml
//! id_prefix = "acmecloud"            # event ids are "<id_prefix>-<UUIDv5 of the identity>"
//! timestamp_format = "%d/%m/%Y"      # optional strftime; default: ISO 8601 as for FOCUS
//!
//! [columns]                          # file column names, exact (after trimming)
//! timestamp = "Usage Date"           # required
//! cost = "Amount"                    # required, an exact decimal
//! currency = "Currency"              # or fixed.currency
//! quantity = "Qty"                   # optional (0 when absent or empty)
//! unit = "Unit"                      # optional, or fixed.unit
//! provider = "Vendor"                # or fixed.provider (lowercased either way)
//! service = "Product"                # or fixed.service
//! resource = "Resource"              # optional, or fixed.resource
//! metric = "Description"             # optional, or fixed.metric
//! category = "Family"                # or fixed.category; values go through category_map
//! sub_kind = "Kind"                  # optional, or fixed.sub_kind; else from the category
//! tenant = "Customer"                # optional; --tenant-column overrides it
//! identity = ["Invoice", "Usage Date", "Resource", "Description"]
//!
//! [fixed]
//! currency = "EUR"
//!
//! [category_map]                     # column value → "category" or "category/sub_kind"
//! "Virtual Machines" = "hosting/compute"
//!
//! [labels]                           # label key → column
//! project = "Project"
//! ```
//!
//! Every problem of a mapping is reported at once, each naming its key (`columns.cost: is
//! required`); only a TOML syntax or type error, or an unknown key, stops at the first. A mapping is then bound to a file's header before any row is read: a column it
//! names that the header lacks is a header error naming the key (`columns.cost: column "Amt" is
//! not in the file header`). Row problems are reported like FOCUS rows: row, column, reason.
//!
//! Re-import safety works as for FOCUS: the event id is a UUIDv5 of the identity columns' names
//! and values (the timestamp column as RFC 3339 UTC, the cost and quantity columns as normalised
//! decimals), so the same charge read again, from the same or an overlapping file, is the same
//! event and is not counted twice. The identity must therefore tell every charge of the file
//! apart: rows sharing an identity are one event, and all but the first are dropped. It must
//! include the timestamp column for that reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use costwatch_domain::{Category, SubKind};
use serde::Deserialize;

use crate::row::Columns;

mod parse;
mod rows;

use parse::{Errors, check, key_at, toml_key, toml_reason};
pub(crate) use rows::map;

/// One problem with one key of a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Dotted path of the key, e.g. `columns.cost` or `category_map."Block Storage"`.
    pub key: String,
    pub reason: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

/// Why a mapping file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("reading the mapping file failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{}", .0.iter().map(KeyError::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<KeyError>),
}

/// Every field optional, so a missing key is reported by name with the other problems rather
/// than as serde's first "missing field".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    id_prefix: Option<String>,
    timestamp_format: Option<String>,
    columns: Option<RawColumns>,
    #[serde(default)]
    fixed: RawFixed,
    #[serde(default)]
    category_map: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumns {
    timestamp: Option<String>,
    cost: Option<String>,
    currency: Option<String>,
    quantity: Option<String>,
    unit: Option<String>,
    provider: Option<String>,
    service: Option<String>,
    resource: Option<String>,
    metric: Option<String>,
    category: Option<String>,
    sub_kind: Option<String>,
    tenant: Option<String>,
    identity: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixed {
    currency: Option<String>,
    unit: Option<String>,
    provider: Option<String>,
    service: Option<String>,
    resource: Option<String>,
    metric: Option<String>,
    category: Option<String>,
    sub_kind: Option<String>,
}

/// Where an event field comes from: a column of the file or a value fixed by the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Column(String),
    /// The value and its mapping key (`fixed.provider`), which row errors name as the column.
    Fixed {
        value: String,
        key: &'static str,
    },
}

/// A category and, when the mapping says it, a sub-kind (else the domain infers one).
pub(crate) type Kind = (Category, Option<SubKind>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Categories {
    pub column: Option<String>,
    pub map: HashMap<String, Kind>,
    /// `fixed.category`: every row's category, or with a column the one for unmapped values.
    pub default: Option<Kind>,
}

/// A checked mapping, ready to bind to a file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub(crate) id_prefix: String,
    pub(crate) timestamp: String,
    pub(crate) timestamp_format: Option<String>,
    pub(crate) cost: String,
    pub(crate) currency: Source,
    pub(crate) quantity: Option<String>,
    pub(crate) unit: Option<Source>,
    pub(crate) provider: Source,
    pub(crate) service: Source,
    pub(crate) resource: Option<Source>,
    pub(crate) metric: Option<Source>,
    pub(crate) category: Categories,
    pub(crate) sub_kind: Option<Source>,
    pub(crate) tenant: Option<String>,
    pub(crate) identity: Vec<String>,
    /// (label key, column), in key order.
    pub(crate) labels: Vec<(String, String)>,
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        Mapping::parse(&std::fs::read_to_string(path)?)
    }

    /// Parses and checks a mapping, reporting every problem at once.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            MappingError::Invalid(vec![KeyError {
                key: key_at(text, e.span()),
                reason: toml_reason(text, &e),
            }])
        })?;
        let mut errors = Errors::default();
        let mapping = check(raw, &mut errors);
        match mapping {
            Some(m) if errors.0.is_empty() => Ok(m),
            _ => Err(MappingError::Invalid(errors.0)),
        }
    }

    /// The tenant column the mapping names, if any.
    pub fn tenant_column(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// Every (mapping key, column) the mapping reads, the identity's entries each once.
    fn referenced(&self) -> Vec<(String, &str)> {
        let mut out = vec![
            ("columns.timestamp".to_string(), self.timestamp.as_str()),
            ("columns.cost".to_string(), self.cost.as_str()),
        ];
        let sources = [
            ("currency", Some(&self.currency)),
            ("unit", self.unit.as_ref()),
            ("provider", Some(&self.provider)),
            ("service", Some(&self.service)),
            ("resource", self.resource.as_ref()),
            ("metric", self.metric.as_ref()),
            ("sub_kind", self.sub_kind.as_ref()),
        ];
        for (key, source) in sources {
            if let Some(Source::Column(c)) = source {
                out.push((format!("columns.{key}"), c.as_str()));
            }
        }
        for (key, column) in [
            ("quantity", &self.quantity),
            ("category", &self.category.column),
            ("tenant", &self.tenant),
        ] {
            if let Some(c) = column {
                out.push((format!("columns.{key}"), c.as_str()));
            }
        }
        for c in &self.identity {
            out.push(("columns.identity".to_string(), c.as_str()));
        }
        for (key, c) in &self.labels {
            out.push((format!("labels.{}", toml_key(key)), c.as_str()));
        }
        out
    }

    /// (mapping key, reason) for each column the mapping names that the header lacks.
    pub(crate) fn missing_columns(&self, cols: &Columns) -> Vec<(String, String)> {
        let mut seen = HashSet::new();
        self.referenced()
            .into_iter()
            .filter(|(key, column)| !cols.has(column) && seen.insert((key.clone(), *column)))
            .map(|(key, column)| (key, format!("column {column:?} is not in the file header")))
            .collect()
    }
}

#[cfg(test)]
mod tests;
