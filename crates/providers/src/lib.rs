//! Pollers for cloud billing APIs: AWS Cost Explorer (`GetCostAndUsage`), Azure Cost Management
//! (Query API), DigitalOcean invoices and the Google Cloud billing export in BigQuery. Each turns the vendor's billed amounts into
//! Costwatch usage events (JSON values accepted by `POST /v1/events`) carrying a `cost`, so the
//! vendor's number is the number of record.
//!
//! Every vendor module is split in two: pure mapping functions (a vendor response → event
//! values), unit-testable without I/O, and a [`Source`] that does the HTTP. [`poll`] drives a
//! source incrementally: from the stored checkpoint (or a backfill date) up to the last closed
//! day, sends the events to a [`Sink`], and advances the checkpoint only after the sink accepted
//! them. See the crate README for the details of each vendor.

pub mod aws;
pub mod azure;
pub mod checkpoint;
pub mod digitalocean;
mod event;
pub mod gcp;
pub mod http;
pub mod oauth;
pub mod sink;

use std::future::Future;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use costwatch_domain::TenantId;
use serde_json::Value;

pub use checkpoint::{CheckpointError, CheckpointStore, MemoryCheckpoints, SqliteCheckpoints};
pub use sink::{HttpSink, Sink, SinkError};

/// Why a poll stopped. No variant ever carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The vendor answered with an error status (after retries, for 429/503).
    #[error("{provider}: {what} returned HTTP {status}: {message}")]
    Status {
        provider: &'static str,
        what: String,
        status: u16,
        message: String,
    },
    /// The vendor could not be reached (after retries).
    #[error("{provider}: {what} failed: {message}")]
    Transport {
        provider: &'static str,
        what: String,
        message: String,
    },
    /// The vendor's answer is not shaped as documented.
    #[error("{provider}: unexpected response from {what}: {message}")]
    Response {
        provider: &'static str,
        what: String,
        message: String,
    },
    /// A vendor row could not be turned into a valid event (nothing was sent).
    #[error("{provider}: cannot map a billing row: {message}")]
    Mapping {
        provider: &'static str,
        message: String,
    },
    #[error("{provider}: configuration: {message}")]
    Config {
        provider: &'static str,
        message: String,
    },
    #[error("sending the events failed (checkpoint not advanced): {0}")]
    Sink(#[from] SinkError),
    #[error("checkpoint store: {0}")]
    Checkpoint(#[from] CheckpointError),
}

impl PollError {
    /// The error for a vendor row that does not map (`map_err(PollError::mapping(PROVIDER))`),
    /// so each vendor's `fetch` wraps its pure mapper the same way.
    pub(crate) fn mapping(provider: &'static str) -> impl Fn(String) -> PollError {
        move |message| PollError::Mapping { provider, message }
    }
}

/// The days a poll covers: `from..=to`, every one of them closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Events fetched for a window. Each event comes with the day it belongs to (its last day for
/// monthly charges), so that nothing after the window's last closed day is ever sent.
#[derive(Debug, Default)]
pub struct Fetched {
    pub events: Vec<(NaiveDate, Value)>,
    /// The last day whose charges are complete in `events` (a window's `to` for daily sources;
    /// the end of the last invoiced month for DigitalOcean; the day before the first estimated
    /// day for AWS). `None`: nothing new is complete. Events after it are not sent (deferred).
    pub complete_through: Option<NaiveDate>,
}

/// One vendor account/scope being polled.
pub trait Source: Send + Sync {
    /// Provider name, as in the events (`aws`, `azure`, `digitalocean`, `gcp`).
    fn provider(&self) -> &'static str;
    /// The account or scope polled: the checkpoint key with the provider and tenant.
    fn scope(&self) -> String;
    /// Fetches every charge of the window (all pages) as events of `tenant`.
    fn fetch(
        &self,
        window: Window,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Fetched, PollError>> + Send;
}

#[derive(Debug, Clone)]
pub struct PollOptions {
    pub tenant: TenantId,
    /// First day to poll when there is no checkpoint (default: the first day of the previous
    /// month); when earlier than the checkpoint, the days
    /// from here on are polled again (safe: event ids are derived from the charges).
    pub backfill_from: Option<NaiveDate>,
    /// The current instant (injected so tests control "today"); days are UTC days.
    pub now: DateTime<Utc>,
    /// Extra days to wait after a day ends before it counts as closed (vendors' late data).
    pub settle_days: u32,
    /// Events per `Sink::send` call.
    pub batch_size: usize,
}

impl PollOptions {
    pub fn new(tenant: TenantId) -> PollOptions {
        PollOptions {
            tenant,
            backfill_from: None,
            now: Utc::now(),
            settle_days: 0,
            batch_size: 1000,
        }
    }

    /// The last closed day: yesterday, less `settle_days`.
    pub fn last_closed_day(&self) -> NaiveDate {
        self.now.date_naive() - Duration::days(1 + i64::from(self.settle_days))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollReport {
    /// The window polled; `None` when already up to date.
    pub window: Option<Window>,
    /// Events sent to the sink.
    pub sent: usize,
    /// Events fetched for days not closed (or not complete) yet: not sent, fetched again next
    /// time.
    pub deferred: usize,
    /// The checkpoint after the poll.
    pub checkpoint: Option<NaiveDate>,
}

/// One incremental poll: fetch the window after the checkpoint, send, then advance the checkpoint.
pub async fn poll<S, K, C>(
    source: &S,
    sink: &K,
    store: &C,
    opts: &PollOptions,
) -> Result<PollReport, PollError>
where
    S: Source,
    K: Sink,
    C: CheckpointStore,
{
    let provider = source.provider();
    let scope = source.scope();
    let tenant = opts.tenant.as_str();
    let last = store.get(provider, tenant, &scope)?;
    let closed = opts.last_closed_day();
    let today = opts.now.date_naive();
    // Without a checkpoint nor a backfill date: from the first day of the previous month, so
    // that last month's invoice (DigitalOcean) is included too.
    let default_from = (today.with_day(1).unwrap_or(today) - Duration::days(1))
        .with_day(1)
        .unwrap_or(today);
    let from = match (last, opts.backfill_from) {
        (Some(l), Some(b)) => b.min(l + Duration::days(1)),
        (Some(l), None) => l + Duration::days(1),
        (None, Some(b)) => b,
        (None, None) => default_from,
    };
    if from > closed {
        tracing::debug!(provider, scope, "up to date");
        return Ok(PollReport {
            window: None,
            sent: 0,
            deferred: 0,
            checkpoint: last,
        });
    }
    let window = Window { from, to: closed };
    let fetched = source.fetch(window, &opts.tenant, opts.now).await?;
    // Only days both closed and complete are sent: a partial (or, for AWS, estimated) amount
    // would stick, since an event id does not contain the amount.
    let done = fetched.complete_through.map(|d| d.min(closed));
    let (ready, later): (Vec<_>, Vec<_>) = fetched
        .events
        .into_iter()
        .partition(|(day, _)| done.is_some_and(|d| *day <= d));
    let events: Vec<Value> = ready.into_iter().map(|(_, e)| e).collect();
    let sent = events.len();
    for chunk in events.chunks(opts.batch_size.max(1)) {
        sink.send(chunk.to_vec()).await?;
    }
    // Only now, with every event accepted, does the checkpoint move; never backwards.
    let mut checkpoint = last;
    if let Some(done) = done
        && last.is_none_or(|l| done > l)
    {
        store.set(provider, tenant, &scope, done)?;
        checkpoint = Some(done);
    }
    tracing::info!(
        provider,
        scope,
        sent,
        deferred = later.len(),
        "poll finished"
    );
    Ok(PollReport {
        window: Some(window),
        sent,
        deferred: later.len(),
        checkpoint,
    })
}
