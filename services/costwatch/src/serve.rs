//! Listener wiring shared by `costwatch up` and the distributed service processes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use costwatch_collector::Ingestor;
use costwatch_gateway::hardening::{HardeningConfig, RateLimits};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::tls::Tls;

/// `/healthz` for load balancers and scripts.
pub fn health_router() -> Router {
    Router::new().route(
        "/healthz",
        get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
    )
}

/// The `rate_limit_per_minute`, `rate_limit_burst` and `request_timeout_secs` settings (the same
/// keys in `costwatch up` and distributed mode) as the gateway's hardening takes them; `tls`
/// when the listeners serve HTTPS (then HSTS is sent).
pub fn hardening(per_minute: u32, burst: u32, timeout_secs: u64, tls: bool) -> HardeningConfig {
    HardeningConfig {
        rate_limits: (per_minute > 0).then_some(RateLimits {
            requests_per_minute: per_minute,
            burst,
        }),
        request_timeout: Duration::from_secs(timeout_secs),
        tls,
    }
}

/// Problems of those settings, each naming its key.
pub fn hardening_problems(per_minute: u32, burst: u32, timeout_secs: u64) -> Vec<String> {
    let mut problems = Vec::new();
    if per_minute > 0 && burst == 0 {
        problems.push(
            "rate_limit_burst: must be at least 1 (or set rate_limit_per_minute = 0 to turn the limit off)"
                .to_string(),
        );
    }
    if !(1..=3600).contains(&timeout_secs) {
        problems.push("request_timeout_secs: must be between 1 and 3600".to_string());
    }
    problems
}

/// Serves `app` on `listener` (HTTPS with `tls`) until `shutdown` turns true (in-flight requests
/// finish). Every HTTP listener is built here, so every one gets the rate limit, timeout and
/// security headers.
pub fn spawn_http(
    tasks: &mut JoinSet<()>,
    listener: TcpListener,
    tls: Option<&Tls>,
    app: Router,
    hardening: &HardeningConfig,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<()> {
    let mut stop = shutdown.subscribe();
    // Tracing outermost, so refused (429) and timed-out (408) requests are traced too.
    let app = costwatch_gateway::hardening::harden(app, hardening)
        .layer(tower_http::trace::TraceLayer::new_for_http());
    // The peer address feeds the audit log's `source`.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    match tls {
        None => tasks.spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(stopped);
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "http server failed");
            }
        }),
        Some(tls) => {
            // `tap_io`: axum gives `ConnectInfo<SocketAddr>` to tapped listeners of any kind.
            let listener = tls.http_incoming(listener)?.tap_io(|_| {});
            tasks.spawn(async move {
                let serve = axum::serve(listener, app).with_graceful_shutdown(stopped);
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "https server failed");
                }
            })
        }
    };
    Ok(())
}

/// How the gRPC listener serves: TLS when configured, the per-caller limit when set.
pub struct GrpcServing<'a> {
    pub tls: Option<&'a Tls>,
    pub rate_limits: Option<RateLimits>,
}

/// The collector's gRPC listener (over TLS with `tls`): IngestService, health and reflection.
pub async fn spawn_grpc_ingest(
    tasks: &mut JoinSet<()>,
    listener: TcpListener,
    serving: GrpcServing<'_>,
    ingestor: Arc<Ingestor>,
    alerting: Option<Arc<costwatch_gateway::Alerting>>,
    auth: costwatch_gateway::auth::GatewayAuth,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<()> {
    let GrpcServing { tls, rate_limits } = serving;
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let budget_grpc = match alerting {
        Some(a) => {
            health_reporter
                .set_serving::<costwatch_proto::v1::budget_service_server::BudgetServiceServer<
                    costwatch_gateway::grpc::BudgetGrpc,
                >>()
                .await;
            Some(
                costwatch_gateway::grpc::BudgetGrpc::new(a.budgets.clone(), a.evaluator.clone())
                    .with_publisher_wake(a.publisher_wake.clone())
                    .with_auth(auth)
                    .into_server(),
            )
        }
        None => None,
    };
    health_reporter
        .set_serving::<costwatch_proto::v1::ingest_service_server::IngestServiceServer<
            costwatch_collector::grpc::IngestGrpc,
        >>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(costwatch_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("grpc reflection")?;
    let ingest_grpc = costwatch_collector::grpc::IngestGrpc::new(ingestor).into_server();
    let mut stop = shutdown.subscribe();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    // The HTTP listener's per-caller limit, with buckets of its own.
    let router = tonic::transport::Server::builder()
        .layer(costwatch_gateway::hardening_grpc::GrpcRateLimitLayer::new(
            rate_limits,
        ))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(ingest_grpc)
        .add_optional_service(budget_grpc);
    match tls {
        None => {
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            tasks.spawn(async move {
                let served = router.serve_with_incoming_shutdown(incoming, stopped).await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "grpc server failed");
                }
            })
        }
        Some(tls) => {
            let incoming = tls.grpc_incoming(listener)?;
            tasks.spawn(async move {
                let served = router.serve_with_incoming_shutdown(incoming, stopped).await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "grpc (tls) server failed");
                }
            })
        }
    };
    Ok(())
}

/// Binds a listener, naming the setting when it fails.
pub async fn bind(setting: &str, addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("{setting}: binding {addr}"))
}
