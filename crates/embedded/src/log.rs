use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use costwatch_domain::UsageEvent;
use costwatch_ports::{BusError, LogRecord, UsageLog};
use rusqlite::params;
use tokio::sync::watch;

use crate::OpenError;
use crate::db::Db;

/// The usage log in SQLite: a single partition whose offsets are rowids.
pub struct SqliteLog {
    pub(crate) db: Db,
    /// Highest offset written, so readers can wait without polling.
    head: watch::Sender<u64>,
}

impl SqliteLog {
    pub fn open(path: &Path) -> Result<SqliteLog, OpenError> {
        let db = Db::open(path, include_str!("../migrations/log.sql"))?;
        Ok(SqliteLog {
            db,
            head: watch::Sender::new(0),
        })
    }
}

#[async_trait]
impl UsageLog for SqliteLog {
    async fn publish(&self, events: &[UsageEvent]) -> Result<(), BusError> {
        let rows: Vec<(String, String)> = events
            .iter()
            .map(|e| {
                Ok((
                    e.tenant.to_string(),
                    serde_json::to_string(e).map_err(|e| e.to_string())?,
                ))
            })
            .collect::<Result<_, String>>()
            .map_err(BusError::Unavailable)?;
        let head = self
            .db
            .call(move |conn| {
                let tx = conn.transaction().map_err(|e| e.to_string())?;
                {
                    let mut stmt = tx
                        .prepare_cached("INSERT INTO usage_log (tenant, payload) VALUES (?1, ?2)")
                        .map_err(|e| e.to_string())?;
                    for (tenant, payload) in &rows {
                        stmt.execute(params![tenant, payload])
                            .map_err(|e| e.to_string())?;
                    }
                }
                let head = tx.last_insert_rowid();
                tx.commit().map_err(|e| e.to_string())?;
                Ok(head)
            })
            .await
            .map_err(BusError::Unavailable)?;
        self.head.send_replace(u64::try_from(head).unwrap_or(0));
        Ok(())
    }

    async fn read(
        &self,
        partition: u32,
        from: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, BusError> {
        if partition != 0 {
            return Err(BusError::NoSuchPartition(partition));
        }
        let mut head = self.head.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            head.mark_unchanged();
            let records = self.read_now(from, max).await?;
            if !records.is_empty() {
                return Ok(records);
            }
            // Wake on the next append, or give up at the deadline.
            if tokio::time::timeout_at(deadline, head.changed())
                .await
                .is_err()
            {
                return Ok(Vec::new());
            }
        }
    }

    fn partitions(&self) -> u32 {
        1
    }
}

impl SqliteLog {
    async fn read_now(&self, from: u64, max: usize) -> Result<Vec<LogRecord>, BusError> {
        let rows: Vec<(i64, String)> = self
            .db
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT offset, payload FROM usage_log WHERE offset >= ?1 ORDER BY offset LIMIT ?2")
                    .map_err(|e| e.to_string())?;
                let rows = stmt
                    .query_map(params![i64::try_from(from).unwrap_or(i64::MAX), max as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .map_err(|e| e.to_string())?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                Ok(rows)
            })
            .await
            .map_err(BusError::Unavailable)?;
        rows.into_iter()
            .map(|(offset, payload)| {
                let offset = u64::try_from(offset).unwrap_or(0);
                let event = serde_json::from_str(&payload).map_err(|e| BusError::Corrupt {
                    partition: 0,
                    offset,
                    reason: e.to_string(),
                })?;
                Ok(LogRecord {
                    trace_parent: None,
                    partition: 0,
                    offset,
                    event,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> SqliteLog {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteLog::open(&dir.join("bus.sqlite")).expect("open")
    }

    costwatch_ports::usage_log_contract!(fresh());

    #[tokio::test]
    async fn published_events_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bus.sqlite");
        let e = costwatch_ports::contract::sample_event("acme", "durable");
        SqliteLog::open(&path)
            .expect("open")
            .publish(std::slice::from_ref(&e))
            .await
            .expect("publish");
        let again = SqliteLog::open(&path).expect("reopen");
        let got = again.read(0, 0, 10, Duration::ZERO).await.expect("read");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event, e);
    }
}
