//! The projection store on ScyllaDB / Apache Cassandra (CQL), through the `scylla` driver.
//!
//! CQL has no multi-partition transactions, so a commit is made effectively-once like this
//! (argument in docs/architecture.md, "Distributed commit"):
//! 1. compute the commit's complete write set as *absolute* values (old cell + delta);
//! 2. store that write set as a commit record under a fresh, increasing write timestamp `ts`;
//! 3. the fencing point: a lightweight transaction moves the consumer's positions
//!    `IF offsets = expected AND last_commit = previous`, and marks `pending = ts`;
//! 4. apply every write of the set with `USING TIMESTAMP ts` (idempotent upserts).
//!
//! A crash after 3 leaves `pending` set: the next `positions()` re-applies the record before
//! anything is read. Re-applying is harmless (same values, same timestamp), and a stalled zombie
//! that resumes step 4 late loses to every newer commit, whose timestamps are higher.

mod alerts;
mod annotations;
mod anomalies;
mod api_keys;
mod audit;
mod commit;
mod erasure;
mod fx;
mod migrate;
mod statements;
mod store;
mod writeset;

use std::collections::BTreeMap;
use std::time::Duration;

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;

pub use alerts::CqlAlertStore;
pub use annotations::CqlAnnotations;
pub use anomalies::{Announce, AnomalyFeed, AnomalyStream, CqlAnomalyStore, LocalAnomalyFeed};
pub use api_keys::CqlApiKeys;
pub use audit::CqlAuditStore;
pub use fx::CqlFxRates;
pub use migrate::{MIGRATIONS, MigrateError, migrate};
pub use store::CqlStore;

/// How to reach the cluster and where the projection lives.
#[derive(Debug, Clone)]
pub struct CqlOptions {
    /// `host:port` contact points.
    pub nodes: Vec<String>,
    pub keyspace: String,
    pub replication: Replication,
}

/// Keyspace replication, set when `migrate` creates the keyspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// Single data centre, for development (`SimpleStrategy`, usually factor 1).
    Simple { factor: u32 },
    /// Production: replicas per data centre.
    NetworkTopology { data_centres: BTreeMap<String, u32> },
}

impl Replication {
    /// The CQL replication map.
    pub fn to_cql(&self) -> String {
        match self {
            Replication::Simple { factor } => {
                format!("{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}")
            }
            Replication::NetworkTopology { data_centres } => {
                let dcs: Vec<String> = data_centres
                    .iter()
                    .map(|(dc, n)| format!("'{}': {n}", dc.replace('\'', "''")))
                    .collect();
                format!("{{'class': 'NetworkTopologyStrategy', {}}}", dcs.join(", "))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CqlError {
    #[error("keyspace name {0:?} is invalid: use 1-48 of a-z, 0-9 and _, starting with a letter")]
    InvalidKeyspace(String),
    #[error("no CQL contact points configured")]
    NoNodes,
    #[error("connecting to CQL nodes {nodes:?}: {reason}")]
    Connect { nodes: Vec<String>, reason: String },
    #[error("preparing {statement}: {reason}")]
    Prepare { statement: String, reason: String },
}

/// Keyspace names are spliced into CQL text, so only plain identifiers are accepted.
pub fn check_keyspace(name: &str) -> Result<(), CqlError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && name.len() <= 48 {
        Ok(())
    } else {
        Err(CqlError::InvalidKeyspace(name.to_string()))
    }
}

/// Opens a session (token-aware routing is the driver's default for prepared statements).
pub async fn connect(nodes: &[String]) -> Result<Session, CqlError> {
    if nodes.is_empty() {
        return Err(CqlError::NoNodes);
    }
    SessionBuilder::new()
        .known_nodes(nodes)
        .connection_timeout(Duration::from_secs(5))
        .build()
        .await
        .map_err(|e| CqlError::Connect {
            nodes: nodes.to_vec(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_names_are_plain_identifiers() {
        assert!(check_keyspace("costwatch").is_ok());
        assert!(check_keyspace("cw_test_01").is_ok());
        for bad in ["", "1abc", "Costwatch", "a-b", "a;drop", &"a".repeat(49)] {
            assert!(check_keyspace(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn replication_renders_as_cql_maps() {
        assert_eq!(
            Replication::Simple { factor: 1 }.to_cql(),
            "{'class': 'SimpleStrategy', 'replication_factor': 1}"
        );
        let nts = Replication::NetworkTopology {
            data_centres: BTreeMap::from([("eu-west".into(), 3), ("us-east".into(), 3)]),
        };
        assert_eq!(
            nts.to_cql(),
            "{'class': 'NetworkTopologyStrategy', 'eu-west': 3, 'us-east': 3}"
        );
    }
}

#[cfg(test)]
mod contract_tests;
