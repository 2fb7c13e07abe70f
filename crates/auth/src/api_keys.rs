//! API-key authentication (`cwk_<id>_<secret>`, see `costwatch_domain::api_key`), and [`Chain`],
//! which sends API keys here and every other credential to the JWT verifier.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use costwatch_domain::access::Principal;
use costwatch_domain::api_key::{KeyId, PREFIX, PresentedKey};
use costwatch_ports::{ApiKeyStore, AuthError, Authenticator};

/// The same answer for an unknown id and a wrong secret, so a caller cannot learn which ids
/// exist.
const UNKNOWN: &str = "unknown API key";
/// `last_used_at` is written at most this often per key: it is for "is this key still used?",
/// not an access log, and a write per request would serialize ingest on SQLite.
const TOUCH_EVERY: Duration = Duration::minutes(1);

pub struct ApiKeyAuthenticator {
    store: Arc<dyn ApiKeyStore>,
    /// When this process last wrote `last_used_at` for each key.
    touched: Mutex<HashMap<KeyId, DateTime<Utc>>>,
}

impl ApiKeyAuthenticator {
    pub fn new(store: Arc<dyn ApiKeyStore>) -> ApiKeyAuthenticator {
        ApiKeyAuthenticator {
            store,
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `last_used_at` should be written now (and, if so, notes that it is).
    fn due(&self, id: &KeyId, stored: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        let Ok(mut touched) = self.touched.lock() else {
            return false;
        };
        let last = touched.get(id).copied().max(stored);
        if last.is_some_and(|t| now - t < TOUCH_EVERY) {
            return false;
        }
        touched.insert(id.clone(), now);
        true
    }
}

#[async_trait]
impl Authenticator for ApiKeyAuthenticator {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        let key = PresentedKey::parse(credential).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let record = self
            .store
            .get(&key.id)
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
            .ok_or_else(|| AuthError::Invalid(UNKNOWN.into()))?;
        if !record.secret_hash.matches(&key.hash()) {
            return Err(AuthError::Invalid(UNKNOWN.into()));
        }
        // Checked after the secret, so only the key's holder learns it was revoked.
        if record.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        let now = Utc::now();
        if self.due(&record.id, record.last_used_at, now)
            && let Err(e) = self.store.touch(&record.id, now).await
        {
            // Bookkeeping only: the key is valid, so the request goes on.
            tracing::warn!(key = %record.id, error = %e, "cannot record API key use");
        }
        Ok(record.principal())
    }

    /// Asked periodically by long-lived sessions. Fails closed: a key that is gone, or a store
    /// that cannot answer, ends the session (the caller can reconnect once it answers again).
    async fn revoked(&self, principal: &Principal) -> bool {
        let Some(id) = principal
            .credential_id
            .as_deref()
            .and_then(|id| KeyId::parse(id).ok())
        else {
            return true;
        };
        match self.store.get(&id).await {
            Ok(Some(r)) => r.revoked_at.is_some(),
            Ok(None) => true,
            Err(e) => {
                tracing::warn!(key = %id, error = %e, "cannot check API key revocation");
                true
            }
        }
    }
}

/// API keys and JWTs on one surface: `cwk_…` goes to the key authenticator, everything else
/// to the token verifier.
pub struct Chain {
    keys: Arc<dyn Authenticator>,
    tokens: Arc<dyn Authenticator>,
}

/// Subjects of API-key principals start with this.
const KEY_SUBJECT: &str = "key:";

impl Chain {
    pub fn new(keys: Arc<dyn Authenticator>, tokens: Arc<dyn Authenticator>) -> Chain {
        Chain { keys, tokens }
    }
}

#[async_trait]
impl Authenticator for Chain {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        if credential.starts_with(PREFIX) {
            return self.keys.authenticate(credential).await;
        }
        let principal = self.tokens.authenticate(credential).await?;
        // A token naming `key:…` would pass for an API key in the audit log and be checked
        // for revocation against the key store.
        if principal.subject.starts_with(KEY_SUBJECT) {
            return Err(AuthError::Invalid(
                "sub: the `key:` prefix is reserved for API keys".into(),
            ));
        }
        Ok(principal)
    }

    async fn revoked(&self, principal: &Principal) -> bool {
        if principal.subject.starts_with(KEY_SUBJECT) {
            self.keys.revoked(principal).await
        } else {
            self.tokens.revoked(principal).await
        }
    }

    fn required(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_domain::api_key::{ApiKeyRecord, ID_BYTES};
    use costwatch_ports::MemoryApiKeys;

    fn new_key(seed: u8, role: &str, tenants: &[&str]) -> (String, ApiKeyRecord) {
        let key = PresentedKey::new([seed; ID_BYTES], [seed.wrapping_add(1); 32]);
        let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
        let record =
            ApiKeyRecord::new(&key, "test", role, &tenants, Utc::now()).expect("valid record");
        (key.reveal(), record)
    }

    async fn setup() -> (
        Arc<MemoryApiKeys>,
        ApiKeyAuthenticator,
        String,
        ApiKeyRecord,
    ) {
        let store = Arc::new(MemoryApiKeys::default());
        let (text, record) = new_key(1, "ingest", &["acme"]);
        store.create(&record).await.expect("create");
        let auth = ApiKeyAuthenticator::new(store.clone());
        (store, auth, text, record)
    }

    #[tokio::test]
    async fn a_valid_key_is_its_principal_and_is_touched_once_a_minute() {
        let (store, auth, text, record) = setup().await;
        let p = auth.authenticate(&text).await.expect("valid");
        assert_eq!(p.subject, format!("key:{}", record.id));
        assert_eq!(p.credential_id.as_deref(), Some(record.id.as_str()));
        let first = store.get(&record.id).await.expect("get").expect("exists");
        let used = first.last_used_at.expect("touched on first use");
        auth.authenticate(&text).await.expect("valid again");
        let second = store.get(&record.id).await.expect("get").expect("exists");
        assert_eq!(
            second.last_used_at,
            Some(used),
            "not written again within a minute"
        );
        assert!(!auth.revoked(&p).await);
    }

    #[tokio::test]
    async fn unknown_id_and_wrong_secret_answer_alike() {
        let (_, auth, text, _) = setup().await;
        let (other, _) = new_key(2, "ingest", &["acme"]);
        let unknown = auth.authenticate(&other).await.expect_err("unknown id");
        let (id_part, _) = text.rsplit_once('_').expect("shape");
        let wrong = format!("{id_part}_{}", &other[other.len() - 43..]);
        let wrong = auth.authenticate(&wrong).await.expect_err("wrong secret");
        assert_eq!(unknown, AuthError::Invalid(UNKNOWN.into()));
        assert_eq!(wrong, unknown);
        let bad = auth
            .authenticate("cwk_nothex")
            .await
            .expect_err("malformed");
        assert!(matches!(bad, AuthError::Invalid(ref m) if m.contains("cwk_<id>_<secret>")));
    }

    #[tokio::test]
    async fn a_revoked_key_is_refused_and_ends_sessions() {
        let (store, auth, text, record) = setup().await;
        let p = auth.authenticate(&text).await.expect("valid");
        assert!(store.revoke(&record.id, Utc::now()).await.expect("revoke"));
        assert_eq!(auth.authenticate(&text).await, Err(AuthError::Revoked));
        assert!(auth.revoked(&p).await);
    }

    struct FakeJwt(&'static str);

    #[async_trait]
    impl Authenticator for FakeJwt {
        async fn authenticate(&self, _credential: &str) -> Result<Principal, AuthError> {
            Principal::from_claims(self.0, "admin", &[], None)
                .map_err(|e| AuthError::Invalid(e.to_string()))
        }
    }

    #[tokio::test]
    async fn chain_routes_by_prefix_and_reserves_key_subjects() {
        let (_, auth, text, record) = setup().await;
        let keys: Arc<dyn Authenticator> = Arc::new(auth);
        let chain = Chain::new(keys.clone(), Arc::new(FakeJwt("alice")));
        let p = chain.authenticate(&text).await.expect("key");
        assert_eq!(p.subject, format!("key:{}", record.id));
        let p = chain.authenticate("a.jwt.token").await.expect("jwt");
        assert_eq!(p.subject, "alice");
        assert!(!chain.revoked(&p).await, "jwt revocation asks the verifier");
        let spoof = Chain::new(keys, Arc::new(FakeJwt("key:010101010101")));
        assert!(matches!(
            spoof.authenticate("a.jwt.token").await,
            Err(AuthError::Invalid(m)) if m.contains("reserved")
        ));
        assert!(chain.required());
    }
}
