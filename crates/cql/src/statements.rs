//! Every statement the store runs, prepared once per session (prepared statements are routed
//! token-aware by the driver and skip re-parsing on the server).

use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};

use crate::CqlError;

pub struct Statements {
    pub select_position: PreparedStatement,
    pub insert_position: PreparedStatement,
    pub update_position: PreparedStatement,
    pub insert_record_part: PreparedStatement,
    pub select_record: PreparedStatement,
    pub select_counted: PreparedStatement,
    pub insert_counted: PreparedStatement,
    pub select_meter: PreparedStatement,
    pub insert_meter: PreparedStatement,
    pub select_cell: PreparedStatement,
    pub insert_cell: PreparedStatement,
    pub select_cells: PreparedStatement,
    pub insert_tenant: PreparedStatement,
    pub select_tenants: PreparedStatement,
    pub insert_dead_letter: PreparedStatement,
    pub insert_dead_letter_month: PreparedStatement,
    pub select_dead_letter_months: PreparedStatement,
    pub select_dead_letters: PreparedStatement,
}

/// Plain reads and upserts: quorum in the local data centre, safe to retry.
pub(crate) async fn idempotent(
    session: &Session,
    cql: String,
) -> Result<PreparedStatement, CqlError> {
    let mut p = prepare(session, cql).await?;
    p.set_consistency(Consistency::LocalQuorum);
    p.set_is_idempotent(true);
    Ok(p)
}

/// Lightweight transactions: Paxos in the local data centre; never retried blindly (a retry
/// of a compare-and-set that did apply would report "not applied").
pub(crate) async fn conditional(
    session: &Session,
    cql: String,
) -> Result<PreparedStatement, CqlError> {
    let mut p = prepare(session, cql).await?;
    p.set_consistency(Consistency::LocalQuorum);
    p.set_serial_consistency(Some(SerialConsistency::LocalSerial));
    p.set_is_idempotent(false);
    Ok(p)
}

pub(crate) async fn prepare(session: &Session, cql: String) -> Result<PreparedStatement, CqlError> {
    session
        .prepare(cql.as_str())
        .await
        .map_err(|e| CqlError::Prepare {
            reason: format!("{e} (has `costwatch migrate --target distributed` run?)"),
            statement: cql,
        })
}

impl Statements {
    pub async fn prepare(session: &Session, ks: &str) -> Result<Statements, CqlError> {
        const CELL_KEY: &str = "tenant = ? AND granularity = ? AND period = ? AND bucket = ? AND category = ?
             AND sub_kind = ? AND provider = ? AND service = ? AND resource = ? AND labels = ? AND currency = ?";
        let mut select_position = prepare(
            session,
            format!("SELECT offsets, last_commit, pending FROM {ks}.consumer_positions WHERE consumer = ?"),
        )
        .await?;
        // A serial read sees the outcome of any in-flight compare-and-set on the row.
        select_position.set_consistency(Consistency::LocalSerial);
        select_position.set_is_idempotent(true);
        let mut select_cells = idempotent(
            session,
            format!(
                "SELECT bucket, category, sub_kind, provider, service, resource, labels, currency, amount,
                 billed, events FROM {ks}.rollups
                 WHERE tenant = ? AND granularity = ? AND period = ? AND bucket >= ? AND bucket < ?"
            ),
        )
        .await?;
        select_cells.set_page_size(5000);
        Ok(Statements {
            select_position,
            insert_position: conditional(
                session,
                format!(
                    "INSERT INTO {ks}.consumer_positions (consumer, offsets, last_commit, pending)
                     VALUES (?, ?, ?, ?) IF NOT EXISTS"
                ),
            )
            .await?,
            update_position: conditional(
                session,
                format!(
                    "UPDATE {ks}.consumer_positions SET offsets = ?, last_commit = ?, pending = ?
                     WHERE consumer = ? IF offsets = ? AND last_commit = ?"
                ),
            )
            .await?,
            insert_record_part: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.commit_records (consumer, commit_ts, part, body) VALUES (?, ?, ?, ?)"
                ),
            )
            .await?,
            select_record: idempotent(
                session,
                format!("SELECT part, body FROM {ks}.commit_records WHERE consumer = ? AND commit_ts = ?"),
            )
            .await?,
            select_counted: idempotent(
                session,
                format!("SELECT event_id FROM {ks}.counted_events WHERE tenant = ? AND event_id = ?"),
            )
            .await?,
            insert_counted: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.counted_events (tenant, event_id, commit_ts) VALUES (?, ?, ?)
                     USING TIMESTAMP ?"
                ),
            )
            .await?,
            select_meter: idempotent(
                session,
                format!(
                    "SELECT quantity FROM {ks}.meters WHERE tenant = ? AND month = ? AND provider = ?
                     AND service = ? AND metric = ?"
                ),
            )
            .await?,
            insert_meter: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.meters (tenant, month, provider, service, metric, quantity)
                     VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"
                ),
            )
            .await?,
            select_cell: idempotent(
                session,
                format!("SELECT amount, billed, events FROM {ks}.rollups WHERE {CELL_KEY}"),
            )
            .await?,
            insert_cell: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.rollups (tenant, granularity, period, bucket, category, sub_kind,
                     provider, service, resource, labels, currency, amount, billed, events)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"
                ),
            )
            .await?,
            select_cells,
            insert_tenant: idempotent(
                session,
                format!("INSERT INTO {ks}.tenants (scope, tenant) VALUES ('all', ?) USING TIMESTAMP ?"),
            )
            .await?,
            select_tenants: idempotent(
                session,
                format!("SELECT tenant FROM {ks}.tenants WHERE scope = 'all'"),
            )
            .await?,
            insert_dead_letter: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.dead_letters (tenant, month, at, commit_ts, idx, event_id, event_json,
                     reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"
                ),
            )
            .await?,
            insert_dead_letter_month: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.dead_letter_months (tenant, month) VALUES (?, ?) USING TIMESTAMP ?"
                ),
            )
            .await?,
            select_dead_letter_months: idempotent(
                session,
                format!("SELECT month FROM {ks}.dead_letter_months WHERE tenant = ?"),
            )
            .await?,
            select_dead_letters: idempotent(
                session,
                format!(
                    "SELECT event_id, event_json, reason, at FROM {ks}.dead_letters
                     WHERE tenant = ? AND month = ? LIMIT ?"
                ),
            )
            .await?,
        })
    }
}
