//! Why a send failed, classified once so the delivery engine only decides "retry or not".

use std::time::Duration;

/// A failed attempt to send one notification over one channel.
///
/// Reasons never contain endpoint URLs: a Slack or Teams webhook URL is itself a secret, and these
/// reasons end up in the delivery log and in tracing output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The receiver refused the request (bad payload, wrong routing key, unknown number): sending
    /// the same thing again cannot succeed, so it is dead-lettered at once.
    #[error("permanent failure: {reason}")]
    Permanent { reason: String },
    /// The receiver or the network failed in a way that may pass (5xx, 408, 429, timeout,
    /// connection refused). `retry_after` carries the receiver's `Retry-After`, if it sent one.
    #[error("temporary failure: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl SendError {
    pub fn permanent(reason: impl Into<String>) -> Self {
        SendError::Permanent {
            reason: reason.into(),
        }
    }

    pub fn retryable(reason: impl Into<String>) -> Self {
        SendError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Retryable { .. })
    }
}

/// One invalid configuration value: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub field: String,
    pub reason: String,
}

/// Every problem found in a notifier configuration, reported together so an operator fixes them in
/// one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid notifier configuration: {}", describe(.problems))]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub(crate) fn single(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![ConfigProblem {
                field: field.into(),
                reason: reason.into(),
            }],
        }
    }
}

fn describe(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.reason))
        .collect::<Vec<_>>()
        .join("; ")
}
