//! Resource utilization rules as a service: CRUD for the APIs (validated like budgets) and the
//! per-resource usage over each rule's trailing window, which the evaluator turns into alerts.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_domain::Granularity;
use costwatch_domain::alerting::{
    ResourceMeasure, ResourceRule, ResourceRuleSpec, ResourceUsage, reconcile, resource_rule_source,
};
use costwatch_domain::query::{Sums, TimeRange, cover_at_most};
use costwatch_ports::{AlertStore, CostStore};
use rust_decimal::Decimal;

use crate::{AlertingError, Fx, parse_tenant};

/// How many rules one tenant may have: each is a rollup scan per evaluation.
pub const MAX_RULES_PER_TENANT: usize = 100;

pub struct ResourceRuleService {
    costs: Arc<dyn CostStore>,
    store: Arc<dyn AlertStore>,
    fx: Fx,
}

impl ResourceRuleService {
    pub fn new(
        costs: Arc<dyn CostStore>,
        store: Arc<dyn AlertStore>,
        fx: impl Into<Fx>,
    ) -> ResourceRuleService {
        ResourceRuleService {
            costs,
            store,
            fx: fx.into(),
        }
    }

    fn validate(&self, spec: ResourceRuleSpec) -> Result<ResourceRuleSpec, AlertingError> {
        let spec = spec
            .validate("input")
            .map_err(|e| AlertingError::bad(e.field, e.reason))?;
        if let Some(c) = spec.currency
            && !self.fx.supports(c)
        {
            return Err(AlertingError::bad(
                "input.currency",
                format!("no exchange rate for {c}"),
            ));
        }
        Ok(spec)
    }

    pub async fn list(&self, tenant: &str) -> Result<Vec<ResourceRule>, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        Ok(self.store.resource_rules(&tenant).await?)
    }

    pub async fn create(
        &self,
        tenant: &str,
        spec: ResourceRuleSpec,
        now: DateTime<Utc>,
    ) -> Result<ResourceRule, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let spec = self.validate(spec)?;
        if self.store.resource_rules(&tenant).await?.len() >= MAX_RULES_PER_TENANT {
            return Err(AlertingError::bad(
                "tenant",
                format!("at most {MAX_RULES_PER_TENANT} resource rules per tenant"),
            ));
        }
        let rule = ResourceRule {
            id: uuid::Uuid::new_v4().to_string(),
            tenant,
            spec,
            created_at: now,
            updated_at: now,
        };
        self.store.put_resource_rule(&rule).await?;
        Ok(rule)
    }

    pub async fn update(
        &self,
        tenant: &str,
        id: &str,
        spec: ResourceRuleSpec,
        now: DateTime<Utc>,
    ) -> Result<ResourceRule, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let spec = self.validate(spec)?;
        let Some(old) = self.store.resource_rule(&tenant, id).await? else {
            return Err(AlertingError::NotFound {
                what: "resource rule",
                id: id.to_string(),
            });
        };
        let rule = ResourceRule {
            spec,
            updated_at: now,
            ..old
        };
        self.store.put_resource_rule(&rule).await?;
        Ok(rule)
    }

    /// Deletes the rule and resolves its open alerts ("condition cleared"): nothing evaluates
    /// them any more, so they would stay open forever.
    pub async fn delete(
        &self,
        tenant: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let deleted = self.store.delete_resource_rule(&tenant, id).await?;
        let source = resource_rule_source(id);
        let existing = self.store.alerts_of_source(&tenant, &source).await?;
        let changes = reconcile(
            &tenant,
            &source,
            &existing,
            Vec::new(),
            None,
            now,
            Duration::zero(),
        );
        if !changes.is_empty() {
            self.store.apply_alert_changes(changes).await?;
        }
        Ok(deleted)
    }

    /// Rules of an already-canonical tenant id (the evaluator's path).
    pub(crate) async fn rules_of(&self, tenant: &str) -> Result<Vec<ResourceRule>, AlertingError> {
        Ok(self.store.resource_rules(tenant).await?)
    }

    /// Each matching resource's measure over `[minute(now) + 1 min - window, minute(now) + 1 min)`:
    /// the window ends with the minute in progress, so a burst counts at once. Read from the
    /// fewest, coarsest rollup cells that tile the window exactly (`query::cover`).
    pub async fn usage(
        &self,
        rule: &ResourceRule,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResourceUsage>, AlertingError> {
        let to = Granularity::Minute.bucket_start(now) + Duration::minutes(1);
        let from = to - Duration::minutes(i64::from(rule.spec.window_minutes));
        let range = TimeRange::new(from, to).map_err(|e| AlertingError::bad("window", e))?;
        let filter = rule.spec.scope.filter();
        let mut per_resource: BTreeMap<(String, String, String), Sums> = BTreeMap::new();
        let book = self.fx.book(range.from, range.to).await?;
        let coarsest = if book.is_dated() {
            Granularity::Day
        } else {
            Granularity::Month
        };
        for span in cover_at_most(range, coarsest) {
            let rows = self
                .costs
                .rollups(&rule.tenant, span.granularity, span.from, span.to)
                .await?;
            for row in rows.iter().filter(|r| filter.matches(&r.series)) {
                let s = &row.series;
                per_resource
                    .entry((s.provider.clone(), s.service.clone(), s.resource.clone()))
                    .or_default()
                    .add(row)
                    .map_err(|e| AlertingError::Compute(e.to_string()))?;
            }
        }
        let mut out = Vec::with_capacity(per_resource.len());
        for ((provider, service, resource), sums) in per_resource {
            let value = match (rule.spec.measure, rule.spec.currency) {
                (ResourceMeasure::Cost, Some(c)) => sums
                    .total(&book, c)
                    .map_err(|e| AlertingError::Compute(e.to_string()))?,
                _ => Decimal::from(sums.events),
            };
            out.push(ResourceUsage {
                provider,
                service,
                resource,
                value,
            });
        }
        Ok(out)
    }
}
