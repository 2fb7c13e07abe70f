//! Slack incoming webhook with a Block Kit message.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Channel;
use crate::config::SlackConfig;
use crate::digest::DigestMessage;
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

fn mrkdwn_section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(&text, SECTION_MAX)}})
}

/// A digest as Block Kit: header, totals, movers, budgets at risk, open alerts, a button.
pub fn digest_payload(d: &DigestMessage) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "emoji": true,
        "text": truncate_chars(&format!(":bar_chart: {}", d.title), HEADER_MAX)}}),
    ];
    let totals: Vec<String> = d
        .totals
        .iter()
        .map(|t| {
            format!(
                "*{} {}* (previous {}, change {})",
                t.current, t.currency, t.previous, t.change
            )
        })
        .collect();
    blocks.push(mrkdwn_section(format!(
        "*Spend vs previous period*\n{}",
        if totals.is_empty() {
            "no spend in either period".to_string()
        } else {
            totals.join("\n")
        }
    )));
    for (label, list) in [
        ("Top services by change", &d.service_movers),
        ("Top resources by change", &d.resource_movers),
    ] {
        if list.is_empty() {
            continue;
        }
        let lines: Vec<String> = list
            .iter()
            .map(|m| {
                format!(
                    "• `{}` {} {} (now {})",
                    escape(&m.name),
                    m.change,
                    m.currency,
                    m.current
                )
            })
            .collect();
        blocks.push(mrkdwn_section(format!("*{label}*\n{}", lines.join("\n"))));
    }
    if !d.budgets_at_risk.is_empty() {
        let lines: Vec<String> = d
            .budgets_at_risk
            .iter()
            .map(|b| {
                format!(
                    "• *{}*: {} of {} {} ({}%), {}",
                    escape(&b.name),
                    b.spent,
                    b.amount,
                    b.currency,
                    b.percent_spent,
                    escape(&b.reason)
                )
            })
            .collect();
        blocks.push(mrkdwn_section(format!(
            ":warning: *Budgets at risk*\n{}",
            lines.join("\n")
        )));
    }
    let mut alerts = format!(
        "*Open alerts*: {} critical, {} warning, {} info",
        d.open_critical, d.open_warning, d.open_info
    );
    for a in &d.top_alerts {
        alerts.push_str(&format!("\n• [{}] {}", a.severity, escape(&a.title)));
    }
    blocks.push(mrkdwn_section(alerts));
    if let Some(link) = &d.link {
        blocks.push(json!({"type": "actions", "elements": [{"type": "button",
            "text": {"type": "plain_text", "text": "Open in Costwatch"}, "url": link}]}));
    }
    json!({"text": escape(&d.title), "blocks": blocks})
}
