//! Resource utilization rules over real SQLite stores with a controlled clock: a resource crossing
//! raises exactly one alert, re-evaluation (and a restart) raises nothing new, falling back under
//! resolves it, other tenants are untouched, and invalid input names its field.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use costwatch_alerting::{AlertingError, BudgetService, Evaluator, EvaluatorOptions};
use costwatch_domain::alerting::{
    AlertKind, AlertState, ResourceMeasure, ResourceRuleSpec, ResourceScope, Severity,
    alert_event_type,
};
use costwatch_domain::budget::ForecastPolicy;
use costwatch_domain::fx::FxRates;
use costwatch_domain::{
    Category, Currency, Granularity, RollupKey, RollupValue, SeriesKey, SubKind,
};
use costwatch_embedded::{SqliteAlertStore, SqliteStore};
use costwatch_ports::{AlertStore, Commit, CostStore};
use rust_decimal::Decimal;

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
        .single()
        .expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

struct World {
    costs: Arc<dyn CostStore>,
    alerts: Arc<dyn AlertStore>,
    evaluator: Evaluator,
    positions: u64,
    dir: std::path::PathBuf,
}

fn open(dir: &std::path::Path) -> (Arc<dyn CostStore>, Arc<dyn AlertStore>, Evaluator) {
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
    // Only the resource rules: the tenant-wide rules would add their own alerts.
    let options = EvaluatorOptions {
        spike: None,
        change: None,
        ..EvaluatorOptions::default()
    };
    let evaluator = Evaluator::new(budgets, costs.clone(), FxRates::default(), options);
    (costs, alerts, evaluator)
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let (costs, alerts, evaluator) = open(&dir);
        World {
            costs,
            alerts,
            evaluator,
            positions: 0,
            dir,
        }
    }

    fn restart(self) -> World {
        let (positions, dir) = (self.positions, self.dir.clone());
        drop(self);
        let (costs, alerts, evaluator) = open(&dir);
        World {
            costs,
            alerts,
            evaluator,
            positions,
            dir,
        }
    }

    /// Books `amount` USD over `events` events of `tenant`'s `resource` at `t`, in every granularity.
    async fn spend(
        &mut self,
        tenant: &str,
        resource: &str,
        t: DateTime<Utc>,
        amount: &str,
        events: u64,
    ) {
        let series = SeriesKey {
            tenant: tenant.into(),
            category: Category::Hosting,
            sub_kind: SubKind::Compute,
            provider: "aws".into(),
            service: "ec2".into(),
            resource: resource.into(),
            labels: "{}".into(),
            currency: Currency::USD,
        };
        let value = RollupValue {
            amount: dec(amount),
            billed: dec(amount),
            events,
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
            counted: vec![(tenant.into(), format!("e{}", self.positions))],
            deltas,
            ..Commit::default()
        };
        self.costs.commit(commit).await.expect("commit");
        self.positions += 1;
    }

    async fn open_alerts(&self, tenant: &str) -> Vec<costwatch_domain::alerting::Alert> {
        self.alerts
            .alerts(tenant, None, 100)
            .await
            .expect("alerts")
            .into_iter()
            .filter(|a| a.state != AlertState::Resolved)
            .collect()
    }
}

fn cost_rule(above: &str, window_minutes: u32) -> ResourceRuleSpec {
    ResourceRuleSpec {
        name: "Hot instance".into(),
        scope: ResourceScope {
            service: Some("ec2".into()),
            ..ResourceScope::default()
        },
        measure: ResourceMeasure::Cost,
        window_minutes,
        above: dec(above),
        currency: Some(Currency::USD),
        severity: Severity::Critical,
        enabled: true,
    }
}

#[tokio::test]
async fn crossing_raises_one_alert_repeat_and_restart_raise_nothing_falling_back_resolves() {
    let mut w = World::new();
    let rules = w.evaluator.resource_rules().clone();
    let rule = rules
        .create("acme", cost_rule("10", 60), at(20, 9, 0))
        .await
        .expect("create");
    // 6 + 4.000000000001 = 10.000000000001 within the hour: just above 10 (exactly 10 would not be).
    w.spend("acme", "i-hot", at(20, 9, 10), "6", 3).await;
    w.spend("acme", "i-hot", at(20, 9, 40), "4.000000000001", 1)
        .await;
    w.spend("acme", "i-cool", at(20, 9, 40), "10", 1).await;
    w.spend("globex", "i-hot", at(20, 9, 40), "500", 1).await;
    let now = at(20, 9, 45);
    let changed = w
        .evaluator
        .evaluate_tenant("acme", now)
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1, "only i-hot is above: {changed:?}");
    let alert = &changed[0];
    assert_eq!(alert.kind, AlertKind::ResourceUtilization);
    assert_eq!(alert_event_type(alert.kind), "resource_alert");
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(alert.actual, Some(dec("10.000000000001")));
    assert_eq!(
        alert.dedupe_key,
        format!("resource:{}:aws/ec2/i-hot:60m", rule.id)
    );
    assert!(
        w.evaluator
            .evaluate_tenant("acme", now + Duration::minutes(1))
            .await
            .expect("eval")
            .is_empty(),
        "re-evaluation raises nothing new"
    );
    let w = w.restart();
    assert!(
        w.evaluator
            .evaluate_tenant("acme", now + Duration::minutes(2))
            .await
            .expect("eval")
            .is_empty(),
        "a restart raises nothing new"
    );
    assert!(
        w.open_alerts("globex").await.is_empty(),
        "other tenant untouched"
    );
    // At 10:15 the 09:10 spend left the 60-minute window: 4.000000000001 is under 10.
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(20, 10, 15))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].state, AlertState::Resolved);
    assert!(changed[0].auto_resolved);
    assert!(w.open_alerts("acme").await.is_empty());
}

#[tokio::test]
async fn event_count_rules_disabling_and_deleting_resolve() {
    let mut w = World::new();
    let rules = w.evaluator.resource_rules().clone();
    let spec = ResourceRuleSpec {
        measure: ResourceMeasure::Events,
        currency: None,
        above: dec("100"),
        ..cost_rule("0", 15)
    };
    let rule = rules
        .create("acme", spec.clone(), at(20, 9, 0))
        .await
        .expect("create");
    w.spend("acme", "fn-1", at(20, 9, 5), "0.01", 101).await;
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(20, 9, 10))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].actual, Some(dec("101")));
    // Disabling resolves.
    let off = ResourceRuleSpec {
        enabled: false,
        ..spec.clone()
    };
    rules
        .update("acme", &rule.id, off, at(20, 9, 11))
        .await
        .expect("update");
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(20, 9, 12))
        .await
        .expect("eval");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].state, AlertState::Resolved);
    // Re-enabled after the cooldown it reopens; deleting the rule resolves it for good.
    rules
        .update("acme", &rule.id, spec, at(20, 9, 13))
        .await
        .expect("update");
    let changed = w
        .evaluator
        .evaluate_tenant("acme", at(20, 9, 14))
        .await
        .expect("eval");
    assert!(
        changed.is_empty(),
        "within the cooldown an auto-resolved alert stays resolved"
    );
    assert!(
        rules
            .delete("acme", &rule.id, at(20, 9, 15))
            .await
            .expect("delete")
    );
    assert!(w.open_alerts("acme").await.is_empty());
    assert!(rules.list("acme").await.expect("list").is_empty());
    assert!(
        !rules
            .delete("acme", &rule.id, at(20, 9, 16))
            .await
            .expect("delete"),
        "second delete finds nothing"
    );
}

#[tokio::test]
async fn invalid_input_names_the_field_and_tenants_are_separate() {
    let w = World::new();
    let rules = w.evaluator.resource_rules().clone();
    let err = rules
        .create("acme", cost_rule("10", 4), at(20, 9, 0))
        .await
        .expect_err("window too short");
    assert_eq!(
        err.to_string(),
        "invalid input.window_minutes: must be between 5 and 10080"
    );
    let err = rules
        .create("acme", cost_rule("-1", 60), at(20, 9, 0))
        .await
        .expect_err("negative");
    assert!(matches!(err, AlertingError::BadInput { ref field, .. } if field == "input.above"));
    let err = rules
        .create("", cost_rule("1", 60), at(20, 9, 0))
        .await
        .expect_err("tenant");
    assert!(matches!(err, AlertingError::BadInput { ref field, .. } if field == "tenant"));
    let rule = rules
        .create("acme", cost_rule("1", 60), at(20, 9, 0))
        .await
        .expect("create");
    let err = rules
        .update("globex", &rule.id, cost_rule("2", 60), at(20, 9, 1))
        .await
        .expect_err("other tenant's rule");
    assert!(matches!(err, AlertingError::NotFound { .. }));
    assert!(rules.list("globex").await.expect("list").is_empty());
    assert_eq!(rules.list("acme").await.expect("list").len(), 1);
}
