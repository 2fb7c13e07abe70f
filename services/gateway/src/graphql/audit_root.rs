//! The audit log for admins: `auditLog` pages through the hash-chained records (newest last,
//! from `fromSeq`), optionally for one tenant, and `auditHead` gives the head to keep outside
//! the host (see docs/security.md, "Verifying"). The access guard allows both to `admin` only.

use async_graphql::{Context, ErrorExtensions, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use costwatch_domain::audit::AuditRecord;
use costwatch_ports::AuditQuery;

use crate::auth::Auditor;

/// Most records per page.
const MAX_LIMIT: i32 = 1000;

/// One audited action.
#[derive(SimpleObject)]
#[graphql(name = "AuditRecord")]
pub struct AuditRecordGql {
    /// 1, 2, 3, … without gaps (the chain order).
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Token subject, `key:<id>` for an API key, `anonymous` for a refused credential.
    pub actor: String,
    pub tenant: Option<String>,
    /// A GraphQL field, `METHOD /path`, `login`, `export`, …
    pub action: String,
    pub target: String,
    /// The peer address.
    pub source: String,
    /// `allowed`, `denied` or `failed`.
    pub outcome: String,
    pub reason: Option<String>,
    /// Hex SHA-256 of the record and of the one before it.
    pub hash: String,
    pub prev_hash: String,
}

impl From<AuditRecord> for AuditRecordGql {
    fn from(r: AuditRecord) -> Self {
        AuditRecordGql {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            tenant: r.tenant,
            action: r.action,
            target: r.target,
            source: r.source,
            outcome: r.outcome.kind().to_string(),
            reason: r.outcome.reason().map(str::to_string),
            hash: r.hash.to_string(),
            prev_hash: r.prev_hash.to_string(),
        }
    }
}

fn unavailable() -> async_graphql::Error {
    async_graphql::Error::new("the audit log is not available in this deployment")
        .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
}

fn bad(field: &'static str, reason: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("{field}: {reason}")).extend_with(|_, e| {
        e.set("code", "BAD_USER_INPUT");
        e.set("field", field);
    })
}

#[derive(Default)]
pub struct AuditLogQuery;

#[Object]
impl AuditLogQuery {
    /// Audit records from `fromSeq` (default 1) in chain order, at most `limit` (≤ 1000);
    /// only `tenant`'s when given. Admins only.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        tenant: Option<String>,
        from_seq: Option<i64>,
        #[graphql(default = 100)] limit: i32,
    ) -> Result<Vec<AuditRecordGql>> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad("limit", "must be between 1 and 1000"));
        }
        let from_seq = match from_seq {
            None => 1,
            Some(s) if s >= 1 => s as u64,
            Some(_) => return Err(bad("fromSeq", "must be at least 1")),
        };
        let store = ctx
            .data_opt::<Auditor>()
            .and_then(|a| a.0.clone())
            .ok_or_else(unavailable)?;
        let query = AuditQuery {
            tenant,
            from_seq,
            limit: limit as usize,
        };
        let records = store.records(&query).await.map_err(|e| {
            tracing::warn!(error = %e, "audit log read failed");
            unavailable()
        })?;
        Ok(records.into_iter().map(AuditRecordGql::from).collect())
    }

    /// The last record's `seq:hash` (keep it elsewhere and pass it to `costwatch audit verify
    /// --head` to detect a cut tail); null for an empty log. Admins only.
    async fn audit_head(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let store = ctx
            .data_opt::<Auditor>()
            .and_then(|a| a.0.clone())
            .ok_or_else(unavailable)?;
        let head = store.head().await.map_err(|e| {
            tracing::warn!(error = %e, "audit head read failed");
            unavailable()
        })?;
        Ok(head.map(|h| format!("{}:{}", h.seq, h.hash)))
    }
}
