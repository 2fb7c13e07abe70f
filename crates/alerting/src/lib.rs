//! Budgets and alerts, wired to the ports: the budget service the APIs call (create, list with
//! live status, recommend), the evaluator that turns costs into alert changes as they arrive,
//! and the publisher that drains the alert outbox to the alert stream and the notifier.
//!
//! ```text
//! cost updates ─► Runner (dirty tenants, 250 ms) ─► Evaluator ─► AlertStore (alert + outbox, atomic)
//!                  └ sweep every minute (period rollover)                    │
//!                                         Publisher ◄─ unpublished ─────────┘
//!                                            ├─► AlertStream (subscriptions, alerts topic)
//!                                            └─► AlertSink (the notifier), then mark published
//! ```

mod budgets;
mod digests;
mod error;
mod evaluator;
mod forecast;
mod fx;
mod publisher;
mod resources;
mod runner;
mod spend;

pub use budgets::{BudgetService, BudgetView, parse_tenant};
pub use digests::{
    DigestOutcome, DigestScheduler, DigestSchedulerOptions, DigestService, DigestSink,
};
pub use error::AlertingError;
pub use evaluator::{Evaluator, EvaluatorOptions};
pub use forecast::{ForecastRequest, MAX_HORIZON_DAYS, SpendForecast};
pub use fx::Fx;
pub use publisher::{AlertSink, Publisher};
pub use resources::{MAX_RULES_PER_TENANT, ResourceRuleService};
pub use runner::{Runner, RunnerOptions};
pub use spend::daily_spend;
