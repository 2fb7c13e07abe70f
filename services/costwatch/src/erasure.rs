//! Tenant erasure and retention in `costwatch up`: every SQLite store of the data dir that holds
//! tenant rows, opened on its own connection when an erasure or sweep runs (WAL lets it write
//! beside the running parts). A store whose file does not exist holds nothing and is not
//! created (e.g. `anomalies.sqlite` with the detector off). The audit log is not among them:
//! it keeps the record of the erasure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_embedded::{
    OpenError, SqliteAlertStore, SqliteAnnotations, SqliteAnomalyStore, SqliteApiKeys, SqliteLog,
    SqliteStore,
};
use costwatch_ports::{StoreError, TenantData, TenantErasure, TenantRetention};

/// A store of the data dir, opened per operation.
pub(crate) struct OnDemand<T> {
    holds: &'static str,
    path: PathBuf,
    open: fn(&Path) -> Result<T, OpenError>,
}

impl<T> OnDemand<T> {
    fn new(holds: &'static str, path: PathBuf, open: fn(&Path) -> Result<T, OpenError>) -> Self {
        OnDemand { holds, path, open }
    }

    /// The store, or `None` when its file does not exist (nothing to remove).
    fn opened(&self) -> Result<Option<T>, StoreError> {
        if !self.path.exists() {
            return Ok(None);
        }
        (self.open)(&self.path)
            .map(Some)
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl<T: TenantData + Send + Sync> TenantData for OnDemand<T> {
    fn holds(&self) -> &'static str {
        self.holds
    }

    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        match self.opened()? {
            Some(store) => store.erase_tenant(tenant).await,
            None => Ok(0),
        }
    }
}

#[async_trait]
impl<T: TenantRetention + Send + Sync> TenantRetention for OnDemand<T> {
    fn holds(&self) -> &'static str {
        self.holds
    }

    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        match self.opened()? {
            Some(store) => store.expire_tenant(tenant, cutoff).await,
            None => Ok(0),
        }
    }
}

pub(crate) fn log(dir: &Path) -> OnDemand<SqliteLog> {
    OnDemand::new("usage events", dir.join("bus.sqlite"), SqliteLog::open)
}
pub(crate) fn costs(dir: &Path) -> OnDemand<SqliteStore> {
    OnDemand::new(
        "cost projections",
        dir.join("store.sqlite"),
        SqliteStore::open,
    )
}
pub(crate) fn alerts(dir: &Path) -> OnDemand<SqliteAlertStore> {
    let path = dir.join("alerts.sqlite");
    OnDemand::new("budgets, alerts and rules", path, SqliteAlertStore::open)
}
pub(crate) fn anomalies(dir: &Path) -> OnDemand<SqliteAnomalyStore> {
    let path = dir.join("anomalies.sqlite");
    OnDemand::new(
        "anomalies and detector state",
        path,
        SqliteAnomalyStore::open,
    )
}
pub(crate) fn annotations(dir: &Path) -> OnDemand<SqliteAnnotations> {
    let path = dir.join("annotations.sqlite");
    OnDemand::new("chart annotations", path, SqliteAnnotations::open)
}

/// The stores of `data_dir`, usage events first: an event erased from the bus can no longer be
/// counted again into the projections erased after it.
pub fn embedded(data_dir: &Path) -> TenantErasure {
    let keys = crate::auth::api_keys_file(data_dir);
    let stores: Vec<Arc<dyn TenantData>> = vec![
        Arc::new(log(data_dir)),
        Arc::new(costs(data_dir)),
        Arc::new(alerts(data_dir)),
        Arc::new(anomalies(data_dir)),
        Arc::new(annotations(data_dir)),
        Arc::new(OnDemand::new("API keys", keys, SqliteApiKeys::open)),
    ];
    TenantErasure::new(stores)
}
