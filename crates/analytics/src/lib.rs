//! Costwatch analytics: streaming anomaly detection ([`detect`]), forecasting and the
//! period-end spend projection ([`forecast`]), and the scoring code of their evaluation
//! harness ([`nab`] for detection, M4 metrics in [`forecast::metrics`]).
//!
//! Pure: no I/O, no async. The only I/O lives in `src/bin/costwatch-eval/`. Statistics run
//! in f64; money crosses the public API as `rust_decimal::Decimal` (see [`money`] for the
//! conversion and rounding rule). Design and measured results: docs/analytics.md.

pub mod detect;
mod error;
pub mod forecast;
pub mod money;
pub mod nab;
pub mod stats;

pub use detect::{
    Anomaly, AnomalyKind, DetectorConfig, PointScore, SeriesDetector, Severity, ThresholdRule,
};
pub use error::AnalyticsError;
pub use forecast::{Forecast, Method, TotalForecast, forecast, project_total};
