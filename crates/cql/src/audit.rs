//! The audit log on CQL (`schemas/cql/006_audit.cql`), for several gateway processes appending
//! at once. Only INSERT and SELECT: no record is ever changed or removed, and nothing expires.
//!
//! # Layout
//! `audit_log ((bucket), seq)` with `bucket = seq / 100_000`: a partition holds at most 100k
//! records (bucket 0 holds 1..=99_999), clustered by seq. There is no head table (a second
//! partition could not be updated atomically with the record): since every record is inserted
//! only after the record before it was read, the stored seqs are always exactly `1..=N`, so the
//! head is the last row of the last non-empty bucket. A store remembers the last bucket it saw
//! and looks from there, moving to the next bucket while the current one is full.
//!
//! # Appending
//! 1. read the head with a SERIAL read (a Paxos round: it sees, and completes, any append in
//!    flight, so a retry sees the winner);
//! 2. compute the next record with [`AuditChain::append_after`] (seq, `prev_hash`, hash);
//! 3. `INSERT ... IF NOT EXISTS` on (bucket, seq), a lightweight transaction with SERIAL (not
//!    LOCAL_SERIAL) consistency, so appenders in different data centres also agree.
//!
//! If the insert did not apply another appender took that seq: re-read the head and try again,
//! after a short jittered pause, up to [`MAX_ATTEMPTS`]; then `StoreError::Unavailable` naming
//! the contention. A seq is stored once and a stored record never changes, so a record always
//! links to the one record before it: the chain cannot fork and has no gaps.
//!
//! An insert that failed with an error (e.g. a Paxos contention timeout) may still have
//! applied, or apply later. The attempt is remembered: once the head reaches its seq, the row at
//! that seq is read (SERIAL); if it holds this record's hash the append succeeded. Otherwise the
//! seq belongs to another record for good, and the draft is appended afresh. Retrying at the
//! same seq proposes the identical record, so it never lands twice. Only when `append` gives up
//! with an error can a record of a timed-out attempt still appear (an extra record, never a
//! lost or forked one).
//!
//! # Reading
//! `records` reads forward from `from_seq`, bucket by bucket, paged, and stops at `limit`
//! records or at the end of the log (a bucket that is not full). A tenant filter is applied
//! here, not by a second table (which could not be written atomically with the record):
//! reading one tenant's records may read the whole log, which is fine for an audit export.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::audit::{AuditChain, AuditDraft, AuditRecord, ChainHash, ChainHead, Outcome};
use costwatch_ports::{AuditQuery, AuditStore, StoreError};
use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::response::query_result::QueryResult;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};
use scylla::value::{CqlValue, Row};

use crate::statements::{idempotent, prepare};
use crate::store::unavailable;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

const TABLE: &str = "audit_log";
const COLUMNS: &str =
    "seq, at, actor, tenant, action, target, source, outcome, reason, prev_hash, hash";
/// Records per partition.
const BUCKET: i64 = 100_000;
/// Append attempts (each a head read and an insert) before giving up.
pub const MAX_ATTEMPTS: u32 = 200;
/// Rows per page when reading records.
const PAGE: i32 = 1000;

pub struct CqlAuditStore {
    pub(crate) session: Arc<Session>,
    keyspace: String,
    insert: PreparedStatement,
    select_last: PreparedStatement,
    select_one: PreparedStatement,
    select_from: PreparedStatement,
    /// The last bucket known to hold records (only grows).
    last_bucket: AtomicI64,
}

fn bucket_of(seq: i64) -> i64 {
    seq / BUCKET
}

/// The last seq a bucket can hold: it is full when it holds this one.
fn last_seq_of(bucket: i64) -> i64 {
    bucket * BUCKET + BUCKET - 1
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A serial read: a Paxos round that sees every completed (and completes any accepted) append.
async fn serial_read(session: &Session, cql: String) -> Result<PreparedStatement, CqlError> {
    let mut p = prepare(session, cql).await?;
    p.set_consistency(Consistency::Serial);
    p.set_is_idempotent(true);
    Ok(p)
}

impl CqlAuditStore {
    pub async fn open(o: &CqlOptions) -> Result<CqlAuditStore, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlAuditStore::with_session(session, &o.keyspace).await
    }

    pub async fn with_session(session: Arc<Session>, ks: &str) -> Result<CqlAuditStore, CqlError> {
        check_keyspace(ks)?;
        let mut insert = prepare(
            &session,
            format!(
                "INSERT INTO {ks}.audit_log (bucket, {COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
            ),
        )
        .await?;
        // Commit at quorum in the local DC; Paxos across all DCs, so no two DCs take one seq.
        insert.set_consistency(Consistency::LocalQuorum);
        insert.set_serial_consistency(Some(SerialConsistency::Serial));
        // Never retried by the driver: the retry here first checks whether the record landed.
        insert.set_is_idempotent(false);
        let select_last = serial_read(
            &session,
            format!(
                "SELECT seq, hash FROM {ks}.audit_log WHERE bucket = ? ORDER BY seq DESC LIMIT 1"
            ),
        )
        .await?;
        let select_one = serial_read(
            &session,
            format!("SELECT hash FROM {ks}.audit_log WHERE bucket = ? AND seq = ?"),
        )
        .await?;
        let mut select_from = idempotent(
            &session,
            format!("SELECT {COLUMNS} FROM {ks}.audit_log WHERE bucket = ? AND seq >= ? LIMIT ?"),
        )
        .await?;
        select_from.set_page_size(PAGE);
        Ok(CqlAuditStore {
            session,
            keyspace: ks.to_string(),
            insert,
            select_last,
            select_one,
            select_from,
            last_bucket: AtomicI64::new(0),
        })
    }

    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// The last record of `bucket` (SERIAL).
    async fn last_in(&self, bucket: i64) -> Result<Option<ChainHead>, StoreError> {
        let row = self
            .session
            .execute_unpaged(&self.select_last, (bucket,))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?
            .maybe_first_row::<(i64, String)>()
            .map_err(unavailable)?;
        row.map(|(seq, hash)| {
            Ok(ChainHead {
                seq: u64::try_from(seq).map_err(|e| corrupt(seq, "seq", e))?,
                hash: parse_hash(seq, "hash", &hash)?,
            })
        })
        .transpose()
    }

    /// The head: the last record of the last non-empty bucket, found from the last bucket seen.
    async fn find_head(&self) -> Result<Option<ChainHead>, StoreError> {
        let mut bucket = self.last_bucket.load(Ordering::Relaxed);
        // The head of the full bucket below `bucket`, when we moved up from it.
        let mut below: Option<ChainHead> = None;
        loop {
            match self.last_in(bucket).await? {
                Some(h) if to_i64(h.seq) == last_seq_of(bucket) => {
                    below = Some(h);
                    bucket += 1;
                }
                Some(h) => {
                    self.last_bucket.fetch_max(bucket, Ordering::Relaxed);
                    return Ok(Some(h));
                }
                None if below.is_some() => {
                    self.last_bucket.fetch_max(bucket - 1, Ordering::Relaxed);
                    return Ok(below);
                }
                None if bucket == 0 => return Ok(None),
                // Not expected (records are never removed): look further down.
                None => bucket -= 1,
            }
        }
    }

    /// The hash stored at `seq` (SERIAL), if any.
    async fn hash_at(&self, seq: i64) -> Result<Option<ChainHash>, StoreError> {
        let row = self
            .session
            .execute_unpaged(&self.select_one, (bucket_of(seq), seq))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?
            .maybe_first_row::<(String,)>()
            .map_err(unavailable)?;
        row.map(|(h,)| parse_hash(seq, "hash", &h)).transpose()
    }

    /// One attempt: `Ok(true)` if `r` was stored by this insert, `Ok(false)` if its seq was taken.
    async fn try_insert(&self, r: &AuditRecord) -> Result<bool, StoreError> {
        let seq = to_i64(r.seq);
        let result = self
            .session
            .execute_unpaged(
                &self.insert,
                (
                    bucket_of(seq),
                    seq,
                    encode_at(r.at),
                    &r.actor,
                    &r.tenant,
                    &r.action,
                    &r.target,
                    &r.source,
                    r.outcome.kind(),
                    r.outcome.reason(),
                    r.prev_hash.to_string(),
                    r.hash.to_string(),
                ),
            )
            .await
            .map_err(unavailable)?;
        applied(result)
    }
}

/// Did a conditional statement apply? (First column of its result is `[applied]`.)
fn applied(result: QueryResult) -> Result<bool, StoreError> {
    let rows = result.into_rows_result().map_err(unavailable)?;
    match rows.maybe_first_row::<Row>().map_err(unavailable)? {
        Some(row) => match row.columns.first() {
            Some(Some(CqlValue::Boolean(b))) => Ok(*b),
            other => Err(corrupt(0, "[applied]", format!("unexpected {other:?}"))),
        },
        None => Err(corrupt(
            0,
            "[applied]",
            "conditional insert returned no row",
        )),
    }
}

/// A short random pause before attempt `attempt` (1-based), growing to at most ~50 ms.
async fn back_off(attempt: u32) {
    let cap = u64::from(attempt.min(10)) * 5;
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let millis = 1 + h.finish() % cap.max(1);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

fn corrupt(seq: i64, column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: TABLE,
        reason: format!("record {seq}: {column}: {e}"),
    }
}

fn parse_hash(seq: i64, column: &str, value: &str) -> Result<ChainHash, StoreError> {
    value.parse().map_err(|e| corrupt(seq, column, e))
}

fn encode_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// (seq, at, actor, tenant, action, target, source, outcome, reason, prev_hash, hash) as stored.
type Raw = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

/// Strict, like the SQLite store: every stored value has one spelling, so an edited row decodes
/// to a different record (caught by the hash) or fails here, naming the seq.
fn decode(raw: Raw) -> Result<AuditRecord, StoreError> {
    let (seq, at, actor, tenant, action, target, source, outcome, reason, prev_hash, hash) = raw;
    let at_parsed = DateTime::parse_from_rfc3339(&at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(seq, "at", format!("{at:?}: {e}")))?;
    if encode_at(at_parsed) != at {
        return Err(corrupt(
            seq,
            "at",
            format!("{at:?} is not in canonical form"),
        ));
    }
    let outcome = Outcome::from_parts(&outcome, reason).map_err(|e| corrupt(seq, "outcome", e))?;
    Ok(AuditRecord {
        seq: u64::try_from(seq).map_err(|e| corrupt(seq, "seq", e))?,
        at: at_parsed,
        actor,
        tenant,
        action,
        target,
        source,
        outcome,
        prev_hash: parse_hash(seq, "prev_hash", &prev_hash)?,
        hash: parse_hash(seq, "hash", &hash)?,
    })
}

#[async_trait]
impl AuditStore for CqlAuditStore {
    async fn append(&self, draft: AuditDraft) -> Result<AuditRecord, StoreError> {
        // The last attempt whose insert failed with an error: it may have landed.
        let mut uncertain: Option<AuditRecord> = None;
        let mut last_error = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                back_off(attempt - 1).await;
            }
            let head = match self.find_head().await {
                Ok(h) => h,
                Err(e) => {
                    last_error = e.to_string();
                    continue;
                }
            };
            if let Some(u) = uncertain.take_if(|u| head.is_some_and(|h| h.seq >= u.seq)) {
                match self.hash_at(to_i64(u.seq)).await {
                    Ok(Some(stored)) if stored == u.hash => return Ok(u),
                    Ok(_) => {} // another record holds that seq: ours can never land there
                    Err(e) => {
                        last_error = e.to_string();
                        uncertain = Some(u);
                        continue;
                    }
                }
            }
            let record = AuditChain::append_after(head, draft.clone());
            match self.try_insert(&record).await {
                Ok(true) => {
                    let b = bucket_of(to_i64(record.seq));
                    self.last_bucket.fetch_max(b, Ordering::Relaxed);
                    return Ok(record);
                }
                Ok(false) => last_error = format!("seq {} was taken", record.seq),
                Err(e) => {
                    last_error = e.to_string();
                    uncertain = Some(record);
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "audit append: gave up after {MAX_ATTEMPTS} attempts contending with other appenders \
             for the next seq (last: {last_error})"
        )))
    }

    async fn records(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut out = Vec::new();
        let mut from = to_i64(query.from_seq).max(1);
        while out.len() < query.limit {
            let bucket = bucket_of(from);
            // Without a filter every row counts: read no more than still wanted.
            let limit = match query.tenant {
                None => i32::try_from(query.limit - out.len()).unwrap_or(i32::MAX),
                Some(_) => i32::MAX,
            };
            let mut rows = self
                .session
                .execute_iter(self.select_from.clone(), (bucket, from, limit))
                .await
                .map_err(unavailable)?
                .rows_stream::<Raw>()
                .map_err(unavailable)?;
            let mut last = None;
            while let Some(raw) = rows.try_next().await.map_err(unavailable)? {
                last = Some(raw.0);
                let r = decode(raw)?;
                if query.tenant.is_none() || r.tenant == query.tenant {
                    out.push(r);
                    if out.len() == query.limit {
                        return Ok(out);
                    }
                }
            }
            // The log is 1..=N: a bucket read to its end that is not full ends the log.
            if last != Some(last_seq_of(bucket)) {
                break;
            }
            from = last_seq_of(bucket) + 1;
        }
        Ok(out)
    }

    async fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        self.find_head().await
    }
}

#[cfg(test)]
mod tests;
