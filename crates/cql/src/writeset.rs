//! A commit's complete write set with absolute values: what the commit record stores and what is
//! (re-)applied with the commit's write timestamp.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use costwatch_domain::Granularity;
use costwatch_domain::rollup::RollupKey;
use serde::{Deserialize, Serialize};

/// One rollup cell's new absolute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellWrite {
    pub tenant: String,
    pub granularity: String,
    pub period: i64,
    pub bucket: i64,
    pub category: String,
    pub sub_kind: String,
    pub provider: String,
    pub service: String,
    pub resource: String,
    pub labels: String,
    pub currency: String,
    pub amount: String,
    pub billed: String,
    pub events: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterWrite {
    pub tenant: String,
    pub month: String,
    pub provider: String,
    pub service: String,
    pub metric: String,
    pub quantity: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterWrite {
    pub tenant: String,
    pub month: String,
    pub at_millis: i64,
    pub idx: i32,
    pub event_id: String,
    pub event_json: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteSet {
    pub cells: Vec<CellWrite>,
    pub meters: Vec<MeterWrite>,
    pub counted: Vec<(String, String)>,
    pub dead_letters: Vec<DeadLetterWrite>,
    pub tenants: Vec<String>,
}

/// The records are cut in parts of about this many bytes, so no cell gets large.
pub const RECORD_PART_BYTES: usize = 256 * 1024;

impl WriteSet {
    /// The record body, cut into parts; `join_parts` restores it.
    pub fn to_parts(&self) -> Result<Vec<String>, serde_json::Error> {
        let text = serde_json::to_string(self)?;
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(RECORD_PART_BYTES);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (head, tail) = rest.split_at(cut);
            parts.push(head.to_string());
            rest = tail;
        }
        Ok(parts)
    }

    pub fn join_parts(parts: &[String]) -> Result<WriteSet, serde_json::Error> {
        serde_json::from_str(&parts.concat())
    }
}

/// The partition a bucket's cell lives in: minute cells by UTC day, hour cells by month, day
/// cells by year, month cells all in one (period 0). Keeps partitions bounded (≤ 1440 buckets
/// × series for minutes).
pub fn period_of(granularity: Granularity, bucket: DateTime<Utc>) -> i64 {
    let start = match granularity {
        Granularity::Minute => {
            Utc.with_ymd_and_hms(bucket.year(), bucket.month(), bucket.day(), 0, 0, 0)
        }
        Granularity::Hour => Utc.with_ymd_and_hms(bucket.year(), bucket.month(), 1, 0, 0, 0),
        Granularity::Day => Utc.with_ymd_and_hms(bucket.year(), 1, 1, 0, 0, 0),
        Granularity::Month => return 0,
    };
    start.single().map_or(0, |s| s.timestamp())
}

/// The periods a query over `[from, to)` must read, in order.
pub fn periods_between(
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<i64> {
    if to <= from {
        return Vec::new();
    }
    if granularity == Granularity::Month {
        return vec![0];
    }
    let last = period_of(granularity, to - chrono::Duration::seconds(1));
    let mut out = Vec::new();
    let mut cursor = from;
    loop {
        let p = period_of(granularity, cursor);
        out.push(p);
        if p >= last {
            return out;
        }
        let Some(next) = next_period(granularity, p) else {
            return out;
        };
        cursor = next;
    }
}

fn next_period(granularity: Granularity, period: i64) -> Option<DateTime<Utc>> {
    let start = Utc.timestamp_opt(period, 0).single()?;
    match granularity {
        Granularity::Minute => Some(start + chrono::Duration::days(1)),
        Granularity::Hour => {
            let (y, m) = if start.month() == 12 {
                (start.year() + 1, 1)
            } else {
                (start.year(), start.month() + 1)
            };
            Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()
        }
        Granularity::Day => Utc
            .with_ymd_and_hms(start.year() + 1, 1, 1, 0, 0, 0)
            .single(),
        Granularity::Month => None,
    }
}

pub fn cell_key(k: &RollupKey) -> (String, String, i64, i64) {
    (
        k.series.tenant.clone(),
        k.granularity.as_str().to_string(),
        period_of(k.granularity, k.bucket),
        k.bucket.timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn periods_cover_month_and_year_boundaries() {
        let hours = periods_between(Granularity::Hour, at(2026, 11, 20, 0), at(2027, 2, 1, 0));
        assert_eq!(
            hours,
            [at(2026, 11, 1, 0), at(2026, 12, 1, 0), at(2027, 1, 1, 0)]
                .iter()
                .map(|t| t.timestamp())
                .collect::<Vec<_>>(),
            "to is exclusive: Feb 2027 is not read"
        );
        let days = periods_between(Granularity::Minute, at(2026, 3, 1, 23), at(2026, 3, 3, 1));
        assert_eq!(days.len(), 3);
        assert!(periods_between(Granularity::Day, at(2026, 3, 1, 0), at(2026, 3, 1, 0)).is_empty());
        assert_eq!(
            periods_between(Granularity::Month, at(2020, 1, 1, 0), at(2030, 1, 1, 0)),
            vec![0]
        );
    }

    #[test]
    fn every_bucket_falls_in_a_period_the_query_reads() {
        for g in Granularity::ALL {
            let from = at(2026, 1, 30, 5);
            let to = at(2026, 3, 2, 7);
            let periods = periods_between(g, from, to);
            let mut t = from;
            while t < to {
                assert!(periods.contains(&period_of(g, t)), "{g:?} {t}");
                t += chrono::Duration::hours(7);
            }
        }
    }

    #[test]
    fn records_round_trip_through_parts() {
        let set = WriteSet {
            counted: (0..20_000)
                .map(|i| ("acme".to_string(), format!("évènement-{i}")))
                .collect(),
            ..Default::default()
        };
        let parts = set.to_parts().expect("serialize");
        assert!(parts.len() > 1, "large sets are cut");
        assert!(parts.iter().all(|p| p.len() <= RECORD_PART_BYTES));
        assert_eq!(WriteSet::join_parts(&parts).expect("parse"), set);
    }
}
