//! Structured gRPC errors.
//!
//! An `INVALID_ARGUMENT` reply of `IngestService.Ingest` carries, in its binary status details
//! (`grpc-status-details-bin`), a `google.rpc.Status` (the standard gRPC rich error model) whose
//! `details` hold one `google.protobuf.Any` packing a [`FieldViolations`]. Tools that understand
//! the rich error model (grpcurl with reflection, the `tonic-types` crate, other gRPC stacks) can
//! decode it; Rust clients can use [`field_violations`].

use prost::Message;
use prost::bytes::Bytes;
use tonic::{Code, Status};

use crate::v1::FieldViolations;

/// `google.protobuf.Any` type URL of [`FieldViolations`].
pub const FIELD_VIOLATIONS_TYPE_URL: &str = "type.googleapis.com/costwatch.v1.FieldViolations";

/// Wire-compatible with `google.rpc.Status` (`google/rpc/status.proto`).
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// A `google.rpc.Code` value.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed error details.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<prost_types::Any>,
}

/// An `INVALID_ARGUMENT` status with `message` (shown to people) and the violations in its
/// details (`summary` is the message of the embedded `google.rpc.Status`).
pub fn invalid_argument(
    message: impl Into<String>,
    summary: impl Into<String>,
    violations: &FieldViolations,
) -> Status {
    let details = RpcStatus {
        code: Code::InvalidArgument as i32,
        message: summary.into(),
        details: vec![prost_types::Any {
            type_url: FIELD_VIOLATIONS_TYPE_URL.to_string(),
            value: violations.encode_to_vec(),
        }],
    };
    Status::with_details(
        Code::InvalidArgument,
        message,
        Bytes::from(details.encode_to_vec()),
    )
}

/// The [`FieldViolations`] in a status's details, if it carries any.
pub fn field_violations(status: &Status) -> Option<FieldViolations> {
    let rpc = RpcStatus::decode(status.details()).ok()?;
    rpc.details
        .iter()
        .find(|any| any.type_url == FIELD_VIOLATIONS_TYPE_URL)
        .and_then(|any| FieldViolations::decode(any.value.as_slice()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::FieldViolation;

    #[test]
    fn violations_round_trip_through_status_details() {
        let violations = FieldViolations {
            violations: vec![FieldViolation {
                index: 3,
                field: "cost.amount".into(),
                reason: "is required".into(),
            }],
            total: 1,
        };
        let status = invalid_argument(
            "events[3].cost.amount: is required",
            "1 invalid field",
            &violations,
        );
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_violations(&status), Some(violations));
        assert_eq!(field_violations(&Status::invalid_argument("plain")), None);
    }

    #[test]
    fn the_descriptor_set_describes_the_service_and_its_imports() {
        let set = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let names: Vec<_> = set.file.iter().filter_map(|f| f.name.as_deref()).collect();
        for name in [
            "google/protobuf/timestamp.proto",
            "costwatch/v1/events.proto",
            "costwatch/v1/ingest.proto",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }
}
