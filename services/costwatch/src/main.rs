//! `costwatch`: one binary for every Costwatch service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use costwatch::distributed::{self, DistributedConfig, Role};
use costwatch::{Platform, UpConfig, poll};
use figment::providers::Serialized;

mod api_keys;
mod audit;
mod fx;
mod import;

#[derive(Parser)]
#[command(
    name = "costwatch",
    version,
    about = "Real-time cost monitoring for APIs, hosting and databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole platform in one process on the embedded bus and store.
    Up(UpArgs),
    /// Apply schema migrations to the configured stores.
    Migrate(MigrateArgs),
    /// Import billing files (FOCUS, AWS CUR, or any CSV through a column mapping; plain or gzip)
    /// into a running Costwatch.
    Import(import::ImportArgs),
    /// Poll a cloud billing API (AWS Cost Explorer, Azure Cost Management, DigitalOcean
    /// invoices, BigQuery billing export) into a running Costwatch.
    Poll(poll::PollArgs),
    /// Exchange rates: import the ECB euro reference rates into a running Costwatch.
    #[command(subcommand)]
    Fx(fx::FxCommand),
    /// Audit log: verify its hash chain, list records.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// API keys for collectors and scripts: create (shown once), list, revoke.
    #[command(subcommand, name = "api-key")]
    ApiKey(api_keys::ApiKeyCommand),
    /// Mint a token signed by the local key (for scripts, collectors and tests), or revoke one.
    Token(costwatch::auth::TokenArgs),
    /// Distributed mode: the collector service (ingest over HTTP and gRPC → Kafka).
    Collector(ServiceArgs),
    /// Distributed mode: the cost aggregator (Kafka → CQL projections, cost updates).
    Aggregator(ServiceArgs),
    /// Distributed mode: the anomaly detector (Kafka cost updates, CQL costs → CQL anomalies,
    /// Kafka anomalies topic, `Anomaly` alerts in the CQL alert store).
    AnomalyDetector(ServiceArgs),
    /// Distributed mode: the GraphQL gateway and dashboard (CQL, cost updates).
    Gateway(ServiceArgs),
    /// Distributed mode: alert evaluation, the alert publisher, notification channels and
    /// digests (CQL alert store, Kafka cost updates and alerts topics).
    Notifier(ServiceArgs),
}

#[derive(Args, serde::Serialize)]
struct UpArgs {
    /// TOML config file (settings: see `UpConfig`); env `COSTWATCH_*` and flags override it.
    #[arg(long)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// HTTP address (dashboard, GraphQL, REST, ingest) [default: 127.0.0.1:8080]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<String>,
    /// gRPC address [default: 127.0.0.1:50051]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    grpc: Option<String>,
    /// Data directory for the embedded bus and store [default: ./data]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// Generate ~90 days of demo history and a live stream.
    #[arg(long, overrides_with = "no_demo")]
    #[serde(skip)]
    demo: bool,
    /// Do not generate demo data (the default).
    #[arg(long)]
    #[serde(skip)]
    no_demo: bool,
    /// Rate card TOML [default: built-in deploy/rate-card.toml]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_card: Option<PathBuf>,
    /// Authentication: `local` (default: a local signing key, the printed link logs the admin
    /// in), `oidc` (configure `[auth]` in the file) or `none` (loopback only, everyone is admin).
    #[arg(long, value_parser = ["local", "oidc", "none"])]
    #[serde(skip)]
    auth: Option<String>,
}

#[derive(Args)]
struct MigrateArgs {
    /// Data directory of the embedded stores.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Which stores: `embedded` (SQLite) or `distributed` (Kafka topics and CQL).
    #[arg(long, default_value = "embedded")]
    target: String,
    /// Distributed-mode TOML config (e.g. deploy/dev/costwatch.toml); env `COSTWATCH_*` overrides.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ServiceArgs {
    /// Distributed-mode TOML config (e.g. deploy/dev/costwatch.toml); env `COSTWATCH_*` overrides.
    #[arg(long)]
    config: Option<PathBuf>,
}

async fn run_service(role: Role, args: ServiceArgs) -> ExitCode {
    let cfg = match DistributedConfig::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("costwatch: {e}");
            return ExitCode::from(64);
        }
    };
    let mut service = match distributed::start(role, cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("costwatch: {e:#}");
            return ExitCode::from(1);
        }
    };
    println!("costwatch {}", service.description);
    let failed = tokio::select! {
        _ = shutdown_signal() => false,
        _ = service.wait_for_failure() => true,
    };
    service.stop().await;
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

async fn migrate_distributed(config: Option<&std::path::Path>) -> ExitCode {
    let cfg = match DistributedConfig::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("costwatch migrate: {e}");
            return ExitCode::from(64);
        }
    };
    match distributed::migrate(&cfg).await {
        Ok(done) => {
            println!("costwatch migrate: {done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("costwatch migrate: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn load_up_config(args: &UpArgs) -> Result<UpConfig, String> {
    let mut figment = UpConfig::figment(args.config.as_deref()).merge(Serialized::defaults(args));
    if args.demo {
        figment = figment.merge(Serialized::default("demo", true));
    }
    if args.no_demo {
        figment = figment.merge(Serialized::default("demo", false));
    }
    if let Some(mode) = &args.auth {
        figment = figment.merge(Serialized::default("auth.mode", mode));
    }
    figment
        .extract::<UpConfig>()
        .map_err(|e| format!("invalid configuration: {e}"))
}

async fn up(args: UpArgs) -> ExitCode {
    let cfg = match load_up_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("costwatch: {e}");
            return ExitCode::from(64);
        }
    };
    let mut platform = match Platform::start(cfg).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("costwatch: {e:#}");
            return ExitCode::from(1);
        }
    };
    match &platform.login_token {
        // The fragment never reaches the server's logs; the dashboard moves it to storage and
        // clears it from the address bar.
        Some(token) => println!(
            "costwatch is up: dashboard {}/#token={token} · gRPC {}\n  (the link logs you in as admin; mint other tokens with `costwatch token --role R --tenant T`)",
            platform.http_url(),
            platform.grpc_addr
        ),
        None => println!(
            "costwatch is up: dashboard {} · gRPC {}",
            platform.http_url(),
            platform.grpc_addr
        ),
    }
    let failed = tokio::select! {
        _ = shutdown_signal() => false,
        _ = platform.wait_for_failure() => true,
    };
    platform.stop().await;
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn migrate(args: MigrateArgs) -> ExitCode {
    match args.target.as_str() {
        "embedded" => {
            let opened = costwatch_embedded::SqliteLog::open(&args.data_dir.join("bus.sqlite"))
                .and_then(|_| {
                    costwatch_embedded::SqliteStore::open(&args.data_dir.join("store.sqlite"))
                });
            match opened {
                Ok(_) => {
                    println!(
                        "embedded stores in {} are up to date",
                        args.data_dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("costwatch migrate: {e}");
                    ExitCode::from(1)
                }
            }
        }
        "distributed" => migrate_distributed(args.config.as_deref()).await,
        other => {
            eprintln!("costwatch migrate: --target {other:?} is not one of: embedded, distributed");
            ExitCode::from(64)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    costwatch_telemetry::init(match &cli.command {
        Command::Collector(_) => "collector",
        Command::Aggregator(_) => "aggregator",
        Command::Gateway(_) => "gateway",
        Command::Notifier(_) => "notifier",
        Command::AnomalyDetector(_) => "anomaly-detector",
        _ => "costwatch",
    });
    let code = match cli.command {
        Command::Up(args) => up(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Poll(args) => poll::run(args).await,
        Command::Fx(command) => fx::run(command).await,
        Command::Audit(command) => audit::run(command).await,
        Command::Token(args) => costwatch::auth::token_command(args),
        Command::ApiKey(command) => api_keys::run(command).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Collector(args) => run_service(Role::Collector, args).await,
        Command::Aggregator(args) => run_service(Role::Aggregator, args).await,
        Command::Gateway(args) => run_service(Role::Gateway, args).await,
        Command::Notifier(args) => run_service(Role::Notifier, args).await,
        Command::AnomalyDetector(args) => run_service(Role::AnomalyDetector, args).await,
    };
    costwatch_telemetry::shutdown();
    code
}
