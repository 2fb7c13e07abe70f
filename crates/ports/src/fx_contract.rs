//! The contract every [`FxRateStore`] passes: `fx_rate_store_contract!(make())`, where `make()`
//! yields a fresh, empty store each time.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use costwatch_domain::Currency;
use costwatch_domain::fx::DatedRate;

use crate::fx::FxRateStore;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("day")
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, hour, 0, 0)
        .single()
        .expect("valid time")
}

pub fn sample_rate(d: &str, currency: &str, per_eur: &str, source: &str) -> DatedRate {
    DatedRate {
        day: day(d),
        currency: currency.parse::<Currency>().expect("currency"),
        per_eur: per_eur.parse().expect("rate"),
        source: source.into(),
        fetched_at: at(16),
    }
}

/// Rates come back exactly (scale kept), ordered, and only inside the inclusive day range.
pub async fn rates_round_trip_in_range(store: &impl FxRateStore) {
    let rates = vec![
        sample_rate("2026-11-23", "USD", "1.1012", "ecb"),
        sample_rate("2026-11-20", "USD", "1.09870", "ecb"),
        sample_rate("2026-11-20", "JPY", "171.35", "ecb"),
        sample_rate("2025-12-31", "USD", "1.0389", "ecb"),
        sample_rate("2026-11-24", "GBP", "0.8441000000001", "ecb"),
    ];
    assert_eq!(store.put_rates(&rates).await.expect("put"), 5);
    let got = store
        .rates(day("2025-12-31"), day("2026-11-23"))
        .await
        .expect("list");
    let want = vec![
        rates[2].clone(),
        rates[3].clone(),
        rates[1].clone(),
        rates[0].clone(),
    ];
    assert_eq!(got, want);
    assert_eq!(got[2].per_eur.to_string(), "1.09870", "scale is kept");
    let none = store
        .rates(day("2026-11-25"), day("2026-12-31"))
        .await
        .expect("list");
    assert!(none.is_empty(), "{none:?}");
}

/// A second write of the same (currency, day) replaces the first, source and all.
pub async fn last_write_wins_per_currency_and_day(store: &impl FxRateStore) {
    let ecb = sample_rate("2026-11-20", "USD", "1.0987", "ecb");
    store
        .put_rates(std::slice::from_ref(&ecb))
        .await
        .expect("put");
    store
        .put_rates(std::slice::from_ref(&ecb))
        .await
        .expect("again");
    let mut manual = sample_rate("2026-11-20", "USD", "1.1", "manual:alice");
    manual.fetched_at = at(18);
    store
        .put_rates(std::slice::from_ref(&manual))
        .await
        .expect("put");
    let got = store
        .rates(day("2026-11-20"), day("2026-11-20"))
        .await
        .expect("list");
    assert_eq!(got, vec![manual]);
    assert_eq!(store.put_rates(&[]).await.expect("empty"), 0);
}

/// `fx_rate_store_contract!(make() [, teardown = f] [, ignore = ".."])`: `f(&store)` runs after a
/// case passed (e.g. to drop a test keyspace).
#[macro_export]
macro_rules! fx_rate_store_contract {
    ($make:expr $(, teardown = $teardown:path)? $(, ignore = $why:literal)?) => {
        mod fx_rate_store_contract {
            use super::*;
            #[tokio::test]
            $(#[ignore = $why])?
            async fn rates_round_trip_in_range() {
                let store = $make.await;
                $crate::fx_contract::rates_round_trip_in_range(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn last_write_wins_per_currency_and_day() {
                let store = $make.await;
                $crate::fx_contract::last_write_wins_per_currency_and_day(&store).await;
                $($teardown(&store).await;)?
            }
        }
    };
}
