//! The query layer shared by GraphQL and REST: input validation, reading rollups from the store,
//! and the domain's pure summary/breakdown/history over them. Both APIs call only this, so they
//! serve identical numbers.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_domain::fx::{FxError, FxRates, MAX_FIXING_AGE_DAYS, RateBook};
use costwatch_domain::query::reconcile::{Reconciled, mixed_buckets, reconcile};
use costwatch_domain::query::{
    self, Dimension, Filter, Span, Sums, TimeRange, cover_at_most, month_to_date, project_month_end,
};
use costwatch_domain::{Currency, Granularity, RollupRow, TenantId};
use costwatch_ports::{CostStore, FxRateStore, StoreError};
use futures::future::try_join_all;

use crate::views::{CostGroup, CostPoint, CostSummary};

/// Why a query was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The caller's input is invalid; `field` names the argument or parameter.
    #[error("invalid {field}: {reason}")]
    BadInput { field: String, reason: String },
    /// The store could not be read (details are logged, not shown).
    #[error("cost data is temporarily unavailable; retry shortly")]
    Unavailable,
    /// The stored data cannot be turned into an answer (a currency without an exchange rate, an
    /// amount too large to represent).
    #[error("{0}")]
    Internal(String),
}

impl QueryError {
    pub fn bad(field: impl Into<String>, reason: impl Into<String>) -> QueryError {
        QueryError::BadInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The field a bad input names.
    pub fn field(&self) -> Option<&str> {
        match self {
            QueryError::BadInput { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn unavailable(e: StoreError) -> QueryError {
    tracing::error!(error = %e, "cost store query failed");
    QueryError::Unavailable
}

/// At most this many buckets per history query (7 days of minutes, 420 days of hours).
pub const MAX_BUCKETS: i64 = 7 * 24 * 60;

/// Validates a tenant id (`field` is `tenant`).
pub fn parse_tenant(raw: &str) -> Result<TenantId, QueryError> {
    TenantId::parse(raw).map_err(|reason| QueryError::bad("tenant", reason))
}

/// Validates a range; `field` names the argument to blame (`range` in GraphQL).
pub fn parse_range(
    field: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<TimeRange, QueryError> {
    TimeRange::new(from, to).map_err(|reason| QueryError::bad(field, reason))
}

/// Parses each value of a list argument (e.g. `filter.categories`), naming the bad value.
pub fn parse_each<T: FromStr<Err = String>>(
    field: &str,
    values: &[String],
) -> Result<Vec<T>, QueryError> {
    values
        .iter()
        .map(|v| {
            v.parse()
                .map_err(|reason: String| QueryError::bad(field, format!("{v:?}: {reason}")))
        })
        .collect()
}

/// The dimensions a breakdown or history can group by, before the label key is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionKind {
    Tenant,
    Category,
    SubKind,
    Provider,
    Service,
    Resource,
    Label,
}

impl FromStr for DimensionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(
            match s
                .trim()
                .to_ascii_lowercase()
                .replace(['_', '-'], "")
                .as_str()
            {
                "tenant" => DimensionKind::Tenant,
                "category" => DimensionKind::Category,
                "subkind" => DimensionKind::SubKind,
                "provider" => DimensionKind::Provider,
                "service" => DimensionKind::Service,
                "resource" => DimensionKind::Resource,
                "label" => DimensionKind::Label,
                _ => return Err(
                    "must be one of tenant, category, subKind, provider, service, resource, label"
                        .into(),
                ),
            },
        )
    }
}

/// Attaches the label key to `LABEL` (which requires it); `label_field` names the key's argument.
pub fn dimensions(
    kinds: &[DimensionKind],
    label_key: Option<&str>,
    label_field: &str,
) -> Result<Vec<Dimension>, QueryError> {
    if kinds.len() > 8 {
        return Err(QueryError::bad("groupBy", "at most 8 dimensions"));
    }
    kinds
        .iter()
        .map(|k| {
            Ok(match k {
                DimensionKind::Tenant => Dimension::Tenant,
                DimensionKind::Category => Dimension::Category,
                DimensionKind::SubKind => Dimension::SubKind,
                DimensionKind::Provider => Dimension::Provider,
                DimensionKind::Service => Dimension::Service,
                DimensionKind::Resource => Dimension::Resource,
                DimensionKind::Label => match label_key {
                    Some(key) if !key.is_empty() && key.len() <= 256 => {
                        Dimension::Label(key.to_string())
                    }
                    Some(_) => {
                        return Err(QueryError::bad(label_field, "must be 1 to 256 characters"));
                    }
                    None => {
                        return Err(QueryError::bad(
                            label_field,
                            "is required when grouping by LABEL",
                        ));
                    }
                },
            })
        })
        .collect()
}

/// Refuses histories with too many buckets (`field` is `granularity`).
pub fn check_buckets(range: TimeRange, g: Granularity) -> Result<(), QueryError> {
    let span = range.to - g.bucket_start(range.from);
    let unit = match g {
        Granularity::Minute => Duration::minutes(1),
        Granularity::Hour => Duration::hours(1),
        Granularity::Day => Duration::days(1),
        Granularity::Month => return Ok(()), // a range is at most ~37 months
    };
    let buckets = (span.num_seconds() + unit.num_seconds() - 1) / unit.num_seconds();
    if buckets > MAX_BUCKETS {
        return Err(QueryError::bad(
            "granularity",
            format!(
                "{g} buckets over this range would be {buckets}, more than the {MAX_BUCKETS} allowed \
                 per query (minute: at most 7 days, hour: at most 420 days); use a coarser \
                 granularity or a shorter range"
            ),
        ));
    }
    Ok(())
}

/// Runs a pure computation over amounts. A missing exchange rate is named against the
/// `currency` argument (the caller can pick another or add the rate); overflow is internal.
pub(crate) fn compute<T>(f: impl FnOnce() -> Result<T, FxError>) -> Result<T, QueryError> {
    f().map_err(|e| match e {
        FxError::UnknownCurrency(_) | FxError::NoRateOn(..) => {
            QueryError::bad("currency", e.to_string())
        }
        other => QueryError::Internal(other.to_string()),
    })
}

/// Cost queries over a [`CostStore`].
#[derive(Clone)]
pub struct CostQueries {
    store: Arc<dyn CostStore>,
    fx: FxRates,
    /// Dated rates (the rate of the charge day); without them the reference table applies.
    rates: Option<Arc<dyn FxRateStore>>,
    default_currency: Currency,
}

impl CostQueries {
    pub fn new(store: Arc<dyn CostStore>, fx: FxRates, default_currency: Currency) -> CostQueries {
        CostQueries {
            store,
            fx,
            rates: None,
            default_currency,
        }
    }

    /// Converts with the dated rates of `rates` (falling back to the reference table).
    pub fn with_rates(mut self, rates: Arc<dyn FxRateStore>) -> CostQueries {
        self.rates = Some(rates);
        self
    }

    /// The rates that may apply to charges inside `range`: its days plus the look-back.
    pub async fn book(&self, range: TimeRange) -> Result<RateBook, QueryError> {
        let Some(store) = &self.rates else {
            return Ok(RateBook::new(self.fx.clone(), []));
        };
        let from = range.from.date_naive() - Duration::days(MAX_FIXING_AGE_DAYS);
        let rates = store
            .rates(from, range.to.date_naive())
            .await
            .map_err(unavailable)?;
        Ok(RateBook::new(self.fx.clone(), rates))
    }

    /// The coarsest bucket whose rows still have one charge day when rates are dated.
    fn coarsest(book: &RateBook) -> Granularity {
        if book.is_dated() {
            Granularity::Day
        } else {
            Granularity::Month
        }
    }

    /// The requested currency (`field` is `currency`), or the default one.
    pub fn currency(&self, raw: Option<&str>) -> Result<Currency, QueryError> {
        let Some(raw) = raw else {
            return Ok(self.default_currency);
        };
        let c: Currency = raw
            .parse()
            .map_err(|e: costwatch_domain::money::CurrencyError| {
                QueryError::bad("currency", e.to_string())
            })?;
        // With dated rates any currency may have fixings; a missing one is named per day.
        if self.rates.is_none() && !self.fx.supports(c) {
            let known: Vec<String> = self.fx.currencies().map(|c| c.to_string()).collect();
            return Err(QueryError::bad(
                "currency",
                format!(
                    "no exchange rate configured for {c}; supported: {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(c)
    }

    /// The tenant's rows inside `range` as counted (billed data replacing estimates, see
    /// [`reconcile`]), read with the coarsest exact buckets ([`cover_at_most`]) `book` can convert.
    pub async fn covered(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        filter: &Filter,
        book: &RateBook,
    ) -> Result<Reconciled, QueryError> {
        let spans = cover_at_most(range, Self::coarsest(book));
        let r = self.read_reconciled(tenant, &spans).await?;
        // Filtered after reconciling: a filter must not hide the bill that replaces an estimate.
        Ok(Reconciled {
            counted: r
                .counted
                .into_iter()
                .filter(|r| filter.matches(&r.series))
                .collect(),
            replaced: r
                .replaced
                .into_iter()
                .filter(|r| filter.matches(&r.series))
                .collect(),
        })
    }

    /// [`CostQueries::covered`], the counted rows only.
    pub async fn covered_rows(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        filter: &Filter,
        book: &RateBook,
    ) -> Result<Vec<RollupRow>, QueryError> {
        Ok(self.covered(tenant, range, filter, book).await?.counted)
    }

    /// Reads `spans` and reconciles them. A month row can be counted as it is unless one of its
    /// scopes mixes billed and estimated amounts ([`mixed_buckets`]); those months are read
    /// again as days, so the rule applies per day without reading every month as days.
    pub(crate) async fn read_reconciled(
        &self,
        tenant: &TenantId,
        spans: &[Span],
    ) -> Result<Reconciled, QueryError> {
        let t = tenant.as_str();
        let reads = spans
            .iter()
            .map(|span| self.store.rollups(t, span.granularity, span.from, span.to));
        let parts = try_join_all(reads).await.map_err(unavailable)?;
        // The store already scopes by tenant; checking again keeps tenants apart even if an
        // adapter got it wrong.
        let own = |r: &RollupRow| r.series.tenant == t;
        let mut rows = Vec::new();
        let mut months = Vec::new();
        for (span, part) in spans.iter().zip(parts) {
            let part: Vec<RollupRow> = part.into_iter().filter(own).collect();
            if span.granularity == Granularity::Month {
                let mixed = mixed_buckets(&part);
                rows.extend(part.into_iter().filter(|r| !mixed.contains(&r.bucket)));
                months.extend(mixed);
            } else {
                rows.extend(part);
            }
        }
        let days = months.iter().map(|&m| {
            self.store
                .rollups(t, Granularity::Day, m, Granularity::Month.next_bucket(m))
        });
        let refined = try_join_all(days).await.map_err(unavailable)?;
        rows.extend(refined.into_iter().flatten().filter(own));
        Ok(reconcile(rows))
    }

    /// Summary of `range` against the previous period, with the month-end projection as of `now`.
    pub async fn summary(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<CostSummary, QueryError> {
        let all = Filter::default();
        let mtd = month_to_date(now);
        let span = TimeRange {
            from: range.previous().from.min(mtd.from),
            to: range.to.max(mtd.to),
        };
        let book = self.book(span).await?;
        let (current, previous, mtd_rows) = futures::try_join!(
            self.covered(tenant, range, &all, &book),
            self.covered_rows(tenant, range.previous(), &all, &book),
            async {
                if mtd == range {
                    Ok(None)
                } else {
                    self.covered_rows(tenant, mtd, &all, &book).await.map(Some)
                }
            },
        )?;
        let summary =
            compute(|| query::summary(range, &current.counted, &previous, &book, currency))?;
        let replaced = compute(|| Sums::of(&current.replaced)?.total(&book, currency))?;
        let mtd_total = match mtd_rows {
            None => summary.total,
            Some(rows) => compute(|| Sums::of(&rows)?.total(&book, currency))?,
        };
        let projected = compute(|| Ok(project_month_end(mtd_total, now)))?;
        Ok(CostSummary::new(
            tenant.as_str(),
            range,
            summary,
            replaced,
            projected,
        ))
    }

    /// Totals of `range` grouped by `dims`, largest first.
    pub async fn breakdown(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        dims: &[Dimension],
        filter: &Filter,
        currency: Currency,
    ) -> Result<Vec<CostGroup>, QueryError> {
        let book = self.book(range).await?;
        let rows = self.covered_rows(tenant, range, filter, &book).await?;
        let groups = compute(|| query::breakdown(&rows, dims, &book, currency))?;
        Ok(groups
            .into_iter()
            .map(|g| CostGroup::new(g, currency))
            .collect())
    }

    /// Buckets of `granularity` from the one holding `range.from` up to `range.to`, grouped by
    /// `dims`, in bucket order.
    pub async fn history(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        granularity: Granularity,
        dims: &[Dimension],
        filter: &Filter,
        currency: Currency,
    ) -> Result<Vec<CostPoint>, QueryError> {
        check_buckets(range, granularity)?;
        let from = granularity.bucket_start(range.from);
        let book = self.book(TimeRange { from, to: range.to }).await?;
        // Month buckets span many charge days: with dated rates, read days and regroup.
        let read_as = granularity.min(Self::coarsest(&book));
        let span = Span {
            granularity: read_as,
            from,
            to: range.to,
        };
        let rows: Vec<RollupRow> = self
            .read_reconciled(tenant, &[span])
            .await?
            .counted
            .into_iter()
            .filter(|r| filter.matches(&r.series))
            .collect();
        let points = compute(|| {
            query::history_by(&rows, dims, &book, currency, |r| {
                granularity.bucket_start(r.bucket)
            })
        })?;
        Ok(points
            .into_iter()
            .map(|p| CostPoint::new(p, currency))
            .collect())
    }

    /// Currencies answers can be given in: the reference table's, the default, and every
    /// currency with a dated fixing in the last [`MAX_FIXING_AGE_DAYS`] days before `today`
    /// (older fixings no longer convert a current charge). Sorted, without repeats.
    pub async fn currencies(&self, today: chrono::NaiveDate) -> Result<Vec<String>, QueryError> {
        let mut out: std::collections::BTreeSet<String> =
            self.fx.currencies().map(|c| c.to_string()).collect();
        out.insert(self.default_currency.to_string());
        if let Some(store) = &self.rates {
            let from = today - Duration::days(MAX_FIXING_AGE_DAYS);
            let dated = store.rates(from, today).await.map_err(unavailable)?;
            out.extend(dated.iter().map(|r| r.currency.to_string()));
            // Fixings are quoted per EUR, so EUR itself is always convertible with them.
            if !dated.is_empty() {
                out.insert(Currency::EUR.to_string());
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Tenants with any counted cost.
    pub async fn tenants(&self) -> Result<Vec<String>, QueryError> {
        self.store.tenants().await.map_err(unavailable)
    }
}

#[cfg(test)]
mod tests;
