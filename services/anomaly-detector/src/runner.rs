//! Drives the [`Detector`]: every tenant on start, a tenant whenever its costs change, and a
//! 1 s tick so an hour is scored at most about a second after it closes.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use costwatch_analytics::detect::Severity as DetectSeverity;
use costwatch_domain::alerting::{AlertKind, Condition, Severity, alert_id, reconcile};
use costwatch_domain::money::format_amount;
use costwatch_ports::{AlertStore, AnomalyRecord, CostStore, CostUpdates};
use futures::StreamExt;
use tokio::sync::watch;

use crate::{Detector, Error};

pub struct Runner {
    detector: Arc<Detector>,
    costs: Arc<dyn CostStore>,
    updates: Arc<dyn CostUpdates>,
    tick: StdDuration,
}

impl Runner {
    pub fn new(
        detector: Arc<Detector>,
        costs: Arc<dyn CostStore>,
        updates: Arc<dyn CostUpdates>,
        tick: StdDuration,
    ) -> Runner {
        Runner {
            detector,
            costs,
            updates,
            tick,
        }
    }

    async fn process(&self, tenant: &str) {
        if let Err(e) = self.detector.process_tenant(tenant).await {
            tracing::warn!(%tenant, error = %e, "anomaly detection failed; retrying on the next tick or update");
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // Subscribe before the first pass so no update between the two is missed.
        let mut updates = self.updates.subscribe();
        match self.costs.tenants().await {
            Ok(tenants) => {
                for t in tenants {
                    self.process(&t).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing tenants failed; waiting for updates"),
        }
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                update = updates.next() => {
                    let Some(update) = update else { break };
                    self.process(&update.tenant).await;
                }
                _ = tick.tick() => {
                    for t in self.detector.due_tenants().await {
                        self.process(&t).await;
                    }
                }
            }
        }
        tracing::info!("anomaly detector stopped");
    }
}

fn severity(s: DetectSeverity) -> Severity {
    match s {
        DetectSeverity::Info => Severity::Info,
        DetectSeverity::Warning => Severity::Warning,
        DetectSeverity::Critical => Severity::Critical,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Raises the anomaly's alert (dedupe key = the anomaly id) unless it exists: the alert store
/// gives it the lifecycle and its outbox carries it to subscriptions and the notifier.
pub(crate) async fn raise_alert(
    alerts: &dyn AlertStore,
    a: &AnomalyRecord,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let existing: Vec<_> = alerts
        .alert(&a.tenant, &alert_id(&a.tenant, &a.id))
        .await?
        .into_iter()
        .collect();
    let kind = serde_json::to_value(a.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "anomaly".into());
    let top = a
        .root_cause
        .first()
        .map(|c| {
            let share = c
                .share_percent
                .map(|p| format!(", {}% of the deviation", format_amount(p.round_dp(1))))
                .unwrap_or_default();
            let sign = if c.delta.is_sign_negative() { "" } else { "+" };
            format!(
                "; top contributor {} ({sign}{} {}{share})",
                c.key,
                format_amount(c.delta.round_dp(2)),
                a.currency
            )
        })
        .unwrap_or_default();
    let threshold = if a.actual >= a.expected { a.hi } else { a.lo };
    let condition = Condition {
        dedupe_key: a.id.clone(),
        group: format!("anomaly:{}", a.id),
        epoch: rfc3339(a.window_start),
        kind: AlertKind::Anomaly,
        severity: severity(a.severity),
        title: format!("{kind} in {}", a.series),
        message: format!(
            "{} {} in the hour from {}, expected {} (band {} to {}){top}",
            a.actual,
            a.currency,
            rfc3339(a.window_start),
            a.expected.round_dp(2),
            a.lo.round_dp(2),
            a.hi.round_dp(2),
        ),
        budget_id: None,
        actual: Some(a.actual),
        threshold: Some(threshold),
        currency: Some(a.currency),
        owner: None,
    };
    let changes = reconcile(
        &a.tenant,
        &format!("anomaly:{}", a.series),
        &existing,
        vec![condition],
        None,
        now,
        Duration::hours(1),
    );
    if !changes.is_empty() {
        alerts.apply_alert_changes(changes).await?;
    }
    Ok(())
}
