//! Generic webhook: the notification as JSON, signed with HMAC-SHA256 so receivers can check it
//! came from us and is fresh.
//!
//! Headers: `x-costwatch-timestamp: <unix seconds>` and
//! `x-costwatch-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. Signing the
//! timestamp with the body lets [`verify_signature`] reject replays of an old, validly signed
//! request.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::Channel;
use crate::config::WebhookConfig;
use crate::digest::DigestMessage;
use crate::error::SendError;
use crate::notification::Notification;

pub const TIMESTAMP_HEADER: &str = "x-costwatch-timestamp";
pub const SIGNATURE_HEADER: &str = "x-costwatch-signature";
const SIGNATURE_VERSION: &str = "v1=";
/// A sensible replay window for receivers: 5 minutes, as Stripe and Slack use.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

/// The JSON body: the notification with a type and version so receivers can evolve safely.
#[derive(Serialize)]
struct Envelope<'a> {
    r#type: &'static str,
    version: u32,
    #[serde(flatten)]
    notification: &'a Notification,
}

pub struct WebhookChannel {
    http: reqwest::Client,
    config: WebhookConfig,
}

impl WebhookChannel {
    pub fn new(http: reqwest::Client, config: WebhookConfig) -> Self {
        WebhookChannel { http, config }
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let body = body(notification)?;
        // Signed per attempt: a retry carries a fresh timestamp, so it is not taken for a replay.
        let timestamp = Utc::now().timestamp();
        let signature = sign(
            self.config.signing_secret.expose().as_bytes(),
            timestamp,
            &body,
        );
        let request = self
            .http
            .post(&self.config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body);
        crate::http::send(request).await
    }

    async fn send_digest(&self, digest: &DigestMessage) -> Result<(), SendError> {
        let body = digest_body(digest)?;
        let timestamp = Utc::now().timestamp();
        let signature = sign(
            self.config.signing_secret.expose().as_bytes(),
            timestamp,
            &body,
        );
        let request = self
            .http
            .post(&self.config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body);
        crate::http::send(request).await
    }

    fn takes_digests(&self) -> bool {
        true
    }
}

#[derive(Serialize)]
struct DigestEnvelope<'a> {
    r#type: &'static str,
    version: u32,
    #[serde(flatten)]
    digest: &'a DigestMessage,
}

/// The exact bytes of a digest (type `costwatch.digest`, signed like alerts).
pub fn digest_body(digest: &DigestMessage) -> Result<Vec<u8>, SendError> {
    serde_json::to_vec(&DigestEnvelope {
        r#type: "costwatch.digest",
        version: 1,
        digest,
    })
    .map_err(|e| SendError::permanent(format!("body: could not serialize the digest: {e}")))
}

/// The exact bytes sent (and signed).
pub fn body(notification: &Notification) -> Result<Vec<u8>, SendError> {
    serde_json::to_vec(&Envelope {
        r#type: "costwatch.alert",
        version: 1,
        notification,
    })
    .map_err(|e| SendError::permanent(format!("body: could not serialize the notification: {e}")))
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; fall back to an empty
    // key (which then never verifies) rather than panic.
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("{SIGNATURE_VERSION}{}", hex::encode(digest))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("{TIMESTAMP_HEADER}: must be unix seconds, got {0:?}")]
    MalformedTimestamp(String),
    #[error(
        "{TIMESTAMP_HEADER}: {age_seconds}s from now is outside the {tolerance_seconds}s replay window"
    )]
    OutsideReplayWindow {
        age_seconds: i64,
        tolerance_seconds: u64,
    },
    #[error("{SIGNATURE_HEADER}: must be \"v1=\" followed by 64 hex digits")]
    MalformedSignature,
    #[error("{SIGNATURE_HEADER}: does not match the body and timestamp")]
    Mismatch,
}

/// For receivers: accepts the request only if the signature matches `timestamp.body` under
/// `secret` (compared in constant time) and the timestamp is within `tolerance` of `now`, in
/// either direction (clock skew).
pub fn verify_signature(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp(timestamp_header.to_owned()))?;
    let age_seconds = now.timestamp().saturating_sub(timestamp);
    if age_seconds.unsigned_abs() > tolerance.as_secs() {
        return Err(SignatureError::OutsideReplayWindow {
            age_seconds,
            tolerance_seconds: tolerance.as_secs(),
        });
    }
    let expected = signature_header
        .trim()
        .strip_prefix(SIGNATURE_VERSION)
        .and_then(|digits| hex::decode(digits).ok())
        .filter(|bytes| bytes.len() == 32)
        .ok_or(SignatureError::MalformedSignature)?;
    mac(secret, &timestamp.to_string(), body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn a_fresh_signature_verifies_and_tampering_does_not() {
        let now = Utc::now();
        let ts = now.timestamp();
        let sig = sign(SECRET, ts, b"{\"a\":1}");
        let ts_text = ts.to_string();
        assert_eq!(
            verify_signature(SECRET, &ts_text, &sig, b"{\"a\":1}", now, DEFAULT_TOLERANCE),
            Ok(())
        );
        assert_eq!(
            verify_signature(SECRET, &ts_text, &sig, b"{\"a\":2}", now, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(
                b"other",
                &ts_text,
                &sig,
                b"{\"a\":1}",
                now,
                DEFAULT_TOLERANCE
            ),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed too: moving it forward to dodge the window breaks the MAC.
        let moved = (ts + 1).to_string();
        assert_eq!(
            verify_signature(SECRET, &moved, &sig, b"{\"a\":1}", now, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn old_and_future_timestamps_are_rejected_as_replays() {
        let now = Utc::now();
        for offset in [-301i64, 301] {
            let ts = now.timestamp() + offset;
            let sig = sign(SECRET, ts, b"x");
            let result =
                verify_signature(SECRET, &ts.to_string(), &sig, b"x", now, DEFAULT_TOLERANCE);
            assert!(
                matches!(result, Err(SignatureError::OutsideReplayWindow { .. })),
                "offset {offset}: {result:?}"
            );
        }
        let ts = now.timestamp() - 299;
        let sig = sign(SECRET, ts, b"x");
        assert_eq!(
            verify_signature(SECRET, &ts.to_string(), &sig, b"x", now, DEFAULT_TOLERANCE),
            Ok(())
        );
    }

    #[test]
    fn malformed_headers_name_the_header() {
        let now = Utc::now();
        let ts = now.timestamp().to_string();
        let err = verify_signature(SECRET, "yesterday", "v1=00", b"", now, DEFAULT_TOLERANCE)
            .expect_err("bad timestamp");
        assert!(err.to_string().starts_with(TIMESTAMP_HEADER), "{err}");
        let err = verify_signature(SECRET, &ts, "sha256=abcd", b"", now, DEFAULT_TOLERANCE)
            .expect_err("bad signature");
        assert_eq!(err, SignatureError::MalformedSignature);
    }
}
