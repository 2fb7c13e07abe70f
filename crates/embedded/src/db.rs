//! One SQLite connection behind a mutex, used from async code through `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::OpenError;

#[derive(Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub(crate) fn open(path: &Path, schema: &str) -> Result<Db, OpenError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let wrap = |source| OpenError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        // WAL + FULL: a committed transaction is on disk when commit returns.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(wrap)?;
        conn.pragma_update(None, "busy_timeout", 5000)
            .map_err(wrap)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(schema).map_err(wrap)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Wraps a connection opened elsewhere (e.g. read-only, without a schema).
    pub(crate) fn from_connection(conn: Connection) -> Db {
        Db {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Runs `f` on the connection on the blocking pool.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, String> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| "connection mutex poisoned".to_string())?;
            f(&mut guard)
        })
        .await
        .map_err(|e| format!("blocking task failed: {e}"))?
    }
}

impl Db {
    /// Runs `deletes` (each binding the tenant as `?1`) in one transaction and returns the rows
    /// removed, then [`scrub`]s the file so the erased rows are gone from disk too.
    pub(crate) async fn erase_tenant(
        &self,
        deletes: &'static [&'static str],
        tenant: &str,
    ) -> Result<u64, String> {
        let tenant = tenant.to_string();
        self.call(move |conn| {
            let removed = delete_in_transaction(conn, deletes, &tenant)?;
            scrub(conn)?;
            Ok(removed)
        })
        .await
    }
}

fn delete_in_transaction(
    conn: &mut Connection,
    deletes: &[&str],
    tenant: &str,
) -> Result<u64, String> {
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    let mut removed = 0u64;
    for sql in deletes {
        removed += tx
            .execute(sql, [tenant])
            .map_err(|e| format!("{sql}: {e}"))? as u64;
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok(removed)
}

/// Deleted rows stay readable in free pages of the file (even with `secure_delete`, a page that
/// becomes a freelist trunk keeps its old bytes — the erasure test found them). `VACUUM`
/// rewrites the database without them, and the truncating checkpoint empties the WAL that held
/// the old page images. Costs a rewrite of the file: erasure is rare, and must be complete.
pub(crate) fn scrub(conn: &Connection) -> Result<(), String> {
    conn.execute_batch("VACUUM")
        .map_err(|e| format!("vacuum: {e}"))?;
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
        .map_err(|e| format!("wal checkpoint: {e}"))?;
    if busy != 0 {
        // A reader's snapshot still needs old frames; they are overwritten by later commits
        // and dropped at the next checkpoint. Said, not hidden.
        tracing::warn!(
            "wal checkpoint after erasure was busy; old frames remain until the next one"
        );
    }
    Ok(())
}

impl Db {
    /// Runs each `(sql, cutoff)` binding the tenant as `?1` and the cutoff as `?2`, in one
    /// transaction; returns the rows removed. No VACUUM: expired history is not an erasure,
    /// and SQLite reuses the freed pages.
    pub(crate) async fn expire_tenant(
        &self,
        deletes: Vec<(&'static str, rusqlite::types::Value)>,
        tenant: &str,
    ) -> Result<u64, String> {
        let tenant = tenant.to_string();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(|e| e.to_string())?;
            let mut removed = 0u64;
            for (sql, cutoff) in &deletes {
                removed += tx
                    .execute(sql, rusqlite::params![tenant, cutoff])
                    .map_err(|e| format!("{sql}: {e}"))? as u64;
            }
            tx.commit().map_err(|e| e.to_string())?;
            Ok(removed)
        })
        .await
    }
}
