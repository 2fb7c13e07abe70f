use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::event::Category;
use crate::money::Currency;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn spec(amount: &str) -> BudgetSpec {
    BudgetSpec {
        name: "Platform".into(),
        amount: dec(amount),
        currency: Currency::USD,
        period: Period::Monthly,
        scope: BudgetScope::default(),
        thresholds: default_thresholds(),
        allocations: vec![],
        owner: None,
    }
}

#[test]
fn calendar_windows_are_utc_aligned() {
    let t = at(2026, 11, 29, 13);
    assert_eq!(
        Period::Monthly.window(t),
        PeriodWindow {
            start: at(2026, 11, 1, 0),
            end: at(2026, 12, 1, 0)
        }
    );
    assert_eq!(
        Period::Quarterly.window(t),
        PeriodWindow {
            start: at(2026, 10, 1, 0),
            end: at(2027, 1, 1, 0)
        }
    );
    assert_eq!(
        Period::Yearly.window(t),
        PeriodWindow {
            start: at(2026, 1, 1, 0),
            end: at(2027, 1, 1, 0)
        }
    );
    assert_eq!(
        Period::Monthly.window(at(2026, 12, 31, 23)).end,
        at(2027, 1, 1, 0)
    );
    assert_eq!(
        Period::Monthly.previous_window(at(2026, 1, 15, 0)),
        PeriodWindow {
            start: at(2025, 12, 1, 0),
            end: at(2026, 1, 1, 0)
        }
    );
    let custom = Period::Custom {
        start: at(2026, 3, 1, 0),
        end: at(2026, 3, 11, 0),
    };
    assert_eq!(
        custom.previous_window(at(2026, 3, 5, 0)).start,
        at(2026, 2, 19, 0)
    );
}

proptest! {
    #[test]
    fn every_instant_is_in_exactly_its_window(secs in 0i64..4_000_000_000) {
        let t = DateTime::<Utc>::from_timestamp(secs, 0).expect("in range");
        for p in [Period::Monthly, Period::Quarterly, Period::Yearly] {
            let w = p.window(t);
            prop_assert!(w.contains(t));
            // Windows tile time: the next window starts where this one ends.
            prop_assert_eq!(p.window(w.end).start, w.end);
            prop_assert_eq!(p.previous_window(t).end, w.start);
        }
    }

    #[test]
    fn stepping_back_walks_contiguous_windows(secs in 100_000_000i64..4_000_000_000, days in 1i64..400, steps in 1usize..30) {
        let t = DateTime::<Utc>::from_timestamp(secs, 0).expect("in range");
        let custom = Period::Custom { start: t, end: t + Duration::days(days) };
        for p in [Period::Monthly, Period::Quarterly, Period::Yearly, custom] {
            let mut w = p.window(t);
            for _ in 0..steps {
                let before = p.window_before(w);
                prop_assert_eq!(before.end, w.start);
                prop_assert!(before.start < before.end);
                if let Period::Custom { .. } = p {
                    prop_assert_eq!(before.length(), Duration::days(days));
                } else {
                    // A calendar window before is that period's own window.
                    prop_assert_eq!(p.window(before.start), before);
                }
                w = before;
            }
        }
    }

    #[test]
    fn allocations_are_accepted_iff_they_add_up(a in 1i64..1_000_000, b in 1i64..1_000_000, extra in -5i64..5) {
        let mut s = spec("0");
        s.amount = Decimal::new(a + b + extra, 2);
        s.allocations = vec![
            Allocation { category: Category::Hosting, amount: Decimal::new(a, 2) },
            Allocation { category: Category::Database, amount: Decimal::new(b, 2) },
        ];
        let result = s.validate("input");
        if extra == 0 {
            prop_assert!(result.is_ok());
        } else if a + b + extra > 0 {
            let e = result.expect_err("must not add up");
            prop_assert_eq!(e.field.as_str(), "input.allocations");
            prop_assert!(e.reason.contains("add up to"), "{}", e.reason);
        }
    }

    #[test]
    fn spent_is_the_exact_sum_and_forecast_brackets(days in proptest::collection::vec(0i64..10_000_000, 0..30), hour in 0u32..24) {
        let daily: Vec<Decimal> = days.iter().map(|c| Decimal::new(*c, 6)).collect();
        let now = at(2026, 12, 1, 0) + Duration::days(days.len() as i64) + Duration::hours(i64::from(hour));
        let s = spec("1000");
        let st = status(&s, Period::Monthly.window(now), &daily, now, ForecastPolicy::default());
        prop_assert_eq!(st.spent, daily.iter().copied().sum::<Decimal>());
        prop_assert!(st.forecast >= st.spent);
        prop_assert!(st.forecast_low <= st.forecast && st.forecast <= st.forecast_high);
        prop_assert!(st.forecast_low >= st.spent);
    }
}

fn err(s: BudgetSpec) -> BudgetError {
    s.validate("input").expect_err("invalid")
}

#[test]
fn invalid_budgets_name_the_field() {
    assert_eq!(err(spec("0")).field, "input.amount");
    assert_eq!(err(spec("-3")).field, "input.amount");
    assert_eq!(err(spec("0.0000000000001")).field, "input.amount");
    assert_eq!(
        err(BudgetSpec {
            name: "  ".into(),
            ..spec("5")
        })
        .field,
        "input.name"
    );
    let custom = |s, e| BudgetSpec {
        period: Period::Custom { start: s, end: e },
        ..spec("5")
    };
    assert_eq!(
        err(custom(at(2026, 3, 2, 0), at(2026, 3, 1, 0))).field,
        "input.customEnd"
    );
    assert_eq!(
        err(custom(at(2026, 3, 1, 5), at(2026, 4, 1, 0))).field,
        "input.customStart"
    );
    assert_eq!(
        err(custom(at(2020, 1, 1, 0), at(2026, 1, 1, 0))).field,
        "input.customEnd"
    );
    let mut t = spec("5");
    t.thresholds.push(Threshold {
        percent: dec("80"),
        basis: ThresholdBasis::Actual,
    });
    assert_eq!(err(t).field, "input.thresholds[4]");
    let mut t = spec("5");
    t.thresholds[1].percent = dec("1000.5");
    assert_eq!(err(t).field, "input.thresholds[1].percent");
    let mut dup = spec("10");
    dup.allocations = vec![
        Allocation {
            category: Category::Hosting,
            amount: dec("5"),
        },
        Allocation {
            category: Category::Hosting,
            amount: dec("5"),
        },
    ];
    assert_eq!(err(dup).field, "input.allocations[1].category");
    let mut outside = spec("10");
    outside.scope.category = Some(Category::Database);
    outside.allocations = vec![Allocation {
        category: Category::Hosting,
        amount: dec("10"),
    }];
    assert_eq!(err(outside).field, "input.allocations[0].category");
    let ok = spec("10.50").validate("input").expect("valid");
    assert_eq!(ok.amount, dec("10.5"));
}

#[test]
fn status_projects_the_period_average_rate() {
    // 10 days of November at 10/day, now = Nov 11 00:00: forecast 300 for a 30-day month.
    let now = at(2026, 11, 11, 0);
    let daily = vec![dec("10"); 10];
    let st = status(
        &spec("250"),
        Period::Monthly.window(now),
        &daily,
        now,
        ForecastPolicy::default(),
    );
    assert_eq!(st.spent, dec("100"));
    assert_eq!(st.forecast, dec("300"));
    assert_eq!(st.percent_spent, dec("40"));
    assert_eq!(st.health, BudgetHealth::AtRisk);
    // Constant daily spend has no spread: the interval collapses onto the forecast.
    assert_eq!(
        (st.forecast_low, st.forecast_high),
        (st.forecast, st.forecast)
    );
    // 150 left at 10/day = 15 days after Nov 11.
    assert_eq!(st.depletion, Some(at(2026, 11, 26, 0)));
}

#[test]
fn exceeded_and_on_track_and_early_period() {
    let now = at(2026, 11, 11, 0);
    let w = Period::Monthly.window(now);
    let st = status(
        &spec("90"),
        w,
        &[dec("10"); 10],
        now,
        ForecastPolicy::default(),
    );
    assert_eq!(st.health, BudgetHealth::Exceeded);
    assert_eq!(st.depletion, None);
    let st = status(
        &spec("1000"),
        w,
        &[dec("10"); 10],
        now,
        ForecastPolicy::default(),
    );
    assert_eq!(st.health, BudgetHealth::OnTrack);
    assert_eq!(st.depletion, None, "runs out after the period");
    // Two hours into the month one big event extrapolates wildly: not confident, not at risk.
    let early = at(2026, 11, 1, 2);
    let st = status(
        &spec("100"),
        w,
        &[dec("20")],
        early,
        ForecastPolicy::default(),
    );
    assert!(!st.forecast_confident);
    assert_eq!(st.health, BudgetHealth::OnTrack);
    assert!(st.forecast > dec("100"));
}

#[test]
fn interval_widens_with_daily_spread() {
    let now = at(2026, 11, 11, 0);
    let w = Period::Monthly.window(now);
    let noisy: Vec<Decimal> = (0..10)
        .map(|i| if i % 2 == 0 { dec("5") } else { dec("15") })
        .collect();
    let st = status(&spec("1000"), w, &noisy, now, ForecastPolicy::default());
    assert_eq!(st.forecast, dec("300"));
    // sd of alternating 5/15 over 10 days = 5.27; 20 days left → half-width 1.2816·5.27·√20 ≈ 30.2
    let hw = st.forecast_high - st.forecast;
    assert!(hw > dec("30") && hw < dec("30.5"), "{hw}");
    assert_eq!(st.forecast - st.forecast_low, hw);
}

#[test]
fn recommendation_follows_the_trend_with_headroom() {
    let r = recommend(&[dec("100"), dec("110"), dec("120")], "USD").expect("history");
    // trend +10 → next 130; ×1.1 = 143
    assert_eq!(r.amount, dec("143"));
    assert_eq!(r.based_on_periods, 3);
    assert!(
        r.reasoning.iter().any(|l| l.contains("+10")),
        "{:?}",
        r.reasoning
    );
    // A falling trend does not go below the mean: mean 110 ×1.1 = 121.
    let r = recommend(&[dec("120"), dec("110"), dec("100")], "USD").expect("history");
    assert_eq!(r.amount, dec("121"));
    let r = recommend(&[dec("0.2")], "EUR").expect("history");
    assert_eq!(r.amount, dec("1"));
    assert!(recommend(&[], "USD").is_none());
}
