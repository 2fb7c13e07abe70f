//! Anomalies in distributed mode: the anomaly store on CQL, new anomalies on a Kafka topic.
//!
//! - The **anomaly-detector** process reads cost updates from Kafka and the hourly rollups from
//!   the CQL cost store, keeps its per-series state and the anomalies in the CQL anomaly store,
//!   and raises each anomaly's `Anomaly` alert in the CQL alert store. It does not publish
//!   alerts itself: the notifier process's outbox publisher does (no publisher wake here; it
//!   polls). One instance per deployment: the store's `IF NOT EXISTS` and the alert store's
//!   transactions make a second one safe (nothing stored or alerted twice), not useful.
//! - Every **gateway** serves anomalies from the same CQL store; its `anomalyDetected`
//!   subscription reads the anomalies topic, where the detector's store announces each anomaly
//!   the first time it is stored.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use costwatch_anomaly_detector::{Detector, Options, Runner, SystemClock};
use costwatch_cql::{Announce, AnomalyFeed, AnomalyStream, CqlAlertStore, CqlAnomalyStore};
use costwatch_kafka::KafkaFanout;
use costwatch_ports::{AnomalyRecord, CostStore, CostUpdates};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::DistributedConfig;

/// How often closed hours are looked for: an hour is scored at most this long after it closes.
const TICK: Duration = Duration::from_secs(1);

/// The anomalies topic as the CQL store's feed (keyed by tenant, so one tenant's anomalies stay
/// in order).
struct KafkaAnomalyFeed(KafkaFanout<AnomalyRecord>);

impl AnomalyFeed for KafkaAnomalyFeed {
    fn announce<'a>(&'a self, anomaly: &'a AnomalyRecord) -> Announce<'a> {
        Box::pin(self.0.send(&anomaly.tenant, anomaly))
    }

    fn subscribe(&self) -> AnomalyStream {
        self.0.stream()
    }
}

async fn anomaly_store(cfg: &DistributedConfig) -> anyhow::Result<Arc<CqlAnomalyStore>> {
    let fanout = KafkaFanout::<AnomalyRecord>::connect(&cfg.kafka_brokers, &cfg.anomalies_topic)
        .await
        .with_context(|| {
            format!(
                "kafka_brokers {}: topic {}",
                cfg.kafka_brokers, cfg.anomalies_topic
            )
        })?;
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let store = CqlAnomalyStore::open(&options, Arc::new(KafkaAnomalyFeed(fanout)))
        .await
        .with_context(|| format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace))?;
    Ok(Arc::new(store))
}

/// What a gateway serves anomalies from (and subscribes to them through).
pub async fn for_gateway(cfg: &DistributedConfig) -> anyhow::Result<Arc<CqlAnomalyStore>> {
    anomaly_store(cfg).await
}

/// Starts the anomaly-detector process's runner; returns its description.
pub async fn start_detector(
    cfg: &DistributedConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<String> {
    let store = anomaly_store(cfg).await?;
    let options = cfg.cql_options().map_err(anyhow::Error::msg)?;
    let alerts = CqlAlertStore::open(&options)
        .await
        .with_context(|| format!("cql_nodes {}: keyspace {}", cfg.cql_nodes, cfg.keyspace))?;
    let detector = Detector::new(
        costs.clone(),
        store,
        Arc::new(alerts),
        None,
        Arc::new(SystemClock),
        Options::default(),
    )?;
    let runner = Runner::new(Arc::new(detector), costs, updates, TICK);
    tasks.spawn(runner.run(shutdown.subscribe()));
    Ok(format!(
        "anomaly-detector: kafka {} + cql {}.rollups → cql {}.anomalies → kafka {}; alerts → cql {}.alerts",
        cfg.updates_topic, cfg.keyspace, cfg.keyspace, cfg.anomalies_topic, cfg.keyspace
    ))
}
