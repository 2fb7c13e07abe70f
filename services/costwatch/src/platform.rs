//! The whole platform in one process: embedded bus and store, the aggregator, the collector's
//! HTTP and gRPC ingest, the gateway, and (optionally) the demo generator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use costwatch_aggregator::Aggregator;
use costwatch_alerting::Fx;
use costwatch_collector::{IngestLimits, Ingestor};
use costwatch_domain::RateCard;
use costwatch_domain::fx::FxRates;
use costwatch_embedded::{BroadcastUpdates, SqliteFxRates, SqliteLog, SqliteStore};
use costwatch_ports::{CostStore, CostUpdates, FxRateStore, UsageLog};
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
    /// `auth.mode = "local"`: an admin token for the dashboard link `up` prints.
    pub login_token: Option<String>,
    /// Both listeners serve TLS (`tls_cert_file`/`tls_key_file`).
    pub tls: bool,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

pub fn load_rate_card(path: Option<&std::path::Path>) -> anyhow::Result<RateCard> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading rate card {}", p.display()))?,
        None => DEFAULT_RATE_CARD.to_string(),
    };
    RateCard::from_toml(&text).context("rate_card")
}

pub fn load_fx(path: Option<&std::path::Path>) -> anyhow::Result<FxRates> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading fx table {}", p.display()))?;
            FxRates::from_toml(&text).context("fx")
        }
        None => Ok(FxRates::default()),
    }
}

fn base_url(tls: bool, addr: SocketAddr) -> String {
    format!("{}://{addr}", if tls { "https" } else { "http" })
}

impl Platform {
    /// Opens the data dir, binds both listeners (port 0 picks a free one) and starts every part.
    pub async fn start(cfg: UpConfig) -> anyhow::Result<Platform> {
        cfg.validate()
            .map_err(|p| anyhow::anyhow!("invalid configuration:\n  {}", p.join("\n  ")))?;
        // Before any port is bound: a bad certificate or key is named, not served.
        let tls = cfg.tls().load()?;
        let card = Arc::new(load_rate_card(cfg.rate_card.as_deref())?);
        let fx = load_fx(cfg.fx.as_deref())?;
        let default_currency = cfg
            .default_currency
            .parse()
            .map_err(|e| anyhow::anyhow!("default_currency: {e}"))?;

        let log: Arc<dyn UsageLog> = Arc::new(SqliteLog::open(&cfg.data_dir.join("bus.sqlite"))?);
        let store: Arc<dyn CostStore> =
            Arc::new(SqliteStore::open(&cfg.data_dir.join("store.sqlite"))?);
        let fx_rates: Arc<dyn FxRateStore> =
            Arc::new(SqliteFxRates::open(&cfg.data_dir.join("fx.sqlite"))?);
        let annotations: Arc<dyn costwatch_ports::AnnotationStore> = Arc::new(
            costwatch_embedded::SqliteAnnotations::open(&cfg.data_dir.join("annotations.sqlite"))?,
        );
        let updates: Arc<dyn CostUpdates> = Arc::new(BroadcastUpdates::default());
        let auth = crate::auth::setup(&cfg.auth, &cfg.data_dir)?;
        let authenticator =
            crate::auth::with_api_keys(&cfg.auth, &cfg.data_dir, auth.authenticator.clone())?;
        let audit: Arc<dyn costwatch_ports::AuditStore> = Arc::new(
            costwatch_embedded::SqliteAuditStore::open(&cfg.data_dir.join("audit.sqlite"))?,
        );
        let gate = costwatch_gateway::auth::GatewayAuth {
            authenticator: authenticator.clone(),
            audit: costwatch_gateway::auth::Auditor(Some(audit.clone())),
            sensitive_labels: Arc::new(costwatch_domain::sensitive_labels::SensitiveLabels::new(
                cfg.sensitive_labels.clone(),
            )),
        };

        let http = crate::serve::bind("http", cfg.http).await?;
        let grpc = crate::serve::bind("grpc", cfg.grpc).await?;
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
        let ingestor = Arc::new(
            Ingestor::new(log.clone(), card, limits)
                .with_authenticator(authenticator)
                .with_audit(audit.clone()),
        );
        if let Some(dir) = cfg.import_dir.clone() {
            let every = Duration::from_secs(cfg.import_scan_secs);
            let watch =
                crate::import_watch::run(dir, every, ingestor.clone(), shutdown.subscribe());
            tasks.spawn(watch);
        }
        crate::poll::schedule::spawn_all(
            &cfg.pollers,
            &ingestor,
            &cfg.data_dir,
            &mut tasks,
            &shutdown,
        );
        let alerting = crate::alerts::start(
            &cfg,
            store.clone(),
            updates.clone(),
            Fx::with_dated(fx.clone(), fx_rates.clone()),
            default_currency,
            base_url(tls.is_some(), http_addr),
            &mut tasks,
            &shutdown,
        )?;
        let anomalies = crate::anomalies::start(
            &cfg,
            store.clone(),
            updates.clone(),
            &alerting,
            &mut tasks,
            &shutdown,
        )?;
        let erasure = crate::erasure::embedded(&cfg.data_dir);
        crate::retention::spawn(
            crate::retention::embedded(cfg.retention(), &cfg.data_dir),
            store.clone(),
            Duration::from_secs(cfg.retention_sweep_secs),
            &mut tasks,
            &shutdown,
        );
        let gateway = costwatch_gateway::router_with_anomalies(
            costwatch_gateway::GatewayState {
                alerting: Some(alerting.clone()),
                store: store.clone(),
                updates,
                fx,
                fx_rates: Some(fx_rates),
                annotations: Some(annotations),
                auth: gate.clone(),
                default_currency,
                erasure: Some(erasure),
                mode: cfg.api_mode(),
            },
            anomalies,
        );
        let app = crate::serve::health_router()
            .merge(costwatch_collector::http::router(ingestor.clone()))
            .merge(gateway)
            .fallback_service(crate::web::service(&cfg.web_dir));
        crate::serve::spawn_http(
            &mut tasks,
            http,
            tls.as_ref(),
            app,
            &cfg.hardening(),
            &shutdown,
        )?;
        crate::serve::spawn_grpc_ingest(
            &mut tasks,
            grpc,
            crate::serve::GrpcServing {
                tls: tls.as_ref(),
                rate_limits: cfg.hardening().rate_limits,
            },
            ingestor,
            Some(alerting),
            gate,
            &shutdown,
        )
        .await?;

        if cfg.demo {
            tasks.spawn(crate::demo::run(
                log.clone(),
                store.clone(),
                cfg.demo_days,
                Duration::from_secs(2),
                shutdown.subscribe(),
            ));
        }
        tracing::info!(url = %base_url(tls.is_some(), http_addr), %grpc_addr, tls = tls.is_some(), data_dir = %cfg.data_dir.display(), demo = cfg.demo, "costwatch is up");
        Ok(Platform {
            http_addr,
            grpc_addr,
            store,
            login_token: auth.login_token,
            tls: tls.is_some(),
            shutdown,
            tasks,
        })
    }

    /// The dashboard's address: `https://…` when TLS is on.
    pub fn http_url(&self) -> String {
        base_url(self.tls, self.http_addr)
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
