use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + secs, nanos)
        .single()
        .expect("valid time")
}

fn draft(i: u64) -> AuditDraft {
    AuditDraft {
        at: at(i as i64, 0),
        actor: format!("user-{}", i % 3),
        tenant: (!i.is_multiple_of(4)).then(|| format!("tenant-{}", i % 2)),
        action: ["createBudget", "export", "login", "denied"][(i % 4) as usize].into(),
        target: format!("budget/{i}"),
        source: "203.0.113.7:51234".into(),
        outcome: match i % 3 {
            0 => Outcome::Allowed,
            1 => Outcome::Denied {
                reason: "missing role admin".into(),
            },
            _ => Outcome::Failed {
                reason: "store unavailable".into(),
            },
        },
    }
}

fn chain_of(drafts: impl IntoIterator<Item = AuditDraft>) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    for d in drafts {
        let next = AuditChain::append(out.last(), d);
        out.push(next);
    }
    out
}

fn chain(n: u64) -> Vec<AuditRecord> {
    chain_of((1..=n).map(draft))
}

#[test]
fn genesis_and_links() {
    let c = chain(3);
    assert_eq!(c[0].seq, 1);
    assert_eq!(c[0].prev_hash, ChainHash::GENESIS);
    assert_eq!(c[1].prev_hash, c[0].hash);
    assert_eq!(c[2].seq, 3);
    assert_eq!(c[2].prev_hash, c[1].hash);
    assert_eq!(AuditChain::verify(&c), Ok(()));
    assert_eq!(AuditChain::verify(&[]), Ok(()));
}

#[test]
fn hash_is_stable() {
    // Golden value, computed independently (Python hashlib over the documented encoding):
    // changing the encoding silently would break every stored log.
    let r = AuditChain::append(None, draft(1));
    assert_eq!(
        r.hash.to_string(),
        "d12cf1b614c00b4eefd602fc85320fb78d39bf811110dece373ede06eeeed621"
    );
}

#[test]
fn fields_are_unambiguous() {
    // Moving a byte between adjacent fields must change the hash (length prefixes).
    let mut a = draft(1);
    a.actor = "ab".into();
    a.action = "c".into();
    let mut b = a.clone();
    b.actor = "a".into();
    b.action = "bc".into();
    assert_ne!(
        AuditChain::append(None, a).hash,
        AuditChain::append(None, b).hash
    );
    // No tenant and an empty tenant differ, as do allowed and a denial without words.
    let mut none = draft(1);
    none.tenant = None;
    let mut empty = none.clone();
    empty.tenant = Some(String::new());
    assert_ne!(
        AuditChain::append(None, none).hash,
        AuditChain::append(None, empty).hash
    );
    let mut denied = draft(3);
    denied.outcome = Outcome::Denied {
        reason: String::new(),
    };
    let mut failed = denied.clone();
    failed.outcome = Outcome::Failed {
        reason: String::new(),
    };
    assert_ne!(
        AuditChain::append(None, denied).hash,
        AuditChain::append(None, failed).hash
    );
}

#[test]
fn changed_record_is_named() {
    let mut c = chain(5);
    c[2].target = "budget/other".into();
    let err = AuditChain::verify(&c).expect_err("tampered");
    assert!(matches!(err, ChainBreak::Changed { seq: 3, .. }), "{err:?}");
    assert!(err.to_string().starts_with("record 3 was changed"), "{err}");
}

#[test]
fn deleted_record_is_named() {
    let mut c = chain(5);
    c.remove(2);
    let err = AuditChain::verify(&c).expect_err("deleted");
    assert_eq!(
        err,
        ChainBreak::Gap {
            expected: 3,
            found: 4
        }
    );
    assert_eq!(err.seq(), 3);
    assert_eq!(
        err.to_string(),
        "record 3 is missing: found record 4 after record 2 (records were deleted or reordered)"
    );
    let mut first = chain(2);
    first.remove(0);
    let err = AuditChain::verify(&first).expect_err("deleted first");
    assert!(
        err.to_string().contains("after the start of the log"),
        "{err}"
    );
}

#[test]
fn deletion_with_renumbering_is_still_caught() {
    // Delete record 3 and renumber the rest: record 4 (now "3") no longer hashes right.
    let mut c = chain(5);
    c.remove(2);
    for r in &mut c[2..] {
        r.seq -= 1;
    }
    let err = AuditChain::verify(&c).expect_err("renumbered");
    assert!(matches!(err, ChainBreak::Changed { seq: 3, .. }), "{err:?}");
}

#[test]
fn spliced_record_with_own_valid_hash_is_unlinked() {
    // A record re-hashed after an edit hashes fine on its own but no longer links.
    let mut c = chain(4);
    let mut forged = AuditChain::append(Some(&c[0]), draft(99));
    forged.seq = 2;
    forged.prev_hash = ChainHash([7; 32]);
    forged.hash = forged.computed_hash();
    c[1] = forged;
    let err = AuditChain::verify(&c).expect_err("forged");
    assert!(
        matches!(err, ChainBreak::Unlinked { seq: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn truncation_needs_a_saved_head() {
    let c = chain(6);
    let saved = c[5].head();
    let short = &c[..4];
    assert_eq!(AuditChain::verify(short), Ok(()), "undetectable alone");
    let mut v = Verifier::expecting_head(saved);
    for r in short {
        v.push(r).expect("valid prefix");
    }
    let err = v.finish().expect_err("truncated");
    assert_eq!(err, ChainBreak::Truncated { last: 4, head: 6 });
    assert_eq!(err.seq(), 5);

    let mut v = Verifier::expecting_head(c[3].head());
    for r in &c {
        v.push(r).expect("grew past the saved head");
    }
    assert_eq!(v.count(), 6);
    assert_eq!(v.finish(), Ok(Some(saved)));
}

#[test]
fn rewritten_log_fails_the_saved_head() {
    let c = chain(4);
    let saved = c[2].head();
    // The whole log rebuilt from record 2 on with a different record 2: internally consistent.
    let mut drafts: Vec<AuditDraft> = (1..=4).map(draft).collect();
    drafts[1].actor = "mallory".into();
    let rewritten = chain_of(drafts);
    assert_eq!(AuditChain::verify(&rewritten), Ok(()));
    let mut v = Verifier::expecting_head(saved);
    let err = rewritten
        .iter()
        .try_for_each(|r| v.push(r))
        .expect_err("rewritten");
    assert!(
        matches!(err, ChainBreak::HeadMismatch { seq: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn hash_text_is_canonical() {
    let h = chain(1)[0].hash;
    assert_eq!(h.to_string().parse::<ChainHash>(), Ok(h));
    assert!(h.to_string().to_uppercase().parse::<ChainHash>().is_err());
    assert!("00".parse::<ChainHash>().is_err());
    assert!("zz".repeat(32).parse::<ChainHash>().is_err());
}

#[test]
fn outcome_parts_round_trip() {
    for o in [
        Outcome::Allowed,
        Outcome::Denied { reason: "x".into() },
        Outcome::Failed { reason: "".into() },
    ] {
        assert_eq!(
            Outcome::from_parts(o.kind(), o.reason().map(str::to_string)),
            Ok(o.clone())
        );
    }
    assert!(Outcome::from_parts("allowed", Some("x".into())).is_err());
    assert!(Outcome::from_parts("denied", None).is_err());
    assert!(Outcome::from_parts("granted", None).is_err());
}

/// Every way of changing one field of one record.
#[derive(Debug, Clone)]
enum Tamper {
    Seq(u64),
    At(i64),
    Actor,
    Tenant,
    Action,
    Target,
    Source,
    Outcome,
    PrevHash(u8),
    Hash(u8),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (1u64..1000).prop_map(Tamper::Seq),
        (1i64..100_000).prop_map(Tamper::At),
        Just(Tamper::Actor),
        Just(Tamper::Tenant),
        Just(Tamper::Action),
        Just(Tamper::Target),
        Just(Tamper::Source),
        Just(Tamper::Outcome),
        (0u8..32).prop_map(Tamper::PrevHash),
        (0u8..32).prop_map(Tamper::Hash),
    ]
}

fn apply(r: &mut AuditRecord, t: &Tamper) {
    match t {
        Tamper::Seq(d) => r.seq += d,
        Tamper::At(d) => r.at += chrono::Duration::nanoseconds(*d),
        Tamper::Actor => r.actor.push('x'),
        Tamper::Tenant => {
            r.tenant = match r.tenant.take() {
                None => Some(String::new()),
                Some(_) => None,
            }
        }
        Tamper::Action => r.action = format!("{}!", r.action),
        Tamper::Target => r.target.insert(0, '/'),
        Tamper::Source => r.source = "198.51.100.1:1".into(),
        Tamper::Outcome => {
            r.outcome = match &r.outcome {
                Outcome::Allowed => Outcome::Denied { reason: "".into() },
                Outcome::Denied { reason } => Outcome::Failed {
                    reason: reason.clone(),
                },
                Outcome::Failed { .. } => Outcome::Allowed,
            }
        }
        Tamper::PrevHash(i) => r.prev_hash.0[*i as usize] ^= 1,
        Tamper::Hash(i) => r.hash.0[*i as usize] ^= 0x80,
    }
}

fn arb_draft() -> impl Strategy<Value = AuditDraft> {
    (
        0i64..1_000_000,
        0u32..1_000_000_000,
        "[a-z0-9:-]{0,12}",
        proptest::option::of("[a-z0-9]{0,8}"),
        "[a-zA-Z]{1,12}",
        ".{0,16}",
        "[0-9.:]{0,21}",
        0u8..3,
        ".{0,10}",
    )
        .prop_map(
            |(s, n, actor, tenant, action, target, source, kind, reason)| AuditDraft {
                at: at(s, n),
                actor,
                tenant,
                action,
                target,
                source,
                outcome: match kind {
                    0 => Outcome::Allowed,
                    1 => Outcome::Denied { reason },
                    _ => Outcome::Failed { reason },
                },
            },
        )
}

fn arb_chain(min: usize) -> impl Strategy<Value = Vec<AuditRecord>> {
    proptest::collection::vec(arb_draft(), min..12).prop_map(chain_of)
}

proptest! {
    #[test]
    fn untouched_chain_verifies(c in arb_chain(0)) {
        prop_assert_eq!(AuditChain::verify(&c), Ok(()));
        let mut v = Verifier::expecting_head(c.last().map_or(
            ChainHead { seq: 0, hash: ChainHash::GENESIS },
            AuditRecord::head,
        ));
        for r in &c {
            prop_assert_eq!(v.push(r), Ok(()));
        }
        prop_assert_eq!(v.finish(), Ok(c.last().map(AuditRecord::head)));
    }

    #[test]
    fn any_single_field_change_is_detected_at_that_record(
        c in arb_chain(1),
        pick in any::<prop::sample::Index>(),
        t in tamper(),
    ) {
        let mut c = c;
        let i = pick.index(c.len());
        apply(&mut c[i], &t);
        let err = AuditChain::verify(&c);
        prop_assert!(err.is_err(), "undetected {:?} on record {}", t, i + 1);
        prop_assert_eq!(err.err().map(|e| e.seq()), Some(i as u64 + 1));
    }

    #[test]
    fn any_deletion_but_the_last_is_detected(
        c in arb_chain(2),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut c = c;
        let i = pick.index(c.len() - 1);
        c.remove(i);
        let err = AuditChain::verify(&c);
        prop_assert_eq!(err.err().map(|e| e.seq()), Some(i as u64 + 1));
    }

    #[test]
    fn deleting_the_tail_is_detected_against_the_saved_head(
        c in arb_chain(1),
        keep in any::<prop::sample::Index>(),
    ) {
        let saved = c.last().map(AuditRecord::head).expect("non-empty");
        let kept = &c[..keep.index(c.len())];
        let mut v = Verifier::expecting_head(saved);
        for r in kept {
            prop_assert_eq!(v.push(r), Ok(()));
        }
        prop_assert!(v.finish().is_err());
    }

    #[test]
    fn any_swap_is_detected(
        c in arb_chain(2),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let mut c = c;
        let (a, b) = (a.index(c.len()), b.index(c.len()));
        prop_assume!(a != b);
        c.swap(a, b);
        let err = AuditChain::verify(&c);
        prop_assert_eq!(err.err().map(|e| e.seq()), Some(a.min(b) as u64 + 1));
    }
}
