//! Billing-file import: FOCUS 1.0–1.2 (and 1.3 column names) and AWS CUR 2.0 (and legacy CUR)
//! files, CSV (plain or gzip) or Apache Parquet, mapped row by row to Costwatch usage events.
//!
//! Pure parsing and mapping: no network. CSV streams from any [`std::io::Read`] one record at a
//! time; Parquet is read from a file one row group at a time (its rows are rendered as CSV
//! records, see the `parquet` module), so memory does not grow with the file. Each mapped event
//! is checked with the same validator the collector runs
//! ([`costwatch_domain::validate::parse_event`]), so a file that validates here is accepted by
//! `POST /v1/events`.
//!
//! How rows become events is documented in the `focus` and `cur` module comments; bills of other
//! providers are read through a declarative column mapping ([`Mapping`], the `mapping` module).

mod cur;
mod draft;
pub mod ecb;
mod focus;
mod mapping;
mod parquet;
mod reader;
mod row;
pub mod source;

pub use mapping::{KeyError, Mapping, MappingError};
pub use reader::{EventReader, ValidationReport, validate};
pub use row::{RowError, parse_timestamp};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use costwatch_domain::TenantId;

/// The kind of billing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// FinOps FOCUS 1.0, 1.1, 1.2 (1.3's ServiceProviderName/HostProviderName accepted).
    Focus,
    /// AWS Cost and Usage Report 2.0 (`line_item_*` columns); legacy CUR (`lineItem/*`) too.
    Cur,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Focus => "focus",
            Format::Cur => "cur",
        }
    }
}

/// How a file's rows become events: a built-in format, or a custom provider's column mapping.
/// Readers take `impl Into<Layout>`, so a [`Format`] can be passed as it is.
#[derive(Debug, Clone)]
pub enum Layout {
    Builtin(Format),
    /// Shared, as a file is read twice (validated, then sent) and several files may share it.
    Mapped(Arc<Mapping>),
}

impl Layout {
    pub fn as_str(&self) -> &'static str {
        match self {
            Layout::Builtin(f) => f.as_str(),
            Layout::Mapped(_) => "mapped",
        }
    }

    /// The tenant column rows are read with: the caller's, else the one the mapping names.
    pub fn tenant_column(&self, opts: &ImportOptions) -> Option<String> {
        match (&opts.tenant_column, self) {
            (Some(c), _) => Some(c.clone()),
            (None, Layout::Mapped(m)) => m.tenant_column().map(str::to_string),
            (None, Layout::Builtin(_)) => None,
        }
    }
}

impl From<Format> for Layout {
    fn from(format: Format) -> Layout {
        Layout::Builtin(format)
    }
}

impl From<Arc<Mapping>> for Layout {
    fn from(mapping: Arc<Mapping>) -> Layout {
        Layout::Mapped(mapping)
    }
}

impl From<Mapping> for Layout {
    fn from(mapping: Mapping) -> Layout {
        Layout::Mapped(Arc::new(mapping))
    }
}

/// Who the events belong to and how they are checked.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Tenant of every row, or of the rows whose tenant column is empty.
    pub tenant: Option<TenantId>,
    /// Column whose value is the row's tenant (e.g. `SubAccountId`).
    pub tenant_column: Option<String>,
    /// The validator refuses timestamps more than 24h after this instant.
    pub now: DateTime<Utc>,
}

impl ImportOptions {
    pub fn for_tenant(tenant: TenantId) -> ImportOptions {
        ImportOptions {
            tenant: Some(tenant),
            tenant_column: None,
            now: Utc::now(),
        }
    }
}

/// A problem that stops reading the file at all (as opposed to one broken row).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the file failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the header is not usable: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Header(Vec<RowError>),
    #[error("neither a default tenant nor a tenant column was given")]
    NoTenant,
    /// Not Parquet, truncated or corrupt, or using a codec or type this build cannot read.
    #[error("the file is not readable Parquet: {0}")]
    Parquet(String),
}
