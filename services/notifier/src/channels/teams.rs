//! Microsoft Teams incoming webhook (or Workflows webhook) with an Adaptive Card.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Channel;
use crate::config::TeamsConfig;
use crate::digest::DigestMessage;
use crate::error::SendError;
use crate::notification::Notification;

pub struct TeamsChannel {
    http: reqwest::Client,
    config: TeamsConfig,
}

impl TeamsChannel {
    pub fn new(http: reqwest::Client, config: TeamsConfig) -> Self {
        TeamsChannel { http, config }
    }
}

#[async_trait]
impl Channel for TeamsChannel {
    async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let request = self
            .http
            .post(self.config.webhook_url.expose())
            .json(&payload(notification));
        crate::http::send(request).await
    }

    async fn send_digest(&self, digest: &DigestMessage) -> Result<(), SendError> {
        let request = self
            .http
            .post(self.config.webhook_url.expose())
            .json(&digest_payload(digest));
        crate::http::send(request).await
    }

    fn takes_digests(&self) -> bool {
        true
    }
}

/// A `message` with one Adaptive Card attachment (version 1.4, what Teams renders).
pub fn payload(notification: &Notification) -> Value {
    use crate::notification::{AlertState, Severity};
    let color = match (notification.state, notification.severity) {
        (AlertState::Resolved, _) => "Good",
        (_, Severity::Critical | Severity::Error) => "Attention",
        (_, Severity::Warning) => "Warning",
        _ => "Default",
    };
    let mut facts: Vec<Value> = vec![
        json!({"title": "State", "value": notification.state.as_str()}),
        json!({"title": "Severity", "value": notification.severity.as_str()}),
        json!({"title": "Tenant", "value": notification.tenant}),
        json!({"title": "Occurred at", "value": notification.occurred_at.to_rfc3339()}),
    ];
    facts.extend(
        notification
            .fields
            .iter()
            .map(|f| json!({"title": f.name, "value": f.value})),
    );
    let actions: Vec<Value> = notification
        .link
        .iter()
        .map(|link| json!({"type": "Action.OpenUrl", "title": "Open in Costwatch", "url": link}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": notification.title, "weight": "Bolder",
                     "size": "Medium", "color": color, "wrap": true},
                    {"type": "TextBlock", "text": notification.summary, "wrap": true},
                    {"type": "FactSet", "facts": facts},
                ],
                "actions": actions,
            },
        }],
    })
}

/// A digest as an Adaptive Card: a title, then one text block per section of the plain text.
pub fn digest_payload(d: &DigestMessage) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "text": d.title, "weight": "Bolder",
        "size": "Medium", "wrap": true}),
    ];
    // Skip the title line the plain text starts with; keep the rest as monospace-free blocks.
    body.extend(
        d.lines()
            .into_iter()
            .skip(2)
            .filter(|l| !l.is_empty())
            .map(|l| json!({"type": "TextBlock", "text": l, "wrap": true, "spacing": "None"})),
    );
    let actions: Vec<Value> = d
        .link
        .iter()
        .map(|link| json!({"type": "Action.OpenUrl", "title": "Open in Costwatch", "url": link}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}
