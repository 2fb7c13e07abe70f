//! Budgets and alerts in `costwatch up`: the SQLite alert store, the in-stream evaluator, the
//! outbox publisher (to subscriptions and the notifier) and what the gateway needs to serve them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use costwatch_alerting::{
    AlertSink, BudgetService, Evaluator, EvaluatorOptions, Publisher, Runner, RunnerOptions,
};
use costwatch_domain::Currency;
use costwatch_domain::budget::ForecastPolicy;
use costwatch_domain::fx::FxRates;
use costwatch_embedded::{BroadcastAlerts, SqliteAlertStore};
use costwatch_ports::{AlertStore, AlertStream, CostStore, CostUpdates};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::UpConfig;

/// Builds the notifier from its config file (plus `COSTWATCH_NOTIFIER__*` env), with its
/// delivery log in the data dir so a restart does not page twice.
fn notifier_sink(
    cfg: &UpConfig,
    dashboard_url: String,
) -> anyhow::Result<Option<Arc<costwatch_notifier::NotifierSink>>> {
    let Some(path) = &cfg.notifier else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading notifier config {}", path.display()))?;
    let config = costwatch_notifier::NotifierConfig::load(Some(&text), std::env::vars())
        .map_err(|e| anyhow::anyhow!("notifier config {}: {e}", path.display()))?;
    let log = Arc::new(
        costwatch_notifier::SqliteDeliveryLog::open(cfg.data_dir.join("notifier.sqlite"))
            .context("notifier delivery log")?,
    );
    let notifier = costwatch_notifier::Notifier::from_config(&config, log)
        .map_err(|e| anyhow::anyhow!("notifier config {}: {e}", path.display()))?;
    let channels: Vec<String> = notifier.channel_names().map(String::from).collect();
    tracing::info!(?channels, "notifier channels configured");
    Ok(Some(Arc::new(costwatch_notifier::NotifierSink::new(
        Arc::new(notifier),
        Some(dashboard_url),
    ))))
}

/// Starts the evaluator and the publisher; returns what the gateway serves from.
#[allow(clippy::too_many_arguments)]
pub fn start(
    cfg: &UpConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    fx: FxRates,
    default_currency: Currency,
    dashboard_url: String,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<Arc<costwatch_gateway::Alerting>> {
    let store: Arc<dyn AlertStore> =
        Arc::new(SqliteAlertStore::open(&cfg.data_dir.join("alerts.sqlite"))?);
    let stream: Arc<dyn AlertStream> = Arc::new(BroadcastAlerts::default());
    let budgets = Arc::new(BudgetService::new(
        costs.clone(),
        store.clone(),
        fx.clone(),
        ForecastPolicy::default(),
    ));
    let evaluator = Arc::new(Evaluator::new(
        budgets.clone(),
        costs.clone(),
        fx,
        EvaluatorOptions {
            currency: default_currency,
            ..EvaluatorOptions::default()
        },
    ));
    let notifier = notifier_sink(cfg, dashboard_url)?;
    let sinks: Vec<Arc<dyn AlertSink>> = notifier
        .iter()
        .map(|n| n.clone() as Arc<dyn AlertSink>)
        .collect();
    let deliveries = notifier.map(|n| n as Arc<dyn costwatch_ports::DeliveryView>);
    let publisher = Publisher::new(store.clone(), stream.clone(), sinks);
    let publisher_wake = publisher.waker();
    let runner = Runner::new(
        evaluator.clone(),
        costs,
        store,
        updates,
        publisher_wake.clone(),
        RunnerOptions {
            sweep_every: Duration::from_secs(cfg.alert_sweep_secs),
            ..RunnerOptions::default()
        },
    );
    tasks.spawn(publisher.run(shutdown.subscribe()));
    tasks.spawn(runner.run(shutdown.subscribe()));
    Ok(Arc::new(costwatch_gateway::Alerting {
        budgets,
        evaluator,
        stream,
        publisher_wake,
        default_currency,
        deliveries,
    }))
}
