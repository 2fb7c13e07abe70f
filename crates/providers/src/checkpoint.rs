//! Per (provider, tenant, account/scope): the last fully-closed day whose events were delivered.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored checkpoint {0:?} is not a date (YYYY-MM-DD)")]
    Corrupt(String),
    #[error("the checkpoint store's lock is poisoned")]
    Poisoned,
}

pub trait CheckpointStore: Send + Sync {
    fn get(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
    ) -> Result<Option<NaiveDate>, CheckpointError>;
    fn set(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
        day: NaiveDate,
    ) -> Result<(), CheckpointError>;
}

/// Checkpoints in a SQLite file (e.g. `<data-dir>/poll-checkpoints.sqlite`).
pub struct SqliteCheckpoints {
    conn: Mutex<Connection>,
}

impl SqliteCheckpoints {
    pub fn open(path: &Path) -> Result<SqliteCheckpoints, CheckpointError> {
        Self::init(Connection::open(path)?)
    }

    pub fn in_memory() -> Result<SqliteCheckpoints, CheckpointError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteCheckpoints, CheckpointError> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS poll_checkpoint (
                 provider TEXT NOT NULL,
                 tenant TEXT NOT NULL,
                 scope TEXT NOT NULL,
                 closed_through TEXT NOT NULL,
                 updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
                 PRIMARY KEY (provider, tenant, scope)
             );",
        )?;
        Ok(SqliteCheckpoints {
            conn: Mutex::new(conn),
        })
    }
}

impl CheckpointStore for SqliteCheckpoints {
    fn get(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
    ) -> Result<Option<NaiveDate>, CheckpointError> {
        let conn = self.conn.lock().map_err(|_| CheckpointError::Poisoned)?;
        let raw: Option<String> = conn
            .query_row(
                "SELECT closed_through FROM poll_checkpoint
                 WHERE provider = ?1 AND tenant = ?2 AND scope = ?3",
                params![provider, tenant, scope],
                |r| r.get(0),
            )
            .optional()?;
        raw.map(|s| {
            NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| CheckpointError::Corrupt(s))
        })
        .transpose()
    }

    fn set(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
        day: NaiveDate,
    ) -> Result<(), CheckpointError> {
        let conn = self.conn.lock().map_err(|_| CheckpointError::Poisoned)?;
        conn.execute(
            "INSERT INTO poll_checkpoint (provider, tenant, scope, closed_through)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (provider, tenant, scope) DO UPDATE SET
                 closed_through = excluded.closed_through,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            params![provider, tenant, scope, day.format("%Y-%m-%d").to_string()],
        )?;
        Ok(())
    }
}

/// Checkpoints in memory (tests, one-shot runs).
#[derive(Default)]
pub struct MemoryCheckpoints {
    days: Mutex<HashMap<(String, String, String), NaiveDate>>,
}

impl CheckpointStore for MemoryCheckpoints {
    fn get(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
    ) -> Result<Option<NaiveDate>, CheckpointError> {
        let days = self.days.lock().map_err(|_| CheckpointError::Poisoned)?;
        Ok(days
            .get(&(provider.into(), tenant.into(), scope.into()))
            .copied())
    }

    fn set(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
        day: NaiveDate,
    ) -> Result<(), CheckpointError> {
        let mut days = self.days.lock().map_err(|_| CheckpointError::Poisoned)?;
        days.insert((provider.into(), tenant.into(), scope.into()), day);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_checkpoints_survive_reopening() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cp.sqlite");
        let day = NaiveDate::from_ymd_opt(2024, 5, 3).ok_or("date")?;
        {
            let store = SqliteCheckpoints::open(&path)?;
            assert_eq!(store.get("azure", "t1", "subscriptions/s")?, None);
            store.set("azure", "t1", "subscriptions/s", day)?;
            store.set("azure", "t1", "subscriptions/s", day)?;
        }
        let store = SqliteCheckpoints::open(&path)?;
        assert_eq!(store.get("azure", "t1", "subscriptions/s")?, Some(day));
        assert_eq!(store.get("azure", "t2", "subscriptions/s")?, None);
        assert_eq!(store.get("gcp", "t1", "subscriptions/s")?, None);
        Ok(())
    }
}
