//! Budgets and alerts in `costwatch up`: the SQLite alert store, the in-stream evaluator, the
//! outbox publisher (to subscriptions and the notifier) and what the gateway needs to serve them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use costwatch_alerting::{
    AlertSink, BudgetService, DigestScheduler, DigestSchedulerOptions, DigestSink, Evaluator,
    EvaluatorOptions, Fx, Publisher, Runner, RunnerOptions,
};
use costwatch_domain::Currency;
use costwatch_domain::budget::ForecastPolicy;
use costwatch_embedded::{BroadcastAlerts, SqliteAlertStore};
use costwatch_ports::{AlertStore, AlertStream, CostStore, CostUpdates};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::UpConfig;

/// Builds the notifier from its config file (plus `COSTWATCH_NOTIFIER__*` env), with its
/// delivery log in the data dir so a restart does not page twice.
/// The same notifier also sends digests to the channels that opted in (`digests = true`).
type NotifierSinks = (
    Arc<costwatch_notifier::NotifierSink>,
    Arc<costwatch_notifier::NotifierDigestSink>,
);

fn notifier_sink(setup: &NotifierSetup) -> anyhow::Result<Option<NotifierSinks>> {
    let dashboard_url = setup.dashboard_url.clone();
    let Some(path) = &setup.config else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading notifier config {}", path.display()))?;
    let config = costwatch_notifier::NotifierConfig::load(Some(&text), std::env::vars())
        .map_err(|e| anyhow::anyhow!("notifier config {}: {e}", path.display()))?;
    let log = Arc::new(
        costwatch_notifier::SqliteDeliveryLog::open(setup.data_dir.join("notifier.sqlite"))
            .context("notifier delivery log")?,
    );
    let notifier = costwatch_notifier::Notifier::from_config(&config, log)
        .map_err(|e| anyhow::anyhow!("notifier config {}: {e}", path.display()))?;
    let channels: Vec<String> = notifier.channel_names().map(String::from).collect();
    tracing::info!(?channels, "notifier channels configured");
    let notifier = Arc::new(notifier);
    let digests = Arc::new(costwatch_notifier::NotifierDigestSink::new(
        notifier.clone(),
        Some(dashboard_url.clone()),
    ));
    let alerts = Arc::new(costwatch_notifier::NotifierSink::new(
        notifier,
        Some(dashboard_url),
    ));
    Ok(Some((alerts, digests)))
}

/// Where the notifier's channels and state come from.
pub struct NotifierSetup {
    /// The channels' TOML; `None`: alerts are stored and streamed, nobody is paged.
    pub config: Option<PathBuf>,
    /// Holds the delivery log (`notifier.sqlite`), so a restart does not page twice.
    pub data_dir: PathBuf,
    /// Link put in notifications.
    pub dashboard_url: String,
}

/// The adapters budgets and alerts run on: SQLite and an in-process stream in `costwatch up`,
/// CQL and the Kafka alerts topic in distributed mode (`distributed::alerting`).
pub struct AlertingSetup {
    pub store: Arc<dyn AlertStore>,
    pub stream: Arc<dyn AlertStream>,
    pub costs: Arc<dyn CostStore>,
    pub updates: Arc<dyn CostUpdates>,
    pub fx: Fx,
    pub default_currency: Currency,
    pub sweep_secs: u64,
}

impl AlertingSetup {
    fn services(&self) -> (Arc<BudgetService>, Arc<Evaluator>) {
        let budgets = Arc::new(BudgetService::new(
            self.costs.clone(),
            self.store.clone(),
            self.fx.clone(),
            ForecastPolicy::default(),
        ));
        let evaluator = Arc::new(Evaluator::new(
            budgets.clone(),
            self.costs.clone(),
            self.fx.clone(),
            EvaluatorOptions {
                currency: self.default_currency,
                ..EvaluatorOptions::default()
            },
        ));
        (budgets, evaluator)
    }

    /// What a gateway serves from when another process runs the loops: its budget changes
    /// re-evaluate the tenant and land in the outbox, which that process's publisher drains.
    pub fn serving(self) -> Arc<costwatch_gateway::Alerting> {
        let (budgets, evaluator) = self.services();
        Arc::new(costwatch_gateway::Alerting {
            budgets,
            evaluator,
            stream: self.stream,
            publisher_wake: Arc::new(tokio::sync::Notify::new()),
            default_currency: self.default_currency,
            deliveries: None,
        })
    }

    /// Starts the evaluator, the outbox publisher (to the stream and the notifier) and the
    /// digest scheduler; returns what a gateway in this process serves from.
    pub fn start(
        self,
        notifier: &NotifierSetup,
        tasks: &mut JoinSet<()>,
        shutdown: &watch::Sender<bool>,
    ) -> anyhow::Result<Arc<costwatch_gateway::Alerting>> {
        let (budgets, evaluator) = self.services();
        let (notifier, digest_sink) = notifier_sink(notifier)?.unzip();
        let sinks: Vec<Arc<dyn AlertSink>> = notifier
            .iter()
            .map(|n| n.clone() as Arc<dyn AlertSink>)
            .collect();
        // Digests go out only through the notifier; without one there is nowhere to send them.
        if let Some(sink) = digest_sink {
            let scheduler = DigestScheduler::new(
                evaluator.digests().clone(),
                vec![sink as Arc<dyn DigestSink>],
                DigestSchedulerOptions::default(),
            );
            tasks.spawn(scheduler.run(shutdown.subscribe()));
        }
        let deliveries = notifier.map(|n| n as Arc<dyn costwatch_ports::DeliveryView>);
        let publisher = Publisher::new(self.store.clone(), self.stream.clone(), sinks);
        let publisher_wake = publisher.waker();
        let runner = Runner::new(
            evaluator.clone(),
            self.costs,
            self.store,
            self.updates,
            publisher_wake.clone(),
            RunnerOptions {
                sweep_every: Duration::from_secs(self.sweep_secs),
                ..RunnerOptions::default()
            },
        );
        tasks.spawn(publisher.run(shutdown.subscribe()));
        tasks.spawn(runner.run(shutdown.subscribe()));
        Ok(Arc::new(costwatch_gateway::Alerting {
            budgets,
            evaluator,
            stream: self.stream,
            publisher_wake,
            default_currency: self.default_currency,
            deliveries,
        }))
    }
}

/// `costwatch up`: budgets and alerts on SQLite in the data dir, streamed in process.
#[allow(clippy::too_many_arguments)]
pub fn start(
    cfg: &UpConfig,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    fx: Fx,
    default_currency: Currency,
    dashboard_url: String,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<Arc<costwatch_gateway::Alerting>> {
    let setup = AlertingSetup {
        store: Arc::new(SqliteAlertStore::open(&cfg.data_dir.join("alerts.sqlite"))?),
        stream: Arc::new(BroadcastAlerts::default()),
        costs,
        updates,
        fx,
        default_currency,
        sweep_secs: cfg.alert_sweep_secs,
    };
    let notifier = NotifierSetup {
        config: cfg.notifier.clone(),
        data_dir: cfg.data_dir.clone(),
        dashboard_url,
    };
    setup.start(&notifier, tasks, shutdown)
}
