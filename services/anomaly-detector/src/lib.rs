//! The anomaly detector: models every tenant's hourly cost series (tenant total, per category,
//! per provider, per service) with a streaming `SeriesDetector` each, scores every hour as soon
//! as it closes, explains an anomaly by the resources and labels that moved, stores it, streams
//! it and raises an `Anomaly` alert (lifecycle and notifier through the alert outbox).
//!
//! [`Detector`] does the work for one tenant at a time; [`Runner`] drives it from the cost-update
//! stream and a 1 s tick. State is persisted in the [`AnomalyStore`](costwatch_ports::AnomalyStore)
//! after each pass, so a restart continues where it stopped.

mod detector;
mod error;
mod runner;
pub mod series;
#[cfg(test)]
mod tests;

pub use detector::{Clock, Detector, Options, SystemClock, service_config};
pub use error::Error;
pub use runner::Runner;
