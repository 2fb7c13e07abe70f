//! Tenant erasure in distributed mode: the gateway erases from the CQL stores on a session of
//! its own. Kafka topics cannot delete one tenant's records; they age out with `retention.ms`
//! (docs/security.md).

use std::sync::Arc;

use anyhow::Context;
use costwatch_cql::{CqlAlertStore, CqlAnnotations, CqlAnomalyStore, CqlApiKeys, CqlStore};
use costwatch_ports::{TenantData, TenantErasure};

use super::config::DistributedConfig;

/// The CQL stores holding tenant rows; `anomalies` is the gateway's own anomaly store.
pub async fn cql(
    cfg: &DistributedConfig,
    anomalies: Arc<CqlAnomalyStore>,
    api_keys: Arc<CqlApiKeys>,
) -> anyhow::Result<TenantErasure> {
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let at = || format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace);
    let session = Arc::new(
        costwatch_cql::connect(&options.nodes)
            .await
            .with_context(at)?,
    );
    let ks = &options.keyspace;
    let stores: Vec<Arc<dyn TenantData>> = vec![
        Arc::new(
            CqlStore::with_session(session.clone(), ks)
                .await
                .with_context(at)?,
        ),
        Arc::new(
            CqlAlertStore::with_session(session.clone(), ks)
                .await
                .with_context(at)?,
        ),
        anomalies,
        Arc::new(
            CqlAnnotations::with_session(session, ks)
                .await
                .with_context(at)?,
        ),
        api_keys,
    ];
    Ok(TenantErasure::new(stores))
}
