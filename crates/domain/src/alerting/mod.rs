//! Alerts as incidents: conditions evaluated from costs and budgets, one alert per dedupe key,
//! and a lifecycle (triggered → acknowledged → resolved, auto-resolved when the condition clears).
//!
//! Pure: the evaluator feeds conditions in, and stores and publishes the alerts that change.

mod budget_rules;
mod change;
mod digest;
mod lifecycle;
mod resource_rules;
mod spike;

pub use budget_rules::budget_conditions;
pub use change::{ChangeRule, change_condition};
pub use digest::{
    AlertBrief, BudgetAtRisk, CurrencyTotal, Digest, DigestError, DigestInput, DigestKind, Mover,
    MoverDimension, OpenAlerts, TOP_N, build_digest, digest_id,
};
pub use lifecycle::{
    Alert, AlertEvent, AlertKind, AlertState, Condition, LifecycleError, MAX_HISTORY, Severity,
    Transition, acknowledge, alert_id, reconcile, resolve,
};
pub use resource_rules::{
    MAX_WINDOW_MINUTES, MIN_WINDOW_MINUTES, ResourceMeasure, ResourceRule, ResourceRuleError,
    ResourceRuleSpec, ResourceScope, ResourceUsage, alert_event_type, resource_conditions,
    resource_rule_source,
};
pub use spike::{SpikeRule, spike_condition};

#[cfg(test)]
mod tests;
