//! Which series a rollup cell belongs to, hourly totals per series, and the root cause of an
//! anomalous window (pure: no I/O).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use costwatch_analytics::detect::{Contributor, rank_contributors};
use costwatch_domain::{Currency, RollupRow, SeriesKey};
use rust_decimal::Decimal;

use crate::Error;

/// The series keys a cell adds to: `total|USD`, `category=database|USD`, `provider=aws|USD`,
/// `service=ec2|USD`. The currency is part of the key: amounts of different currencies are
/// never added.
pub fn series_of(key: &SeriesKey) -> [String; 4] {
    let cur = key.currency.as_str();
    [
        format!("total|{cur}"),
        format!("category={}|{cur}", key.category.as_str()),
        format!("provider={}|{cur}", key.provider),
        format!("service={}|{cur}", key.service),
    ]
}

/// Whether a cell belongs to `series` (one of [`series_of`]'s keys).
pub fn belongs_to(key: &SeriesKey, series: &str) -> bool {
    series_of(key).iter().any(|s| s == series)
}

/// The currency of a series key (its suffix after `|`).
pub fn currency_of(series: &str) -> Result<Currency, Error> {
    let code = series.rsplit('|').next().unwrap_or_default();
    code.parse()
        .map_err(|e| Error::Corrupt(format!("series {series:?}: {e}")))
}

/// Hourly totals per series: series → bucket start → amount.
pub type Totals = BTreeMap<String, BTreeMap<DateTime<Utc>, Decimal>>;

pub fn hourly_totals(rows: &[RollupRow]) -> Result<Totals, Error> {
    let mut out = Totals::new();
    for row in rows {
        for series in series_of(&row.series) {
            let cell = out
                .entry(series)
                .or_default()
                .entry(row.bucket)
                .or_insert(Decimal::ZERO);
            *cell = cell
                .checked_add(row.value.amount)
                .ok_or_else(|| Error::Corrupt("hourly total overflows".into()))?;
        }
    }
    Ok(out)
}

/// Root-cause dimensions of one cell: its resource and each of its labels.
fn dimensions(key: &SeriesKey) -> (String, Vec<String>) {
    let resource = format!("resource={}", key.resource);
    // Labels are canonical JSON written by the aggregator; an unreadable one explains nothing
    // but must not stop the anomaly from being reported.
    let labels = serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&key.labels)
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("label:{k}={s}"),
                    other => format!("label:{k}={other}"),
                })
                .collect()
        })
        .unwrap_or_default();
    (resource, labels)
}

/// Resources and labels ranked by their share of the deviation of `series` in
/// `[window_start, window_end)` against `[baseline_start, window_start)`, top `top` of each.
pub fn root_cause(
    rows: &[RollupRow],
    series: &str,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    baseline_start: DateTime<Utc>,
    top: usize,
) -> Result<(Vec<Contributor>, Vec<Contributor>), Error> {
    type Sums = BTreeMap<String, Decimal>;
    let add = |m: &mut Sums, k: String, v: Decimal| -> Result<(), Error> {
        let cell = m.entry(k).or_insert(Decimal::ZERO);
        *cell = cell
            .checked_add(v)
            .ok_or_else(|| Error::Corrupt("contribution overflows".into()))?;
        Ok(())
    };
    let (mut win_res, mut win_lab, mut base_res, mut base_lab) =
        (Sums::new(), Sums::new(), Sums::new(), Sums::new());
    // The baseline is as long as the series' history in the range, so a young series is not
    // compared with hours in which it did not exist yet.
    let mut first_baseline: Option<DateTime<Utc>> = None;
    for row in rows.iter().filter(|r| belongs_to(&r.series, series)) {
        let (resource, labels) = dimensions(&row.series);
        let amount = row.value.amount;
        let (res, lab) = if row.bucket >= window_start && row.bucket < window_end {
            (&mut win_res, &mut win_lab)
        } else if row.bucket >= baseline_start && row.bucket < window_start {
            first_baseline = Some(first_baseline.map_or(row.bucket, |f| f.min(row.bucket)));
            (&mut base_res, &mut base_lab)
        } else {
            continue;
        };
        add(res, resource, amount)?;
        for l in labels {
            add(lab, l, amount)?;
        }
    }
    let hours = |from: DateTime<Utc>, to: DateTime<Utc>| {
        u32::try_from((to - from).num_hours().max(1)).unwrap_or(u32::MAX)
    };
    let window_len = hours(window_start, window_end);
    let baseline_len = hours(first_baseline.unwrap_or(baseline_start), window_start);
    let rank = |w: &Sums, b: &Sums| -> Result<Vec<Contributor>, Error> {
        let mut ranked = rank_contributors(w, b, window_len, baseline_len)
            .map_err(|e| Error::Detector(e.to_string()))?;
        ranked.truncate(top);
        Ok(ranked)
    };
    Ok((rank(&win_res, &base_res)?, rank(&win_lab, &base_lab)?))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use costwatch_domain::{Category, RollupValue, SubKind};

    use super::*;

    fn row(at: DateTime<Utc>, resource: &str, labels: &str, amount: i64) -> RollupRow {
        RollupRow {
            bucket: at,
            series: SeriesKey {
                tenant: "acme".into(),
                category: Category::Hosting,
                sub_kind: SubKind::Compute,
                provider: "aws".into(),
                service: "ec2".into(),
                resource: resource.into(),
                labels: labels.into(),
                currency: Currency::USD,
            },
            value: RollupValue {
                amount: Decimal::from(amount),
                billed: Decimal::ZERO,
                events: 1,
            },
        }
    }

    #[test]
    fn the_resource_that_grew_leads_and_labels_are_ranked_apart() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("t");
        let mut rows = Vec::new();
        for h in 0..10 {
            rows.push(row(t + Duration::hours(h), "r-a", r#"{"team":"web"}"#, 5));
            rows.push(row(t + Duration::hours(h), "r-b", r#"{"team":"web"}"#, 5));
        }
        let w = t + Duration::hours(10);
        rows.push(row(w, "r-a", r#"{"team":"web"}"#, 5));
        rows.push(row(w, "r-b", r#"{"team":"web"}"#, 50));
        let totals = hourly_totals(&rows).expect("totals");
        assert_eq!(totals["total|USD"][&w], Decimal::from(55));
        assert_eq!(totals["service=ec2|USD"].len(), 11);
        let (res, labels) = root_cause(
            &rows,
            "service=ec2|USD",
            w,
            w + Duration::hours(1),
            t - Duration::hours(100),
            5,
        )
        .expect("rank");
        assert_eq!(res[0].key, "resource=r-b");
        assert_eq!(res[0].delta, Decimal::from(45));
        assert_eq!(
            res[1].delta,
            Decimal::ZERO,
            "baseline scaled to its 10 real hours"
        );
        assert_eq!(labels[0].key, "label:team=web");
        assert!(root_cause(&rows, "service=s3|USD", w, w, t, 5).is_ok_and(|(r, _)| r.is_empty()));
        assert_eq!(currency_of("provider=a|b|EUR").expect("cur"), Currency::EUR);
    }
}
