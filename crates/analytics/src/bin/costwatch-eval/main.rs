//! costwatch-eval: measures the analytics crate on public benchmarks.
//!
//! - `nab`: runs [`SeriesDetector`] in streaming mode over every NAB series in the data folder,
//!   turns its output into detections and scores them with NAB's three profiles.
//! - `m4`: forecasts the M4 Hourly training series (last 48 points held out, season 24) with
//!   each method and prints mean MASE, sMAPE, 95% interval coverage and CPU time.
//!
//! Usage: `costwatch-eval [nab|m4|all] [--nab DIR] [--m4 FILE] [--statsforecast JSON]
//! [--limit N]`. Paths default to `$COSTWATCH_NAB_DIR` / `$COSTWATCH_M4_FILE`, then to
//! `../shared/data/nab` and `../shared/data/m4/Hourly-train.csv` relative to the repository
//! root. This binary is the crate's only I/O.

mod m4_eval;
mod nab_eval;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[cfg(doc)]
use costwatch_analytics::SeriesDetector;

struct Args {
    what: String,
    nab: PathBuf,
    m4: PathBuf,
    statsforecast: Option<PathBuf>,
    limit: Option<usize>,
}

/// `rel` under the repository root: the working directory when run from the root (as `cargo
/// run` is), else found from this crate's manifest directory.
fn default_path(env: &str, rel: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let from_cwd = PathBuf::from(rel);
    if from_cwd.exists() {
        return from_cwd;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        what: "all".to_string(),
        nab: default_path("COSTWATCH_NAB_DIR", "../shared/data/nab"),
        m4: default_path("COSTWATCH_M4_FILE", "../shared/data/m4/Hourly-train.csv"),
        statsforecast: std::env::var_os("COSTWATCH_STATSFORECAST_JSON").map(PathBuf::from),
        limit: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "nab" | "m4" | "all" => args.what = arg,
            "--nab" => args.nab = PathBuf::from(value("--nab")?),
            "--m4" => args.m4 = PathBuf::from(value("--m4")?),
            "--statsforecast" => {
                args.statsforecast = Some(PathBuf::from(value("--statsforecast")?))
            }
            "--limit" => {
                let v = value("--limit")?;
                args.limit = Some(v.parse().map_err(|e| format!("--limit {v}: {e}"))?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Process CPU seconds (user + system) from /proc/self/stat; wall-clock seconds since `start`
/// where /proc is unavailable. Ticks are assumed at the Linux default of 100 Hz.
pub(crate) fn cpu_seconds(start: Instant) -> f64 {
    let from_proc = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        });
    from_proc.unwrap_or_else(|| start.elapsed().as_secs_f64())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("costwatch-eval: {e}");
            return ExitCode::from(2);
        }
    };
    let mut ok = true;
    if (args.what == "nab" || args.what == "all")
        && let Err(e) = nab_eval::run(&args.nab)
    {
        eprintln!("costwatch-eval nab ({}): {e}", args.nab.display());
        ok = false;
    }
    if (args.what == "m4" || args.what == "all")
        && let Err(e) = m4_eval::run(&args.m4, args.limit, args.statsforecast.as_deref())
    {
        eprintln!("costwatch-eval m4 ({}): {e}", args.m4.display());
        ok = false;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
