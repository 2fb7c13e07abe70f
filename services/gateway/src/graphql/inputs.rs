//! GraphQL input types and enums, and their conversion to the domain's query inputs.

use std::collections::BTreeMap;

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Utc};
use costwatch_domain::query::{Filter, TimeRange};

use crate::queries::{DimensionKind, QueryError, parse_each, parse_range};

/// A half-open UTC range `[from, to)`. Both ends are truncated to the minute; `to` must be at
/// least a minute after `from`, and a range spans at most 1098 days.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct TimeRangeInput {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TimeRangeInput {
    pub fn validate(&self) -> Result<TimeRange, QueryError> {
        parse_range("range", self.from, self.to)
    }
}

/// What a breakdown or history groups by. `LABEL` groups by the value of the label named by the
/// `labelKey` argument (rows without that label fall in "(none)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Dimension {
    Tenant,
    Category,
    SubKind,
    Provider,
    Service,
    Resource,
    Label,
}

impl From<Dimension> for DimensionKind {
    fn from(d: Dimension) -> Self {
        match d {
            Dimension::Tenant => DimensionKind::Tenant,
            Dimension::Category => DimensionKind::Category,
            Dimension::SubKind => DimensionKind::SubKind,
            Dimension::Provider => DimensionKind::Provider,
            Dimension::Service => DimensionKind::Service,
            Dimension::Resource => DimensionKind::Resource,
            Dimension::Label => DimensionKind::Label,
        }
    }
}

pub fn dimension_kinds(dims: &[Dimension]) -> Vec<DimensionKind> {
    dims.iter().copied().map(DimensionKind::from).collect()
}

/// Bucket size of a history (UTC buckets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Granularity {
    Minute,
    Hour,
    Day,
    Month,
}

impl From<Granularity> for costwatch_domain::Granularity {
    fn from(g: Granularity) -> Self {
        match g {
            Granularity::Minute => costwatch_domain::Granularity::Minute,
            Granularity::Hour => costwatch_domain::Granularity::Hour,
            Granularity::Day => costwatch_domain::Granularity::Day,
            Granularity::Month => costwatch_domain::Granularity::Month,
        }
    }
}

/// A label that must be present with this value.
#[derive(Debug, Clone, InputObject, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelInput {
    pub key: String,
    pub value: String,
}

/// Narrows a query. Every list given must contain the row's value; an absent or empty list means
/// "any". Every label given must be present with its value.
#[derive(Debug, Clone, Default, InputObject)]
pub struct CostFilterInput {
    /// api, hosting, database, third_party, other.
    pub categories: Option<Vec<String>>,
    /// requests, data_transfer, premium_features, compute, storage, network, cdn, queries,
    /// backup_replication, general.
    pub sub_kinds: Option<Vec<String>>,
    pub providers: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
    pub resources: Option<Vec<String>>,
    pub labels: Option<Vec<LabelInput>>,
}

impl CostFilterInput {
    pub fn validate(&self) -> Result<Filter, QueryError> {
        let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
        let mut labels = BTreeMap::new();
        for l in self.labels.iter().flatten() {
            match labels.insert(l.key.clone(), l.value.clone()) {
                Some(prev) if prev != l.value => {
                    return Err(QueryError::bad(
                        "filter.labels",
                        format!("label {:?} is given twice with different values", l.key),
                    ));
                }
                _ => {}
            }
        }
        Ok(Filter {
            categories: parse_each("filter.categories", &list(&self.categories))?,
            sub_kinds: parse_each("filter.subKinds", &list(&self.sub_kinds))?,
            providers: list(&self.providers),
            services: list(&self.services),
            resources: list(&self.resources),
            labels,
        })
    }
}

/// The filter of an optional argument (`None` matches everything).
pub fn filter_of(f: &Option<CostFilterInput>) -> Result<Filter, QueryError> {
    f.as_ref()
        .map_or_else(|| Ok(Filter::default()), CostFilterInput::validate)
}
