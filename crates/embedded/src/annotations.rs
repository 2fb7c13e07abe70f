//! Chart annotations in SQLite (`annotations.sqlite`), keyed by (tenant, id).

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use costwatch_domain::annotation::Annotation;
use costwatch_ports::{AnnotationStore, StoreError};
use rusqlite::params;

use crate::OpenError;
use crate::db::Db;

const SCHEMA: &str = include_str!("../migrations/annotations.sql");
const TABLE: &str = "annotations";

pub struct SqliteAnnotations {
    pub(crate) db: Db,
}

impl SqliteAnnotations {
    pub fn open(path: &Path) -> Result<SqliteAnnotations, OpenError> {
        Ok(SqliteAnnotations {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

/// (tenant, id, day, note, author, created_at) as stored.
type Raw = (String, String, String, String, Option<String>, String);

fn corrupt(column: &str, value: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: TABLE,
        reason: format!("{column} {value:?}: {e}"),
    }
}

fn decode((tenant, id, day, note, author, created_at): Raw) -> Result<Annotation, StoreError> {
    Ok(Annotation {
        day: day.parse().map_err(|e| corrupt("day", &day, e))?,
        created_at: DateTime::parse_from_rfc3339(&created_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt("created_at", &created_at, e))?,
        tenant,
        id,
        note,
        author,
    })
}

#[async_trait]
impl AnnotationStore for SqliteAnnotations {
    async fn put(&self, a: &Annotation) -> Result<(), StoreError> {
        let row: Raw = (
            a.tenant.clone(),
            a.id.clone(),
            a.day.to_string(),
            a.note.clone(),
            a.author.clone(),
            a.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        );
        self.db
            .call(move |c| {
                let (tenant, id, day, note, author, created_at) = &row;
                c.prepare_cached(
                    "INSERT INTO annotations (tenant, id, day, note, author, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (tenant, id) DO UPDATE SET
                       day = excluded.day, note = excluded.note, author = excluded.author,
                       created_at = excluded.created_at",
                )
                .and_then(|mut q| q.execute(params![tenant, id, day, note, author, created_at]))
                .map(|_| ())
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn list(
        &self,
        tenant: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Annotation>, StoreError> {
        let (tenant, from, to) = (tenant.to_string(), from.to_string(), to.to_string());
        let raw = self
            .db
            .call(move |c| {
                let mut q = c
                    .prepare_cached(
                        "SELECT tenant, id, day, note, author, created_at FROM annotations
                         WHERE tenant = ?1 AND day >= ?2 AND day <= ?3
                         ORDER BY day, created_at, id",
                    )
                    .map_err(|e| e.to_string())?;
                let rows = q
                    .query_map(params![tenant, from, to], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<Raw>, _>>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter().map(decode).collect()
    }

    async fn delete(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db
            .call(move |c| {
                c.prepare_cached("DELETE FROM annotations WHERE tenant = ?1 AND id = ?2")
                    .and_then(|mut q| q.execute(params![tenant, id]))
                    .map(|n| n > 0)
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> SqliteAnnotations {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteAnnotations::open(&dir.join("annotations.sqlite")).expect("open")
    }

    costwatch_ports::annotation_store_contract!(fresh());
}
