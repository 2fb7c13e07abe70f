//! A budget's daily spend in its own currency, read from the daily rollups.

use std::collections::BTreeMap;

use costwatch_domain::budget::{BudgetScope, PeriodWindow};
use costwatch_domain::query::Sums;
use costwatch_domain::query::reconcile::reconcile;
use costwatch_domain::{Currency, Granularity};
use costwatch_ports::CostStore;
use rust_decimal::Decimal;

use crate::{AlertingError, Fx};

/// Spend per day of `window` (index 0 = the day starting at `window.start`; days with nothing
/// are zero) of the rows matching `scope`, converted to `currency`. Exact: per-day sums are
/// exact per source currency, then converted once at the day's rate (`docs/money.md`). Billing
/// data replaces the rate-card estimates of its provider × service × day, as in every cost query.
pub async fn daily_spend(
    store: &dyn CostStore,
    fx: &Fx,
    tenant: &str,
    scope: &BudgetScope,
    window: PeriodWindow,
    currency: Currency,
) -> Result<Vec<Decimal>, AlertingError> {
    let rows = store
        .rollups(tenant, Granularity::Day, window.start, window.end)
        .await?;
    // Reconciled before the scope filter, so a filter cannot hide the bill of an estimate.
    let rows = reconcile(rows).counted;
    let filter = scope.filter();
    let mut per_day: BTreeMap<i64, Sums> = BTreeMap::new();
    for row in rows.iter().filter(|r| filter.matches(&r.series)) {
        let day = (row.bucket - window.start).num_days();
        per_day
            .entry(day)
            .or_default()
            .add(row)
            .map_err(|e| AlertingError::Compute(e.to_string()))?;
    }
    let book = fx.book(window.start, window.end).await?;
    let days = window.length().num_days().max(1) as usize;
    let mut out = vec![Decimal::ZERO; days];
    for (day, sums) in per_day {
        let total = sums
            .total(&book, currency)
            .map_err(|e| AlertingError::Compute(e.to_string()))?;
        if let Some(slot) = usize::try_from(day).ok().and_then(|d| out.get_mut(d)) {
            *slot = total;
        }
    }
    Ok(out)
}
