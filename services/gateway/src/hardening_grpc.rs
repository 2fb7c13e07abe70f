//! The per-caller rate limit on the gRPC listener (IngestService, BudgetService): the same
//! token buckets as HTTP ([`RateLimiter`], keyed by the `authorization` metadata — gRPC
//! metadata are HTTP/2 headers), answered with `RESOURCE_EXHAUSTED` and a `retry-after`
//! header. Health checks are never limited, as `/healthz` is not on HTTP.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use tower::{Layer, Service};

use crate::hardening::{CallerKey, Decision, RateLimiter, RateLimits};

const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// Wraps a gRPC server's services with the rate limit (`None`: no limit).
#[derive(Clone)]
pub struct GrpcRateLimitLayer {
    limiter: Option<Arc<RateLimiter>>,
}

impl GrpcRateLimitLayer {
    pub fn new(limits: Option<RateLimits>) -> GrpcRateLimitLayer {
        GrpcRateLimitLayer {
            limiter: limits.map(|l| Arc::new(RateLimiter::new(l))),
        }
    }
}

impl<S> Layer<S> for GrpcRateLimitLayer {
    type Service = GrpcRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcRateLimit {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GrpcRateLimit<S> {
    inner: S,
    limiter: Option<Arc<RateLimiter>>,
}

impl<S, B, RB> Service<axum::http::Request<B>> for GrpcRateLimit<S>
where
    S: Service<axum::http::Request<B>, Response = axum::http::Response<RB>>,
    RB: Default,
{
    type Response = axum::http::Response<RB>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<axum::http::Response<RB>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let Some(limiter) = &self.limiter else {
            return Either::Left(self.inner.call(req));
        };
        if req.uri().path().starts_with(HEALTH_PREFIX) {
            return Either::Left(self.inner.call(req));
        }
        match limiter.check(CallerKey::of(&req)) {
            Decision::Allowed => Either::Left(self.inner.call(req)),
            Decision::Limited { retry_after_secs } => {
                let limits = limiter.limits();
                let status = tonic::Status::resource_exhausted(format!(
                    "rate limit exceeded: {} requests per minute; retry in {retry_after_secs} s",
                    limits.requests_per_minute
                ));
                let mut resp = status.into_http::<RB>();
                if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
                Either::Right(ready(Ok(resp)))
            }
        }
    }
}
