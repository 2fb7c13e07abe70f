//! `costwatch poll aws|azure|digitalocean|gcp --tenant T [--config FILE] [--from DATE]
//! [--server URL] [--data-dir D]`: polls a cloud billing API once, incrementally, and sends the
//! billed charges to the collector's `POST /v1/events` (see `crates/providers/README.md`).
//! Settings and credentials: [`prepare`]. Checkpoints live in `<data-dir>/poll-checkpoints.sqlite`;
//! running the command again (e.g. from cron) continues after the last closed day delivered, and
//! re-sending is safe. The collector can run the same polls on a schedule ([`schedule`]).

pub mod prepare;
pub mod schedule;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use costwatch_domain::TenantId;
use costwatch_providers::{HttpSink, SqliteCheckpoints};

pub use prepare::{Plan, PollJob, Prepared, Vendor, plan, prepare};

/// Exit codes (sysexits): usage 64, the vendor or the server failed 69, configuration 78.
const EX_USAGE: u8 = 64;
const EX_UNAVAILABLE: u8 = 69;
const EX_CONFIG: u8 = 78;

/// The checkpoint file in a data directory.
pub const CHECKPOINTS: &str = "poll-checkpoints.sqlite";

#[derive(Args)]
pub struct PollArgs {
    /// Which billing API.
    #[arg(value_enum)]
    pub vendor: Vendor,
    /// Tenant the charges belong to.
    #[arg(long)]
    tenant: String,
    /// TOML file with an [aws], [azure], [digitalocean] or [gcp] section; COSTWATCH_<VENDOR>_<SETTING>
    /// environment variables override it (and suffice without a file).
    #[arg(long)]
    config: Option<PathBuf>,
    /// First day to poll (YYYY-MM-DD) when there is no checkpoint; earlier than the checkpoint,
    /// polls those days again (safe: event ids are derived from the charges).
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Costwatch HTTP address (the collector's `POST /v1/events`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Bearer token for the server (`costwatch token --role ingest --tenant T`); env
    /// `COSTWATCH_TOKEN`. Not needed when the server runs with `--auth none`.
    #[arg(long, env = "COSTWATCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Directory of the checkpoint file (poll-checkpoints.sqlite).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Events per request.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=10000))]
    batch_size: u16,
}

pub async fn run(args: PollArgs) -> ExitCode {
    let tenant = match TenantId::parse(&args.tenant) {
        Ok(t) => t,
        Err(reason) => {
            eprintln!("costwatch poll: --tenant {reason}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let job = PollJob {
        vendor: args.vendor,
        tenant,
        config: args.config.clone(),
        from: args.from,
        batch_size: usize::from(args.batch_size),
        token_file: None,
    };
    match prepare(&job).await {
        Ok(prepared) => drive(&prepared, &args).await,
        Err(message) => {
            eprintln!("costwatch poll {}: {message}", job.vendor.name());
            ExitCode::from(EX_CONFIG)
        }
    }
}

async fn drive(prepared: &Prepared, args: &PollArgs) -> ExitCode {
    let name = args.vendor.name();
    if let Err(e) = std::fs::create_dir_all(&args.data_dir) {
        eprintln!("costwatch poll {name}: {}: {e}", args.data_dir.display());
        return ExitCode::from(EX_CONFIG);
    }
    let store = match SqliteCheckpoints::open(&args.data_dir.join(CHECKPOINTS)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("costwatch poll {name}: checkpoints: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let sink = HttpSink::with_token(&args.server, args.token.as_deref());
    match prepared.run(&sink, &store).await {
        Ok(polled) => {
            println!("{}", polled.summary());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("costwatch poll: {e}");
            eprintln!(
                "costwatch poll: the checkpoint was not advanced; running the same poll again is \
                 safe (event ids are derived from the charges)"
            );
            ExitCode::from(EX_UNAVAILABLE)
        }
    }
}
