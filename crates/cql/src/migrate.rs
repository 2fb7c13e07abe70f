//! Applies the CQL migrations in `schemas/cql/` (what `costwatch migrate --target distributed`
//! runs). Each file is a list of idempotent statements, so running it again is harmless; applied
//! versions are recorded in `schema_migrations`.

use chrono::Utc;
use scylla::client::session::Session;
use scylla::value::CqlTimestamp;

use crate::{CqlError, CqlOptions, check_keyspace};

/// `(version, name, text)` in order.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "001_projection",
        include_str!("../../../schemas/cql/001_projection.cql"),
    ),
    (
        2,
        "002_alerts",
        include_str!("../../../schemas/cql/002_alerts.cql"),
    ),
    (
        3,
        "003_anomalies",
        include_str!("../../../schemas/cql/003_anomalies.cql"),
    ),
    (4, "004_fx", include_str!("../../../schemas/cql/004_fx.cql")),
    (
        5,
        "005_annotations",
        include_str!("../../../schemas/cql/005_annotations.cql"),
    ),
    (
        6,
        "006_audit",
        include_str!("../../../schemas/cql/006_audit.cql"),
    ),
    (
        7,
        "007_api_keys",
        include_str!("../../../schemas/cql/007_api_keys.cql"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Cql(#[from] CqlError),
    #[error("migration {name}: statement failed: {reason}\n  statement: {statement}")]
    Statement {
        name: &'static str,
        statement: String,
        reason: String,
    },
    #[error("migration {name}: schema agreement not reached: {reason}")]
    Agreement { name: &'static str, reason: String },
}

/// Splits a migration file into statements: `--` comments dropped, `;` ends a statement.
pub fn statements(text: &str, keyspace: &str, replication: &str) -> Vec<String> {
    let without_comments: String = text
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.replace("{keyspace}", keyspace)
                .replace("{replication}", replication)
        })
        .collect()
}

/// Creates the keyspace and tables (with the configured replication); returns the versions run.
pub async fn migrate(session: &Session, o: &CqlOptions) -> Result<Vec<i32>, MigrateError> {
    check_keyspace(&o.keyspace)?;
    let replication = o.replication.to_cql();
    let mut applied = Vec::new();
    for (version, name, text) in MIGRATIONS {
        for statement in statements(text, &o.keyspace, &replication) {
            session
                .query_unpaged(statement.as_str(), &[])
                .await
                .map_err(|e| MigrateError::Statement {
                    name,
                    statement: statement.clone(),
                    reason: e.to_string(),
                })?;
        }
        // Later statements of other services must see the tables on every node.
        session
            .await_schema_agreement()
            .await
            .map_err(|e| MigrateError::Agreement {
                name,
                reason: e.to_string(),
            })?;
        let record = format!(
            "INSERT INTO {}.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            o.keyspace
        );
        session
            .query_unpaged(
                record.as_str(),
                (*version, *name, CqlTimestamp(Utc::now().timestamp_millis())),
            )
            .await
            .map_err(|e| MigrateError::Statement {
                name,
                statement: record.clone(),
                reason: e.to_string(),
            })?;
        applied.push(*version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_files_split_into_substituted_statements() {
        let all = statements(MIGRATIONS[0].2, "cw", "{'class': 'SimpleStrategy'}");
        assert!(all[0].starts_with("CREATE KEYSPACE IF NOT EXISTS cw WITH replication = {'class'"));
        assert!(
            all.iter()
                .all(|s| !s.contains("{keyspace}") && !s.contains("--"))
        );
        assert!(all.iter().any(|s| s.contains("cw.rollups")));
        assert!(
            all.iter()
                .skip(1)
                .all(|s| s.starts_with("CREATE TABLE IF NOT EXISTS cw.")),
            "{all:#?}"
        );
    }
}
