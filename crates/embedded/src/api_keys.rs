//! API keys in SQLite (`<data-dir>/api_keys.sqlite`): one row per key, holding the SHA-256 of
//! its secret, never the secret. The CLI (`costwatch api-key`) and a running `costwatch up` may
//! share the file: every change is one statement, and WAL lets the server keep reading.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::TenantId;
use costwatch_domain::access::Role;
use costwatch_domain::api_key::{ApiKeyRecord, KeyId};
use costwatch_ports::{ApiKeyStore, CreateKeyError, StoreError};
use rusqlite::{OptionalExtension, Row, params};

use crate::OpenError;
use crate::db::Db;

const SCHEMA: &str = include_str!("../migrations/api_keys.sql");
const TABLE: &str = "api_keys";
const COLUMNS: &str = "id, name, role, tenants, created_at, last_used_at, revoked_at, secret_hash";

#[derive(Clone)]
pub struct SqliteApiKeys {
    pub(crate) db: Db,
}

impl SqliteApiKeys {
    /// Opens (creating if needed) the key store.
    pub fn open(path: &Path) -> Result<SqliteApiKeys, OpenError> {
        Ok(SqliteApiKeys {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

/// A row as stored, before decoding.
struct RawKey {
    id: String,
    name: String,
    role: String,
    tenants: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    secret_hash: String,
}

impl RawKey {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawKey> {
        Ok(RawKey {
            id: r.get(0)?,
            name: r.get(1)?,
            role: r.get(2)?,
            tenants: r.get(3)?,
            created_at: r.get(4)?,
            last_used_at: r.get(5)?,
            revoked_at: r.get(6)?,
            secret_hash: r.get(7)?,
        })
    }

    fn decode(self) -> Result<ApiKeyRecord, StoreError> {
        let id_text = self.id.clone();
        let corrupt = |column: &str, e: String| StoreError::Corrupt {
            table: TABLE,
            reason: format!("key {id_text:?}: {column}: {e}"),
        };
        let id = KeyId::parse(&self.id).map_err(|e| corrupt("id", e.to_string()))?;
        let role: Role = self.role.parse().map_err(|e| corrupt("role", e))?;
        let tenants: Vec<String> =
            serde_json::from_str(&self.tenants).map_err(|e| corrupt("tenants", e.to_string()))?;
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
            id,
            name: self.name,
            role,
            tenants,
            created_at: time("created_at", &self.created_at)?,
            last_used_at: self
                .last_used_at
                .as_deref()
                .map(|t| time("last_used_at", t))
                .transpose()?,
            revoked_at: self
                .revoked_at
                .as_deref()
                .map(|t| time("revoked_at", t))
                .transpose()?,
            secret_hash: self
                .secret_hash
                .parse()
                .map_err(|e| corrupt("secret_hash", e))?,
        })
    }
}

fn encode_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[async_trait]
impl ApiKeyStore for SqliteApiKeys {
    async fn create(&self, record: &ApiKeyRecord) -> Result<(), CreateKeyError> {
        let r = record.clone();
        let tenants: Vec<&str> = r.tenants.iter().map(TenantId::as_str).collect();
        let tenants = serde_json::to_string(&tenants)
            .map_err(|e| StoreError::Unavailable(format!("encoding tenants: {e}")))?;
        let id = r.id.clone();
        let inserted = self
            .db
            .call(move |c| {
                c.execute(
                    "INSERT INTO api_keys (id, name, role, tenants, created_at, last_used_at,
                                           revoked_at, secret_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (id) DO NOTHING",
                    params![
                        r.id.as_str(),
                        r.name,
                        r.role.as_str(),
                        tenants,
                        encode_at(r.created_at),
                        r.last_used_at.map(encode_at),
                        r.revoked_at.map(encode_at),
                        r.secret_hash.to_string(),
                    ],
                )
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        if inserted == 0 {
            return Err(CreateKeyError::Duplicate(id));
        }
        Ok(())
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.to_string();
        let raw = self
            .db
            .call(move |c| {
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))
                    .and_then(|mut q| q.query_row([id], RawKey::from_row).optional())
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.map(RawKey::decode).transpose()
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let raw = self
            .db
            .call(|c| {
                // created_at is fixed-width RFC 3339 UTC, so text order is time order.
                let mut q = c
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
                    ))
                    .map_err(|e| e.to_string())?;
                let rows = q
                    .query_map([], RawKey::from_row)
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        raw.into_iter().map(RawKey::decode).collect()
    }

    async fn revoke(&self, id: &KeyId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let id = id.to_string();
        let changed = self
            .db
            .call(move |c| {
                // COALESCE keeps the first revocation time: revoking again changes nothing.
                c.execute(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                    params![id, encode_at(at)],
                )
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        Ok(changed > 0)
    }

    async fn touch(&self, id: &KeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_string();
        self.db
            .call(move |c| {
                c.execute(
                    "UPDATE api_keys SET last_used_at = ?2
                     WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
                    params![id, encode_at(at)],
                )
                .map_err(|e| e.to_string())
            })
            .await
            .map_err(StoreError::Unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_domain::api_key::{ID_BYTES, PresentedKey};

    async fn fresh() -> SqliteApiKeys {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        SqliteApiKeys::open(&dir.join("api_keys.sqlite")).expect("open")
    }

    costwatch_ports::api_key_store_contract!(fresh());

    #[tokio::test]
    async fn the_file_holds_the_hash_never_the_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("api_keys.sqlite");
        let store = SqliteApiKeys::open(&path).expect("open");
        let key = PresentedKey::new([7; ID_BYTES], [0x5a; 32]);
        let text = key.reveal();
        let secret = text.rsplit_once('_').map(|(_, s)| s).expect("secret");
        let tenants = vec!["acme".to_string()];
        let record = ApiKeyRecord::new(&key, "ci", "ingest", &tenants, Utc::now()).expect("record");
        store.create(&record).await.expect("create");
        drop(store);
        let mut bytes = std::fs::read(&path).expect("db");
        for wal in ["api_keys.sqlite-wal", "api_keys.sqlite-shm"] {
            bytes.extend(std::fs::read(dir.path().join(wal)).unwrap_or_default());
        }
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(key.hash().to_string().as_bytes()), "hash stored");
        assert!(!has(secret.as_bytes()), "secret text not stored");
        assert!(!has(&[0x5a; 32]), "secret bytes not stored");
    }

    #[tokio::test]
    async fn an_edited_row_is_corrupt_naming_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("api_keys.sqlite");
        let store = SqliteApiKeys::open(&path).expect("open");
        let r = costwatch_ports::api_keys::contract::sample(3, 1, "ingest", &["acme"]);
        store.create(&r).await.expect("create");
        let raw = rusqlite::Connection::open(&path).expect("raw");
        raw.execute("UPDATE api_keys SET role = 'root'", [])
            .expect("tamper");
        let err = store.get(&r.id).await.expect_err("bad role");
        assert!(err.to_string().contains("role"), "{err}");
    }
}
