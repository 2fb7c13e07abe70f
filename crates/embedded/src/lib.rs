//! Embedded adapters for `costwatch up`: the usage log and the projection store in SQLite (WAL,
//! `synchronous=FULL`, so a commit that returned survives a kill -9 or a power cut), and the
//! cost-update stream as an in-process broadcast.

mod alerts;
mod annotations;
mod anomalies;
mod api_keys;
mod audit;
mod db;
mod erasure;
mod fx;
mod log;
mod retention;
mod store;
mod updates;

pub use alerts::{BroadcastAlerts, SqliteAlertStore};
pub use annotations::SqliteAnnotations;
pub use anomalies::SqliteAnomalyStore;
pub use api_keys::SqliteApiKeys;
pub use audit::SqliteAuditStore;
pub use fx::SqliteFxRates;
pub use log::SqliteLog;
pub use store::SqliteStore;
pub use updates::BroadcastUpdates;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create data directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}
