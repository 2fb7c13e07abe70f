//! Typed notifier configuration: TOML for the shape, the environment for secrets and overrides.
//!
//! Environment variables `COSTWATCH_NOTIFIER__A__B=value` set key `a.b` (the figment convention
//! used across Costwatch), e.g. `COSTWATCH_NOTIFIER__CHANNELS__OPS_SLACK__WEBHOOK_URL`.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Toml};
use figment::value::Value;
use serde::Deserialize;

use crate::error::{ConfigError, ConfigProblem};
use crate::notification::Severity;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::routing::{RouteRule, parse_min_severity};
use crate::secret::Secret;

pub const ENV_PREFIX: &str = "COSTWATCH_NOTIFIER__";

#[derive(Debug, Clone, Deserialize)]
pub struct NotifierConfig {
    #[serde(default)]
    pub retry: RetryConfig,
    /// Per-request timeout of every HTTP channel; a timeout is retried.
    #[serde(default = "default_http_timeout_ms")]
    pub http_timeout_ms: u64,
    /// Channels by name (lowercase letters, digits, `_`), so each one can be addressed from the
    /// environment.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RetryConfig {
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    #[serde(default = "default_max_retry_after_ms")]
    pub max_retry_after_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: default_max_attempts(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
            max_retry_after_ms: default_max_retry_after_ms(),
        }
    }
}

impl RetryConfig {
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts,
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            max_backoff: Duration::from_millis(self.max_backoff_ms),
            max_retry_after: Duration::from_millis(self.max_retry_after_ms),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitConfig {
    pub burst: u32,
    pub per_second: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChannelConfig {
    #[serde(flatten)]
    pub kind: ChannelKind,
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// The least severe notification this channel takes: `info` (default), `warning` or
    /// `critical`. Checked by [`NotifierConfig::validate`].
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Tenants this channel serves; empty (the default) means every tenant.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Whether the channel takes weekly/monthly digests (Slack, Teams, email, webhook only).
    #[serde(default)]
    pub digests: bool,
}

impl ChannelConfig {
    /// The channel's filter. An invalid `min_severity` (rejected by
    /// [`NotifierConfig::validate`]) falls back to `info`.
    pub fn route(&self) -> RouteRule {
        RouteRule {
            min_severity: self
                .min_severity
                .as_deref()
                .and_then(parse_min_severity)
                .unwrap_or(Severity::Info),
            tenants: self.tenants.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelKind {
    Slack(SlackConfig),
    Teams(TeamsConfig),
    Pagerduty(PagerDutyConfig),
    Webhook(WebhookConfig),
    Sms(SmsConfig),
    Email(EmailConfig),
}

/// The incoming-webhook URL is the credential, hence a [`Secret`].
#[derive(Debug, Clone, Deserialize)]
pub struct SlackConfig {
    pub webhook_url: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamsConfig {
    pub webhook_url: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PagerDutyConfig {
    pub routing_key: Secret,
    #[serde(default = "default_pagerduty_url")]
    pub events_url: String,
    /// `payload.source`: the system the alert is about.
    #[serde(default = "default_source")]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookConfig {
    pub url: String,
    pub signing_secret: Secret,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmsConfig {
    /// Twilio's API root (or a compatible provider's); the path is appended.
    #[serde(default = "default_twilio_base")]
    pub api_base: String,
    pub account_sid: String,
    pub auth_token: Secret,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on localhost or a test server.
    None,
    /// Upgrade with STARTTLS and refuse to send without it. Needs the `tls` feature.
    Starttls,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default = "default_smtp_tls")]
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
}

fn default_http_timeout_ms() -> u64 {
    10_000
}
fn default_max_attempts() -> u32 {
    RetryPolicy::default().max_attempts
}
fn default_initial_backoff_ms() -> u64 {
    500
}
fn default_max_backoff_ms() -> u64 {
    60_000
}
fn default_max_retry_after_ms() -> u64 {
    300_000
}
fn default_pagerduty_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".to_owned()
}
fn default_source() -> String {
    "costwatch".to_owned()
}
fn default_twilio_base() -> String {
    "https://api.twilio.com".to_owned()
}
fn default_smtp_port() -> u16 {
    587
}
fn default_smtp_tls() -> SmtpTls {
    SmtpTls::Starttls
}

impl NotifierConfig {
    /// Reads `toml` (if any), overlays the `COSTWATCH_NOTIFIER__*` entries of `env`, and
    /// validates. Pass `std::env::vars()` in the service; tests pass a list.
    pub fn load(
        toml: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(toml) = toml {
            figment = figment.merge(Toml::string(toml));
        }
        for (name, value) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = path.to_lowercase().replace("__", ".");
            // Parsed like figment's Env provider: "5" becomes a number, "true" a bool.
            let value = Value::from_str(&value).unwrap_or_else(|never| match never {});
            figment = figment.merge((key, value));
        }
        let config: NotifierConfig = figment.extract().map_err(|error| ConfigError {
            problems: error
                .into_iter()
                .map(|e| ConfigProblem {
                    field: if e.path.is_empty() {
                        "(root)".to_owned()
                    } else {
                        e.path.join(".")
                    },
                    reason: e.kind.to_string(),
                })
                .collect(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: ranges, names, URLs, addresses. Reports every problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut problem = |field: String, reason: &str| {
            problems.push(ConfigProblem {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.retry.max_attempts == 0 {
            problem("retry.max_attempts".into(), "must be at least 1");
        }
        if self.retry.initial_backoff_ms > self.retry.max_backoff_ms {
            problem(
                "retry.initial_backoff_ms".into(),
                "must not exceed retry.max_backoff_ms",
            );
        }
        if self.http_timeout_ms == 0 {
            problem("http_timeout_ms".into(), "must be greater than 0");
        }
        for (name, channel) in &self.channels {
            let at = |field: &str| format!("channels.{name}.{field}");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                problem(
                    format!("channels.{name}"),
                    "channel names use only a-z, 0-9 and _ (they are addressed from the environment)",
                );
            }
            if let Some(limit) = &channel.rate_limit {
                if limit.burst == 0 {
                    problem(at("rate_limit.burst"), "must be at least 1");
                }
                if !(limit.per_second.is_finite() && limit.per_second > 0.0) {
                    problem(at("rate_limit.per_second"), "must be a positive number");
                }
            }
            if channel
                .min_severity
                .as_deref()
                .is_some_and(|level| parse_min_severity(level).is_none())
            {
                problem(at("min_severity"), "must be one of info, warning, critical");
            }
            if channel.digests
                && matches!(
                    channel.kind,
                    ChannelKind::Pagerduty(_) | ChannelKind::Sms(_)
                )
            {
                problem(
                    at("digests"),
                    "pagerduty and sms channels never take digests (they page)",
                );
            }
            for (i, tenant) in channel.tenants.iter().enumerate() {
                if tenant.trim().is_empty() {
                    problem(at(&format!("tenants[{i}]")), "must not be empty");
                }
            }
            let mut url = |field: &str, value: &str| {
                if reqwest::Url::parse(value).is_err() {
                    problem(at(field), "must be an absolute http(s) URL");
                }
            };
            match &channel.kind {
                ChannelKind::Slack(c) => url("webhook_url", c.webhook_url.expose()),
                ChannelKind::Teams(c) => url("webhook_url", c.webhook_url.expose()),
                ChannelKind::Pagerduty(c) => url("events_url", &c.events_url),
                ChannelKind::Webhook(c) => url("url", &c.url),
                ChannelKind::Sms(c) => url("api_base", &c.api_base),
                ChannelKind::Email(c) => {
                    if c.from.parse::<lettre::message::Mailbox>().is_err() {
                        problem(at("from"), "must be an email address");
                    }
                    if c.to.is_empty() {
                        problem(at("to"), "must list at least one recipient");
                    }
                    for (i, to) in c.to.iter().enumerate() {
                        if to.parse::<lettre::message::Mailbox>().is_err() {
                            problem(at(&format!("to[{i}]")), "must be an email address");
                        }
                    }
                    if c.username.is_some() != c.password.is_some() {
                        problem(at("password"), "username and password go together");
                    }
                    if c.tls == SmtpTls::Starttls && !cfg!(feature = "tls") {
                        problem(
                            at("tls"),
                            "starttls needs the notifier built with the `tls` feature",
                        );
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

impl RateLimitConfig {
    pub fn limit(&self) -> RateLimit {
        RateLimit {
            burst: self.burst,
            per_second: self.per_second,
        }
    }
}
