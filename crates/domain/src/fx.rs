//! Currency conversion with a configured rate table.
//!
//! Rule (see `docs/money.md`): rows are first summed exactly per source currency; each per-currency
//! total is converted once, `amount × usd_per_unit[from] / usd_per_unit[to]`, rounded to 12 places
//! half-to-even; the converted totals are then summed exactly.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::money::Currency;

mod book;
pub use book::{DatedRate, Fixing, MAX_FIXING_AGE_DAYS, RateBook, Rates, total_on};

/// Why an amount could not be computed in the requested currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    #[error("amount overflow: a total does not fit 28 significant digits")]
    Overflow,
    #[error("no exchange rate for {0}; configure it in the fx table")]
    UnknownCurrency(Currency),
    #[error(
        "no exchange rate for {0} on {1}: none published in the {days} days before and none in the fx table",
        days = book::MAX_FIXING_AGE_DAYS
    )]
    NoRateOn(Currency, chrono::NaiveDate),
    #[error("fx table: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxRates {
    usd_per_unit: BTreeMap<Currency, Decimal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FxFile {
    usd_per_unit: BTreeMap<String, String>,
}

impl Default for FxRates {
    /// Illustrative reference rates so `make run` works offline; production configures its own.
    fn default() -> Self {
        let table = [
            ("USD", "1"),
            ("EUR", "1.08"),
            ("GBP", "1.27"),
            ("JPY", "0.0067"),
            ("CAD", "0.73"),
            ("AUD", "0.66"),
            ("INR", "0.012"),
            ("CHF", "1.13"),
        ];
        let usd_per_unit = table
            .into_iter()
            .filter_map(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)))
            .collect();
        FxRates { usd_per_unit }
    }
}

impl FxRates {
    pub fn from_toml(text: &str) -> Result<FxRates, FxError> {
        let file: FxFile = toml::from_str(text).map_err(|e| FxError::Invalid(e.to_string()))?;
        let mut usd_per_unit = BTreeMap::new();
        for (c, r) in file.usd_per_unit {
            let cur: Currency = c
                .parse()
                .map_err(|e: crate::money::CurrencyError| FxError::Invalid(e.to_string()))?;
            let rate: Decimal = r.parse().map_err(|_| {
                FxError::Invalid(format!("usd_per_unit.{c}: {r:?} is not a decimal"))
            })?;
            if rate <= Decimal::ZERO {
                return Err(FxError::Invalid(format!(
                    "usd_per_unit.{c}: must be positive"
                )));
            }
            usd_per_unit.insert(cur, rate);
        }
        Ok(FxRates { usd_per_unit })
    }

    pub fn currencies(&self) -> impl Iterator<Item = Currency> + '_ {
        self.usd_per_unit.keys().copied()
    }

    pub fn supports(&self, c: Currency) -> bool {
        self.usd_per_unit.contains_key(&c)
    }

    pub fn convert(
        &self,
        amount: Decimal,
        from: Currency,
        to: Currency,
    ) -> Result<Decimal, FxError> {
        self.static_fixing(from, to)?.apply(amount)
    }

    /// The day-independent fixing of a pair in this table.
    pub(crate) fn static_fixing(&self, from: Currency, to: Currency) -> Result<Fixing, FxError> {
        if from == to {
            return Ok(Fixing::IDENTITY);
        }
        let rate = |c: Currency| {
            self.usd_per_unit
                .get(&c)
                .copied()
                .ok_or(FxError::UnknownCurrency(c))
        };
        Ok(Fixing {
            mul: rate(from)?,
            div: rate(to)?,
            published: [None, None],
        })
    }

    /// Converts per-currency exact totals into one currency, converting each total once.
    pub fn total_in(
        &self,
        per_currency: &BTreeMap<Currency, Decimal>,
        to: Currency,
    ) -> Result<Decimal, FxError> {
        per_currency
            .iter()
            .try_fold(Decimal::ZERO, |acc, (&c, &a)| {
                acc.checked_add(self.convert(a, c, to)?)
                    .ok_or(FxError::Overflow)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_currency_is_untouched_and_others_convert_once() {
        let fx = FxRates::default();
        let a: Decimal = "0.00000000503".parse().unwrap();
        assert_eq!(fx.convert(a, Currency::USD, Currency::USD).unwrap(), a);
        assert_eq!(
            fx.convert(Decimal::from(100), Currency::EUR, Currency::USD)
                .unwrap(),
            Decimal::from(108)
        );
        let totals = BTreeMap::from([
            (Currency::USD, Decimal::from(8)),
            (Currency::EUR, Decimal::from(100)),
        ]);
        assert_eq!(
            fx.total_in(&totals, Currency::USD).unwrap(),
            Decimal::from(116)
        );
    }

    #[test]
    fn unknown_currencies_are_named() {
        let fx = FxRates::from_toml("[usd_per_unit]\nUSD = \"1\"").unwrap();
        let err = fx
            .convert(Decimal::ONE, Currency::EUR, Currency::USD)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no exchange rate for EUR; configure it in the fx table"
        );
        assert!(FxRates::from_toml("[usd_per_unit]\nUSD = \"-1\"").is_err());
    }
}
