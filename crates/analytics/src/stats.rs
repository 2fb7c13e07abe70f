//! Small numerical helpers shared by the detector, the forecasters and the scorers.
//!
//! Everything here is f64 on purpose: these are statistics over measurements, never money
//! totals (those cross the public API as `Decimal`, see `money.rs`).

/// Scale factor that makes the median absolute deviation a consistent estimator of the
/// standard deviation under Gaussian noise.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Median of `values` (reorders the slice; O(n) average via selection). `None` when empty.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (_, upper_mid, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper_mid;
    if n % 2 == 1 {
        return Some(upper);
    }
    // The lower middle is the largest element left of `mid` after selection.
    let lower = values[..mid]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// Median of a copy of `values`.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut copy = values.to_vec();
    median_in_place(&mut copy)
}

/// Median and MAD-based sigma of `values` (a robust location and scale).
pub fn robust_location_scale(values: &[f64]) -> Option<(f64, f64)> {
    let center = median(values)?;
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    let mad = median_in_place(&mut deviations)?;
    Some((center, MAD_TO_SIGMA * mad))
}

pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Sample standard deviation (n − 1). `None` for fewer than two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m).powi(2)).sum();
    Some((ss / (values.len() - 1) as f64).sqrt())
}

/// Ordinary least squares slope and intercept of `values` against 0, 1, 2, …
pub fn ols_line(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let t_mean = (n - 1) as f64 / 2.0;
    let y_mean = mean(values)?;
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    for (i, y) in values.iter().enumerate() {
        let dt = i as f64 - t_mean;
        sxy += dt * (y - y_mean);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    Some((slope, y_mean - slope * t_mean))
}

/// Complementary error function (W. J. Cody-style rational approximation from Numerical
/// Recipes, `erfcc`), fractional error below 1.2e-7 everywhere — enough for p-values.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// P(|Z| ≥ |z|) for a standard normal Z.
pub fn two_sided_normal_p(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { 1.0 } else { 0.0 };
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// Standard normal quantile (Acklam's algorithm, relative error < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// z multiplier of a central prediction interval with the given coverage (0.8 → 1.2816).
pub fn interval_z(coverage: f64) -> f64 {
    normal_quantile(0.5 + coverage / 2.0)
}

/// P(X ≥ k) for X ~ Binomial(n, p), summed exactly (n is a small window length).
pub fn binomial_upper_tail(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let mut total = 0.0;
    // log C(n, j) built incrementally to stay finite for n up to a few thousand.
    let mut log_choose = 0.0;
    for j in 0..=n {
        if j > 0 {
            log_choose += ((n - j + 1) as f64).ln() - (j as f64).ln();
        }
        if j >= k {
            total += (log_choose + j as f64 * p.ln() + (n - j) as f64 * (1.0 - p).ln()).exp();
        }
    }
    total.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_handles_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn robust_scale_ignores_one_outlier() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 1000.0];
        let (center, sigma) = robust_location_scale(&values).unwrap();
        assert!((center - 3.5).abs() < 1e-12);
        assert!(sigma < 5.0, "sigma {sigma}");
    }

    #[test]
    fn normal_functions_agree_with_tables() {
        assert!((interval_z(0.95) - 1.959_964).abs() < 1e-5);
        assert!((interval_z(0.80) - 1.281_552).abs() < 1e-5);
        assert!((two_sided_normal_p(1.959_964) - 0.05).abs() < 1e-6);
        assert!((two_sided_normal_p(3.0) - 0.002_699_8).abs() < 1e-6);
    }

    #[test]
    fn binomial_tail_matches_direct_sum() {
        // P(X >= 2) for n = 3, p = 0.5 is 4/8.
        assert!((binomial_upper_tail(3, 2, 0.5) - 0.5).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(3, 4, 0.5), 0.0);
    }

    #[test]
    fn ols_recovers_a_line() {
        let values: Vec<f64> = (0..10).map(|i| 2.0 * i as f64 + 1.0).collect();
        let (slope, intercept) = ols_line(&values).unwrap();
        assert!((slope - 2.0).abs() < 1e-12 && (intercept - 1.0).abs() < 1e-12);
    }
}
