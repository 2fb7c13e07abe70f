//! Scheduled import of billing files dropped into a folder (`import_dir` in `costwatch up`).
//!
//! Layout: `<import_dir>/<tenant>/<file>`; the sub-folder's name is the tenant (a name that is
//! not a valid tenant id is reported once and its files are left alone). Every
//! `import_scan_secs`, each regular file directly inside a tenant folder is imported, except
//! names starting with `.` and files modified in the last 2 s (still being written). The format
//! is recognised from the header: read as FOCUS, and if that header is not usable, as CUR, and
//! then — when the tenant folder holds a `.mapping.toml` (a custom provider's column mapping, as
//! for `costwatch import mapped`) — through that mapping. A broken mapping fails the files that
//! need it, naming the mapping's key, and is read again at the next scan once fixed.
//!
//! Same two passes as `costwatch import`: the file is validated in full (constant memory), and
//! only if every row is valid it is read again and its events are handed in batches to the
//! in-process [`Ingestor`]. Then the file moves to `<tenant>/done/`. An invalid file, or one
//! whose batch the ingest refuses, moves to `<tenant>/failed/` with `<name>.errors.txt` (the
//! lines `costwatch import` prints). When the events cannot be stored (bus unavailable) or the
//! platform stops mid-file, the file stays where it is and the next scan sends it again.
//!
//! A file is moved only after all its batches were accepted, so a crash mid-file leaves it in
//! place and it is sent again from the start. That is safe: event ids are derived from each
//! row's charge identity, so the batches already stored carry the same ids the second time and
//! the aggregator does not count them twice (the same holds for a file dropped twice, or an
//! export overlapping an earlier one).

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use costwatch_billing_import::source;
use costwatch_billing_import::{
    EventReader, Format, ImportError, ImportOptions, Layout, Mapping, RowError, ValidationReport,
};
use costwatch_collector::{IngestError, Ingestor};
use costwatch_domain::TenantId;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// Errors listed (in `costwatch import`'s output and in `.errors.txt`) before the rest are only
/// counted.
pub const MAX_LISTED_ERRORS: usize = 100;
/// Files modified more recently than this are still being written.
const SETTLE: Duration = Duration::from_secs(2);
/// Events per ingest call (at most the ingest limit).
const BATCH: usize = 1000;
/// A tenant folder's custom column mapping (hidden, so it is never taken for a billing file).
pub const MAPPING_FILE: &str = ".mapping.toml";

/// One problem as `costwatch import` prints it after the file name: `row 3 (line 4), column
/// BilledCost: …`, or `header: Column: reason` for a header problem.
pub fn error_line(e: &RowError) -> String {
    if e.row == 0 {
        format!("header: {}: {}", e.column, e.reason)
    } else {
        e.to_string()
    }
}

/// The tenant folders of `dir` (hidden ones skipped), each with its tenant or why its name is
/// not a tenant id.
pub fn tenant_folders(dir: &Path) -> std::io::Result<Vec<(PathBuf, Result<TenantId, String>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || !entry.file_type()?.is_dir() {
            continue;
        }
        let tenant = match name.to_str() {
            Some(n) => TenantId::parse(n),
            None => Err("is not valid UTF-8".into()),
        };
        out.push((entry.path(), tenant));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Scans `dir` every `every` until `shutdown` turns true.
pub async fn run(
    dir: PathBuf,
    every: Duration,
    ingestor: Arc<Ingestor>,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(dir = %dir.display(), every_secs = every.as_secs(), "watching for billing files");
    let handle = Handle::current();
    let mut reported = HashSet::new();
    loop {
        let (d, i, h, s) = (
            dir.clone(),
            ingestor.clone(),
            handle.clone(),
            shutdown.clone(),
        );
        let scan = tokio::task::spawn_blocking(move || {
            scan(&d, &i, &h, &s, &mut reported);
            reported
        });
        reported = scan.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "import scan failed");
            HashSet::new()
        });
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            changed = shutdown.changed() => if changed.is_err() { return },
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// One scan (blocking: file I/O; ingest calls run on `handle`). Folders with bad names are
/// reported once per process (`reported`).
fn scan(
    dir: &Path,
    ingestor: &Ingestor,
    handle: &Handle,
    stop: &watch::Receiver<bool>,
    reported: &mut HashSet<PathBuf>,
) {
    let folders = match tenant_folders(dir) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot list the import folder");
            return;
        }
    };
    for (folder, tenant) in folders {
        let tenant = match tenant {
            Ok(t) => t,
            Err(reason) => {
                if reported.insert(folder.clone()) {
                    tracing::warn!(folder = %folder.display(), %reason,
                        "import folder name is not a tenant id; its files are not imported");
                }
                continue;
            }
        };
        let files = match settled_files(&folder) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(folder = %folder.display(), error = %e, "cannot list import folder");
                continue;
            }
        };
        for file in files {
            if *stop.borrow() {
                return;
            }
            process(&folder, &file, &tenant, ingestor, handle, stop);
        }
    }
}

/// Regular files of a tenant folder, not hidden, not modified in the last [`SETTLE`].
fn settled_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let now = SystemTime::now();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        let modified = entry.metadata()?.modified()?;
        // Either way round, so a clock slightly ahead on a network share still counts as fresh.
        let age = now
            .duration_since(modified)
            .or_else(|_| modified.duration_since(now))
            .unwrap_or_default();
        if age >= SETTLE {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

enum Outcome {
    Done {
        rows: u64,
        events: u64,
    },
    Failed {
        rows: u64,
        lines: Vec<String>,
    },
    /// Left in place for the next scan.
    Retry(String),
}

fn stopping() -> Outcome {
    Outcome::Retry("the platform is stopping".into())
}

/// Imports one file, moves it and logs the outcome.
fn process(
    folder: &Path,
    path: &Path,
    tenant: &TenantId,
    ingestor: &Ingestor,
    handle: &Handle,
    stop: &watch::Receiver<bool>,
) {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut job = Job {
        path,
        name: &name,
        ingestor,
        handle,
        stop,
        format: None,
        mapping: folder.join(MAPPING_FILE),
    };
    let outcome = job.import(tenant).unwrap_or_else(|o| o);
    let format = job.format.as_ref().map_or("unknown", Layout::as_str);
    let (file, tenant) = (path.display(), tenant.as_str());
    match outcome {
        Outcome::Done { rows, events } => match move_to(path, &folder.join("done")) {
            Ok(to) => tracing::info!(%file, tenant, format, rows, events, outcome = "done",
                moved_to = %to.display(), "billing file imported"),
            Err(e) => tracing::error!(%file, tenant, format, rows, events, outcome = "done",
                error = %e, "billing file imported but not moved; the next scan sends it again"),
        },
        Outcome::Failed { rows, lines } => {
            let moved = move_to(path, &folder.join("failed")).and_then(|to| {
                let mut errors: OsString = to.clone().into_os_string();
                errors.push(".errors.txt");
                std::fs::write(&errors, lines.join("\n") + "\n").map(|()| to)
            });
            let first = lines.first().map(String::as_str).unwrap_or_default();
            match moved {
                Ok(to) => tracing::warn!(%file, tenant, format, rows, events = 0u64,
                    outcome = "failed", moved_to = %to.display(), first, "billing file rejected"),
                Err(e) => tracing::error!(%file, tenant, format, rows, outcome = "failed", first,
                    error = %e, "billing file rejected but not moved to failed/"),
            }
        }
        Outcome::Retry(reason) => tracing::warn!(%file, tenant, format, outcome = "retry",
            %reason, "billing file left in place for the next scan"),
    }
}

/// One file being imported.
struct Job<'a> {
    path: &'a Path,
    name: &'a str,
    ingestor: &'a Ingestor,
    handle: &'a Handle,
    stop: &'a watch::Receiver<bool>,
    /// Known once the header was read.
    format: Option<Layout>,
    /// The tenant folder's mapping file, used when it exists.
    mapping: PathBuf,
}

type Reader = EventReader<Box<dyn std::io::Read>>;

impl Job<'_> {
    /// Both passes; `Err` is an outcome reached before the end.
    fn import(&mut self, tenant: &TenantId) -> Result<Outcome, Outcome> {
        let opts = ImportOptions::for_tenant(tenant.clone());
        let (format, reader) = self.open_detected(&opts)?;
        self.format = Some(format.clone());
        self.validate(reader)?;
        // Pass 2: send, in batches of at most the ingest limit.
        let mut reader = self.open(format, &opts)?.peekable();
        let size = self.ingestor.limits().max_batch_events.clamp(1, BATCH);
        let mut batch: Vec<Value> = Vec::with_capacity(size);
        let (mut rows, mut events) = (0u64, 0u64);
        while let Some(outcome) = reader.next() {
            rows += 1;
            batch.push(outcome.map_err(|errors| {
                let mut lines = vec![format!("{}: the file changed after validation", self.name)];
                lines.extend(
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", self.name, error_line(e))),
                );
                Outcome::Failed { rows, lines }
            })?);
            if batch.len() == size || reader.peek().is_none() {
                events += self.send(&batch, rows + 1 - batch.len() as u64)?;
                batch.clear();
            }
        }
        Ok(Outcome::Done { rows, events })
    }

    /// Opens the file as FOCUS, else as CUR, else through the folder's mapping; the header
    /// problems of each when none fits.
    fn open_detected(&self, opts: &ImportOptions) -> Result<(Layout, Reader), Outcome> {
        let name = self.name;
        let mut layouts = vec![Layout::from(Format::Focus), Layout::from(Format::Cur)];
        let mut lines = vec![format!("{name}: the header is neither FOCUS nor CUR")];
        if self.mapping.is_file() {
            lines[0] =
                format!("{name}: the header is neither FOCUS nor CUR nor fits {MAPPING_FILE}");
            match Mapping::load(&self.mapping) {
                Ok(m) => layouts.push(Layout::Mapped(Arc::new(m))),
                Err(e) => lines.push(format!("{name}: {MAPPING_FILE}: {e}")),
            }
        }
        for layout in layouts {
            let opened = source::open_any(self.path)
                .map_err(ImportError::Io)
                .and_then(|(input, _)| {
                    EventReader::from_input(layout.clone(), input, opts.clone())
                });
            match opened {
                Ok(reader) => return Ok((layout, reader)),
                Err(ImportError::Header(errors)) => lines.extend(
                    errors
                        .iter()
                        .map(|e| format!("{name}: as {}: {}", layout.as_str(), error_line(e))),
                ),
                Err(e) => return Err(self.unreadable(e)),
            }
        }
        Err(Outcome::Failed { rows: 0, lines })
    }

    fn open(&self, layout: Layout, opts: &ImportOptions) -> Result<Reader, Outcome> {
        let (input, _) = source::open_any(self.path).map_err(|e| self.unreadable(e.into()))?;
        EventReader::from_input(layout, input, opts.clone()).map_err(|e| self.unreadable(e))
    }

    /// A file that cannot be opened (it vanished, a disk error) is retried; one that is not
    /// readable as a billing file (corrupt Parquet) will not get better.
    fn unreadable(&self, e: ImportError) -> Outcome {
        match e {
            ImportError::Io(e) => Outcome::Retry(e.to_string()),
            e => Outcome::Failed {
                rows: 0,
                lines: vec![format!("{}: {e}", self.name)],
            },
        }
    }

    /// Pass 1: every row, in constant memory; nothing is sent.
    fn validate(&self, reader: Reader) -> Result<(), Outcome> {
        let mut report = ValidationReport::default();
        for outcome in reader {
            report.rows += 1;
            if report.rows % 4096 == 0 && *self.stop.borrow() {
                return Err(stopping());
            }
            if let Err(errors) = outcome {
                report.invalid_rows += 1;
                report.error_count += errors.len() as u64;
                let room = MAX_LISTED_ERRORS.saturating_sub(report.errors.len());
                report.errors.extend(errors.into_iter().take(room));
            }
        }
        if report.is_valid() {
            return Ok(());
        }
        let name = self.name;
        let mut lines: Vec<String> = report
            .errors
            .iter()
            .map(|e| format!("{name}: {}", error_line(e)))
            .collect();
        let unlisted = report
            .error_count
            .saturating_sub(report.errors.len() as u64);
        if unlisted > 0 {
            lines.push(format!("… and {unlisted} more error(s) not listed"));
        }
        lines.push(format!(
            "{name}: {} rows, {} invalid",
            report.rows, report.invalid_rows
        ));
        Err(Outcome::Failed {
            rows: report.rows,
            lines,
        })
    }

    /// Hands one batch (rows `first_row`…) to the ingestor; returns the events accepted.
    fn send(&self, batch: &[Value], first_row: u64) -> Result<u64, Outcome> {
        if *self.stop.borrow() {
            return Err(stopping());
        }
        let (name, rows) = (self.name, first_row - 1 + batch.len() as u64);
        match self
            .handle
            .block_on(self.ingestor.ingest(batch, Utc::now()))
        {
            Ok(receipt) => Ok(receipt.accepted as u64),
            Err(IngestError::Bus(e)) => Err(Outcome::Retry(e.to_string())),
            Err(IngestError::Invalid(fields)) => Err(Outcome::Failed {
                rows,
                lines: (fields.iter())
                    .map(|f| {
                        let row = first_row + f.index as u64;
                        format!(
                            "{name}: row {row}, field {}: {} (refused)",
                            f.field, f.reason
                        )
                    })
                    .collect(),
            }),
            Err(e) => Err(Outcome::Failed {
                rows,
                lines: vec![format!("{name}: rows from {first_row}: {e}")],
            }),
        }
    }
}

/// Moves `path` into `to_dir` under its own name, or with a timestamp before its extension
/// when that name is taken.
fn move_to(path: &Path, to_dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(to_dir)?;
    let name = path.file_name().unwrap_or_default();
    let mut dest = to_dir.join(name);
    if dest.exists() {
        let name = name.to_string_lossy();
        let (stem, ext) = match name.split_once('.') {
            Some((stem, ext)) => (stem, format!(".{ext}")),
            None => (name.as_ref(), String::new()),
        };
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        dest = to_dir.join(format!("{stem}.{stamp}{ext}"));
        let mut n = 1;
        while dest.exists() {
            dest = to_dir.join(format!("{stem}.{stamp}-{n}{ext}"));
            n += 1;
        }
    }
    std::fs::rename(path, &dest)?;
    Ok(dest)
}
