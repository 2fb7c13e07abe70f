//! One pass over one tenant: load the series' detectors, push every closed hour since each was
//! last processed, explain and report what is anomalous, persist the detectors.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_analytics::detect::{Anomaly, DetectorConfig, SeriesDetector};
use costwatch_domain::Granularity;
use costwatch_ports::{
    AlertStore, AnomalyRecord, AnomalyStore, CostStore, SeriesState, anomaly_id,
};
use rust_decimal::Decimal;
use tokio::sync::{Mutex, Notify};

use crate::Error;
use crate::series::{currency_of, hourly_totals, root_cause};

/// Where "now" comes from (a fixed or stepped clock in tests).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The detector settings the service uses: hourly with a daily cycle, and a residual window of
/// 64 hours so a new series is scored after 2 days + 16 hours (the library default of 256
/// would keep a new tenant silent for almost 5 days).
pub fn service_config() -> DetectorConfig {
    DetectorConfig {
        residual_window: 64,
        ..DetectorConfig::hourly()
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub config: DetectorConfig,
    /// Most series detectors kept in memory; beyond it the least recently used tenants are
    /// dropped (their state is in the store and is reloaded when needed).
    pub max_live_series: usize,
    /// Anomalies found while catching up on windows older than this are learned from but not
    /// reported (a first backfill must not page about last week).
    pub report_within: Duration,
    /// After an anomaly is marked expected, the same kind on the same series is not reported
    /// again for this long.
    pub accept_for: Duration,
    /// Hours before the anomalous window that root causes compare against.
    pub baseline_hours: i64,
    /// Resources (and labels) kept per root cause.
    pub top_contributors: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: service_config(),
            max_live_series: 50_000,
            report_within: Duration::hours(24),
            accept_for: Duration::hours(24),
            baseline_hours: 7 * 24,
            top_contributors: 5,
        }
    }
}

struct Live {
    detector: SeriesDetector,
    processed_until: DateTime<Utc>,
}

#[derive(Default)]
struct TenantSeries {
    series: BTreeMap<String, Live>,
    last_used: u64,
}

#[derive(Default)]
struct Cache {
    tenants: HashMap<String, TenantSeries>,
    uses: u64,
    /// Per tenant, the earliest `processed_until` of its series: lets the 1 s tick skip
    /// tenants with nothing due without touching the store (evicted tenants included).
    due: HashMap<String, DateTime<Utc>>,
}

pub struct Detector {
    costs: Arc<dyn CostStore>,
    anomalies: Arc<dyn AnomalyStore>,
    alerts: Arc<dyn AlertStore>,
    publisher_wake: Option<Arc<Notify>>,
    clock: Arc<dyn Clock>,
    options: Options,
    cache: Mutex<Cache>,
}

fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    Granularity::Hour.bucket_start(t)
}

impl Detector {
    pub fn new(
        costs: Arc<dyn CostStore>,
        anomalies: Arc<dyn AnomalyStore>,
        alerts: Arc<dyn AlertStore>,
        publisher_wake: Option<Arc<Notify>>,
        clock: Arc<dyn Clock>,
        options: Options,
    ) -> Result<Detector, Error> {
        options.config.validate()?;
        Ok(Detector {
            costs,
            anomalies,
            alerts,
            publisher_wake,
            clock,
            options,
            cache: Mutex::new(Cache::default()),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Tenants with series that have a closed window not scored yet (what the tick processes).
    pub async fn due_tenants(&self) -> Vec<String> {
        let closed_end = hour_floor(self.clock.now());
        let cache = self.cache.lock().await;
        let mut due: Vec<String> = cache
            .due
            .iter()
            .filter(|(_, d)| **d < closed_end)
            .map(|(t, _)| t.clone())
            .collect();
        due.sort();
        due
    }

    /// Series detectors currently in memory.
    pub async fn live_series(&self) -> usize {
        let cache = self.cache.lock().await;
        cache.tenants.values().map(|t| t.series.len()).sum()
    }

    async fn load(&self, tenant: &str) -> Result<TenantSeries, Error> {
        let mut series = BTreeMap::new();
        for (key, state) in self.anomalies.series_states(tenant).await? {
            let detector: SeriesDetector = serde_json::from_str(&state.detector_json)
                .map_err(|e| Error::Corrupt(format!("detector of {tenant}/{key}: {e}")))?;
            series.insert(
                key,
                Live {
                    detector,
                    processed_until: state.processed_until,
                },
            );
        }
        Ok(TenantSeries {
            series,
            last_used: 0,
        })
    }

    /// Scores every closed hour of the tenant not scored yet; returns the anomalies reported.
    /// Passes of one detector are serialised (one lock), so two triggers cannot push the same
    /// hour twice.
    pub async fn process_tenant(&self, tenant: &str) -> Result<Vec<AnomalyRecord>, Error> {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        let closed_end = hour_floor(now);
        if cache.due.get(tenant).is_some_and(|d| *d >= closed_end) {
            return Ok(Vec::new());
        }
        let mut entry = match cache.tenants.remove(tenant) {
            Some(e) => e,
            None => self.load(tenant).await?,
        };
        let result = self.pass(tenant, &mut entry, now, closed_end).await;
        // A tenant without any series has no entry: only a cost update brings it back.
        match entry.series.values().map(|l| l.processed_until).min() {
            Some(due) => cache.due.insert(tenant.to_string(), due),
            None => cache.due.remove(tenant),
        };
        match result {
            Ok(reported) => {
                cache.uses += 1;
                entry.last_used = cache.uses;
                cache.tenants.insert(tenant.to_string(), entry);
                self.evict(&mut cache, tenant);
                Ok(reported)
            }
            // The in-memory detectors may be ahead of the store now: drop them so the next pass
            // starts again from the persisted state (same windows, same ids: nothing twice).
            // Due at once, so the next tick retries.
            Err(e) => {
                cache
                    .due
                    .insert(tenant.to_string(), DateTime::<Utc>::MIN_UTC);
                Err(e)
            }
        }
    }

    fn evict(&self, cache: &mut Cache, keep: &str) {
        let mut total: usize = cache.tenants.values().map(|t| t.series.len()).sum();
        while total > self.options.max_live_series {
            let oldest = cache
                .tenants
                .iter()
                .filter(|(t, _)| t.as_str() != keep)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(t, _)| t.clone());
            let Some(oldest) = oldest else { break };
            if let Some(dropped) = cache.tenants.remove(&oldest) {
                total -= dropped.series.len();
            }
        }
    }

    async fn pass(
        &self,
        tenant: &str,
        entry: &mut TenantSeries,
        now: DateTime<Utc>,
        closed_end: DateTime<Utc>,
    ) -> Result<Vec<AnomalyRecord>, Error> {
        let cfg = &self.options.config;
        let backfill = Duration::hours(i64::try_from(cfg.period * cfg.cycles).unwrap_or(192));
        // First sight of the tenant: learn from the last period × cycles hours, not from nothing.
        let from = entry
            .series
            .values()
            .map(|l| l.processed_until)
            .min()
            .unwrap_or(closed_end - backfill);
        if from >= closed_end {
            return Ok(Vec::new());
        }
        let rows = self
            .costs
            .rollups(tenant, Granularity::Hour, from, closed_end)
            .await?;
        let totals = hourly_totals(&rows)?;
        let mut found: Vec<(String, Anomaly)> = Vec::new();
        let mut keys: Vec<String> = entry.series.keys().cloned().collect();
        keys.extend(
            totals
                .keys()
                .filter(|k| !entry.series.contains_key(*k))
                .cloned(),
        );
        for key in keys {
            let amounts = totals.get(&key);
            if !entry.series.contains_key(&key) {
                // A new series starts at its first cost, not at the start of the range.
                let Some(first) = amounts.and_then(|a| a.keys().next()).copied() else {
                    continue;
                };
                let detector = SeriesDetector::new(cfg.clone())?;
                entry.series.insert(
                    key.clone(),
                    Live {
                        detector,
                        processed_until: first,
                    },
                );
            }
            let Some(live) = entry.series.get_mut(&key) else {
                continue;
            };
            let mut at = live.processed_until;
            while at < closed_end {
                // An hour without cost is a real zero (the series is evenly spaced).
                let value = amounts
                    .and_then(|a| a.get(&at))
                    .copied()
                    .unwrap_or(Decimal::ZERO);
                let score = live.detector.push_amount(at, value)?;
                found.extend(score.anomalies.into_iter().map(|a| (key.clone(), a)));
                at += Duration::hours(1);
            }
            live.processed_until = closed_end;
        }

        let reportable: Vec<(String, Anomaly)> = found
            .into_iter()
            .filter(|(_, a)| a.at >= now - self.options.report_within)
            .collect();
        let mut reported = Vec::new();
        if !reportable.is_empty() {
            reported = self.report(tenant, reportable, now, closed_end).await?;
        }
        // Anomalies are stored before the state that produced them: a crash in between
        // re-detects the same windows, whose ids are already stored (nothing twice, nothing lost).
        let mut states = Vec::with_capacity(entry.series.len());
        for (key, live) in &entry.series {
            let detector_json = serde_json::to_string(&live.detector)
                .map_err(|e| Error::Corrupt(format!("serialising {key}: {e}")))?;
            states.push((
                key.clone(),
                SeriesState {
                    detector_json,
                    processed_until: live.processed_until,
                },
            ));
        }
        self.anomalies.save_series_states(tenant, states).await?;
        Ok(reported)
    }

    async fn report(
        &self,
        tenant: &str,
        found: Vec<(String, Anomaly)>,
        now: DateTime<Utc>,
        closed_end: DateTime<Utc>,
    ) -> Result<Vec<AnomalyRecord>, Error> {
        let earliest = found.iter().map(|(_, a)| a.at).min().unwrap_or(closed_end);
        let baseline = Duration::hours(self.options.baseline_hours);
        let rows = self
            .costs
            .rollups(tenant, Granularity::Hour, earliest - baseline, closed_end)
            .await?;
        let mut reported = Vec::new();
        for (series, a) in found {
            let window_start = hour_floor(a.at);
            let window_end = window_start + Duration::hours(1);
            if self.accepted(tenant, &series, &a, window_start).await? {
                tracing::info!(%tenant, %series, kind = ?a.kind, %window_start, "anomaly accepted by feedback; not reported");
                continue;
            }
            let amounts = a.amounts()?;
            let (root, labels) = root_cause(
                &rows,
                &series,
                window_start,
                window_end,
                window_start - baseline,
                self.options.top_contributors,
            )?;
            let record = AnomalyRecord {
                id: anomaly_id(tenant, &series, window_start, a.kind),
                tenant: tenant.to_string(),
                currency: currency_of(&series)?,
                series,
                window_start,
                window_end,
                kind: a.kind,
                severity: a.severity,
                score: a.score,
                expected: amounts.expected,
                actual: amounts.actual,
                lo: amounts.lo,
                hi: amounts.hi,
                root_cause: root,
                label_causes: labels,
                detected_at: now,
                feedback: None,
            };
            let new = self.anomalies.insert_anomaly(&record).await?;
            // Raised even when the anomaly was stored before: a crash may have come between.
            crate::runner::raise_alert(self.alerts.as_ref(), &record, now).await?;
            if let Some(wake) = &self.publisher_wake {
                wake.notify_one();
            }
            if new {
                tracing::info!(%tenant, series = %record.series, kind = ?record.kind, score = record.score, "anomaly detected");
                reported.push(record);
            }
        }
        Ok(reported)
    }

    /// Whether a person marked an earlier anomaly of the same kind on this series as expected
    /// within `accept_for`: the series' new level is accepted, so this one is not news.
    async fn accepted(
        &self,
        tenant: &str,
        series: &str,
        a: &Anomaly,
        window_start: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let since = window_start - self.options.accept_for;
        let earlier = self
            .anomalies
            .series_anomalies(tenant, series, since)
            .await?;
        Ok(earlier.iter().any(|e| {
            e.kind == a.kind
                && e.window_start < window_start
                && e.feedback.as_ref().is_some_and(|f| f.expected)
        }))
    }
}
