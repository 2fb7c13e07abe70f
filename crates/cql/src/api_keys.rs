//! API keys on CQL (`schemas/cql/007_api_keys.cql`): one row per key id, holding the SHA-256
//! of its secret, never the secret. Keys are few (an operator creates them), so `list` and the
//! tenant erasure read the whole table.
//!
//! Every write is a lightweight transaction (Paxos, LOCAL_SERIAL), so none overwrites another
//! and none re-creates a deleted key as a partial row:
//! - `create`: `INSERT ... IF NOT EXISTS`; not applied is [`CreateKeyError::Duplicate`].
//! - `revoke`: read the key, then `UPDATE ... IF revoked_at = null AND secret_hash = <read>`; a
//!   revoked key keeps its first time. The `secret_hash` condition fails on a deleted key (an
//!   update of a missing row would otherwise create one).
//! - `touch`: `IF last_used_at < at` once a use is recorded (compare-and-set moving forward
//!   only; a missing row has no value and never matches), `IF last_used_at = null AND
//!   secret_hash = <read>` for the first use.
//! - erasure (`TenantData`): `DELETE ... IF tenants = <read>` for a key of only the erased
//!   tenant, `UPDATE SET tenants = <rest> ... IF tenants = <read>` for a key of several; a key
//!   changed meanwhile is read again.
//!
//! Times are canonical RFC 3339 UTC text with nanoseconds (a CQL timestamp holds milliseconds):
//! fixed width, so text order (which the `<` condition uses) is time order. Tenants are a JSON
//! array, in the record's order, as in the SQLite store.
//!
//! A write that fails with an error (e.g. a timeout) may still have applied: `create` retried
//! by the caller then reports `Duplicate`; `revoke` and `touch` are safe to call again.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::TenantId;
use costwatch_domain::access::Role;
use costwatch_domain::api_key::{ApiKeyRecord, KeyId};
use costwatch_ports::{ApiKeyStore, CreateKeyError, StoreError, TenantData};
use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::response::query_result::QueryResult;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};

use crate::statements::{conditional, idempotent};
use crate::store::unavailable;
use crate::{CqlError, CqlOptions, check_keyspace, connect};

const TABLE: &str = "api_keys";
const COLUMNS: &str = "id, name, role, tenants, created_at, last_used_at, revoked_at, secret_hash";
/// Compare-and-set rounds on one key before giving up (only an erasure racing another one
/// needs a second).
const ROUNDS: usize = 8;

pub struct CqlApiKeys {
    pub(crate) session: Arc<Session>,
    keyspace: String,
    insert: PreparedStatement,
    select_one: PreparedStatement,
    select_all: PreparedStatement,
    revoke: PreparedStatement,
    touch_first: PreparedStatement,
    touch_later: PreparedStatement,
    narrow: PreparedStatement,
    delete: PreparedStatement,
}

impl CqlApiKeys {
    pub async fn open(o: &CqlOptions) -> Result<CqlApiKeys, CqlError> {
        check_keyspace(&o.keyspace)?;
        let session = Arc::new(connect(&o.nodes).await?);
        CqlApiKeys::with_session(session, &o.keyspace).await
    }

    pub async fn with_session(session: Arc<Session>, ks: &str) -> Result<CqlApiKeys, CqlError> {
        check_keyspace(ks)?;
        let insert = conditional(
            &session,
            format!(
                "INSERT INTO {ks}.api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
            ),
        )
        .await?;
        let select_one = idempotent(
            &session,
            format!("SELECT {COLUMNS} FROM {ks}.api_keys WHERE id = ?"),
        )
        .await?;
        let mut select_all =
            idempotent(&session, format!("SELECT {COLUMNS} FROM {ks}.api_keys")).await?;
        select_all.set_page_size(1000);
        let revoke = conditional(
            &session,
            format!(
                "UPDATE {ks}.api_keys SET revoked_at = ? WHERE id = ? \
                 IF revoked_at = null AND secret_hash = ?"
            ),
        )
        .await?;
        let touch_first = conditional(
            &session,
            format!(
                "UPDATE {ks}.api_keys SET last_used_at = ? WHERE id = ? \
                 IF last_used_at = null AND secret_hash = ?"
            ),
        )
        .await?;
        let touch_later = conditional(
            &session,
            format!("UPDATE {ks}.api_keys SET last_used_at = ? WHERE id = ? IF last_used_at < ?"),
        )
        .await?;
        let narrow = conditional(
            &session,
            format!("UPDATE {ks}.api_keys SET tenants = ? WHERE id = ? IF tenants = ?"),
        )
        .await?;
        let delete = conditional(
            &session,
            format!("DELETE FROM {ks}.api_keys WHERE id = ? IF tenants = ?"),
        )
        .await?;
        Ok(CqlApiKeys {
            session,
            keyspace: ks.to_string(),
            insert,
            select_one,
            select_all,
            revoke,
            touch_first,
            touch_later,
            narrow,
            delete,
        })
    }

    /// The keyspace this store reads and writes.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    async fn read(&self, id: &str) -> Result<Option<Raw>, StoreError> {
        self.session
            .execute_unpaged(&self.select_one, (id,))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?
            .maybe_first_row::<Raw>()
            .map_err(unavailable)
    }

    async fn read_all(&self) -> Result<Vec<Raw>, StoreError> {
        self.session
            .execute_iter(self.select_all.clone(), ())
            .await
            .map_err(unavailable)?
            .rows_stream::<Raw>()
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)
    }

    async fn cas(
        &self,
        statement: &PreparedStatement,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> Result<bool, StoreError> {
        let result = self
            .session
            .execute_unpaged(statement, values)
            .await
            .map_err(unavailable)?;
        applied(result)
    }

    /// Removes `tenant` from key `id` (deleting the key if it was its only tenant); `true` if
    /// this call changed the key.
    async fn narrow_key(&self, id: &str, tenant: &str) -> Result<bool, StoreError> {
        for _ in 0..ROUNDS {
            let Some(raw) = self.read(id).await? else {
                return Ok(false);
            };
            let tenants: Vec<String> =
                serde_json::from_str(&raw.3).map_err(|e| corrupt(id, "tenants", e.to_string()))?;
            if !tenants.iter().any(|t| t == tenant) {
                return Ok(false);
            }
            let rest: Vec<&String> = tenants.iter().filter(|t| *t != tenant).collect();
            let done = if rest.is_empty() {
                self.cas(&self.delete, (id, &raw.3)).await?
            } else {
                let rest = serde_json::to_string(&rest)
                    .map_err(|e| StoreError::Unavailable(format!("encoding tenants: {e}")))?;
                self.cas(&self.narrow, (rest, id, &raw.3)).await?
            };
            if done {
                return Ok(true);
            }
        }
        Err(StoreError::Unavailable(format!(
            "api key {id}: changed by others in each of {ROUNDS} attempts to remove tenant"
        )))
    }
}

/// (id, name, role, tenants, created_at, last_used_at, revoked_at, secret_hash) as stored.
type Raw = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// Did a conditional statement apply? (First column of its result is `[applied]`.)
fn applied(result: QueryResult) -> Result<bool, StoreError> {
    let rows = result.into_rows_result().map_err(unavailable)?;
    match rows.maybe_first_row::<Row>().map_err(unavailable)? {
        Some(row) => match row.columns.first() {
            Some(Some(CqlValue::Boolean(b))) => Ok(*b),
            other => Err(corrupt("-", "[applied]", format!("unexpected {other:?}"))),
        },
        None => Err(corrupt("-", "[applied]", "no row".into())),
    }
}

fn corrupt(id: &str, column: &str, e: String) -> StoreError {
    StoreError::Corrupt {
        table: TABLE,
        reason: format!("key {id:?}: {column}: {e}"),
    }
}

fn encode_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn decode(raw: Raw) -> Result<ApiKeyRecord, StoreError> {
    let (id_text, name, role, tenants, created_at, last_used_at, revoked_at, secret_hash) = raw;
    let corrupt = |column: &str, e: String| corrupt(&id_text, column, e);
    let id = KeyId::parse(&id_text).map_err(|e| corrupt("id", e.to_string()))?;
    let role: Role = role.parse().map_err(|e| corrupt("role", e))?;
    let tenants: Vec<String> =
        serde_json::from_str(&tenants).map_err(|e| corrupt("tenants", e.to_string()))?;
    let tenants = tenants
        .iter()
        .map(|t| TenantId::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt("tenants", e))?;
    let time = |column: &str, text: &str| {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt(column, e.to_string()))
    };
    Ok(ApiKeyRecord {
        created_at: time("created_at", &created_at)?,
        last_used_at: last_used_at
            .as_deref()
            .map(|t| time("last_used_at", t))
            .transpose()?,
        revoked_at: revoked_at
            .as_deref()
            .map(|t| time("revoked_at", t))
            .transpose()?,
        secret_hash: secret_hash.parse().map_err(|e| corrupt("secret_hash", e))?,
        id,
        name,
        role,
        tenants,
    })
}

#[async_trait]
impl ApiKeyStore for CqlApiKeys {
    async fn create(&self, r: &ApiKeyRecord) -> Result<(), CreateKeyError> {
        let tenants: Vec<&str> = r.tenants.iter().map(TenantId::as_str).collect();
        let tenants = serde_json::to_string(&tenants)
            .map_err(|e| StoreError::Unavailable(format!("encoding tenants: {e}")))?;
        let values = (
            r.id.as_str(),
            &r.name,
            r.role.as_str(),
            tenants,
            encode_at(r.created_at),
            r.last_used_at.map(encode_at),
            r.revoked_at.map(encode_at),
            r.secret_hash.to_string(),
        );
        if self.cas(&self.insert, values).await? {
            Ok(())
        } else {
            Err(CreateKeyError::Duplicate(r.id.clone()))
        }
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.read(id.as_str()).await?.map(decode).transpose()
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut all = self
            .read_all()
            .await?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn revoke(&self, id: &KeyId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(raw) = self.read(id.as_str()).await? else {
            return Ok(false);
        };
        if raw.6.is_some() {
            return Ok(true);
        }
        if self
            .cas(&self.revoke, (encode_at(at), id.as_str(), &raw.7))
            .await?
        {
            return Ok(true);
        }
        // Revoked meanwhile (that time stays), or deleted meanwhile.
        Ok(self.read(id.as_str()).await?.is_some())
    }

    async fn touch(&self, id: &KeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(raw) = self.read(id.as_str()).await? else {
            return Ok(());
        };
        let at = encode_at(at);
        match raw.5 {
            Some(last) if last >= at => return Ok(()),
            Some(_) => {}
            None => {
                if self
                    .cas(&self.touch_first, (&at, id.as_str(), &raw.7))
                    .await?
                {
                    return Ok(());
                }
                // Another use was recorded first (or the key is gone): only move forward.
            }
        }
        self.cas(&self.touch_later, (&at, id.as_str(), &at)).await?;
        Ok(())
    }
}

#[async_trait]
impl TenantData for CqlApiKeys {
    fn holds(&self) -> &'static str {
        "API keys"
    }

    /// A key of only this tenant is deleted; a key of several loses this one (count: both).
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        let mut changed = 0;
        for raw in self.read_all().await? {
            let tenants: Vec<String> = serde_json::from_str(&raw.3)
                .map_err(|e| corrupt(&raw.0, "tenants", e.to_string()))?;
            if tenants.iter().any(|t| t == tenant) && self.narrow_key(&raw.0, tenant).await? {
                changed += 1;
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract_tests::{drop_keyspace, migrated_keyspace};

    async fn fresh() -> CqlApiKeys {
        let (session, keyspace) = migrated_keyspace().await;
        CqlApiKeys::with_session(session, &keyspace)
            .await
            .expect("open api key store")
    }

    async fn teardown(store: &CqlApiKeys) {
        drop_keyspace((store.session.clone(), store.keyspace.clone())).await;
    }

    costwatch_ports::api_key_store_contract!(
        fresh(),
        teardown = teardown,
        ignore = "needs a CQL server: make adapters"
    );

    /// The compare-and-sets of `revoke` and `touch` that lost a race with an erasure (the key
    /// was read, then deleted) do not apply, so they never re-create the key as a partial row.
    #[tokio::test]
    #[ignore = "needs a CQL server: make adapters"]
    async fn late_writes_do_not_recreate_an_erased_key() {
        use costwatch_ports::api_keys::contract::{at, sample};
        let store = fresh().await;
        let r = sample(1, 1, "ingest", &["acme"]);
        store.create(&r).await.expect("create");
        store.touch(&r.id, at(2)).await.expect("touch");
        let hash = r.secret_hash.to_string();
        assert_eq!(store.erase_tenant("acme").await.expect("erase"), 1);
        let (id, t) = (r.id.as_str(), encode_at(at(3)));
        assert!(
            !store
                .cas(&store.revoke, (&t, id, &hash))
                .await
                .expect("revoke")
        );
        assert!(
            !store
                .cas(&store.touch_first, (&t, id, &hash))
                .await
                .expect("first")
        );
        assert!(
            !store
                .cas(&store.touch_later, (&t, id, &t))
                .await
                .expect("later")
        );
        assert_eq!(store.read(id).await.expect("read"), None, "no partial row");
        assert!(!store.revoke(&r.id, at(4)).await.expect("revoke unknown"));
        teardown(&store).await;
    }
}
