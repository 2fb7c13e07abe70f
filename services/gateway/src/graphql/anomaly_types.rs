//! GraphQL shapes of detected anomalies (see `costwatch_ports::AnomalyRecord`).

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use costwatch_analytics::detect::{AnomalyKind as Kind, Contributor, Severity};
use costwatch_domain::Currency;
use costwatch_ports::{AnomalyRecord, Feedback};
use serde::Serialize;

use crate::views::{Money, percent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnomalyKind {
    /// One hour far outside the expected band.
    Spike,
    /// The series moved to a new level and stayed there.
    LevelShift,
    /// The series started growing (or shrinking) at a new rate.
    TrendChange,
    /// Several moderately unusual hours close together.
    UnusualPattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnomalySeverity {
    Info,
    Warning,
    Critical,
}

/// One resource or label and its part in the deviation.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyContributor {
    /// `resource=<id>` or `label:<key>=<value>`.
    pub key: String,
    /// Its cost in the anomalous window.
    pub window: Money,
    /// Its baseline cost, scaled to the window's length.
    pub baseline: Money,
    pub delta: Money,
    /// Share of the total deviation in percent (decimal string); null when the total is zero.
    pub share_percent: Option<String>,
}

/// What a person said about an anomaly.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyFeedback {
    /// `true`: the cost was expected; the same kind on the series is not reported for 24 h.
    pub expected: bool,
    pub note: Option<String>,
    pub by: Option<String>,
    pub at: DateTime<Utc>,
}

/// An hour of a cost series outside its expected band, with the resources that explain it.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "Anomaly")]
pub struct AnomalyGql {
    pub id: ID,
    pub tenant: String,
    /// The series: `total|USD`, `category=<c>|USD`, `provider=<p>|USD` or `service=<s>|USD`.
    pub series: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub kind: AnomalyKind,
    pub severity: AnomalySeverity,
    /// Calibrated score in [0, 1] (0.9 ≈ 4.6 robust standard deviations).
    pub score: f64,
    pub expected: Money,
    pub actual: Money,
    /// The band outside which one hour is a spike.
    pub lower: Money,
    pub upper: Money,
    /// Resources ranked by their share of the deviation (at most 5).
    pub root_cause: Vec<AnomalyContributor>,
    /// Labels ranked the same way (at most 5).
    pub label_causes: Vec<AnomalyContributor>,
    pub detected_at: DateTime<Utc>,
    pub feedback: Option<AnomalyFeedback>,
}

fn contributors(list: &[Contributor], currency: Currency) -> Vec<AnomalyContributor> {
    list.iter()
        .map(|c| AnomalyContributor {
            key: c.key.clone(),
            window: Money::new(c.window, currency),
            baseline: Money::new(c.baseline, currency),
            delta: Money::new(c.delta, currency),
            share_percent: percent(c.share_percent),
        })
        .collect()
}

fn feedback(f: Feedback) -> AnomalyFeedback {
    AnomalyFeedback {
        expected: f.expected,
        note: f.note,
        by: f.by,
        at: f.at,
    }
}

impl From<AnomalyRecord> for AnomalyGql {
    fn from(a: AnomalyRecord) -> Self {
        let c = a.currency;
        AnomalyGql {
            id: ID(a.id),
            tenant: a.tenant,
            series: a.series,
            window_start: a.window_start,
            window_end: a.window_end,
            kind: match a.kind {
                Kind::Spike => AnomalyKind::Spike,
                Kind::LevelShift => AnomalyKind::LevelShift,
                Kind::TrendChange => AnomalyKind::TrendChange,
                Kind::UnusualPattern => AnomalyKind::UnusualPattern,
            },
            severity: match a.severity {
                Severity::Info => AnomalySeverity::Info,
                Severity::Warning => AnomalySeverity::Warning,
                Severity::Critical => AnomalySeverity::Critical,
            },
            score: a.score,
            expected: Money::new(a.expected, c),
            actual: Money::new(a.actual, c),
            lower: Money::new(a.lo, c),
            upper: Money::new(a.hi, c),
            root_cause: contributors(&a.root_cause, c),
            label_causes: contributors(&a.label_causes, c),
            detected_at: a.detected_at,
            feedback: a.feedback.map(feedback),
        }
    }
}
