//! Logging and tracing setup shared by every service.
//!
//! `COSTWATCH_LOG` sets the filter (default `info`), `COSTWATCH_LOG_FORMAT=json` switches to JSON
//! lines. Exporting spans over OTLP is not wired yet (see docs/architecture.md, "gaps").

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops).
pub fn init(service: &str) {
    let filter =
        EnvFilter::try_from_env("COSTWATCH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("COSTWATCH_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(fmt::layer().json().with_current_span(false))
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    if result.is_ok() {
        tracing::debug!(service, "telemetry initialised");
    }
}
