//! `costwatch audit verify` end to end: records written through the SQLite audit store, the real
//! binary verifies them, then the file is tampered with through a raw SQLite connection (the
//! append-only triggers dropped first) and verify must name the record.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{TimeZone, Utc};
use costwatch_domain::audit::{AuditDraft, ChainHead, Outcome};
use costwatch_embedded::SqliteAuditStore;
use costwatch_ports::AuditStore;

fn draft(n: u32) -> AuditDraft {
    AuditDraft {
        at: Utc
            .with_ymd_and_hms(2026, 11, 29, 13, n, 0)
            .single()
            .expect("valid time"),
        actor: if n == 1 {
            "local".into()
        } else {
            format!("key-{n}")
        },
        tenant: n.is_multiple_of(2).then(|| "acme".to_string()),
        action: ["login", "createBudget", "export", "denied"][n as usize % 4].into(),
        target: format!("budget/{n}"),
        source: "198.51.100.4:52000".into(),
        outcome: if n % 4 == 3 {
            Outcome::Denied {
                reason: "missing role admin".into(),
            }
        } else {
            Outcome::Allowed
        },
    }
}

/// Writes `n` records into `<dir>/audit.sqlite` and returns the head.
async fn write_log(dir: &Path, n: u32) -> ChainHead {
    let store = SqliteAuditStore::open(&dir.join("audit.sqlite")).expect("open");
    for i in 1..=n {
        store.append(draft(i)).await.expect("append");
    }
    store.head().await.expect("head").expect("non-empty")
}

fn tamper(dir: &Path, sql: &str) {
    let raw = rusqlite::Connection::open(dir.join("audit.sqlite")).expect("raw connection");
    raw.execute_batch(sql).expect("tamper");
}

async fn costwatch(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_costwatch"))
            .args(&args)
            .env("COSTWATCH_LOG", "warn")
            .output()
            .expect("run costwatch")
    })
    .await
    .expect("join")
}

async fn verify(dir: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec![
        "audit".to_string(),
        "verify".into(),
        "--data-dir".into(),
        dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = costwatch(args).await;
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn intact_log_verifies_and_a_changed_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = write_log(dir.path(), 7).await;

    let (code, stdout, stderr) = verify(dir.path(), &["--page-size", "2"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("audit log OK: 7 records, head 7 {}", head.hash)
    );

    tamper(
        dir.path(),
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET outcome = 'allowed', reason = NULL WHERE seq = 3;",
    );
    let (code, stdout, stderr) = verify(dir.path(), &["--page-size", "2"]).await;
    assert_eq!(code, Some(65), "{stdout}");
    assert!(
        stderr.contains("record 3 was changed: its contents hash to"),
        "{stderr}"
    );
}

#[tokio::test]
async fn deleted_middle_record_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_log(dir.path(), 6).await;
    tamper(
        dir.path(),
        "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 4;",
    );
    let (code, _, stderr) = verify(dir.path(), &[]).await;
    assert_eq!(code, Some(65));
    assert!(
        stderr.contains("record 4 is missing: found record 5 after record 3"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_removed_tail_is_caught_only_against_the_saved_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = write_log(dir.path(), 5).await;
    tamper(
        dir.path(),
        "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 4;",
    );
    let (code, stdout, _) = verify(dir.path(), &[]).await;
    assert_eq!(code, Some(0), "a shorter chain is still a valid chain");
    assert!(
        stdout.starts_with("audit log OK: 3 records, head 3 "),
        "{stdout}"
    );

    let saved = format!("{}:{}", head.seq, head.hash);
    let (code, _, stderr) = verify(dir.path(), &["--head", &saved]).await;
    assert_eq!(code, Some(65));
    let printed = head.to_string(); // "5 <hash>", as an OK verify prints it
    assert_eq!(verify(dir.path(), &["--head", &printed]).await.0, Some(65));
    assert!(
        stderr.contains("the log ends at record 3 but the saved head is record 5"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_mangled_row_is_reported_as_tampering() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_log(dir.path(), 3).await;
    tamper(
        dir.path(),
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET prev_hash = 'not hex' WHERE seq = 2;",
    );
    let (code, _, stderr) = verify(dir.path(), &[]).await;
    assert_eq!(code, Some(65));
    assert!(stderr.contains("record 2: prev_hash"), "{stderr}");
}

#[tokio::test]
async fn missing_log_and_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = verify(dir.path(), &[]).await;
    assert_eq!(code, Some(66));
    assert!(stderr.contains("no audit log at"), "{stderr}");

    write_log(dir.path(), 4).await;
    let out = costwatch(vec![
        "audit".into(),
        "list".into(),
        "--data-dir".into(),
        dir.path().display().to_string(),
        "--tenant".into(),
        "acme".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert_eq!(seqs, [2, 4]);
    assert_eq!(lines[0]["tenant"], "acme");
    assert_eq!(lines[0]["action"], "export");
}
