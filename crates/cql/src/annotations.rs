//! Chart annotations on CQL (`schemas/cql/005_annotations.cql`): rows partitioned by
//! (tenant, year) and clustered by (day, id), plus an (tenant, id) → day lookup so a delete by id
//! finds its row. Both are written in one logged batch, so they never disagree for long.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use costwatch_domain::annotation::Annotation;
use costwatch_ports::{AnnotationStore, StoreError};
use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::CqlTimestamp;

use crate::statements::idempotent;
use crate::store::unavailable;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

const TABLE: &str = "annotations";

pub struct CqlAnnotations {
    pub(crate) session: Arc<Session>,
    keyspace: String,
    insert_row: PreparedStatement,
    insert_id: PreparedStatement,
    select_range: PreparedStatement,
    select_id: PreparedStatement,
    delete_row: PreparedStatement,
    delete_id: PreparedStatement,
}

impl CqlAnnotations {
    pub async fn open(o: &CqlOptions) -> Result<CqlAnnotations, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlAnnotations::with_session(session, &o.keyspace).await
    }

    pub async fn with_session(session: Arc<Session>, ks: &str) -> Result<CqlAnnotations, CqlError> {
        check_keyspace(ks)?;
        let insert_row = idempotent(
            &session,
            format!(
                "INSERT INTO {ks}.annotations (tenant, year, day, id, note, author, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
        )
        .await?;
        let insert_id = idempotent(
            &session,
            format!("INSERT INTO {ks}.annotation_ids (tenant, id, day) VALUES (?, ?, ?)"),
        )
        .await?;
        let mut select_range = idempotent(
            &session,
            format!(
                "SELECT tenant, id, day, note, author, created_at FROM {ks}.annotations \
                 WHERE tenant = ? AND year = ? AND day >= ? AND day <= ?"
            ),
        )
        .await?;
        select_range.set_page_size(5000);
        let select_id = idempotent(
            &session,
            format!("SELECT day FROM {ks}.annotation_ids WHERE tenant = ? AND id = ?"),
        )
        .await?;
        let delete_row = idempotent(
            &session,
            format!(
                "DELETE FROM {ks}.annotations WHERE tenant = ? AND year = ? AND day = ? AND id = ?"
            ),
        )
        .await?;
        let delete_id = idempotent(
            &session,
            format!("DELETE FROM {ks}.annotation_ids WHERE tenant = ? AND id = ?"),
        )
        .await?;
        Ok(CqlAnnotations {
            session,
            keyspace: ks.to_string(),
            insert_row,
            insert_id,
            select_range,
            select_id,
            delete_row,
            delete_id,
        })
    }

    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }
}

/// (tenant, id, day, note, author, created_at) as stored.
type Raw = (String, String, String, String, Option<String>, CqlTimestamp);

fn corrupt(column: &str, value: impl std::fmt::Debug, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: TABLE,
        reason: format!("{column} {value:?}: {e}"),
    }
}

fn parse_day(day: &str) -> Result<NaiveDate, StoreError> {
    day.parse().map_err(|e| corrupt("day", day, e))
}

fn decode((tenant, id, day, note, author, created_at): Raw) -> Result<Annotation, StoreError> {
    Ok(Annotation {
        day: parse_day(&day)?,
        created_at: Utc
            .timestamp_millis_opt(created_at.0)
            .single()
            .ok_or_else(|| corrupt("created_at", created_at.0, "out of range"))?,
        tenant,
        id,
        note,
        author,
    })
}

fn millis(t: DateTime<Utc>) -> CqlTimestamp {
    CqlTimestamp(t.timestamp_millis())
}

/// A logged batch: its statements touch two partitions and must all apply (or be replayed).
fn logged(statements: [&PreparedStatement; 2]) -> Batch {
    let mut batch = Batch::new(BatchType::Logged);
    for s in statements {
        batch.append_statement(s.clone());
    }
    // Plain upserts/deletes of fixed values: running them twice is the same as once.
    batch.set_is_idempotent(true);
    batch
}

#[async_trait]
impl AnnotationStore for CqlAnnotations {
    async fn put(&self, a: &Annotation) -> Result<(), StoreError> {
        let day = a.day.to_string();
        let batch = logged([&self.insert_row, &self.insert_id]);
        self.session
            .batch(
                &batch,
                (
                    (
                        &a.tenant,
                        a.day.year(),
                        &day,
                        &a.id,
                        &a.note,
                        &a.author,
                        millis(a.created_at),
                    ),
                    (&a.tenant, &a.id, &day),
                ),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn list(
        &self,
        tenant: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Annotation>, StoreError> {
        let mut out = Vec::new();
        // One partition per year; the range is bounded by the caller (three years in the gateway).
        for year in from.year()..=to.year() {
            let rows: Vec<Raw> = self
                .session
                .execute_iter(
                    self.select_range.clone(),
                    (tenant, year, from.to_string(), to.to_string()),
                )
                .await
                .map_err(unavailable)?
                .rows_stream::<Raw>()
                .map_err(unavailable)?
                .try_collect()
                .await
                .map_err(unavailable)?;
            for raw in rows {
                out.push(decode(raw)?);
            }
        }
        // Clustering gives (day, id); the contract orders by (day, created_at).
        out.sort_by(|a, b| (a.day, a.created_at, &a.id).cmp(&(b.day, b.created_at, &b.id)));
        Ok(out)
    }

    async fn delete(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        // The lookup is keyed by (tenant, id): another tenant's id is simply not found.
        let found = self
            .session
            .execute_unpaged(&self.select_id, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?
            .maybe_first_row::<(String,)>()
            .map_err(unavailable)?;
        let Some((day,)) = found else {
            return Ok(false);
        };
        let year = parse_day(&day)?.year();
        let batch = logged([&self.delete_row, &self.delete_id]);
        self.session
            .batch(&batch, ((tenant, year, &day, id), (tenant, id)))
            .await
            .map_err(unavailable)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract_tests::{drop_keyspace, migrated_keyspace};

    async fn fresh() -> CqlAnnotations {
        let (session, keyspace) = migrated_keyspace().await;
        CqlAnnotations::with_session(session, &keyspace)
            .await
            .expect("open annotation store")
    }

    async fn teardown(store: &CqlAnnotations) {
        drop_keyspace((store.session.clone(), store.keyspace.clone())).await;
    }

    costwatch_ports::annotation_store_contract!(
        fresh(),
        teardown = teardown,
        ignore = "needs a CQL server: make adapters"
    );
}
