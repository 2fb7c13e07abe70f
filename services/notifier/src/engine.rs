//! The delivery engine: fans one notification out to every channel, each with its own rate
//! limit, retries with backoff, status in the [`DeliveryLog`] and a dead letter when it gives up.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;

use crate::channels::{self, Channel};
use crate::config::NotifierConfig;
use crate::digest::DigestMessage;
use crate::error::{ConfigError, SendError};
use crate::log::{DeadLetter, DeliveryLog, DeliveryState, DeliveryStatus, LogError};
use crate::notification::Notification;
use crate::rate_limit::{RateLimit, TokenBucket};
use crate::retry::RetryPolicy;
use crate::routing::RouteRule;

/// How delivery over one channel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        attempts: u32,
    },
    /// The log already records this alert state as delivered over this channel (the alerts
    /// stream is at-least-once; a replay must not page twice).
    AlreadyDelivered,
    DeadLettered {
        attempts: u32,
        last_error: SendError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub channel: String,
    pub outcome: DeliveryOutcome,
}

struct Route {
    name: String,
    channel: Box<dyn Channel>,
    limiter: Option<TokenBucket>,
    filter: RouteRule,
    /// Opted in to digests (`digests = true`) and able to render them.
    digests: bool,
}

pub struct Notifier {
    routes: Vec<Route>,
    retry: RetryPolicy,
    log: Arc<dyn DeliveryLog>,
}

impl Notifier {
    /// A notifier with no channels yet; add them with [`Notifier::with_channel`].
    pub fn new(retry: RetryPolicy, log: Arc<dyn DeliveryLog>) -> Self {
        Notifier {
            routes: Vec::new(),
            retry,
            log,
        }
    }

    /// Builds every configured channel (one shared HTTP client: connection reuse per host).
    pub fn from_config(
        config: &NotifierConfig,
        log: Arc<dyn DeliveryLog>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.http_timeout_ms))
            .user_agent(concat!("costwatch-notifier/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::single("http_timeout_ms", format!("http client: {e}")))?;
        let mut notifier = Notifier::new(config.retry.policy(), log);
        for (name, channel) in &config.channels {
            let built = channels::build(name, &channel.kind, &http)?;
            let rate_limit = channel.rate_limit.as_ref().map(|r| r.limit());
            notifier = if channel.digests {
                notifier.with_digest_channel(name.clone(), built, rate_limit, channel.route())
            } else {
                notifier.with_routed_channel(name.clone(), built, rate_limit, channel.route())
            };
        }
        Ok(notifier)
    }

    /// Adds a channel that takes every notification.
    pub fn with_channel(
        self,
        name: impl Into<String>,
        channel: Box<dyn Channel>,
        rate_limit: Option<RateLimit>,
    ) -> Self {
        self.with_routed_channel(name, channel, rate_limit, RouteRule::default())
    }

    /// Adds a channel that takes only the notifications `filter` matches.
    pub fn with_routed_channel(
        mut self,
        name: impl Into<String>,
        channel: Box<dyn Channel>,
        rate_limit: Option<RateLimit>,
        filter: RouteRule,
    ) -> Self {
        self.routes.push(Route {
            name: name.into(),
            channel,
            limiter: rate_limit.map(TokenBucket::new),
            filter,
            digests: false,
        });
        self
    }

    /// Adds a channel that takes the digests of the tenants `filter` lists (its severity is
    /// ignored: digests have none) as well as the alerts it matches. A channel that cannot render
    /// digests (PagerDuty, SMS) is added for alerts only.
    pub fn with_digest_channel(
        self,
        name: impl Into<String>,
        channel: Box<dyn Channel>,
        rate_limit: Option<RateLimit>,
        filter: RouteRule,
    ) -> Self {
        let takes = channel.takes_digests();
        let mut this = self.with_routed_channel(name, channel, rate_limit, filter);
        if let Some(route) = this.routes.last_mut() {
            route.digests = takes;
        }
        this
    }

    /// The latest delivery status of `alert_id` on each channel that has one.
    pub fn delivery_status(&self, alert_id: &str) -> Result<Vec<DeliveryStatus>, LogError> {
        let mut out = Vec::new();
        for route in &self.routes {
            if let Some(s) = self.log.status(alert_id, &route.name)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Every dead letter kept by the delivery log, oldest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, LogError> {
        self.log.dead_letters()
    }

    pub fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.name.as_str())
    }

    /// Delivers to every channel whose filter matches, concurrently, and returns when each has
    /// delivered or given up: one report per matching channel (filtered-out channels get none).
    pub async fn deliver(&self, notification: &Notification) -> Vec<DeliveryReport> {
        let routed = self.routes.iter().filter(|route| {
            let matches = route.filter.matches(notification);
            if !matches {
                tracing::debug!(channel = %route.name, alert_id = %notification.alert_id,
                    "notification filtered out by the channel's route");
            }
            matches
        });
        join_all(routed.map(|route| async move {
            DeliveryReport {
                channel: route.name.clone(),
                outcome: self.deliver_over(route, notification).await,
            }
        }))
        .await
    }

    /// Like [`Notifier::deliver`], but first checks that the delivery log takes writes
    /// ([`DeliveryLog::check_writable`]); if it does not, nothing is sent and the error is
    /// returned, so a caller with its own retry (the alert outbox) can try again later without
    /// sending anything twice. A log that fails later, mid-delivery, does not stop the send.
    pub async fn deliver_checked(
        &self,
        notification: &Notification,
    ) -> Result<Vec<DeliveryReport>, LogError> {
        self.log.check_writable()?;
        Ok(self.deliver(notification).await)
    }

    /// Delivers a digest to every channel that opted in and serves its tenant, like
    /// [`Notifier::deliver_checked`]: nothing is sent when the delivery log does not take writes.
    pub async fn deliver_digest_checked(
        &self,
        digest: &DigestMessage,
    ) -> Result<Vec<DeliveryReport>, LogError> {
        self.log.check_writable()?;
        let key = digest.log_key();
        let routed = self.routes.iter().filter(|route| {
            route.digests
                && (route.filter.tenants.is_empty() || route.filter.tenants.contains(&key.tenant))
        });
        Ok(join_all(routed.map(|route| {
            let key = &key;
            async move {
                DeliveryReport {
                    channel: route.name.clone(),
                    outcome: self.deliver_digest_over(route, digest, key).await,
                }
            }
        }))
        .await)
    }

    /// The alert loop of [`Notifier::deliver_over`] with `send_digest` in place of `send`; kept
    /// separate so the alert path (which pages) stays untouched by digest changes.
    async fn deliver_digest_over(
        &self,
        route: &Route,
        digest: &DigestMessage,
        key: &Notification,
    ) -> DeliveryOutcome {
        if self.already_delivered(route, key) {
            return DeliveryOutcome::AlreadyDelivered;
        }
        self.record(route, key, DeliveryState::Pending, 0, None);
        let mut attempts = 0;
        loop {
            attempts += 1;
            if let Some(limiter) = &route.limiter {
                limiter.acquire().await;
            }
            let error = match route.channel.send_digest(digest).await {
                Ok(()) => {
                    self.record(route, key, DeliveryState::Delivered, attempts, None);
                    tracing::info!(channel = %route.name, digest = %digest.digest_id, attempts, "digest delivered");
                    return DeliveryOutcome::Delivered { attempts };
                }
                Err(error) => error,
            };
            let retry_after = match &error {
                SendError::Retryable { retry_after, .. } if attempts < self.retry.max_attempts => {
                    *retry_after
                }
                _ => return self.dead_letter(route, key, attempts, error),
            };
            let delay = self.retry.delay(attempts, retry_after);
            tracing::warn!(channel = %route.name, digest = %digest.digest_id, attempts, %error, "digest send failed, retrying");
            self.record(
                route,
                key,
                DeliveryState::Retrying,
                attempts,
                Some(error.to_string()),
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn deliver_over(&self, route: &Route, notification: &Notification) -> DeliveryOutcome {
        if self.already_delivered(route, notification) {
            return DeliveryOutcome::AlreadyDelivered;
        }
        self.record(route, notification, DeliveryState::Pending, 0, None);
        let mut attempts = 0;
        loop {
            attempts += 1;
            if let Some(limiter) = &route.limiter {
                limiter.acquire().await;
            }
            let error = match route.channel.send(notification).await {
                Ok(()) => {
                    self.record(
                        route,
                        notification,
                        DeliveryState::Delivered,
                        attempts,
                        None,
                    );
                    tracing::info!(channel = %route.name, alert_id = %notification.alert_id, attempts, "notification delivered");
                    return DeliveryOutcome::Delivered { attempts };
                }
                Err(error) => error,
            };
            let retry_after = match &error {
                SendError::Retryable { retry_after, .. } if attempts < self.retry.max_attempts => {
                    *retry_after
                }
                _ => return self.dead_letter(route, notification, attempts, error),
            };
            let delay = self.retry.delay(attempts, retry_after);
            tracing::warn!(channel = %route.name, alert_id = %notification.alert_id, attempts,
                delay_ms = delay.as_millis() as u64, %error, "notification send failed, retrying");
            self.record(
                route,
                notification,
                DeliveryState::Retrying,
                attempts,
                Some(error.to_string()),
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn already_delivered(&self, route: &Route, notification: &Notification) -> bool {
        match self.log.status(&notification.alert_id, &route.name) {
            Ok(Some(status)) => {
                status.state == DeliveryState::Delivered && status.alert_state == notification.state
            }
            Ok(None) => false,
            Err(error) => {
                // Without the log we cannot tell; sending twice beats not paging at all.
                tracing::warn!(channel = %route.name, %error, "delivery log unreadable, sending anyway");
                false
            }
        }
    }

    fn dead_letter(
        &self,
        route: &Route,
        notification: &Notification,
        attempts: u32,
        error: SendError,
    ) -> DeliveryOutcome {
        tracing::error!(channel = %route.name, alert_id = %notification.alert_id, attempts, %error, "notification dead-lettered");
        let letter = DeadLetter {
            notification: notification.clone(),
            channel: route.name.clone(),
            attempts,
            last_error: error.to_string(),
            dead_lettered_at: Utc::now(),
        };
        if let Err(log_error) = self.log.record_dead_letter(&letter) {
            tracing::error!(channel = %route.name, error = %log_error, "dead letter could not be stored");
        }
        self.record(
            route,
            notification,
            DeliveryState::DeadLettered,
            attempts,
            Some(error.to_string()),
        );
        DeliveryOutcome::DeadLettered {
            attempts,
            last_error: error,
        }
    }

    fn record(
        &self,
        route: &Route,
        notification: &Notification,
        state: DeliveryState,
        attempts: u32,
        last_error: Option<String>,
    ) {
        let status = DeliveryStatus {
            alert_id: notification.alert_id.clone(),
            channel: route.name.clone(),
            alert_state: notification.state,
            state,
            attempts,
            last_error,
            updated_at: Utc::now(),
        };
        // Status is bookkeeping; a failing log must not stop a page from going out.
        if let Err(error) = self.log.record_status(&status) {
            tracing::warn!(channel = %route.name, %error, "delivery status not recorded");
        }
    }
}
