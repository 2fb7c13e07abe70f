//! The notifier: delivers alert notifications to Slack, Microsoft Teams, PagerDuty, signed
//! webhooks, SMS (Twilio-compatible) and email (SMTP), with per-channel rate limits, retries with
//! exponential backoff and jitter, dead letters, and delivery status per alert × channel.
//!
//! ```text
//! Notification ─► Notifier::deliver ─┬─► channel 1: token bucket → send → retry/backoff → status
//!                                    ├─► channel 2: …                                (DeliveryLog)
//!                                    └─► …          gives up → DeadLetter
//! ```
//!
//! Errors are classified once ([`SendError`]): 4xx other than 408/429 are permanent and
//! dead-lettered at once; 5xx, 408, 429, timeouts and connection failures are retried, waiting
//! for the receiver's `Retry-After` when it sends one.

pub mod alert_sink;
pub mod channels;
pub mod config;
mod delivery_view;
pub mod digest;
pub mod engine;
pub mod error;
mod http;
pub mod log;
pub mod notification;
pub mod rate_limit;
pub mod retry;
pub mod routing;
pub mod secret;
pub mod sqlite_log;

pub use alert_sink::{NotifierSink, notification_of};
pub use channels::Channel;
pub use channels::webhook::{SignatureError, verify_signature};
pub use config::NotifierConfig;
pub use digest::{DigestMessage, NotifierDigestSink};
pub use engine::{DeliveryOutcome, DeliveryReport, Notifier};
pub use error::{ConfigError, ConfigProblem, SendError};
pub use log::{
    DeadLetter, DeliveryLog, DeliveryState, DeliveryStatus, InMemoryDeliveryLog, LogError,
};
pub use notification::{AlertState, Field, Notification, Severity};
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use routing::RouteRule;
pub use secret::Secret;
pub use sqlite_log::SqliteDeliveryLog;
