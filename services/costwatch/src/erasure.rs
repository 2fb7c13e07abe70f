//! Tenant erasure in `costwatch up`: every SQLite store of the data dir that holds tenant rows.
//! Each store is opened on its own connection (WAL lets it write beside the running parts); the
//! audit log is not among them — it keeps the record of the erasure.

use std::path::Path;
use std::sync::Arc;

use costwatch_embedded::{
    SqliteAlertStore, SqliteAnnotations, SqliteAnomalyStore, SqliteApiKeys, SqliteLog, SqliteStore,
};
use costwatch_ports::{TenantData, TenantErasure};

/// The stores of `data_dir`, usage events first: an event erased from the bus can no longer be
/// counted again into the projections erased after it.
pub fn embedded(data_dir: &Path) -> anyhow::Result<TenantErasure> {
    let stores: Vec<Arc<dyn TenantData>> = vec![
        Arc::new(SqliteLog::open(&data_dir.join("bus.sqlite"))?),
        Arc::new(SqliteStore::open(&data_dir.join("store.sqlite"))?),
        Arc::new(SqliteAlertStore::open(&data_dir.join("alerts.sqlite"))?),
        Arc::new(SqliteAnomalyStore::open(
            &data_dir.join("anomalies.sqlite"),
        )?),
        Arc::new(SqliteAnnotations::open(
            &data_dir.join("annotations.sqlite"),
        )?),
        Arc::new(SqliteApiKeys::open(&crate::auth::api_keys_file(data_dir))?),
    ];
    Ok(TenantErasure::new(stores))
}
