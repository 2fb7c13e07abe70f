//! Budgets: what a tenant plans to spend on a scope over a period, validated, and their live
//! status (spent, forecast at period end, depletion date) computed from daily spend.
//!
//! Pure: callers pass `now` and the spend; the gateway and the alert evaluator do the I/O.

mod period;
mod recommend;
mod spec;
mod status;

pub use period::{Period, PeriodWindow};
pub use recommend::{Recommendation, recommend};
pub use spec::{
    Allocation, Budget, BudgetError, BudgetScope, BudgetSpec, MAX_THRESHOLDS, Threshold,
    ThresholdBasis, default_thresholds,
};
pub use status::{BudgetHealth, BudgetStatus, ForecastPolicy, status};

#[cfg(test)]
mod tests;
