//! Budgets and alerts in distributed mode: the alert store on CQL and alert events on Kafka.
//!
//! - The **notifier** process runs the in-stream evaluator (cost updates from Kafka), the
//!   outbox publisher (alert events → the alerts topic and the notifier's channels) and the
//!   digest scheduler. One instance per deployment: the CQL outbox and the digest claims make a
//!   second one safe (nothing is sent twice), not useful.
//! - Every **gateway** serves budgets and alerts from the same CQL store and subscribes to the
//!   alerts topic for GraphQL subscriptions. A budget change re-evaluates the tenant there and
//!   writes alert changes to the outbox, which the notifier's publisher drains within its poll
//!   interval.

use std::sync::Arc;

use anyhow::Context;
use costwatch_cql::CqlAlertStore;
use costwatch_kafka::KafkaAlertStream;
use costwatch_ports::{AlertStore, AlertStream, CostStore, CostUpdates};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::DistributedConfig;
use crate::alerts::{AlertingSetup, NotifierSetup};

async fn alert_store(cfg: &DistributedConfig) -> anyhow::Result<Arc<dyn AlertStore>> {
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let store = CqlAlertStore::open(&options)
        .await
        .with_context(|| format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace))?;
    Ok(Arc::new(store))
}

async fn alert_stream(cfg: &DistributedConfig) -> anyhow::Result<Arc<dyn AlertStream>> {
    let stream = KafkaAlertStream::connect(&cfg.kafka_brokers, &cfg.alerts_topic)
        .await
        .with_context(|| {
            format!(
                "kafka_brokers {}: topic {}",
                cfg.kafka_brokers, cfg.alerts_topic
            )
        })?;
    Ok(Arc::new(stream))
}

async fn setup(
    cfg: &DistributedConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
) -> anyhow::Result<AlertingSetup> {
    Ok(AlertingSetup {
        store: alert_store(cfg).await?,
        stream: alert_stream(cfg).await?,
        costs,
        updates,
        fx: costwatch_alerting::Fx::with_dated(
            crate::platform::load_fx(cfg.fx.as_deref())?,
            super::fx_rates(cfg).await?,
        ),
        default_currency: cfg
            .default_currency
            .parse()
            .map_err(|e| anyhow::anyhow!("default_currency: {e}"))?,
        sweep_secs: cfg.alert_sweep_secs,
    })
}

/// What a gateway serves budgets and alerts from (no evaluation loop of its own).
pub async fn for_gateway(
    cfg: &DistributedConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
) -> anyhow::Result<Arc<costwatch_gateway::Alerting>> {
    Ok(setup(cfg, costs, updates).await?.serving())
}

/// Starts the notifier process's loops; returns its description.
pub async fn start_notifier(
    cfg: &DistributedConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<String> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("data_dir {}", cfg.data_dir.display()))?;
    let notifier = NotifierSetup {
        config: cfg.notifier.clone(),
        data_dir: cfg.data_dir.clone(),
        dashboard_url: cfg.dashboard_url.clone(),
    };
    let channels = match &cfg.notifier {
        Some(p) => format!("channels from {}", p.display()),
        None => "no channels (alerts stored and streamed only)".into(),
    };
    setup(cfg, costs, updates)
        .await?
        .start(&notifier, tasks, shutdown)?;
    Ok(format!(
        "notifier: kafka {} → evaluation → cql {}.alerts → kafka {}; {channels}",
        cfg.updates_topic, cfg.keyspace, cfg.alerts_topic
    ))
}
