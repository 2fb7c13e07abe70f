//! The prepared statements of the alert store.

use super::*;

pub(super) struct AlertStatements {
    pub(super) insert_budget: PreparedStatement,
    pub(super) select_budget: PreparedStatement,
    pub(super) delete_budget: PreparedStatement,
    pub(super) select_budgets: PreparedStatement,
    pub(super) select_budget_tenants: PreparedStatement,
    pub(super) select_alert: PreparedStatement,
    pub(super) select_alert_version: PreparedStatement,
    pub(super) select_alert_version_serial: PreparedStatement,
    pub(super) select_tenant_alerts: PreparedStatement,
    pub(super) insert_source: PreparedStatement,
    pub(super) select_source: PreparedStatement,
    pub(super) insert_alert: PreparedStatement,
    pub(super) update_alert: PreparedStatement,
    pub(super) insert_outbox: PreparedStatement,
    pub(super) delete_outbox: PreparedStatement,
    pub(super) select_outbox: PreparedStatement,
    pub(super) rules: super::rules::RuleStatements,
}

pub(super) use crate::statements::{conditional, idempotent, prepare};

impl AlertStatements {
    pub(super) async fn prepare(session: &Session, ks: &str) -> Result<AlertStatements, CqlError> {
        let mut select_alert_version_serial = prepare(
            session,
            format!("SELECT version, changes FROM {ks}.alerts WHERE tenant = ? AND id = ?"),
        )
        .await?;
        // A serial read is a Paxos round: it completes (or fences off) an in-flight proposal.
        select_alert_version_serial.set_consistency(Consistency::LocalSerial);
        select_alert_version_serial.set_is_idempotent(true);
        let mut select_tenant_alerts = idempotent(
            session,
            format!("SELECT state, doc FROM {ks}.alerts WHERE tenant = ?"),
        )
        .await?;
        select_tenant_alerts.set_page_size(1000);
        let mut select_outbox = idempotent(
            session,
            format!(
                "SELECT seq, alert_id, tenant, version, event FROM {ks}.alert_outbox WHERE bucket = ?"
            ),
        )
        .await?;
        select_outbox.set_page_size(1000);
        let rules = super::rules::RuleStatements::prepare(session, ks).await?;
        Ok(AlertStatements {
            rules,
            insert_budget: idempotent(
                session,
                format!("INSERT INTO {ks}.budgets (tenant, id, name, doc) VALUES (?, ?, ?, ?)"),
            )
            .await?,
            select_budget: idempotent(
                session,
                format!("SELECT doc FROM {ks}.budgets WHERE tenant = ? AND id = ?"),
            )
            .await?,
            delete_budget: idempotent(
                session,
                format!("DELETE FROM {ks}.budgets WHERE tenant = ? AND id = ?"),
            )
            .await?,
            select_budgets: idempotent(
                session,
                format!("SELECT doc FROM {ks}.budgets WHERE tenant = ?"),
            )
            .await?,
            select_budget_tenants: idempotent(
                session,
                format!("SELECT DISTINCT tenant FROM {ks}.budgets"),
            )
            .await?,
            select_alert: idempotent(
                session,
                format!("SELECT doc FROM {ks}.alerts WHERE tenant = ? AND id = ?"),
            )
            .await?,
            select_alert_version: idempotent(
                session,
                format!("SELECT version, changes FROM {ks}.alerts WHERE tenant = ? AND id = ?"),
            )
            .await?,
            select_alert_version_serial,
            select_tenant_alerts,
            insert_source: idempotent(
                session,
                format!("INSERT INTO {ks}.alerts_by_source (tenant, source, id) VALUES (?, ?, ?)"),
            )
            .await?,
            select_source: idempotent(
                session,
                format!("SELECT id FROM {ks}.alerts_by_source WHERE tenant = ? AND source = ?"),
            )
            .await?,
            insert_alert: conditional(
                session,
                format!(
                    "INSERT INTO {ks}.alerts (tenant, id, source, state, updated_at, version, doc, changes)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
                ),
            )
            .await?,
            update_alert: conditional(
                session,
                format!(
                    "UPDATE {ks}.alerts SET source = ?, state = ?, updated_at = ?, version = ?, doc = ?,
                     changes = ? WHERE tenant = ? AND id = ? IF version = ?"
                ),
            )
            .await?,
            insert_outbox: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.alert_outbox (bucket, seq, event_id, tenant, alert_id, version, event)
                     VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
            )
            .await?,
            delete_outbox: idempotent(
                session,
                format!("DELETE FROM {ks}.alert_outbox WHERE bucket = ? AND seq = ?"),
            )
            .await?,
            select_outbox,
        })
    }
}
