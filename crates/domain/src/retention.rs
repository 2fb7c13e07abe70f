//! Data retention per tenant: how long a tenant's cost history is kept. A store removes a
//! tenant's time-bound rows that lie wholly before the tenant's cutoff; configuration rows
//! (budgets, rules, API keys) and idempotency keys are not time-bound and stay.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::rollup::Granularity;

/// The shortest retention accepted: a month of history is what budgets, forecasts and the
/// month-over-month views need, so a shorter setting is a typo more likely than a wish.
pub const MIN_RETENTION_DAYS: u32 = 31;

/// Days of history kept per tenant; `None` (or no entry without a default) keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Applies to every tenant without an entry of its own.
    pub default_days: Option<u32>,
    pub tenants: BTreeMap<String, u32>,
}

impl RetentionPolicy {
    /// True when nothing is ever removed.
    pub fn keeps_everything(&self) -> bool {
        self.default_days.is_none() && self.tenants.is_empty()
    }

    /// The instant before which `tenant`'s rows go, at `now`; `None` to keep them all.
    pub fn cutoff(&self, tenant: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = self.tenants.get(tenant).copied().or(self.default_days)?;
        Some(now - Duration::days(i64::from(days)))
    }

    /// Problems, each naming its setting (`retention_days`, `retention_tenants.<tenant>`).
    pub fn problems(&self) -> Vec<String> {
        let short = |days: u32| days < MIN_RETENTION_DAYS;
        let mut problems = Vec::new();
        if let Some(days) = self.default_days.filter(|d| short(*d)) {
            problems.push(format!(
                "retention_days: {days} is shorter than the minimum of {MIN_RETENTION_DAYS} days"
            ));
        }
        for (tenant, days) in &self.tenants {
            if let Err(reason) = crate::TenantId::parse(tenant) {
                problems.push(format!("retention_tenants.{tenant}: {reason}"));
            } else if short(*days) {
                problems.push(format!(
                    "retention_tenants.{tenant}: {days} is shorter than the minimum of {MIN_RETENTION_DAYS} days"
                ));
            }
        }
        problems
    }
}

/// The first rollup bucket of `granularity` to keep for `cutoff`: the bucket holding the cutoff
/// stays whole (its month still has days inside the retention), every earlier one goes.
pub fn first_kept_bucket(granularity: Granularity, cutoff: DateTime<Utc>) -> DateTime<Utc> {
    granularity.bucket_start(cutoff)
}

/// The first meter month to keep (`YYYY-MM`, the format of `MeterKey::month`).
pub fn first_kept_month(cutoff: DateTime<Utc>) -> String {
    cutoff.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn policy(default: Option<u32>, tenants: &[(&str, u32)]) -> RetentionPolicy {
        RetentionPolicy {
            default_days: default,
            tenants: tenants.iter().map(|(t, d)| (t.to_string(), *d)).collect(),
        }
    }

    #[test]
    fn a_tenant_entry_overrides_the_default() {
        let now = at("2026-11-29T12:00:00Z");
        let p = policy(Some(400), &[("acme", 31)]);
        assert_eq!(p.cutoff("acme", now), Some(at("2026-10-29T12:00:00Z")));
        assert_eq!(p.cutoff("globex", now), Some(now - Duration::days(400)));
        let keep = policy(None, &[("acme", 90)]);
        assert_eq!(keep.cutoff("globex", now), None, "no default keeps all");
        assert!(policy(None, &[]).keeps_everything());
        assert!(!keep.keeps_everything());
    }

    #[test]
    fn problems_name_the_setting() {
        let p = policy(
            Some(7),
            &[("acme", 30), ("bad tenant!", 400), ("globex", 31)],
        );
        let problems = p.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("retention_days: 7"));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("retention_tenants.acme: 30"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("retention_tenants.bad tenant!:"))
        );
        assert!(policy(Some(31), &[("globex", 3650)]).problems().is_empty());
    }

    #[test]
    fn the_bucket_holding_the_cutoff_is_kept_whole() {
        let cutoff = at("2026-03-14T15:09:26Z");
        assert_eq!(
            first_kept_bucket(Granularity::Month, cutoff),
            at("2026-03-01T00:00:00Z")
        );
        assert_eq!(
            first_kept_bucket(Granularity::Hour, cutoff),
            at("2026-03-14T15:00:00Z")
        );
        assert_eq!(first_kept_month(cutoff), "2026-03");
    }

    proptest! {
        /// Whatever the cutoff, a removed bucket ends at or before it (no kept day is lost) and
        /// the kept bucket holding it starts at or before it.
        #[test]
        fn removed_buckets_end_before_the_cutoff(secs in 0i64..4_000_000_000, g in 0usize..4) {
            let granularity = Granularity::ALL[g];
            let cutoff = Utc.timestamp_opt(secs, 0).single().expect("time");
            let first = first_kept_bucket(granularity, cutoff);
            prop_assert!(first <= cutoff);
            prop_assert!(granularity.next_bucket(first) > cutoff);
        }
    }
}
