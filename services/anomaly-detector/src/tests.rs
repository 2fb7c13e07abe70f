//! The detector over synthetic hourly series, with the SQLite anomaly and alert stores and an
//! in-memory cost store.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use costwatch_analytics::detect::{AnomalyKind, SeriesDetector};
use costwatch_domain::alerting::AlertKind;
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::{
    Category, Currency, Granularity, RollupRow, RollupValue, SeriesKey, SubKind,
};
use costwatch_embedded::{SqliteAlertStore, SqliteAnomalyStore};
use costwatch_ports::{
    AlertStore, AnomalyRecord, AnomalyStore, Commit, CostStore, DeadLetter, Feedback, StoreError,
};
use rust_decimal::Decimal;

use crate::{Clock, Detector, Options};

#[derive(Default)]
struct FakeCosts {
    rows: Mutex<Vec<RollupRow>>,
}

#[async_trait]
impl CostStore for FakeCosts {
    async fn positions(&self, _: &str) -> Result<std::collections::BTreeMap<u32, u64>, StoreError> {
        Ok(Default::default())
    }
    async fn seen(
        &self,
        _: &[(String, String)],
    ) -> Result<std::collections::HashSet<(String, String)>, StoreError> {
        Ok(Default::default())
    }
    async fn meters(
        &self,
        _: &[MeterKey],
    ) -> Result<std::collections::HashMap<MeterKey, Decimal>, StoreError> {
        Ok(Default::default())
    }
    async fn commit(&self, _: Commit) -> Result<(), StoreError> {
        Ok(())
    }
    async fn rollups(
        &self,
        tenant: &str,
        granularity: Granularity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        assert_eq!(
            granularity,
            Granularity::Hour,
            "the detector reads hourly cells"
        );
        let rows = self.rows.lock().expect("lock");
        Ok(rows
            .iter()
            .filter(|r| r.series.tenant == tenant && r.bucket >= from && r.bucket < to)
            .cloned()
            .collect())
    }
    async fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.rows.lock().expect("lock");
        let set: BTreeSet<String> = rows.iter().map(|r| r.series.tenant.clone()).collect();
        Ok(set.into_iter().collect())
    }
    async fn dead_letters(&self, _: &str, _: usize) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(vec![])
    }
}

impl FakeCosts {
    /// One hourly cell; `milli` is the amount in thousandths.
    fn add(&self, tenant: &str, hour: i64, resource: &str, service: &str, milli: i64) {
        let category = if service == "rds" {
            Category::Database
        } else {
            Category::Hosting
        };
        self.rows.lock().expect("lock").push(RollupRow {
            bucket: t0() + Duration::hours(hour),
            series: SeriesKey {
                tenant: tenant.into(),
                category,
                sub_kind: SubKind::Compute,
                provider: "aws".into(),
                service: service.into(),
                resource: resource.into(),
                labels: format!(r#"{{"owner":"{resource}"}}"#),
                currency: Currency::USD,
            },
            value: RollupValue {
                amount: Decimal::new(milli, 3),
                billed: Decimal::ZERO,
                events: 1,
            },
        });
    }
}

struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn set_hour(&self, hour: i64) {
        // One second after the hour closes.
        *self.0.lock().expect("lock") = t0() + Duration::hours(hour) + Duration::seconds(1);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("lock")
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
        .single()
        .expect("time")
}

/// Deterministic noise in [-span, span] thousandths (a small LCG: no randomness in tests).
fn noise(seed: &mut u64, span: i64) -> i64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    ((*seed >> 33) % (2 * span as u64 + 1)) as i64 - span
}

/// Steady costs for `hours` hours: r-a (ec2) 2.0, r-b (rds) 3.0, r-spiky (ec2) 1.0, ±2 %.
fn steady(costs: &FakeCosts, tenant: &str, hours: std::ops::Range<i64>, seed: &mut u64) {
    for h in hours {
        costs.add(tenant, h, "r-a", "ec2", 2000 + noise(seed, 40));
        costs.add(tenant, h, "r-b", "rds", 3000 + noise(seed, 60));
        costs.add(tenant, h, "r-spiky", "ec2", 1000 + noise(seed, 20));
    }
}

struct Setup {
    costs: Arc<FakeCosts>,
    anomalies: Arc<SqliteAnomalyStore>,
    alerts: Arc<SqliteAlertStore>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl Setup {
    fn new(costs: Arc<FakeCosts>) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        Setup {
            costs,
            anomalies: Arc::new(
                SqliteAnomalyStore::open(&dir.path().join("anomalies.sqlite")).expect("open"),
            ),
            alerts: Arc::new(
                SqliteAlertStore::open(&dir.path().join("alerts.sqlite")).expect("open"),
            ),
            clock: Arc::new(ManualClock(Mutex::new(t0()))),
            _dir: dir,
        }
    }

    fn detector(&self, options: Options) -> Detector {
        Detector::new(
            self.costs.clone(),
            self.anomalies.clone(),
            self.alerts.clone(),
            None,
            self.clock.clone(),
            options,
        )
        .expect("detector")
    }

    async fn run_at(&self, d: &Detector, hour: i64) -> Vec<AnomalyRecord> {
        self.clock.set_hour(hour);
        d.process_tenant("acme").await.expect("process")
    }

    async fn states(&self) -> Vec<(String, costwatch_ports::SeriesState)> {
        self.anomalies.series_states("acme").await.expect("states")
    }
}

#[tokio::test]
async fn a_spike_is_one_anomaly_per_series_explained_by_its_resource() {
    let costs = Arc::new(FakeCosts::default());
    let mut seed = 7;
    steady(&costs, "acme", 0..96, &mut seed);
    costs.add("acme", 96, "r-a", "ec2", 2000);
    costs.add("acme", 96, "r-b", "rds", 3000);
    costs.add("acme", 96, "r-spiky", "ec2", 10_000);
    let s = Setup::new(costs);
    let d = s.detector(Options::default());
    let found = s.run_at(&d, 97).await;

    let series: BTreeSet<&str> = found.iter().map(|a| a.series.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "total|USD",
        "category=hosting|USD",
        "provider=aws|USD",
        "service=ec2|USD",
    ]
    .into();
    assert_eq!(
        series, expected,
        "every series containing r-spiky, once; rds untouched"
    );
    assert_eq!(found.len(), 4);
    for a in &found {
        assert_eq!(a.window_start, t0() + Duration::hours(96), "{}", a.series);
        assert_eq!(a.kind, AnomalyKind::Spike);
        assert_eq!(a.root_cause[0].key, "resource=r-spiky", "{}", a.series);
        assert_eq!(a.label_causes[0].key, "label:owner=r-spiky");
        assert!(a.actual > a.hi && a.expected < a.actual);
        assert!(a.root_cause.len() <= 5);
    }
    let alerts = s.alerts.alerts("acme", None, 100).await.expect("alerts");
    assert_eq!(alerts.len(), 4, "one alert per anomaly");
    // The page names the resource, its excess in money and its share, readably rounded.
    let message = &alerts[0].message;
    assert!(
        message.contains("top contributor resource=r-spiky (+"),
        "{message}"
    );
    assert!(message.contains("% of the deviation)"), "{message}");
    assert!(!message.contains(".000000"), "{message}");
    for a in &found {
        assert!(
            alerts
                .iter()
                .any(|al| al.dedupe_key == a.id && al.kind == AlertKind::Anomaly),
            "alert for {}",
            a.series
        );
    }
    // Processing again in the same hour finds nothing new and raises nothing new.
    assert!(s.run_at(&d, 97).await.is_empty());
    assert_eq!(
        s.alerts
            .alerts("acme", None, 100)
            .await
            .expect("alerts")
            .len(),
        4
    );
}

#[tokio::test]
async fn a_daily_seasonal_pattern_does_not_fire() {
    let costs = Arc::new(FakeCosts::default());
    let mut seed = 11;
    for h in 0..240 {
        let phase = (h % 24) as f64 / 24.0 * std::f64::consts::TAU;
        // 10 ± 5 over the day (business hours cost more), ±1 % noise.
        let milli = 10_000 + (5_000.0 * phase.sin()).round() as i64 + noise(&mut seed, 100);
        costs.add("acme", h, "r-web", "ec2", milli);
    }
    let s = Setup::new(costs);
    let d = s.detector(Options::default());
    let mut found = Vec::new();
    // Hour by hour, as in production: every hour from day 2 is scored live.
    for hour in 48..=240 {
        found.extend(s.run_at(&d, hour).await);
    }
    assert!(found.is_empty(), "false positives: {found:#?}");
    let states = s.states().await;
    let total = states
        .iter()
        .find(|(k, _)| k == "total|USD")
        .expect("total series");
    let det: SeriesDetector = serde_json::from_str(&total.1.detector_json).expect("state");
    assert_eq!(det.len(), 240, "every hour pushed exactly once");
}

#[tokio::test]
async fn state_persists_across_a_restart_without_relearning() {
    let costs = Arc::new(FakeCosts::default());
    let mut seed = 3;
    steady(&costs, "acme", 0..90, &mut seed);
    costs.add("acme", 90, "r-a", "ec2", 2000);
    costs.add("acme", 90, "r-b", "rds", 3000);
    costs.add("acme", 90, "r-spiky", "ec2", 9000);
    // `a` runs uninterrupted; `b` is restarted (a new detector over the same store) between.
    let a = Setup::new(costs.clone());
    let b = Setup::new(costs);
    let da = a.detector(Options::default());
    assert!(a.run_at(&da, 80).await.is_empty());
    {
        let db = b.detector(Options::default());
        assert!(b.run_at(&db, 80).await.is_empty());
    }
    let db = b.detector(Options::default());
    let after_a = a.run_at(&da, 91).await;
    let after_b = b.run_at(&db, 91).await;
    assert_eq!(after_a.len(), 4, "the spike is found");
    let scores = |v: &[AnomalyRecord]| -> Vec<(String, f64, Decimal)> {
        let mut s: Vec<_> = v
            .iter()
            .map(|x| (x.series.clone(), x.score, x.expected))
            .collect();
        s.sort_by(|x, y| x.0.cmp(&y.0));
        s
    };
    assert_eq!(scores(&after_a), scores(&after_b), "same next scores");
    assert_eq!(
        a.states().await,
        b.states().await,
        "identical detector state"
    );
    let (_, total) = b
        .states()
        .await
        .into_iter()
        .find(|(k, _)| k == "total|USD")
        .expect("total");
    let det: SeriesDetector = serde_json::from_str(&total.detector_json).expect("state");
    assert_eq!(det.len(), 91, "no hour pushed twice, nothing re-learned");
    assert_eq!(total.processed_until, t0() + Duration::hours(91));
}

async fn repeat_after_feedback(expected: bool) -> Vec<AnomalyRecord> {
    let costs = Arc::new(FakeCosts::default());
    let mut seed = 5;
    steady(&costs, "acme", 0..120, &mut seed);
    for spike in [96, 106] {
        costs.add("acme", spike, "r-spiky", "ec2", 9000);
    }
    let s = Setup::new(costs);
    let d = s.detector(Options::default());
    let first = s.run_at(&d, 97).await;
    let total = first
        .iter()
        .find(|a| a.series == "total|USD")
        .expect("first spike found");
    s.anomalies
        .record_feedback(
            "acme",
            &total.id,
            Feedback {
                expected,
                note: Some("load test".into()),
                by: Some("ana".into()),
                at: t0() + Duration::hours(98),
            },
        )
        .await
        .expect("feedback")
        .expect("found");
    s.run_at(&d, 107)
        .await
        .into_iter()
        .filter(|a| a.series == "total|USD")
        .collect()
}

#[tokio::test]
async fn feedback_expected_suppresses_a_repeat_and_not_expected_keeps_it() {
    let suppressed = repeat_after_feedback(true).await;
    assert!(suppressed.is_empty(), "accepted: {suppressed:#?}");
    let kept = repeat_after_feedback(false).await;
    assert_eq!(kept.len(), 1, "not expected: the repeat is reported");
    assert_eq!(kept[0].window_start, t0() + Duration::hours(106));
}

#[tokio::test]
async fn live_series_are_capped_and_reloaded_from_the_store() {
    let costs = Arc::new(FakeCosts::default());
    let mut seed = 9;
    steady(&costs, "acme", 0..60, &mut seed);
    steady(&costs, "globex", 0..60, &mut seed);
    let s = Setup::new(costs);
    let d = s.detector(Options {
        max_live_series: 6,
        ..Options::default()
    });
    s.clock.set_hour(60);
    d.process_tenant("acme").await.expect("acme");
    d.process_tenant("globex").await.expect("globex");
    // 6 series per tenant (total, 2 categories, provider, 2 services): acme was dropped.
    assert_eq!(d.live_series().await, 6);
    s.clock.set_hour(61);
    assert_eq!(d.due_tenants().await, ["acme", "globex"]);
    d.process_tenant("acme").await.expect("acme reloaded");
    let states = s.states().await;
    assert!(
        states
            .iter()
            .all(|(_, st)| st.processed_until == t0() + Duration::hours(61))
    );
    let det: SeriesDetector = serde_json::from_str(&states[0].1.detector_json).expect("state");
    assert_eq!(det.len(), 61, "continued from the stored state");
}

#[tokio::test]
async fn the_runner_scores_an_hour_on_the_tick_after_it_closes() {
    use futures::StreamExt;
    let costs = Arc::new(FakeCosts::default());
    let mut seed = 13;
    steady(&costs, "acme", 0..97, &mut seed);
    costs.add("acme", 96, "r-spiky", "ec2", 9000);
    let s = Setup::new(costs.clone());
    s.clock.set_hour(96);
    let detector = Arc::new(s.detector(Options::default()));
    let updates: Arc<costwatch_embedded::BroadcastUpdates> = Arc::default();
    let mut found = s.anomalies.subscribe();
    let runner = crate::Runner::new(
        detector.clone(),
        costs,
        updates,
        std::time::Duration::from_millis(20),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(runner.run(stopped));
    // The start-up pass scores hours up to 96 (the spike's hour is still open): nothing.
    let early = tokio::time::timeout(std::time::Duration::from_millis(300), found.next()).await;
    assert!(early.is_err(), "nothing before the hour closes: {early:?}");
    // The hour closes; no cost update arrives, only the clock moves.
    s.clock.set_hour(97);
    let a = tokio::time::timeout(std::time::Duration::from_secs(2), found.next())
        .await
        .expect("scored on the tick")
        .expect("stream open");
    assert_eq!(a.window_start, t0() + Duration::hours(96));
    assert_eq!(a.root_cause[0].key, "resource=r-spiky");
    let _ = stop.send(true);
    task.await.expect("runner stops");
}
