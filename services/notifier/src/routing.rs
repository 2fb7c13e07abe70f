//! Which notifications a channel takes: a minimum severity and, optionally, a list of tenants.

use crate::notification::{Notification, Severity};

/// A channel's filter. The default takes everything (`min_severity = info`, every tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    pub min_severity: Severity,
    /// Tenants the channel serves; empty means every tenant.
    pub tenants: Vec<String>,
}

impl Default for RouteRule {
    fn default() -> Self {
        RouteRule {
            min_severity: Severity::Info,
            tenants: Vec::new(),
        }
    }
}

impl RouteRule {
    pub fn matches(&self, notification: &Notification) -> bool {
        rank(notification.severity) >= rank(self.min_severity)
            && (self.tenants.is_empty() || self.tenants.contains(&notification.tenant))
    }
}

/// Info < Warning < Error < Critical.
fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
        Severity::Critical => 3,
    }
}

/// Parses a configured `min_severity`: `info`, `warning` or `critical`.
pub(crate) fn parse_min_severity(value: &str) -> Option<Severity> {
    match value {
        "info" => Some(Severity::Info),
        "warning" => Some(Severity::Warning),
        "critical" => Some(Severity::Critical),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::AlertState;

    fn note(severity: Severity, tenant: &str) -> Notification {
        Notification {
            alert_id: "a".into(),
            tenant: tenant.into(),
            dedupe_key: "k".into(),
            severity,
            state: AlertState::Triggered,
            title: "t".into(),
            summary: "s".into(),
            fields: Vec::new(),
            link: None,
            occurred_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn severity_is_a_floor_and_tenants_a_whitelist() {
        let all = RouteRule::default();
        assert!(all.matches(&note(Severity::Info, "acme")));
        let critical = RouteRule {
            min_severity: Severity::Critical,
            tenants: Vec::new(),
        };
        assert!(!critical.matches(&note(Severity::Warning, "acme")));
        assert!(!critical.matches(&note(Severity::Error, "acme")));
        assert!(critical.matches(&note(Severity::Critical, "acme")));
        let warning_globex = RouteRule {
            min_severity: Severity::Warning,
            tenants: vec!["globex".into()],
        };
        assert!(!warning_globex.matches(&note(Severity::Critical, "acme")));
        assert!(!warning_globex.matches(&note(Severity::Info, "globex")));
        assert!(warning_globex.matches(&note(Severity::Warning, "globex")));
    }

    #[test]
    fn only_the_three_documented_levels_parse() {
        assert_eq!(parse_min_severity("info"), Some(Severity::Info));
        assert_eq!(parse_min_severity("warning"), Some(Severity::Warning));
        assert_eq!(parse_min_severity("critical"), Some(Severity::Critical));
        assert_eq!(parse_min_severity("error"), None);
        assert_eq!(parse_min_severity("Critical"), None);
    }
}
