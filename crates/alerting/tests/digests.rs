//! Digests over real SQLite stores: the numbers against hand-computed ground truth, and the
//! scheduler sending each digest once (repeat ticks and a restart send nothing; a failed send is
//! retried).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use costwatch_alerting::{
    BudgetService, DigestOutcome, DigestScheduler, DigestSchedulerOptions, DigestService,
    DigestSink,
};
use costwatch_domain::alerting::{
    AlertKind, Condition, Digest, DigestKind, MoverDimension, Severity, reconcile,
};
use costwatch_domain::budget::{
    BudgetScope, BudgetSpec, ForecastPolicy, Period, default_thresholds,
};
use costwatch_domain::fx::FxRates;
use costwatch_domain::{
    Category, Currency, Granularity, RollupKey, RollupValue, SeriesKey, SubKind,
};
use costwatch_embedded::{SqliteAlertStore, SqliteStore};
use costwatch_ports::{AlertStore, Commit, CostStore};
use rust_decimal::Decimal;

fn day(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h, 0, 0)
        .single()
        .expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

struct World {
    costs: Arc<dyn CostStore>,
    alerts: Arc<dyn AlertStore>,
    budgets: Arc<BudgetService>,
    digests: Arc<DigestService>,
    positions: u64,
    dir: std::path::PathBuf,
}

impl World {
    fn open(dir: std::path::PathBuf, positions: u64) -> World {
        let costs: Arc<dyn CostStore> =
            Arc::new(SqliteStore::open(&dir.join("store.sqlite")).expect("store"));
        let alerts: Arc<dyn AlertStore> =
            Arc::new(SqliteAlertStore::open(&dir.join("alerts.sqlite")).expect("alerts"));
        let budgets = Arc::new(BudgetService::new(
            costs.clone(),
            alerts.clone(),
            FxRates::default(),
            ForecastPolicy::default(),
        ));
        let digests = Arc::new(DigestService::new(
            budgets.clone(),
            costs.clone(),
            FxRates::default(),
            Currency::USD,
        ));
        World {
            costs,
            alerts,
            budgets,
            digests,
            positions,
            dir,
        }
    }

    fn new() -> World {
        World::open(tempfile::tempdir().expect("tempdir").keep(), 0)
    }

    fn restart(self) -> World {
        let (dir, positions) = (self.dir.clone(), self.positions);
        drop(self);
        World::open(dir, positions)
    }

    /// Books `amount` of `who` = (tenant, provider, service, resource) at `t`, every granularity.
    async fn spend(&mut self, who: [&str; 4], currency: Currency, t: DateTime<Utc>, amount: &str) {
        let series = SeriesKey {
            tenant: who[0].into(),
            category: Category::Hosting,
            sub_kind: SubKind::Compute,
            provider: who[1].into(),
            service: who[2].into(),
            resource: who[3].into(),
            labels: "{}".into(),
            currency,
        };
        let value = RollupValue {
            amount: dec(amount),
            billed: dec(amount),
            events: 1,
        };
        let deltas = Granularity::ALL
            .iter()
            .map(|g| {
                let key = RollupKey {
                    granularity: *g,
                    bucket: g.bucket_start(t),
                    series: series.clone(),
                };
                (key, value)
            })
            .collect();
        let commit = Commit {
            consumer: "test".into(),
            expected_positions: BTreeMap::from([(0, self.positions)])
                .into_iter()
                .filter(|_| self.positions > 0)
                .collect(),
            positions: BTreeMap::from([(0, self.positions + 1)]),
            counted: vec![(who[0].into(), format!("e{}", self.positions))],
            deltas,
            ..Commit::default()
        };
        self.costs.commit(commit).await.expect("commit");
        self.positions += 1;
    }

    async fn alert(&self, key: &str, severity: Severity, at: DateTime<Utc>) {
        let c = Condition {
            dedupe_key: key.into(),
            group: key.into(),
            epoch: String::new(),
            kind: AlertKind::CostSpike,
            severity,
            title: format!("alert {key}"),
            message: "m".into(),
            budget_id: None,
            actual: None,
            threshold: None,
            currency: None,
            owner: None,
        };
        let source = format!("test:{key}");
        let changes = reconcile("acme", &source, &[], vec![c], None, at, Duration::hours(1));
        self.alerts
            .apply_alert_changes(changes)
            .await
            .expect("apply");
    }
}

const USD: Currency = Currency::USD;

/// Week of Mon 2026-11-16 against the week of Mon 2026-11-09.
async fn seeded() -> World {
    let mut w = World::new();
    let (prev, cur) = (day(11, 10, 8), day(11, 18, 8));
    for (who, c, t, amount) in [
        (["acme", "aws", "ec2", "i-1"], USD, prev, "100.10"),
        (["acme", "aws", "ec2", "i-1"], USD, cur, "250.25"),
        (["acme", "aws", "ec2", "i-2"], USD, prev, "80"),
        (["acme", "aws", "ec2", "i-3"], USD, prev, "1"),
        (["acme", "aws", "ec2", "i-3"], USD, cur, "1.5"),
        (["acme", "aws", "s3", "b-1"], USD, prev, "10"),
        (["acme", "aws", "s3", "b-1"], USD, day(11, 22, 23), "15.5"),
        (["acme", "gcp", "bq", "q-1"], USD, cur, "0.000000000001"),
        (["acme", "aws", "rds", "db-1"], Currency::EUR, prev, "40"),
        (["acme", "aws", "rds", "db-1"], Currency::EUR, cur, "30"),
        // Outside both windows, and another tenant: must not count.
        (["acme", "aws", "ec2", "i-1"], USD, day(11, 23, 0), "999"),
        (["acme", "aws", "ec2", "i-1"], USD, day(11, 8, 23), "999"),
        (["globex", "aws", "ec2", "i-1"], USD, cur, "5000"),
    ] {
        w.spend(who, c, t, amount).await;
    }
    w
}

fn budget(name: &str, amount: &str, service: Option<&str>) -> BudgetSpec {
    BudgetSpec {
        name: name.into(),
        amount: dec(amount),
        currency: USD,
        period: Period::Monthly,
        scope: BudgetScope {
            service: service.map(String::from),
            ..BudgetScope::default()
        },
        thresholds: default_thresholds(),
        allocations: vec![],
        owner: None,
    }
}

#[tokio::test]
async fn digest_numbers_match_hand_computed_ground_truth() {
    let w = seeded().await;
    let at_risk = w
        .budgets
        .create("acme", budget("All", "300", None), day(11, 1, 0))
        .await
        .expect("budget");
    w.budgets
        .create(
            "acme",
            budget("Storage", "10000", Some("s3")),
            day(11, 1, 0),
        )
        .await
        .expect("budget");
    w.alert("w1", Severity::Warning, day(11, 17, 1)).await;
    w.alert("c1", Severity::Critical, day(11, 17, 2)).await;
    w.alert("i1", Severity::Info, day(11, 17, 0)).await;
    w.alert("w2", Severity::Warning, day(11, 17, 3)).await;
    w.alert("c2", Severity::Critical, day(11, 17, 4)).await;
    w.alert("w3", Severity::Warning, day(11, 17, 5)).await;
    w.alert("i2", Severity::Info, day(11, 17, 6)).await;

    let d = w
        .digests
        .build("acme", DigestKind::Weekly, day(11, 20, 0), day(11, 23, 0))
        .await
        .expect("digest");
    assert_eq!(
        (d.window.start, d.window.end),
        (day(11, 16, 0), day(11, 23, 0))
    );
    assert_eq!(d.previous.start, day(11, 9, 0));
    assert_eq!(d.id(), "digest:acme:weekly:2026-11-16");

    // Totals, exact per currency (no conversion).
    let totals: Vec<(String, String, String, String)> = d
        .totals
        .iter()
        .map(|t| {
            (
                t.currency.to_string(),
                t.current.normalize().to_string(),
                t.previous.normalize().to_string(),
                t.change.normalize().to_string(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            ("EUR".into(), "30".into(), "40".into(), "-10".into()),
            (
                "USD".into(),
                "267.250000000001".into(),
                "191.1".into(),
                "76.150000000001".into()
            ),
        ]
    );

    // Movers in USD (EUR at 1.08): ec2 +70.65, rds -10.8, s3 +5.5, bq +1e-12.
    let movers = |list: &[costwatch_domain::alerting::Mover]| -> Vec<(String, String)> {
        list.iter()
            .map(|m| (m.name.clone(), m.change.normalize().to_string()))
            .collect()
    };
    assert_eq!(
        movers(&d.service_movers),
        vec![
            ("aws/ec2".into(), "70.65".into()),
            ("aws/rds".into(), "-10.8".into()),
            ("aws/s3".into(), "5.5".into()),
            ("gcp/bq".into(), "0.000000000001".into()),
        ]
    );
    assert_eq!(
        movers(&d.resource_movers),
        vec![
            ("aws/ec2/i-1".into(), "150.15".into()),
            ("aws/ec2/i-2".into(), "-80".into()),
            ("aws/rds/db-1".into(), "-10.8".into()),
            ("aws/s3/b-1".into(), "5.5".into()),
            ("aws/ec2/i-3".into(), "0.5".into()),
        ],
        "top 5 only: gcp/bq/q-1 is sixth"
    );
    let top = d.top_mover().expect("top mover");
    assert_eq!(
        (top.name.as_str(), top.dimension),
        ("aws/ec2/i-1", MoverDimension::Resource)
    );

    // November so far: 191.1 + 267.250000000001 + 999 + 999 USD and 70 EUR (75.6 USD), over
    // 300: at risk. Storage (s3, 25.5 of 10000) is not.
    assert_eq!(d.budgets_at_risk.len(), 1);
    let b = &d.budgets_at_risk[0];
    assert_eq!(b.id, at_risk.budget.id);
    assert_eq!(b.spent.normalize().to_string(), "2531.950000000001");

    let open = &d.open_alerts;
    assert_eq!((open.critical, open.warning, open.info), (2, 3, 2));
    let top: Vec<&str> = open.top.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(
        top,
        vec!["alert c1", "alert c2", "alert w1", "alert w2", "alert w3"],
        "most severe first, then longest open"
    );
}

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<String>>,
    fail: Mutex<bool>,
}

#[async_trait]
impl DigestSink for Recorder {
    async fn send_digest(&self, digest: &Digest) -> Result<(), String> {
        if *self.fail.lock().expect("lock") {
            return Err("receiver down".into());
        }
        self.sent.lock().expect("lock").push(digest.id());
        Ok(())
    }
}

fn scheduler(w: &World, sink: Arc<Recorder>) -> DigestScheduler {
    DigestScheduler::new(
        w.digests.clone(),
        vec![sink as Arc<dyn DigestSink>],
        DigestSchedulerOptions {
            kinds: vec![DigestKind::Weekly],
            ..DigestSchedulerOptions::default()
        },
    )
}

#[tokio::test]
async fn each_digest_is_sent_once_across_ticks_and_restarts_and_failures_retry() {
    let w = seeded().await;
    let sink = Arc::new(Recorder::default());
    let outcomes = |out: Vec<(String, DigestKind, DigestOutcome)>| -> Vec<(String, DigestOutcome)> {
        out.into_iter().map(|(t, _, o)| (t, o)).collect()
    };
    // Mid-week: the week of 11-09 is the last closed one. The receiver is down: nothing recorded.
    *sink.fail.lock().expect("lock") = true;
    let out = scheduler(&w, sink.clone()).tick(day(11, 18, 0)).await;
    assert_eq!(
        outcomes(out.expect("tick")),
        vec![
            ("acme".into(), DigestOutcome::Failed("receiver down".into())),
            ("globex".into(), DigestOutcome::Empty),
        ],
        "globex spent nothing in the weeks of 11-02 and 11-09: no empty digest"
    );
    *sink.fail.lock().expect("lock") = false;
    let out = scheduler(&w, sink.clone()).tick(day(11, 18, 1)).await;
    assert_eq!(
        outcomes(out.expect("tick")),
        vec![
            ("acme".into(), DigestOutcome::Sent),
            ("globex".into(), DigestOutcome::AlreadySent),
        ]
    );
    let out = scheduler(&w, sink.clone()).tick(day(11, 19, 0)).await;
    assert!(
        outcomes(out.expect("tick"))
            .iter()
            .all(|(_, o)| *o == DigestOutcome::AlreadySent)
    );
    let w = w.restart();
    let out = scheduler(&w, sink.clone()).tick(day(11, 22, 23)).await;
    assert!(
        outcomes(out.expect("tick"))
            .iter()
            .all(|(_, o)| *o == DigestOutcome::AlreadySent),
        "after a restart"
    );
    // The week of 11-16 closes at 11-23 00:00.
    let out = scheduler(&w, sink.clone()).tick(day(11, 23, 0)).await;
    assert!(
        outcomes(out.expect("tick"))
            .iter()
            .all(|(_, o)| *o == DigestOutcome::Sent)
    );
    let sent = sink.sent.lock().expect("lock").clone();
    assert_eq!(
        sent,
        vec![
            "digest:acme:weekly:2026-11-09",
            "digest:acme:weekly:2026-11-16",
            "digest:globex:weekly:2026-11-16",
        ]
    );
}
