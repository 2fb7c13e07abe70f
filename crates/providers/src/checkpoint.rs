//! Per (provider, tenant, account/scope): the last fully-closed day whose events were delivered.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

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

/// Both stores lock the same way: a lock poisoned by a panic elsewhere is an error, not a panic.
fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>, CheckpointError> {
    mutex.lock().map_err(|_| CheckpointError::Poisoned)
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
        let conn = lock(&self.conn)?;
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
        let conn = lock(&self.conn)?;
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

type Key = (String, String, String);

fn key(provider: &str, tenant: &str, scope: &str) -> Key {
    (provider.into(), tenant.into(), scope.into())
}

/// Checkpoints in memory (tests, one-shot runs).
#[derive(Default)]
pub struct MemoryCheckpoints {
    days: Mutex<HashMap<Key, NaiveDate>>,
}

impl CheckpointStore for MemoryCheckpoints {
    fn get(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
    ) -> Result<Option<NaiveDate>, CheckpointError> {
        let days = lock(&self.days)?;
        Ok(days.get(&key(provider, tenant, scope)).copied())
    }

    fn set(
        &self,
        provider: &str,
        tenant: &str,
        scope: &str,
        day: NaiveDate,
    ) -> Result<(), CheckpointError> {
        let mut days = lock(&self.days)?;
        days.insert(key(provider, tenant, scope), day);
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
