//! The whole platform in one process: embedded bus and store, the aggregator, the collector's
//! HTTP and gRPC ingest, the gateway, and (optionally) the demo generator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use costwatch_aggregator::Aggregator;
use costwatch_collector::{IngestLimits, Ingestor};
use costwatch_domain::RateCard;
use costwatch_domain::fx::FxRates;
use costwatch_embedded::{BroadcastUpdates, SqliteLog, SqliteStore};
use costwatch_ports::{CostStore, CostUpdates, UsageLog};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::UpConfig;

/// The built-in rate card, used when no file is configured.
pub const DEFAULT_RATE_CARD: &str = include_str!("../../../deploy/rate-card.toml");

/// A running platform. Dropping it without [`Platform::stop`] aborts its tasks.
pub struct Platform {
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub store: Arc<dyn CostStore>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

fn load_rate_card(cfg: &UpConfig) -> anyhow::Result<RateCard> {
    let text = match &cfg.rate_card {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading rate card {}", p.display()))?,
        None => DEFAULT_RATE_CARD.to_string(),
    };
    RateCard::from_toml(&text).context("rate_card")
}

fn load_fx(cfg: &UpConfig) -> anyhow::Result<FxRates> {
    match &cfg.fx {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading fx table {}", p.display()))?;
            FxRates::from_toml(&text).context("fx")
        }
        None => Ok(FxRates::default()),
    }
}

impl Platform {
    /// Opens the data dir, binds both listeners (port 0 picks a free one) and starts every part.
    pub async fn start(cfg: UpConfig) -> anyhow::Result<Platform> {
        cfg.validate()
            .map_err(|p| anyhow::anyhow!("invalid configuration:\n  {}", p.join("\n  ")))?;
        let card = Arc::new(load_rate_card(&cfg)?);
        let fx = load_fx(&cfg)?;
        let default_currency = cfg
            .default_currency
            .parse()
            .map_err(|e| anyhow::anyhow!("default_currency: {e}"))?;

        let log: Arc<dyn UsageLog> = Arc::new(SqliteLog::open(&cfg.data_dir.join("bus.sqlite"))?);
        let store: Arc<dyn CostStore> =
            Arc::new(SqliteStore::open(&cfg.data_dir.join("store.sqlite"))?);
        let updates: Arc<dyn CostUpdates> = Arc::new(BroadcastUpdates::default());

        let http = TcpListener::bind(cfg.http)
            .await
            .with_context(|| format!("binding http {}", cfg.http))?;
        let grpc = TcpListener::bind(cfg.grpc)
            .await
            .with_context(|| format!("binding grpc {}", cfg.grpc))?;
        let http_addr = http.local_addr()?;
        let grpc_addr = grpc.local_addr()?;

        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();

        let aggregator = Aggregator::new(
            log.clone(),
            store.clone(),
            updates.clone(),
            card.clone(),
            costwatch_aggregator::Options::default(),
        );
        tasks.spawn(aggregator.run(shutdown.subscribe()));

        let limits = IngestLimits {
            max_body_bytes: cfg.max_body_bytes,
            max_batch_events: cfg.max_batch_events,
        };
        let ingestor = Arc::new(Ingestor::new(log.clone(), card, limits));
        let gateway = costwatch_gateway::router(costwatch_gateway::GatewayState {
            store: store.clone(),
            updates,
            fx,
            default_currency,
        });
        let app = Router::new()
            .route(
                "/healthz",
                get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
            )
            .merge(costwatch_collector::http::router(ingestor.clone()))
            .merge(gateway)
            .fallback_service(crate::web::service(&cfg.web_dir))
            .layer(tower_http::trace::TraceLayer::new_for_http());
        let mut stop = shutdown.subscribe();
        tasks.spawn(async move {
            let serve = axum::serve(http, app).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "http server failed");
            }
        });

        let (health_reporter, health_service) = tonic_health::server::health_reporter();
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
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(grpc),
                    async move {
                        let _ = stop.wait_for(|s| *s).await;
                    },
                )
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "grpc server failed");
            }
        });

        if cfg.demo {
            tasks.spawn(crate::demo::run(
                log.clone(),
                store.clone(),
                cfg.demo_days,
                Duration::from_secs(2),
                shutdown.subscribe(),
            ));
        }
        tracing::info!(%http_addr, %grpc_addr, data_dir = %cfg.data_dir.display(), demo = cfg.demo, "costwatch is up");
        Ok(Platform {
            http_addr,
            grpc_addr,
            store,
            shutdown,
            tasks,
        })
    }

    /// Stops every part gracefully: in-flight requests finish, the aggregator ends its commit.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("some tasks did not stop within 10s; aborting them");
            self.tasks.abort_all();
        }
    }

    /// Resolves when a task ends on its own (a server failed).
    pub async fn wait_for_failure(&mut self) {
        let _ = self.tasks.join_next().await;
    }
}
