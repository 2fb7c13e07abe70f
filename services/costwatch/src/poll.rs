//! `costwatch poll aws|azure|digitalocean|gcp --tenant T [--config FILE] [--from DATE]
//! [--server URL] [--data-dir D]`: polls a cloud billing API once, incrementally, and sends the
//! billed charges to the collector's `POST /v1/events` (see `crates/providers/README.md`).
//!
//! Settings come from the vendor's section of the TOML file (`[aws]`, `[azure]`,
//! `[digitalocean]`, `[gcp]`), overridden by `COSTWATCH_<VENDOR>_<SETTING>` environment variables
//! (e.g. `COSTWATCH_AZURE_SCOPE`). Credentials come only from the environment
//! (`COSTWATCH_AZURE_TOKEN`, `COSTWATCH_DIGITALOCEAN_TOKEN`, `COSTWATCH_GCP_TOKEN`;
//! `COSTWATCH_AWS_ACCESS_KEY_ID`, `COSTWATCH_AWS_SECRET_ACCESS_KEY` and optionally
//! `COSTWATCH_AWS_SESSION_TOKEN`) and are never printed. Checkpoints live in `<data-dir>/poll-checkpoints.sqlite`; running the command again
//! (e.g. from cron) continues after the last closed day delivered, and re-sending is safe.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use costwatch_domain::TenantId;
use costwatch_providers::aws::{self, AwsConfig, AwsCredentials, AwsSource};
use costwatch_providers::azure::{self, AzureConfig, AzureSource};
use costwatch_providers::digitalocean::{self, DigitalOceanConfig, DigitalOceanSource};
use costwatch_providers::gcp::{self, GcpConfig, GcpSource};
use costwatch_providers::http::{ClientConfig, Token};
use costwatch_providers::{HttpSink, PollError, PollOptions, Source, SqliteCheckpoints, poll};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// Exit codes (sysexits): usage 64, the vendor or the server failed 69, configuration 78.
const EX_USAGE: u8 = 64;
const EX_UNAVAILABLE: u8 = 69;
const EX_CONFIG: u8 = 78;

#[derive(Clone, Copy, ValueEnum)]
pub enum Vendor {
    /// AWS Cost Explorer GetCostAndUsage (daily cost by service of an account)
    Aws,
    /// Azure Cost Management Query API (daily actual cost of a scope)
    Azure,
    /// DigitalOcean invoices (one event per invoice item)
    Digitalocean,
    /// Google Cloud billing export in BigQuery (daily roll-up)
    Gcp,
}

impl Vendor {
    fn name(self) -> &'static str {
        match self {
            Vendor::Aws => "aws",
            Vendor::Azure => "azure",
            Vendor::Digitalocean => "digitalocean",
            Vendor::Gcp => "gcp",
        }
    }

    fn env_prefix(self) -> &'static str {
        match self {
            Vendor::Aws => "COSTWATCH_AWS_",
            Vendor::Azure => "COSTWATCH_AZURE_",
            Vendor::Digitalocean => "COSTWATCH_DIGITALOCEAN_",
            Vendor::Gcp => "COSTWATCH_GCP_",
        }
    }

    /// Environment variables (after the prefix) that are not settings: credentials, read only
    /// by `token`/`aws_credentials`, and AWS account ids, read as raw text by `aws_ids` (figment
    /// would parse `012345678901` as a number and drop the leading zero).
    fn env_ignored(self) -> &'static [&'static str] {
        match self {
            Vendor::Aws => &[
                "access_key_id",
                "secret_access_key",
                "session_token",
                "account",
                "linked_accounts",
            ],
            _ => &["token"],
        }
    }
}

#[derive(Args)]
pub struct PollArgs {
    /// Which billing API.
    #[arg(value_enum)]
    vendor: Vendor,
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
    /// Directory of the checkpoint file (poll-checkpoints.sqlite).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Events per request.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=10000))]
    batch_size: u16,
}

/// `[aws]`: `account` (required: the name checkpoints and event ids use, e.g. the management
/// account's id), `region`, `endpoint_url`, `linked_accounts`, `group_by_linked_account`,
/// `metric` (default `UnblendedCost`), `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwsSettings {
    account: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    linked_accounts: Option<Vec<String>>,
    #[serde(default)]
    group_by_linked_account: bool,
    metric: Option<String>,
    #[serde(default)]
    settle_days: u32,
}

/// `[azure]`: `scope` (required), `base_url`, `grouping`, `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AzureSettings {
    scope: String,
    base_url: Option<String>,
    grouping: Option<Vec<String>>,
    #[serde(default)]
    settle_days: u32,
}

/// `[digitalocean]`: `account` (checkpoint name, default `my`), `base_url`, `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DigitalOceanSettings {
    account: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    settle_days: u32,
}

/// `[gcp]`: `project` and `table` (required), `location`, `base_url`, `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GcpSettings {
    project: String,
    table: String,
    location: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    settle_days: u32,
}

fn settings<T: for<'de> Deserialize<'de>>(args: &PollArgs) -> Result<T, String> {
    let vendor = args.vendor.name();
    let mut figment = Figment::new();
    if let Some(path) = &args.config {
        if !path.is_file() {
            return Err(format!("--config {}: no such file", path.display()));
        }
        figment = figment.merge(Toml::file(path));
    }
    figment
        .focus(vendor)
        .merge(Env::prefixed(args.vendor.env_prefix()).ignore(args.vendor.env_ignored()))
        .extract::<T>()
        .map_err(|e| format!("[{vendor}] settings: {e}"))
}

fn token(vendor: Vendor) -> Result<Token, String> {
    let var = format!("{}TOKEN", vendor.env_prefix());
    match std::env::var(&var) {
        Ok(t) if !t.trim().is_empty() => Ok(Token::new(t.trim())),
        _ => Err(format!(
            "set the access token in the environment variable {var}"
        )),
    }
}

/// A required secret from the environment, trimmed.
fn env_secret(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => Err(format!("set the environment variable {var}")),
    }
}

fn aws_credentials() -> Result<AwsCredentials, String> {
    let session = std::env::var("COSTWATCH_AWS_SESSION_TOKEN").ok();
    Ok(AwsCredentials::new(
        env_secret("COSTWATCH_AWS_ACCESS_KEY_ID")?,
        env_secret("COSTWATCH_AWS_SECRET_ACCESS_KEY")?,
        session.map(|t| t.trim().to_string()),
    ))
}

/// `COSTWATCH_AWS_ACCOUNT` and `COSTWATCH_AWS_LINKED_ACCOUNTS` (comma-separated) as raw text,
/// over the TOML file's `account` and `linked_accounts`.
fn aws_ids(s: &mut AwsSettings) {
    if let Ok(a) = std::env::var("COSTWATCH_AWS_ACCOUNT") {
        s.account = Some(a.trim().to_string());
    }
    if let Ok(list) = std::env::var("COSTWATCH_AWS_LINKED_ACCOUNTS") {
        let ids = list.split(',').map(str::trim).filter(|a| !a.is_empty());
        s.linked_accounts = Some(ids.map(str::to_string).collect());
    }
}

pub async fn run(args: PollArgs) -> ExitCode {
    let tenant = match TenantId::parse(&args.tenant) {
        Ok(t) => t,
        Err(reason) => {
            eprintln!("costwatch poll: --tenant {reason}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let vendor = args.vendor;
    match prepare(&args, tenant) {
        Ok(Prepared::Aws(s, o)) => drive(s, o, &args).await,
        Ok(Prepared::Azure(s, o)) => drive(s, o, &args).await,
        Ok(Prepared::DigitalOcean(s, o)) => drive(s, o, &args).await,
        Ok(Prepared::Gcp(s, o)) => drive(s, o, &args).await,
        Err(message) => {
            eprintln!("costwatch poll {}: {message}", vendor.name());
            ExitCode::from(EX_CONFIG)
        }
    }
}

enum Prepared {
    Aws(AwsSource, PollOptions),
    Azure(AzureSource, PollOptions),
    DigitalOcean(DigitalOceanSource, PollOptions),
    Gcp(GcpSource, PollOptions),
}

fn prepare(args: &PollArgs, tenant: TenantId) -> Result<Prepared, String> {
    let mut opts = PollOptions::new(tenant);
    opts.backfill_from = args.from;
    opts.batch_size = usize::from(args.batch_size);
    let http = ClientConfig::default();
    let err = |e: PollError| e.to_string();
    // A closure: AWS has no bearer token (its credentials are read by `prepare_aws`).
    let token = || token(args.vendor);
    Ok(match args.vendor {
        Vendor::Aws => prepare_aws(args, opts, http)?,
        Vendor::Azure => {
            let s: AzureSettings = settings(args)?;
            let mut config = AzureConfig::new(s.scope);
            config.base_url = s.base_url.unwrap_or_else(|| azure::DEFAULT_BASE.into());
            if let Some(g) = s.grouping {
                config.grouping = g;
            }
            opts.settle_days = s.settle_days;
            Prepared::Azure(AzureSource::new(config, token()?, http).map_err(err)?, opts)
        }
        Vendor::Digitalocean => {
            let s: DigitalOceanSettings = settings(args)?;
            let config = DigitalOceanConfig {
                base_url: s
                    .base_url
                    .unwrap_or_else(|| digitalocean::DEFAULT_BASE.into()),
                account: s.account.unwrap_or_else(|| "my".into()),
            };
            opts.settle_days = s.settle_days;
            Prepared::DigitalOcean(
                DigitalOceanSource::new(config, token()?, http).map_err(err)?,
                opts,
            )
        }
        Vendor::Gcp => {
            let s: GcpSettings = settings(args)?;
            let mut config = GcpConfig::new(s.project, s.table);
            config.location = s.location;
            config.base_url = s.base_url.unwrap_or_else(|| gcp::DEFAULT_BASE.into());
            opts.settle_days = s.settle_days;
            Prepared::Gcp(GcpSource::new(config, token()?, http).map_err(err)?, opts)
        }
    })
}

fn prepare_aws(
    args: &PollArgs,
    mut opts: PollOptions,
    http: ClientConfig,
) -> Result<Prepared, String> {
    let mut s: AwsSettings = settings(args)?;
    aws_ids(&mut s);
    let account = s.account.filter(|a| !a.trim().is_empty()).ok_or(
        "[aws] settings: set `account` (or COSTWATCH_AWS_ACCOUNT), e.g. the management \
         account's id",
    )?;
    let mut config = AwsConfig::new(account);
    config.region = s.region.unwrap_or_else(|| aws::DEFAULT_REGION.into());
    config.endpoint_url = s.endpoint_url;
    config.linked_accounts = s.linked_accounts.unwrap_or_default();
    config.group_by_linked_account = s.group_by_linked_account;
    config.metric = s.metric.unwrap_or_else(|| aws::DEFAULT_METRIC.into());
    opts.settle_days = s.settle_days;
    let source = AwsSource::new(config, aws_credentials()?, http).map_err(|e| e.to_string())?;
    Ok(Prepared::Aws(source, opts))
}

async fn drive<S: Source>(source: S, opts: PollOptions, args: &PollArgs) -> ExitCode {
    let name = source.provider();
    if let Err(e) = std::fs::create_dir_all(&args.data_dir) {
        eprintln!("costwatch poll {name}: {}: {e}", args.data_dir.display());
        return ExitCode::from(EX_CONFIG);
    }
    let store = match SqliteCheckpoints::open(&args.data_dir.join("poll-checkpoints.sqlite")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("costwatch poll {name}: checkpoints: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let sink = HttpSink::new(&args.server);
    match poll(&source, &sink, &store, &opts).await {
        Ok(report) => {
            let checkpoint = report
                .checkpoint
                .map_or("none".to_string(), |d| d.to_string());
            match report.window {
                None => println!(
                    "{name} {}: up to date (checkpoint {checkpoint})",
                    source.scope()
                ),
                Some(w) => println!(
                    "{name} {}: polled {}..={}: {} events sent, {} for days not closed yet \
                     (sent once closed); checkpoint {checkpoint}",
                    source.scope(),
                    w.from,
                    w.to,
                    report.sent,
                    report.deferred
                ),
            }
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
