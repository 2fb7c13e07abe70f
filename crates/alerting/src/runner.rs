//! Evaluates alerts in the stream: every tenant a cost update touched is evaluated within
//! `debounce`, and every tenant is swept on start and every `sweep_every` (so a period rollover,
//! or an update this instance missed, is seen without new costs).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use costwatch_ports::{AlertStore, CostStore, CostUpdates};
use futures::StreamExt;
use tokio::sync::{Notify, watch};

use crate::Evaluator;

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    pub debounce: Duration,
    pub sweep_every: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            debounce: Duration::from_millis(100),
            sweep_every: Duration::from_secs(60),
        }
    }
}

pub struct Runner {
    evaluator: Arc<Evaluator>,
    costs: Arc<dyn CostStore>,
    alerts: Arc<dyn AlertStore>,
    updates: Arc<dyn CostUpdates>,
    published: Arc<Notify>,
    options: RunnerOptions,
}

impl Runner {
    pub fn new(
        evaluator: Arc<Evaluator>,
        costs: Arc<dyn CostStore>,
        alerts: Arc<dyn AlertStore>,
        updates: Arc<dyn CostUpdates>,
        publisher_waker: Arc<Notify>,
        options: RunnerOptions,
    ) -> Runner {
        Runner {
            evaluator,
            costs,
            alerts,
            updates,
            published: publisher_waker,
            options,
        }
    }

    async fn evaluate(&self, tenants: impl IntoIterator<Item = String>) {
        let mut any = false;
        for tenant in tenants {
            match self.evaluator.evaluate_tenant(&tenant, Utc::now()).await {
                Ok(changed) => any |= !changed.is_empty(),
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "alert evaluation failed; the next update or sweep retries")
                }
            }
        }
        if any {
            self.published.notify_one();
        }
    }

    async fn all_tenants(&self) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        match self.alerts.budget_tenants().await {
            Ok(t) => all.extend(t),
            Err(e) => tracing::warn!(error = %e, "cannot list budget tenants"),
        }
        match self.costs.tenants().await {
            Ok(t) => all.extend(t),
            Err(e) => tracing::warn!(error = %e, "cannot list cost tenants"),
        }
        all
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut updates = self.updates.subscribe();
        let mut dirty = BTreeSet::new();
        let mut tick = tokio::time::interval(self.options.debounce);
        let mut sweep = tokio::time::interval(self.options.sweep_every);
        loop {
            tokio::select! {
                Some(u) = updates.next() => { dirty.insert(u.tenant); }
                _ = tick.tick() => {
                    if !dirty.is_empty() {
                        self.evaluate(std::mem::take(&mut dirty)).await;
                    }
                }
                _ = sweep.tick() => {
                    let all = self.all_tenants().await;
                    self.evaluate(all).await;
                }
                _ = shutdown.changed() => {
                    if *shutdown.borrow() { return; }
                }
            }
        }
    }
}
