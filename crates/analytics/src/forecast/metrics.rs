//! Forecast accuracy measures as defined for the M4 competition.

use crate::AnalyticsError;

fn check_pair(actual: &[f64], forecast: &[f64]) -> Result<(), AnalyticsError> {
    if actual.is_empty() {
        return Err(AnalyticsError::TooShort {
            field: "actual",
            needed: 1,
            got: 0,
        });
    }
    if actual.len() != forecast.len() {
        return Err(AnalyticsError::invalid(
            "forecast",
            format!("has {} points, actual has {}", forecast.len(), actual.len()),
        ));
    }
    Ok(())
}

/// Mean absolute scaled error: MAE of `forecast` against `actual`, divided by the in-sample
/// MAE of the seasonal naive method with period `season` (M4 uses 24 for hourly data). Below
/// 1 means better than the seasonal naive forecast was in-sample.
pub fn mase(
    actual: &[f64],
    forecast: &[f64],
    insample: &[f64],
    season: usize,
) -> Result<f64, AnalyticsError> {
    check_pair(actual, forecast)?;
    let m = season.max(1);
    if insample.len() <= m {
        return Err(AnalyticsError::TooShort {
            field: "insample (MASE needs one season plus a point)",
            needed: m + 1,
            got: insample.len(),
        });
    }
    let scale: f64 = insample
        .windows(m + 1)
        .map(|w| (w[m] - w[0]).abs())
        .sum::<f64>()
        / (insample.len() - m) as f64;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(AnalyticsError::invalid(
            "insample",
            "is exactly periodic: the seasonal naive error that scales MASE is 0",
        ));
    }
    let mae: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / actual.len() as f64;
    Ok(mae / scale)
}

/// Symmetric MAPE in percent (0–200): mean of 200·|a − f| / (|a| + |f|); a point where both
/// are 0 counts as 0 error.
pub fn smape(actual: &[f64], forecast: &[f64]) -> Result<f64, AnalyticsError> {
    check_pair(actual, forecast)?;
    let total: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| {
            let denom = a.abs() + f.abs();
            if denom == 0.0 {
                0.0
            } else {
                200.0 * (a - f).abs() / denom
            }
        })
        .sum();
    Ok(total / actual.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_forecast_scores_zero_and_naive_error_scores_one() {
        let insample: Vec<f64> = (0..48).map(|i| (i % 24) as f64 + (i / 24) as f64).collect();
        let actual = vec![2.0, 3.0];
        assert_eq!(mase(&actual, &actual, &insample, 24).unwrap(), 0.0);
        assert_eq!(smape(&actual, &actual).unwrap(), 0.0);
        // Off by exactly the in-sample seasonal-naive error (1.0) → MASE 1.
        let off: Vec<f64> = actual.iter().map(|a| a + 1.0).collect();
        assert!((mase(&actual, &off, &insample, 24).unwrap() - 1.0).abs() < 1e-12);
        assert!((smape(&[1.0], &[3.0]).unwrap() - 100.0).abs() < 1e-12);
    }

    #[test]
    fn metrics_name_their_bad_input() {
        let err = mase(&[], &[], &[1.0, 2.0], 1).unwrap_err();
        assert!(err.to_string().contains("actual"), "{err}");
        let err = mase(&[1.0], &[1.0], &[5.0; 30], 24).unwrap_err();
        assert!(err.to_string().contains("insample"), "{err}");
        let err = smape(&[1.0, 2.0], &[1.0]).unwrap_err();
        assert!(err.to_string().contains("forecast"), "{err}");
    }
}
