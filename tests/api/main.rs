//! End-to-end tests of the embedded platform: started in-process on free ports, driven over real
//! HTTP, gRPC and WebSocket clients.

mod anomalies;
mod budgets;
mod forecast;
mod helpers;
mod ingest;
mod live;
mod restart;
