use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::{Granularity, RollupRow, RollupValue, SeriesKey};
use costwatch_ports::{Commit, CostStore, DeadLetter, StoreError};
use rusqlite::{OptionalExtension, ToSql, Transaction, params, params_from_iter};
use rust_decimal::Decimal;

use crate::OpenError;
use crate::db::Db;

/// The projection store in SQLite. Writes go through one connection; reads use a second one so
/// dashboards never wait behind the aggregator (WAL readers see the last committed state).
pub struct SqliteStore {
    pub(crate) writer: Db,
    reader: Db,
}

const SCHEMA: &str = include_str!("../migrations/store.sql");

fn unavailable(e: impl ToString) -> String {
    e.to_string()
}

fn corrupt(table: &'static str) -> impl Fn(String) -> StoreError {
    move |reason| StoreError::Corrupt { table, reason }
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, OpenError> {
        let writer = Db::open(path, SCHEMA)?;
        let reader = Db::open(path, SCHEMA)?;
        Ok(SqliteStore { writer, reader })
    }
}

fn read_positions(tx: &rusqlite::Connection, consumer: &str) -> Result<BTreeMap<u32, u64>, String> {
    let mut stmt = tx
        .prepare_cached("SELECT partition, next_offset FROM consumer_positions WHERE consumer = ?1")
        .map_err(unavailable)?;
    let rows = stmt
        .query_map(params![consumer], |r| {
            Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)? as u64))
        })
        .map_err(unavailable)?;
    rows.collect::<Result<_, _>>().map_err(unavailable)
}

fn parse_decimal(text: &str) -> Result<Decimal, String> {
    text.parse::<Decimal>()
        .map_err(|e| format!("{text:?}: {e}"))
}

/// The outcome of a write transaction: fenced, or a database problem.
enum WriteError {
    Fenced,
    Db(String),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Db(e.to_string())
    }
}

fn apply(tx: &Transaction<'_>, c: &Commit) -> Result<(), WriteError> {
    // Fencing: the positions must still be the ones the batch was read from.
    let current = read_positions(tx, &c.consumer).map_err(WriteError::Db)?;
    if current != c.expected_positions {
        return Err(WriteError::Fenced);
    }
    let mut pos = tx.prepare_cached(
        "INSERT INTO consumer_positions (consumer, partition, next_offset) VALUES (?1, ?2, ?3)
         ON CONFLICT (consumer, partition) DO UPDATE SET next_offset = excluded.next_offset",
    )?;
    for (p, o) in &c.positions {
        pos.execute(params![c.consumer, i64::from(*p), *o as i64])?;
    }
    let mut counted = tx.prepare_cached(
        "INSERT OR IGNORE INTO counted_events (tenant, event_id) VALUES (?1, ?2)",
    )?;
    for (tenant, id) in &c.counted {
        counted.execute(params![tenant, id])?;
    }
    let mut meters = tx.prepare_cached(
        "INSERT INTO meters (tenant, provider, service, metric, month, quantity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET quantity = excluded.quantity",
    )?;
    for (k, q) in &c.meters {
        meters.execute(params![
            k.tenant,
            k.provider,
            k.service,
            k.metric,
            k.month,
            q.to_string()
        ])?;
    }
    let mut get = tx.prepare_cached(
        "SELECT amount, billed, events FROM rollups WHERE tenant = ?1 AND granularity = ?2 AND bucket = ?3
         AND category = ?4 AND sub_kind = ?5 AND provider = ?6 AND service = ?7 AND resource = ?8
         AND labels = ?9 AND currency = ?10",
    )?;
    let mut put = tx.prepare_cached(
        "INSERT OR REPLACE INTO rollups (tenant, granularity, bucket, category, sub_kind, provider, service,
         resource, labels, currency, amount, billed, events) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for (k, delta) in &c.deltas {
        let s = &k.series;
        let bucket = k.bucket.timestamp();
        let key: [&dyn ToSql; 10] = [
            &s.tenant,
            &k.granularity.as_str(),
            &bucket,
            &s.category.as_str(),
            &s.sub_kind.as_str(),
            &s.provider,
            &s.service,
            &s.resource,
            &s.labels,
            &s.currency.as_str(),
        ];
        let existing: Option<(String, String, i64)> = get
            .query_row(&key[..], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let old = match existing {
            Some((a, b, n)) => RollupValue {
                amount: parse_decimal(&a).map_err(WriteError::Db)?,
                billed: parse_decimal(&b).map_err(WriteError::Db)?,
                events: n as u64,
            },
            None => RollupValue::default(),
        };
        let new = old
            .checked_add(*delta)
            .ok_or_else(|| WriteError::Db("rollup amount overflow".into()))?;
        let (amount, billed, events) = (
            new.amount.normalize().to_string(),
            new.billed.normalize().to_string(),
            new.events as i64,
        );
        let values: [&dyn ToSql; 3] = [&amount, &billed, &events];
        put.execute(params_from_iter(key.iter().chain(values.iter())))?;
    }
    let mut tenants = tx.prepare_cached("INSERT OR IGNORE INTO tenants (tenant) VALUES (?1)")?;
    let touched: std::collections::BTreeSet<&str> =
        c.deltas.keys().map(|k| k.series.tenant.as_str()).collect();
    for t in touched {
        tenants.execute(params![t])?;
    }
    let mut dead = tx.prepare_cached(
        "INSERT INTO dead_letters (tenant, event_id, event_json, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for d in &c.dead_letters {
        dead.execute(params![
            d.tenant,
            d.event_id,
            d.event_json,
            d.reason,
            d.at.to_rfc3339()
        ])?;
    }
    Ok(())
}

#[async_trait]
impl CostStore for SqliteStore {
    async fn positions(&self, consumer: &str) -> Result<BTreeMap<u32, u64>, StoreError> {
        let consumer = consumer.to_string();
        self.reader
            .call(move |conn| read_positions(conn, &consumer))
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn seen(
        &self,
        ids: &[(String, String)],
    ) -> Result<HashSet<(String, String)>, StoreError> {
        let ids = ids.to_vec();
        self.writer
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT 1 FROM counted_events WHERE tenant = ?1 AND event_id = ?2",
                    )
                    .map_err(unavailable)?;
                let mut seen = HashSet::new();
                for (t, id) in ids {
                    if stmt.exists(params![t, id]).map_err(unavailable)? {
                        seen.insert((t, id));
                    }
                }
                Ok(seen)
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn meters(&self, keys: &[MeterKey]) -> Result<HashMap<MeterKey, Decimal>, StoreError> {
        let keys = keys.to_vec();
        let raw: Vec<(MeterKey, String)> = self
            .writer
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT quantity FROM meters WHERE tenant = ?1 AND provider = ?2 AND service = ?3
                         AND metric = ?4 AND month = ?5",
                    )
                    .map_err(unavailable)?;
                let mut out = Vec::new();
                for k in keys {
                    let q: Option<String> = stmt
                        .query_row(params![k.tenant, k.provider, k.service, k.metric, k.month], |r| r.get(0))
                        .optional()
                        .map_err(unavailable)?;
                    if let Some(q) = q {
                        out.push((k, q));
                    }
                }
                Ok(out)
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter()
            .map(|(k, q)| Ok((k, parse_decimal(&q).map_err(corrupt("meters"))?)))
            .collect()
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let consumer = commit.consumer.clone();
        let outcome = self
            .writer
            .call(move |conn| {
                let tx = conn.transaction().map_err(unavailable)?;
                match apply(&tx, &commit) {
                    Ok(()) => tx.commit().map(|_| Ok(())).map_err(unavailable),
                    // Dropping the transaction rolls it back.
                    Err(WriteError::Fenced) => Ok(Err(())),
                    Err(WriteError::Db(e)) => Err(e),
                }
            })
            .await
            .map_err(StoreError::Unavailable)?;
        outcome.map_err(|()| StoreError::Fenced { consumer })
    }

    async fn rollups(
        &self,
        tenant: &str,
        granularity: Granularity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        type Raw = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
        );
        let tenant = tenant.to_string();
        let query_tenant = tenant.clone();
        let raw: Vec<Raw> = self
            .reader
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT bucket, category, sub_kind, provider, service, resource, labels, currency,
                         amount, billed, events FROM rollups
                         WHERE tenant = ?1 AND granularity = ?2 AND bucket >= ?3 AND bucket < ?4",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![query_tenant, granularity.as_str(), from.timestamp(), to.timestamp()], |r| {
                        Ok((
                            r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?,
                            r.get(8)?, r.get(9)?, r.get(10)?,
                        ))
                    })
                    .map_err(unavailable)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter()
            .map(
                |(
                    bucket,
                    cat,
                    sub,
                    provider,
                    service,
                    resource,
                    labels,
                    currency,
                    amount,
                    billed,
                    events,
                )| {
                    let c = corrupt("rollups");
                    Ok(RollupRow {
                        bucket: Utc
                            .timestamp_opt(bucket, 0)
                            .single()
                            .ok_or_else(|| c(format!("bucket {bucket}")))?,
                        series: SeriesKey {
                            tenant: tenant.clone(),
                            category: cat.parse().map_err(&c)?,
                            sub_kind: sub.parse().map_err(&c)?,
                            provider,
                            service,
                            resource,
                            labels,
                            currency: currency.parse().map_err(
                                |e: costwatch_domain::money::CurrencyError| c(e.to_string()),
                            )?,
                        },
                        value: RollupValue {
                            amount: parse_decimal(&amount).map_err(&c)?,
                            billed: parse_decimal(&billed).map_err(&c)?,
                            events: events as u64,
                        },
                    })
                },
            )
            .collect()
    }

    async fn tenants(&self) -> Result<Vec<String>, StoreError> {
        self.reader
            .call(|conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT tenant FROM tenants ORDER BY tenant")
                    .map_err(unavailable)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(unavailable)?;
                rows.collect::<Result<Vec<String>, _>>()
                    .map_err(unavailable)
            })
            .await
            .map_err(StoreError::Unavailable)
    }

    async fn dead_letters(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let tenant = tenant.to_string();
        let raw: Vec<(String, String, String, String, String)> = self
            .reader
            .call(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT tenant, event_id, event_json, reason, at FROM dead_letters WHERE tenant = ?1
                         ORDER BY seq DESC LIMIT ?2",
                    )
                    .map_err(unavailable)?;
                let rows = stmt
                    .query_map(params![tenant, limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                    .map_err(unavailable)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter()
            .map(|(tenant, event_id, event_json, reason, at)| {
                let at = DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| corrupt("dead_letters")(e.to_string()))?
                    .with_timezone(&Utc);
                Ok(DeadLetter {
                    tenant,
                    event_id,
                    event_json,
                    reason,
                    at,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> SqliteStore {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteStore::open(&dir.join("store.sqlite")).expect("open")
    }

    costwatch_ports::cost_store_contract!(fresh());
}
