//! Turns a tenant's costs and budgets into alert changes, stored with their outbox events.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_domain::alerting::{
    Alert, AlertState, ChangeRule, Condition, SpikeRule, acknowledge, budget_conditions,
    change_condition, reconcile, resolve, resource_conditions, resource_rule_source,
    spike_condition,
};
use costwatch_domain::budget::{BudgetScope, Period};
use costwatch_domain::query::Sums;
use costwatch_domain::{Currency, Granularity};
use costwatch_ports::{AlertStore, CostStore};
use rust_decimal::Decimal;

use crate::{AlertingError, BudgetService, DigestService, Fx, ResourceRuleService};

#[derive(Debug, Clone)]
pub struct EvaluatorOptions {
    /// An auto-resolved alert reopens only after this long (flapping guard).
    pub cooldown: Duration,
    /// The tenant-wide hourly spike rule (`None` turns it off).
    pub spike: Option<SpikeRule>,
    /// The tenant-wide month-to-date vs last month rule (`None` turns it off).
    pub change: Option<ChangeRule>,
    /// Currency the tenant-wide rules compare in.
    pub currency: Currency,
}

impl Default for EvaluatorOptions {
    fn default() -> Self {
        EvaluatorOptions {
            cooldown: Duration::hours(1),
            spike: Some(SpikeRule {
                scope: "tenant".into(),
                factor: Decimal::from(3),
                min_amount: Decimal::from(10),
                baseline: 24,
            }),
            change: Some(ChangeRule {
                scope: "tenant".into(),
                percent: Decimal::from(50),
                min_absolute: Decimal::from(100),
            }),
            currency: Currency::USD,
        }
    }
}

pub struct Evaluator {
    budgets: Arc<BudgetService>,
    costs: Arc<dyn CostStore>,
    fx: Fx,
    options: EvaluatorOptions,
    resources: Arc<ResourceRuleService>,
    digests: Arc<DigestService>,
}

fn source_of_budget(id: &str) -> String {
    format!("budget:{id}")
}

const SPIKE_SOURCE: &str = "spike:tenant";
const CHANGE_SOURCE: &str = "change:tenant";

impl Evaluator {
    pub fn new(
        budgets: Arc<BudgetService>,
        costs: Arc<dyn CostStore>,
        fx: impl Into<Fx>,
        options: EvaluatorOptions,
    ) -> Evaluator {
        let fx: Fx = fx.into();
        let resources = Arc::new(ResourceRuleService::new(
            costs.clone(),
            budgets.alert_store().clone(),
            fx.clone(),
        ));
        // Digests report in the currency the tenant-wide rules use.
        let digests = Arc::new(DigestService::new(
            budgets.clone(),
            costs.clone(),
            fx.clone(),
            options.currency,
        ));
        Evaluator {
            budgets,
            costs,
            fx,
            options,
            resources,
            digests,
        }
    }

    /// Builds digests over the same stores (the scheduler and the preview API use it).
    pub fn digests(&self) -> &Arc<DigestService> {
        &self.digests
    }

    /// The resource rules this evaluator checks (the APIs manage them through it).
    pub fn resource_rules(&self) -> &Arc<ResourceRuleService> {
        &self.resources
    }

    fn store(&self) -> &Arc<dyn AlertStore> {
        self.budgets.alert_store()
    }

    async fn apply(
        &self,
        tenant: &str,
        source: &str,
        active: Vec<Condition>,
        epoch: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>, AlertingError> {
        let existing = self.store().alerts_of_source(tenant, source).await?;
        let changes = reconcile(
            tenant,
            source,
            &existing,
            active,
            epoch,
            now,
            self.options.cooldown,
        );
        if changes.is_empty() {
            return Ok(changes);
        }
        Ok(self.store().apply_alert_changes(changes).await?)
    }

    /// Evaluates every budget of `tenant` and the spike rule; returns the alerts that changed.
    /// Idempotent: evaluating an unchanged situation again changes nothing.
    pub async fn evaluate_tenant(
        &self,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>, AlertingError> {
        let mut changed = Vec::new();
        let views = self.budgets.list(tenant, now).await?;
        let live: HashSet<String> = views.iter().map(|v| v.budget.id.clone()).collect();
        for view in views {
            let active = budget_conditions(&view.budget, &view.status);
            let epoch = view.status.window.start.format("%Y-%m-%d").to_string();
            let source = source_of_budget(&view.budget.id);
            changed.extend(
                self.apply(tenant, &source, active, Some(&epoch), now)
                    .await?,
            );
        }
        changed.extend(self.resolve_orphans(tenant, &live, now).await?);
        if let Some(rule) = &self.options.spike {
            let active = self.spike(tenant, rule, now).await?.into_iter().collect();
            changed.extend(self.apply(tenant, SPIKE_SOURCE, active, None, now).await?);
        }
        if let Some(rule) = &self.options.change {
            let (active, epoch) = self.change(tenant, rule, now).await?;
            let active = active.into_iter().collect();
            changed.extend(
                self.apply(tenant, CHANGE_SOURCE, active, Some(&epoch), now)
                    .await?,
            );
        }
        for rule in self.resources.rules_of(tenant).await? {
            // A disabled rule yields no conditions, so its open alerts resolve; no scan needed.
            let usage = if rule.spec.enabled {
                self.resources.usage(&rule, now).await?
            } else {
                Vec::new()
            };
            let active = resource_conditions(&rule, &usage);
            let source = resource_rule_source(&rule.id);
            changed.extend(self.apply(tenant, &source, active, None, now).await?);
        }
        Ok(changed)
    }

    /// Open alerts of budgets that were deleted are resolved ("budget deleted"). `live` holds
    /// the ids of the tenant's budgets as just listed, so no budget is looked up per alert.
    async fn resolve_orphans(
        &self,
        tenant: &str,
        live: &HashSet<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>, AlertingError> {
        let mut changes = Vec::new();
        for state in [AlertState::Triggered, AlertState::Acknowledged] {
            let open = self.store().alerts(tenant, Some(state), 1000).await?;
            for alert in open.iter().filter(|a| a.kind.is_budget()) {
                let orphan = alert
                    .budget_id
                    .as_deref()
                    .is_some_and(|id| !live.contains(id));
                if orphan
                    && let Ok(mut a) = resolve(alert, None, Some("budget deleted".into()), now)
                {
                    a.auto_resolved = true;
                    changes.push(a);
                }
            }
        }
        if changes.is_empty() {
            return Ok(changes);
        }
        Ok(self.store().apply_alert_changes(changes).await?)
    }

    /// The spike condition of the tenant's total over the last `baseline + 1` hours (the last
    /// one in progress).
    async fn spike(
        &self,
        tenant: &str,
        rule: &SpikeRule,
        now: DateTime<Utc>,
    ) -> Result<Option<Condition>, AlertingError> {
        let current = Granularity::Hour.bucket_start(now);
        let from = current - Duration::hours(rule.baseline as i64);
        let rows = self
            .costs
            .rollups(
                tenant,
                Granularity::Hour,
                from,
                current + Duration::hours(1),
            )
            .await?;
        let book = self.fx.book(from, current + Duration::hours(1)).await?;
        let mut windows = Vec::with_capacity(rule.baseline + 1);
        for h in 0..=rule.baseline as i64 {
            let start = from + Duration::hours(h);
            let sums = Sums::of(rows.iter().filter(|r| r.bucket == start))
                .map_err(|e| AlertingError::Compute(e.to_string()))?;
            let total = sums
                .total(&book, self.options.currency)
                .map_err(|e| AlertingError::Compute(e.to_string()))?;
            windows.push((start, total));
        }
        Ok(spike_condition(rule, &windows, self.options.currency))
    }

    /// Month to date (whole days up to and including today) against the same days of last
    /// month. Today is partial, so a rise shows a little late rather than falsely early.
    async fn change(
        &self,
        tenant: &str,
        rule: &ChangeRule,
        now: DateTime<Utc>,
    ) -> Result<(Option<Condition>, String), AlertingError> {
        let current = Period::Monthly.window(now);
        let previous = Period::Monthly.previous_window(now);
        let days = (now - current.start).num_days() as usize + 1;
        let scope = BudgetScope::default();
        let c = self.options.currency;
        let sum = |d: Vec<Decimal>| d.into_iter().take(days).sum::<Decimal>();
        let cur =
            sum(
                crate::daily_spend(self.costs.as_ref(), &self.fx, tenant, &scope, current, c)
                    .await?,
            );
        let prev =
            sum(
                crate::daily_spend(self.costs.as_ref(), &self.fx, tenant, &scope, previous, c)
                    .await?,
            );
        let epoch = current.start.format("%Y-%m-%d").to_string();
        Ok((change_condition(rule, cur, prev, &epoch, c), epoch))
    }

    /// A person acknowledges an alert of `tenant`.
    pub async fn acknowledge(
        &self,
        tenant: &str,
        id: &str,
        by: Option<String>,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Alert, AlertingError> {
        let alert = self.load(tenant, id).await?;
        let next = acknowledge(&alert, by, note, now)
            .map_err(|e| AlertingError::bad("id", e.to_string()))?;
        self.store_one(next).await
    }

    /// A person resolves an alert of `tenant`.
    pub async fn resolve(
        &self,
        tenant: &str,
        id: &str,
        by: Option<String>,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Alert, AlertingError> {
        let alert = self.load(tenant, id).await?;
        let next =
            resolve(&alert, by, note, now).map_err(|e| AlertingError::bad("id", e.to_string()))?;
        self.store_one(next).await
    }

    async fn load(&self, tenant: &str, id: &str) -> Result<Alert, AlertingError> {
        self.store()
            .alert(tenant, id)
            .await?
            .ok_or_else(|| AlertingError::NotFound {
                what: "alert",
                id: id.to_string(),
            })
    }

    async fn store_one(&self, alert: Alert) -> Result<Alert, AlertingError> {
        let id = alert.id.clone();
        self.store()
            .apply_alert_changes(vec![alert])
            .await?
            .pop()
            .ok_or(AlertingError::Conflict { what: "alert", id })
    }
}
