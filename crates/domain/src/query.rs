//! Cost queries over rollup rows: range covering, summaries, breakdowns and history. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::event::{Category, SubKind};
use crate::fx::{FxError, Rates, total_on};
use crate::money::{Currency, round_computed};
use crate::rollup::{Granularity, RollupRow, SeriesKey};

/// A half-open UTC range `[from, to)`, at minute resolution (the finest rollup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The longest range one query may cover.
pub const MAX_RANGE_DAYS: i64 = 3 * 366;

impl TimeRange {
    /// Truncates both ends to the minute and checks the range is non-empty and bounded.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<TimeRange, String> {
        let from = Granularity::Minute.bucket_start(from);
        let to = Granularity::Minute.bucket_start(to);
        if to <= from {
            return Err("range.to must be at least one minute after range.from".into());
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(format!("range must span at most {MAX_RANGE_DAYS} days"));
        }
        Ok(TimeRange { from, to })
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> TimeRange {
        let len = self.to - self.from;
        TimeRange {
            from: self.from - len,
            to: self.from,
        }
    }

    /// Length in days, exact (`Decimal`), e.g. 1.5 for 36 hours.
    pub fn days(&self) -> Decimal {
        Decimal::from((self.to - self.from).num_minutes()) / Decimal::from(24 * 60)
    }
}

/// One contiguous run of buckets of one granularity, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub granularity: Granularity,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Covers a range exactly with the fewest, coarsest buckets: at each point, the largest bucket
/// that starts there and ends inside the range. Consecutive buckets of one granularity merge.
pub fn cover(range: TimeRange) -> Vec<Span> {
    cover_at_most(range, Granularity::Month)
}

/// [`cover`] with buckets no coarser than `coarsest`: dated exchange rates need day buckets,
/// because a month bucket has no single charge day.
pub fn cover_at_most(range: TimeRange, coarsest: Granularity) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut cur = range.from;
    while cur < range.to {
        let g = [
            Granularity::Month,
            Granularity::Day,
            Granularity::Hour,
            Granularity::Minute,
        ]
        .into_iter()
        .filter(|g| *g <= coarsest)
        .find(|g| g.is_aligned(cur) && g.next_bucket(cur) <= range.to)
        .unwrap_or(Granularity::Minute);
        let next = g.next_bucket(cur);
        match spans.last_mut() {
            Some(last) if last.granularity == g && last.to == cur => last.to = next,
            _ => spans.push(Span {
                granularity: g,
                from: cur,
                to: next,
            }),
        }
        cur = next;
    }
    spans
}

/// What a breakdown or history can group by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dimension {
    Tenant,
    Category,
    SubKind,
    Provider,
    Service,
    Resource,
    Label(String),
}

/// Rows not carrying the label a breakdown groups by fall in this group.
pub const NO_LABEL: &str = "(none)";

impl Dimension {
    pub fn value_of(&self, s: &SeriesKey) -> String {
        match self {
            Dimension::Tenant => s.tenant.clone(),
            Dimension::Category => s.category.as_str().to_string(),
            Dimension::SubKind => s.sub_kind.as_str().to_string(),
            Dimension::Provider => s.provider.clone(),
            Dimension::Service => s.service.clone(),
            Dimension::Resource => s.resource.clone(),
            Dimension::Label(k) => s
                .label_map()
                .remove(k)
                .unwrap_or_else(|| NO_LABEL.to_string()),
        }
    }
}

/// Narrowing of a query; an empty list means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub categories: Vec<Category>,
    pub sub_kinds: Vec<SubKind>,
    pub providers: Vec<String>,
    pub services: Vec<String>,
    pub resources: Vec<String>,
    /// Every label listed must be present with this value.
    pub labels: BTreeMap<String, String>,
}

impl Filter {
    pub fn matches(&self, s: &SeriesKey) -> bool {
        fn any<T: PartialEq>(list: &[T], v: &T) -> bool {
            list.is_empty() || list.contains(v)
        }
        any(&self.categories, &s.category)
            && any(&self.sub_kinds, &s.sub_kind)
            && any(&self.providers, &s.provider)
            && any(&self.services, &s.service)
            && any(&self.resources, &s.resource)
            && (self.labels.is_empty() || {
                let l = s.label_map();
                self.labels.iter().all(|(k, v)| l.get(k) == Some(v))
            })
    }
}

/// Exact sums per currency and charge day (the day picks the exchange rate, see `fx`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    pub amount: BTreeMap<(Currency, NaiveDate), Decimal>,
    pub billed: BTreeMap<(Currency, NaiveDate), Decimal>,
    pub events: u64,
}

impl Sums {
    /// Adds a row exactly; an overflow is an error, never a panic or a silent round.
    pub fn add(&mut self, row: &RollupRow) -> Result<(), FxError> {
        fn add_to(
            map: &mut BTreeMap<(Currency, NaiveDate), Decimal>,
            key: (Currency, NaiveDate),
            d: Decimal,
        ) -> Result<(), FxError> {
            let cell = map.entry(key).or_default();
            *cell = cell.checked_add(d).ok_or(FxError::Overflow)?;
            Ok(())
        }
        let key = (row.series.currency, row.bucket.date_naive());
        add_to(&mut self.amount, key, row.value.amount)?;
        add_to(&mut self.billed, key, row.value.billed)?;
        self.events = self
            .events
            .checked_add(row.value.events)
            .ok_or(FxError::Overflow)?;
        Ok(())
    }

    pub fn of<'a>(rows: impl IntoIterator<Item = &'a RollupRow>) -> Result<Sums, FxError> {
        let mut s = Sums::default();
        for r in rows {
            s.add(r)?;
        }
        Ok(s)
    }

    pub fn total(&self, fx: &dyn Rates, to: Currency) -> Result<Decimal, FxError> {
        total_on(fx, &self.amount, to)
    }

    pub fn billed_total(&self, fx: &dyn Rates, to: Currency) -> Result<Decimal, FxError> {
        total_on(fx, &self.billed, to)
    }

    /// Exact totals per currency, unconverted.
    pub fn per_currency(&self) -> Result<BTreeMap<Currency, Decimal>, FxError> {
        let mut out: BTreeMap<Currency, Decimal> = BTreeMap::new();
        for (&(c, _), &a) in &self.amount {
            let cell = out.entry(c).or_default();
            *cell = cell.checked_add(a).ok_or(FxError::Overflow)?;
        }
        Ok(out)
    }
}

/// `part / whole × 100`, two decimal places (display only); `None` when `whole` is zero.
pub fn percentage(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    Some(
        (part * Decimal::ONE_HUNDRED / whole)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub key: Vec<String>,
    pub amount: Decimal,
    pub billed: Decimal,
    pub events: u64,
    pub percentage: Option<Decimal>,
}

/// Groups rows by the dimensions, converted to one currency, largest first.
pub fn breakdown(
    rows: &[RollupRow],
    dims: &[Dimension],
    fx: &dyn Rates,
    to: Currency,
) -> Result<Vec<Group>, FxError> {
    let mut groups: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
    for r in rows {
        let key = dims.iter().map(|d| d.value_of(&r.series)).collect();
        groups.entry(key).or_default().add(r)?;
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, sums) in groups {
        out.push(Group {
            key,
            amount: sums.total(fx, to)?,
            billed: sums.billed_total(fx, to)?,
            events: sums.events,
            percentage: None,
        });
    }
    let whole = out
        .iter()
        .try_fold(Decimal::ZERO, |acc, g| acc.checked_add(g.amount))
        .ok_or(FxError::Overflow)?;
    for g in &mut out {
        g.percentage = percentage(g.amount, whole);
    }
    out.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub bucket: DateTime<Utc>,
    pub key: Vec<String>,
    pub amount: Decimal,
    pub events: u64,
}

/// Time series of rows (all of one granularity), grouped by the dimensions, in bucket order.
pub fn history(
    rows: &[RollupRow],
    dims: &[Dimension],
    fx: &dyn Rates,
    to: Currency,
) -> Result<Vec<Point>, FxError> {
    history_by(rows, dims, fx, to, |r| r.bucket)
}

/// [`history`] with rows regrouped into the bucket `bucket_of` gives them (e.g. day rows into
/// months), each still converted at the rate of its own day.
pub fn history_by(
    rows: &[RollupRow],
    dims: &[Dimension],
    fx: &dyn Rates,
    to: Currency,
    bucket_of: impl Fn(&RollupRow) -> DateTime<Utc>,
) -> Result<Vec<Point>, FxError> {
    let mut cells: BTreeMap<(DateTime<Utc>, Vec<String>), Sums> = BTreeMap::new();
    for r in rows {
        let key = dims.iter().map(|d| d.value_of(&r.series)).collect();
        cells.entry((bucket_of(r), key)).or_default().add(r)?;
    }
    cells
        .into_iter()
        .map(|((bucket, key), s)| {
            Ok(Point {
                bucket,
                key,
                amount: s.total(fx, to)?,
                events: s.events,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Up,
    Down,
    Flat,
}

/// Changes smaller than this share of the previous amount count as flat.
const FLAT_BAND_PERCENT: Decimal = Decimal::ONE;

pub fn trend(current: Decimal, previous: Decimal) -> Trend {
    // An overflowing difference is necessarily far outside the flat band.
    let Some(change) = current.checked_sub(previous) else {
        return if current > previous {
            Trend::Up
        } else {
            Trend::Down
        };
    };
    let threshold = previous.abs() / Decimal::ONE_HUNDRED * FLAT_BAND_PERCENT;
    if change > threshold {
        Trend::Up
    } else if change < -threshold {
        Trend::Down
    } else {
        Trend::Flat
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryShare {
    pub category: Category,
    pub amount: Decimal,
    pub previous: Decimal,
    pub change: Decimal,
    pub percentage: Option<Decimal>,
    pub trend: Trend,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub currency: Currency,
    pub total: Decimal,
    pub billed: Decimal,
    pub events: u64,
    pub daily_average: Decimal,
    pub previous_period_total: Decimal,
    pub change_percent: Option<Decimal>,
    pub categories: Vec<CategoryShare>,
}

/// Summarises a period against the previous one of the same length.
pub fn summary(
    range: TimeRange,
    current: &[RollupRow],
    previous: &[RollupRow],
    fx: &dyn Rates,
    to: Currency,
) -> Result<Summary, FxError> {
    let now_sums = Sums::of(current)?;
    let total = now_sums.total(fx, to)?;
    let prev_total = Sums::of(previous)?.total(fx, to)?;
    let by_cat = |rows: &[RollupRow]| -> Result<BTreeMap<Category, Decimal>, FxError> {
        let mut m: BTreeMap<Category, Sums> = BTreeMap::new();
        for r in rows {
            m.entry(r.series.category).or_default().add(r)?;
        }
        m.into_iter()
            .map(|(c, s)| Ok((c, s.total(fx, to)?)))
            .collect()
    };
    let cur_cat = by_cat(current)?;
    let prev_cat = by_cat(previous)?;
    let mut categories = Category::ALL
        .iter()
        .filter(|c| cur_cat.contains_key(c) || prev_cat.contains_key(c))
        .map(|&c| {
            let amount = cur_cat.get(&c).copied().unwrap_or_default();
            let prev = prev_cat.get(&c).copied().unwrap_or_default();
            Ok(CategoryShare {
                category: c,
                amount,
                previous: prev,
                change: amount.checked_sub(prev).ok_or(FxError::Overflow)?,
                percentage: percentage(amount, total),
                trend: trend(amount, prev),
            })
        })
        .collect::<Result<Vec<CategoryShare>, FxError>>()?;
    categories.sort_by_key(|c| std::cmp::Reverse(c.amount));
    Ok(Summary {
        currency: to,
        total,
        billed: now_sums.billed_total(fx, to)?,
        events: now_sums.events,
        daily_average: round_computed(total.checked_div(range.days()).ok_or(FxError::Overflow)?),
        previous_period_total: prev_total,
        change_percent: total
            .checked_sub(prev_total)
            .and_then(|d| percentage(d, prev_total.abs())),
        categories,
    })
}

/// The month-to-date range for the month containing `now`, ending at `now`.
pub fn month_to_date(now: DateTime<Utc>) -> TimeRange {
    let start = Granularity::Month.bucket_start(now);
    let end = Granularity::Minute
        .bucket_start(now)
        .max(start + Duration::minutes(1));
    TimeRange {
        from: start,
        to: end,
    }
}

/// A simple linear projection: month-to-date spend extended at its average daily rate to the
/// month's end. (The forecasting issue replaces it with seasonal models.)
pub fn project_month_end(month_to_date_total: Decimal, now: DateTime<Utc>) -> Decimal {
    let mtd = month_to_date(now);
    let month_end = Granularity::Month.next_bucket(mtd.from);
    let elapsed = mtd.days();
    let month_days = Decimal::from(month_end.signed_duration_since(mtd.from).num_days());
    if elapsed.is_zero() {
        return month_to_date_total;
    }
    month_to_date_total
        .checked_div(elapsed)
        .and_then(|rate| rate.checked_mul(month_days))
        .map_or(month_to_date_total, round_computed)
}

pub mod reconcile;

#[cfg(test)]
mod tests;
