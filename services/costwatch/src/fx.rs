//! `costwatch fx import-ecb SOURCE [--server URL]`: loads ECB euro reference rates (a file, or
//! an http(s) URL such as https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml) into
//! a running Costwatch through `POST /api/admin/fx/ecb`. The file is checked here first, so a
//! broken download is refused before anything is sent; the server checks it again.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use costwatch_billing_import::ecb::parse_ecb_rates;

#[derive(Subcommand)]
pub enum FxCommand {
    /// Import an ECB reference-rates XML (daily, 90-day or full history) from a file or URL.
    ImportEcb(ImportEcbArgs),
}

#[derive(Args)]
pub struct ImportEcbArgs {
    /// Path of an eurofxref*.xml file, or an http(s) URL to fetch it from.
    source: String,
    /// Costwatch HTTP address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Bearer token for the server (`costwatch token --role ingest --tenant T`); env
    /// `COSTWATCH_TOKEN`. Not needed when the server runs with `--auth none`.
    #[arg(long, env = "COSTWATCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

const EX_DATAERR: u8 = 65;
const EX_NOINPUT: u8 = 66;
const EX_UNAVAILABLE: u8 = 69;

pub async fn run(command: FxCommand) -> ExitCode {
    match command {
        FxCommand::ImportEcb(args) => import_ecb(args).await,
    }
}

async fn import_ecb(args: ImportEcbArgs) -> ExitCode {
    // The token goes only to Costwatch, never to the rate source.
    let xml = match read_source(&reqwest::Client::new(), &args.source).await {
        Ok(xml) => xml,
        Err(e) => {
            eprintln!("costwatch fx import-ecb: {}: {e}", args.source);
            return ExitCode::from(EX_NOINPUT);
        }
    };
    let rates = match parse_ecb_rates(xml.as_slice(), "ecb", chrono::Utc::now()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("costwatch fx import-ecb: {}: {e}", args.source);
            return ExitCode::from(EX_DATAERR);
        }
    };
    let days = rates
        .iter()
        .map(|r| r.day)
        .collect::<std::collections::BTreeSet<_>>();
    let url = format!("{}/api/admin/fx/ecb", args.server.trim_end_matches('/'));
    let client = costwatch_providers::sink::client_with_token(args.token.as_deref());
    let resp = match client.post(&url).body(xml).send().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("costwatch fx import-ecb: {url}: {e}");
            return ExitCode::from(EX_UNAVAILABLE);
        }
    };
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        eprintln!("costwatch fx import-ecb: {url} answered {status}: {body}");
        return ExitCode::from(EX_UNAVAILABLE);
    }
    println!(
        "imported {} rates for {} days ({} to {})",
        rates.len(),
        days.len(),
        days.first().map(|d| d.to_string()).unwrap_or_default(),
        days.last().map(|d| d.to_string()).unwrap_or_default(),
    );
    ExitCode::SUCCESS
}

async fn read_source(client: &reqwest::Client, source: &str) -> Result<Vec<u8>, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let resp = client.get(source).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("fetching answered {}", resp.status()));
        }
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        return Ok(bytes.to_vec());
    }
    std::fs::read(source).map_err(|e| e.to_string())
}
