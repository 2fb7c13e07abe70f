//! The query root.

use std::sync::Arc;

use async_graphql::{Context, Object, Result};
use chrono::Utc;

use super::inputs::{
    CostFilterInput, Dimension, Granularity, TimeRangeInput, dimension_kinds, filter_of,
};
use super::resolve;
use crate::queries::{CostQueries, dimensions, parse_tenant};
use crate::reconciliation::ReconciliationLine;
use crate::views::{CostGroup, CostPoint, CostSummary};

#[derive(Default)]
pub struct CostQuery;

fn queries<'a>(ctx: &Context<'a>) -> Result<&'a Arc<CostQueries>> {
    ctx.data::<Arc<CostQueries>>()
}

#[Object]
impl CostQuery {
    /// Totals of a tenant over `range` (converted to `currency`, default the server's), compared
    /// with the period of the same length just before it, plus the month-end projection.
    async fn cost_summary(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        range: TimeRangeInput,
        currency: Option<String>,
    ) -> Result<CostSummary> {
        let q = queries(ctx)?;
        resolve(async {
            let tenant = parse_tenant(&tenant)?;
            let range = range.validate()?;
            let currency = q.currency(currency.as_deref())?;
            q.summary(&tenant, range, currency, Utc::now()).await
        })
        .await
    }

    /// Totals of a tenant over `range`, grouped by `groupBy` (in order), largest first.
    /// `labelKey` is required when grouping by `LABEL`.
    #[allow(clippy::too_many_arguments)]
    async fn cost_breakdown(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        range: TimeRangeInput,
        group_by: Vec<Dimension>,
        label_key: Option<String>,
        filter: Option<CostFilterInput>,
        currency: Option<String>,
    ) -> Result<Vec<CostGroup>> {
        let q = queries(ctx)?;
        resolve(async {
            let tenant = parse_tenant(&tenant)?;
            let range = range.validate()?;
            let dims = dimensions(
                &dimension_kinds(&group_by),
                label_key.as_deref(),
                "labelKey",
            )?;
            let filter = filter_of(&filter)?;
            let currency = q.currency(currency.as_deref())?;
            q.breakdown(&tenant, range, &dims, &filter, currency).await
        })
        .await
    }

    /// A tenant's cost per `granularity` bucket, from the bucket holding `range.from` up to
    /// `range.to`, optionally split by `groupBy`. At most 10080 buckets per query (minute: 7 days,
    /// hour: 420 days).
    #[allow(clippy::too_many_arguments)]
    async fn cost_history(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        range: TimeRangeInput,
        granularity: Granularity,
        group_by: Option<Vec<Dimension>>,
        label_key: Option<String>,
        filter: Option<CostFilterInput>,
        currency: Option<String>,
    ) -> Result<Vec<CostPoint>> {
        let q = queries(ctx)?;
        resolve(async {
            let tenant = parse_tenant(&tenant)?;
            let range = range.validate()?;
            let kinds = dimension_kinds(group_by.as_deref().unwrap_or_default());
            let dims = dimensions(&kinds, label_key.as_deref(), "labelKey")?;
            let filter = filter_of(&filter)?;
            let currency = q.currency(currency.as_deref())?;
            q.history(&tenant, range, granularity.into(), &dims, &filter, currency)
                .await
        })
        .await
    }

    /// Rate-card estimate against billing data per provider × service × UTC day of `range` (at
    /// most 92 days), and which of the two counts. `billedOnly` keeps the days billing data has
    /// reached.
    async fn cost_reconciliation(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        range: TimeRangeInput,
        billed_only: Option<bool>,
        currency: Option<String>,
    ) -> Result<Vec<ReconciliationLine>> {
        let q = queries(ctx)?;
        resolve(async {
            let tenant = parse_tenant(&tenant)?;
            let range = range.validate()?;
            let currency = q.currency(currency.as_deref())?;
            q.reconciliation(&tenant, range, billed_only.unwrap_or(false), currency)
                .await
        })
        .await
    }

    /// ISO 4217 codes the `currency` argument accepts now: the reference table's, the default,
    /// and currencies with an exchange-rate fixing in the last 7 days.
    async fn currencies(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let q = queries(ctx)?;
        resolve(q.currencies(Utc::now().date_naive())).await
    }

    /// Tenants with any counted cost that the caller may see.
    async fn tenants(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let q = queries(ctx)?;
        let all = resolve(q.tenants()).await?;
        // The access guard refuses a request without a principal before this runs.
        let principal = ctx.data::<costwatch_domain::access::Principal>()?;
        Ok(principal.visible_tenants(all))
    }
}
