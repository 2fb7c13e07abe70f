//! Detected cost anomalies, the detector's per-series state, and user feedback.
//!
//! Every key starts with the tenant: series state is keyed by `(tenant, series)`, anomalies by
//! `(tenant, id)`, and every query takes the tenant. An anomaly's id is derived from what it is
//! about ([`anomaly_id`]), so re-detecting the same window after a restart stores nothing new.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_analytics::detect::{AnomalyKind, Contributor, Severity};
use costwatch_domain::Currency;
use futures::stream::BoxStream;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The stored state of one series' detector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesState {
    /// The detector, serialised as JSON (`costwatch_analytics::detect::SeriesDetector`).
    pub detector_json: String,
    /// End of the last window pushed into the detector (exclusive): the next window starts here.
    pub processed_until: DateTime<Utc>,
}

/// What a person said about an anomaly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// `true`: the cost was expected (a planned launch, a migration); the detector accepts it.
    pub expected: bool,
    pub note: Option<String>,
    pub by: Option<String>,
    pub at: DateTime<Utc>,
}

/// One detected anomaly of one series, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyRecord {
    /// [`anomaly_id`] of tenant, series, window start and kind.
    pub id: String,
    pub tenant: String,
    /// The series, e.g. `service=ec2|USD` or `total|USD`.
    pub series: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub kind: AnomalyKind,
    pub severity: Severity,
    /// Calibrated score in [0, 1].
    pub score: f64,
    pub currency: Currency,
    pub expected: Decimal,
    pub actual: Decimal,
    /// The band whose breach makes a spike.
    pub lo: Decimal,
    pub hi: Decimal,
    /// Resources ranked by their share of the deviation (at most 5).
    pub root_cause: Vec<Contributor>,
    /// Labels ranked the same way (at most 5).
    pub label_causes: Vec<Contributor>,
    pub detected_at: DateTime<Utc>,
    pub feedback: Option<Feedback>,
}

/// The id of an anomaly: a v5 UUID of what it is about, identical on every instance and run.
pub fn anomaly_id(
    tenant: &str,
    series: &str,
    window_start: DateTime<Utc>,
    kind: AnomalyKind,
) -> String {
    let kind = match kind {
        AnomalyKind::Spike => "spike",
        AnomalyKind::LevelShift => "level_shift",
        AnomalyKind::TrendChange => "trend_change",
        AnomalyKind::UnusualPattern => "unusual_pattern",
    };
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!(
            "costwatch-anomaly\0{tenant}\0{series}\0{}\0{kind}",
            window_start.to_rfc3339()
        )
        .as_bytes(),
    )
    .to_string()
}

#[async_trait]
pub trait AnomalyStore: Send + Sync + 'static {
    /// Every stored series state of a tenant, by series key.
    async fn series_states(&self, tenant: &str) -> Result<Vec<(String, SeriesState)>, StoreError>;

    /// Creates or replaces the states of several series of one tenant, atomically.
    async fn save_series_states(
        &self,
        tenant: &str,
        states: Vec<(String, SeriesState)>,
    ) -> Result<(), StoreError>;

    /// Stores an anomaly unless one with its id exists; `true` when it was new. A new anomaly is
    /// also sent to [`AnomalyStore::subscribe`] subscribers (after it is stored).
    async fn insert_anomaly(&self, anomaly: &AnomalyRecord) -> Result<bool, StoreError>;

    /// A tenant's anomalies whose window starts in `[from, to)`, newest first.
    async fn anomalies(
        &self,
        tenant: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<AnomalyRecord>, StoreError>;

    /// Anomalies of one series of a tenant whose window starts at or after `since`, newest first.
    async fn series_anomalies(
        &self,
        tenant: &str,
        series: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<AnomalyRecord>, StoreError>;

    async fn anomaly(&self, tenant: &str, id: &str) -> Result<Option<AnomalyRecord>, StoreError>;

    /// Records (replaces) the feedback on an anomaly; `None` when the tenant has no such anomaly.
    async fn record_feedback(
        &self,
        tenant: &str,
        id: &str,
        feedback: Feedback,
    ) -> Result<Option<AnomalyRecord>, StoreError>;

    /// New anomalies of every tenant, as they are stored (subscribers filter by tenant).
    fn subscribe(&self) -> BoxStream<'static, AnomalyRecord>;
}
