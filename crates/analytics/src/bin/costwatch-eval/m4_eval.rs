//! M4 Hourly: hold out the last 48 points of each training series, forecast them.

use std::path::Path;
use std::time::Instant;

use costwatch_analytics::forecast::{Method, forecast, mase, smape};

pub const HORIZON: usize = 48;
pub const SEASON: usize = 24;

/// Series of the M4 wide CSV: a quoted header, then `"id","v1","v2",…` right-padded with
/// empty fields.
fn load(path: &Path, limit: Option<usize>) -> Result<Vec<(String, Vec<f64>)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (line_no, line) in text.lines().enumerate().skip(1) {
        let mut fields = line.split(',').map(|f| f.trim().trim_matches('"'));
        let id = fields.next().unwrap_or_default().to_string();
        let values = fields
            .filter(|f| !f.is_empty())
            .map(|f| {
                f.parse::<f64>()
                    .map_err(|e| format!("line {}: {f}: {e}", line_no + 1))
            })
            .collect::<Result<Vec<f64>, String>>()?;
        out.push((id, values));
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    Ok(out)
}

struct Row {
    name: String,
    series: usize,
    mase: f64,
    smape: f64,
    coverage95: Option<f64>,
    cpu: f64,
}

pub fn run(path: &Path, limit: Option<usize>, statsforecast: Option<&Path>) -> Result<(), String> {
    let data = load(path, limit)?;
    println!(
        "\n## M4 Hourly ({} series, horizon {HORIZON}, season {SEASON})\n",
        data.len()
    );
    let mut rows = Vec::new();
    for method in [
        Method::SeasonalNaive,
        Method::LinearTrend,
        Method::HoltWinters,
        Method::Ensemble,
    ] {
        let start = Instant::now();
        let cpu0 = crate::cpu_seconds(start);
        let (mut m_sum, mut s_sum, mut c_sum, mut n, mut failed) = (0.0, 0.0, 0.0, 0usize, 0usize);
        for (id, y) in &data {
            if y.len() <= HORIZON + 2 * SEASON {
                failed += 1;
                continue;
            }
            let (train, test) = y.split_at(y.len() - HORIZON);
            let scored = forecast(train, Some(SEASON), HORIZON, method).and_then(|f| {
                let m = mase(test, &f.point, train, SEASON)?;
                let s = smape(test, &f.point)?;
                let inside = test
                    .iter()
                    .enumerate()
                    .filter(|(h, v)| f.lo95[*h] <= **v && **v <= f.hi95[*h]);
                Ok((m, s, inside.count() as f64 / HORIZON as f64))
            });
            match scored {
                Ok((m, s, c)) => {
                    m_sum += m;
                    s_sum += s;
                    c_sum += c;
                    n += 1;
                }
                Err(e) => {
                    eprintln!("{id} {}: {e}", method.name());
                    failed += 1;
                }
            }
        }
        let cpu = crate::cpu_seconds(start) - cpu0;
        if failed > 0 {
            eprintln!("{}: {failed} series skipped", method.name());
        }
        let n_f = n.max(1) as f64;
        rows.push(Row {
            name: format!("costwatch {}", method.name()),
            series: n,
            mase: m_sum / n_f,
            smape: s_sum / n_f,
            coverage95: Some(c_sum / n_f),
            cpu,
        });
    }
    if let Some(json) = statsforecast {
        rows.extend(reference_rows(json)?);
    }
    println!("| method | series | mean MASE | mean sMAPE (%) | 95% PI coverage | CPU s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let cov = r
            .coverage95
            .map_or("–".to_string(), |c| format!("{:.1}%", 100.0 * c));
        println!(
            "| {} | {} | {:.3} | {:.2} | {cov} | {:.1} |",
            r.name, r.series, r.mase, r.smape, r.cpu
        );
    }
    Ok(())
}

/// Rows written by `eval/statsforecast_m4.py` (same hold-out and metrics).
fn reference_rows(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{}: not a JSON object", path.display()))?;
    let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64);
    Ok(obj
        .iter()
        .map(|(name, v)| Row {
            name: name.clone(),
            series: num(v, "series").unwrap_or(0.0) as usize,
            mase: num(v, "mase").unwrap_or(f64::NAN),
            smape: num(v, "smape").unwrap_or(f64::NAN),
            coverage95: num(v, "coverage95"),
            cpu: num(v, "cpu_seconds").unwrap_or(f64::NAN),
        })
        .collect())
}
