//! The `costwatch.v1` protobuf contract (`proto/costwatch/v1/*.proto`): messages, the
//! `IngestService` gRPC server and client, the encoded file descriptor set for gRPC reflection,
//! and helpers for the structured errors `IngestService` returns.

/// Generated from `proto/costwatch/v1`.
pub mod v1 {
    tonic::include_proto!("costwatch.v1");
}

pub mod status;

/// The encoded `google.protobuf.FileDescriptorSet` of `costwatch.v1` (imports included), for
/// `tonic_reflection::server::Builder::register_encoded_file_descriptor_set`.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("costwatch_descriptor");

pub use status::{FIELD_VIOLATIONS_TYPE_URL, field_violations, invalid_argument};

/// Re-exported so users can name `prost_types::Timestamp` without their own dependency.
pub use prost_types;
