//! Budget and alert queries, mutations and subscriptions, over the alerting service.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ErrorExtensions, ID, Object, Result, Subscription};
use chrono::Utc;
use costwatch_alerting::AlertingError;
use futures::{Stream, StreamExt, future};

use super::budget_types::{
    AlertGql, AlertState, BudgetGql, BudgetInput, BudgetPeriod, BudgetRecommendation,
    BudgetScopeInput, Delivery, currency_of, period_of, scope_of,
};
use crate::Alerting;
use crate::views::Money;

/// Bad input → `BAD_USER_INPUT` with `field`; missing → `NOT_FOUND`; lost race → `CONFLICT`;
/// store trouble → `UNAVAILABLE` (details logged, not shown); the rest → `INTERNAL`.
pub(crate) fn gql_error(e: AlertingError) -> async_graphql::Error {
    let message = match &e {
        AlertingError::Store(inner) => {
            tracing::error!(error = %inner, "alert store failed");
            "budgets and alerts are temporarily unavailable; retry shortly".to_string()
        }
        other => other.to_string(),
    };
    async_graphql::Error::new(message).extend_with(|_, ext| match &e {
        AlertingError::BadInput { field, .. } => {
            ext.set("code", "BAD_USER_INPUT");
            ext.set("field", field.as_str());
        }
        AlertingError::NotFound { .. } => ext.set("code", "NOT_FOUND"),
        AlertingError::Conflict { .. } => ext.set("code", "CONFLICT"),
        AlertingError::Store(_) => ext.set("code", "UNAVAILABLE"),
        AlertingError::Compute(_) => ext.set("code", "INTERNAL"),
    })
}

pub(crate) fn alerting<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Alerting>> {
    ctx.data_opt::<Arc<Alerting>>().ok_or_else(|| {
        async_graphql::Error::new("budgets and alerts are not enabled in this deployment")
            .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
    })
}

fn tenant_of(raw: &str) -> Result<String> {
    costwatch_alerting::parse_tenant(raw).map_err(gql_error)
}

#[derive(Default)]
pub struct BudgetQuery;

#[Object]
impl BudgetQuery {
    /// A tenant's budgets with live status, by name.
    async fn budgets(&self, ctx: &Context<'_>, tenant: String) -> Result<Vec<BudgetGql>> {
        let a = alerting(ctx)?;
        let views = a
            .budgets
            .list(&tenant, Utc::now())
            .await
            .map_err(gql_error)?;
        Ok(views.into_iter().map(BudgetGql::from).collect())
    }

    async fn budget(&self, ctx: &Context<'_>, tenant: String, id: ID) -> Result<Option<BudgetGql>> {
        let a = alerting(ctx)?;
        let view = a
            .budgets
            .get(&tenant, &id, Utc::now())
            .await
            .map_err(gql_error)?;
        Ok(view.map(BudgetGql::from))
    }

    /// A suggested amount for a budget of `period` over `scope`, from up to six past periods,
    /// with the reasoning. Errors (`NOT_FOUND`) when the scope has no history.
    async fn budget_recommendation(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        period: BudgetPeriod,
        currency: Option<String>,
        scope: Option<BudgetScopeInput>,
    ) -> Result<BudgetRecommendation> {
        let a = alerting(ctx)?;
        let result = async {
            let period = period_of(period, None, None, "").map_err(|_| {
                AlertingError::bad("period", "CUSTOM has no past periods to learn from")
            })?;
            let currency = currency_of(
                "currency",
                currency.as_deref().unwrap_or(a.default_currency.as_str()),
            )?;
            let scope = scope_of("scope", scope.as_ref())?;
            let r = a
                .budgets
                .recommend(&tenant, period, currency, &scope, Utc::now())
                .await?
                .ok_or_else(|| AlertingError::NotFound {
                    what: "spend history for",
                    id: "this scope".into(),
                })?;
            Ok(BudgetRecommendation {
                amount: Money::new(r.amount, currency),
                based_on_periods: r.based_on_periods as i32,
                reasoning: r.reasoning,
            })
        }
        .await;
        result.map_err(gql_error)
    }

    /// Alert notifications the notifier gave up on (after its retries), newest first.
    async fn notification_dead_letters(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        #[graphql(default = 100)] limit: i32,
    ) -> Result<Vec<Delivery>> {
        let a = alerting(ctx)?;
        let tenant = tenant_of(&tenant)?;
        if !(1..=1000).contains(&limit) {
            return Err(gql_error(AlertingError::bad(
                "limit",
                "must be between 1 and 1000",
            )));
        }
        let Some(view) = &a.deliveries else {
            return Ok(Vec::new());
        };
        let records = view
            .dead_letters(&tenant, limit as usize)
            .map_err(|e| gql_error(e.into()))?;
        Ok(records.into_iter().map(Delivery::from).collect())
    }

    /// A tenant's alerts, most recently changed first (`limit` 1..=1000, default 100).
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        state: Option<AlertState>,
        #[graphql(default = 100)] limit: i32,
    ) -> Result<Vec<AlertGql>> {
        let a = alerting(ctx)?;
        let tenant = tenant_of(&tenant)?;
        if !(1..=1000).contains(&limit) {
            return Err(gql_error(AlertingError::bad(
                "limit",
                "must be between 1 and 1000",
            )));
        }
        let alerts = a
            .budgets
            .alert_store()
            .alerts(&tenant, state.map(Into::into), limit as usize)
            .await
            .map_err(|e| gql_error(e.into()))?;
        Ok(alerts.into_iter().map(AlertGql::from).collect())
    }
}

#[ComplexObject]
impl AlertGql {
    /// Delivery of this alert's changes per notifier channel (empty without a notifier).
    async fn deliveries(&self, ctx: &Context<'_>) -> Result<Vec<Delivery>> {
        let a = alerting(ctx)?;
        let Some(view) = &a.deliveries else {
            return Ok(Vec::new());
        };
        let records = view.deliveries(&self.id).map_err(|e| gql_error(e.into()))?;
        Ok(records.into_iter().map(Delivery::from).collect())
    }
}

#[derive(Default)]
pub struct BudgetMutation;

#[Object]
impl BudgetMutation {
    async fn create_budget(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        input: BudgetInput,
    ) -> Result<BudgetGql> {
        let a = alerting(ctx)?;
        let spec = input.spec().map_err(gql_error)?;
        let view = a
            .budgets
            .create(&tenant, spec, Utc::now())
            .await
            .map_err(gql_error)?;
        a.evaluate_now(&view.budget.tenant).await;
        Ok(view.into())
    }

    async fn update_budget(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
        input: BudgetInput,
    ) -> Result<BudgetGql> {
        let a = alerting(ctx)?;
        let spec = input.spec().map_err(gql_error)?;
        let view = a
            .budgets
            .update(&tenant, &id, spec, Utc::now())
            .await
            .map_err(gql_error)?;
        a.evaluate_now(&view.budget.tenant).await;
        Ok(view.into())
    }

    /// `false` when there was no such budget. Its open alerts are resolved ("budget deleted").
    async fn delete_budget(&self, ctx: &Context<'_>, tenant: String, id: ID) -> Result<bool> {
        let a = alerting(ctx)?;
        let deleted = a.budgets.delete(&tenant, &id).await.map_err(gql_error)?;
        if deleted {
            a.evaluate_now(&tenant_of(&tenant)?).await;
        }
        Ok(deleted)
    }

    async fn acknowledge_alert(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
        by: Option<String>,
        note: Option<String>,
    ) -> Result<AlertGql> {
        let a = alerting(ctx)?;
        let tenant = tenant_of(&tenant)?;
        let alert = a
            .evaluator
            .acknowledge(&tenant, &id, by, note, Utc::now())
            .await
            .map_err(gql_error)?;
        a.publisher_wake.notify_one();
        Ok(alert.into())
    }

    async fn resolve_alert(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        id: ID,
        by: Option<String>,
        note: Option<String>,
    ) -> Result<AlertGql> {
        let a = alerting(ctx)?;
        let tenant = tenant_of(&tenant)?;
        let alert = a
            .evaluator
            .resolve(&tenant, &id, by, note, Utc::now())
            .await
            .map_err(gql_error)?;
        a.publisher_wake.notify_one();
        Ok(alert.into())
    }
}

#[derive(Default)]
pub struct AlertSubscription;

fn alert_stream(
    ctx: &Context<'_>,
    tenant: String,
    budget_only: bool,
) -> Result<impl Stream<Item = AlertGql> + Send + 'static + use<>> {
    let tenant = tenant_of(&tenant)?;
    let a = alerting(ctx)?;
    Ok(a.stream
        .subscribe()
        .filter(move |e| {
            future::ready(e.alert.tenant == tenant && (!budget_only || e.alert.kind.is_budget()))
        })
        .map(|e| AlertGql::from(e.alert)))
}

#[Subscription]
impl AlertSubscription {
    /// Every alert change (triggered, acknowledged, resolved) of the tenant, as it is stored.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        tenant: String,
    ) -> Result<impl Stream<Item = AlertGql> + use<>> {
        alert_stream(ctx, tenant, false)
    }

    /// Only budget alerts (thresholds, forecasts, depletion) of the tenant.
    async fn budget_alerts(
        &self,
        ctx: &Context<'_>,
        tenant: String,
    ) -> Result<impl Stream<Item = AlertGql> + use<>> {
        alert_stream(ctx, tenant, true)
    }
}
