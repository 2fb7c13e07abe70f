//! `costwatch api-key create|list|revoke`: API keys for collectors and scripts, in
//! `<data-dir>/api_keys.sqlite` (docs/security.md). Works whether or not Costwatch is running;
//! a running `costwatch up` sees new and revoked keys on the next request.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use costwatch_domain::api_key::{ApiKeyRecord, ID_BYTES, KeyId, PresentedKey, SECRET_BYTES};
use costwatch_embedded::SqliteApiKeys;
use costwatch_ports::{ApiKeyStore, CreateKeyError};
use rand::TryRngCore;
use rand::rngs::OsRng;

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key: prints the key once on stdout (it cannot be shown again) and its id on
    /// stderr.
    Create(CreateArgs),
    /// List keys (never their secrets): id, name, role, tenants, created, last used, revoked.
    List(DataDir),
    /// Revoke a key by id: it is refused from the next request on.
    Revoke(RevokeArgs),
}

#[derive(Args)]
pub struct DataDir {
    /// Data directory holding api_keys.sqlite (`costwatch up`).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Distributed mode: the services' config file (or `-` for defaults and COSTWATCH_* env);
    /// keys are then kept in its CQL keyspace.
    #[arg(long, value_name = "FILE")]
    distributed: Option<PathBuf>,
}

#[derive(Args)]
pub struct CreateArgs {
    /// What the key is for (shown in listings).
    #[arg(long)]
    name: String,
    /// ingest, tenant-viewer, tenant-admin or finance (admin keys are refused).
    #[arg(long)]
    role: String,
    /// Tenant the key may act for (repeat for several; not for finance).
    #[arg(long = "tenant")]
    tenants: Vec<String>,
    #[command(flatten)]
    dir: DataDir,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The key id (12 hex characters, as `create` and `list` print it).
    id: String,
    #[command(flatten)]
    dir: DataDir,
}

const EX_USAGE: u8 = 64;
const EX_IOERR: u8 = 74;

pub async fn run(command: ApiKeyCommand) -> ExitCode {
    match command {
        ApiKeyCommand::Create(args) => create(args).await,
        ApiKeyCommand::List(args) => list(args).await,
        ApiKeyCommand::Revoke(args) => revoke(args).await,
    }
}

async fn open(cmd: &str, dir: &DataDir) -> Result<Box<dyn ApiKeyStore>, ExitCode> {
    let failed = |e: String| {
        eprintln!("costwatch api-key {cmd}: {e}");
        ExitCode::from(EX_IOERR)
    };
    let Some(config) = &dir.distributed else {
        return SqliteApiKeys::open(&costwatch::auth::api_keys_file(&dir.data_dir))
            .map(|s| Box::new(s) as Box<dyn ApiKeyStore>)
            .map_err(|e| failed(e.to_string()));
    };
    let file = (config.as_os_str() != "-").then_some(config.as_path());
    let cfg = costwatch::distributed::config::DistributedConfig::load(file).map_err(&failed)?;
    let options = cfg.cql_options().map_err(&failed)?;
    costwatch_cql::CqlApiKeys::open(&options)
        .await
        .map(|s| Box::new(s) as Box<dyn ApiKeyStore>)
        .map_err(|e| {
            failed(format!(
                "cql_nodes {}: keyspace {}: {e}",
                cfg.cql_nodes, cfg.keyspace
            ))
        })
}

/// Fresh id and secret from the operating system's CSPRNG.
fn generate() -> Result<PresentedKey, rand::rand_core::OsError> {
    let mut id = [0u8; ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    OsRng.try_fill_bytes(&mut id)?;
    OsRng.try_fill_bytes(&mut secret)?;
    Ok(PresentedKey::new(id, secret))
}

async fn create(args: CreateArgs) -> ExitCode {
    // Validate before touching the data dir, so a typo creates nothing.
    let probe = PresentedKey::new([0; ID_BYTES], [0; SECRET_BYTES]);
    if let Err(e) = ApiKeyRecord::new(&probe, &args.name, &args.role, &args.tenants, Utc::now()) {
        eprintln!("costwatch api-key create: {e}");
        return ExitCode::from(EX_USAGE);
    }
    let store = match open("create", &args.dir).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    // A fresh random id can collide with an existing one (48 bits); try again then.
    for _ in 0..3 {
        let key = match generate() {
            Ok(k) => k,
            Err(e) => {
                eprintln!("costwatch api-key create: no randomness: {e}");
                return ExitCode::from(EX_IOERR);
            }
        };
        let record =
            match ApiKeyRecord::new(&key, &args.name, &args.role, &args.tenants, Utc::now()) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("costwatch api-key create: {e}");
                    return ExitCode::from(EX_USAGE);
                }
            };
        match store.create(&record).await {
            Ok(()) => {
                println!("{}", key.reveal());
                eprintln!(
                    "created API key {} ({}, role {}); the key above is shown only once",
                    record.id, record.name, record.role
                );
                return ExitCode::SUCCESS;
            }
            Err(CreateKeyError::Duplicate(_)) => continue,
            Err(CreateKeyError::Store(e)) => {
                eprintln!("costwatch api-key create: {e}");
                return ExitCode::from(EX_IOERR);
            }
        }
    }
    eprintln!("costwatch api-key create: could not find a free key id");
    ExitCode::from(EX_IOERR)
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

async fn list(args: DataDir) -> ExitCode {
    let store = match open("list", &args).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let keys = match store.list().await {
        Ok(k) => k,
        Err(e) => {
            eprintln!("costwatch api-key list: {e}");
            return ExitCode::from(EX_IOERR);
        }
    };
    println!("ID\tNAME\tROLE\tTENANTS\tCREATED\tLAST USED\tREVOKED");
    for k in keys {
        let tenants = if k.tenants.is_empty() {
            "*".to_string()
        } else {
            k.tenants
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            k.id,
            k.name,
            k.role,
            tenants,
            time(Some(k.created_at)),
            time(k.last_used_at),
            time(k.revoked_at)
        );
    }
    ExitCode::SUCCESS
}

async fn revoke(args: RevokeArgs) -> ExitCode {
    let id = match KeyId::parse(&args.id) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("costwatch api-key revoke: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let store = match open("revoke", &args.dir).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.revoke(&id, Utc::now()).await {
        Ok(true) => {
            println!("revoked {id}");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("costwatch api-key revoke: no API key with id {id}");
            ExitCode::from(EX_USAGE)
        }
        Err(e) => {
            eprintln!("costwatch api-key revoke: {e}");
            ExitCode::from(EX_IOERR)
        }
    }
}
