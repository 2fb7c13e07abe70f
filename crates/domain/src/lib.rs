//! The Costwatch domain core: events, money, pricing, rollups and cost queries.
//!
//! Pure Rust: no I/O, no async, no clocks (callers pass `now`). Everything that decides a number
//! lives here so it can be tested exhaustively.

pub mod access;
pub mod alerting;
pub mod annotation;
pub mod api_key;
pub mod audit;
pub mod budget;
pub mod event;
pub mod fx;
pub mod masking;
pub mod money;
pub mod pricing;
pub mod query;
pub mod retention;
pub mod rollup;
pub mod sensitive_labels;
pub mod validate;

pub use event::{Category, SubKind, TenantId, UsageEvent};
pub use money::{Currency, Money};
pub use pricing::RateCard;
pub use rollup::{Granularity, RollupKey, RollupRow, RollupValue, SeriesKey};
