//! The exchange rates alerting converts with: the reference table, plus the stored dated rates
//! where the deployment has them, so a budget's spend is the same number the cost queries show
//! (each charge day at its own rate, `docs/money.md`).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use costwatch_domain::Currency;
use costwatch_domain::fx::{FxRates, MAX_FIXING_AGE_DAYS, RateBook};
use costwatch_ports::FxRateStore;

use crate::AlertingError;

#[derive(Clone)]
pub struct Fx {
    reference: FxRates,
    dated: Option<Arc<dyn FxRateStore>>,
}

impl From<FxRates> for Fx {
    fn from(reference: FxRates) -> Fx {
        Fx {
            reference,
            dated: None,
        }
    }
}

impl Fx {
    pub fn with_dated(reference: FxRates, dated: Arc<dyn FxRateStore>) -> Fx {
        Fx {
            reference,
            dated: Some(dated),
        }
    }

    pub fn reference(&self) -> &FxRates {
        &self.reference
    }

    /// Whether amounts may be asked for in `c`. With dated rates any currency may have fixings;
    /// a charge day without one then fails naming the currency and the day.
    pub fn supports(&self, c: Currency) -> bool {
        self.dated.is_some() || self.reference.supports(c)
    }

    /// The currencies of the reference table (for error messages).
    pub fn known(&self) -> Vec<String> {
        self.reference.currencies().map(|c| c.to_string()).collect()
    }

    /// The rates that may apply to charges in `[from, to)`: its days plus the look-back.
    pub async fn book(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<RateBook, AlertingError> {
        let Some(store) = &self.dated else {
            return Ok(RateBook::new(self.reference.clone(), []));
        };
        let first = from.date_naive() - Duration::days(MAX_FIXING_AGE_DAYS);
        let rates = store.rates(first, to.date_naive()).await?;
        Ok(RateBook::new(self.reference.clone(), rates))
    }
}
