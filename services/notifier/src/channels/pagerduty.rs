//! PagerDuty Events API v2: trigger, acknowledge and resolve one incident by its dedupe key.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::Channel;
use crate::config::PagerDutyConfig;
use crate::error::SendError;
use crate::notification::{AlertState, Notification, truncate_chars};

/// PagerDuty truncates summaries at 1024 characters; cut them ourselves so the cut is visible.
const SUMMARY_MAX: usize = 1_024;

pub struct PagerDutyChannel {
    http: reqwest::Client,
    config: PagerDutyConfig,
}

impl PagerDutyChannel {
    pub fn new(http: reqwest::Client, config: PagerDutyConfig) -> Self {
        PagerDutyChannel { http, config }
    }
}

#[async_trait]
impl Channel for PagerDutyChannel {
    async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let body = event(
            notification,
            self.config.routing_key.expose(),
            &self.config.source,
        );
        crate::http::send(self.http.post(&self.config.events_url).json(&body)).await
    }
}

/// The event body. Acknowledge and resolve carry only the keys: PagerDuty ignores a payload there.
pub fn event(notification: &Notification, routing_key: &str, source: &str) -> Value {
    let action = match notification.state {
        AlertState::Triggered => "trigger",
        AlertState::Acknowledged => "acknowledge",
        AlertState::Resolved => "resolve",
    };
    let mut event = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": notification.dedupe_key,
    });
    if notification.state == AlertState::Triggered {
        let details: Map<String, Value> = notification
            .fields
            .iter()
            .map(|f| (f.name.clone(), Value::String(f.value.clone())))
            .chain([
                (
                    "alert_id".to_owned(),
                    Value::String(notification.alert_id.clone()),
                ),
                (
                    "description".to_owned(),
                    Value::String(notification.summary.clone()),
                ),
            ])
            .collect();
        event["payload"] = json!({
            "summary": truncate_chars(&notification.title, SUMMARY_MAX),
            "source": source,
            "severity": notification.severity.as_str(),
            "timestamp": notification.occurred_at.to_rfc3339(),
            "group": notification.tenant,
            "class": "cost_alert",
            "custom_details": details,
        });
        if let Some(link) = &notification.link {
            event["links"] = json!([{"href": link, "text": "Open in Costwatch"}]);
        }
    }
    event
}
