//! Estimated vs billed: which number is the number of record.
//!
//! Usage priced by a rate card is an estimate. Billing data (an imported FOCUS/CUR row, a polled
//! vendor charge, an event carrying `cost`) is what the provider actually charges. When both exist
//! for the same **scope-day** — tenant × provider × service × UTC day — the billed amount is the
//! number of record and the estimates of that scope-day are *replaced*: they stop counting in
//! totals, breakdowns and histories, but stay visible (see [`reconciliation_lines`]).
//!
//! A scope-day counts as billed as soon as one of its rows carries a non-zero billed amount. (A
//! billed charge of exactly zero cannot be told apart from no billing data in a rollup cell; its
//! scope-day keeps its estimates.) Scope-days without billed data keep their estimates, so a
//! day the bill has not reached yet is still visible in real time.
//!
//! The rule is applied per day, so it needs rows no coarser than a day. A month rollup can be
//! used as is unless one of its scopes carries both billed and estimated amounts
//! ([`mixed_buckets`]); only those months must be read again as days. (Bills of one scope that
//! net to exactly zero over a month hide in its month row; such a month is reconciled as a whole.)

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::fx::{FxError, Rates, total_on};
use crate::money::Currency;
use crate::rollup::{RollupRow, RollupValue};

/// The scope within which billed data replaces estimates, and its day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeDay {
    pub tenant: String,
    pub provider: String,
    pub service: String,
    pub day: NaiveDate,
}

impl ScopeDay {
    pub fn of(r: &RollupRow) -> ScopeDay {
        ScopeDay {
            tenant: r.series.tenant.clone(),
            provider: r.series.provider.clone(),
            service: r.series.service.clone(),
            day: r.bucket.date_naive(),
        }
    }
}

/// The rate-card part of a row (`amount − billed`); `None` only for rows no pricing can produce.
fn estimate_of(v: &RollupValue) -> Option<Decimal> {
    v.amount.checked_sub(v.billed)
}

/// Rows split into what counts and what was replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// The rows as counted: in a billed scope-day, only their billed part (events unchanged).
    pub counted: Vec<RollupRow>,
    /// The estimates billed data replaced, one row per row that lost its estimate (`billed` and
    /// `events` zero). `counted` + `replaced` add up to the input exactly.
    pub replaced: Vec<RollupRow>,
}

/// The scope-days of `rows` that carry billed data.
fn billed_scope_days(rows: &[RollupRow]) -> HashSet<ScopeDay> {
    rows.iter()
        .filter(|r| !r.value.billed.is_zero())
        .map(ScopeDay::of)
        .collect()
}

/// Applies the rule to rows of day granularity or finer (or months [`mixed_buckets`] clears).
pub fn reconcile(rows: Vec<RollupRow>) -> Reconciled {
    let billed = billed_scope_days(&rows);
    if billed.is_empty() {
        return Reconciled {
            counted: rows,
            replaced: Vec::new(),
        };
    }
    let mut out = Reconciled::default();
    for r in rows {
        let estimate = estimate_of(&r.value).unwrap_or_default();
        if estimate.is_zero() || !billed.contains(&ScopeDay::of(&r)) {
            out.counted.push(r);
            continue;
        }
        out.replaced.push(RollupRow {
            bucket: r.bucket,
            series: r.series.clone(),
            value: RollupValue {
                amount: estimate,
                billed: Decimal::ZERO,
                events: 0,
            },
        });
        out.counted.push(RollupRow {
            value: RollupValue {
                amount: r.value.billed,
                ..r.value
            },
            ..r
        });
    }
    out
}

/// Buckets (e.g. months) in which some scope carries both billed and estimated amounts: only
/// there does the rule need day rows. Elsewhere [`reconcile`] changes nothing, at any bucket size.
pub fn mixed_buckets(rows: &[RollupRow]) -> BTreeSet<DateTime<Utc>> {
    let mut seen: BTreeMap<(DateTime<Utc>, &str, &str), (bool, bool)> = BTreeMap::new();
    for r in rows {
        let cell = seen
            .entry((r.bucket, &r.series.provider, &r.series.service))
            .or_default();
        cell.0 |= !r.value.billed.is_zero();
        cell.1 |= !estimate_of(&r.value).unwrap_or_default().is_zero();
    }
    seen.into_iter()
        .filter(|(_, (billed, estimated))| *billed && *estimated)
        .map(|((bucket, _, _), _)| bucket)
        .collect()
}

/// One scope-day: the estimate, the bill, and which one counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationLine {
    pub provider: String,
    pub service: String,
    pub day: NaiveDate,
    /// Everything rate cards estimated for the scope-day (counted or replaced).
    pub estimated: Decimal,
    pub billed: Decimal,
    /// `billed − estimated` when the scope-day is billed; `None` while only estimates exist.
    pub difference: Option<Decimal>,
    /// The number of record: `billed` when billed, else `estimated`.
    pub record: Decimal,
}

#[derive(Default)]
struct LineSums {
    estimated: BTreeMap<(Currency, NaiveDate), Decimal>,
    billed: BTreeMap<(Currency, NaiveDate), Decimal>,
    has_billed: bool,
}

fn add_to(
    map: &mut BTreeMap<(Currency, NaiveDate), Decimal>,
    key: (Currency, NaiveDate),
    d: Decimal,
) -> Result<(), FxError> {
    let cell = map.entry(key).or_default();
    *cell = cell.checked_add(d).ok_or(FxError::Overflow)?;
    Ok(())
}

/// Estimate against bill per scope-day of `rows` (day granularity or finer), converted to `to`
/// at each charge day's rate; in day, provider, service order.
pub fn reconciliation_lines(
    rows: &[RollupRow],
    fx: &dyn Rates,
    to: Currency,
) -> Result<Vec<ReconciliationLine>, FxError> {
    let mut scopes: BTreeMap<(NaiveDate, &str, &str), LineSums> = BTreeMap::new();
    for r in rows {
        let day = r.bucket.date_naive();
        let sums = scopes
            .entry((day, &r.series.provider, &r.series.service))
            .or_default();
        let key = (r.series.currency, day);
        add_to(
            &mut sums.estimated,
            key,
            estimate_of(&r.value).ok_or(FxError::Overflow)?,
        )?;
        add_to(&mut sums.billed, key, r.value.billed)?;
        sums.has_billed |= !r.value.billed.is_zero();
    }
    scopes
        .into_iter()
        .map(|((day, provider, service), s)| {
            let estimated = total_on(fx, &s.estimated, to)?;
            let billed = total_on(fx, &s.billed, to)?;
            let difference = if s.has_billed {
                Some(billed.checked_sub(estimated).ok_or(FxError::Overflow)?)
            } else {
                None
            };
            Ok(ReconciliationLine {
                provider: provider.to_string(),
                service: service.to_string(),
                day,
                estimated,
                billed,
                difference,
                record: if s.has_billed { billed } else { estimated },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
