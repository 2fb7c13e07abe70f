//! The evaluator over real SQLite stores with a controlled clock: thresholds raise one alert
//! however often evaluated (and after a restart), the period rollover resolves, a forecast breach
//! comes before the actual one, deleting a budget resolves its alerts, and spikes are seen.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use costwatch_alerting::{BudgetService, Evaluator, EvaluatorOptions};
use costwatch_domain::alerting::{AlertKind, AlertState};
use costwatch_domain::budget::{
    BudgetScope, BudgetSpec, ForecastPolicy, Period, Threshold, ThresholdBasis,
};
use costwatch_domain::fx::FxRates;
use costwatch_domain::{
    Category, Currency, Granularity, RollupKey, RollupValue, SeriesKey, SubKind,
};
use costwatch_embedded::{SqliteAlertStore, SqliteStore};
use costwatch_ports::{AlertStore, Commit, CostStore};
use rust_decimal::Decimal;

fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
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
    evaluator: Evaluator,
    positions: u64,
    dir: std::path::PathBuf,
}

fn open(
    dir: &std::path::Path,
) -> (
    Arc<dyn CostStore>,
    Arc<dyn AlertStore>,
    Arc<BudgetService>,
    Evaluator,
) {
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
    let evaluator = Evaluator::new(
        budgets.clone(),
        costs.clone(),
        FxRates::default(),
        EvaluatorOptions::default(),
    );
    (costs, alerts, budgets, evaluator)
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let (costs, alerts, budgets, evaluator) = open(&dir);
        World {
            costs,
            alerts,
            budgets,
            evaluator,
            positions: 0,
            dir,
        }
    }

    /// A fresh process over the same files.
    fn restart(self) -> World {
        let positions = self.positions;
        let dir = self.dir.clone();
        drop(self);
        let (costs, alerts, budgets, evaluator) = open(&dir);
        World {
            costs,
            alerts,
            budgets,
            evaluator,
            positions,
            dir,
        }
    }

    /// Books `amount` USD of billed `service` usage at `t` into every granularity, as the
    /// aggregator would.
    async fn spend(&mut self, service: &str, t: DateTime<Utc>, amount: &str) {
        self.book(service, t, amount, true).await;
    }

    /// Books `amount` USD at `t`, billed or estimated from a rate card.
    async fn book(&mut self, service: &str, t: DateTime<Utc>, amount: &str, billed: bool) {
        let series = SeriesKey {
            tenant: "acme".into(),
            category: Category::Hosting,
            sub_kind: SubKind::Compute,
            provider: "aws".into(),
            service: service.into(),
            resource: "i-1".into(),
            labels: "{}".into(),
            currency: Currency::USD,
        };
        let value = RollupValue {
            amount: dec(amount),
            billed: if billed { dec(amount) } else { Decimal::ZERO },
            events: 1,
        };
        let deltas = Granularity::ALL
            .iter()
            .map(|g| {
                (
                    RollupKey {
                        granularity: *g,
                        bucket: g.bucket_start(t),
                        series: series.clone(),
                    },
                    value,
                )
            })
            .collect();
        let commit = Commit {
            consumer: "test".into(),
            expected_positions: BTreeMap::from([(0, self.positions)])
                .into_iter()
                .filter(|_| self.positions > 0)
                .collect(),
            positions: BTreeMap::from([(0, self.positions + 1)]),
            counted: vec![("acme".into(), format!("e{}", self.positions))],
            deltas,
            ..Commit::default()
        };
        self.costs.commit(commit).await.expect("commit");
        self.positions += 1;
    }

    async fn budget(&self, amount: &str, thresholds: Vec<Threshold>, scope: BudgetScope) -> String {
        let spec = BudgetSpec {
            name: "Platform".into(),
            amount: dec(amount),
            currency: Currency::USD,
            period: Period::Monthly,
            scope,
            thresholds,
            allocations: vec![],
            owner: Some("finops".into()),
        };
        self.budgets
            .create("acme", spec, at(11, 1, 0))
            .await
            .expect("create")
            .budget
            .id
    }
}

fn actual(p: i64) -> Threshold {
    Threshold {
        percent: Decimal::from(p),
        basis: ThresholdBasis::Actual,
    }
}

/// A forecast threshold out of reach: budgets with a forecast threshold get no separate depletion
/// warning, so these tests see only the actual thresholds.
fn unreachable_forecast() -> Threshold {
    Threshold {
        percent: Decimal::from(1000),
        basis: ThresholdBasis::Forecast,
    }
}

fn no_spike() -> EvaluatorOptions {
    EvaluatorOptions {
        spike: None,
        ..EvaluatorOptions::default()
    }
}

#[tokio::test]
async fn crossing_80_percent_raises_one_alert_through_redelivery_and_restart() {
    let mut w = World::new();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        no_spike(),
    );
    w.budget(
        "100",
        vec![actual(80), actual(100), unreachable_forecast()],
        BudgetScope::default(),
    )
    .await;
    w.spend("ec2", at(11, 20, 1), "79.99").await;
    let now = at(11, 20, 2);
    assert!(
        w.evaluator
            .evaluate_tenant("acme", now)
            .await
            .expect("eval")
            .is_empty()
    );
    w.spend("ec2", at(11, 20, 3), "0.01").await;
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(11, 20, 4))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].threshold, Some(dec("80")));
    assert_eq!(changed[0].actual, Some(dec("80")));
    for h in 5..10 {
        assert!(
            w.evaluator
                .evaluate_tenant("acme", at(11, 20, h))
                .await
                .expect("eval")
                .is_empty()
        );
    }
    let mut w = w.restart();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        no_spike(),
    );
    assert!(
        w.evaluator
            .evaluate_tenant("acme", at(11, 21, 0))
            .await
            .expect("eval")
            .is_empty()
    );
    let all = w.alerts.alerts("acme", None, 100).await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(
        w.alerts.unpublished(100).await.expect("outbox").len(),
        1,
        "one event to notify"
    );
}

#[tokio::test]
async fn a_bill_replaces_the_estimate_of_its_day_in_budget_spend() {
    let mut w = World::new();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        no_spike(),
    );
    w.budget(
        "100",
        vec![actual(80), unreachable_forecast()],
        BudgetScope::default(),
    )
    .await;
    // Estimated 60 on the 20th, then the bill for that day says 70: spend is 70, not 130.
    w.book("ec2", at(11, 20, 5), "60", false).await;
    w.book("ec2", at(11, 20, 0), "70", true).await;
    assert!(
        w.evaluator
            .evaluate_tenant("acme", at(11, 21, 0))
            .await
            .expect("eval")
            .is_empty(),
        "the estimate must not count next to its bill"
    );
    // The 21st is not billed yet: its estimate counts.
    w.book("ec2", at(11, 21, 1), "15", false).await;
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(11, 21, 2))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].actual, Some(dec("85")));
}

#[tokio::test]
async fn period_rollover_resolves_and_scope_counts_only_its_service() {
    let mut w = World::new();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        no_spike(),
    );
    let scope = BudgetScope {
        service: Some("rds".into()),
        ..BudgetScope::default()
    };
    w.budget("100", vec![actual(80), unreachable_forecast()], scope)
        .await;
    w.spend("ec2", at(11, 10, 0), "500").await;
    assert!(
        w.evaluator
            .evaluate_tenant("acme", at(11, 20, 0))
            .await
            .expect("eval")
            .is_empty(),
        "ec2 is out of scope"
    );
    w.spend("rds", at(11, 10, 0), "90").await;
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(11, 20, 0))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1);
    let dec1 = at(12, 1, 0) + Duration::minutes(1);
    let changed = w
        .evaluator
        .evaluate_tenant("acme", dec1)
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].state, AlertState::Resolved);
    assert_eq!(
        changed[0].history.last().and_then(|t| t.note.as_deref()),
        Some("period ended")
    );
}

#[tokio::test]
async fn forecast_breach_comes_before_the_actual_one_and_delete_resolves() {
    let mut w = World::new();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        no_spike(),
    );
    let forecast100 = Threshold {
        percent: Decimal::ONE_HUNDRED,
        basis: ThresholdBasis::Forecast,
    };
    let id = w
        .budget(
            "300",
            vec![actual(100), forecast100],
            BudgetScope::default(),
        )
        .await;
    let mut first = BTreeMap::new();
    for day in 1..=30u32 {
        w.spend("ec2", at(11, day, 12), "12").await;
        for a in w
            .evaluator
            .evaluate_tenant("acme", at(11, day, 23))
            .await
            .expect("eval")
        {
            if a.state == AlertState::Triggered {
                first.entry(format!("{:?}", a.kind)).or_insert(day);
            }
        }
    }
    let forecast_day = first["BudgetForecast"];
    let actual_day = first["BudgetThreshold"];
    assert!(forecast_day < actual_day, "{first:?}");
    assert_eq!(actual_day, 25);
    assert!(w.budgets.delete("acme", &id).await.expect("delete"));
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(11, 30, 23))
        .await
        .expect("eval");
    assert!(!changed.is_empty());
    assert!(changed.iter().all(|a| a.state == AlertState::Resolved
        && a.history.last().and_then(|t| t.note.as_deref()) == Some("budget deleted")));
}

#[tokio::test]
async fn a_month_well_above_the_last_one_alerts_once() {
    let mut w = World::new();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        EvaluatorOptions {
            spike: None,
            ..EvaluatorOptions::default()
        },
    );
    for d in 1..=10 {
        w.spend("ec2", at(10, d, 12), "20").await;
    }
    w.spend("ec2", at(10, 20, 12), "1000").await; // after day 10 of October: not compared
    for d in 1..=10 {
        w.spend("ec2", at(11, d, 12), "29").await;
    }
    assert!(
        w.evaluator
            .evaluate_tenant("acme", at(11, 10, 20))
            .await
            .expect("eval")
            .is_empty(),
        "+45 %"
    );
    w.spend("ec2", at(11, 10, 13), "20").await;
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(11, 10, 21))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].kind, AlertKind::PeriodChange);
    assert_eq!(
        (changed[0].actual, changed[0].threshold),
        (Some(dec("310")), Some(dec("200")))
    );
    assert!(
        w.evaluator
            .evaluate_tenant("acme", at(11, 10, 22))
            .await
            .expect("eval")
            .is_empty()
    );
}

#[tokio::test]
async fn an_hourly_spike_over_the_tenant_baseline_alerts() {
    let mut w = World::new();
    w.evaluator = Evaluator::new(
        w.budgets.clone(),
        w.costs.clone(),
        FxRates::default(),
        EvaluatorOptions {
            change: None,
            ..EvaluatorOptions::default()
        },
    );
    for h in 0..24 {
        w.spend("ec2", at(11, 10, 0) + Duration::hours(h), "5")
            .await;
    }
    let quiet = w
        .evaluator
        .evaluate_tenant("acme", at(11, 11, 0) + Duration::minutes(30))
        .await
        .expect("eval");
    assert!(quiet.is_empty(), "{quiet:?}");
    w.spend("ec2", at(11, 11, 0) + Duration::minutes(40), "20")
        .await;
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(11, 11, 0) + Duration::minutes(45))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].kind, AlertKind::CostSpike);
    assert_eq!(changed[0].actual, Some(dec("20")));
}
