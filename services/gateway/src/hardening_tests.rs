//! Unit tests of the limiter (with a fake clock, so nothing sleeps) and its middleware.

use super::*;
use axum::body::Body;
use axum::routing::get;
use tower::ServiceExt;

/// A clock tests move by hand.
struct FakeClock(Mutex<Instant>);

impl FakeClock {
    fn new() -> Arc<FakeClock> {
        Arc::new(FakeClock(Mutex::new(Instant::now())))
    }
    fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn limiter(rpm: u32, burst: u32, max_keys: usize) -> (Arc<FakeClock>, RateLimiter) {
    let clock = FakeClock::new();
    let limits = RateLimits {
        requests_per_minute: rpm,
        burst,
    };
    (
        clock.clone(),
        RateLimiter::with_clock(limits, clock, max_keys),
    )
}

fn ip(last: u8) -> CallerKey {
    CallerKey::Peer(IpAddr::from([10, 0, 0, last]))
}

#[test]
fn a_burst_is_allowed_then_tokens_refill_at_the_rate() {
    let (clock, l) = limiter(60, 3, 100);
    for _ in 0..3 {
        assert_eq!(l.check(ip(1)), Decision::Allowed);
    }
    assert_eq!(
        l.check(ip(1)),
        Decision::Limited {
            retry_after_secs: 1
        }
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(l.check(ip(1)), Decision::Allowed);
    assert!(matches!(l.check(ip(1)), Decision::Limited { .. }));
    // A long pause refills to the burst, not beyond it.
    clock.advance(Duration::from_secs(600));
    for _ in 0..3 {
        assert_eq!(l.check(ip(1)), Decision::Allowed);
    }
    assert!(matches!(l.check(ip(1)), Decision::Limited { .. }));
}

#[test]
fn retry_after_is_the_wait_for_one_token() {
    // 6 per minute: one token every 10 s.
    let (clock, l) = limiter(6, 1, 100);
    assert_eq!(l.check(ip(1)), Decision::Allowed);
    assert_eq!(
        l.check(ip(1)),
        Decision::Limited {
            retry_after_secs: 10
        }
    );
    clock.advance(Duration::from_secs(4));
    assert_eq!(
        l.check(ip(1)),
        Decision::Limited {
            retry_after_secs: 6
        }
    );
}

fn request(auth: Option<&str>, peer: Option<[u8; 4]>) -> axum::http::Request<Body> {
    let mut req = axum::http::Request::builder().uri("/graphql");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let mut req = req.body(Body::empty()).unwrap_or_default();
    if let Some(p) = peer {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((p, 40000))));
    }
    req
}

#[test]
fn each_credential_has_its_own_bucket_keyed_by_its_hash() {
    let a = CallerKey::of(&request(Some("Bearer token-a"), Some([10, 0, 0, 1])));
    let b = CallerKey::of(&request(Some("Bearer token-b"), Some([10, 0, 0, 1])));
    let expected: [u8; 32] = Sha256::digest(b"Bearer token-a").into();
    assert_eq!(a, CallerKey::Credential(expected));
    assert_ne!(a, b, "two tokens from one address share a bucket");

    let (_, l) = limiter(60, 2, 100);
    assert_eq!(l.check(a), Decision::Allowed);
    assert_eq!(l.check(a), Decision::Allowed);
    assert!(matches!(l.check(a), Decision::Limited { .. }));
    assert_eq!(l.check(b), Decision::Allowed, "b is limited by a's use");
}

#[test]
fn anonymous_callers_are_keyed_by_peer_address_or_share_one_bucket() {
    let one = CallerKey::of(&request(None, Some([10, 0, 0, 1])));
    let same = CallerKey::of(&request(None, Some([10, 0, 0, 1])));
    let two = CallerKey::of(&request(None, Some([10, 0, 0, 2])));
    assert_eq!(one, ip(1));
    assert_eq!(one, same);
    assert_ne!(one, two);
    assert_eq!(CallerKey::of(&request(None, None)), CallerKey::Unknown);

    let (_, l) = limiter(60, 1, 100);
    assert_eq!(l.check(one), Decision::Allowed);
    assert!(matches!(l.check(same), Decision::Limited { .. }));
    assert_eq!(l.check(two), Decision::Allowed);
}

#[test]
fn memory_is_bounded_by_idle_eviction_and_the_key_cap() {
    let (clock, l) = limiter(60, 5, 10);
    for i in 0..5 {
        l.check(ip(i));
    }
    assert_eq!(l.tracked(), 5);
    // Idle buckets go at the next sweep.
    clock.advance(IDLE_EVICT + Duration::from_secs(1));
    l.check(ip(200));
    assert_eq!(l.tracked(), 1);

    // A flood of new keys never holds more than the cap; the newest keys stay.
    for i in 0..50u8 {
        clock.advance(Duration::from_millis(10));
        l.check(ip(i));
        assert!(l.tracked() <= 10, "{} keys", l.tracked());
    }
    // The most recent caller kept its (used) bucket.
    let buckets = l.lock();
    assert!(buckets.map.get(&ip(49)).is_some_and(|b| b.tokens < 5.0));
}

fn limited_app(l: RateLimiter) -> Router {
    Router::new()
        .route(HEALTHZ_PATH, get(|| async { "ok" }))
        .route("/graphql", get(|| async { "page" }))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(l),
            rate_limit,
        ))
}

#[tokio::test]
async fn healthz_is_never_limited() {
    let (_, l) = limiter(60, 1, 100);
    let app = limited_app(l);
    for _ in 0..5 {
        let req = axum::http::Request::builder()
            .uri(HEALTHZ_PATH)
            .body(Body::empty())
            .unwrap_or_default();
        let res = app
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn over_the_limit_is_429_with_retry_after_and_a_graphql_error() {
    let (_, l) = limiter(30, 1, 100);
    let app = limited_app(l);
    let first = app
        .clone()
        .oneshot(request(Some("Bearer t"), None))
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(first.status(), StatusCode::OK);
    let res = app
        .oneshot(request(Some("Bearer t"), None))
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        res.headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert_eq!(
        body,
        serde_json::json!({"errors": [{
            "message": "rate limit exceeded: 30 requests per minute; retry in 2 s",
            "extensions": {"code": "RATE_LIMITED"}
        }]})
    );
}

#[tokio::test]
async fn harden_sets_the_headers_and_graphiql_gets_its_own_policy() {
    let app = harden(
        Router::new()
            .route("/", get(|| async { "home" }))
            .route(GRAPHQL_PATH, get(|| async { "graphiql" })),
        &HardeningConfig {
            tls: true,
            ..HardeningConfig::default()
        },
    );
    let get = |path: &str, host: &str| {
        axum::http::Request::builder()
            .uri(path)
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap_or_default()
    };
    let res = app
        .clone()
        .oneshot(get("/", "cw.example:8080"))
        .await
        .unwrap_or_else(|e| match e {});
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert!(h.contains_key("strict-transport-security"));
    let csp = h["content-security-policy"].to_str().unwrap_or_default();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.ends_with("connect-src 'self' ws://cw.example:8080 wss://cw.example:8080"),
        "{csp}"
    );

    let res = app
        .oneshot(get(GRAPHQL_PATH, "x; script-src *"))
        .await
        .unwrap_or_else(|e| match e {});
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default();
    assert!(csp.contains("https://unpkg.com"), "{csp}");
    assert!(
        csp.ends_with("connect-src 'self'"),
        "a forged Host must not reach the policy: {csp}"
    );
}

#[tokio::test]
async fn without_tls_there_is_no_hsts_and_slow_handlers_time_out() {
    let app = harden(
        Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        ),
        &HardeningConfig {
            request_timeout: Duration::from_millis(50),
            ..HardeningConfig::default()
        },
    );
    let req = axum::http::Request::builder()
        .uri("/slow")
        .body(Body::empty())
        .unwrap_or_default();
    let res = app.oneshot(req).await.unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(!res.headers().contains_key("strict-transport-security"));
    assert_eq!(res.headers()["x-frame-options"], "DENY");
}
