//! The collector: takes usage events over HTTP/JSON (and gRPC, see [`grpc`]), validates each batch
//! whole, and publishes it durably to the usage log.

pub mod grpc;
pub mod http;
pub mod ingest;

pub use ingest::{IngestError, IngestLimits, IngestReceipt, Ingestor};
