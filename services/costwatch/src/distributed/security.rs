//! The audit log and API keys of distributed mode, on CQL: every gateway and collector process
//! appends to the one hash chain and checks the same keys (`costwatch migrate` creates both).

use std::sync::Arc;

use anyhow::Context;
use costwatch_cql::{CqlApiKeys, CqlAuditStore};
use costwatch_ports::Authenticator;

use super::config::DistributedConfig;
use crate::auth::AuthMode;

pub struct CqlSecurity {
    pub audit: Arc<CqlAuditStore>,
    pub api_keys: Arc<CqlApiKeys>,
}

impl CqlSecurity {
    /// Both stores on one session of their own.
    pub async fn open(cfg: &DistributedConfig) -> anyhow::Result<CqlSecurity> {
        let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
        let at = || format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace);
        let session = Arc::new(
            costwatch_cql::connect(&options.nodes)
                .await
                .with_context(at)?,
        );
        let ks = &options.keyspace;
        Ok(CqlSecurity {
            audit: Arc::new(
                CqlAuditStore::with_session(session.clone(), ks)
                    .await
                    .with_context(at)?,
            ),
            api_keys: Arc::new(
                CqlApiKeys::with_session(session, ks)
                    .await
                    .with_context(at)?,
            ),
        })
    }

    /// API keys checked before tokens (unless auth is off).
    pub fn authenticator(
        &self,
        cfg: &DistributedConfig,
        tokens: Arc<dyn Authenticator>,
    ) -> Arc<dyn Authenticator> {
        if cfg.auth_mode == AuthMode::None {
            return tokens;
        }
        let keys = costwatch_auth::ApiKeyAuthenticator::new(self.api_keys.clone());
        Arc::new(costwatch_auth::Chain::new(Arc::new(keys), tokens))
    }

    pub fn auditor(&self) -> costwatch_gateway::auth::Auditor {
        costwatch_gateway::auth::Auditor(Some(self.audit.clone()))
    }
}
