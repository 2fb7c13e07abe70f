//! The exchange rates alerting converts with: the reference table, plus the stored dated rates
//! where the deployment has them, so a budget's spend is the same number the cost queries show
//! (each charge day at its own rate, `docs/money.md`).

use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use costwatch_domain::Currency;
use costwatch_domain::fx::{DatedRate, FxRates, MAX_FIXING_AGE_DAYS, RateBook};
use costwatch_ports::FxRateStore;

use crate::AlertingError;

/// How long rates read from the store are reused. One evaluation pass asks for the rates of
/// every budget and rule of a tenant within milliseconds; without reuse each asks the store again.
/// A rate changed through the API reaches alerting at most this much later.
const REUSE_RATES_FOR: StdDuration = StdDuration::from_secs(2);

/// The last rates read: the days they cover, when, and the rates.
struct Memo {
    first: NaiveDate,
    last: NaiveDate,
    read_at: Instant,
    rates: Vec<DatedRate>,
}

enum Reuse {
    Hit(Vec<DatedRate>),
    /// Fresh but too narrow: the days it covers.
    Widen(NaiveDate, NaiveDate),
    Miss,
}

#[derive(Clone)]
pub struct Fx {
    reference: FxRates,
    dated: Option<Arc<dyn FxRateStore>>,
    memo: Arc<Mutex<Option<Memo>>>,
}

impl From<FxRates> for Fx {
    fn from(reference: FxRates) -> Fx {
        Fx {
            reference,
            dated: None,
            memo: Arc::default(),
        }
    }
}

impl Fx {
    pub fn with_dated(reference: FxRates, dated: Arc<dyn FxRateStore>) -> Fx {
        Fx {
            reference,
            dated: Some(dated),
            memo: Arc::default(),
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
        let last = to.date_naive();
        let (first, last) = match self.reused(first, last) {
            Reuse::Hit(rates) => return Ok(RateBook::new(self.reference.clone(), rates)),
            // Widen a fresh memo rather than replace it: a pass alternates between this month's
            // and last month's windows, and one read then answers both.
            Reuse::Widen(f, l) => (f.min(first), l.max(last)),
            Reuse::Miss => (first, last),
        };
        let rates = store.rates(first, last).await?;
        let book = RateBook::new(self.reference.clone(), rates.iter().cloned());
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        *memo = Some(Memo {
            first,
            last,
            read_at: Instant::now(),
            rates,
        });
        Ok(book)
    }

    /// The memo's rates when they are fresh and cover `[first, last]`.
    fn reused(&self, first: NaiveDate, last: NaiveDate) -> Reuse {
        let memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        match memo.as_ref() {
            Some(m) if m.read_at.elapsed() < REUSE_RATES_FOR => {
                if m.first <= first && last <= m.last {
                    Reuse::Hit(m.rates.clone())
                } else {
                    Reuse::Widen(m.first, m.last)
                }
            }
            _ => Reuse::Miss,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use costwatch_ports::StoreError;

    use super::*;

    /// Counts reads; holds one EUR fixing.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    #[async_trait]
    impl FxRateStore for Counting {
        async fn put_rates(&self, rates: &[DatedRate]) -> Result<usize, StoreError> {
            Ok(rates.len())
        }

        async fn rates(
            &self,
            _from: NaiveDate,
            _to: NaiveDate,
        ) -> Result<Vec<DatedRate>, StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Vec::new())
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_default()
    }

    #[tokio::test]
    async fn one_pass_reads_the_rates_once_per_window_not_once_per_rule() {
        let store = Arc::new(Counting::default());
        let fx = Fx::with_dated(FxRates::default(), store.clone());
        let month = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        for _ in 0..20 {
            fx.book(month.0, month.1).await.ok();
        }
        assert_eq!(
            store.0.load(Ordering::SeqCst),
            1,
            "twenty budgets, one read"
        );
        // An hour inside the month is answered by the same read.
        fx.book(at("2026-11-20T10:00:00Z"), at("2026-11-20T11:00:00Z"))
            .await
            .ok();
        assert_eq!(store.0.load(Ordering::SeqCst), 1);
        // Last month widens the memo once; both windows are then answered from it.
        let previous = (at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z"));
        for _ in 0..5 {
            fx.book(previous.0, previous.1).await.ok();
            fx.book(month.0, month.1).await.ok();
        }
        assert_eq!(store.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn reused_rates_expire() {
        let store = Arc::new(Counting::default());
        let fx = Fx::with_dated(FxRates::default(), store.clone());
        let (from, to) = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        fx.book(from, to).await.ok();
        if let Some(m) = fx.memo.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            m.read_at = m.read_at.checked_sub(REUSE_RATES_FOR).unwrap_or(m.read_at);
        }
        fx.book(from, to).await.ok();
        assert_eq!(store.0.load(Ordering::SeqCst), 2);
    }
}
