//! Dated exchange rates (see `costwatch_domain::fx` for how they are used).
//!
//! Rates are reference data shared by every tenant — the one store here whose keys carry no
//! tenant: a fixing is the same fact for everybody, and no tenant's data is in it.

use async_trait::async_trait;
use chrono::NaiveDate;
use costwatch_domain::fx::DatedRate;

use crate::StoreError;

#[async_trait]
pub trait FxRateStore: Send + Sync {
    /// Upserts rates keyed by (currency, day); the last write wins, so a manual correction
    /// replaces a published fixing and re-importing a file changes nothing. Returns the count.
    async fn put_rates(&self, rates: &[DatedRate]) -> Result<usize, StoreError>;

    /// Every stored rate with `from <= day <= to`, ordered by (currency, day).
    async fn rates(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DatedRate>, StoreError>;
}
