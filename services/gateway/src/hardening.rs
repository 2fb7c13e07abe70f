//! HTTP hardening applied to every listener: a per-caller token-bucket rate limit, security
//! headers and a request timeout ([`harden`]). Kept free of auth so it also covers the public
//! routes (static files, GraphiQL) and refuses floods before any token is verified.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::GRAPHQL_PATH;

/// Never limited: load balancers probe it often and it reveals nothing.
pub const HEALTHZ_PATH: &str = "/healthz";
/// A bucket untouched this long is full again (any sane limit refills well within it), so
/// forgetting it changes nothing for its caller.
const IDLE_EVICT: Duration = Duration::from_secs(600);
/// How often idle buckets are swept (a sweep walks the whole map, so not on every request).
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// The most callers tracked at once: bounds memory when keys are cheap to invent.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Requests per caller: `burst` at once, refilled at `requests_per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub requests_per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimits {
    /// A dashboard view change issues a handful of queries; 120 at once and 10/s sustained leave
    /// ample room for a person (or several tabs) and still stop a runaway script.
    fn default() -> Self {
        RateLimits {
            requests_per_minute: 600,
            burst: 120,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HardeningConfig {
    /// `None` (or 0 requests per minute): no rate limit.
    pub rate_limits: Option<RateLimits>,
    /// Longest wait for a response's headers (WebSocket sessions are not bounded: the upgrade
    /// response is immediate and the session runs outside the request).
    pub request_timeout: Duration,
    /// Send `Strict-Transport-Security`: only when the listener is reached over HTTPS.
    pub tls: bool,
}

impl Default for HardeningConfig {
    fn default() -> Self {
        HardeningConfig {
            rate_limits: Some(RateLimits::default()),
            request_timeout: Duration::from_secs(30),
            tls: false,
        }
    }
}

/// The time source of the limiter, replaceable so tests need not sleep.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Whose bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// SHA-256 of the `Authorization` value: one bucket per token or API key, without keeping
    /// the secret itself in memory.
    Credential([u8; 32]),
    /// Requests without a credential, by peer address.
    Peer(IpAddr),
    /// No credential and no peer address known (tests, in-process calls): one shared bucket.
    Unknown,
}

impl CallerKey {
    pub fn of<B>(req: &axum::http::Request<B>) -> CallerKey {
        if let Some(value) = req.headers().get(header::AUTHORIZATION) {
            return CallerKey::Credential(Sha256::digest(value.as_bytes()).into());
        }
        match req.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => CallerKey::Peer(addr.ip()),
            None => CallerKey::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after_secs: u64 },
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct Buckets {
    map: HashMap<CallerKey, Bucket>,
    last_sweep: Instant,
}

/// Token buckets per caller, refilled lazily when the caller next asks.
pub struct RateLimiter {
    limits: RateLimits,
    clock: Arc<dyn Clock>,
    max_keys: usize,
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter::with_clock(limits, Arc::new(SystemClock), DEFAULT_MAX_KEYS)
    }

    pub fn with_clock(limits: RateLimits, clock: Arc<dyn Clock>, max_keys: usize) -> RateLimiter {
        // Zero would mean "never refill" or "never allow"; callers turn the limit off instead.
        let limits = RateLimits {
            requests_per_minute: limits.requests_per_minute.max(1),
            burst: limits.burst.max(1),
        };
        let now = clock.now();
        RateLimiter {
            limits,
            clock,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(Buckets {
                map: HashMap::new(),
                last_sweep: now,
            }),
        }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Callers currently tracked.
    pub fn tracked(&self) -> usize {
        self.lock().map.len()
    }

    /// Takes one token from `key`'s bucket, or says how long until one is available.
    pub fn check(&self, key: CallerKey) -> Decision {
        let now = self.clock.now();
        let rate = f64::from(self.limits.requests_per_minute) / 60.0;
        let burst = f64::from(self.limits.burst);
        let mut b = self.lock();
        if now.saturating_duration_since(b.last_sweep) >= SWEEP_EVERY {
            b.map
                .retain(|_, bucket| now.saturating_duration_since(bucket.last) < IDLE_EVICT);
            b.last_sweep = now;
        }
        if !b.map.contains_key(&key) && b.map.len() >= self.max_keys {
            make_room(&mut b.map, now, self.max_keys);
        }
        let bucket = b.map.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed
        } else {
            let wait = ((1.0 - bucket.tokens) / rate).ceil().max(1.0);
            Decision::Limited {
                retry_after_secs: wait as u64,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        // The map holds no invariant a panicking holder could break halfway.
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Frees space for a new caller: idle buckets first, then the least recently seen tenth, so a
/// flood of new keys pays for one sort per `max_keys / 10` insertions, not one scan each.
fn make_room(map: &mut HashMap<CallerKey, Bucket>, now: Instant, max_keys: usize) {
    map.retain(|_, bucket| now.saturating_duration_since(bucket.last) < IDLE_EVICT);
    if map.len() < max_keys {
        return;
    }
    let keep = max_keys - max_keys.div_ceil(10);
    let mut by_age: Vec<(Instant, CallerKey)> = map.iter().map(|(k, b)| (b.last, *k)).collect();
    // Newest first: everything after the first `keep` entries goes.
    by_age.sort_unstable_by_key(|entry| std::cmp::Reverse(entry.0));
    for (_, key) in by_age.into_iter().skip(keep) {
        map.remove(&key);
    }
}

/// The 429 answer, in the GraphQL error shape the dashboard already handles.
pub fn rate_limited_response(limits: RateLimits, retry_after_secs: u64) -> Response {
    let body = serde_json::json!({ "errors": [{
        "message": format!(
            "rate limit exceeded: {} requests per minute; retry in {} s",
            limits.requests_per_minute, retry_after_secs
        ),
        "extensions": { "code": "RATE_LIMITED" },
    }]});
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after_secs.to_string())],
        axum::Json(body),
    )
        .into_response()
}

async fn rate_limit(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    if req.uri().path() == HEALTHZ_PATH {
        return next.run(req).await;
    }
    match limiter.check(CallerKey::of(&req)) {
        Decision::Allowed => next.run(req).await,
        Decision::Limited { retry_after_secs } => {
            rate_limited_response(limiter.limits(), retry_after_secs)
        }
    }
}

/// The dashboard: Vite module scripts and styles from this origin only; inline `style=`
/// attributes (React, ECharts tooltips) need `'unsafe-inline'` styles; charts draw on canvas and
/// may export `data:`/`blob:` images; subscriptions use a WebSocket to this host.
const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// GraphiQL (async-graphql's `GraphiQLSource`): React and GraphiQL scripts and styles from
/// unpkg.com, an inline bootstrap script and `<style>` block, the favicon from graphql.org.
/// The page holds no data; the looser policy applies to `GET /graphql` only.
const GRAPHIQL_CSP: &str = "default-src 'self'; \
    script-src 'self' 'unsafe-inline' https://unpkg.com; \
    style-src 'self' 'unsafe-inline' https://unpkg.com; \
    img-src 'self' data: https://graphql.org; font-src 'self' data: https://unpkg.com; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// `connect-src`: this origin plus its WebSocket form. CSP3 browsers match `ws:`/`wss:` to
/// `'self'`; older ones need the host spelled out, taken from the request's own `Host`.
fn connect_src(req: &Request) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    // Only host[:port] characters, so a forged Host cannot inject directives.
    let valid = |h: &&str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".-:[]".contains(&c))
    };
    match host.filter(valid) {
        Some(h) => format!("connect-src 'self' ws://{h} wss://{h}"),
        None => "connect-src 'self'".to_string(),
    }
}

async fn content_security_policy(req: Request, next: Next) -> Response {
    let base = if req.method() == Method::GET && req.uri().path() == GRAPHQL_PATH {
        GRAPHIQL_CSP
    } else {
        DASHBOARD_CSP
    };
    let policy = format!("{base}; {}", connect_src(&req));
    let mut res = next.run(req).await;
    if !res.headers().contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(value) = HeaderValue::from_str(&policy)
    {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}

fn fixed(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Applies the rate limit, the request timeout and the security headers to every route and the
/// fallback. Headers are outermost so 429 and 408 answers carry them too.
pub fn harden(router: Router, cfg: &HardeningConfig) -> Router {
    // Bounds the time to the response's headers only: a WebSocket upgrade answers 101 at once and
    // its session continues on the upgraded connection, outside this timeout.
    let mut router = router.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        cfg.request_timeout,
    ));
    if let Some(limits) = cfg.rate_limits.filter(|l| l.requests_per_minute > 0) {
        let limiter = Arc::new(RateLimiter::new(limits));
        router = router.layer(axum::middleware::from_fn_with_state(limiter, rate_limit));
    }
    router = router
        .layer(axum::middleware::from_fn(content_security_policy))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ));
    if cfg.tls {
        router = router.layer(fixed(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    router
}

#[cfg(test)]
#[path = "hardening_tests.rs"]
mod tests;
