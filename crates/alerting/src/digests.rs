//! Digests from the stores, and the scheduler that sends each one once when its window closes.
//!
//! Once: after every sink took a digest, a sent-digest record keyed tenant × kind × window start
//! is stored, and a digest with a record is never built again (so a restart does not resend). A
//! crash between sending and recording sends again on restart; the notifier's delivery log,
//! keyed by the digest id per channel, drops that repeat.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use costwatch_domain::alerting::{AlertState, Digest, DigestInput, DigestKind, build_digest};
use costwatch_domain::query::reconcile::reconcile;
use costwatch_domain::{Currency, Granularity};
use costwatch_ports::{AlertStore, CostStore};
use tokio::sync::watch;

use crate::{AlertingError, BudgetService, Fx, parse_tenant};

/// Where digests go (the notifier's opted-in channels). `Err` means "not delivered, try again
/// at the next tick": the digest is not recorded as sent.
#[async_trait]
pub trait DigestSink: Send + Sync + 'static {
    async fn send_digest(&self, digest: &Digest) -> Result<(), String>;
}

/// Open alerts listed per digest at most (counts beyond that would be truncated).
const MAX_OPEN_ALERTS: usize = 10_000;

pub struct DigestService {
    budgets: Arc<BudgetService>,
    costs: Arc<dyn CostStore>,
    fx: Fx,
    report_currency: Currency,
}

impl DigestService {
    pub fn new(
        budgets: Arc<BudgetService>,
        costs: Arc<dyn CostStore>,
        fx: impl Into<Fx>,
        report_currency: Currency,
    ) -> DigestService {
        DigestService {
            budgets,
            costs,
            fx: fx.into(),
            report_currency,
        }
    }

    fn store(&self) -> &Arc<dyn AlertStore> {
        self.budgets.alert_store()
    }

    /// The digest of the `kind` window holding `at` (partial when that window is still open),
    /// as of `now`: budgets at their status at the window's end (or now, if sooner), alerts as
    /// they are open now.
    pub async fn build(
        &self,
        tenant: &str,
        kind: DigestKind,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Digest, AlertingError> {
        let tenant = parse_tenant(tenant)?;
        let window = kind.window(at);
        let previous = kind.previous(window);
        // Windows are whole UTC days, so day cells cover them exactly; billing data replaces
        // the estimates of its provider × service × day, as in every cost query.
        let current_rows = self
            .costs
            .rollups(&tenant, Granularity::Day, window.start, window.end)
            .await
            .map(|rows| reconcile(rows).counted)?;
        let previous_rows = self
            .costs
            .rollups(&tenant, Granularity::Day, previous.start, previous.end)
            .await
            .map(|rows| reconcile(rows).counted)?;
        let status_at = now.min(window.end - Duration::seconds(1));
        let budgets: Vec<_> = self
            .budgets
            .list(&tenant, status_at)
            .await?
            .into_iter()
            .map(|v| (v.budget, v.status))
            .collect();
        let mut alerts = Vec::new();
        for state in [AlertState::Triggered, AlertState::Acknowledged] {
            alerts.extend(
                self.store()
                    .alerts(&tenant, Some(state), MAX_OPEN_ALERTS)
                    .await?,
            );
        }
        // One book for both windows: the previous one ends where the current one starts.
        let book = self.fx.book(previous.start, window.end).await?;
        build_digest(DigestInput {
            tenant: &tenant,
            kind,
            window,
            current_rows: &current_rows,
            previous_rows: &previous_rows,
            budgets: &budgets,
            alerts: &alerts,
            fx: &book,
            report_currency: self.report_currency,
        })
        .map_err(|e| AlertingError::Compute(e.to_string()))
    }
}

#[derive(Debug, Clone)]
pub struct DigestSchedulerOptions {
    pub kinds: Vec<DigestKind>,
    /// How often to look for closed windows; a digest goes out within this of its window's end.
    pub every: StdDuration,
}

impl Default for DigestSchedulerOptions {
    fn default() -> Self {
        DigestSchedulerOptions {
            kinds: vec![DigestKind::Weekly, DigestKind::Monthly],
            every: StdDuration::from_secs(300),
        }
    }
}

/// What one tick did for one tenant × kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestOutcome {
    Sent,
    /// Nothing to report (no spend in either window, no budget at risk, no open alert): recorded
    /// as done without a message, so idle tenants do not get an empty digest every week.
    Empty,
    AlreadySent,
    Failed(String),
}

pub struct DigestScheduler {
    service: Arc<DigestService>,
    sinks: Vec<Arc<dyn DigestSink>>,
    options: DigestSchedulerOptions,
}

impl DigestScheduler {
    pub fn new(
        service: Arc<DigestService>,
        sinks: Vec<Arc<dyn DigestSink>>,
        options: DigestSchedulerOptions,
    ) -> DigestScheduler {
        DigestScheduler {
            service,
            sinks,
            options,
        }
    }

    async fn tenants(&self) -> Result<BTreeSet<String>, AlertingError> {
        let mut all: BTreeSet<String> = self.service.costs.tenants().await?.into_iter().collect();
        all.extend(self.service.store().budget_tenants().await?);
        Ok(all)
    }

    /// Sends every digest whose window closed by `now` and was not sent yet.
    pub async fn tick(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DigestKind, DigestOutcome)>, AlertingError> {
        let mut out = Vec::new();
        for tenant in self.tenants().await? {
            for &kind in &self.options.kinds {
                let outcome = self.send_one(&tenant, kind, now).await;
                out.push((tenant.clone(), kind, outcome));
            }
        }
        Ok(out)
    }

    async fn send_one(&self, tenant: &str, kind: DigestKind, now: DateTime<Utc>) -> DigestOutcome {
        let window = kind.last_closed(now);
        let store = self.service.store();
        match store.digest_sent(tenant, kind.as_str(), window.start).await {
            Ok(true) => return DigestOutcome::AlreadySent,
            Ok(false) => {}
            Err(e) => return DigestOutcome::Failed(e.to_string()),
        }
        let digest = match self.service.build(tenant, kind, window.start, now).await {
            Ok(d) => d,
            Err(e) => return DigestOutcome::Failed(e.to_string()),
        };
        let empty = digest.totals.is_empty()
            && digest.budgets_at_risk.is_empty()
            && digest.open_alerts.top.is_empty();
        let sinks = if empty { &[][..] } else { &self.sinks[..] };
        for sink in sinks {
            if let Err(e) = sink.send_digest(&digest).await {
                tracing::warn!(%tenant, kind = kind.as_str(), error = %e, "digest not delivered; retried next tick");
                return DigestOutcome::Failed(e);
            }
        }
        match store
            .record_digest_sent(tenant, kind.as_str(), window.start)
            .await
        {
            Ok(_) if empty => DigestOutcome::Empty,
            Ok(_) => {
                tracing::info!(%tenant, kind = kind.as_str(), window_start = %window.start, "digest sent");
                DigestOutcome::Sent
            }
            Err(e) => DigestOutcome::Failed(e.to_string()),
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.options.every);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.tick(Utc::now()).await {
                        tracing::warn!(error = %e, "digest tick failed; the next tick retries");
                    }
                }
                _ = shutdown.changed() => {
                    if *shutdown.borrow() { return; }
                }
            }
        }
    }
}
