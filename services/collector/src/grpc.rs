//! gRPC `costwatch.v1.IngestService/Ingest`: the same semantics as `POST /v1/events`.
//!
//! Each protobuf event is turned into the JSON shape of the event contract and handed to
//! [`Ingestor::ingest`], so HTTP and gRPC share exactly one validation path. Protobuf cannot tell an
//! unset string from an empty one, so empty strings are sent to the validator as absent fields
//! (a required one then fails with "is required").
//!
//! Errors: an invalid batch fails with `INVALID_ARGUMENT`; the message lists the errors for people
//! and the details carry them as `costwatch.v1.FieldViolations` in a `google.rpc.Status` (see
//! [`costwatch_proto::status`]). Both are bounded so the status fits in the gRPC trailers that
//! clients accept (16 KiB by default); `FieldViolations.total` tells when the list was shortened.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use tracing::Instrument;

use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::validate::FieldError;
use costwatch_proto::prost_types::Timestamp;
use costwatch_proto::v1::ingest_service_server::{IngestService, IngestServiceServer};
use costwatch_proto::v1::{
    FieldViolation, FieldViolations, IngestRequest, IngestResponse, UsageEvent,
};
use prost::Message as _;
use serde_json::{Map, Value};
use tonic::{Request, Response, Status};

use crate::ingest::{IngestError, Ingestor};

/// Most bytes of the human-readable status message (before percent-encoding).
const MESSAGE_BUDGET: usize = 1024;
/// Most bytes of the encoded violations in the status details (before base64).
const DETAILS_BUDGET: usize = 4096;
/// Longest `field` or `reason` text kept in one violation, in characters.
const MAX_VIOLATION_TEXT: usize = 256;

/// `google.protobuf.Timestamp` range: 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999999Z.
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
/// The reason given for a timestamp outside that range (in place of the validator's RFC 3339 one).
const TIMESTAMP_RANGE_REASON: &str = "must be a google.protobuf.Timestamp between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z with 0 <= nanos < 1000000000";

/// The `IngestService` implementation over an [`Ingestor`].
pub struct IngestGrpc {
    ingestor: Arc<Ingestor>,
}

impl IngestGrpc {
    pub fn new(ingestor: Arc<Ingestor>) -> Self {
        IngestGrpc { ingestor }
    }

    /// The tonic service, refusing requests larger than the ingestor's body limit
    /// (`OUT_OF_RANGE`, tonic's status for an oversized message).
    pub fn into_server(self) -> IngestServiceServer<IngestGrpc> {
        let limit = self.ingestor.limits().max_body_bytes;
        IngestServiceServer::new(self).max_decoding_message_size(limit)
    }
}

#[tonic::async_trait]
impl IngestService for IngestGrpc {
    async fn ingest(
        &self,
        request: Request<IngestRequest>,
    ) -> Result<Response<IngestResponse>, Status> {
        let span = tracing::info_span!("ingest_grpc");
        let metadata = request.metadata();
        costwatch_telemetry::parent_from_fields(
            &span,
            [
                costwatch_telemetry::TRACEPARENT,
                costwatch_telemetry::TRACESTATE,
            ]
            .into_iter()
            .filter_map(|name| Some((name, metadata.get(name)?.to_str().ok()?))),
        );
        let authorization = metadata
            .get("authorization")
            .map(|v| v.to_str().unwrap_or("\u{0}").to_string());
        let source = request
            .remote_addr()
            .map_or_else(|| "unknown".into(), |a| a.to_string());
        let events = request.into_inner().events;
        let mut bad_timestamps = BTreeSet::new();
        let values: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                if event
                    .timestamp
                    .as_ref()
                    .is_some_and(|ts| timestamp_to_rfc3339(ts).is_none())
                {
                    bad_timestamps.insert(index);
                }
                event_to_json(event)
            })
            .collect();
        match self
            .ingestor
            .ingest_as(authorization.as_deref(), &source, &values, Utc::now())
            .instrument(span)
            .await
        {
            Ok(receipt) => Ok(Response::new(IngestResponse {
                accepted: u32::try_from(receipt.accepted).unwrap_or(u32::MAX),
            })),
            Err(IngestError::Invalid(mut errors)) => {
                for e in errors
                    .iter_mut()
                    .filter(|e| e.field == "timestamp" && bad_timestamps.contains(&e.index))
                {
                    e.reason = TIMESTAMP_RANGE_REASON.into();
                }
                tracing::debug!(errors = errors.len(), "invalid batch refused");
                Err(invalid_batch(&errors))
            }
            Err(e @ IngestError::TooManyEvents { .. }) => {
                Err(Status::resource_exhausted(e.to_string()))
            }
            Err(e @ IngestError::Empty) => Err(Status::invalid_argument(format!(
                "{e}; nothing was accepted"
            ))),
            Err(IngestError::Unauthenticated(e)) => Err(Status::unauthenticated(e.to_string())),
            Err(e @ IngestError::Forbidden(_)) => Err(Status::permission_denied(e.to_string())),
            Err(e @ IngestError::Bus(_)) => {
                tracing::error!(error = %e, "publish failed");
                Err(Status::unavailable(
                    "events could not be stored durably; retry the batch (ids make retries safe)",
                ))
            }
        }
    }
}

/// The JSON form of a protobuf event, as the domain validator reads it (`usage-event.v1.json`).
/// Empty strings become absent fields; a timestamp outside the protobuf range becomes a string the
/// validator refuses (so the error is reported on `timestamp`).
pub fn event_to_json(event: &UsageEvent) -> Value {
    let mut obj = Map::new();
    let mut text = |key: &str, value: &str| {
        if !value.is_empty() {
            obj.insert(key.to_string(), Value::String(value.to_string()));
        }
    };
    text("id", &event.id);
    text("tenant", &event.tenant);
    text("category", &event.category);
    text("subKind", &event.sub_kind);
    text("provider", &event.provider);
    text("service", &event.service);
    text("resource", &event.resource);
    text("metric", &event.metric);
    text("quantity", &event.quantity);
    text("unit", &event.unit);
    if let Some(ts) = &event.timestamp {
        let rendered = timestamp_to_rfc3339(ts)
            .unwrap_or_else(|| format!("out of range: seconds={} nanos={}", ts.seconds, ts.nanos));
        obj.insert("timestamp".into(), Value::String(rendered));
    }
    if let Some(cost) = &event.cost {
        let mut c = Map::new();
        if !cost.amount.is_empty() {
            c.insert("amount".into(), Value::String(cost.amount.clone()));
        }
        if !cost.currency.is_empty() {
            c.insert("currency".into(), Value::String(cost.currency.clone()));
        }
        obj.insert("cost".into(), Value::Object(c));
    }
    if !event.labels.is_empty() {
        let labels = event
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        obj.insert("labels".into(), Value::Object(labels));
    }
    Value::Object(obj)
}

/// RFC 3339 (UTC, `Z`, only as many fractional digits as needed), or `None` outside the
/// `google.protobuf.Timestamp` range.
fn timestamp_to_rfc3339(ts: &Timestamp) -> Option<String> {
    if !(MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&ts.seconds) {
        return None;
    }
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    let dt = DateTime::<Utc>::from_timestamp(ts.seconds, nanos)?;
    Some(dt.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The `INVALID_ARGUMENT` status for a refused batch, bounded to fit in trailers.
fn invalid_batch(errors: &[FieldError]) -> Status {
    let summary = format!(
        "the batch has {} invalid field(s); nothing was accepted",
        errors.len()
    );

    let mut message = format!("{summary}: ");
    let mut listed = 0;
    for (i, e) in errors.iter().enumerate() {
        let mut item = String::new();
        let _ = write!(
            item,
            "{}events[{}]",
            if i == 0 { "" } else { "; " },
            e.index
        );
        if !e.field.is_empty() {
            let _ = write!(item, ".{}", shorten(&e.field, MAX_VIOLATION_TEXT));
        }
        let _ = write!(item, ": {}", shorten(&e.reason, MAX_VIOLATION_TEXT));
        if message.len() + item.len() > MESSAGE_BUDGET {
            break;
        }
        message.push_str(&item);
        listed += 1;
    }
    if listed < errors.len() {
        let _ = write!(
            message,
            "; … and {} more (see the status details)",
            errors.len() - listed
        );
    }

    let mut violations = FieldViolations {
        violations: Vec::new(),
        total: u32::try_from(errors.len()).unwrap_or(u32::MAX),
    };
    let mut size = 0;
    for e in errors {
        let v = FieldViolation {
            index: u32::try_from(e.index).unwrap_or(u32::MAX),
            field: shorten(&e.field, MAX_VIOLATION_TEXT),
            reason: shorten(&e.reason, MAX_VIOLATION_TEXT),
        };
        // Tag byte plus length prefix plus the message itself.
        let len = v.encoded_len();
        let cost = 1 + prost::encoding::encoded_len_varint(len as u64) + len;
        if size + cost > DETAILS_BUDGET {
            break;
        }
        size += cost;
        violations.violations.push(v);
    }
    costwatch_proto::status::invalid_argument(message, summary, &violations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_exactly_and_refuse_out_of_range() {
        let ts = |seconds, nanos| Timestamp { seconds, nanos };
        assert_eq!(
            timestamp_to_rfc3339(&ts(1_773_500_000, 0)).as_deref(),
            Some("2026-03-14T14:53:20Z")
        );
        assert_eq!(
            timestamp_to_rfc3339(&ts(0, 5_000)).as_deref(),
            Some("1970-01-01T00:00:00.000005Z")
        );
        assert_eq!(
            timestamp_to_rfc3339(&ts(MIN_TIMESTAMP_SECONDS, 0)).as_deref(),
            Some("0001-01-01T00:00:00Z")
        );
        assert!(timestamp_to_rfc3339(&ts(MAX_TIMESTAMP_SECONDS, 999_999_999)).is_some());
        assert_eq!(
            timestamp_to_rfc3339(&ts(MAX_TIMESTAMP_SECONDS + 1, 0)),
            None
        );
        assert_eq!(
            timestamp_to_rfc3339(&ts(MIN_TIMESTAMP_SECONDS - 1, 0)),
            None
        );
        assert_eq!(timestamp_to_rfc3339(&ts(0, -1)), None);
        assert_eq!(timestamp_to_rfc3339(&ts(0, 1_000_000_000)), None);
    }

    #[test]
    fn empty_strings_are_absent_fields() {
        let v = event_to_json(&UsageEvent {
            id: "e".into(),
            cost: Some(costwatch_proto::v1::Money {
                amount: "1".into(),
                currency: String::new(),
            }),
            ..Default::default()
        });
        assert_eq!(v, serde_json::json!({"id": "e", "cost": {"amount": "1"}}));
    }

    #[test]
    fn huge_error_lists_are_bounded() {
        let errors: Vec<FieldError> = (0..10_000)
            .map(|index| FieldError {
                index,
                field: "x".repeat(5000),
                reason: "é".repeat(5000),
            })
            .collect();
        let status = invalid_batch(&errors);
        assert!(
            status.message().len() <= MESSAGE_BUDGET + 100,
            "{}",
            status.message().len()
        );
        assert!(
            status.details().len() <= DETAILS_BUDGET + 200,
            "{}",
            status.details().len()
        );
        let v = costwatch_proto::field_violations(&status).expect("details");
        assert_eq!(v.total, 10_000);
        assert!(!v.violations.is_empty() && v.violations.len() < 10_000);
        assert_eq!(v.violations[1].index, 1);
    }
}
