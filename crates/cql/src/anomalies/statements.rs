//! The prepared statements of the anomaly store.

use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;

use crate::CqlError;

use crate::statements::{conditional, idempotent};

pub(super) struct AnomalyStatements {
    pub(super) select_series: PreparedStatement,
    pub(super) upsert_series: PreparedStatement,
    pub(super) insert_anomaly: PreparedStatement,
    pub(super) select_anomaly: PreparedStatement,
    pub(super) insert_by_day: PreparedStatement,
    pub(super) insert_day: PreparedStatement,
    pub(super) select_days: PreparedStatement,
    pub(super) select_by_day: PreparedStatement,
    pub(super) insert_by_series: PreparedStatement,
    pub(super) select_by_series: PreparedStatement,
    pub(super) upsert_feedback: PreparedStatement,
    pub(super) select_feedback: PreparedStatement,
}

impl AnomalyStatements {
    pub(super) async fn prepare(
        session: &Session,
        ks: &str,
    ) -> Result<AnomalyStatements, CqlError> {
        let mut select_series = idempotent(
            session,
            format!(
                "SELECT series, processed_until, detector FROM {ks}.anomaly_series WHERE tenant = ?"
            ),
        )
        .await?;
        // Detector documents are a few KB each: modest pages.
        select_series.set_page_size(200);
        let mut select_by_series = idempotent(
            session,
            format!(
                "SELECT doc FROM {ks}.anomalies_by_series \
                 WHERE tenant = ? AND series = ? AND window_start >= ?"
            ),
        )
        .await?;
        select_by_series.set_page_size(500);
        let mut select_days = idempotent(
            session,
            format!("SELECT day FROM {ks}.anomaly_days WHERE tenant = ? AND day >= ? AND day <= ?"),
        )
        .await?;
        select_days.set_page_size(1000);
        Ok(AnomalyStatements {
            select_series,
            select_by_series,
            select_days,
            upsert_series: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.anomaly_series (tenant, series, processed_until, detector) \
                     VALUES (?, ?, ?, ?)"
                ),
            )
            .await?,
            insert_anomaly: conditional(
                session,
                format!(
                    "INSERT INTO {ks}.anomalies (tenant, id, series, window_start, doc) \
                     VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
                ),
            )
            .await?,
            select_anomaly: idempotent(
                session,
                format!("SELECT doc FROM {ks}.anomalies WHERE tenant = ? AND id = ?"),
            )
            .await?,
            insert_by_day: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.anomalies_by_day (tenant, day, window_start, id, doc) \
                     VALUES (?, ?, ?, ?, ?)"
                ),
            )
            .await?,
            insert_day: idempotent(
                session,
                format!("INSERT INTO {ks}.anomaly_days (tenant, day) VALUES (?, ?)"),
            )
            .await?,
            select_by_day: idempotent(
                session,
                format!(
                    "SELECT doc FROM {ks}.anomalies_by_day WHERE tenant = ? AND day = ? \
                     AND window_start >= ? AND window_start < ? LIMIT ?"
                ),
            )
            .await?,
            insert_by_series: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.anomalies_by_series (tenant, series, window_start, id, doc) \
                     VALUES (?, ?, ?, ?, ?)"
                ),
            )
            .await?,
            upsert_feedback: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.anomaly_feedback (tenant, id, feedback) VALUES (?, ?, ?)"
                ),
            )
            .await?,
            select_feedback: idempotent(
                session,
                format!("SELECT feedback FROM {ks}.anomaly_feedback WHERE tenant = ? AND id = ?"),
            )
            .await?,
        })
    }
}
