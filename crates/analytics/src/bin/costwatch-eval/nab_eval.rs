//! NAB: stream every series through the detector, score detections with NAB's profiles.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDateTime;
use costwatch_analytics::nab::{CorpusScore, Profile, Window, score_file};
use costwatch_analytics::{DetectorConfig, SeriesDetector};

/// A detector variant: its label and its configuration for a given daily period.
type Variant = (&'static str, fn(usize) -> DetectorConfig);

struct Series {
    name: String,
    timestamps: Vec<NaiveDateTime>,
    values: Vec<f64>,
    windows: Vec<Window>,
}

/// What one detector variant produced on one series.
struct Output {
    scores: Vec<f64>,
    /// Indices at which an anomaly was confirmed (the detection time, as NAB is real-time).
    alarms: Vec<usize>,
    /// The highest anomaly score confirmed at each alarm index.
    alarm_scores: Vec<f64>,
    /// Anomalies by kind.
    kinds: BTreeMap<String, usize>,
}

fn parse_ts(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").map_err(|e| format!("{s}: {e}"))
}

fn load(dir: &Path) -> Result<Vec<Series>, String> {
    let labels = dir.join("labels/combined_windows.json");
    let text =
        std::fs::read_to_string(&labels).map_err(|e| format!("{}: {e}", labels.display()))?;
    let windows: BTreeMap<String, Vec<[String; 2]>> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", labels.display()))?;
    let mut out = Vec::new();
    for (name, spans) in windows {
        let path = dir.join("data").join(&name);
        let csv = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (mut timestamps, mut values) = (Vec::new(), Vec::new());
        for (n, line) in csv.lines().enumerate().skip(1) {
            let (ts, v) = line
                .split_once(',')
                .ok_or_else(|| format!("{name}:{}: no comma", n + 1))?;
            timestamps.push(parse_ts(ts)?);
            values.push(
                v.trim()
                    .parse::<f64>()
                    .map_err(|e| format!("{name}:{}: {v}: {e}", n + 1))?,
            );
        }
        let mut ws = Vec::new();
        for [start, end] in spans {
            let (start, end) = (parse_ts(&start)?, parse_ts(&end)?);
            let first = timestamps.partition_point(|t| *t < start);
            let last = timestamps.partition_point(|t| *t <= end);
            if last > first {
                ws.push(Window {
                    start: first,
                    end: last - 1,
                });
            }
        }
        out.push(Series {
            name,
            timestamps,
            values,
            windows: ws,
        });
    }
    Ok(out)
}

/// Samples per day from the median spacing (1 = no usable daily period).
fn daily_period(ts: &[NaiveDateTime]) -> usize {
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| (w[1] - w[0]).num_seconds()).collect();
    gaps.sort_unstable();
    let gap = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    if gap <= 0 {
        return 1;
    }
    let period = (86_400 / gap) as usize;
    if period >= 2 && period * 3 <= ts.len() {
        period
    } else {
        1
    }
}

fn run_detector(s: &Series, config: DetectorConfig) -> Result<Output, String> {
    let mut d = SeriesDetector::new(config).map_err(|e| e.to_string())?;
    let mut out = Output {
        scores: Vec::with_capacity(s.values.len()),
        alarms: Vec::new(),
        alarm_scores: Vec::new(),
        kinds: BTreeMap::new(),
    };
    for (i, (t, v)) in s.timestamps.iter().zip(&s.values).enumerate() {
        let p = d
            .push(t.and_utc(), *v)
            .map_err(|e| format!("{} point {i}: {e}", s.name))?;
        out.scores.push(p.score);
        if !p.anomalies.is_empty() {
            out.alarms.push(i);
            out.alarm_scores
                .push(p.anomalies.iter().map(|a| a.score).fold(0.0, f64::max));
        }
        for a in &p.anomalies {
            *out.kinds.entry(format!("{:?}", a.kind)).or_default() += 1;
        }
    }
    Ok(out)
}

fn corpus(
    data: &[Series],
    detections: &[Vec<usize>],
    profile: &Profile,
) -> Result<CorpusScore, String> {
    let mut c = CorpusScore::default();
    for (s, det) in data.iter().zip(detections) {
        let f = score_file(s.values.len(), &s.windows, det, profile)
            .map_err(|e| format!("{}: {e}", s.name))?;
        c.add(&f, profile);
    }
    Ok(c)
}

/// Thresholds NAB-style optimisation tries on the alarms' scores.
const SWEEP: [f64; 9] = [0.0, 0.5, 0.8, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999];

/// Best normalised score per profile over `SWEEP`, keeping only alarms whose score reaches the
/// threshold (NAB optimises each detector's threshold per profile the same way).
fn print_swept(name: &str, data: &[Series], outputs: &[Output]) -> Result<(), String> {
    let mut cells = Vec::new();
    for profile in Profile::ALL {
        let mut best: Option<(f64, f64)> = None;
        for threshold in SWEEP {
            let det: Vec<Vec<usize>> = outputs
                .iter()
                .map(|o| {
                    o.alarms
                        .iter()
                        .zip(&o.alarm_scores)
                        .filter(|(_, s)| **s >= threshold)
                        .map(|(i, _)| *i)
                        .collect()
                })
                .collect();
            if let Some(v) = corpus(data, &det, &profile)?.normalized()
                && best.is_none_or(|(b, _)| v > b)
            {
                best = Some((v, threshold));
            }
        }
        cells.push(best.map_or("–".to_string(), |(v, t)| format!("{v:.1} (≥ {t})")));
    }
    println!("| {name} | {} | | | |", cells.join(" | "));
    Ok(())
}

fn print_row(name: &str, data: &[Series], detections: &[Vec<usize>]) -> Result<(), String> {
    let mut cells = Vec::new();
    let mut counts = (0, 0, 0);
    for profile in Profile::ALL {
        let c = corpus(data, detections, &profile)?;
        cells.push(
            c.normalized()
                .map_or("–".to_string(), |v| format!("{v:.1}")),
        );
        if profile == Profile::STANDARD {
            counts = (c.true_positives, c.false_positives, c.false_negatives);
        }
    }
    println!(
        "| {name} | {} | {} | {} | {} |",
        cells.join(" | "),
        counts.0,
        counts.1,
        counts.2
    );
    Ok(())
}

pub fn run(dir: &Path) -> Result<(), String> {
    let data = load(dir)?;
    let windows: usize = data.iter().map(|s| s.windows.len()).sum();
    let points: usize = data.iter().map(|s| s.values.len()).sum();
    println!(
        "\n## NAB ({} series, {points} points, {windows} windows)\n",
        data.len()
    );
    // Library defaults (warm-up shortened to one cycle: some series are only 4 days long),
    // and one variant tuned by hand on this development part of NAB — so its numbers are
    // optimistic for unseen series.
    let variants: [Variant; 3] = [
        ("defaults, daily season", |period| {
            let mut c = DetectorConfig::with_period(period);
            c.warmup_cycles = 1;
            c
        }),
        ("defaults, no season", |_| {
            let mut c = DetectorConfig::with_period(1);
            c.cycles = 32;
            c
        }),
        ("tuned on NAB dev, no season", |_| {
            let mut c = DetectorConfig::with_period(1);
            c.cycles = 32;
            c.cusum_h = 40.0;
            c.cooldown = 144;
            c.alert_score = 0.99;
            c
        }),
    ];
    let mut kind_lines = Vec::new();
    println!("| detector | standard | reward_low_FP | reward_low_FN | TP | FP | FN |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, make) in variants {
        let start = Instant::now();
        let cpu0 = crate::cpu_seconds(start);
        let outputs = data
            .iter()
            .map(|s| run_detector(s, make(daily_period(&s.timestamps))))
            .collect::<Result<Vec<Output>, String>>()?;
        let cpu = crate::cpu_seconds(start) - cpu0;
        let alarms: Vec<Vec<usize>> = outputs.iter().map(|o| o.alarms.clone()).collect();
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for o in &outputs {
            for (k, n) in &o.kinds {
                *kinds.entry(k.clone()).or_default() += n;
            }
        }
        kind_lines.push(format!("- {label}: alarms by kind {kinds:?}"));
        print_row(
            &format!("costwatch, {label}: alarms ({cpu:.1} CPU s)"),
            &data,
            &alarms,
        )?;
        print_swept(
            &format!("costwatch, {label}: alarms, threshold optimised per profile"),
            &data,
            &outputs,
        )?;
        for threshold in [0.99, 0.999] {
            let det: Vec<Vec<usize>> = outputs
                .iter()
                .map(|o| {
                    o.scores
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| **s >= threshold)
                        .map(|(i, _)| i)
                        .collect()
                })
                .collect();
            print_row(
                &format!("costwatch, {label}: score ≥ {threshold}"),
                &data,
                &det,
            )?;
        }
    }
    let none: Vec<Vec<usize>> = data.iter().map(|_| Vec::new()).collect();
    print_row("null (never fires)", &data, &none)?;
    let perfect: Vec<Vec<usize>> = data
        .iter()
        .map(|s| s.windows.iter().map(|w| w.start).collect())
        .collect();
    print_row("perfect (every window's left edge)", &data, &perfect)?;
    println!("\nTP/FP/FN under the standard profile.\n");
    for line in kind_lines {
        println!("{line}");
    }
    Ok(())
}
