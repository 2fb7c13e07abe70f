//! End-to-end tests of the embedded platform: started in-process on free ports, driven over real
//! HTTP, gRPC and WebSocket clients.

mod budgets;
mod helpers;
mod ingest;
mod live;
mod restart;
