//! A durable [`DeliveryLog`] in one SQLite file, so a restarted notifier does not page twice.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, MAIN_DB, OptionalExtension, params};

use crate::log::{DeadLetter, DeliveryLog, DeliveryState, DeliveryStatus, LogError};
use crate::notification::AlertState;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS delivery_status (
    alert_id    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    alert_state TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (alert_id, channel)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    dead_lettered_at TEXT NOT NULL,
    letter           TEXT NOT NULL -- the DeadLetter as JSON
);
";

/// One connection behind a mutex: every call is one short statement, and the trait is
/// synchronous. WAL with `synchronous = FULL`: a recorded status is on disk when the call returns.
pub struct SqliteDeliveryLog {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteDeliveryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDeliveryLog").finish_non_exhaustive()
    }
}

fn failed(operation: &'static str) -> impl Fn(rusqlite::Error) -> LogError {
    move |e| LogError {
        operation,
        reason: e.to_string(),
    }
}

impl SqliteDeliveryLog {
    /// Opens (creating it and its directory if needed) the log at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LogError> {
        let path = path.as_ref();
        let open_error = |reason: String| LogError {
            operation: "open its database",
            reason: format!("{}: {reason}", path.display()),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        }
        let sqlite = |e: rusqlite::Error| open_error(e.to_string());
        let conn = Connection::open(path).map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "busy_timeout", 5000)
            .map_err(sqlite)?;
        conn.execute_batch(SCHEMA).map_err(sqlite)?;
        Ok(SqliteDeliveryLog {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self, operation: &'static str) -> Result<MutexGuard<'_, Connection>, LogError> {
        self.conn.lock().map_err(|_| LogError {
            operation,
            reason: "the connection lock was poisoned by a panic".to_owned(),
        })
    }
}

impl DeliveryLog for SqliteDeliveryLog {
    fn record_status(&self, status: &DeliveryStatus) -> Result<(), LogError> {
        const OP: &str = "record a status";
        self.conn(OP)?
            .prepare_cached(
                "INSERT OR REPLACE INTO delivery_status
                 (alert_id, channel, alert_state, state, attempts, last_error, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    status.alert_id,
                    status.channel,
                    status.alert_state.as_str(),
                    delivery_state_str(status.state),
                    status.attempts,
                    status.last_error,
                    timestamp(status.updated_at),
                ])
            })
            .map(drop)
            .map_err(failed(OP))
    }

    fn status(&self, alert_id: &str, channel: &str) -> Result<Option<DeliveryStatus>, LogError> {
        const OP: &str = "read a status";
        let row = self
            .conn(OP)?
            .prepare_cached(
                "SELECT alert_state, state, attempts, last_error, updated_at
                 FROM delivery_status WHERE alert_id = ?1 AND channel = ?2",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![alert_id, channel], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, u32>(2)?,
                            row.get::<_, Option<String>>(3)?,
                            row.get::<_, String>(4)?,
                        ))
                    })
                    .optional()
            })
            .map_err(failed(OP))?;
        let Some((alert_state, state, attempts, last_error, updated_at)) = row else {
            return Ok(None);
        };
        let corrupt = |what: &str, value: &str| LogError {
            operation: OP,
            reason: format!("stored {what} {value:?} is not valid"),
        };
        Ok(Some(DeliveryStatus {
            alert_id: alert_id.to_owned(),
            channel: channel.to_owned(),
            alert_state: parse_alert_state(&alert_state)
                .ok_or_else(|| corrupt("alert_state", &alert_state))?,
            state: parse_delivery_state(&state).ok_or_else(|| corrupt("state", &state))?,
            attempts,
            last_error,
            updated_at: DateTime::parse_from_rfc3339(&updated_at)
                .map_err(|_| corrupt("updated_at", &updated_at))?
                .with_timezone(&Utc),
        }))
    }

    fn record_dead_letter(&self, letter: &DeadLetter) -> Result<(), LogError> {
        const OP: &str = "record a dead letter";
        let json = serde_json::to_string(letter).map_err(|e| LogError {
            operation: OP,
            reason: e.to_string(),
        })?;
        self.conn(OP)?
            .prepare_cached(
                "INSERT INTO dead_letters (alert_id, channel, dead_lettered_at, letter)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    letter.notification.alert_id,
                    letter.channel,
                    timestamp(letter.dead_lettered_at),
                    json,
                ])
            })
            .map(drop)
            .map_err(failed(OP))
    }

    /// Oldest first.
    fn dead_letters(&self) -> Result<Vec<DeadLetter>, LogError> {
        const OP: &str = "read dead letters";
        let rows: Vec<String> = self
            .conn(OP)?
            .prepare_cached("SELECT letter FROM dead_letters ORDER BY id")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get::<_, String>(0))?
                    .collect()
            })
            .map_err(failed(OP))?;
        rows.iter()
            .map(|json| {
                serde_json::from_str(json).map_err(|e| LogError {
                    operation: OP,
                    reason: format!("stored dead letter is not valid: {e}"),
                })
            })
            .collect()
    }

    /// The file is open read-write and the write lock can be taken (`BEGIN IMMEDIATE`, waiting
    /// up to the busy timeout). A full disk only shows on the write itself.
    fn check_writable(&self) -> Result<(), LogError> {
        const OP: &str = "check it is writable";
        let conn = self.conn(OP)?;
        if conn.is_readonly(MAIN_DB).map_err(failed(OP))? {
            return Err(LogError {
                operation: OP,
                reason: "the database is open read-only".to_owned(),
            });
        }
        conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
            .map_err(failed(OP))
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn delivery_state_str(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Retrying => "retrying",
        DeliveryState::DeadLettered => "dead_lettered",
    }
}

fn parse_delivery_state(value: &str) -> Option<DeliveryState> {
    [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Retrying,
        DeliveryState::DeadLettered,
    ]
    .into_iter()
    .find(|s| delivery_state_str(*s) == value)
}

fn parse_alert_state(value: &str) -> Option<AlertState> {
    [
        AlertState::Triggered,
        AlertState::Acknowledged,
        AlertState::Resolved,
    ]
    .into_iter()
    .find(|s| s.as_str() == value)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::notification::{Field, Notification, Severity};

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, second)
            .single()
            .expect("valid time")
            + chrono::Duration::nanoseconds(123_456_789)
    }

    fn status(state: DeliveryState, alert_state: AlertState) -> DeliveryStatus {
        DeliveryStatus {
            alert_id: "alert-1".into(),
            channel: "hook".into(),
            alert_state,
            state,
            attempts: 3,
            last_error: Some("temporary failure: 503".into()),
            updated_at: at(1),
        }
    }

    fn letter(channel: &str) -> DeadLetter {
        DeadLetter {
            notification: Notification {
                alert_id: "alert-1".into(),
                tenant: "acme".into(),
                dedupe_key: "k".into(),
                severity: Severity::Critical,
                state: AlertState::Triggered,
                title: "Budget exceeded".into(),
                summary: "über budget".into(),
                fields: vec![Field::new("Actual", "1250.00000000503 USD")],
                link: Some("http://127.0.0.1/?tenant=acme#alerts".into()),
                occurred_at: at(0),
            },
            channel: channel.into(),
            attempts: 5,
            last_error: "permanent failure: 400".into(),
            dead_lettered_at: at(2),
        }
    }

    #[test]
    fn a_status_round_trips_and_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = SqliteDeliveryLog::open(dir.path().join("nested/notifier.sqlite")).expect("open");
        assert_eq!(log.status("alert-1", "hook").expect("read"), None);

        let retrying = status(DeliveryState::Retrying, AlertState::Triggered);
        log.record_status(&retrying).expect("write");
        assert_eq!(log.status("alert-1", "hook").expect("read"), Some(retrying));
        assert_eq!(log.status("alert-1", "other").expect("read"), None);

        let mut delivered = status(DeliveryState::Delivered, AlertState::Resolved);
        delivered.last_error = None;
        delivered.attempts = 1;
        log.record_status(&delivered).expect("replace");
        assert_eq!(
            log.status("alert-1", "hook").expect("read"),
            Some(delivered)
        );
        let rows: i64 = log
            .conn("count")
            .expect("conn")
            .query_row("SELECT count(*) FROM delivery_status", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 1, "one row per alert × channel");
        log.check_writable().expect("writable");
    }

    #[test]
    fn dead_letters_and_statuses_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notifier.sqlite");
        {
            let log = SqliteDeliveryLog::open(&path).expect("open");
            log.record_dead_letter(&letter("hook")).expect("write");
            log.record_dead_letter(&letter("mail")).expect("write");
            log.record_status(&status(DeliveryState::DeadLettered, AlertState::Triggered))
                .expect("write");
        }
        let log = SqliteDeliveryLog::open(&path).expect("reopen");
        assert_eq!(
            log.dead_letters().expect("read"),
            vec![letter("hook"), letter("mail")]
        );
        assert_eq!(
            log.status("alert-1", "hook").expect("read"),
            Some(status(DeliveryState::DeadLettered, AlertState::Triggered))
        );
    }

    #[test]
    fn the_database_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = SqliteDeliveryLog::open(dir.path().join("n.sqlite")).expect("open");
        let conn = log.conn("inspect").expect("conn");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("journal_mode");
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .expect("synchronous");
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
    }
}
