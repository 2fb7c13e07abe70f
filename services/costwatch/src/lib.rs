//! The `costwatch` binary's library: the all-in-one platform (`costwatch up`) and its parts, so
//! integration tests can start it in-process.

pub mod alerts;
pub mod anomalies;
pub mod auth;
pub mod config;
pub mod demo;
pub mod distributed;
pub mod erasure;
pub mod import_watch;
pub mod platform;
pub mod poll;
pub mod retention;
mod serve;
pub mod tls;
mod web;

pub use config::UpConfig;
pub use platform::Platform;
