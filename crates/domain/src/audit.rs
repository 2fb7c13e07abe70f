//! The audit log: who did what, when, from where, and with what outcome, in an append-only chain
//! where every record carries the hash of the one before it (see `docs/security.md`).
//!
//! Pure: callers pass `at`, the store assigns `seq` by appending after its current head. The hash
//! is SHA-256 over a canonical, length-prefixed encoding of every field and the previous hash, so
//! changing any stored field, deleting a record or reordering records breaks the chain at the
//! first affected record. Removing records from the *end* leaves a shorter valid chain; it is
//! detected only against a head (seq, hash) saved elsewhere ([`Verifier::expecting_head`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

#[cfg(test)]
mod tests;

/// Domain-separation tag, first in every hashed encoding; bump the version if the encoding changes.
const HASH_DOMAIN: &[u8] = b"costwatch.audit.v1";

/// A SHA-256 digest; shown and stored as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// The `prev_hash` of the first record.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a chain hash (64 lowercase hex digits): {0:?}")]
pub struct BadHash(pub String);

impl FromStr for ChainHash {
    type Err = BadHash;

    /// Only the canonical form: exactly 64 lowercase hex digits, so one hash has one spelling.
    fn from_str(s: &str) -> Result<ChainHash, BadHash> {
        let canonical = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let mut out = [0u8; 32];
        match hex::decode_to_slice(s, &mut out) {
            Ok(()) if canonical => Ok(ChainHash(out)),
            _ => Err(BadHash(s.to_string())),
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// Refused by authentication or authorization (bad credentials, missing role, wrong tenant).
    Denied {
        reason: String,
    },
    /// Permitted but failed (validation error, store unavailable, …).
    Failed {
        reason: String,
    },
}

impl Outcome {
    /// `allowed`, `denied` or `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied { .. } => "denied",
            Outcome::Failed { .. } => "failed",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Allowed => None,
            Outcome::Denied { reason } | Outcome::Failed { reason } => Some(reason),
        }
    }

    /// The inverse of (`kind`, `reason`): a reason is required for `denied`/`failed` and refused
    /// for `allowed`, so a stored row decodes to exactly one outcome.
    pub fn from_parts(kind: &str, reason: Option<String>) -> Result<Outcome, String> {
        match (kind, reason) {
            ("allowed", None) => Ok(Outcome::Allowed),
            ("denied", Some(reason)) => Ok(Outcome::Denied { reason }),
            ("failed", Some(reason)) => Ok(Outcome::Failed { reason }),
            ("allowed", Some(_)) => Err("outcome allowed carries a reason".into()),
            ("denied" | "failed", None) => Err(format!("outcome {kind} without a reason")),
            (other, _) => Err(format!("unknown outcome {other:?}")),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            None => f.write_str(self.kind()),
            Some(reason) => write!(f, "{}: {reason}", self.kind()),
        }
    }
}

/// What the caller knows about an audited action; the chain adds `seq` and the hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: DateTime<Utc>,
    /// User or API-key id; `"local"` for the CLI on the host.
    pub actor: String,
    /// The tenant acted on, if any (a login or a platform-wide action has none).
    pub tenant: Option<String>,
    /// e.g. `createBudget`, `export`, `login`, `denied`.
    pub action: String,
    /// What was acted on, e.g. a budget id or a request path.
    pub target: String,
    /// Where the request came from (remote address).
    pub source: String,
    pub outcome: Outcome,
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub tenant: Option<String>,
    pub action: String,
    pub target: String,
    pub source: String,
    pub outcome: Outcome,
    /// `hash` of record `seq - 1`; [`ChainHash::GENESIS`] for record 1.
    pub prev_hash: ChainHash,
    /// SHA-256 of the canonical encoding of every field above.
    pub hash: ChainHash,
}

/// The last record of a chain: what a caller saves elsewhere to detect truncation later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: ChainHash,
}

impl fmt::Display for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.hash)
    }
}

impl AuditRecord {
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }

    /// The hash this record's fields (all but `hash`) call for.
    pub fn computed_hash(&self) -> ChainHash {
        let mut h = Sha256::new();
        put_bytes(&mut h, HASH_DOMAIN);
        h.update(self.seq.to_be_bytes());
        h.update(self.at.timestamp().to_be_bytes());
        h.update(self.at.timestamp_subsec_nanos().to_be_bytes());
        put_bytes(&mut h, self.actor.as_bytes());
        match &self.tenant {
            None => h.update([0u8]),
            Some(t) => {
                h.update([1u8]);
                put_bytes(&mut h, t.as_bytes());
            }
        }
        put_bytes(&mut h, self.action.as_bytes());
        put_bytes(&mut h, self.target.as_bytes());
        put_bytes(&mut h, self.source.as_bytes());
        match &self.outcome {
            Outcome::Allowed => h.update([0u8]),
            Outcome::Denied { reason } => {
                h.update([1u8]);
                put_bytes(&mut h, reason.as_bytes());
            }
            Outcome::Failed { reason } => {
                h.update([2u8]);
                put_bytes(&mut h, reason.as_bytes());
            }
        }
        h.update(self.prev_hash.0);
        ChainHash(h.finalize().into())
    }
}

/// Length-prefixed (u64 big-endian) bytes: no two field sequences encode alike.
fn put_bytes(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Why a chain does not verify; names the first record that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {seq} was changed: its contents hash to {computed}, not the stored {stored}")]
    Changed {
        seq: u64,
        stored: ChainHash,
        computed: ChainHash,
    },
    #[error(
        "record {expected} is missing: found record {found} after {} (records were deleted or reordered)",
        match expected { 1 => "the start of the log".to_string(), n => format!("record {}", n - 1) }
    )]
    Gap { expected: u64, found: u64 },
    #[error(
        "record {seq} does not link to the record before it: prev_hash {found}, expected {expected} (a record before it was deleted, replaced or reordered)"
    )]
    Unlinked {
        seq: u64,
        found: ChainHash,
        expected: ChainHash,
    },
    #[error(
        "record {seq} is not the saved head: it hashes to {found}, the saved head says {expected} (the log was rewritten)"
    )]
    HeadMismatch {
        seq: u64,
        found: ChainHash,
        expected: ChainHash,
    },
    #[error(
        "the log ends at record {last} but the saved head is record {head}: records were removed from the end"
    )]
    Truncated { last: u64, head: u64 },
}

impl ChainBreak {
    /// The first record found wrong (for `Truncated`, the first missing one).
    pub fn seq(&self) -> u64 {
        match self {
            ChainBreak::Changed { seq, .. }
            | ChainBreak::Unlinked { seq, .. }
            | ChainBreak::HeadMismatch { seq, .. } => *seq,
            ChainBreak::Gap { expected, .. } => *expected,
            ChainBreak::Truncated { last, .. } => last + 1,
        }
    }
}

/// Builds and checks chains.
pub struct AuditChain;

impl AuditChain {
    /// The record that follows `prev` (`None`: the first record of the log).
    pub fn append(prev: Option<&AuditRecord>, draft: AuditDraft) -> AuditRecord {
        AuditChain::append_after(prev.map(AuditRecord::head), draft)
    }

    /// Like [`AuditChain::append`] when only the head of the log is at hand.
    pub fn append_after(head: Option<ChainHead>, draft: AuditDraft) -> AuditRecord {
        let (seq, prev_hash) = match head {
            None => (1, ChainHash::GENESIS),
            Some(h) => (h.seq + 1, h.hash),
        };
        let mut record = AuditRecord {
            seq,
            at: draft.at,
            actor: draft.actor,
            tenant: draft.tenant,
            action: draft.action,
            target: draft.target,
            source: draft.source,
            outcome: draft.outcome,
            prev_hash,
            hash: ChainHash::GENESIS,
        };
        record.hash = record.computed_hash();
        record
    }

    /// Checks a whole log given in seq order, from record 1. Removal of the last records is not
    /// detectable here; use [`Verifier::expecting_head`] with a saved head for that.
    pub fn verify<'a>(
        records: impl IntoIterator<Item = &'a AuditRecord>,
    ) -> Result<(), ChainBreak> {
        let mut v = Verifier::new();
        for r in records {
            v.push(r)?;
        }
        v.finish().map(|_| ())
    }
}

/// Streaming verification in constant memory: push records in seq order, then `finish`.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    last: Option<ChainHead>,
    count: u64,
    saved: Option<ChainHead>,
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Also checks the log still contains `saved` (a head recorded earlier, e.g. off-host):
    /// record `saved.seq` must exist and hash to `saved.hash`.
    pub fn expecting_head(saved: ChainHead) -> Verifier {
        Verifier {
            saved: Some(saved),
            ..Verifier::default()
        }
    }

    /// Checks the next record: numbering first (deletion, reordering), then its own hash (any
    /// changed field), then its link to the record before it.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        let (expected_seq, expected_prev) = match self.last {
            None => (1, ChainHash::GENESIS),
            Some(h) => (h.seq + 1, h.hash),
        };
        if r.seq != expected_seq {
            return Err(ChainBreak::Gap {
                expected: expected_seq,
                found: r.seq,
            });
        }
        let computed = r.computed_hash();
        if computed != r.hash {
            return Err(ChainBreak::Changed {
                seq: r.seq,
                stored: r.hash,
                computed,
            });
        }
        if r.prev_hash != expected_prev {
            return Err(ChainBreak::Unlinked {
                seq: r.seq,
                found: r.prev_hash,
                expected: expected_prev,
            });
        }
        if let Some(saved) = self.saved
            && saved.seq == r.seq
            && saved.hash != r.hash
        {
            return Err(ChainBreak::HeadMismatch {
                seq: r.seq,
                found: r.hash,
                expected: saved.hash,
            });
        }
        self.last = Some(r.head());
        self.count += 1;
        Ok(())
    }

    /// The head of the records pushed so far.
    pub fn head(&self) -> Option<ChainHead> {
        self.last
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Ends the verification: the head of the verified log (`None` if empty), or `Truncated`
    /// when a saved head lies beyond its end.
    pub fn finish(self) -> Result<Option<ChainHead>, ChainBreak> {
        let last = self.last.map_or(0, |h| h.seq);
        match self.saved {
            Some(saved) if saved.seq > last => Err(ChainBreak::Truncated {
                last,
                head: saved.seq,
            }),
            _ => Ok(self.last),
        }
    }
}
