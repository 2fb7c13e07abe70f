//! The notifier's input: one alert state change, already decided by the alert evaluator.
//!
//! Deliberately independent of the domain crate's alert types; the service maps a domain alert into
//! this shape, so channel payloads never change when the domain model does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How urgent the alert is. Names follow PagerDuty's four levels, which the other channels reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Where the alert is in its lifecycle; each change is one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Triggered,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Triggered => "triggered",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One labelled value shown with the alert ("Budget" → "1200 USD"). Amounts arrive already
/// formatted as exact decimal strings: the notifier never does arithmetic on money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

impl Field {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Field {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// An alert state change to deliver to every configured channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Identifies the alert across its state changes; delivery status is kept per alert × channel.
    pub alert_id: String,
    pub tenant: String,
    /// Groups trigger/acknowledge/resolve of one incident (PagerDuty's `dedup_key`).
    pub dedupe_key: String,
    pub severity: Severity,
    pub state: AlertState,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub link: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl Notification {
    /// A one-line subject shared by SMS and email: `[CRITICAL] Budget exceeded (triggered)`.
    pub fn headline(&self) -> String {
        format!(
            "[{}] {} ({})",
            self.severity.as_str().to_uppercase(),
            self.title,
            self.state.as_str()
        )
    }
}

/// Cuts `text` to at most `max_chars` characters (not bytes, so multi-byte text never splits),
/// marking the cut with an ellipsis. Channels have hard length limits and reject longer text.
pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate_chars("héllo", 5), "héllo");
        let cut = truncate_chars("héllo wörld", 6);
        assert_eq!(cut, "héllo…");
        assert_eq!(cut.chars().count(), 6);
    }
}
