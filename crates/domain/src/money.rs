//! Exact money.
//!
//! Amounts are `rust_decimal::Decimal` (96-bit mantissa, up to 28 decimal places), never floats.
//! The rounding rule (see `docs/money.md`):
//! - billed costs (`cost` on an event, billing-export rows) are kept exactly as given;
//! - amounts *computed* by Costwatch (rate-card price × quantity, currency conversion) are rounded
//!   once, at the point they are computed, to [`COMPUTED_SCALE`] (12) decimal places with
//!   banker's rounding (half to even), so no bias accumulates over millions of events;
//! - sums are exact (checked addition: an overflow is an error, never a wrap or a silent round).

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Decimal places kept for computed amounts. Billing exports carry 11; we keep one more.
pub const COMPUTED_SCALE: u32 = 12;

/// Rounds a computed amount with the documented rule.
pub fn round_computed(amount: Decimal) -> Decimal {
    amount
        .round_dp_with_strategy(COMPUTED_SCALE, RoundingStrategy::MidpointNearestEven)
        .normalize()
}

/// An ISO 4217 alphabetic currency code (three ASCII uppercase letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn as_str(&self) -> &str {
        // The constructor only admits ASCII uppercase letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency must be a three-letter ISO 4217 code in upper case (e.g. USD), got {0:?}")]
pub struct CurrencyError(pub String);

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(CurrencyError(s.to_string()))
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot add {left} and {right}: currencies differ")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount overflow: the sum does not fit 28 significant digits")]
    Overflow,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }
}

/// Formats an amount as the API shows it: exact, without trailing zeros, never in exponent form.
pub fn format_amount(amount: Decimal) -> String {
    amount.normalize().to_string()
}

/// Adds exactly; `None` on overflow.
pub fn checked_sum<I: IntoIterator<Item = Decimal>>(items: I) -> Option<Decimal> {
    items
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, d| acc.checked_add(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn currency_parses_only_iso_shape() {
        assert_eq!(
            "USD".parse::<Currency>().map(|c| c.to_string()),
            Ok("USD".into())
        );
        assert!("usd".parse::<Currency>().is_err());
        assert!("US".parse::<Currency>().is_err());
        assert!("USDX".parse::<Currency>().is_err());
    }

    #[test]
    fn eleven_place_billing_amounts_stay_exact() {
        let a: Decimal = "0.00000000503".parse().unwrap();
        let total = checked_sum(std::iter::repeat_n(a, 1_000_000)).unwrap();
        assert_eq!(format_amount(total), "0.00503");
    }

    #[test]
    fn computed_amounts_round_half_to_even_at_12_places() {
        let d: Decimal = "0.0000000000005".parse().unwrap(); // 13th place 5, 12th place 0 -> even stays 0
        assert_eq!(round_computed(d), Decimal::ZERO);
        let d: Decimal = "0.0000000000015".parse().unwrap(); // 12th place 1 -> rounds to 2
        assert_eq!(round_computed(d).to_string(), "0.000000000002");
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let a = Money::new(Decimal::ONE, Currency::USD);
        let b = Money::new(Decimal::ONE, Currency::EUR);
        assert!(matches!(
            a.checked_add(b),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    fn amount() -> impl Strategy<Value = Decimal> {
        (0i64..1_000_000_000_000, 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
    }

    proptest! {
        #[test]
        fn sums_are_order_independent(mut xs in proptest::collection::vec(amount(), 0..200)) {
            let forward = checked_sum(xs.iter().copied()).unwrap();
            xs.reverse();
            let backward = checked_sum(xs.iter().copied()).unwrap();
            prop_assert_eq!(forward, backward);
        }

        #[test]
        fn formatting_round_trips(x in amount()) {
            let back: Decimal = format_amount(x).parse().unwrap();
            prop_assert_eq!(back, x);
        }

        #[test]
        fn rounding_is_idempotent_and_within_half_unit(x in amount(), extra in 0i64..1000) {
            let fine = x + Decimal::new(extra, 15);
            let r = round_computed(fine);
            prop_assert_eq!(round_computed(r), r);
            prop_assert!((r - fine).abs() <= Decimal::new(5, 13));
        }
    }
}
