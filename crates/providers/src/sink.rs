//! Where polled events go: a [`Sink`]. [`HttpSink`] posts them to a Costwatch collector's
//! `POST /v1/events` (a JSON array of events) in batches, with retries; [`send_batch`] is the
//! batch sender `costwatch import` uses too.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

const SEND_ATTEMPTS: u32 = 5;
/// Rate-limit waits per batch before a 429 is reported like any other refusal.
const MAX_THROTTLED_WAITS: u32 = 120;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{0}")]
    Refused(String),
}

pub trait Sink: Send + Sync {
    /// Delivers the events durably, or fails (then nothing may be assumed delivered; the caller
    /// sends them again later, which is safe: ids make a re-sent event count once).
    fn send(&self, events: Vec<Value>) -> impl Future<Output = Result<u64, SinkError>> + Send;
}

/// Posts to `{server}/v1/events`.
#[derive(Debug, Clone)]
pub struct HttpSink {
    client: reqwest::Client,
    url: String,
}

impl HttpSink {
    pub fn new(server: &str) -> HttpSink {
        HttpSink::with_token(server, None)
    }

    /// Sends as the bearer of `token` (an ingest token or API key) when given.
    pub fn with_token(server: &str, token: Option<&str>) -> HttpSink {
        HttpSink {
            client: client_with_token(token),
            url: format!("{}/v1/events", server.trim_end_matches('/')),
        }
    }
}

/// A client that sends `Authorization: Bearer <token>` with every request when `token` is
/// given. The header is marked sensitive so it is never logged.
pub fn client_with_token(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token
        && let Ok(mut value) =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.trim()))
    {
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap_or_default()
}

impl Sink for HttpSink {
    async fn send(&self, events: Vec<Value>) -> Result<u64, SinkError> {
        send_batch(&self.client, &self.url, events, 1)
            .await
            .map_err(SinkError::Refused)
    }
}

/// Sends one batch; a batch over the server's size limit is split in halves and sent again.
/// Returns the number of events the server acknowledged. `first_row` numbers the batch's first
/// event in error messages.
pub async fn send_batch(
    client: &reqwest::Client,
    url: &str,
    batch: Vec<Value>,
    first_row: u64,
) -> Result<u64, String> {
    let mut pending = vec![(batch, first_row)];
    let mut accepted = 0u64;
    while let Some((events, first)) = pending.pop() {
        match post(client, url, &events).await? {
            Posted::Accepted(n) => accepted += n,
            Posted::TooLarge if events.len() > 1 => {
                let mut head = events;
                let tail = head.split_off(head.len() / 2);
                let tail_first = first + head.len() as u64;
                pending.push((tail, tail_first));
                pending.push((head, first));
            }
            Posted::TooLarge => {
                return Err(format!(
                    "row {first}: one event is larger than the server accepts"
                ));
            }
            Posted::Refused(body) => {
                return Err(refusal(&body, first));
            }
        }
    }
    Ok(accepted)
}

enum Posted {
    Accepted(u64),
    TooLarge,
    Refused(Value),
}

/// Posts with retries on transport errors and 503 (ids make a retried batch count once). A 429
/// (the server's per-caller rate limit) waits its `Retry-After` and does not use up an attempt:
/// a large import is paced by the server rather than failed by it.
async fn post(client: &reqwest::Client, url: &str, events: &[Value]) -> Result<Posted, String> {
    let mut delay = Duration::from_millis(250);
    let mut last = String::new();
    let mut attempts = 0;
    let mut throttled = 0;
    while attempts < SEND_ATTEMPTS {
        match client.post(url).json(events).send().await {
            Ok(resp) if resp.status().as_u16() == 429 && throttled < MAX_THROTTLED_WAITS => {
                throttled += 1;
                let secs = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(secs.clamp(1, 60))).await;
                continue;
            }
            Ok(resp) => {
                let status = resp.status();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                match status.as_u16() {
                    202 => {
                        let n = body["accepted"].as_u64().unwrap_or(events.len() as u64);
                        return Ok(Posted::Accepted(n));
                    }
                    413 => return Ok(Posted::TooLarge),
                    503 => last = format!("server unavailable: {body}"),
                    _ => {
                        let mut body = body;
                        if let Some(obj) = body.as_object_mut() {
                            obj.insert("status".into(), status.as_u16().into());
                        }
                        return Ok(Posted::Refused(body));
                    }
                }
            }
            Err(e) => last = format!("cannot reach {url}: {e}"),
        }
        attempts += 1;
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    Err(format!("{last} (after {SEND_ATTEMPTS} attempts)"))
}

/// The server's refusal, with each event error mapped back to its row.
fn refusal(body: &Value, first_row: u64) -> String {
    let mut lines = vec![format!(
        "the server refused a batch ({}): {}",
        body["status"],
        body["error"].as_str().unwrap_or("no reason given")
    )];
    for e in body["errors"].as_array().into_iter().flatten() {
        let row = first_row + e["index"].as_u64().unwrap_or(0);
        lines.push(format!(
            "  row {row}: {} {}",
            e["field"].as_str().unwrap_or(""),
            e["reason"].as_str().unwrap_or("")
        ));
    }
    lines.join("\n")
}
