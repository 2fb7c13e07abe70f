//! Resource utilization rules: CRUD over the alerting service's rule store, and the
//! `resourceAlerts` subscription (the stream's `resource_alert` events, as `budgetAlerts` serves
//! the `budget_alert` ones).

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use costwatch_alerting::AlertingError;
use costwatch_domain::alerting::{
    self as domain, AlertKind, ResourceRule, ResourceRuleSpec, ResourceScope, alert_event_type,
};
use costwatch_domain::money::format_amount;
use futures::{Stream, StreamExt, future};
use rust_decimal::Decimal;

use super::budget_root::{alerting, gql_error};
use super::budget_types::{AlertGql, AlertSeverity, Label, currency_of};
use super::inputs::LabelInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ResourceMeasure {
    /// Cost in the window, in the rule's currency.
    Cost,
    /// Usage events in the window (requests, invocations, metered samples).
    Events,
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct ResourceScopeInput {
    pub provider: Option<String>,
    pub service: Option<String>,
    pub resource: Option<String>,
    pub labels: Option<Vec<LabelInput>>,
}

#[derive(Debug, Clone, InputObject)]
pub struct ResourceRuleInput {
    pub name: String,
    pub scope: Option<ResourceScopeInput>,
    pub measure: ResourceMeasure,
    /// Trailing window, 5 to 10080 minutes.
    pub window_minutes: i32,
    /// Raise when the measure is strictly above this (decimal string).
    pub above: String,
    /// Required for COST, absent for EVENTS.
    pub currency: Option<String>,
    pub severity: AlertSeverity,
    #[graphql(default = true)]
    pub enabled: bool,
}

impl ResourceRuleInput {
    /// The domain spec (parsed; the service validates).
    fn spec(&self) -> Result<ResourceRuleSpec, AlertingError> {
        let mut labels = BTreeMap::new();
        let scope = self.scope.clone().unwrap_or_default();
        for l in scope.labels.iter().flatten() {
            if labels.insert(l.key.clone(), l.value.clone()).is_some() {
                return Err(AlertingError::bad(
                    "input.scope.labels",
                    format!("label {:?} is given twice", l.key),
                ));
            }
        }
        let text = |v: Option<String>| v.filter(|t| !t.is_empty());
        Ok(ResourceRuleSpec {
            name: self.name.clone(),
            scope: ResourceScope {
                provider: text(scope.provider),
                service: text(scope.service),
                resource: text(scope.resource),
                labels,
            },
            measure: match self.measure {
                ResourceMeasure::Cost => domain::ResourceMeasure::Cost,
                ResourceMeasure::Events => domain::ResourceMeasure::Events,
            },
            window_minutes: u32::try_from(self.window_minutes).map_err(|_| {
                AlertingError::bad("input.window_minutes", "must be between 5 and 10080")
            })?,
            above: self
                .above
                .trim()
                .parse::<Decimal>()
                .map_err(|e| AlertingError::bad("input.above", format!("not a decimal: {e}")))?,
            currency: self
                .currency
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| currency_of("input.currency", c))
                .transpose()?,
            severity: match self.severity {
                AlertSeverity::Info => domain::Severity::Info,
                AlertSeverity::Warning => domain::Severity::Warning,
                AlertSeverity::Critical => domain::Severity::Critical,
            },
            enabled: self.enabled,
        })
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ResourceScopeView {
    pub provider: Option<String>,
    pub service: Option<String>,
    pub resource: Option<String>,
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ResourceRule")]
pub struct ResourceRuleGql {
    pub id: ID,
    pub tenant: String,
    pub name: String,
    pub scope: ResourceScopeView,
    pub measure: ResourceMeasure,
    pub window_minutes: i32,
    /// Decimal string.
    pub above: String,
    pub currency: Option<String>,
    pub severity: AlertSeverity,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ResourceRule> for ResourceRuleGql {
    fn from(r: ResourceRule) -> Self {
        let s = r.spec;
        ResourceRuleGql {
            id: ID(r.id),
            tenant: r.tenant,
            name: s.name,
            scope: ResourceScopeView {
                provider: s.scope.provider,
                service: s.scope.service,
                resource: s.scope.resource,
                labels: s
                    .scope
                    .labels
                    .into_iter()
                    .map(|(key, value)| Label { key, value })
                    .collect(),
            },
            measure: match s.measure {
                domain::ResourceMeasure::Cost => ResourceMeasure::Cost,
                domain::ResourceMeasure::Events => ResourceMeasure::Events,
            },
            // Validated to at most 10080, so it fits.
            window_minutes: i32::try_from(s.window_minutes).unwrap_or(i32::MAX),
            above: format_amount(s.above),
            currency: s.currency.map(|c| c.to_string()),
            severity: match s.severity {
                domain::Severity::Info => AlertSeverity::Info,
                domain::Severity::Warning => AlertSeverity::Warning,
                domain::Severity::Critical => AlertSeverity::Critical,
            },
            enabled: s.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Default)]
pub struct RulesQuery;

#[Object]
impl RulesQuery {
    /// A tenant's resource utilization rules, by name.
    async fn resource_rules(
        &self,
        ctx: &Context<'_>,
        tenant: String,
    ) -> Result<Vec<ResourceRuleGql>> {
        let a = alerting(ctx)?;
        let rules = a
            .evaluator
            .resource_rules()
            .list(&tenant)
            .await
            .map_err(gql_error)?;
        Ok(rules.into_iter().map(ResourceRuleGql::from).collect())
    }
}

#[derive(Default)]
pub struct RulesMutation;

#[Object]
impl RulesMutation {
    /// Creates a rule; the tenant is evaluated at once, so a resource already above alerts now.
    async fn create_resource_rule(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        input: ResourceRuleInput,
    ) -> Result<ResourceRuleGql> {
        let a = alerting(ctx)?;
        let spec = input.spec().map_err(gql_error)?;
        let rule = a
            .evaluator
            .resource_rules()
            .create(&tenant, spec, Utc::now())
            .await
            .map_err(gql_error)?;
        a.evaluate_now(&rule.tenant).await;
        Ok(rule.into())
    }

    async fn update_resource_rule(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
        input: ResourceRuleInput,
    ) -> Result<ResourceRuleGql> {
        let a = alerting(ctx)?;
        let spec = input.spec().map_err(gql_error)?;
        let rule = a
            .evaluator
            .resource_rules()
            .update(&tenant, &id, spec, Utc::now())
            .await
            .map_err(gql_error)?;
        a.evaluate_now(&rule.tenant).await;
        Ok(rule.into())
    }

    /// Deletes a rule and resolves its open alerts; `false` when it did not exist.
    async fn delete_resource_rule(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
    ) -> Result<bool> {
        let a = alerting(ctx)?;
        let deleted = a
            .evaluator
            .resource_rules()
            .delete(&tenant, &id, Utc::now())
            .await
            .map_err(gql_error)?;
        a.publisher_wake.notify_one();
        Ok(deleted)
    }
}

#[derive(Default)]
pub struct ResourceAlertSubscription;

#[Subscription]
impl ResourceAlertSubscription {
    /// Only resource utilization alerts (event type `resource_alert`) of the tenant.
    async fn resource_alerts(
        &self,
        ctx: &Context<'_>,
        tenant: String,
    ) -> Result<impl Stream<Item = AlertGql> + use<>> {
        let tenant = costwatch_alerting::parse_tenant(&tenant).map_err(gql_error)?;
        let a = alerting(ctx)?;
        Ok(a.stream
            .subscribe()
            .filter(move |e| {
                future::ready(
                    e.alert.tenant == tenant
                        && alert_event_type(e.alert.kind)
                            == alert_event_type(AlertKind::ResourceUtilization),
                )
            })
            .map(|e| AlertGql::from(e.alert)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use costwatch_alerting::{BudgetService, Evaluator, EvaluatorOptions};
    use costwatch_domain::Currency;
    use costwatch_domain::budget::ForecastPolicy;
    use costwatch_domain::fx::FxRates;
    use costwatch_embedded::{BroadcastAlerts, BroadcastUpdates, SqliteAlertStore, SqliteStore};
    use costwatch_ports::{AlertStore, CostStore};
    use serde_json::{Value, json};

    use super::*;
    use crate::Alerting;
    use crate::graphql::{CostSchema, schema};
    use crate::queries::CostQueries;

    fn world() -> CostSchema {
        world_with_stream().0
    }

    fn world_with_stream() -> (CostSchema, Arc<BroadcastAlerts>) {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let costs: Arc<dyn CostStore> =
            Arc::new(SqliteStore::open(&dir.join("store.sqlite")).expect("store"));
        let store: Arc<dyn AlertStore> =
            Arc::new(SqliteAlertStore::open(&dir.join("alerts.sqlite")).expect("alerts"));
        let fx = FxRates::default();
        let budgets = Arc::new(BudgetService::new(
            costs.clone(),
            store,
            fx.clone(),
            ForecastPolicy::default(),
        ));
        let evaluator = Arc::new(Evaluator::new(
            budgets.clone(),
            costs.clone(),
            fx.clone(),
            EvaluatorOptions::default(),
        ));
        let stream = Arc::new(BroadcastAlerts::default());
        let alerting = Arc::new(Alerting {
            budgets,
            evaluator,
            stream: stream.clone(),
            publisher_wake: Arc::default(),
            default_currency: Currency::USD,
            deliveries: None,
        });
        let schema = schema(
            Arc::new(CostQueries::new(costs, fx, Currency::USD)),
            Arc::new(BroadcastUpdates::default()),
            Some(alerting),
        );
        (schema, stream)
    }

    fn as_admin(req: async_graphql::Request) -> async_graphql::Request {
        req.data(costwatch_domain::access::Principal::local_admin())
    }

    async fn run(s: &CostSchema, query: &str, vars: Value) -> Value {
        let req =
            async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(vars));
        serde_json::to_value(s.execute(as_admin(req)).await).expect("json")
    }

    const CREATE: &str = "mutation($t: String!, $i: ResourceRuleInput!) {
        createResourceRule(tenant: $t, input: $i) { id name windowMinutes above currency measure severity enabled scope { service } } }";

    fn input(window: i32) -> Value {
        json!({"name": "Hot", "scope": {"service": "ec2"}, "measure": "COST", "windowMinutes": window,
               "above": "10.50", "currency": "USD", "severity": "CRITICAL"})
    }

    #[tokio::test]
    async fn resource_rules_crud_and_field_errors() {
        let s = world();
        let r = run(&s, CREATE, json!({"t": "acme", "i": input(60)})).await;
        let rule = &r["data"]["createResourceRule"];
        assert_eq!(rule["above"], "10.5");
        assert_eq!(rule["windowMinutes"], 60);
        assert_eq!(rule["enabled"], true, "enabled by default");
        let id = rule["id"].as_str().expect("id").to_string();

        let r = run(&s, CREATE, json!({"t": "acme", "i": input(4)})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(
            r["errors"][0]["extensions"]["field"],
            "input.window_minutes"
        );

        let update = "mutation($t: String!, $id: ID!, $i: ResourceRuleInput!) {
            updateResourceRule(tenant: $t, id: $id, input: $i) { windowMinutes } }";
        let r = run(&s, update, json!({"t": "acme", "id": id, "i": input(120)})).await;
        assert_eq!(r["data"]["updateResourceRule"]["windowMinutes"], 120);
        let r = run(
            &s,
            update,
            json!({"t": "globex", "id": id, "i": input(120)}),
        )
        .await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "tenant-scoped"
        );

        let list = "query($t: String!) { resourceRules(tenant: $t) { id windowMinutes } }";
        let r = run(&s, list, json!({"t": "acme"})).await;
        assert_eq!(r["data"]["resourceRules"].as_array().map(Vec::len), Some(1));
        let r = run(&s, list, json!({"t": "globex"})).await;
        assert_eq!(r["data"]["resourceRules"], json!([]));

        let delete = "mutation($t: String!, $id: ID!) { deleteResourceRule(tenant: $t, id: $id) }";
        let r = run(&s, delete, json!({"t": "acme", "id": id})).await;
        assert_eq!(r["data"]["deleteResourceRule"], true);
        let r = run(&s, delete, json!({"t": "acme", "id": id})).await;
        assert_eq!(r["data"]["deleteResourceRule"], false);
    }

    #[tokio::test]
    async fn cost_digest_previews_a_window() {
        let s = world();
        let q = "query($t: String!) { costDigest(tenant: $t, kind: WEEKLY, at: \"2026-11-18T12:00:00Z\") {
            id windowStart windowEnd previousStart totals { change } openCritical } }";
        let r = run(&s, q, json!({"t": "acme"})).await;
        let d = &r["data"]["costDigest"];
        assert_eq!(d["id"], "digest:acme:weekly:2026-11-16", "{r}");
        assert_eq!(d["windowStart"], "2026-11-16T00:00:00+00:00");
        assert_eq!(d["windowEnd"], "2026-11-23T00:00:00+00:00");
        assert_eq!(d["previousStart"], "2026-11-09T00:00:00+00:00");
        assert_eq!(d["totals"], json!([]));
        let r = run(&s, q, json!({"t": ""})).await;
        assert_eq!(r["errors"][0]["extensions"]["field"], "tenant");
    }

    #[tokio::test]
    async fn resource_alerts_stream_only_resource_alerts_of_the_tenant() {
        use costwatch_domain::alerting::{AlertEvent, Condition, Severity, reconcile};
        use costwatch_ports::AlertStream;
        use futures::StreamExt;

        let (s, stream) = world_with_stream();
        let mut sub = s.execute_stream(as_admin(async_graphql::Request::new(
            "subscription { resourceAlerts(tenant: \"acme\") { kind dedupeKey } }",
        )));
        let event = |tenant: &str, key: &str, kind: AlertKind| {
            let c = Condition {
                dedupe_key: key.into(),
                group: key.into(),
                epoch: String::new(),
                kind,
                severity: Severity::Warning,
                title: "t".into(),
                message: "m".into(),
                budget_id: None,
                actual: None,
                threshold: None,
                currency: None,
                owner: None,
            };
            let now = Utc::now();
            let alert = reconcile(
                tenant,
                "s",
                &[],
                vec![c],
                None,
                now,
                chrono::Duration::hours(1),
            );
            AlertEvent::of(alert.into_iter().next().expect("one alert"))
        };
        // The subscription attaches to the broadcast when first polled: publish until it has
        // seen something, so the test does not race the attach.
        let first = tokio::spawn(async move { sub.next().await });
        let events = [
            event("acme", "budget", AlertKind::BudgetThreshold),
            event("globex", "other-tenant", AlertKind::ResourceUtilization),
            event("acme", "resource", AlertKind::ResourceUtilization),
        ];
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while !first.is_finished() && tokio::time::Instant::now() < deadline {
            for e in &events {
                stream.publish(e.clone()).await.expect("publish");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let got = tokio::time::timeout(std::time::Duration::from_secs(1), first)
            .await
            .expect("a resource alert within 5 s")
            .expect("task")
            .expect("an event");
        let got = serde_json::to_value(got).expect("json");
        assert_eq!(
            got["data"]["resourceAlerts"],
            json!({"kind": "RESOURCE_UTILIZATION", "dedupeKey": "resource"})
        );
    }
}
