//! `costwatch audit verify|list`: checks and reads the audit log (`<data-dir>/audit.sqlite`)
//! directly, read-only, so it works whether or not Costwatch is running (docs/security.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use costwatch_domain::audit::{AuditRecord, ChainHead};
use costwatch_embedded::SqliteAuditStore;
use costwatch_ports::{AuditQuery, AuditStore, StoreError, VerifyError, verify_store};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of the whole audit log: exit 0 if intact, 65 naming the first
    /// changed, deleted or reordered record.
    Verify(VerifyArgs),
    /// Print audit records as JSON lines, oldest first.
    List(ListArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Data directory holding audit.sqlite.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// A head printed by an earlier verify, `SEQ:HASH` or `"SEQ HASH"`, kept elsewhere: also detects records
    /// removed from the end of the log, and a log rewritten from that record on.
    #[arg(long, value_parser = parse_head)]
    head: Option<ChainHead>,
    /// Records read per page (memory stays bounded by one page).
    #[arg(long, default_value_t = 1000, hide = true)]
    page_size: usize,
}

#[derive(Args)]
pub struct ListArgs {
    /// Data directory holding audit.sqlite.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Only this tenant's records.
    #[arg(long)]
    tenant: Option<String>,
    /// First sequence number.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// At most this many records.
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

const EX_DATAERR: u8 = 65;
const EX_NOINPUT: u8 = 66;
const EX_IOERR: u8 = 74;

fn parse_head(s: &str) -> Result<ChainHead, String> {
    let (seq, hash) = s
        .split_once([':', ' '])
        .ok_or_else(|| "expected SEQ:HASH (or \"SEQ HASH\" as verify prints it)".to_string())?;
    Ok(ChainHead {
        seq: seq.parse().map_err(|e| format!("seq {seq:?}: {e}"))?,
        hash: hash.parse().map_err(|e| format!("{e}"))?,
    })
}

pub async fn run(command: AuditCommand) -> ExitCode {
    match command {
        AuditCommand::Verify(args) => verify(args).await,
        AuditCommand::List(args) => list(args).await,
    }
}

fn open(cmd: &str, data_dir: &std::path::Path) -> Result<SqliteAuditStore, ExitCode> {
    let path = data_dir.join("audit.sqlite");
    if !path.is_file() {
        eprintln!("costwatch audit {cmd}: no audit log at {}", path.display());
        return Err(ExitCode::from(EX_NOINPUT));
    }
    SqliteAuditStore::open_read_only(&path).map_err(|e| {
        eprintln!("costwatch audit {cmd}: {e}");
        ExitCode::from(EX_IOERR)
    })
}

async fn verify(args: VerifyArgs) -> ExitCode {
    let store = match open("verify", &args.data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match verify_store(&store, args.page_size, args.head).await {
        Ok(v) => {
            match v.head {
                Some(head) => println!("audit log OK: {} records, head {head}", v.records),
                None => println!("audit log OK: 0 records"),
            }
            ExitCode::SUCCESS
        }
        Err(VerifyError::Break(e)) => {
            eprintln!("costwatch audit verify: {e}");
            ExitCode::from(EX_DATAERR)
        }
        // A row that no longer decodes (bad hash text, unknown outcome) was tampered with too.
        Err(VerifyError::Store(e @ StoreError::Corrupt { .. })) => {
            eprintln!("costwatch audit verify: {e}");
            ExitCode::from(EX_DATAERR)
        }
        Err(VerifyError::Store(e)) => {
            eprintln!("costwatch audit verify: {e}");
            ExitCode::from(EX_IOERR)
        }
    }
}

async fn list(args: ListArgs) -> ExitCode {
    let store = match open("list", &args.data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let query = AuditQuery {
        tenant: args.tenant,
        from_seq: args.from,
        limit: args.limit,
    };
    match store.records(&query).await {
        Ok(records) => {
            for r in &records {
                println!("{}", to_json(r));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("costwatch audit list: {e}");
            ExitCode::from(EX_IOERR)
        }
    }
}

fn to_json(r: &AuditRecord) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq,
        "at": r.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "actor": r.actor,
        "tenant": r.tenant,
        "action": r.action,
        "target": r.target,
        "source": r.source,
        "outcome": r.outcome.kind(),
        "reason": r.outcome.reason(),
        "prevHash": r.prev_hash.to_string(),
        "hash": r.hash.to_string(),
    })
}
