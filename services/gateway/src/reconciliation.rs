//! Estimated vs billed per provider × service × day: what rate cards estimated, what the bill
//! says, the difference, and which one counts (the rule is in the domain's `query::reconcile`).

use async_graphql::SimpleObject;
use chrono::{Duration, NaiveDate};
use costwatch_domain::query::reconcile::reconciliation_lines;
use costwatch_domain::query::{TimeRange, cover_at_most};
use costwatch_domain::{Currency, Granularity, TenantId};
use serde::Serialize;

use crate::queries::{CostQueries, QueryError, compute};
use crate::views::Money;

/// The longest range one reconciliation covers (its lines are per day).
pub const MAX_RECONCILIATION_DAYS: i64 = 92;

/// One provider × service × day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct ReconciliationLine {
    pub provider: String,
    pub service: String,
    /// The UTC day.
    pub day: NaiveDate,
    /// Everything rate cards estimated for the day, counted or replaced.
    pub estimated: Money,
    /// What the billing data says; zero until it arrives.
    pub billed: Money,
    /// `billed − estimated`; null while no billing data has arrived.
    pub difference: Option<Money>,
    /// The number of record: `billed` once billing data arrived, else `estimated`.
    pub record: Money,
    /// True when `billed` is the number of record.
    pub is_billed: bool,
}

impl CostQueries {
    /// Lines of `range` in day, provider, service order; `billed_only` keeps the days whose
    /// billing data has arrived.
    pub async fn reconciliation(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        billed_only: bool,
        currency: Currency,
    ) -> Result<Vec<ReconciliationLine>, QueryError> {
        if range.to - range.from > Duration::days(MAX_RECONCILIATION_DAYS) {
            return Err(QueryError::bad(
                "range",
                format!("a reconciliation spans at most {MAX_RECONCILIATION_DAYS} days"),
            ));
        }
        let book = self.book(range).await?;
        let spans = cover_at_most(range, Granularity::Day);
        let r = self.read_reconciled(tenant, &spans).await?;
        // Counted + replaced is the input exactly, so the lines see every estimate and bill.
        let rows: Vec<_> = r.counted.into_iter().chain(r.replaced).collect();
        let lines = compute(|| reconciliation_lines(&rows, &book, currency))?;
        Ok(lines
            .into_iter()
            .filter(|l| !billed_only || l.difference.is_some())
            .map(|l| ReconciliationLine {
                provider: l.provider,
                service: l.service,
                day: l.day,
                estimated: Money::new(l.estimated, currency),
                billed: Money::new(l.billed, currency),
                difference: l.difference.map(|d| Money::new(d, currency)),
                record: Money::new(l.record, currency),
                is_billed: l.difference.is_some(),
            })
            .collect())
    }
}
