//! The HTTP client every poller shares: a configurable base URL, a bearer token that is never
//! logged nor put in an error, timeouts, and bounded retries on 429/503 that honour `Retry-After`
//! and the vendor's own throttling headers.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::PollError;

/// A credential (bearer token, client secret) that never prints: `Debug` shows `[redacted]`.
/// The one wrapper for every secret the pollers hold.
#[derive(Clone)]
pub struct Secret(String);

/// A bearer token.
pub type Token = Secret;

impl Secret {
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The value, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How a vendor throttles.
#[derive(Debug, Clone, Copy)]
pub enum Throttle {
    /// Seconds to wait, in each of these headers (the largest wins) besides `Retry-After`.
    SecondsHeaders(&'static [&'static str]),
    /// A Unix time (seconds) at which the limit resets, in this header, besides `Retry-After`.
    ResetAtHeader(&'static str),
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Requests per call, the first included (429/503 and transport errors are retried).
    pub max_attempts: u32,
    /// Longest single wait, whatever a header asks for.
    pub max_wait: Duration,
    /// First back-off when the vendor gives no wait; doubled on each retry.
    pub backoff: Duration,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_attempts: 5,
            max_wait: Duration::from_secs(120),
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A vendor API client.
#[derive(Debug, Clone)]
pub struct ApiClient {
    provider: &'static str,
    base: Url,
    token: Token,
    throttle: Throttle,
    config: ClientConfig,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(
        provider: &'static str,
        base: &str,
        token: Token,
        throttle: Throttle,
        config: ClientConfig,
    ) -> Result<ApiClient, PollError> {
        let base = Url::parse(base).map_err(|e| PollError::Config {
            provider,
            message: format!("base URL {base:?}: {e}"),
        })?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| PollError::Config {
                provider,
                message: format!("HTTP client: {e}"),
            })?;
        Ok(ApiClient {
            provider,
            base,
            token,
            throttle,
            config,
            http,
        })
    }

    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// `path` (with its query) on the configured base URL.
    pub fn url(&self, path_and_query: &str) -> Result<Url, PollError> {
        let base = self.base.as_str().trim_end_matches('/');
        let path = path_and_query.trim_start_matches('/');
        Url::parse(&format!("{base}/{path}")).map_err(|e| PollError::Config {
            provider: self.provider,
            message: format!("URL for {path:?}: {e}"),
        })
    }

    /// A vendor's next-page link, re-based on the configured base URL: only its path and query
    /// are kept, so the token is only ever sent to the configured host.
    pub fn follow(&self, link: &str) -> Result<Url, PollError> {
        match Url::parse(link) {
            Ok(u) => {
                let mut out = self.url(u.path())?;
                out.set_query(u.query());
                Ok(out)
            }
            Err(_) => self.url(link),
        }
    }

    /// A next-page link from a vendor answer, re-based like [`ApiClient::follow`]; `None` (the
    /// last page) when the vendor sent no link or an empty one. Every paging loop ends this way.
    pub fn next_page(&self, link: Option<&str>) -> Result<Option<Url>, PollError> {
        link.filter(|l| !l.is_empty())
            .map(|l| self.follow(l))
            .transpose()
    }

    /// [`ApiClient::send`], then the 2xx body decoded as `T`; a body not shaped as `T` is a
    /// [`PollError::Response`] naming the call, the same for every vendor.
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, PollError> {
        let bytes = self.send(method, url, body, what).await?;
        serde_json::from_slice(&bytes).map_err(|e| PollError::Response {
            provider: self.provider,
            what: what.to_string(),
            message: e.to_string(),
        })
    }

    /// Sends a request (JSON body if any) and returns the parsed-later body bytes of a 2xx.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Vec<u8>, PollError> {
        let mut backoff = self.config.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&self.token.0);
            if let Some(b) = body {
                req = req.json(b);
            }
            let last = attempt >= self.config.max_attempts;
            let wait = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        return resp.bytes().await.map(|b| b.to_vec()).map_err(|e| {
                            PollError::Transport {
                                provider: self.provider,
                                what: what.to_string(),
                                message: format!("reading the body: {e}"),
                            }
                        });
                    }
                    let retryable = matches!(
                        status,
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                    );
                    let wait = self.requested_wait(resp.headers());
                    if !retryable || last {
                        let text = resp.text().await.unwrap_or_default();
                        return Err(PollError::Status {
                            provider: self.provider,
                            what: what.to_string(),
                            status: status.as_u16(),
                            message: self.redact(&error_message(&text)),
                        });
                    }
                    tracing::warn!(
                        provider = self.provider,
                        what,
                        status = status.as_u16(),
                        attempt,
                        "throttled or unavailable; retrying"
                    );
                    wait
                }
                Err(e) => {
                    if last {
                        return Err(PollError::Transport {
                            provider: self.provider,
                            what: what.to_string(),
                            message: self.redact(&e.to_string()),
                        });
                    }
                    tracing::warn!(
                        provider = self.provider,
                        what,
                        attempt,
                        "transport error; retrying"
                    );
                    None
                }
            };
            let delay = wait.unwrap_or(backoff).min(self.config.max_wait);
            tokio::time::sleep(delay).await;
            backoff = (backoff * 2).min(self.config.max_wait);
        }
    }

    /// The longest wait any throttling header asks for.
    fn requested_wait(&self, headers: &HeaderMap) -> Option<Duration> {
        let seconds = |name: &str| -> Option<f64> {
            headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()
        };
        let mut waits: Vec<f64> = seconds(RETRY_AFTER.as_str()).into_iter().collect();
        match self.throttle {
            Throttle::SecondsHeaders(names) => {
                waits.extend(names.iter().filter_map(|n| seconds(n)))
            }
            Throttle::ResetAtHeader(name) => {
                if let Some(reset) = seconds(name) {
                    let now = chrono::Utc::now().timestamp() as f64;
                    waits.push(reset - now);
                }
            }
        }
        waits
            .into_iter()
            .filter(|w| w.is_finite())
            .map(|w| w.max(0.0))
            .reduce(f64::max)
            .map(Duration::from_secs_f64)
    }

    /// Removes the token from text that might echo a request (defence in depth).
    fn redact(&self, text: &str) -> String {
        if self.token.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token.0, "[redacted]")
        }
    }
}

/// The vendor's error message: Azure and Google `{"error":{"message"}}`, DigitalOcean
/// `{"id","message"}`; otherwise the start of the body.
fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v["error"]["message"]
            .as_str()
            .or_else(|| v["message"].as_str())
            .or_else(|| v["error"].as_str())
            .map(str::to_string)
    });
    match message {
        Some(m) => m,
        None if body.trim().is_empty() => "no error message".into(),
        None => body.chars().take(300).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn client(throttle: Throttle) -> Result<ApiClient, PollError> {
        ApiClient::new(
            "test",
            "http://127.0.0.1:9/prefix",
            Token::new("tok"),
            throttle,
            ClientConfig::default(),
        )
    }

    #[test]
    fn next_links_are_rebased_on_the_configured_host() -> Result<(), PollError> {
        let c = client(Throttle::SecondsHeaders(&[]))?;
        let u = c.follow(
            "https://management.azure.com/subscriptions/s/q?api-version=1&$skiptoken=a%3D",
        )?;
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/prefix/subscriptions/s/q?api-version=1&$skiptoken=a%3D"
        );
        // No link, or an empty one, is the last page; a link is re-based like `follow`.
        assert_eq!(c.next_page(None)?, None);
        assert_eq!(c.next_page(Some(""))?, None);
        assert_eq!(
            c.next_page(Some("https://api.example.com/v2/x?page=2"))?
                .map(String::from),
            Some("http://127.0.0.1:9/prefix/v2/x?page=2".to_string())
        );
        assert_eq!(format!("{:?}", Token::new("tok")), "[redacted]");
        assert!(!format!("{c:?}").contains("\"tok\""));
        Ok(())
    }

    #[test]
    fn the_longest_requested_wait_wins() -> Result<(), PollError> {
        let c = client(Throttle::SecondsHeaders(&["x-a", "x-b"]))?;
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("1"));
        h.insert("x-b", HeaderValue::from_static("3"));
        assert_eq!(c.requested_wait(&h), Some(Duration::from_secs(3)));
        assert_eq!(c.requested_wait(&HeaderMap::new()), None);
        let c = client(Throttle::ResetAtHeader("ratelimit-reset"))?;
        let mut h = HeaderMap::new();
        let past = (chrono::Utc::now().timestamp() - 5).to_string();
        h.insert(
            "ratelimit-reset",
            HeaderValue::from_str(&past).map_err(|e| PollError::Config {
                provider: "test",
                message: e.to_string(),
            })?,
        );
        assert_eq!(c.requested_wait(&h), Some(Duration::ZERO));
        Ok(())
    }
}
