//! The retention sweeper of `costwatch up`: every `retention_sweep_secs`, each tenant's
//! time-bound rows older than its `retention_*` setting are removed from every store.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use costwatch_domain::retention::RetentionPolicy;
use costwatch_ports::{CostStore, RetentionSweep, TenantRetention};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The stores of `data_dir` with time-bound rows (opened per sweep, like erasure's; the
/// "holds" names are the erasure's, so logs read the same).
pub fn embedded(policy: RetentionPolicy, data_dir: &Path) -> RetentionSweep {
    use crate::erasure::{alerts, annotations, anomalies, costs, log};
    let stores: Vec<Arc<dyn TenantRetention>> = vec![
        Arc::new(log(data_dir)),
        Arc::new(costs(data_dir)),
        Arc::new(alerts(data_dir)),
        Arc::new(anomalies(data_dir)),
        Arc::new(annotations(data_dir)),
    ];
    RetentionSweep::new(policy, stores)
}

/// Sweeps now and then every `every`, until shutdown; nothing is spawned when the policy keeps
/// everything (the default).
pub fn spawn(
    sweep: RetentionSweep,
    costs: Arc<dyn CostStore>,
    every: Duration,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Sender<bool>,
) {
    if sweep.policy.keeps_everything() {
        return;
    }
    let mut stop = shutdown.subscribe();
    tasks.spawn(async move {
        // The watch guard must not live across an await of this task: drop it inside.
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        tokio::pin!(stopped);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => sweep_once(&sweep, costs.as_ref()).await,
                _ = &mut stopped => return,
            }
        }
    });
}

async fn sweep_once(sweep: &RetentionSweep, costs: &dyn CostStore) {
    let tenants = match costs.tenants().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "retention sweep: tenants unavailable; retrying next sweep");
            return;
        }
    };
    let report = sweep.sweep(&tenants, chrono::Utc::now()).await;
    for failure in &report.failures {
        tracing::warn!(%failure, "retention sweep failed for a store; retrying next sweep");
    }
    let removed: u64 = report.expired.iter().map(|e| e.rows).sum();
    if removed > 0 {
        tracing::info!(removed, "retention sweep removed expired rows");
    }
}
