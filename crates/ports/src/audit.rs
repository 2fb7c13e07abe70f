//! The audit log port (see `costwatch_domain::audit` and `docs/security.md`).
//!
//! A store owns the chain: `append` takes a draft and links it after the current head, and
//! appends are serialized (one writer at a time) so concurrent callers never fork the chain. A
//! store has no way to change or remove a record.

use async_trait::async_trait;
use costwatch_domain::audit::{AuditDraft, AuditRecord, ChainBreak, ChainHead, Verifier};

use crate::StoreError;

/// Which records to read: optionally one tenant's, from `from_seq` on, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub tenant: Option<String>,
    pub from_seq: u64,
    pub limit: usize,
}

impl AuditQuery {
    /// Every tenant's records (the whole chain) from `from_seq`, a page of `limit`.
    pub fn all(from_seq: u64, limit: usize) -> AuditQuery {
        AuditQuery {
            tenant: None,
            from_seq,
            limit,
        }
    }
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `draft` after the current head and returns the stored record (seq and hashes
    /// assigned). Durable when it returns.
    async fn append(&self, draft: AuditDraft) -> Result<AuditRecord, StoreError>;

    /// Records with `seq >= from_seq` (of `tenant` if given), in seq order, at most `limit`.
    async fn records(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;

    /// The last record's (seq, hash); `None` while the log is empty.
    async fn head(&self) -> Result<Option<ChainHead>, StoreError>;
}

/// Why a stored log did not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Break(#[from] ChainBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A log that verified: how many records and its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    pub head: Option<ChainHead>,
}

/// Verifies the whole stored chain, reading it in pages of `page` records (memory stays bounded
/// by one page). With `saved`, also checks that head is still in the log (tail truncation).
pub async fn verify_store(
    store: &(impl AuditStore + ?Sized),
    page: usize,
    saved: Option<ChainHead>,
) -> Result<Verified, VerifyError> {
    let page = page.max(1);
    let mut v = saved.map_or_else(Verifier::new, Verifier::expecting_head);
    let mut from_seq = 1;
    loop {
        let batch = store.records(&AuditQuery::all(from_seq, page)).await?;
        for r in &batch {
            v.push(r)?;
        }
        match batch.last() {
            Some(last) if batch.len() == page => from_seq = last.seq + 1,
            _ => break,
        }
    }
    let records = v.count();
    let head = v.finish()?;
    Ok(Verified { records, head })
}
