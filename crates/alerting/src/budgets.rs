//! The budget service every API (GraphQL, REST, gRPC) calls, so all of them validate and
//! compute identically.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use costwatch_domain::budget::{
    Budget, BudgetScope, BudgetSpec, BudgetStatus, ForecastPolicy, Period, Recommendation,
    recommend, status,
};
use costwatch_domain::{Currency, TenantId};
use costwatch_ports::{AlertStore, CostStore};
use rust_decimal::Decimal;

use crate::{AlertingError, Fx, daily_spend};

/// A budget with its live status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetView {
    pub budget: Budget,
    pub status: BudgetStatus,
}

pub struct BudgetService {
    costs: Arc<dyn CostStore>,
    store: Arc<dyn AlertStore>,
    fx: Fx,
    policy: ForecastPolicy,
}

/// How many complete past periods a recommendation looks at.
const RECOMMENDATION_PERIODS: usize = 6;

/// The tenant id in its canonical form, or a `tenant` field error (every API parses it this way).
pub fn parse_tenant(raw: &str) -> Result<String, AlertingError> {
    TenantId::parse(raw)
        .map(|t| t.as_str().to_string())
        .map_err(|reason| AlertingError::bad("tenant", reason))
}

impl BudgetService {
    pub fn new(
        costs: Arc<dyn CostStore>,
        store: Arc<dyn AlertStore>,
        fx: impl Into<Fx>,
        policy: ForecastPolicy,
    ) -> BudgetService {
        BudgetService {
            costs,
            store,
            fx: fx.into(),
            policy,
        }
    }

    pub fn alert_store(&self) -> &Arc<dyn AlertStore> {
        &self.store
    }

    pub(crate) fn costs(&self) -> &dyn CostStore {
        self.costs.as_ref()
    }

    pub(crate) fn fx(&self) -> &Fx {
        &self.fx
    }

    pub(crate) fn check_currency(&self, field: &str, c: Currency) -> Result<(), AlertingError> {
        if self.fx.supports(c) {
            return Ok(());
        }
        let known = self.fx.known();
        Err(AlertingError::bad(
            field,
            format!("no exchange rate for {c}; known: {}", known.join(", ")),
        ))
    }

    /// The status of `budget` at `now`.
    pub async fn status_of(
        &self,
        budget: &Budget,
        now: DateTime<Utc>,
    ) -> Result<BudgetStatus, AlertingError> {
        let window = budget.spec.period.window(now);
        let daily = daily_spend(
            self.costs.as_ref(),
            &self.fx,
            &budget.tenant,
            &budget.spec.scope,
            window,
            budget.spec.currency,
        )
        .await?;
        Ok(status(&budget.spec, window, &daily, now, self.policy))
    }

    async fn view(&self, budget: Budget, now: DateTime<Utc>) -> Result<BudgetView, AlertingError> {
        let status = self.status_of(&budget, now).await?;
        Ok(BudgetView { budget, status })
    }

    pub async fn list(
        &self,
        tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BudgetView>, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let mut out = Vec::new();
        for b in self.store.budgets(&tenant).await? {
            out.push(self.view(b, now).await?);
        }
        Ok(out)
    }

    pub async fn get(
        &self,
        tenant: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<BudgetView>, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        match self.store.budget(&tenant, id).await? {
            Some(b) => Ok(Some(self.view(b, now).await?)),
            None => Ok(None),
        }
    }

    pub async fn create(
        &self,
        tenant: &str,
        spec: BudgetSpec,
        now: DateTime<Utc>,
    ) -> Result<BudgetView, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let spec = spec
            .validate("input")
            .map_err(|e| AlertingError::bad(e.field, e.reason))?;
        self.check_currency("input.currency", spec.currency)?;
        let budget = Budget {
            id: uuid::Uuid::new_v4().to_string(),
            tenant,
            spec,
            created_at: now,
            updated_at: now,
        };
        self.store.put_budget(&budget).await?;
        self.view(budget, now).await
    }

    pub async fn update(
        &self,
        tenant: &str,
        id: &str,
        spec: BudgetSpec,
        now: DateTime<Utc>,
    ) -> Result<BudgetView, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let existing =
            self.store
                .budget(&tenant, id)
                .await?
                .ok_or_else(|| AlertingError::NotFound {
                    what: "budget",
                    id: id.to_string(),
                })?;
        let spec = spec
            .validate("input")
            .map_err(|e| AlertingError::bad(e.field, e.reason))?;
        self.check_currency("input.currency", spec.currency)?;
        let budget = Budget {
            spec,
            updated_at: now,
            ..existing
        };
        self.store.put_budget(&budget).await?;
        self.view(budget, now).await
    }

    pub async fn delete(&self, tenant: &str, id: &str) -> Result<bool, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        Ok(self.store.delete_budget(&tenant, id).await?)
    }

    /// A suggested amount for a new budget of `period` over `scope`, from up to six complete
    /// past periods that had any spend.
    pub async fn recommend(
        &self,
        tenant: &str,
        period: Period,
        currency: Currency,
        scope: &BudgetScope,
        now: DateTime<Utc>,
    ) -> Result<Option<Recommendation>, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        self.check_currency("currency", currency)?;
        let mut history = Vec::new();
        let mut window = period.previous_window(now);
        for _ in 0..RECOMMENDATION_PERIODS {
            let daily = daily_spend(
                self.costs.as_ref(),
                &self.fx,
                &tenant,
                scope,
                window,
                currency,
            )
            .await?;
            history.push(daily.iter().copied().sum::<Decimal>());
            window = period.window_before(window);
        }
        // Oldest first, without the silent periods before the scope had any spend.
        history.reverse();
        let first = history.iter().position(|t| !t.is_zero());
        let history = first.map_or(&[][..], |i| &history[i..]);
        Ok(recommend(history, currency.as_str()))
    }
}
