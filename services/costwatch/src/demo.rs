//! The demo generator: ~90 days of realistic multi-tenant usage (daily and weekly seasonality,
//! growth, a few spikes), then a live stream, so a newcomer sees a living system at once.
//!
//! Backfill ids are deterministic (`demo-{tenant}-{resource}-{metric}-{hour}`), so re-running it
//! can never double count. Shape factors use f64 (they are not money); quantities are rounded to
//! 3 places and billed costs to 11, like real billing exports.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as Span, Timelike, Utc};
use costwatch_domain::{Category, Currency, Granularity, Money, TenantId, UsageEvent};
use costwatch_ports::{CostStore, UsageLog};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use tokio::sync::watch;

struct Resource {
    category: Category,
    provider: &'static str,
    service: &'static str,
    resource: &'static str,
    metric: &'static str,
    unit: &'static str,
    per_hour: f64,
    /// Billed unit price (the source bills it); `None` = priced by the rate card.
    billed_price: Option<&'static str>,
    /// Follows the business day (requests, compute) or stays flat (storage).
    seasonal: bool,
    team: &'static str,
}

// A table-row constructor: the rows below read as a table, which a struct literal would not.
#[allow(clippy::too_many_arguments)]
const fn r(
    category: Category,
    provider: &'static str,
    service: &'static str,
    resource: &'static str,
    metric: &'static str,
    unit: &'static str,
    per_hour: f64,
    billed_price: Option<&'static str>,
    seasonal: bool,
    team: &'static str,
) -> Resource {
    Resource {
        category,
        provider,
        service,
        resource,
        metric,
        unit,
        per_hour,
        billed_price,
        seasonal,
        team,
    }
}

use Category::{Api, Database, Hosting, Other, ThirdParty};

const RESOURCES: &[Resource] = &[
    r(
        Hosting,
        "aws",
        "ec2",
        "i-0a1b2c3d4e/web-1",
        "vcpu_hours",
        "hour",
        8.0,
        Some("0.0416"),
        true,
        "web",
    ),
    r(
        Hosting,
        "gcp",
        "compute-engine",
        "gke/pool-a",
        "vcpu_hours",
        "hour",
        16.0,
        Some("0.031611"),
        true,
        "platform",
    ),
    r(
        Hosting,
        "aws",
        "s3",
        "bucket/assets",
        "storage_gb_hours",
        "GB-hour",
        1200.0,
        Some("0.0000315068"),
        false,
        "web",
    ),
    r(
        Hosting,
        "aws",
        "cloudfront",
        "dist/E2XAMPLE",
        "cdn_egress_gb",
        "GB",
        40.0,
        None,
        true,
        "web",
    ),
    r(
        Hosting,
        "aws",
        "ec2",
        "nat/gw-1",
        "egress_gb",
        "GB",
        15.0,
        None,
        true,
        "platform",
    ),
    r(
        Database,
        "aws",
        "dynamodb",
        "table/orders",
        "read_units",
        "unit",
        2_000_000.0,
        None,
        true,
        "checkout",
    ),
    r(
        Database,
        "aws",
        "dynamodb",
        "table/orders",
        "write_units",
        "unit",
        300_000.0,
        None,
        true,
        "checkout",
    ),
    r(
        Database,
        "gcp",
        "cloud-sql",
        "sql/main-pg",
        "storage_gb_hours",
        "GB-hour",
        500.0,
        Some("0.000232877"),
        false,
        "platform",
    ),
    r(
        Database,
        "aws",
        "rds",
        "rds/main-replica",
        "replica_hours",
        "hour",
        1.0,
        Some("0.48"),
        false,
        "platform",
    ),
    r(
        Database,
        "azure",
        "cosmos-db",
        "cosmos/catalog",
        "request_units",
        "RU",
        5_000_000.0,
        None,
        true,
        "catalog",
    ),
    r(
        Api,
        "internal",
        "api-gateway",
        "gw/public",
        "requests",
        "request",
        400_000.0,
        None,
        true,
        "web",
    ),
    r(
        Api,
        "internal",
        "api-gateway",
        "gw/public",
        "premium_feature_calls",
        "call",
        500.0,
        None,
        true,
        "web",
    ),
    r(
        ThirdParty,
        "openai",
        "gpt-4o",
        "org/main",
        "tokens",
        "token",
        2_000_000.0,
        None,
        true,
        "ml",
    ),
    r(
        ThirdParty,
        "stripe",
        "payments-api",
        "acct/main",
        "requests",
        "request",
        3000.0,
        None,
        true,
        "checkout",
    ),
    r(
        Other,
        "datadog",
        "monitoring",
        "org/main",
        "host_hours",
        "hour",
        40.0,
        Some("0.0311"),
        false,
        "platform",
    ),
];

const TENANTS: &[(&str, f64)] = &[("acme", 1.0), ("globex", 0.6), ("initech", 0.25)];

fn seed(parts: &[&str], hour: i64) -> u64 {
    // FNV-1a: stable across runs and platforms (std's hasher is randomly keyed).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts
        .iter()
        .flat_map(|p| p.bytes().chain([0]))
        .chain(hour.to_le_bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The usage of one resource of one tenant in the hour starting at `hour`.
fn hourly_quantity(
    res: &Resource,
    tenant: &str,
    scale: f64,
    hour: DateTime<Utc>,
    origin: DateTime<Utc>,
) -> f64 {
    let mut rng =
        SmallRng::seed_from_u64(seed(&[tenant, res.resource, res.metric], hour.timestamp()));
    let days = (hour - origin).num_hours() as f64 / 24.0;
    let growth = 1.0 + 0.004 * days;
    let (daily, weekly) = if res.seasonal {
        let h = f64::from(hour.hour());
        let daily = 1.0 + 0.45 * ((h - 9.0) / 24.0 * std::f64::consts::TAU).cos();
        let weekly = if hour.weekday().number_from_monday() >= 6 {
            0.65
        } else {
            1.0
        };
        (daily, weekly)
    } else {
        (1.0, 1.0)
    };
    // A few spikes: a tenant's resource runs hot for three hours on one day in ~150.
    let day_seed = seed(&[tenant, res.resource, "spike"], hour.timestamp() / 86_400);
    let spike = if res.seasonal && day_seed.is_multiple_of(150) && (10..13).contains(&hour.hour()) {
        4.0
    } else {
        1.0
    };
    let noise = rng.random_range(0.9..1.1);
    res.per_hour * scale * growth * daily * weekly * spike * noise
}

fn event(
    res: &Resource,
    tenant: &str,
    id: String,
    at: DateTime<Utc>,
    quantity: f64,
) -> Option<UsageEvent> {
    let quantity = Decimal::from_f64_retain(quantity)?.round_dp(3);
    let cost = match res.billed_price {
        Some(price) => {
            let price: Decimal = price.parse().ok()?;
            Some(Money::new(
                (quantity * price).round_dp(11).normalize(),
                Currency::USD,
            ))
        }
        None => None,
    };
    Some(UsageEvent {
        id,
        tenant: TenantId::parse(tenant).ok()?,
        timestamp: at,
        category: res.category,
        sub_kind: res.category.infer_sub_kind(res.metric, res.unit),
        provider: res.provider.into(),
        service: res.service.into(),
        resource: res.resource.into(),
        metric: res.metric.into(),
        quantity,
        unit: res.unit.into(),
        cost,
        labels: BTreeMap::from([
            ("team".to_string(), res.team.to_string()),
            ("env".to_string(), "prod".to_string()),
        ]),
    })
}

/// The backfill events for every full hour in `[from, to)`.
pub fn backfill_events(from: DateTime<Utc>, to: DateTime<Utc>) -> impl Iterator<Item = UsageEvent> {
    let origin = Granularity::Hour.bucket_start(from);
    let hours = (to - origin).num_hours().max(0);
    (0..hours).flat_map(move |i| {
        let hour = origin + Span::hours(i);
        TENANTS.iter().flat_map(move |&(tenant, scale)| {
            RESOURCES.iter().filter_map(move |res| {
                let q = hourly_quantity(res, tenant, scale, hour, origin);
                let id = format!(
                    "demo-{tenant}-{}-{}-{}",
                    res.resource,
                    res.metric,
                    hour.timestamp()
                );
                // Usage is stamped mid-hour, like an hourly billing line.
                event(res, tenant, id, hour + Span::minutes(30), q)
            })
        })
    })
}

/// Backfills `days` of history (unless the store already has data), then streams live usage
/// every `tick` until shutdown.
pub async fn run(
    log: Arc<dyn UsageLog>,
    store: Arc<dyn CostStore>,
    days: i64,
    tick: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let now = Utc::now();
    let origin = Granularity::Hour.bucket_start(now - Span::days(days));
    match store.tenants().await {
        Ok(t) if t.is_empty() => {
            let started = std::time::Instant::now();
            let mut batch = Vec::with_capacity(5000);
            let mut total = 0usize;
            for e in backfill_events(origin, Granularity::Hour.bucket_start(now)) {
                batch.push(e);
                if batch.len() == batch.capacity() {
                    total += batch.len();
                    if let Err(e) = log.publish(&batch).await {
                        tracing::error!(error = %e, "demo backfill failed");
                        return;
                    }
                    batch.clear();
                }
            }
            total += batch.len();
            if let Err(e) = log.publish(&batch).await {
                tracing::error!(error = %e, "demo backfill failed");
                return;
            }
            tracing::info!(
                events = total,
                days,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "demo backfill published"
            );
        }
        Ok(_) => tracing::info!("store has data; demo backfill skipped"),
        Err(e) => tracing::warn!(error = %e, "cannot read tenants; demo backfill skipped"),
    }
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => return,
        }
        let at = Utc::now();
        let hour = Granularity::Hour.bucket_start(at);
        let share = tick.as_secs_f64() / 3600.0;
        let mut rng = SmallRng::seed_from_u64(seed(&["live"], at.timestamp_millis()));
        let events: Vec<UsageEvent> = TENANTS
            .iter()
            .flat_map(|&(tenant, scale)| {
                RESOURCES.iter().filter(|r| r.seasonal).map(move |res| {
                    let q = hourly_quantity(res, tenant, scale, hour, origin) * share;
                    (tenant, res, q)
                })
            })
            .filter(|_| rng.random_bool(0.3))
            .filter_map(|(tenant, res, q)| {
                n += 1;
                event(
                    res,
                    tenant,
                    format!("demo-live-{}-{}", at.timestamp_millis(), n),
                    at,
                    q,
                )
            })
            .collect();
        if !events.is_empty()
            && let Err(e) = log.publish(&events).await
        {
            tracing::warn!(error = %e, "demo live publish failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_domain::RateCard;

    #[test]
    fn backfill_is_deterministic_and_priceable() {
        let to: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        let from = to - Span::days(2);
        let a: Vec<_> = backfill_events(from, to).collect();
        let b: Vec<_> = backfill_events(from, to).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 48 * TENANTS.len() * RESOURCES.len());
        let card = RateCard::from_toml(include_str!("../../../deploy/rate-card.toml")).unwrap();
        for e in &a {
            card.check(e)
                .unwrap_or_else(|err| panic!("{}: {err}", e.id));
            assert!(e.cost.is_none_or(|c| c.amount.scale() <= 11));
        }
        let ids: std::collections::HashSet<_> = a.iter().map(|e| (&e.tenant, &e.id)).collect();
        assert_eq!(ids.len(), a.len(), "ids are unique");
    }

    #[test]
    fn weekdays_cost_more_than_weekends() {
        let origin: DateTime<Utc> = "2026-03-02T00:00:00Z".parse().unwrap(); // a Monday
        let res = &RESOURCES[10];
        let day = |d: i64| -> f64 {
            (0..24)
                .map(|h| {
                    hourly_quantity(
                        res,
                        "acme",
                        1.0,
                        origin + Span::days(d) + Span::hours(h),
                        origin,
                    )
                })
                .sum()
        };
        assert!(day(2) > day(5) * 1.2, "Wednesday busier than Saturday");
    }
}
