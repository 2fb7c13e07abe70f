//! JWK Sets: parsing them into verification keys, and the cache of a remote set.
//!
//! The algorithm a key verifies with is fixed here, by the key's own type (RSA → RS256, EC P-256
//! → ES256), never by the token's header. That is what defeats algorithm confusion: a token
//! claiming HS256 can never get a public key used as an HMAC secret.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// A token naming an unknown `kid` may trigger a re-fetch at most this often, so a stream of
/// forged kids cannot turn the verifier into a load generator against the identity provider.
pub(crate) const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// While no key set was ever loaded, a failed fetch is retried at most this often: requests in
/// between get the last error (`Unavailable`) instead of each hitting the endpoint.
const FAILED_FETCH_RETRY: Duration = Duration::from_secs(5);

/// How long one JWKS request may take before the verifier answers `Unavailable`.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The smallest RSA modulus accepted (2048 bits), as ring enforces when verifying anyway; refusing
/// at load time makes a weak key a visible configuration error instead of failing signatures.
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One verification key from a JWK Set.
#[derive(Clone)]
pub(crate) struct VerifyKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one JWK Set.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyKey>,
}

/// The answer of [`KeySet::find`].
pub(crate) enum Lookup {
    Found(VerifyKey),
    /// No key with this kid (or, for a token without kid, no key for its algorithm).
    Unknown,
    /// The kid exists, but its key is for another algorithm than the token claims.
    WrongAlgorithm,
    /// A token without kid while several keys could verify it: refuse rather than guess.
    Ambiguous,
}

impl KeySet {
    /// Parses a JWK Set (`{"keys": [...]}`). Keys this verifier cannot use (HMAC `oct` keys,
    /// other curves, encryption keys, other algorithms) are skipped, not errors: identity
    /// providers publish such keys next to the signing keys.
    pub(crate) fn parse(set: &Value) -> Result<KeySet, String> {
        let Some(entries) = set.get("keys").and_then(Value::as_array) else {
            return Err("not a JWK Set: no \"keys\" array".into());
        };
        let mut keys = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match parse_jwk(entry) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(reason) => tracing::warn!(index, %reason, "skipping unusable JWK"),
            }
        }
        Ok(KeySet { keys })
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key that may verify a token with header `kid` and `alg`.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid));
                let Some(first) = named.next() else {
                    return Lookup::Unknown;
                };
                std::iter::once(first)
                    .chain(named)
                    .find(|k| k.alg == alg)
                    .map_or(Lookup::WrongAlgorithm, |k| Lookup::Found(k.clone()))
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.alg == alg);
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Lookup::Found(only.clone()),
                    (None, _) => Lookup::Unknown,
                    (Some(_), Some(_)) => Lookup::Ambiguous,
                }
            }
        }
    }
}

/// One JWK → a key, `None` when it is of a kind this verifier does not use.
fn parse_jwk(jwk: &Value) -> Result<Option<VerifyKey>, String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let kid = text("kid").map(str::to_owned);
    let (alg, key) = match text("kty") {
        Some("RSA") => {
            if text("alg").is_some_and(|a| a != "RS256") {
                return Ok(None);
            }
            let (Some(n), Some(e)) = (text("n"), text("e")) else {
                return Err("RSA key without n or e".into());
            };
            let modulus = URL_SAFE_NO_PAD
                .decode(n)
                .map_err(|e| format!("n is not base64url: {e}"))?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err(format!(
                    "RSA modulus of {} bits is too small",
                    significant * 8
                ));
            }
            let key = DecodingKey::from_rsa_components(n, e)
                .map_err(|e| format!("bad RSA components: {e}"))?;
            (Algorithm::RS256, key)
        }
        Some("EC") => {
            if text("crv") != Some("P-256") || text("alg").is_some_and(|a| a != "ES256") {
                return Ok(None);
            }
            let (Some(x), Some(y)) = (text("x"), text("y")) else {
                return Err("EC key without x or y".into());
            };
            for (name, coordinate) in [("x", x), ("y", y)] {
                let bytes = URL_SAFE_NO_PAD
                    .decode(coordinate)
                    .map_err(|e| format!("{name} is not base64url: {e}"))?;
                if bytes.len() != 32 {
                    return Err(format!("{name} must be 32 bytes for P-256"));
                }
            }
            let key = DecodingKey::from_ec_components(x, y)
                .map_err(|e| format!("bad EC components: {e}"))?;
            (Algorithm::ES256, key)
        }
        // `oct` (HMAC secrets), OKP and anything newer: not accepted by this verifier.
        _ => return Ok(None),
    };
    Ok(Some(VerifyKey { kid, alg, key }))
}

/// A JWK Set behind a URL: fetched on first use, re-fetched (rate-limited) when a token names a
/// kid it does not know, which is how key rotation at the identity provider reaches us.
pub(crate) struct RemoteKeys {
    url: String,
    client: reqwest::Client,
    state: tokio::sync::Mutex<RemoteState>,
}

#[derive(Default)]
struct RemoteState {
    keys: Option<Arc<KeySet>>,
    last_refetch: Option<Instant>,
    last_failure: Option<(Instant, String)>,
}

impl RemoteKeys {
    pub(crate) fn new(url: String) -> Result<RemoteKeys, String> {
        reqwest::Url::parse(&url).map_err(|e| format!("JWKS URL {url:?}: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("HTTP client for JWKS: {e}"))?;
        Ok(RemoteKeys {
            url,
            client,
            state: tokio::sync::Mutex::new(RemoteState::default()),
        })
    }

    /// The current key set, fetching it on first use.
    pub(crate) async fn current(&self) -> Result<Arc<KeySet>, String> {
        let mut state = self.state.lock().await;
        if let Some(keys) = &state.keys {
            return Ok(Arc::clone(keys));
        }
        if let Some((at, reason)) = &state.last_failure
            && at.elapsed() < FAILED_FETCH_RETRY
        {
            return Err(reason.clone());
        }
        match self.fetch().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                state.keys = Some(Arc::clone(&keys));
                state.last_failure = None;
                Ok(keys)
            }
            Err(reason) => {
                state.last_failure = Some((Instant::now(), reason.clone()));
                Err(reason)
            }
        }
    }

    /// Called when a token names a kid the current set lacks: re-fetches unless that happened
    /// less than [`REFETCH_INTERVAL`] ago, and returns the (possibly unchanged) set. Requests
    /// waiting on the lock behind a re-fetch see its result instead of fetching again.
    pub(crate) async fn refresh(&self) -> Result<Arc<KeySet>, String> {
        let mut state = self.state.lock().await;
        let recent = state
            .last_refetch
            .is_some_and(|at| at.elapsed() < REFETCH_INTERVAL);
        if let (true, Some(keys)) = (recent, &state.keys) {
            return Ok(Arc::clone(keys));
        }
        state.last_refetch = Some(Instant::now());
        let keys = Arc::new(self.fetch().await?);
        tracing::info!(url = %self.url, keys = keys.len(), "re-fetched JWKS for an unknown kid");
        state.keys = Some(Arc::clone(&keys));
        state.last_failure = None;
        Ok(keys)
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let url = &self.url;
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("fetching JWKS from {url}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("JWKS endpoint {url} answered {status}"));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("JWKS from {url} is not JSON: {e}"))?;
        KeySet::parse(&body).map_err(|e| format!("JWKS from {url}: {e}"))
    }
}
