//! Dated exchange rates: the rate of the charge day.
//!
//! Rates are quoted as the ECB quotes them, **units of a currency per 1 EUR** (EUR is the pivot:
//! the euro reference rates are the one public daily fixing that covers most currencies). A
//! conversion from X to Y on day `d` uses, for each of X and Y, the latest fixing published on or
//! before `d` and at most [`MAX_FIXING_AGE_DAYS`] old (the ECB publishes on TARGET business days
//! only, so weekends and holidays take the previous business day's rate):
//! `amount × per_eur[Y] / per_eur[X]`, rounded to 12 places half to even. When either side has no
//! such fixing, the configured reference table ([`FxRates`]) is used for the pair instead; when
//! that lacks a currency too, the conversion fails naming the currency and the day.
//!
//! Totals follow the money rule (`docs/money.md`): amounts are summed exactly per source currency
//! and fixing, each sum is converted once, and the converted sums are added exactly. With a
//! reference table only (no dated rates) there is one fixing per currency, so this is the same
//! as converting each per-currency total once.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{FxError, FxRates};
use crate::money::{Currency, round_computed};

/// A fixing older than this many days (on the charge day) is not used.
pub const MAX_FIXING_AGE_DAYS: i64 = 7;

/// One published rate: `per_eur` units of `currency` buy 1 EUR on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedRate {
    pub day: NaiveDate,
    pub currency: Currency,
    pub per_eur: Decimal,
    /// Where the rate came from, e.g. `ecb` or `manual:alice`.
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

impl DatedRate {
    /// Checks a rate before it is stored: `Err((field, reason))` names the offending field
    /// (`rate`, `currency` or `source`).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.per_eur <= Decimal::ZERO {
            return Err(("rate", format!("must be positive, got {}", self.per_eur)));
        }
        if self.currency == Currency::EUR && self.per_eur != Decimal::ONE {
            return Err((
                "currency",
                "EUR is the pivot (1 EUR = 1 EUR); give other currencies per EUR".into(),
            ));
        }
        if self.source.trim().is_empty() || self.source.len() > 200 {
            return Err(("source", "must be 1 to 200 characters".into()));
        }
        Ok(())
    }
}

/// How one currency pair converts on one day: `amount × mul / div`. Ordered so sums can be
/// grouped by it; `published` (the publication days of the two dated fixings, `None` for the
/// pivot and the reference table) tells fixings with equal numbers but different days apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fixing {
    pub mul: Decimal,
    pub div: Decimal,
    pub published: [Option<NaiveDate>; 2],
}

impl Fixing {
    pub const IDENTITY: Fixing = Fixing {
        mul: Decimal::ONE,
        div: Decimal::ONE,
        published: [None, None],
    };

    pub fn apply(&self, amount: Decimal) -> Result<Decimal, FxError> {
        if *self == Fixing::IDENTITY {
            return Ok(amount);
        }
        let converted = amount
            .checked_mul(self.mul)
            .and_then(|x| x.checked_div(self.div))
            .ok_or(FxError::Overflow)?;
        Ok(round_computed(converted))
    }
}

/// Something that can say which rate applies to a pair on a day.
pub trait Rates {
    fn fixing(&self, from: Currency, to: Currency, day: NaiveDate) -> Result<Fixing, FxError>;
    fn supports(&self, currency: Currency) -> bool;
}

impl Rates for FxRates {
    fn fixing(&self, from: Currency, to: Currency, _day: NaiveDate) -> Result<Fixing, FxError> {
        self.static_fixing(from, to)
    }
    fn supports(&self, currency: Currency) -> bool {
        FxRates::supports(self, currency)
    }
}

/// Converts exact per-(currency, day) amounts into one currency by the rule above.
pub fn total_on(
    rates: &dyn Rates,
    amounts: &BTreeMap<(Currency, NaiveDate), Decimal>,
    to: Currency,
) -> Result<Decimal, FxError> {
    let mut groups: BTreeMap<(Currency, Fixing), Decimal> = BTreeMap::new();
    for (&(currency, day), &amount) in amounts {
        let fixing = if currency == to {
            Fixing::IDENTITY
        } else {
            rates.fixing(currency, to, day)?
        };
        let cell = groups.entry((currency, fixing)).or_default();
        *cell = cell.checked_add(amount).ok_or(FxError::Overflow)?;
    }
    groups
        .iter()
        .try_fold(Decimal::ZERO, |acc, ((_, fixing), &sum)| {
            acc.checked_add(fixing.apply(sum)?).ok_or(FxError::Overflow)
        })
}

/// Dated rates over a reference table. Immutable: build one per query from the stored rates.
#[derive(Debug, Clone, Default)]
pub struct RateBook {
    reference: FxRates,
    per_eur: BTreeMap<Currency, BTreeMap<NaiveDate, Decimal>>,
}

impl RateBook {
    pub fn new(reference: FxRates, rates: impl IntoIterator<Item = DatedRate>) -> RateBook {
        let mut per_eur: BTreeMap<Currency, BTreeMap<NaiveDate, Decimal>> = BTreeMap::new();
        for r in rates {
            per_eur
                .entry(r.currency)
                .or_default()
                .insert(r.day, r.per_eur);
        }
        RateBook { reference, per_eur }
    }

    /// True when at least one dated rate is known (conversions then depend on the day).
    pub fn is_dated(&self) -> bool {
        !self.per_eur.is_empty()
    }

    /// The fixing of `currency` applying on `day`: (publication day, units per EUR); the pivot
    /// has no publication day.
    pub fn per_eur_on(
        &self,
        currency: Currency,
        day: NaiveDate,
    ) -> Option<(Option<NaiveDate>, Decimal)> {
        if currency == Currency::EUR {
            return Some((None, Decimal::ONE));
        }
        let oldest = day - chrono::Duration::days(MAX_FIXING_AGE_DAYS);
        self.per_eur
            .get(&currency)?
            .range(oldest..=day)
            .next_back()
            .map(|(d, r)| (Some(*d), *r))
    }
}

impl Rates for RateBook {
    fn fixing(&self, from: Currency, to: Currency, day: NaiveDate) -> Result<Fixing, FxError> {
        if from == to {
            return Ok(Fixing::IDENTITY);
        }
        if self.is_dated()
            && let (Some((fd, f)), Some((td, t))) =
                (self.per_eur_on(from, day), self.per_eur_on(to, day))
        {
            return Ok(Fixing {
                mul: t,
                div: f,
                published: [fd, td],
            });
        }
        self.reference.static_fixing(from, to).map_err(|e| match e {
            FxError::UnknownCurrency(c) if self.is_dated() => FxError::NoRateOn(c, day),
            other => other,
        })
    }

    fn supports(&self, currency: Currency) -> bool {
        self.reference.supports(currency)
            || self.per_eur.contains_key(&currency)
            || (currency == Currency::EUR && self.is_dated())
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
