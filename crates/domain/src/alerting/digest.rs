//! Weekly and monthly digests: what a tenant spent in a window against the window before, what
//! moved most, which budgets are at risk and which alerts are open. Pure: the caller reads the
//! rows, budgets and alerts; this decides what the digest says.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lifecycle::{Alert, AlertKind, AlertState, Severity};
use crate::budget::{Budget, BudgetStatus, PeriodWindow, ThresholdBasis};
use crate::fx::{FxError, Rates, total_on};
use crate::money::Currency;
use crate::rollup::RollupRow;

/// How many movers of each dimension and how many alerts a digest lists.
pub const TOP_N: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestKind {
    /// Monday 00:00 to the next Monday 00:00, UTC.
    Weekly,
    /// The calendar month, UTC.
    Monthly,
}

impl DigestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DigestKind::Weekly => "weekly",
            DigestKind::Monthly => "monthly",
        }
    }

    /// The window holding `at`.
    pub fn window(self, at: DateTime<Utc>) -> PeriodWindow {
        match self {
            DigestKind::Weekly => {
                let day = at.date_naive()
                    - Duration::days(i64::from(at.weekday().num_days_from_monday()));
                let start = Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN));
                PeriodWindow {
                    start,
                    end: start + Duration::days(7),
                }
            }
            DigestKind::Monthly => crate::budget::Period::Monthly.window(at),
        }
    }

    /// The window just before `w`.
    pub fn previous(self, w: PeriodWindow) -> PeriodWindow {
        self.window(w.start - Duration::seconds(1))
    }

    /// The latest window that has closed at `now` (the one a scheduler sends).
    pub fn last_closed(self, now: DateTime<Utc>) -> PeriodWindow {
        self.previous(self.window(now))
    }
}

/// Spend of one currency, exact: no conversion, so the numbers add up to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: Currency,
    pub current: Decimal,
    pub previous: Decimal,
    pub change: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoverDimension {
    Service,
    Resource,
}

/// A service (`provider/service`) or resource (`provider/service/resource`) whose spend changed;
/// amounts in the digest's report currency so services of different currencies can be ranked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mover {
    pub dimension: MoverDimension,
    pub name: String,
    pub current: Decimal,
    pub previous: Decimal,
    /// Signed: positive went up.
    pub change: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetAtRisk {
    pub id: String,
    pub name: String,
    pub currency: Currency,
    pub amount: Decimal,
    pub spent: Decimal,
    pub forecast: Decimal,
    pub percent_spent: Decimal,
    /// Why it is listed: the forecast reaches the amount, or the highest actual threshold crossed.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertBrief {
    pub id: String,
    pub title: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub state: AlertState,
    pub triggered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAlerts {
    pub critical: u32,
    pub warning: u32,
    pub info: u32,
    /// The most severe first, then the longest open.
    pub top: Vec<AlertBrief>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub tenant: String,
    pub kind: DigestKind,
    pub window: PeriodWindow,
    pub previous: PeriodWindow,
    /// Per currency, by currency code.
    pub totals: Vec<CurrencyTotal>,
    pub report_currency: Currency,
    /// Up to [`TOP_N`] services with the largest absolute change, then resources.
    pub service_movers: Vec<Mover>,
    pub resource_movers: Vec<Mover>,
    pub budgets_at_risk: Vec<BudgetAtRisk>,
    pub open_alerts: OpenAlerts,
}

impl Digest {
    /// Stable id of this digest (also the notifier's delivery key): tenant × kind × window.
    pub fn id(&self) -> String {
        digest_id(&self.tenant, self.kind, self.window.start)
    }

    /// The mover with the largest absolute change of either dimension, if any.
    pub fn top_mover(&self) -> Option<&Mover> {
        self.service_movers
            .iter()
            .chain(&self.resource_movers)
            .max_by_key(|m| m.change.abs())
    }
}

pub fn digest_id(tenant: &str, kind: DigestKind, window_start: DateTime<Utc>) -> String {
    format!(
        "digest:{tenant}:{}:{}",
        kind.as_str(),
        window_start.format("%Y-%m-%d")
    )
}

/// What the builder reads: the day rows of both windows (already tenant-scoped), the budgets
/// with their status at the digest's moment, and the tenant's alerts.
pub struct DigestInput<'a> {
    pub tenant: &'a str,
    pub kind: DigestKind,
    pub window: PeriodWindow,
    pub current_rows: &'a [RollupRow],
    pub previous_rows: &'a [RollupRow],
    pub budgets: &'a [(Budget, BudgetStatus)],
    pub alerts: &'a [Alert],
    /// Converts each charge day at its own rate (a `RateBook`, or the reference `FxRates`).
    pub fx: &'a dyn Rates,
    pub report_currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("digest: amounts overflow")]
    Overflow,
    #[error("digest: {0}")]
    Fx(#[from] FxError),
}

/// Exact sums per currency and charge day (the day picks the exchange rate).
type PerCurrency = BTreeMap<(Currency, NaiveDate), Decimal>;

fn add(map: &mut PerCurrency, c: Currency, day: NaiveDate, v: Decimal) -> Result<(), DigestError> {
    let slot = map.entry((c, day)).or_default();
    *slot = slot.checked_add(v).ok_or(DigestError::Overflow)?;
    Ok(())
}

/// Per key, per currency: `(current, previous)`.
type Keyed = BTreeMap<String, (PerCurrency, PerCurrency)>;

fn movers(
    keyed: Keyed,
    dimension: MoverDimension,
    fx: &dyn Rates,
    to: Currency,
) -> Result<Vec<Mover>, DigestError> {
    let mut out = Vec::with_capacity(keyed.len());
    for (name, (cur, prev)) in keyed {
        let current = total_on(fx, &cur, to)?;
        let previous = total_on(fx, &prev, to)?;
        let change = current.checked_sub(previous).ok_or(DigestError::Overflow)?;
        if !change.is_zero() {
            out.push(Mover {
                dimension,
                name,
                current,
                previous,
                change,
            });
        }
    }
    // Largest absolute change first; the name breaks ties so the order is stable.
    out.sort_by(|a, b| {
        b.change
            .abs()
            .cmp(&a.change.abs())
            .then_with(|| a.name.cmp(&b.name))
    });
    out.truncate(TOP_N);
    Ok(out)
}

fn budget_at_risk(budget: &Budget, st: &BudgetStatus) -> Option<BudgetAtRisk> {
    let spec = &budget.spec;
    let crossed = spec
        .thresholds
        .iter()
        .filter(|t| t.basis == ThresholdBasis::Actual && st.percent_spent >= t.percent)
        .map(|t| t.percent)
        .max();
    let reason = if st.forecast >= spec.amount {
        format!(
            "forecast reaches {}% of the amount",
            crate::money::format_amount(
                crate::query::percentage(st.forecast, spec.amount)
                    .unwrap_or_default()
                    .round_dp(2),
            )
        )
    } else if let Some(p) = crossed {
        format!("crossed the {}% threshold", crate::money::format_amount(p))
    } else {
        return None;
    };
    Some(BudgetAtRisk {
        id: budget.id.clone(),
        name: spec.name.clone(),
        currency: spec.currency,
        amount: spec.amount,
        spent: st.spent,
        forecast: st.forecast,
        percent_spent: st.percent_spent,
        reason,
    })
}

fn open_alerts(alerts: &[Alert]) -> OpenAlerts {
    let mut open: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.state != AlertState::Resolved)
        .collect();
    let mut out = OpenAlerts::default();
    for a in &open {
        match a.severity {
            Severity::Critical => out.critical += 1,
            Severity::Warning => out.warning += 1,
            Severity::Info => out.info += 1,
        }
    }
    open.sort_by_key(|a| (Reverse(a.severity), a.triggered_at, a.id.clone()));
    out.top = open
        .into_iter()
        .take(TOP_N)
        .map(|a| AlertBrief {
            id: a.id.clone(),
            title: a.title.clone(),
            kind: a.kind,
            severity: a.severity,
            state: a.state,
            triggered_at: a.triggered_at,
        })
        .collect();
    out
}

/// Builds the digest. Totals are exact per currency; movers are converted to the report
/// currency per service or resource, each charge day at its own rate (the documented FX rule,
/// `docs/money.md`), so they can be ranked.
pub fn build_digest(input: DigestInput<'_>) -> Result<Digest, DigestError> {
    let mut totals: BTreeMap<Currency, (Decimal, Decimal)> = BTreeMap::new();
    let mut services: Keyed = BTreeMap::new();
    let mut resources: Keyed = BTreeMap::new();
    for (rows, is_current) in [(input.current_rows, true), (input.previous_rows, false)] {
        for row in rows.iter().filter(|r| r.series.tenant == input.tenant) {
            let s = &row.series;
            let v = row.value.amount;
            let t = totals.entry(s.currency).or_default();
            let slot = if is_current { &mut t.0 } else { &mut t.1 };
            *slot = slot.checked_add(v).ok_or(DigestError::Overflow)?;
            let service = format!("{}/{}", s.provider, s.service);
            let resource = format!("{service}/{}", s.resource);
            for (map, key) in [(&mut services, service), (&mut resources, resource)] {
                let entry = map.entry(key).or_default();
                add(
                    if is_current {
                        &mut entry.0
                    } else {
                        &mut entry.1
                    },
                    s.currency,
                    row.bucket.date_naive(),
                    v,
                )?;
            }
        }
    }
    let totals = totals
        .into_iter()
        .map(|(currency, (current, previous))| {
            Ok(CurrencyTotal {
                currency,
                current,
                previous,
                change: current.checked_sub(previous).ok_or(DigestError::Overflow)?,
            })
        })
        .collect::<Result<Vec<_>, DigestError>>()?;
    let (fx, to) = (input.fx, input.report_currency);
    Ok(Digest {
        tenant: input.tenant.to_string(),
        kind: input.kind,
        window: input.window,
        previous: input.kind.previous(input.window),
        totals,
        report_currency: to,
        service_movers: movers(services, MoverDimension::Service, fx, to)?,
        resource_movers: movers(resources, MoverDimension::Resource, fx, to)?,
        budgets_at_risk: input
            .budgets
            .iter()
            .filter_map(|(b, st)| budget_at_risk(b, st))
            .collect(),
        open_alerts: open_alerts(input.alerts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn weekly_windows_run_monday_to_monday_utc_and_monthly_follow_the_calendar() {
        // 2026-11-29 is a Sunday.
        let w = DigestKind::Weekly.window(t(2026, 11, 29, 23));
        assert_eq!((w.start, w.end), (t(2026, 11, 23, 0), t(2026, 11, 30, 0)));
        let w = DigestKind::Weekly.window(t(2026, 11, 30, 0));
        assert_eq!(
            w.start,
            t(2026, 11, 30, 0),
            "Monday 00:00 starts a new week"
        );
        let closed = DigestKind::Weekly.last_closed(t(2026, 11, 30, 0));
        assert_eq!(
            (closed.start, closed.end),
            (t(2026, 11, 23, 0), t(2026, 11, 30, 0))
        );
        // Across a year boundary: 2027-01-01 is a Friday.
        let w = DigestKind::Weekly.window(t(2027, 1, 1, 12));
        assert_eq!(w.start, t(2026, 12, 28, 0));
        let m = DigestKind::Monthly.last_closed(t(2027, 1, 1, 0));
        assert_eq!((m.start, m.end), (t(2026, 12, 1, 0), t(2027, 1, 1, 0)));
        assert_eq!(
            digest_id("acme", DigestKind::Monthly, m.start),
            "digest:acme:monthly:2026-12-01"
        );
    }
}
