//! Cost rollups: per tenant × category × sub-kind × provider × service × resource × labels ×
//! currency, at minute, hour, day and month buckets (UTC).
//!
//! [`plan_batch`] is the whole aggregation decision for a batch of events, as data: which event ids
//! become seen, the new meter readings, and the rollup deltas. The store writes it atomically with
//! the consumer positions; nothing here does I/O.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::event::{Category, SubKind, UsageEvent};
use crate::money::Currency;
use crate::pricing::{MeterKey, PricingError, RateCard};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Minute,
    Hour,
    Day,
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 4] = [
        Granularity::Minute,
        Granularity::Hour,
        Granularity::Day,
        Granularity::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Month => "month",
        }
    }

    /// Start of the bucket holding `ts`.
    pub fn bucket_start(self, ts: DateTime<Utc>) -> DateTime<Utc> {
        let d = ts.date_naive();
        let at = |date: NaiveDate, h: u32, m: u32| {
            Utc.from_utc_datetime(&date.and_hms_opt(h, m, 0).unwrap_or_default())
        };
        match self {
            Granularity::Minute => at(d, ts.hour(), ts.minute()),
            Granularity::Hour => at(d, ts.hour(), 0),
            Granularity::Day => at(d, 0, 0),
            Granularity::Month => at(d.with_day(1).unwrap_or(d), 0, 0),
        }
    }

    /// Start of the bucket after the one starting at `start`.
    pub fn next_bucket(self, start: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Granularity::Minute => start + chrono::Duration::minutes(1),
            Granularity::Hour => start + chrono::Duration::hours(1),
            Granularity::Day => start + chrono::Duration::days(1),
            Granularity::Month => start.checked_add_months(Months::new(1)).unwrap_or(start),
        }
    }

    pub fn is_aligned(self, ts: DateTime<Utc>) -> bool {
        self.bucket_start(ts) == ts
    }
}

impl FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "minute" => Ok(Granularity::Minute),
            "hour" => Ok(Granularity::Hour),
            "day" => Ok(Granularity::Day),
            "month" => Ok(Granularity::Month),
            _ => Err("must be one of minute, hour, day, month".into()),
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The dimensions of one rollup series (everything but time).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub tenant: String,
    pub category: Category,
    pub sub_kind: SubKind,
    pub provider: String,
    pub service: String,
    pub resource: String,
    /// Canonical JSON of the event's labels (keys sorted), `{}` when none.
    pub labels: String,
    pub currency: Currency,
}

impl SeriesKey {
    pub fn for_event(e: &UsageEvent, currency: Currency) -> SeriesKey {
        SeriesKey {
            tenant: e.tenant.as_str().to_string(),
            category: e.category,
            sub_kind: e.sub_kind,
            provider: e.provider.clone(),
            service: e.service.clone(),
            resource: e.resource.clone(),
            labels: serde_json::to_string(&e.labels).unwrap_or_else(|_| "{}".into()),
            currency,
        }
    }

    pub fn label_map(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub granularity: Granularity,
    pub bucket: DateTime<Utc>,
    pub series: SeriesKey,
}

/// What a rollup cell accumulates. `billed` is the part that came billed from the source; the rest
/// of `amount` was estimated from rate cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupValue {
    pub amount: Decimal,
    pub billed: Decimal,
    pub events: u64,
}

impl RollupValue {
    pub fn checked_add(self, o: RollupValue) -> Option<RollupValue> {
        Some(RollupValue {
            amount: self.amount.checked_add(o.amount)?,
            billed: self.billed.checked_add(o.billed)?,
            events: self.events.checked_add(o.events)?,
        })
    }
}

/// A stored rollup cell, as the store returns it for queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    pub bucket: DateTime<Utc>,
    pub series: SeriesKey,
    pub value: RollupValue,
}

/// An event the aggregator could not price; it is dead-lettered with the reason, not counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub event: UsageEvent,
    pub reason: PricingError,
}

/// The aggregation decision for one batch.
#[derive(Debug, Clone, Default)]
pub struct BatchPlan {
    /// `(tenant, id)` of events counted by this batch.
    pub counted: Vec<(String, String)>,
    /// Duplicates skipped (already seen, or repeated within the batch).
    pub duplicates: usize,
    pub meters: HashMap<MeterKey, Decimal>,
    pub deltas: BTreeMap<RollupKey, RollupValue>,
    pub rejected: Vec<Rejected>,
    /// Tenants whose totals this batch changes, with the amount added per currency.
    pub touched: BTreeMap<String, BTreeMap<Currency, Decimal>>,
}

/// Decides what a batch changes. `seen` holds the ids among the batch that were already counted;
/// `meters` the current readings of the meters the batch's events use (missing = zero).
pub fn plan_batch(
    card: &RateCard,
    events: &[UsageEvent],
    seen: &HashSet<(String, String)>,
    meters: &HashMap<MeterKey, Decimal>,
) -> BatchPlan {
    let mut plan = BatchPlan::default();
    let mut in_batch: HashSet<(String, String)> = HashSet::new();
    for e in events {
        let id = (e.tenant.as_str().to_string(), e.id.clone());
        if seen.contains(&id) || !in_batch.insert(id.clone()) {
            plan.duplicates += 1;
            continue;
        }
        let meter_key = MeterKey::for_event(e);
        let before = plan
            .meters
            .get(&meter_key)
            .or_else(|| meters.get(&meter_key))
            .copied()
            .unwrap_or_default();
        let priced = match card.price(e, before) {
            Ok(p) => p,
            Err(reason) => {
                plan.rejected.push(Rejected {
                    event: e.clone(),
                    reason,
                });
                continue;
            }
        };
        if let Some(after) = priced.meter_after {
            plan.meters.insert(meter_key, after);
        }
        let series = SeriesKey::for_event(e, priced.cost.currency);
        let value = RollupValue {
            amount: priced.cost.amount,
            billed: if priced.billed {
                priced.cost.amount
            } else {
                Decimal::ZERO
            },
            events: 1,
        };
        for g in Granularity::ALL {
            let key = RollupKey {
                granularity: g,
                bucket: g.bucket_start(e.timestamp),
                series: series.clone(),
            };
            let cell = plan.deltas.entry(key).or_default();
            *cell = cell.checked_add(value).unwrap_or(*cell);
        }
        *plan
            .touched
            .entry(id.0.clone())
            .or_default()
            .entry(priced.cost.currency)
            .or_default() += priced.cost.amount;
        plan.counted.push(id);
    }
    plan
}

#[cfg(test)]
mod tests;
