//! Pure mapping of `GetCostAndUsage` answers to events: no I/O, unit-testable with the SDK's
//! own types built in memory.

use std::collections::BTreeSet;

use aws_sdk_costexplorer::types::ResultByTime;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use costwatch_domain::TenantId;
use costwatch_domain::validate::parse_decimal;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{GroupKey, PROVIDER};
use crate::event::{Draft, Events, Identity, NONE, classify, day_start};

/// The day of a `TimePeriod.Start` (`2024-05-01`; a timestamp form is cut to its date).
pub fn period_day(start: &str) -> Result<NaiveDate, String> {
    let date = start.get(..10).unwrap_or(start);
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| format!("TimePeriod.Start {start:?}"))
}

/// What a window's answer (all pages) holds.
#[derive(Debug, Default)]
pub struct Mapped {
    pub events: Vec<(NaiveDate, Value)>,
    /// Days AWS marked `Estimated: true` (their amounts may still change).
    pub estimated: BTreeSet<NaiveDate>,
}

/// The last day of `from..=to` that may be checkpointed: the day before the first estimated day
/// (AWS revises estimated amounts, and an event id does not contain the amount, so an estimated
/// amount once delivered would stick). `None` when `from` itself is estimated.
pub fn complete_through(
    from: NaiveDate,
    to: NaiveDate,
    estimated: &BTreeSet<NaiveDate>,
) -> Option<NaiveDate> {
    match estimated.range(from..=to).next() {
        Some(&first) if first <= from => None,
        Some(&first) => Some(first - Duration::days(1)),
        None => Some(to),
    }
}

/// What identifies the account polled and how its answer is read.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    pub scope: &'a str,
    pub metric: &'a str,
    /// The `GroupBy` keys in request order (the order of each group's `Keys`).
    pub group_by: &'a [GroupKey],
}

/// One page of `ResultsByTime` → `(day, event)`s, appended to `out`. Pure: no I/O.
pub fn map_results(
    shape: Shape<'_>,
    results: &[ResultByTime],
    tenant: &TenantId,
    now: DateTime<Utc>,
    out: &mut Mapped,
) -> Result<(), String> {
    let mut events = Events::new(tenant, now, results.len());
    for (r, result) in results.iter().enumerate() {
        let period = result
            .time_period()
            .ok_or_else(|| format!("result {r}: no TimePeriod"))?;
        let day = period_day(period.start()).map_err(|e| format!("result {r}: {e}"))?;
        if result.estimated() {
            out.estimated.insert(day);
        }
        for (g, group) in result.groups().iter().enumerate() {
            let row = || format!("result {r} ({day}) group {g} {:?}", group.keys());
            let key = |k: GroupKey| {
                shape
                    .group_by
                    .iter()
                    .position(|&x| x == k)
                    .and_then(|i| group.keys().get(i))
                    .map(String::as_str)
                    .filter(|v| !v.trim().is_empty())
            };
            let metric = group
                .metrics()
                .and_then(|m| m.get(shape.metric))
                .ok_or_else(|| format!("{}: no {} metric", row(), shape.metric))?;
            // The amount's own text, never an f64: Cost Explorer sends e.g. "0.00000012345".
            let cost = match metric.amount() {
                Some(a) => parse_decimal(a).map_err(|e| format!("{}: Amount {e}", row()))?,
                None => Decimal::ZERO,
            };
            let currency = metric
                .unit()
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| format!("{}: no Unit (currency)", row()))?;
            let service = key(GroupKey::Service);
            let linked = key(GroupKey::LinkedAccount);

            let mut identity = Identity::default();
            identity.text("scope", Some(shape.scope));
            identity.text("day", Some(&day.format("%Y-%m-%d").to_string()));
            identity.text("metric", Some(shape.metric));
            for (k, value) in shape.group_by.iter().zip(group.keys()) {
                identity.text(k.as_str(), Some(value));
            }
            let (category, sub_kind) = classify(service.unwrap_or(""));
            let mut draft = Draft {
                id: identity.event_id(PROVIDER),
                timestamp: day_start(day),
                category,
                sub_kind,
                provider: PROVIDER,
                service: service.unwrap_or(NONE).to_string(),
                resource: linked.unwrap_or(NONE).to_string(),
                metric: shape.metric.to_string(),
                unit: NONE.into(),
                quantity: Decimal::ZERO,
                cost,
                currency: currency.to_string(),
                labels: Default::default(),
            };
            draft.label("account", Some(shape.scope));
            draft.label("linked_account", linked);
            draft.label("cost_metric", Some(shape.metric));
            draft.label("granularity", Some("daily"));
            events.push(day, draft, row)?;
        }
    }
    out.events.extend(events.into_vec());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_costexplorer::types::{DateInterval, Group, MetricValue};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).unwrap_or_default()
    }

    fn result(d: u32, estimated: bool, groups: &[(&str, &str, &str)]) -> ResultByTime {
        let period = DateInterval::builder()
            .start(day(d).to_string())
            .end((day(d) + Duration::days(1)).to_string())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut b = ResultByTime::builder()
            .time_period(period)
            .estimated(estimated);
        for (service, amount, unit) in groups {
            let metric = MetricValue::builder().amount(*amount).unit(*unit).build();
            b = b.groups(
                Group::builder()
                    .keys(*service)
                    .metrics("UnblendedCost", metric)
                    .build(),
            );
        }
        b.build()
    }

    const SHAPE: Shape<'static> = Shape {
        scope: "123456789012",
        metric: "UnblendedCost",
        group_by: &[GroupKey::Service],
    };

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn amounts_are_exact_and_services_classified() -> Result<(), String> {
        let mut out = Mapped::default();
        let results = [result(
            1,
            false,
            &[
                (
                    "Amazon Elastic Compute Cloud - Compute",
                    "0.00000012345",
                    "USD",
                ),
                ("Amazon Relational Database Service", "1.5E-7", "USD"),
            ],
        )];
        map_results(SHAPE, &results, &tenant(), Utc::now(), &mut out)?;
        assert_eq!(out.events.len(), 2);
        let (d, ec2) = &out.events[0];
        assert_eq!(*d, day(1));
        assert_eq!(ec2["cost"]["amount"], "0.00000012345");
        assert_eq!(ec2["cost"]["currency"], "USD");
        assert_eq!(ec2["category"], "hosting");
        assert_eq!(ec2["subKind"], "compute");
        assert_eq!(ec2["provider"], "aws");
        assert!(ec2["id"].as_str().is_some_and(|i| i.starts_with("aws-")));
        assert_eq!(out.events[1].1["cost"]["amount"], "0.00000015");
        assert_eq!(out.events[1].1["category"], "database");
        assert!(out.estimated.is_empty());
        Ok(())
    }

    #[test]
    fn a_group_without_the_metric_or_currency_is_an_error() {
        let mut out = Mapped::default();
        let bad = [result(1, false, &[("AWS Lambda", "x", "USD")])];
        let err = map_results(SHAPE, &bad, &tenant(), Utc::now(), &mut out);
        assert!(err.is_err_and(|e| e.contains("Amount")));
        let no_unit = [result(1, false, &[("AWS Lambda", "1", "")])];
        let err = map_results(SHAPE, &no_unit, &tenant(), Utc::now(), &mut out);
        assert!(err.is_err_and(|e| e.contains("Unit")));
    }

    #[test]
    fn checkpoints_stop_before_the_first_estimated_day() {
        let est: BTreeSet<NaiveDate> = [day(3), day(4)].into();
        assert_eq!(complete_through(day(1), day(4), &est), Some(day(2)));
        assert_eq!(complete_through(day(3), day(4), &est), None);
        assert_eq!(complete_through(day(1), day(2), &est), Some(day(2)));
        assert_eq!(
            complete_through(day(1), day(4), &BTreeSet::new()),
            Some(day(4))
        );
    }
}
