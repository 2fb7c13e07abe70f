//! The audit log in SQLite (`audit.sqlite`): INSERT and SELECT only.
//!
//! Appends run in an IMMEDIATE transaction that reads the head and inserts the next record, so
//! appends are serialized even across processes sharing the file; `seq` is the primary key, so
//! a second record with the same seq (a fork) cannot be stored.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::audit::{AuditChain, AuditDraft, AuditRecord, ChainHash, ChainHead, Outcome};
use costwatch_ports::{AuditQuery, AuditStore, StoreError};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

use crate::OpenError;
use crate::db::Db;

const SCHEMA: &str = include_str!("../migrations/audit.sql");
const TABLE: &str = "audit_log";
const COLUMNS: &str =
    "seq, at, actor, tenant, action, target, source, outcome, reason, prev_hash, hash";

pub struct SqliteAuditStore {
    db: Db,
}

impl SqliteAuditStore {
    /// Opens (creating if needed) the log for appending.
    pub fn open(path: &Path) -> Result<SqliteAuditStore, OpenError> {
        Ok(SqliteAuditStore {
            db: Db::open(path, SCHEMA)?,
        })
    }

    /// Opens an existing log read-only (for `costwatch audit verify`): no schema change, and
    /// `append` fails.
    pub fn open_read_only(path: &Path) -> Result<SqliteAuditStore, OpenError> {
        let wrap = |source| OpenError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
        conn.pragma_update(None, "busy_timeout", 5000)
            .map_err(wrap)?;
        Ok(SqliteAuditStore {
            db: Db::from_connection(conn),
        })
    }
}

/// A row as stored, before decoding.
struct RawRecord {
    seq: i64,
    at: String,
    actor: String,
    tenant: Option<String>,
    action: String,
    target: String,
    source: String,
    outcome: String,
    reason: Option<String>,
    prev_hash: String,
    hash: String,
}

impl RawRecord {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
        Ok(RawRecord {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            tenant: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            source: r.get(6)?,
            outcome: r.get(7)?,
            reason: r.get(8)?,
            prev_hash: r.get(9)?,
            hash: r.get(10)?,
        })
    }

    /// Strict: every stored value has one spelling, so any edit of the row decodes to a
    /// different record (caught by the hash) or fails here (a `Corrupt` naming the seq).
    fn decode(self) -> Result<AuditRecord, StoreError> {
        let seq = self.seq;
        let corrupt = |column: &str, value: &str, e: String| StoreError::Corrupt {
            table: TABLE,
            reason: format!("record {seq}: {column} {value:?}: {e}"),
        };
        let at = DateTime::parse_from_rfc3339(&self.at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt("at", &self.at, e.to_string()))?;
        if encode_at(at) != self.at {
            return Err(corrupt("at", &self.at, "not in canonical form".into()));
        }
        let outcome = Outcome::from_parts(&self.outcome, self.reason)
            .map_err(|e| corrupt("outcome", &self.outcome, e))?;
        Ok(AuditRecord {
            seq: u64::try_from(seq).map_err(|e| corrupt("seq", &seq.to_string(), e.to_string()))?,
            at,
            actor: self.actor,
            tenant: self.tenant,
            action: self.action,
            target: self.target,
            source: self.source,
            outcome,
            prev_hash: parse_hash(seq, "prev_hash", &self.prev_hash)?,
            hash: parse_hash(seq, "hash", &self.hash)?,
        })
    }
}

fn parse_hash(seq: i64, column: &str, value: &str) -> Result<ChainHash, StoreError> {
    value.parse().map_err(|e| StoreError::Corrupt {
        table: TABLE,
        reason: format!("record {seq}: {column}: {e}"),
    })
}

fn encode_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads the head and inserts the record after it, in one IMMEDIATE transaction.
fn append_in(
    c: &mut Connection,
    draft: AuditDraft,
) -> Result<Result<AuditRecord, StoreError>, String> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| e.to_string())?;
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| e.to_string())?;
    let head = match head {
        None => None,
        Some((seq, hash)) => {
            let hash = match parse_hash(seq, "hash", &hash) {
                Ok(h) => h,
                Err(e) => return Ok(Err(e)),
            };
            let Ok(seq) = u64::try_from(seq) else {
                return Ok(Err(StoreError::Corrupt {
                    table: TABLE,
                    reason: format!("head seq {seq} is negative"),
                }));
            };
            Some(ChainHead { seq, hash })
        }
    };
    let r = AuditChain::append_after(head, draft);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, tenant, action, target, source, outcome, reason,
                                prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            to_i64(r.seq),
            encode_at(r.at),
            r.actor,
            r.tenant,
            r.action,
            r.target,
            r.source,
            r.outcome.kind(),
            r.outcome.reason(),
            r.prev_hash.to_string(),
            r.hash.to_string(),
        ],
    )
    .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(Ok(r))
}

#[async_trait]
impl AuditStore for SqliteAuditStore {
    async fn append(&self, draft: AuditDraft) -> Result<AuditRecord, StoreError> {
        self.db
            .call(move |c| append_in(c, draft))
            .await
            .map_err(StoreError::Unavailable)?
    }

    async fn records(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let query = query.clone();
        let raw = self
            .db
            .call(move |c| {
                let from = to_i64(query.from_seq);
                let limit = to_i64(query.limit as u64);
                let sql = match query.tenant {
                    None => format!(
                        "SELECT {COLUMNS} FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2"
                    ),
                    Some(_) => format!(
                        "SELECT {COLUMNS} FROM audit_log WHERE tenant = ?3 AND seq >= ?1
                         ORDER BY seq LIMIT ?2"
                    ),
                };
                let mut q = c.prepare_cached(&sql).map_err(|e| e.to_string())?;
                let rows = match &query.tenant {
                    None => q.query_map(params![from, limit], RawRecord::from_row),
                    Some(t) => q.query_map(params![from, limit, t], RawRecord::from_row),
                }
                .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<RawRecord>, _>>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter().map(RawRecord::decode).collect()
    }

    async fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        let raw: Option<(i64, String)> = self
            .db
            .call(|c| {
                c.query_row(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.map(|(seq, hash)| {
            Ok(ChainHead {
                seq: u64::try_from(seq).map_err(|e| StoreError::Corrupt {
                    table: TABLE,
                    reason: format!("head seq {seq}: {e}"),
                })?,
                hash: parse_hash(seq, "hash", &hash)?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_ports::audit_contract::sample_draft;

    async fn fresh() -> SqliteAuditStore {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteAuditStore::open(&dir.join("audit.sqlite")).expect("open")
    }

    costwatch_ports::audit_store_contract!(fresh());

    #[tokio::test]
    async fn triggers_refuse_update_and_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.sqlite");
        let store = SqliteAuditStore::open(&path).expect("open");
        store
            .append(sample_draft(1, Some("acme")))
            .await
            .expect("append");
        let raw = Connection::open(&path).expect("raw");
        let update = raw.execute("UPDATE audit_log SET actor = 'mallory'", []);
        assert!(
            update.is_err_and(|e| e.to_string().contains("append-only")),
            "update refused"
        );
        let delete = raw.execute("DELETE FROM audit_log", []);
        assert!(
            delete.is_err_and(|e| e.to_string().contains("append-only")),
            "delete refused"
        );
        assert_eq!(
            store.head().await.expect("head").map(|h| h.seq),
            Some(1),
            "still there"
        );
    }

    #[tokio::test]
    async fn read_only_reads_but_cannot_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.sqlite");
        {
            let store = SqliteAuditStore::open(&path).expect("open");
            store.append(sample_draft(1, None)).await.expect("append");
        }
        let ro = SqliteAuditStore::open_read_only(&path).expect("open read-only");
        assert_eq!(ro.head().await.expect("head").map(|h| h.seq), Some(1));
        assert!(ro.append(sample_draft(2, None)).await.is_err());
        assert!(SqliteAuditStore::open_read_only(&dir.path().join("missing.sqlite")).is_err());
    }

    #[tokio::test]
    async fn non_canonical_row_is_corrupt_naming_the_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.sqlite");
        let store = SqliteAuditStore::open(&path).expect("open");
        for n in 1..=3 {
            store.append(sample_draft(n, None)).await.expect("append");
        }
        let raw = Connection::open(&path).expect("raw");
        raw.execute_batch(
            "DROP TRIGGER audit_log_no_update;
             UPDATE audit_log SET hash = upper(hash) WHERE seq = 2;",
        )
        .expect("tamper");
        let err = store
            .records(&AuditQuery::all(1, 10))
            .await
            .expect_err("upper-case hash");
        assert!(err.to_string().contains("record 2: hash"), "{err}");
    }
}
