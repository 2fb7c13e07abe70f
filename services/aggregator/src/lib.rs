//! The cost aggregator: reads the usage log, prices events with the rate card, and commits rollup
//! deltas, meter readings, counted ids and its read positions in one atomic store commit.
//!
//! Effectively-once: the positions live in the store with the state they produced. After a crash
//! the aggregator resumes from the last committed positions, so a batch is either wholly applied
//! (and never re-read) or not at all (and read again). Events delivered twice at different offsets
//! are skipped by the counted-id check. A second instance writing the same positions is fenced.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_domain::RateCard;
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::rollup::plan_batch;
use costwatch_ports::{
    BusError, Commit, CostStore, CostUpdate, CostUpdates, DeadLetter, DeadLetterLog, StoreError,
    UsageLog,
};
use tokio::sync::watch;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Consumer name; positions are stored under it.
    pub consumer: String,
    /// Most records read and committed at once.
    pub batch_size: usize,
    /// How long a read waits for new records.
    pub poll_wait: Duration,
    /// Most event ids carried in one cost update.
    pub max_update_ids: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            consumer: "cost-aggregator".into(),
            batch_size: 2_000,
            poll_wait: Duration::from_millis(500),
            max_update_ids: 256,
        }
    }
}

pub struct Aggregator {
    log: Arc<dyn UsageLog>,
    store: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    card: Arc<RateCard>,
    options: Options,
    dead_letter_log: Option<Arc<dyn DeadLetterLog>>,
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepOutcome {
    pub records: usize,
    pub counted: usize,
    pub duplicates: usize,
    pub dead_lettered: usize,
}

/// Most producer traces one batch span links to (a batch of one tenant's bulk import is usually
/// one trace; thousands of links would only bloat the span).
const MAX_TRACE_LINKS: usize = 32;

/// The span of one committed batch, linked to the traces of the requests that published it.
fn batch_span(partition: u32, records: &[costwatch_ports::LogRecord]) -> tracing::Span {
    let span = tracing::info_span!("aggregate_batch", partition, records = records.len());
    let parents: std::collections::BTreeSet<&str> = records
        .iter()
        .filter_map(|r| r.trace_parent.as_deref())
        .collect();
    for parent in parents.into_iter().take(MAX_TRACE_LINKS) {
        costwatch_telemetry::link_from_fields(&span, [(costwatch_telemetry::TRACEPARENT, parent)]);
    }
    span
}

impl Aggregator {
    pub fn new(
        log: Arc<dyn UsageLog>,
        store: Arc<dyn CostStore>,
        updates: Arc<dyn CostUpdates>,
        card: Arc<RateCard>,
        options: Options,
    ) -> Self {
        Aggregator {
            log,
            store,
            updates,
            card,
            options,
            dead_letter_log: None,
        }
    }

    /// Also announces dead letters on `log` (the dead-letter topic in distributed mode).
    pub fn with_dead_letter_log(mut self, log: Arc<dyn DeadLetterLog>) -> Self {
        self.dead_letter_log = Some(log);
        self
    }

    /// Reads one batch from each partition and commits it. Returns what it did.
    pub async fn step(&self) -> Result<StepOutcome, Error> {
        let mut total = StepOutcome::default();
        for partition in 0..self.log.partitions() {
            let positions = self.store.positions(&self.options.consumer).await?;
            let from = positions.get(&partition).copied().unwrap_or(0);
            let records = self
                .log
                .read(
                    partition,
                    from,
                    self.options.batch_size,
                    self.options.poll_wait,
                )
                .await?;
            let Some(last) = records.last() else { continue };
            let next = last.offset + 1;
            let span = batch_span(partition, &records);
            let events: Vec<_> = records.into_iter().map(|r| r.event).collect();
            let outcome = self
                .apply(positions, partition, next, &events)
                .instrument(span)
                .await?;
            total.records += events.len();
            total.counted += outcome.counted;
            total.duplicates += outcome.duplicates;
            total.dead_lettered += outcome.dead_lettered;
        }
        Ok(total)
    }

    async fn apply(
        &self,
        positions: BTreeMap<u32, u64>,
        partition: u32,
        next: u64,
        events: &[costwatch_domain::UsageEvent],
    ) -> Result<StepOutcome, Error> {
        let ids: Vec<(String, String)> = events
            .iter()
            .map(|e| (e.tenant.to_string(), e.id.clone()))
            .collect();
        let seen = self.store.seen(&ids).await?;
        let meter_keys: Vec<MeterKey> = events
            .iter()
            .filter(|e| e.cost.is_none())
            .map(MeterKey::for_event)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let meters = self.store.meters(&meter_keys).await?;
        let plan = plan_batch(&self.card, events, &seen, &meters);
        let now = Utc::now();
        let dead_letters: Vec<DeadLetter> = plan
            .rejected
            .iter()
            .map(|r| DeadLetter {
                tenant: r.event.tenant.to_string(),
                event_id: r.event.id.clone(),
                event_json: serde_json::to_string(&r.event).unwrap_or_default(),
                reason: r.reason.to_string(),
                at: now,
            })
            .collect();
        let mut new_positions = positions.clone();
        new_positions.insert(partition, next);
        let outcome = StepOutcome {
            records: events.len(),
            counted: plan.counted.len(),
            duplicates: plan.duplicates,
            dead_lettered: dead_letters.len(),
        };
        let mut ids_by_tenant: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (tenant, id) in &plan.counted {
            let ids = ids_by_tenant.entry(tenant.clone()).or_default();
            if ids.len() < self.options.max_update_ids {
                ids.push(id.clone());
            }
        }
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for (tenant, _) in &plan.counted {
            *counts.entry(tenant.as_str()).or_default() += 1;
        }
        let updates: Vec<CostUpdate> = plan
            .touched
            .iter()
            .map(|(tenant, added)| CostUpdate {
                tenant: tenant.clone(),
                committed_at: now,
                events: counts.get(tenant.as_str()).copied().unwrap_or(0),
                added: added.clone(),
                event_ids: ids_by_tenant.remove(tenant).unwrap_or_default(),
            })
            .collect();
        // Announced before the commit, so a crash in between re-reads the batch and announces
        // them again (at-least-once) rather than never; the store keeps them either way.
        if let Some(log) = &self.dead_letter_log
            && !dead_letters.is_empty()
        {
            log.publish(&dead_letters).await?;
        }
        self.store
            .commit(Commit {
                consumer: self.options.consumer.clone(),
                expected_positions: positions,
                positions: new_positions,
                counted: plan.counted,
                meters: plan.meters,
                deltas: plan.deltas,
                dead_letters,
            })
            .await?;
        if outcome.dead_lettered > 0 {
            tracing::warn!(
                count = outcome.dead_lettered,
                "events dead-lettered: they could not be priced"
            );
        }
        for u in updates {
            self.updates.publish(u).await?;
        }
        Ok(outcome)
    }

    /// Runs until `shutdown` turns true. Transient errors are logged and retried with backoff;
    /// a fenced commit means another instance owns the positions, so it re-reads them.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let step = tokio::select! {
                r = self.step() => r,
                _ = shutdown.changed() => return,
            };
            match step {
                Ok(o) => {
                    backoff = Duration::from_millis(100);
                    if o.records > 0 {
                        tracing::debug!(
                            records = o.records,
                            counted = o.counted,
                            duplicates = o.duplicates,
                            "batch committed"
                        );
                    }
                }
                Err(Error::Store(StoreError::Fenced { consumer })) => {
                    tracing::warn!(%consumer, "commit fenced: positions moved under us; re-reading");
                }
                Err(e) => {
                    tracing::error!(error = %e, retry_in_ms = backoff.as_millis() as u64, "aggregation step failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
