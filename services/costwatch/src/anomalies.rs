//! The anomaly detector in `costwatch up`: its SQLite store in the data dir, the runner fed by
//! the cost-update stream, and alerts raised into the alert store (so they get the lifecycle,
//! the subscriptions and the notifier through the existing publisher).

use std::sync::Arc;
use std::time::Duration;

use costwatch_anomaly_detector::{Detector, Options, Runner, SystemClock};
use costwatch_embedded::SqliteAnomalyStore;
use costwatch_gateway::graphql::Anomalies;
use costwatch_ports::{CostStore, CostUpdates};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::UpConfig;

/// How often closed hours are looked for: an hour is scored at most this long after it closes.
const TICK: Duration = Duration::from_secs(1);

/// Starts the detector unless `anomalies = false`; returns the store the gateway serves from.
pub fn start(
    cfg: &UpConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    alerting: &costwatch_gateway::Alerting,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<Option<Anomalies>> {
    if !cfg.anomalies {
        tracing::info!("anomaly detector disabled (anomalies = false)");
        return Ok(None);
    }
    let store = Arc::new(SqliteAnomalyStore::open(
        &cfg.data_dir.join("anomalies.sqlite"),
    )?);
    let detector = Detector::new(
        costs.clone(),
        store.clone(),
        alerting.budgets.alert_store().clone(),
        Some(alerting.publisher_wake.clone()),
        Arc::new(SystemClock),
        Options::default(),
    )?;
    let runner = Runner::new(Arc::new(detector), costs, updates, TICK);
    tasks.spawn(runner.run(shutdown.subscribe()));
    Ok(Some(store))
}
