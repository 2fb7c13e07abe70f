//! The API-key store port (see `costwatch_domain::api_key` and `docs/security.md`): records of
//! machine keys, holding only the hash of each secret. Adapters: SQLite (`costwatch-embedded`)
//! and [`MemoryApiKeys`] (tests); both pass [`api_key_store_contract!`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_domain::api_key::{ApiKeyRecord, KeyId};

use crate::StoreError;

/// Why `create` refused a record.
#[derive(Debug, thiserror::Error)]
pub enum CreateKeyError {
    #[error("an API key with id {0} already exists")]
    Duplicate(KeyId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; an existing id is refused (never overwritten).
    async fn create(&self, record: &ApiKeyRecord) -> Result<(), CreateKeyError>;

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Every key, oldest first (ties by id).
    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Marks the key revoked at `at`; `false` when there is no such key. Idempotent: a revoked
    /// key keeps its first revocation time.
    async fn revoke(&self, id: &KeyId, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Records a use at `at` (only moves `last_used_at` forward); unknown ids are ignored.
    async fn touch(&self, id: &KeyId, at: DateTime<Utc>) -> Result<(), StoreError>;
}

/// An in-memory store, for tests of the authenticator.
#[derive(Default)]
pub struct MemoryApiKeys {
    keys: Mutex<BTreeMap<KeyId, ApiKeyRecord>>,
}

impl MemoryApiKeys {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<KeyId, ApiKeyRecord>) -> T,
    ) -> Result<T, StoreError> {
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| StoreError::Unavailable("api key map poisoned".into()))?;
        Ok(f(&mut keys))
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeys {
    async fn create(&self, record: &ApiKeyRecord) -> Result<(), CreateKeyError> {
        self.with(|keys| {
            if keys.contains_key(&record.id) {
                return Err(CreateKeyError::Duplicate(record.id.clone()));
            }
            keys.insert(record.id.clone(), record.clone());
            Ok(())
        })?
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.with(|keys| keys.get(id).cloned())
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut all = self.with(|keys| keys.values().cloned().collect::<Vec<_>>())?;
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn revoke(&self, id: &KeyId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.with(|keys| match keys.get_mut(id) {
            Some(r) => {
                r.revoked_at.get_or_insert(at);
                true
            }
            None => false,
        })
    }

    async fn touch(&self, id: &KeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.with(|keys| {
            if let Some(r) = keys.get_mut(id) {
                r.last_used_at = Some(r.last_used_at.map_or(at, |t| t.max(at)));
            }
        })
    }
}

#[async_trait]
impl crate::TenantData for MemoryApiKeys {
    fn holds(&self) -> &'static str {
        "API keys"
    }

    /// A key of only this tenant goes; a key of several loses this one.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
        self.with(|keys| {
            let mut changed = 0;
            keys.retain(|_, r| {
                let before = r.tenants.len();
                r.tenants.retain(|t| t.to_string() != tenant);
                if r.tenants.len() == before {
                    return true;
                }
                changed += 1;
                !r.tenants.is_empty()
            });
            changed
        })
    }
}

/// The cases of [`api_key_store_contract!`]; each takes a fresh, empty store.
pub mod contract {
    use chrono::{DateTime, TimeZone, Utc};
    use costwatch_domain::api_key::{ApiKeyRecord, ID_BYTES, KeyId, PresentedKey};

    use super::{ApiKeyStore, CreateKeyError};

    pub fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 13, minute % 60, 0)
            .single()
            .expect("valid time")
            + chrono::Duration::nanoseconds(123_456_789)
    }

    /// A record with id `seed` repeated, created at minute `minute`.
    pub fn sample(seed: u8, minute: u32, role: &str, tenants: &[&str]) -> ApiKeyRecord {
        let key = PresentedKey::new([seed; ID_BYTES], [seed; 32]);
        let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
        ApiKeyRecord::new(&key, &format!("key {seed}"), role, &tenants, at(minute))
            .expect("valid sample")
    }

    /// Records read back exactly; an existing id is refused and the first record kept.
    pub async fn create_get_and_duplicate(store: &impl ApiKeyStore) {
        let id = KeyId::from_bytes([1; ID_BYTES]);
        assert_eq!(store.get(&id).await.expect("get"), None);
        let r = sample(1, 5, "ingest", &["acme", "globex"]);
        store.create(&r).await.expect("create");
        assert_eq!(store.get(&id).await.expect("get"), Some(r.clone()));
        let finance = sample(2, 6, "finance", &[]);
        store.create(&finance).await.expect("create finance");
        assert_eq!(store.get(&finance.id).await.expect("get"), Some(finance));
        let mut again = sample(1, 9, "tenant-viewer", &["initech"]);
        again.name = "impostor".into();
        let err = store.create(&again).await.expect_err("duplicate id");
        assert!(
            matches!(err, CreateKeyError::Duplicate(ref d) if *d == id),
            "{err}"
        );
        assert_eq!(
            store.get(&id).await.expect("get"),
            Some(r),
            "first record kept"
        );
    }

    /// Oldest first, ties broken by id.
    pub async fn list_order(store: &impl ApiKeyStore) {
        assert!(store.list().await.expect("empty").is_empty());
        for (seed, minute) in [(3, 20), (1, 10), (4, 10), (2, 30)] {
            store
                .create(&sample(seed, minute, "tenant-viewer", &["acme"]))
                .await
                .expect("create");
        }
        let ids: Vec<String> = store
            .list()
            .await
            .expect("list")
            .iter()
            .map(|r| r.id.to_string())
            .collect();
        let want: Vec<String> = [1u8, 4, 3, 2]
            .iter()
            .map(|s| KeyId::from_bytes([*s; ID_BYTES]).to_string())
            .collect();
        assert_eq!(ids, want);
    }

    /// Revoking sets `revoked_at` once; again keeps the first time; unknown ids say `false`.
    pub async fn revoke_is_idempotent(store: &impl ApiKeyStore) {
        let r = sample(5, 1, "ingest", &["acme"]);
        store.create(&r).await.expect("create");
        assert!(store.revoke(&r.id, at(2)).await.expect("revoke"));
        assert!(store.revoke(&r.id, at(3)).await.expect("revoke again"));
        let got = store.get(&r.id).await.expect("get").expect("still listed");
        assert_eq!(got.revoked_at, Some(at(2)));
        let unknown = KeyId::from_bytes([9; ID_BYTES]);
        assert!(!store.revoke(&unknown, at(2)).await.expect("unknown"));
        assert_eq!(store.get(&unknown).await.expect("get"), None);
    }

    /// `touch` sets `last_used_at`, only forward; unknown ids are ignored.
    pub async fn touch_updates_last_used(store: &impl ApiKeyStore) {
        let r = sample(6, 1, "ingest", &["acme"]);
        store.create(&r).await.expect("create");
        store.touch(&r.id, at(10)).await.expect("touch");
        let last = |s: Option<ApiKeyRecord>| s.expect("exists").last_used_at;
        assert_eq!(last(store.get(&r.id).await.expect("get")), Some(at(10)));
        store.touch(&r.id, at(12)).await.expect("touch");
        store.touch(&r.id, at(11)).await.expect("touch older");
        assert_eq!(last(store.get(&r.id).await.expect("get")), Some(at(12)));
        store
            .touch(&KeyId::from_bytes([8; ID_BYTES]), at(13))
            .await
            .expect("unknown ignored");
        let got = store.get(&r.id).await.expect("get").expect("exists");
        assert_eq!(got.revoked_at, None, "touch changes nothing else");
        assert_eq!(got.secret_hash, r.secret_hash);
    }
}

/// `api_key_store_contract!(make() [, teardown = f] [, ignore = ".."])`, where `make()` yields a
/// fresh, empty store; `f(&store)` runs after a case passed (e.g. to drop a test keyspace).
#[macro_export]
macro_rules! api_key_store_contract {
    ($make:expr $(, teardown = $teardown:path)? $(, ignore = $why:literal)?) => {
        mod api_key_store_contract {
            use super::*;
            #[tokio::test]
            $(#[ignore = $why])?
            async fn create_get_and_duplicate() {
                let store = $make.await;
                $crate::api_keys::contract::create_get_and_duplicate(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn list_order() {
                let store = $make.await;
                $crate::api_keys::contract::list_order(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn revoke_is_idempotent() {
                let store = $make.await;
                $crate::api_keys::contract::revoke_is_idempotent(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn touch_updates_last_used() {
                let store = $make.await;
                $crate::api_keys::contract::touch_updates_last_used(&store).await;
                $($teardown(&store).await;)?
            }
            #[tokio::test]
            $(#[ignore = $why])?
            async fn erases_one_tenant() {
                let store = $make.await;
                $crate::erasure_contract::api_key_store_erases_one_tenant(&store).await;
                $($teardown(&store).await;)?
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> MemoryApiKeys {
        MemoryApiKeys::default()
    }

    api_key_store_contract!(fresh());
}
