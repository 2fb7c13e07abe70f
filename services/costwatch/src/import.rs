//! `costwatch import focus|cur FILE… --tenant T [--tenant-column COL] [--server URL]`: streams
//! billing files to the collector's `POST /v1/events`. `costwatch import mapped --mapping M.toml
//! FILE… --tenant T` reads another provider's CSV as its declarative column mapping says
//! (`docs/examples/custom-provider.toml`).
//!
//! Two passes per run: first every file is read and validated in full (constant memory, nothing
//! sent); only when every row of every file is valid are the files read again and sent in
//! batches. Event ids are derived from each row's charge identity, so re-running an import, or
//! importing an overlapping file, never counts a charge twice.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use costwatch::import_watch::{MAX_LISTED_ERRORS, error_line};
use costwatch_billing_import::source::{self, BytesRead};
use costwatch_billing_import::{
    EventReader, Format, ImportError, ImportOptions, Layout, Mapping, MappingError, RowError,
    ValidationReport,
};
use costwatch_domain::TenantId;
use costwatch_providers::sink::send_batch;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// FinOps FOCUS 1.0–1.2, CSV or Parquet (1.3 provider column names accepted)
    Focus,
    /// AWS Cost and Usage Report 2.0, CSV or Parquet (legacy CUR column names accepted)
    Cur,
    /// Any other provider's CSV (or Parquet), read as the --mapping file says
    Mapped,
}

#[derive(Args)]
pub struct ImportArgs {
    /// Billing file format.
    #[arg(value_enum)]
    format: FormatArg,
    /// TOML file mapping the columns of a custom provider's file to events (`import mapped`);
    /// see docs/examples/custom-provider.toml.
    #[arg(long, value_name = "FILE.toml", required_if_eq("format", "mapped"))]
    mapping: Option<PathBuf>,
    /// Billing files: CSV (plain or gzip) or Apache Parquet (Snappy, gzip or
    /// uncompressed), each recognised by its content, not its name.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Tenant of the rows (of the rows whose tenant column is empty, with --tenant-column).
    #[arg(long)]
    tenant: Option<String>,
    /// Column holding each row's tenant, e.g. SubAccountId.
    #[arg(long)]
    tenant_column: Option<String>,
    /// Costwatch HTTP address (the collector's `POST /v1/events`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Bearer token for the server (`costwatch token --role ingest --tenant T`); env
    /// `COSTWATCH_TOKEN`. Not needed when the server runs with `--auth none`.
    #[arg(long, env = "COSTWATCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Events per request.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=10000))]
    batch_size: u16,
    /// Validate the files and send nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Exit codes (sysexits): usage 64, invalid data 65, unreadable input 66, server refused 69.
const EX_USAGE: u8 = 64;
const EX_DATAERR: u8 = 65;
const EX_NOINPUT: u8 = 66;
const EX_UNAVAILABLE: u8 = 69;

pub async fn run(args: ImportArgs) -> ExitCode {
    let layout = match (args.format, &args.mapping) {
        (FormatArg::Focus, None) => Layout::from(Format::Focus),
        (FormatArg::Cur, None) => Layout::from(Format::Cur),
        (FormatArg::Mapped, Some(path)) => match Mapping::load(path) {
            Ok(mapping) => Layout::from(mapping),
            Err(MappingError::Io(e)) => {
                eprintln!("costwatch import: {}: {e}", path.display());
                return ExitCode::from(EX_NOINPUT);
            }
            Err(MappingError::Invalid(errors)) => {
                for e in &errors {
                    eprintln!("{}: {e}", path.display());
                }
                eprintln!("costwatch import: the mapping is not usable; nothing was read");
                return ExitCode::from(EX_USAGE);
            }
        },
        (FormatArg::Mapped, None) => {
            eprintln!("costwatch import: `import mapped` needs --mapping FILE.toml");
            return ExitCode::from(EX_USAGE);
        }
        (FormatArg::Focus | FormatArg::Cur, Some(_)) => {
            eprintln!("costwatch import: --mapping is for `import mapped` only");
            return ExitCode::from(EX_USAGE);
        }
    };
    let tenant = match args.tenant.as_deref().map(TenantId::parse).transpose() {
        Ok(t) => t,
        Err(reason) => {
            eprintln!("costwatch import: --tenant {reason}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let opts = ImportOptions {
        tenant,
        tenant_column: args.tenant_column.clone(),
        now: chrono::Utc::now(),
    };
    // A mapping may name the tenant column itself.
    if opts.tenant.is_none() && layout.tenant_column(&opts).is_none() {
        eprintln!("costwatch import: give --tenant, --tenant-column, or both");
        return ExitCode::from(EX_USAGE);
    }

    // Pass 1: validate everything before sending anything.
    let mut listed = 0usize;
    let mut total_errors = 0u64;
    for path in &args.files {
        match validate_file(&layout, path, &opts, MAX_LISTED_ERRORS - listed) {
            Ok(report) => {
                for e in &report.errors {
                    eprintln!("{}: {}", path.display(), error_line(e));
                }
                listed += report.errors.len();
                total_errors += report.error_count;
                eprintln!(
                    "{}: {} rows, {} invalid",
                    path.display(),
                    report.rows,
                    report.invalid_rows
                );
            }
            Err(FileError::Open(e)) => {
                eprintln!("costwatch import: {}: {e}", path.display());
                return ExitCode::from(EX_NOINPUT);
            }
            Err(FileError::Import(ImportError::Header(errors))) => {
                for e in errors.iter().take(MAX_LISTED_ERRORS - listed) {
                    eprintln!("{}: {}", path.display(), error_line(e));
                }
                listed = (listed + errors.len()).min(MAX_LISTED_ERRORS);
                total_errors += errors.len() as u64;
            }
            Err(FileError::Import(e)) => {
                eprintln!("costwatch import: {}: {e}", path.display());
                return ExitCode::from(EX_NOINPUT);
            }
        }
    }
    if total_errors > 0 {
        let unlisted = total_errors.saturating_sub(listed as u64);
        if unlisted > 0 {
            eprintln!("… and {unlisted} more error(s) not listed");
        }
        eprintln!(
            "costwatch import: {total_errors} error(s); nothing was sent. Fix the rows and run again."
        );
        return ExitCode::from(EX_DATAERR);
    }
    if args.dry_run {
        eprintln!("costwatch import: every row is valid (dry run: nothing was sent)");
        return ExitCode::SUCCESS;
    }

    // Pass 2: send.
    let client = costwatch_providers::sink::client_with_token(args.token.as_deref());
    let url = format!("{}/v1/events", args.server.trim_end_matches('/'));
    for path in &args.files {
        match send_file(
            &client,
            &url,
            &layout,
            path,
            &opts,
            usize::from(args.batch_size),
        )
        .await
        {
            Ok((rows, accepted)) => println!(
                "{}: {rows} rows sent, {accepted} events acknowledged \
                 (charges imported before are acknowledged and not counted again)",
                path.display()
            ),
            Err(message) => {
                eprintln!("costwatch import: {}: {message}", path.display());
                eprintln!(
                    "costwatch import: batches sent before this point were stored; running the \
                     same import again is safe (event ids are derived from the rows)"
                );
                return ExitCode::from(EX_UNAVAILABLE);
            }
        }
    }
    ExitCode::SUCCESS
}

enum FileError {
    Open(std::io::Error),
    Import(ImportError),
}

/// A file opened for one pass, with its progress bar and the count of file bytes read.
struct Opened {
    reader: EventReader<Box<dyn std::io::Read>>,
    bar: ProgressBar,
    bytes: BytesRead,
}

fn open(layout: &Layout, path: &Path, opts: &ImportOptions) -> Result<Opened, FileError> {
    let (input, bytes) = source::open_any(path).map_err(FileError::Open)?;
    let reader =
        EventReader::from_input(layout.clone(), input, opts.clone()).map_err(FileError::Import)?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Opened {
        reader,
        bar: progress(size),
        bytes,
    })
}

/// A byte progress bar on stderr when it is a terminal; hidden otherwise (logs, pipes, tests).
fn progress(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:10} [{bar:40}] {bytes}/{total_bytes} {per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn validate_file(
    layout: &Layout,
    path: &Path,
    opts: &ImportOptions,
    cap: usize,
) -> Result<ValidationReport, FileError> {
    let Opened { reader, bar, bytes } = open(layout, path, opts)?;
    bar.set_message("checking");
    let mut report = ValidationReport::default();
    for outcome in reader {
        report.rows += 1;
        if let Err(errors) = outcome {
            report.invalid_rows += 1;
            report.error_count += errors.len() as u64;
            let room = cap.saturating_sub(report.errors.len());
            report.errors.extend(errors.into_iter().take(room));
        }
        if report.rows & 1023 == 0 {
            bar.set_position(bytes.get());
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

async fn send_file(
    client: &reqwest::Client,
    url: &str,
    layout: &Layout,
    path: &Path,
    opts: &ImportOptions,
    batch_size: usize,
) -> Result<(u64, u64), String> {
    let Opened { reader, bar, bytes } = open(layout, path, opts).map_err(|e| match e {
        FileError::Open(e) => e.to_string(),
        FileError::Import(e) => e.to_string(),
    })?;
    bar.set_message("sending");
    let mut batch: Vec<Value> = Vec::with_capacity(batch_size);
    let mut first_row = 1u64;
    let (mut rows, mut accepted) = (0u64, 0u64);
    for outcome in reader {
        rows += 1;
        match outcome {
            Ok(event) => batch.push(event),
            // The file changed since it was validated.
            Err(errors) => return Err(describe(&errors)),
        }
        if batch.len() == batch_size {
            accepted += send_batch(client, url, std::mem::take(&mut batch), first_row).await?;
            first_row = rows + 1;
            bar.set_position(bytes.get());
        }
    }
    if !batch.is_empty() {
        accepted += send_batch(client, url, batch, first_row).await?;
    }
    bar.finish_and_clear();
    Ok((rows, accepted))
}

fn describe(errors: &[RowError]) -> String {
    let listed: Vec<String> = errors.iter().map(RowError::to_string).collect();
    format!("the file changed after validation: {}", listed.join("; "))
}
