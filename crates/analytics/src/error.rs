//! The crate's one error type: every variant names the field and the reason.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalyticsError {
    /// An input value could not be used (non-finite, out of range, not representable).
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// Not enough history for the requested computation.
    #[error("{field}: needs at least {needed} points, got {got}")]
    TooShort {
        field: &'static str,
        needed: usize,
        got: usize,
    },
}

impl AnalyticsError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}
