use costwatch_ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AlertingError {
    /// The caller's input is invalid; `field` names it (e.g. `input.amount`).
    #[error("invalid {field}: {reason}")]
    BadInput { field: String, reason: String },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The change lost a race with another writer; retry with fresh data.
    #[error("{what} {id} changed meanwhile; reload and retry")]
    Conflict { what: &'static str, id: String },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Stored costs cannot be expressed in the budget's currency (no exchange rate, overflow).
    #[error("{0}")]
    Compute(String),
}

impl AlertingError {
    pub fn bad(field: impl Into<String>, reason: impl Into<String>) -> AlertingError {
        AlertingError::BadInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
