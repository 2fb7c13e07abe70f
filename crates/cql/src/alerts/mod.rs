//! `AlertStore` on CQL: budgets, alerts and the alert outbox (tables in
//! `schemas/cql/002_alerts.cql`).
//!
//! # Tables
//! - `budgets ((tenant), id) → name, doc`: one partition per tenant; `budgets()` reads it and
//!   sorts by name in memory. `budget_tenants()` is `SELECT DISTINCT tenant` (a scan of the
//!   partition keys: fine for the number of tenants, it is called once per evaluation round).
//! - `alerts ((tenant), id) → source, state, updated_at, version, doc, changes`: one partition per
//!   tenant, written **only** with lightweight transactions (no plain writes are mixed in).
//!   `alerts(tenant, state, limit)` reads the whole partition, skips other states by the `state`
//!   column and sorts by `updated_at` desc in memory: bounded by the number of alerts of one
//!   tenant, which must stay in the thousands (resolved alerts are kept).
//! - `alerts_by_source ((tenant, source), id)`: the lookup for `alerts_of_source()`, which every
//!   evaluation of a source runs. A second table rather than filtering the tenant partition:
//!   filtering would read (and decode) every alert document of the tenant for every evaluation of
//!   every budget, while this reads one small partition plus one point read per alert of the
//!   source. It is written (idempotently) *before* the alert's first transaction, so it never
//!   misses a stored alert; an id whose alert row does not exist (the transaction lost or never
//!   ran) is skipped on read. An alert's id derives from its tenant and dedupe key, and its source
//!   never changes; the read still checks the document's source.
//! - `alert_outbox ((bucket), seq) → event_id, tenant, alert_id, version, event`: pending alert
//!   events in [`BUCKETS`] fixed partitions. An entry is **deleted** when published (or known
//!   not to have landed) instead of flagged: the partitions then hold only pending entries and
//!   recent tombstones, where a `published` flag would make every poll re-read all history.
//!
//! # Changing an alert (`apply_alert_changes`)
//! A Cassandra lightweight transaction (LWT) covers one partition, so the alert and its outbox
//! entry cannot be written atomically. Per change of version `n`:
//! 1. read the alert's `version` and `changes`; unless it is `n - 1` (absent for `n = 1`) the
//!    change lost a race and is skipped before anything is written (re-delivered evaluations
//!    cost one read);
//! 2. allocate `seq` (see below), larger than the seq of every earlier change of the alert;
//! 3. write the outbox entry (plain, idempotent insert), for `n = 1` also `alerts_by_source`;
//! 4. the fencing point: `INSERT .. IF NOT EXISTS` (`n = 1`) or `UPDATE .. IF version = n-1`,
//!    which also records `changes[n] = seq` (the newest [`CHANGE_WINDOW`] versions are kept);
//! 5. if the LWT did not apply the change is skipped and its outbox entry deleted.
//!
//! If step 4 fails with an error (its outcome unknown), the entry stays and the error is returned;
//! the publisher's check below decides it.
//!
//! # Publishing (`unpublished`)
//! An entry is returned only if its change provably landed: the stored alert has
//! `version >= n` **and** `changes[n] == seq`. A quorum read of the table only sees committed
//! Paxos rounds, so that proves the LWT of this very entry committed. Otherwise:
//! - `version >= n` but `changes[n]` is another seq: another change won version `n`; this one
//!   can never land (a Paxos proposal older than a committed one is never re-proposed). The entry
//!   is a leftover of a writer that crashed before step 5: deleted.
//! - `version >= n` and `n` fell out of the `changes` window (more than [`CHANGE_WINDOW`] newer
//!   changes while it was pending): undecidable, deleted with a warning (the alert's current state
//!   supersedes it).
//! - `version < n` (or no row): the LWT has not landed, *yet*, or never will (crash between steps
//!   3 and 4). The entry is skipped while this instance has seen it for less than the orphan grace
//!   ([`ORPHAN_GRACE`], one minute, measured on the local monotonic clock from the first time it
//!   was seen: no clock skew involved). After that, a `LOCAL_SERIAL` read of the alert decides:
//!   a serial read is a Paxos round, which completes a proposal of that change still in flight
//!   (then it is published) and, being newer, keeps a stale one from ever being completed later
//!   (linearizable serial reads: Cassandra 4.0+ / CASSANDRA-12126, Paxos v2, ScyllaDB LWT). If the
//!   change still has not landed, the entry is deleted. A live writer never starts the LWT more
//!   than [`WRITER_DEADLINE`] (20 s) after it began writing the entry (it gives up and deletes the
//!   entry instead), and a started LWT ends within the server's CAS/write timeouts (seconds), so
//!   a change cannot land after its entry was judged an orphan. Residual risk: a process stalled
//!   for over 40 s *between* the deadline check and sending the LWT.
//!
//! `mark_published(seqs)` deletes the entries: idempotent, and a seq that is not there is a no-op.
//! A deleted entry that comes back (a tombstone missed past `gc_grace_seconds`) is only
//! published again, which consumers drop by `event_id`.
//!
//! # `seq`
//! `seq = micros << 11 | node`: the microsecond time of allocation, strictly increasing within
//! one store (a counter bumps equal times), and raised above the seqs of the alert's earlier
//! changes (so one alert's events are published in version order even across skewed clocks);
//! `node` is 11 random bits chosen per store instance, so two instances collide only if they drew
//! the same `node` *and* allocate in the same microsecond. Good until the year 2112. The outbox
//! bucket is `micros % BUCKETS`, so `mark_published` finds an entry from its seq alone.
//! `unpublished()` reads the [`BUCKETS`] partitions and merges them by seq.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use costwatch_domain::alerting::{Alert, AlertEvent, AlertState, ResourceRule};
use costwatch_domain::budget::Budget;
use costwatch_ports::{AlertStore, Outboxed, StoreError};
use futures::{StreamExt, TryStreamExt};
use scylla::client::session::Session;
use scylla::response::query_result::QueryResult;
use scylla::statement::Consistency;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlTimestamp, CqlValue, Row};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::unavailable;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

/// Partitions of `alert_outbox`.
pub const BUCKETS: i64 = 8;
/// Low bits of a seq naming the store instance that allocated it.
const NODE_BITS: u32 = 11;
/// Versions per alert whose outbox seq is kept in `alerts.changes`.
pub const CHANGE_WINDOW: u64 = 64;
/// How long an outbox entry whose change has not landed is left to its writer.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60);
/// A writer that could not start its LWT this long after it began writing the outbox entry
/// gives up on the change (see the module docs).
pub const WRITER_DEADLINE: Duration = Duration::from_secs(20);
/// Outbox entries verified at once.
const VERIFY_CONCURRENCY: usize = 16;
/// Point reads of `alerts_of_source` in flight at once.
const READ_CONCURRENCY: usize = 32;

mod outbox;
mod rules;
mod statements;
#[cfg(test)]
mod tests;

use outbox::Verdict;
use statements::AlertStatements;

/// The alert store on CQL; see the module docs for the protocol.
pub struct CqlAlertStore {
    pub(crate) session: Arc<Session>,
    st: AlertStatements,
    keyspace: String,
    /// This instance's low seq bits.
    node: i64,
    /// The time part of the newest seq this instance allocated.
    last_micros: AtomicI64,
    /// How long an outbox entry whose change has not landed is waited for.
    orphan_grace: Duration,
    /// When this instance first saw each pending entry whose change had not landed.
    orphans: std::sync::Mutex<HashMap<i64, Instant>>,
}

fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(unavailable)
}

fn from_json<T: DeserializeOwned>(table: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        reason: e.to_string(),
    })
}

fn state_str(s: AlertState) -> &'static str {
    match s {
        AlertState::Triggered => "triggered",
        AlertState::Acknowledged => "acknowledged",
        AlertState::Resolved => "resolved",
    }
}

fn version_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|e| StoreError::Unavailable(format!("alert version {v}: {e}")))
}

/// Did a conditional statement apply? (First column of its result is `[applied]`.)
fn applied(result: QueryResult) -> Result<bool, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        table: "alerts",
        reason,
    };
    let rows = result.into_rows_result().map_err(unavailable)?;
    match rows.maybe_first_row::<Row>().map_err(unavailable)? {
        Some(row) => match row.columns.first() {
            Some(Some(CqlValue::Boolean(b))) => Ok(*b),
            other => Err(corrupt(format!("unexpected [applied] column {other:?}"))),
        },
        None => Err(corrupt("conditional statement returned no row".into())),
    }
}

impl CqlAlertStore {
    /// Connects and prepares the statements; the schema must exist (`costwatch migrate`).
    pub async fn open(o: &CqlOptions) -> Result<CqlAlertStore, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlAlertStore::with_session(session, &o.keyspace).await
    }

    /// On an existing session (e.g. the one of a [`crate::CqlStore`]).
    pub async fn with_session(
        session: Arc<Session>,
        keyspace: &str,
    ) -> Result<CqlAlertStore, CqlError> {
        check_keyspace(keyspace)?;
        let st = AlertStatements::prepare(&session, keyspace).await?;
        let mut h = RandomState::new().build_hasher();
        h.write_u128(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u128);
        h.write_u32(std::process::id());
        let node = (h.finish() & ((1 << NODE_BITS) - 1)) as i64;
        Ok(CqlAlertStore {
            session,
            st,
            keyspace: keyspace.to_string(),
            node,
            last_micros: AtomicI64::new(0),
            orphan_grace: ORPHAN_GRACE,
            orphans: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    async fn alert_doc(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.select_alert, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        match res
            .maybe_first_row::<(Option<String>,)>()
            .map_err(unavailable)?
        {
            Some((Some(doc),)) => Ok(Some(from_json("alerts", &doc)?)),
            _ => Ok(None),
        }
    }
}

#[async_trait]
impl AlertStore for CqlAlertStore {
    async fn put_budget(&self, budget: &Budget) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(
                &self.st.insert_budget,
                (
                    &budget.tenant,
                    &budget.id,
                    &budget.spec.name,
                    to_json(budget)?,
                ),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_budget(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        // Read, then delete: two racing deletes may both report `true`, which is harmless.
        let existed = self.budget(tenant, id).await?.is_some();
        if existed {
            self.session
                .execute_unpaged(&self.st.delete_budget, (tenant, id))
                .await
                .map_err(unavailable)?;
        }
        Ok(existed)
    }

    async fn budget(&self, tenant: &str, id: &str) -> Result<Option<Budget>, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.select_budget, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        match res
            .maybe_first_row::<(Option<String>,)>()
            .map_err(unavailable)?
        {
            Some((Some(doc),)) => Ok(Some(from_json("budgets", &doc)?)),
            _ => Ok(None),
        }
    }

    async fn budgets(&self, tenant: &str) -> Result<Vec<Budget>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(self.st.select_budgets.clone(), (tenant,))
            .await
            .map_err(unavailable)?
            .rows_stream::<(Option<String>,)>()
            .map_err(unavailable)?;
        let mut out: Vec<Budget> = Vec::new();
        while let Some(row) = rows.next().await {
            if let (Some(doc),) = row.map_err(unavailable)? {
                out.push(from_json("budgets", &doc)?);
            }
        }
        out.sort_by(|a, b| (&a.spec.name, &a.id).cmp(&(&b.spec.name, &b.id)));
        Ok(out)
    }

    async fn budget_tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(self.st.select_budget_tenants.clone(), ())
            .await
            .map_err(unavailable)?
            .rows_stream::<(String,)>()
            .map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            out.push(row.map_err(unavailable)?.0);
        }
        out.sort();
        Ok(out)
    }

    async fn alert(&self, tenant: &str, id: &str) -> Result<Option<Alert>, StoreError> {
        self.alert_doc(tenant, id).await
    }

    async fn alerts_of_source(&self, tenant: &str, source: &str) -> Result<Vec<Alert>, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.select_source, (tenant, source))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        let ids: Vec<String> = res
            .rows::<(String,)>()
            .map_err(unavailable)?
            .map(|r| r.map(|(id,)| id))
            .collect::<Result<_, _>>()
            .map_err(unavailable)?;
        let found: Vec<Option<Alert>> = futures::stream::iter(ids)
            .map(|id| async move { self.alert_doc(tenant, &id).await })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .flatten()
            .filter(|a| a.source == source)
            .collect())
    }

    async fn alerts(
        &self,
        tenant: &str,
        state: Option<AlertState>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(self.st.select_tenant_alerts.clone(), (tenant,))
            .await
            .map_err(unavailable)?
            .rows_stream::<(Option<String>, Option<String>)>()
            .map_err(unavailable)?;
        let wanted = state.map(state_str);
        let mut out: Vec<Alert> = Vec::new();
        while let Some(row) = rows.next().await {
            let (s, doc) = row.map_err(unavailable)?;
            let Some(doc) = doc else { continue };
            if wanted.is_some_and(|w| s.as_deref() != Some(w)) {
                continue;
            }
            out.push(from_json("alerts", &doc)?);
        }
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        out.truncate(limit);
        Ok(out)
    }

    async fn apply_alert_changes(&self, changes: Vec<Alert>) -> Result<Vec<Alert>, StoreError> {
        let mut applied = Vec::new();
        // One at a time, in order: seqs (and so publication) follow the order of the changes.
        for alert in changes {
            if self.apply_one(&alert).await? {
                applied.push(alert);
            }
        }
        Ok(applied)
    }

    async fn unpublished(&self, limit: usize) -> Result<Vec<Outboxed>, StoreError> {
        let entries = self.outbox_entries().await?;
        // Forget orphans that are gone (published or dropped elsewhere).
        let present: HashSet<i64> = entries.iter().map(|e| e.seq).collect();
        if let Ok(mut o) = self.orphans.lock() {
            o.retain(|seq, _| present.contains(seq));
        }
        let mut verdicts = futures::stream::iter(entries)
            .map(|e| async move {
                let v = self.verdict(&e).await?;
                Ok::<_, StoreError>((e, v))
            })
            .buffered(VERIFY_CONCURRENCY);
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(next) = verdicts.next().await else {
                break;
            };
            let (e, verdict) = next?;
            if let Verdict::Publish = verdict {
                out.push(Outboxed {
                    // Seqs are non-negative (see `next_seq`).
                    seq: e.seq as u64,
                    event: from_json("alert_outbox", &e.event)?,
                });
            }
        }
        Ok(out)
    }

    async fn mark_published(&self, seqs: &[u64]) -> Result<(), StoreError> {
        // Seqs this store never allocated (negative as i64) cannot name an entry.
        let seqs: Vec<i64> = seqs.iter().filter_map(|s| i64::try_from(*s).ok()).collect();
        futures::stream::iter(seqs)
            .map(|seq| self.delete_outbox(seq))
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn put_resource_rule(&self, rule: &ResourceRule) -> Result<(), StoreError> {
        self.put_rule(rule).await
    }

    async fn delete_resource_rule(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_rule(tenant, id).await
    }

    async fn resource_rule(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ResourceRule>, StoreError> {
        self.rule(tenant, id).await
    }

    async fn resource_rules(&self, tenant: &str) -> Result<Vec<ResourceRule>, StoreError> {
        self.rules(tenant).await
    }

    async fn record_digest_sent(
        &self,
        tenant: &str,
        kind: &str,
        window_start: chrono::DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.claim_digest(tenant, kind, window_start).await
    }

    async fn digest_sent(
        &self,
        tenant: &str,
        kind: &str,
        window_start: chrono::DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.digest_claimed(tenant, kind, window_start).await
    }
}
