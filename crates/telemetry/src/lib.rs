//! Logging and tracing setup shared by every service, and W3C trace-context propagation.
//!
//! - `COSTWATCH_LOG` sets the filter (default `info`); `COSTWATCH_LOG_FORMAT=json` switches to
//!   JSON lines.
//! - Spans are OpenTelemetry spans (tracing-opentelemetry). They are exported over OTLP/gRPC
//!   when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (e.g. `http://127.0.0.1:4317`, a collector or
//!   Jaeger); otherwise they still get trace ids, so a trace started elsewhere carries through
//!   this process to the next one.
//! - Context crosses process boundaries as W3C `traceparent`/`tracestate`: in Kafka record
//!   headers ([`propagation_fields`] on produce, [`link_from_fields`] on consume) and HTTP/gRPC
//!   request headers ([`parent_from_fields`]).
//!
//! Why links rather than parents on the consumer side: one aggregator batch commits events of
//! many producers' traces at once, so the batch span *links* to each of them (the OpenTelemetry
//! messaging convention for batch consumers) instead of pretending to be the child of one.

use std::collections::HashMap;
use std::sync::OnceLock;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// The header carrying the W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// The optional vendor part of the W3C trace context.
pub const TRACESTATE: &str = "tracestate";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// A tracer provider for `service`, exporting over OTLP when an endpoint is configured.
///
/// An exporter that cannot be built is reported and left out: telemetry must never stop a
/// service from starting.
pub fn tracer_provider(service: &str) -> SdkTracerProvider {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(format!("costwatch-{service}"))
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let exporting = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.is_empty());
    if !exporting {
        return builder.build();
    }
    match opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()
    {
        Ok(exporter) => builder.with_batch_exporter(exporter).build(),
        Err(e) => {
            eprintln!("telemetry: OTLP exporter not started ({e}); spans are not exported");
            builder.build()
        }
    }
}

/// Installs the global subscriber (fmt + OpenTelemetry layers) and the W3C propagator. Safe to
/// call more than once (later calls are no-ops).
pub fn init(service: &str) {
    let filter =
        EnvFilter::try_from_env("COSTWATCH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("COSTWATCH_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let provider = PROVIDER.get_or_init(|| tracer_provider(service));
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("costwatch"));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let result = if json {
        registry
            .with(fmt::layer().json().with_current_span(false))
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    if result.is_ok() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        tracing::debug!(service, "telemetry initialised");
    }
}

/// A subscriber with only the OpenTelemetry layer (no export, no output), for tests that check
/// propagation: `let _guard = tracing::subscriber::set_default(otel_subscriber());`.
pub fn otel_subscriber() -> impl tracing::Subscriber + Send + Sync {
    let provider = tracer_provider("test");
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("costwatch-test")))
}

/// Flushes spans still buffered for export (call before the process exits).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(e) = provider.shutdown()
    {
        eprintln!("telemetry: flushing spans failed: {e}");
    }
}

/// The current span's trace context as header fields (`traceparent`, maybe `tracestate`);
/// empty when there is no sampled trace (no subscriber, or tracing disabled).
pub fn propagation_fields() -> Vec<(String, String)> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return Vec::new();
    }
    let mut fields = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut fields);
    let mut fields: Vec<(String, String)> = fields.into_iter().collect();
    fields.sort();
    fields
}

/// The remote span context carried by `fields`, when they hold a valid `traceparent`.
pub fn span_context_from_fields<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<opentelemetry::trace::SpanContext> {
    let map: HashMap<String, String> = fields
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let cx = TraceContextPropagator::new().extract(&map);
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

/// Makes `span` a child of the trace carried by `fields` (an incoming request). Returns whether
/// a valid context was found.
pub fn parent_from_fields<'a>(
    span: &tracing::Span,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> bool {
    match span_context_from_fields(fields) {
        Some(sc) => span
            .set_parent(opentelemetry::Context::new().with_remote_span_context(sc))
            .is_ok(),
        None => false,
    }
}

/// Links `span` to the trace carried by `fields` (one consumed record). Returns whether a valid
/// context was found.
pub fn link_from_fields<'a>(
    span: &tracing::Span,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> bool {
    match span_context_from_fields(fields) {
        Some(sc) => {
            span.add_link(sc);
            true
        }
        None => false,
    }
}

/// The trace id of `span` as 32 hex digits (all zeros when it has none). For logs and tests.
pub fn trace_id_of(span: &tracing::Span) -> String {
    span.context().span().span_context().trace_id().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscriber with the OpenTelemetry layer, for this thread only.
    fn with_tracing<T>(f: impl FnOnce() -> T) -> T {
        tracing::subscriber::with_default(otel_subscriber(), f)
    }

    #[test]
    fn fields_carry_the_current_trace_and_parent_it_elsewhere() {
        with_tracing(|| {
            let producer = tracing::info_span!("produce");
            let fields = producer.in_scope(propagation_fields);
            let traceparent = fields
                .iter()
                .find(|(k, _)| k == TRACEPARENT)
                .map(|(_, v)| v.clone())
                .expect("a traceparent field");
            let trace_id = trace_id_of(&producer);
            assert_ne!(trace_id, "0".repeat(32));
            // 00-<trace id>-<span id>-<flags>
            assert!(
                traceparent.starts_with(&format!("00-{trace_id}-")),
                "{traceparent}"
            );

            let consumer = tracing::info_span!("consume");
            let borrowed = fields.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            assert!(parent_from_fields(&consumer, borrowed));
            assert_eq!(trace_id_of(&consumer), trace_id);
        });
    }

    #[test]
    fn no_trace_gives_no_fields_and_garbage_is_not_a_parent() {
        // No subscriber: spans are disabled, nothing to propagate.
        assert!(propagation_fields().is_empty());
        with_tracing(|| {
            let span = tracing::info_span!("consume");
            let own = trace_id_of(&span);
            assert!(!parent_from_fields(
                &span,
                [(TRACEPARENT, "00-nothex-xyz-01")]
            ));
            assert!(!link_from_fields(&span, [(TRACEPARENT, "")]));
            assert!(span_context_from_fields([("other", "x")]).is_none());
            assert_eq!(trace_id_of(&span), own);
        });
    }

    #[test]
    fn header_names_are_matched_case_insensitively() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let sc = span_context_from_fields([("Traceparent", tp)]).expect("valid");
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
}
