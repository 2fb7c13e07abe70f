//! Integration tests: every channel against real local receivers (axum HTTP servers and a small
//! SMTP server on 127.0.0.1, port 0). No traffic leaves the machine.

mod channels;
mod config;
mod email;
mod engine;
mod latency;
mod receiver;
mod routing;
mod sink;
mod smtp;
mod sqlite_log;

use chrono::{TimeZone, Utc};
use costwatch_notifier::{AlertState, Field, Notification, Severity};

pub fn notification(state: AlertState) -> Notification {
    Notification {
        alert_id: "alert-42".to_owned(),
        tenant: "acme".to_owned(),
        dedupe_key: "budget/acme/monthly-cloud".to_owned(),
        severity: Severity::Critical,
        state,
        title: "Budget exceeded".to_owned(),
        summary: "acme spent 1250.00000000503 USD of a 1200 USD monthly budget <cloud>".to_owned(),
        fields: vec![
            Field::new("Budget", "1200 USD"),
            Field::new("Spent", "1250.00000000503 USD"),
        ],
        link: Some("http://127.0.0.1:8080/alerts/alert-42".to_owned()),
        occurred_at: Utc
            .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
            .single()
            .expect("valid timestamp"),
    }
}
