//! Alerts as incidents: conditions evaluated from costs and budgets, one alert per dedupe key,
//! and a lifecycle (triggered → acknowledged → resolved, auto-resolved when the condition clears).
//!
//! Pure: the evaluator feeds conditions in, and stores and publishes the alerts that change.

mod budget_rules;
mod change;
mod lifecycle;
mod spike;

pub use budget_rules::budget_conditions;
pub use change::{ChangeRule, change_condition};
pub use lifecycle::{
    Alert, AlertEvent, AlertKind, AlertState, Condition, LifecycleError, MAX_HISTORY, Severity,
    Transition, acknowledge, alert_id, reconcile, resolve,
};
pub use spike::{SpikeRule, spike_condition};

#[cfg(test)]
mod tests;
