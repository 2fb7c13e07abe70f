//! The Decimal ↔ f64 boundary.
//!
//! The statistical models work in f64 (they need logs, square roots and least squares). Any
//! money amount that leaves the crate is converted back here, once, with the workspace rule
//! for computed amounts (docs/money.md): **12 decimal places, half to even**. Percentages are
//! display values: 2 places, half to even.
//!
//! Why convert to Decimal *before* scaling or rounding: an f64 like 0.12345 is really
//! 0.123449999…, and `0.12345 * 100.0` is 12.344999999999999, so rounding in binary would
//! decide ties by representation noise. `Decimal::from_f64` takes the shortest decimal that
//! round-trips to the same f64 (0.12345), the ×100 is exact in Decimal, and only then is the
//! half-to-even rule applied to the decimal digits a reader sees: 12.345 → 12.34.

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::AnalyticsError;

/// Decimal places of a computed amount (docs/money.md).
pub const COMPUTED_SCALE: u32 = 12;
/// Decimal places of a percentage.
pub const PERCENT_SCALE: u32 = 2;

/// A Decimal amount as f64 for the models. Every Decimal fits an f64 (to ~15 significant
/// digits, which is far finer than any statistical interval).
pub fn to_f64(field: &'static str, value: Decimal) -> Result<f64, AnalyticsError> {
    value.to_f64().filter(|v| v.is_finite()).ok_or_else(|| {
        AnalyticsError::invalid(field, format!("{value} is not representable as f64"))
    })
}

pub fn slice_to_f64(field: &'static str, values: &[Decimal]) -> Result<Vec<f64>, AnalyticsError> {
    values.iter().map(|v| to_f64(field, *v)).collect()
}

/// A model output as a computed amount: rounded to 12 places, half to even.
pub fn to_amount(field: &'static str, value: f64) -> Result<Decimal, AnalyticsError> {
    round_to(field, value, COMPUTED_SCALE)
}

/// A ratio as a percentage (×100 in Decimal), rounded to 2 places, half to even.
pub fn to_percent(field: &'static str, ratio: f64) -> Result<Decimal, AnalyticsError> {
    let percent = to_decimal(field, ratio)?
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or_else(|| {
            AnalyticsError::invalid(field, format!("{ratio} × 100 overflows a Decimal"))
        })?;
    Ok(percent.round_dp_with_strategy(PERCENT_SCALE, RoundingStrategy::MidpointNearestEven))
}

fn to_decimal(field: &'static str, value: f64) -> Result<Decimal, AnalyticsError> {
    if !value.is_finite() {
        return Err(AnalyticsError::invalid(
            field,
            format!("model produced {value}"),
        ));
    }
    Decimal::from_f64(value)
        .ok_or_else(|| AnalyticsError::invalid(field, format!("{value} does not fit a Decimal")))
}

fn round_to(field: &'static str, value: f64, scale: u32) -> Result<Decimal, AnalyticsError> {
    Ok(to_decimal(field, value)?
        .round_dp_with_strategy(scale, RoundingStrategy::MidpointNearestEven))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn percentages_round_half_to_even_on_the_decimal_digits() {
        // 12.345 is a tie in decimal: half to even keeps the 4.
        assert_eq!(to_percent("p", 0.12345).unwrap(), dec("12.34"));
        assert_eq!(to_percent("p", 0.12355).unwrap(), dec("12.36"));
        assert_eq!(to_percent("p", 0.123451).unwrap(), dec("12.35"));
        assert_eq!(to_percent("p", -0.12345).unwrap(), dec("-12.34"));
    }

    #[test]
    fn amounts_have_at_most_12_places_and_reject_non_finite() {
        let d = to_amount("x", 0.123_456_789_012_5).unwrap();
        assert!(d.scale() <= COMPUTED_SCALE, "{d}");
        assert_eq!(d, dec("0.123456789012"));
        assert_eq!(to_amount("x", 1.5).unwrap(), dec("1.5"));
        let err = to_amount("total", f64::NAN).unwrap_err();
        assert!(err.to_string().starts_with("total:"), "{err}");
        assert!(to_percent("p", f64::INFINITY).is_err());
    }

    #[test]
    fn decimals_round_trip_through_f64() {
        assert_eq!(to_f64("x", dec("12.34")).unwrap(), 12.34);
        assert_eq!(
            slice_to_f64("x", &[dec("1"), dec("2.5")]).unwrap(),
            vec![1.0, 2.5]
        );
    }
}
