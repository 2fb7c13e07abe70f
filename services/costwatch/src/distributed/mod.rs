//! Distributed mode: each service as its own process on Apache Kafka (usage log, cost updates)
//! and ScyllaDB/Cassandra (projection store). Same domain, ports and wiring as `costwatch up`;
//! only the adapters differ.

pub mod alerting;
pub mod anomalies;
pub mod config;
mod erasure;
mod security;

use std::sync::Arc;

use anyhow::Context;
use costwatch_aggregator::Aggregator;
use costwatch_collector::{IngestLimits, Ingestor};
use costwatch_cql::{CqlFxRates, CqlStore};
use costwatch_kafka::{
    KafkaCostUpdates, KafkaDeadLetters, KafkaOptions, KafkaUsageLog, ensure_topic,
};
use costwatch_ports::{CostStore, CostUpdates, FxRateStore, UsageLog};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use config::DistributedConfig;

use crate::platform::{load_fx, load_rate_card};
use crate::serve;

/// Which service this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Collector,
    Aggregator,
    Gateway,
    /// Alert evaluation, the alert outbox publisher, notification channels and digests.
    Notifier,
    /// Anomaly detection over the hourly costs (CQL anomaly store, anomalies topic, `Anomaly`
    /// alerts into the CQL alert store).
    AnomalyDetector,
}

/// Creates the topics and applies the CQL migrations (idempotent; safe to run again).
pub async fn migrate(cfg: &DistributedConfig) -> anyhow::Result<String> {
    let usage = cfg.kafka_options();
    let updates = KafkaOptions {
        topic: cfg.updates_topic.clone(),
        ..usage.clone()
    };
    let alerts = KafkaOptions {
        topic: cfg.alerts_topic.clone(),
        ..usage.clone()
    };
    let dead_letters = KafkaOptions {
        topic: cfg.dead_letter_topic.clone(),
        ..usage.clone()
    };
    let anomalies = KafkaOptions {
        topic: cfg.anomalies_topic.clone(),
        ..usage.clone()
    };
    for topic in [&usage, &updates, &alerts, &dead_letters, &anomalies] {
        ensure_topic(topic).await.with_context(|| {
            format!("kafka_brokers {}: topic {}", cfg.kafka_brokers, topic.topic)
        })?;
    }
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let session = costwatch_cql::connect(&options.nodes).await?;
    let versions = costwatch_cql::migrate(&session, &options).await?;
    Ok(format!(
        "topics {}, {}, {}, {} and {} ({} partitions, replication {}) on {}; keyspace {} at migration {:?} on {}",
        cfg.usage_topic,
        cfg.updates_topic,
        cfg.alerts_topic,
        cfg.dead_letter_topic,
        cfg.anomalies_topic,
        cfg.topic_partitions,
        cfg.topic_replication,
        cfg.kafka_brokers,
        cfg.keyspace,
        versions.last(),
        cfg.cql_nodes
    ))
}

/// A running service process's parts.
pub struct Service {
    pub description: String,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Service {
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.tasks.abort_all();
        }
    }

    pub async fn wait_for_failure(&mut self) {
        let _ = self.tasks.join_next().await;
    }
}

async fn usage_log(cfg: &DistributedConfig) -> anyhow::Result<Arc<dyn UsageLog>> {
    let log = KafkaUsageLog::connect(&cfg.kafka_options())
        .await
        .with_context(|| {
            format!(
                "kafka_brokers {}: usage topic {}",
                cfg.kafka_brokers, cfg.usage_topic
            )
        })?;
    Ok(Arc::new(log))
}

async fn store(cfg: &DistributedConfig) -> anyhow::Result<Arc<dyn CostStore>> {
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let store = CqlStore::open(&options)
        .await
        .with_context(|| format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace))?;
    Ok(Arc::new(store))
}

pub(crate) async fn fx_rates(cfg: &DistributedConfig) -> anyhow::Result<Arc<dyn FxRateStore>> {
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let rates = CqlFxRates::open(&options)
        .await
        .with_context(|| format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace))?;
    Ok(Arc::new(rates))
}

async fn annotations(
    cfg: &DistributedConfig,
) -> anyhow::Result<Arc<dyn costwatch_ports::AnnotationStore>> {
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let store = costwatch_cql::CqlAnnotations::open(&options)
        .await
        .with_context(|| format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace))?;
    Ok(Arc::new(store))
}

async fn updates(cfg: &DistributedConfig) -> anyhow::Result<Arc<dyn CostUpdates>> {
    let updates = KafkaCostUpdates::connect(&cfg.kafka_brokers, &cfg.updates_topic)
        .await
        .with_context(|| {
            format!(
                "kafka_brokers {}: topic {}",
                cfg.kafka_brokers, cfg.updates_topic
            )
        })?;
    Ok(Arc::new(updates))
}

fn scheme(tls: &Option<crate::tls::Tls>) -> &'static str {
    if tls.is_some() { "https" } else { "http" }
}

/// Starts one service; returns once its listeners are bound and its adapters connected.
pub async fn start(role: Role, cfg: DistributedConfig) -> anyhow::Result<Service> {
    let (shutdown, _) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let description = match role {
        Role::Collector => {
            let card = Arc::new(load_rate_card(cfg.rate_card.as_deref())?);
            let limits = IngestLimits {
                max_body_bytes: cfg.max_body_bytes,
                max_batch_events: cfg.max_batch_events,
            };
            let auth = cfg.auth_setup()?;
            let security = security::CqlSecurity::open(&cfg).await?;
            let authenticator = security.authenticator(&cfg, auth.authenticator);
            let ingestor = Arc::new(
                Ingestor::new(usage_log(&cfg).await?, card, limits)
                    .with_authenticator(authenticator.clone())
                    .with_audit(security.audit.clone()),
            );
            let tls = cfg.tls().load()?;
            let http = serve::bind("collector_http", cfg.collector_http).await?;
            let grpc = serve::bind("collector_grpc", cfg.collector_grpc).await?;
            let description = format!(
                "collector: ingest {}://{} · gRPC{} {} → kafka {}",
                scheme(&tls),
                http.local_addr()?,
                if tls.is_some() { " (TLS)" } else { "" },
                grpc.local_addr()?,
                cfg.usage_topic
            );
            let app =
                serve::health_router().merge(costwatch_collector::http::router(ingestor.clone()));
            serve::spawn_http(
                &mut tasks,
                http,
                tls.as_ref(),
                app,
                &cfg.hardening(),
                &shutdown,
            )?;
            crate::poll::schedule::spawn_all(
                &cfg.pollers,
                &ingestor,
                &cfg.data_dir,
                &mut tasks,
                &shutdown,
            );
            let gate = costwatch_gateway::auth::GatewayAuth {
                authenticator,
                audit: security.auditor(),
                sensitive_labels: Arc::new(cfg.sensitive_labels()),
            };
            serve::spawn_grpc_ingest(
                &mut tasks,
                grpc,
                serve::GrpcServing {
                    tls: tls.as_ref(),
                    rate_limits: cfg.hardening().rate_limits,
                },
                ingestor,
                None,
                gate,
                &shutdown,
            )
            .await?;
            description
        }
        Role::Aggregator => {
            let card = Arc::new(load_rate_card(cfg.rate_card.as_deref())?);
            let aggregator = Aggregator::new(
                usage_log(&cfg).await?,
                store(&cfg).await?,
                updates(&cfg).await?,
                card,
                costwatch_aggregator::Options {
                    consumer: cfg.consumer.clone(),
                    ..costwatch_aggregator::Options::default()
                },
            )
            .with_dead_letter_log(Arc::new(
                KafkaDeadLetters::connect(&cfg.kafka_brokers, &cfg.dead_letter_topic)
                    .with_context(|| format!("kafka_brokers {}", cfg.kafka_brokers))?,
            ));
            tasks.spawn(aggregator.run(shutdown.subscribe()));
            format!(
                "aggregator (consumer {}): kafka {} → cql {}.rollups; dead letters → kafka {}",
                cfg.consumer, cfg.usage_topic, cfg.keyspace, cfg.dead_letter_topic
            )
        }
        Role::Gateway => {
            // Bad auth and TLS settings are named before any connection is attempted.
            let auth = cfg.auth_setup()?;
            let tls = cfg.tls().load()?;
            let (store, updates) = (store(&cfg).await?, updates(&cfg).await?);
            let alerting = alerting::for_gateway(&cfg, store.clone(), updates.clone()).await?;
            let anomalies = anomalies::for_gateway(&cfg).await?;
            let security = security::CqlSecurity::open(&cfg).await?;
            let erasure = erasure::cql(&cfg, anomalies.clone(), security.api_keys.clone()).await?;
            let gateway = costwatch_gateway::router_with_anomalies(
                costwatch_gateway::GatewayState {
                    alerting: Some(alerting),
                    store,
                    updates,
                    fx: load_fx(cfg.fx.as_deref())?,
                    fx_rates: Some(fx_rates(&cfg).await?),
                    annotations: Some(annotations(&cfg).await?),
                    auth: costwatch_gateway::auth::GatewayAuth {
                        authenticator: security.authenticator(&cfg, auth.authenticator),
                        audit: security.auditor(),
                        sensitive_labels: Arc::new(cfg.sensitive_labels()),
                    },
                    default_currency: cfg
                        .default_currency
                        .parse()
                        .map_err(|e| anyhow::anyhow!("default_currency: {e}"))?,
                    erasure: Some(erasure),
                    mode: if cfg.production {
                        costwatch_gateway::ApiMode::Production
                    } else {
                        costwatch_gateway::ApiMode::Development
                    },
                },
                Some(anomalies as costwatch_gateway::graphql::Anomalies),
            );
            let http = serve::bind("gateway_http", cfg.gateway_http).await?;
            let description = format!(
                "gateway: dashboard and GraphQL on {}://{}",
                scheme(&tls),
                http.local_addr()?
            );
            let app = serve::health_router()
                .merge(gateway)
                .fallback_service(crate::web::service(&cfg.web_dir));
            serve::spawn_http(
                &mut tasks,
                http,
                tls.as_ref(),
                app,
                &cfg.hardening(),
                &shutdown,
            )?;
            description
        }
        Role::Notifier => {
            alerting::start_notifier(
                &cfg,
                store(&cfg).await?,
                updates(&cfg).await?,
                &mut tasks,
                &shutdown,
            )
            .await?
        }
        Role::AnomalyDetector => {
            anomalies::start_detector(
                &cfg,
                store(&cfg).await?,
                updates(&cfg).await?,
                &mut tasks,
                &shutdown,
            )
            .await?
        }
    };
    tracing::info!(%description, "service started");
    Ok(Service {
        description,
        shutdown,
        tasks,
    })
}
