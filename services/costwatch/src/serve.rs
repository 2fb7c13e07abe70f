//! Listener wiring shared by `costwatch up` and the distributed service processes.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use costwatch_collector::Ingestor;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// `/healthz` for load balancers and scripts.
pub fn health_router() -> Router {
    Router::new().route(
        "/healthz",
        get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
    )
}

/// Serves `app` on `listener` until `shutdown` turns true (in-flight requests finish).
pub fn spawn_http(
    tasks: &mut JoinSet<()>,
    listener: TcpListener,
    app: Router,
    shutdown: &watch::Sender<bool>,
) {
    let mut stop = shutdown.subscribe();
    let app = app.layer(tower_http::trace::TraceLayer::new_for_http());
    tasks.spawn(async move {
        // The peer address feeds the audit log's `source`.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "http server failed");
        }
    });
}

/// The collector's gRPC listener: IngestService, health and reflection.
pub async fn spawn_grpc_ingest(
    tasks: &mut JoinSet<()>,
    listener: TcpListener,
    ingestor: Arc<Ingestor>,
    alerting: Option<Arc<costwatch_gateway::Alerting>>,
    auth: costwatch_gateway::auth::GatewayAuth,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<()> {
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
    tasks.spawn(async move {
        let served = tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(reflection)
            .add_service(ingest_grpc)
            .add_optional_service(budget_grpc)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async move {
                    let _ = stop.wait_for(|s| *s).await;
                },
            )
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "grpc server failed");
        }
    });
    Ok(())
}

/// Binds a listener, naming the setting when it fails.
pub async fn bind(setting: &str, addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("{setting}: binding {addr}"))
}
