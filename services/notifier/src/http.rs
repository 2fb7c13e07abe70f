//! Shared HTTP sending for the webhook-style channels: one place decides which responses are
//! retried, and keeps secrets (webhook URLs) out of error text.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode, header::RETRY_AFTER};

use crate::error::SendError;

/// Longest response-body excerpt kept in an error: enough for "invalid routing key", short
/// enough for a log line.
const BODY_EXCERPT_CHARS: usize = 200;

/// Sends the request and maps the outcome: 2xx is success; 408, 429 and 5xx are retried (with the
/// receiver's `Retry-After`); any other status is permanent; timeouts and connection failures are
/// retried.
pub(crate) async fn send(request: RequestBuilder) -> Result<(), SendError> {
    let response = request.send().await.map_err(transport_error)?;
    classify(response).await
}

async fn classify(response: Response) -> Result<(), SendError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, Utc::now()));
    let body = response.text().await.unwrap_or_default();
    let excerpt: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
    let reason = format!("receiver answered {status}: {}", excerpt.trim());
    if is_retryable_status(status) {
        Err(SendError::Retryable {
            reason,
            retry_after,
        })
    } else {
        Err(SendError::Permanent { reason })
    }
}

pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

fn transport_error(error: reqwest::Error) -> SendError {
    // `without_url`: the URL of a Slack/Teams webhook is the credential.
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_builder() {
        // A request that cannot even be built (bad URL) will not build next time either.
        return SendError::permanent(format!("invalid request: {}", error.without_url()));
    } else {
        "transport error"
    };
    SendError::retryable(format!("{kind}: {}", error.without_url()))
}

/// `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the past
/// means "now".
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let delay = at.with_timezone(&Utc) - now;
    Some(delay.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
            .single()
            .expect("valid date");
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sat, 28 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 28 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        for code in [408u16, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).expect("valid status");
            assert!(is_retryable_status(status), "{code} should be retried");
        }
        for code in [400u16, 401, 403, 404, 410, 413, 422] {
            let status = StatusCode::from_u16(code).expect("valid status");
            assert!(!is_retryable_status(status), "{code} should not be retried");
        }
    }
}
