//! Rate cards: turning usage quantities into money.
//!
//! A rate is graduated: each tier prices the part of the tenant's *cumulative monthly* quantity that
//! falls inside it. Free tiers are tiers with a zero price. An event's cost is the difference of the
//! (rounded) cost function before and after its quantity, so the month's total is `F(total)`
//! whatever order the events arrive in.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::event::UsageEvent;
use crate::money::{Currency, Money, round_computed};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Upper bound of the tier on the cumulative monthly quantity; `None` for the last tier.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub up_to: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub provider: String,
    /// Service name, or `*` for every service of the provider with this metric.
    pub service: String,
    pub metric: String,
    /// When set, events must use this unit.
    #[serde(default)]
    pub unit: Option<String>,
    pub currency: Currency,
    /// Free quantity per tenant per month, before the first tier.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub free_quantity: Option<Decimal>,
    pub tiers: Vec<Tier>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateCardError {
    #[error("rate card is not valid TOML: {0}")]
    Syntax(String),
    #[error("rate[{index}] ({key}): {reason}")]
    Invalid {
        index: usize,
        key: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error(
        "no rate card entry for {provider}/{service}/{metric}; send `cost` with the event or add a rate"
    )]
    NoRate {
        provider: String,
        service: String,
        metric: String,
    },
    #[error(
        "rate for {provider}/{service}/{metric} is in unit {expected:?}, the event uses {actual:?}"
    )]
    UnitMismatch {
        provider: String,
        service: String,
        metric: String,
        expected: String,
        actual: String,
    },
    #[error("cost overflow while pricing")]
    Overflow,
}

impl Rate {
    fn key(&self) -> String {
        format!("{}/{}/{}", self.provider, self.service, self.metric)
    }

    /// The effective tiers, with the free quantity as a leading zero-priced tier.
    fn effective_tiers(&self) -> Vec<Tier> {
        let mut tiers = Vec::with_capacity(self.tiers.len() + 1);
        let free = self.free_quantity.unwrap_or_default();
        if free > Decimal::ZERO {
            tiers.push(Tier {
                up_to: Some(free),
                unit_price: Decimal::ZERO,
            });
        }
        for t in &self.tiers {
            tiers.push(Tier {
                up_to: t.up_to.map(|u| u + free),
                unit_price: t.unit_price,
            });
        }
        tiers
    }

    /// Cost of a cumulative monthly quantity `q`, rounded with the computed-amount rule.
    pub fn cumulative_cost(&self, q: Decimal) -> Result<Decimal, PricingError> {
        let mut total = Decimal::ZERO;
        let mut lower = Decimal::ZERO;
        for tier in self.effective_tiers() {
            if q <= lower {
                break;
            }
            let upper = tier.up_to.map_or(q, |u| u.min(q));
            let in_tier = upper - lower;
            let cost = in_tier
                .checked_mul(tier.unit_price)
                .ok_or(PricingError::Overflow)?;
            total = total.checked_add(cost).ok_or(PricingError::Overflow)?;
            match tier.up_to {
                Some(u) => lower = u,
                None => break,
            }
        }
        Ok(round_computed(total))
    }

    fn validate(&self, index: usize) -> Result<(), RateCardError> {
        let invalid = |reason: &str| RateCardError::Invalid {
            index,
            key: self.key(),
            reason: reason.into(),
        };
        if self.tiers.is_empty() {
            return Err(invalid("tiers: at least one tier is required"));
        }
        let mut last = Decimal::ZERO;
        for (i, t) in self.tiers.iter().enumerate() {
            if t.unit_price.is_sign_negative() {
                return Err(invalid(&format!(
                    "tiers[{i}].unit_price must not be negative"
                )));
            }
            match t.up_to {
                Some(u) if u <= last => {
                    return Err(invalid(&format!("tiers[{i}].up_to must increase")));
                }
                Some(u) => last = u,
                None if i + 1 != self.tiers.len() => {
                    return Err(invalid(&format!(
                        "tiers[{i}]: only the last tier may omit up_to"
                    )));
                }
                None => {}
            }
        }
        if self.tiers.last().and_then(|t| t.up_to).is_some() {
            return Err(invalid(
                "the last tier must omit up_to (it has no upper bound)",
            ));
        }
        if self.free_quantity.is_some_and(|f| f.is_sign_negative()) {
            return Err(invalid("free_quantity must not be negative"));
        }
        Ok(())
    }
}

/// The meter a graduated rate counts on: one tenant, one rate, one UTC month.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeterKey {
    pub tenant: String,
    pub provider: String,
    pub service: String,
    pub metric: String,
    /// `YYYY-MM`.
    pub month: String,
}

impl MeterKey {
    pub fn for_event(e: &UsageEvent) -> MeterKey {
        MeterKey {
            tenant: e.tenant.as_str().to_string(),
            provider: e.provider.clone(),
            service: e.service.clone(),
            metric: e.metric.clone(),
            month: e.timestamp.format("%Y-%m").to_string(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RateCard {
    rates: Vec<Rate>,
    index: HashMap<(String, String, String), usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateCardFile {
    #[serde(default)]
    rate: Vec<Rate>,
}

impl RateCard {
    pub fn from_rates(rates: Vec<Rate>) -> Result<RateCard, RateCardError> {
        let mut index = HashMap::new();
        for (i, r) in rates.iter().enumerate() {
            r.validate(i)?;
            let k = (r.provider.clone(), r.service.clone(), r.metric.clone());
            if index.insert(k, i).is_some() {
                return Err(RateCardError::Invalid {
                    index: i,
                    key: r.key(),
                    reason: "duplicate rate".into(),
                });
            }
        }
        Ok(RateCard { rates, index })
    }

    /// Parses a TOML rate card: `[[rate]]` tables (see `deploy/rate-card.toml`).
    pub fn from_toml(text: &str) -> Result<RateCard, RateCardError> {
        let file: RateCardFile =
            toml::from_str(text).map_err(|e| RateCardError::Syntax(e.to_string()))?;
        RateCard::from_rates(file.rate)
    }

    pub fn rates(&self) -> &[Rate] {
        &self.rates
    }

    pub fn rate_for(&self, provider: &str, service: &str, metric: &str) -> Option<&Rate> {
        let exact = (
            provider.to_string(),
            service.to_string(),
            metric.to_string(),
        );
        let wildcard = (provider.to_string(), "*".to_string(), metric.to_string());
        self.index
            .get(&exact)
            .or_else(|| self.index.get(&wildcard))
            .map(|&i| &self.rates[i])
    }

    /// Checks that an event can be priced (billed, or a matching rate in the right unit).
    pub fn check(&self, e: &UsageEvent) -> Result<(), PricingError> {
        if e.cost.is_some() {
            return Ok(());
        }
        self.matching_rate(e).map(|_| ())
    }

    fn matching_rate(&self, e: &UsageEvent) -> Result<&Rate, PricingError> {
        let rate = self
            .rate_for(&e.provider, &e.service, &e.metric)
            .ok_or_else(|| PricingError::NoRate {
                provider: e.provider.clone(),
                service: e.service.clone(),
                metric: e.metric.clone(),
            })?;
        if let Some(unit) = &rate.unit
            && unit != &e.unit
        {
            return Err(PricingError::UnitMismatch {
                provider: e.provider.clone(),
                service: e.service.clone(),
                metric: e.metric.clone(),
                expected: unit.clone(),
                actual: e.unit.clone(),
            });
        }
        Ok(rate)
    }

    /// Prices one event given the meter's cumulative quantity before it.
    /// Returns the cost and, for rate-priced events, the meter's new cumulative quantity.
    pub fn price(&self, e: &UsageEvent, meter_before: Decimal) -> Result<Priced, PricingError> {
        if let Some(cost) = e.cost {
            return Ok(Priced {
                cost,
                billed: true,
                meter_after: None,
            });
        }
        let rate = self.matching_rate(e)?;
        let after = meter_before
            .checked_add(e.quantity)
            .ok_or(PricingError::Overflow)?;
        let amount = rate.cumulative_cost(after)? - rate.cumulative_cost(meter_before)?;
        Ok(Priced {
            cost: Money::new(amount, rate.currency),
            billed: false,
            meter_after: Some(after),
        })
    }
}

/// The outcome of pricing one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub cost: Money,
    /// True when the source billed it (the number of record), false when estimated from a rate card.
    pub billed: bool,
    pub meter_after: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CARD: &str = r#"
        [[rate]]
        provider = "aws"
        service = "lambda"
        metric = "requests"
        currency = "USD"
        free_quantity = "1000"
        tiers = [{ up_to = "10000", unit_price = "0.0000002" }, { unit_price = "0.0000001" }]

        [[rate]]
        provider = "gcp"
        service = "*"
        metric = "egress_gb"
        unit = "GB"
        currency = "EUR"
        tiers = [{ unit_price = "0.12" }]
    "#;

    fn card() -> RateCard {
        RateCard::from_toml(CARD).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn graduated_tiers_price_the_cumulative_quantity() {
        let rate = card()
            .rate_for("aws", "lambda", "requests")
            .unwrap()
            .clone();
        assert_eq!(rate.cumulative_cost(d("500")).unwrap(), Decimal::ZERO); // free
        // 1000 free, 10000 at 2e-7, 4000 at 1e-7
        assert_eq!(rate.cumulative_cost(d("15000")).unwrap(), d("0.0024"));
    }

    #[test]
    fn wildcard_service_and_unit_are_honoured() {
        let c = card();
        assert!(c.rate_for("gcp", "storage", "egress_gb").is_some());
        assert!(c.rate_for("gcp", "storage", "ingress_gb").is_none());
    }

    #[test]
    fn invalid_rate_cards_name_the_rate_and_reason() {
        let bad = r#"
            [[rate]]
            provider = "x"
            service = "y"
            metric = "z"
            currency = "USD"
            tiers = [{ unit_price = "1" }, { up_to = "5", unit_price = "1" }]
        "#;
        let err = RateCard::from_toml(bad).unwrap_err().to_string();
        assert!(
            err.contains("rate[0] (x/y/z)") && err.contains("up_to"),
            "{err}"
        );
        assert!(RateCard::from_toml("[[rate]]\nprovider=1").is_err());
    }

    fn tier_strategy() -> impl Strategy<Value = Rate> {
        (
            proptest::collection::vec((1i64..5000, 0i64..100_000), 0..4),
            0i64..2000,
            0i64..100_000,
        )
            .prop_map(|(bounds, free, last_price)| {
                let mut up = 0i64;
                let mut tiers: Vec<Tier> = bounds
                    .into_iter()
                    .map(|(w, p)| {
                        up += w;
                        Tier {
                            up_to: Some(Decimal::new(up, 1)),
                            unit_price: Decimal::new(p, 9),
                        }
                    })
                    .collect();
                tiers.push(Tier {
                    up_to: None,
                    unit_price: Decimal::new(last_price, 9),
                });
                Rate {
                    provider: "p".into(),
                    service: "s".into(),
                    metric: "m".into(),
                    unit: None,
                    currency: Currency::USD,
                    free_quantity: Some(Decimal::new(free, 1)),
                    tiers,
                }
            })
    }

    proptest! {
        /// The sum of per-event increments equals the cost of the month's total, in any order.
        #[test]
        fn increments_telescope_in_any_order(
            rate in tier_strategy(),
            mut qs in proptest::collection::vec(0i64..100_000, 1..40),
            seed in any::<u64>(),
        ) {
            let total: Decimal = qs.iter().map(|&q| Decimal::new(q, 3)).sum();
            let expected = rate.cumulative_cost(total).unwrap();
            // a deterministic shuffle
            let n = qs.len();
            for i in 0..n { qs.swap(i, (seed as usize).wrapping_mul(31).wrapping_add(i * 7) % n); }
            let mut meter = Decimal::ZERO;
            let mut sum = Decimal::ZERO;
            for q in qs {
                let after = meter + Decimal::new(q, 3);
                sum += rate.cumulative_cost(after).unwrap() - rate.cumulative_cost(meter).unwrap();
                meter = after;
            }
            prop_assert_eq!(sum, expected);
        }

        #[test]
        fn cumulative_cost_is_monotone(rate in tier_strategy(), a in 0i64..1_000_000, b in 0i64..1_000_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(rate.cumulative_cost(Decimal::new(lo, 2)).unwrap() <= rate.cumulative_cost(Decimal::new(hi, 2)).unwrap());
        }
    }
}
