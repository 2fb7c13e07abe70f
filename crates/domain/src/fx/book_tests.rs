use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn rate(d: &str, c: &str, per_eur: &str) -> DatedRate {
    DatedRate {
        day: day(d),
        currency: c.parse().unwrap(),
        per_eur: per_eur.parse().unwrap(),
        source: "ecb".into(),
        fetched_at: Utc.with_ymd_and_hms(2026, 11, 20, 16, 0, 0).unwrap(),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn gbp() -> Currency {
    "GBP".parse().unwrap()
}

fn book() -> RateBook {
    // Friday 2026-11-20 and Monday 2026-11-23 fixings; nothing on the weekend.
    RateBook::new(
        FxRates::default(),
        [
            rate("2026-11-20", "USD", "1.05"),
            rate("2026-11-20", "GBP", "0.84"),
            rate("2026-11-23", "USD", "1.10"),
            rate("2026-11-23", "GBP", "0.85"),
        ],
    )
}

#[test]
fn weekends_use_the_previous_business_day_and_weekdays_their_own() {
    let b = book();
    let convert = |d: &str| {
        b.fixing(Currency::EUR, Currency::USD, day(d))
            .unwrap()
            .apply(dec("100"))
            .unwrap()
    };
    assert_eq!(convert("2026-11-20"), dec("105"));
    assert_eq!(convert("2026-11-22"), dec("105")); // Sunday: Friday's fixing
    assert_eq!(convert("2026-11-23"), dec("110"));
    // USD -> GBP crosses through EUR: 110 USD = 100 EUR = 85 GBP on Monday.
    let cross = b.fixing(Currency::USD, gbp(), day("2026-11-23")).unwrap();
    assert_eq!(cross.apply(dec("110")).unwrap(), dec("85"));
}

#[test]
fn stale_or_missing_fixings_fall_back_to_the_table_then_fail_naming_the_day() {
    let b = book();
    // Eight days after the last USD fixing: too old, the reference table (1 EUR = 1.08 USD) applies.
    let late = b
        .fixing(Currency::EUR, Currency::USD, day("2026-12-01"))
        .unwrap();
    assert_eq!(late.published, [None, None]);
    assert_eq!(late.apply(dec("100")).unwrap(), dec("108"));
    let sek: Currency = "SEK".parse().unwrap();
    let err = b.fixing(sek, Currency::USD, day("2026-11-23")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no exchange rate for SEK on 2026-11-23: none published in the 7 days before and none in the fx table"
    );
}

#[test]
fn totals_convert_each_currency_once_per_fixing() {
    let b = book();
    // 1/3 EUR-cents on Saturday and Sunday share Friday's fixing: summed first, converted once.
    let third = dec("0.333333333333333");
    let amounts = BTreeMap::from([
        ((Currency::EUR, day("2026-11-21")), third),
        ((Currency::EUR, day("2026-11-22")), third),
        ((Currency::EUR, day("2026-11-23")), dec("1")),
        ((Currency::USD, day("2026-11-23")), dec("2")),
    ]);
    let total = total_on(&b, &amounts, Currency::USD).unwrap();
    // (2/3 · 1.05) rounded once + 1.10 + 2
    let weekend = round_computed(dec("0.666666666666666") * dec("1.05"));
    assert_eq!(total, weekend + dec("1.10") + dec("2"));
}

#[test]
fn a_reference_table_alone_keeps_the_per_currency_rule() {
    let fx = FxRates::default();
    let amounts = BTreeMap::from([
        ((Currency::EUR, day("2026-11-01")), dec("0.1")),
        ((Currency::EUR, day("2026-11-02")), dec("0.2")),
        ((Currency::USD, day("2026-11-02")), dec("5")),
    ]);
    let per_currency = BTreeMap::from([(Currency::EUR, dec("0.3")), (Currency::USD, dec("5"))]);
    assert_eq!(
        total_on(&fx, &amounts, Currency::USD).unwrap(),
        fx.total_in(&per_currency, Currency::USD).unwrap()
    );
}

#[test]
fn rates_are_checked_naming_the_field() {
    let mut r = rate("2026-11-20", "USD", "0");
    assert_eq!(
        r.check(),
        Err(("rate", "must be positive, got 0".to_string()))
    );
    r = rate("2026-11-20", "EUR", "2");
    assert_eq!(r.check().unwrap_err().0, "currency");
    r = rate("2026-11-20", "EUR", "1");
    assert_eq!(r.check(), Ok(()));
    r = rate("2026-11-20", "USD", "1.1");
    r.source = " ".into();
    assert_eq!(r.check().unwrap_err().0, "source");
}

proptest! {
    /// Splitting a currency's amount across days that share a fixing never changes the total,
    /// and a total in the source currency is the exact sum.
    #[test]
    fn totals_do_not_depend_on_how_amounts_split_across_days(
        cents in proptest::collection::vec(0i64..10_000_000, 1..20),
    ) {
        let b = book();
        let weekend = [day("2026-11-21"), day("2026-11-22")];
        let mut split = BTreeMap::new();
        let mut whole = Decimal::ZERO;
        for (i, c) in cents.iter().enumerate() {
            let d = Decimal::new(*c, 11);
            whole += d;
            *split.entry((Currency::EUR, weekend[i % 2])).or_insert(Decimal::ZERO) += d;
        }
        let one = BTreeMap::from([((Currency::EUR, weekend[0]), whole)]);
        prop_assert_eq!(
            total_on(&b, &split, gbp()).unwrap(),
            total_on(&b, &one, gbp()).unwrap()
        );
        prop_assert_eq!(total_on(&b, &split, Currency::EUR).unwrap(), whole);
    }
}
