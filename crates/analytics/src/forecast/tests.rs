use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use super::ensemble::ensemble;
use super::*;
use crate::AnalyticsError;

/// Standard normal draw (Box–Muller; keeps the dev-dependencies to `rand`).
fn gauss(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Hourly-like series: level 100, daily sine of amplitude 20, slow random-walk level, noise.
fn seasonal_series(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut level = 100.0;
    (0..n)
        .map(|t| {
            level += 0.3 * gauss(&mut rng);
            let phase = 2.0 * std::f64::consts::PI * (t % 24) as f64 / 24.0;
            level + 20.0 * phase.sin() + 2.0 * gauss(&mut rng)
        })
        .collect()
}

#[test]
fn linear_trend_recovers_a_pure_line_exactly() {
    let history: Vec<f64> = (0..30).map(|t| 3.5 * t as f64 - 7.0).collect();
    let f = forecast(&history, None, 5, Method::LinearTrend).unwrap();
    for (h, p) in f.point.iter().enumerate() {
        let expected = 3.5 * (30 + h) as f64 - 7.0;
        assert!((p - expected).abs() < 1e-9, "step {h}: {p} vs {expected}");
    }
    assert!(f.sigma.iter().all(|s| *s < 1e-9));
    assert_eq!(f.method, Method::LinearTrend);
    // Holt's method (no season) also extrapolates a noiseless line.
    let hw = forecast(&history, None, 5, Method::HoltWinters).unwrap();
    assert!(
        (hw.point[4] - (3.5 * 34.0 - 7.0)).abs() < 1e-6,
        "{:?}",
        hw.point
    );
}

#[test]
fn seasonal_naive_repeats_the_last_cycle() {
    let history: Vec<f64> = (0..10).map(|t| (t % 3) as f64).collect();
    let f = forecast(&history, Some(3), 4, Method::SeasonalNaive).unwrap();
    assert_eq!(f.point, vec![1.0, 2.0, 0.0, 1.0]);
    assert_eq!(f.sigma, vec![0.0; 4]);
}

#[test]
fn holt_winters_beats_a_straight_line_on_a_seasonal_series() {
    let series = seasonal_series(24 * 14 + 48, 7);
    let (train, test) = series.split_at(series.len() - 48);
    let score = |method| {
        let f = forecast(train, Some(24), 48, method).unwrap();
        mase(test, &f.point, train, 24).unwrap()
    };
    let (hw, line) = (score(Method::HoltWinters), score(Method::LinearTrend));
    assert!(hw < 0.6 * line, "holt_winters {hw} vs linear {line}");
    let ens = score(Method::Ensemble);
    assert!(ens < line, "ensemble {ens} vs linear {line}");
}

#[test]
fn ensemble_weights_sum_to_one_and_prefer_the_seasonal_models() {
    let series = seasonal_series(24 * 10, 11);
    let e = ensemble(&series, 24, 24).unwrap();
    let total: f64 = e.weights.iter().map(|(_, w)| w).sum();
    assert!((total - 1.0).abs() < 1e-12);
    let weight = |m| {
        e.weights
            .iter()
            .find(|(x, _)| *x == m)
            .map(|(_, w)| *w)
            .unwrap()
    };
    assert!(
        weight(Method::LinearTrend) < weight(Method::HoltWinters),
        "{:?}",
        e.weights
    );
    assert!(e.backtest_mase.iter().all(|(_, m)| m.is_some()));
    let f = &e.forecast;
    assert_eq!(f.method, Method::Ensemble);
    for h in 0..24 {
        assert!(f.lo95[h] <= f.lo80[h] && f.lo80[h] <= f.point[h]);
        assert!(f.point[h] <= f.hi80[h] && f.hi80[h] <= f.hi95[h]);
    }
}

/// Fraction of 1000 simulated next points inside the 80% and 95% bands of `method` fitted on
/// 60 points of Gaussian noise around a line.
fn coverage(method: Method, sims: usize) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(42);
    let (mut in80, mut in95) = (0, 0);
    for _ in 0..sims {
        let mut y: Vec<f64> = (0..61)
            .map(|t| 50.0 + 0.2 * t as f64 + 5.0 * gauss(&mut rng))
            .collect();
        let Some(next) = y.pop() else { unreachable!() };
        let f = forecast(&y, None, 1, method).unwrap();
        in80 += usize::from(f.lo80[0] <= next && next <= f.hi80[0]);
        in95 += usize::from(f.lo95[0] <= next && next <= f.hi95[0]);
    }
    (in80 as f64 / sims as f64, in95 as f64 / sims as f64)
}

#[test]
fn intervals_cover_gaussian_noise_at_their_nominal_rate() {
    let (c80, c95) = coverage(Method::LinearTrend, 1000);
    assert!((0.70..=0.90).contains(&c80), "linear 80% coverage {c80}");
    assert!((0.90..=0.99).contains(&c95), "linear 95% coverage {c95}");
    let (c80, c95) = coverage(Method::HoltWinters, 1000);
    assert!(
        (0.70..=0.90).contains(&c80),
        "holt_winters 80% coverage {c80}"
    );
    assert!(
        (0.88..=0.99).contains(&c95),
        "holt_winters 95% coverage {c95}"
    );
}

#[test]
fn bad_input_errors_name_the_reason() {
    let err = forecast(&[], None, 3, Method::LinearTrend).unwrap_err();
    assert_eq!(
        err,
        AnalyticsError::TooShort {
            field: "history",
            needed: MIN_HISTORY,
            got: 0
        }
    );
    let short: Vec<f64> = (0..30).map(f64::from).collect();
    let err = forecast(&short, Some(24), 3, Method::HoltWinters).unwrap_err();
    assert!(err.to_string().contains("two full seasons"), "{err}");
    assert!(err.to_string().contains("48"), "{err}");
    let err = forecast(&[1.0, f64::NAN, 2.0], None, 1, Method::SeasonalNaive).unwrap_err();
    assert!(err.to_string().contains("index 1"), "{err}");
    let err = forecast(&short, None, 0, Method::Ensemble).unwrap_err();
    assert!(err.to_string().starts_with("horizon"), "{err}");
    let err = forecast(&short, Some(0), 1, Method::Ensemble).unwrap_err();
    assert!(err.to_string().starts_with("season"), "{err}");
}

#[test]
fn project_total_sums_the_remaining_days_in_decimal() {
    let ten = Decimal::new(1000, 2);
    let history = vec![ten; 28];
    let total = project_total(&history, 3).unwrap();
    assert_eq!(total.point, Decimal::new(30, 0));
    assert!(total.lo80 <= total.point && total.point <= total.hi80);
    assert!(total.point.scale() <= crate::money::COMPUTED_SCALE);
    let err = project_total(&[], 3).unwrap_err();
    assert!(err.to_string().starts_with("history"), "{err}");
    let zero = project_total(&history, 0).unwrap();
    assert_eq!(zero.point, Decimal::ZERO);
    let end = planning::project_period_end(Decimal::new(12345, 2), &history, 3).unwrap();
    assert_eq!(end.point, Decimal::new(15345, 2));
}

#[test]
fn project_total_follows_a_growing_weekly_pattern() {
    // Weekdays 100 + 1/day growth, weekends 40: four weeks of history, one week ahead.
    let day = |d: usize| if d % 7 >= 5 { 40.0 } else { 100.0 + d as f64 };
    let history: Vec<Decimal> = (0..28)
        .map(|d| Decimal::from_f64_retain(day(d)).unwrap())
        .collect();
    let truth: f64 = (28..35).map(day).sum();
    let total = project_total(&history, 7).unwrap();
    let point = crate::money::to_f64("point", total.point).unwrap();
    assert!((point - truth).abs() / truth < 0.05, "{point} vs {truth}");
    assert!(total.lo80 <= total.point && total.point <= total.hi80);
}
