//! One module per destination. Each turns a [`Notification`] into the receiver's format and sends
//! it once; retries, rate limits and status belong to the delivery engine.

pub mod email;
pub mod pagerduty;
pub mod slack;
pub mod sms;
pub mod teams;
pub mod webhook;

use async_trait::async_trait;

use crate::config::ChannelKind;
use crate::digest::DigestMessage;
use crate::error::{ConfigError, SendError};
use crate::notification::Notification;

/// A destination for notifications. Implement it to add a channel (or a test double).
#[async_trait]
pub trait Channel: Send + Sync {
    /// One attempt to send; the error says whether another attempt may succeed.
    async fn send(&self, notification: &Notification) -> Result<(), SendError>;

    /// One attempt to send a digest. Channels that page (PagerDuty, SMS) keep this default: a
    /// digest is reading material, never a page.
    async fn send_digest(&self, _digest: &DigestMessage) -> Result<(), SendError> {
        Err(SendError::permanent("this channel does not take digests"))
    }

    /// Whether [`Channel::send_digest`] is implemented (routing skips the others).
    fn takes_digests(&self) -> bool {
        false
    }
}

/// Builds the channel a config entry describes. `name` is used in error fields only.
pub fn build(
    name: &str,
    kind: &ChannelKind,
    http: &reqwest::Client,
) -> Result<Box<dyn Channel>, ConfigError> {
    Ok(match kind {
        ChannelKind::Slack(c) => Box::new(slack::SlackChannel::new(http.clone(), c.clone())),
        ChannelKind::Teams(c) => Box::new(teams::TeamsChannel::new(http.clone(), c.clone())),
        ChannelKind::Pagerduty(c) => {
            Box::new(pagerduty::PagerDutyChannel::new(http.clone(), c.clone()))
        }
        ChannelKind::Webhook(c) => Box::new(webhook::WebhookChannel::new(http.clone(), c.clone())),
        ChannelKind::Sms(c) => Box::new(sms::SmsChannel::new(http.clone(), c.clone())),
        ChannelKind::Email(c) => Box::new(email::EmailChannel::new(name, c)?),
    })
}
