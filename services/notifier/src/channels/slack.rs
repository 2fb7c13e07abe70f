//! Slack incoming webhook with a Block Kit message.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Channel;
use crate::config::SlackConfig;
use crate::error::SendError;
use crate::notification::{Notification, truncate_chars};

/// Slack's limits: header text 150 characters, section text 3000, 10 fields per section.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3_000;
const FIELD_MAX: usize = 2_000;
const FIELDS_PER_SECTION: usize = 10;

pub struct SlackChannel {
    http: reqwest::Client,
    config: SlackConfig,
}

impl SlackChannel {
    pub fn new(http: reqwest::Client, config: SlackConfig) -> Self {
        SlackChannel { http, config }
    }
}

#[async_trait]
impl Channel for SlackChannel {
    async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let request = self
            .http
            .post(self.config.webhook_url.expose())
            .json(&payload(notification));
        crate::http::send(request).await
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn emoji(notification: &Notification) -> &'static str {
    use crate::notification::{AlertState, Severity};
    match (notification.state, notification.severity) {
        (AlertState::Resolved, _) => ":white_check_mark:",
        (AlertState::Acknowledged, _) => ":eyes:",
        (_, Severity::Critical | Severity::Error) => ":rotating_light:",
        (_, Severity::Warning) => ":warning:",
        (_, Severity::Info) => ":information_source:",
    }
}

/// The Block Kit body: header, summary, fields (in sections of 10), context, and a button to the
/// alert. `text` is the fallback shown in notifications.
pub fn payload(notification: &Notification) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "emoji": true,
            "text": truncate_chars(&format!("{} {}", emoji(notification), notification.title), HEADER_MAX)}}),
        json!({"type": "section", "text": {"type": "mrkdwn",
            "text": truncate_chars(&escape(&notification.summary), SECTION_MAX)}}),
    ];
    for chunk in notification.fields.chunks(FIELDS_PER_SECTION) {
        let fields: Vec<Value> = chunk
            .iter()
            .map(|f| {
                json!({"type": "mrkdwn", "text": truncate_chars(
                    &format!("*{}*\n{}", escape(&f.name), escape(&f.value)), FIELD_MAX)})
            })
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    blocks.push(
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
            "*{}* · {} · tenant `{}` · {}",
            notification.state.as_str(),
            notification.severity.as_str(),
            escape(&notification.tenant),
            notification.occurred_at.to_rfc3339(),
        )}]}),
    );
    if let Some(link) = &notification.link {
        blocks.push(json!({"type": "actions", "elements": [{"type": "button",
            "text": {"type": "plain_text", "text": "Open in Costwatch"}, "url": link}]}));
    }
    json!({"text": escape(&notification.headline()), "blocks": blocks})
}
