//! Billing-API polls run by the collector on a schedule (`[[pollers]]` in `costwatch up`'s and the
//! distributed collector's config), instead of `costwatch poll` from cron.
//!
//! Each entry polls once at start and then every `every_secs`, into the collector's own ingest
//! path (the same validation and durable publish as `POST /v1/events`, without a network hop).
//! The job is prepared again before each poll, so "today" moves on (days close), a rotated token
//! file is read again, and a settings change takes effect without a restart. Checkpoints live in
//! `<data_dir>/poll-checkpoints.sqlite`; a failed poll leaves its checkpoint and is retried at the
//! next tick, which is safe because event ids derive from the charges.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use costwatch_collector::Ingestor;
use costwatch_domain::TenantId;
use costwatch_providers::{Sink, SinkError, SqliteCheckpoints};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{CHECKPOINTS, PollJob, Vendor, plan, prepare};

/// One scheduled poll, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledPoll {
    pub vendor: Vendor,
    pub tenant: String,
    /// TOML file with the vendor's section (as for `costwatch poll --config`).
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// File holding the bearer token when `COSTWATCH_<VENDOR>_TOKEN` is not set.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Seconds between polls (vendors refresh cost data a few times a day).
    #[serde(default = "default_every")]
    pub every_secs: u64,
    /// First day when there is no checkpoint.
    #[serde(default)]
    pub from: Option<NaiveDate>,
}

fn default_every() -> u64 {
    3600
}

impl ScheduledPoll {
    fn job(&self) -> Result<PollJob, String> {
        Ok(PollJob {
            vendor: self.vendor,
            tenant: TenantId::parse(&self.tenant).map_err(|r| format!("tenant: {r}"))?,
            config: self.config.clone(),
            from: self.from,
            batch_size: 1000,
            token_file: self.token_file.clone(),
        })
    }

    /// Everything wrong with the entry (its settings and credentials included), each problem
    /// naming `pollers[i]` and the setting.
    pub fn problems(&self, index: usize) -> Vec<String> {
        let at = format!("pollers[{index}]");
        let mut out = Vec::new();
        if self.every_secs == 0 {
            out.push(format!("{at}.every_secs: must be at least 1"));
        }
        match self.job().and_then(|job| plan(&job).map(|_| ())) {
            Ok(()) => {}
            Err(e) => out.push(format!("{at} ({}): {e}", self.vendor.name())),
        }
        out
    }
}

/// Delivers into the collector in-process, in batches of at most its limit.
pub struct IngestorSink(pub Arc<Ingestor>);

impl Sink for IngestorSink {
    async fn send(&self, events: Vec<Value>) -> Result<u64, SinkError> {
        let size = self.0.limits().max_batch_events.max(1);
        for chunk in events.chunks(size) {
            self.0
                .ingest(chunk, Utc::now())
                .await
                .map_err(|e| SinkError::Refused(e.to_string()))?;
        }
        Ok(events.len() as u64)
    }
}

/// Starts one task per entry; they end when `shutdown` turns true.
pub fn spawn_all(
    polls: &[ScheduledPoll],
    ingestor: &Arc<Ingestor>,
    data_dir: &Path,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) {
    for entry in polls {
        tasks.spawn(run(
            entry.clone(),
            ingestor.clone(),
            data_dir.join(CHECKPOINTS),
            shutdown.subscribe(),
        ));
    }
}

async fn run(
    entry: ScheduledPoll,
    ingestor: Arc<Ingestor>,
    checkpoints: PathBuf,
    mut stop: watch::Receiver<bool>,
) {
    let sink = IngestorSink(ingestor);
    let (vendor, tenant) = (entry.vendor.name(), entry.tenant.clone());
    loop {
        let prepared = match entry.job() {
            Ok(job) => prepare(&job).await,
            Err(e) => Err(e),
        };
        let outcome = match prepared {
            Err(e) => Err(e),
            Ok(prepared) => match SqliteCheckpoints::open(&checkpoints) {
                Err(e) => Err(format!("checkpoints: {e}")),
                Ok(store) => prepared
                    .run(&sink, &store)
                    .await
                    .map(|p| p.summary())
                    .map_err(|e| e.to_string()),
            },
        };
        match outcome {
            Ok(summary) => tracing::info!(vendor, %tenant, %summary, "scheduled poll done"),
            Err(error) => tracing::warn!(vendor, %tenant, %error,
                "scheduled poll failed; the checkpoint was not advanced, retrying at the next tick"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(entry.every_secs.max(1))) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
