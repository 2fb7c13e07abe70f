//! Retention per tenant (see `costwatch_domain::retention`): stores remove a tenant's
//! time-bound rows older than its cutoff; [`RetentionSweep`] asks every store for every tenant.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use costwatch_domain::retention::RetentionPolicy;

use crate::StoreError;

/// A store holding time-bound rows of tenants.
#[async_trait]
pub trait TenantRetention: Send + Sync {
    /// What the store holds, for logs ("cost projections").
    fn holds(&self) -> &'static str;

    /// Removes `tenant`'s time-bound rows lying wholly before `cutoff` (a rollup bucket or meter
    /// month holding the cutoff stays whole); returns how many went. Idempotent.
    async fn expire_tenant(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// One sweep's outcome for one tenant and store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub tenant: String,
    pub store: &'static str,
    pub rows: u64,
}

/// What a sweep removed, and the stores it could not sweep (tenant, store and reason).
#[derive(Debug, Default)]
pub struct SweepReport {
    pub expired: Vec<Expired>,
    pub failures: Vec<String>,
}

/// Every store with time-bound rows, swept under one policy.
#[derive(Clone)]
pub struct RetentionSweep {
    pub policy: RetentionPolicy,
    stores: Vec<Arc<dyn TenantRetention>>,
}

impl RetentionSweep {
    pub fn new(policy: RetentionPolicy, stores: Vec<Arc<dyn TenantRetention>>) -> RetentionSweep {
        RetentionSweep { policy, stores }
    }

    /// Sweeps `tenants` (those with data; the policy's own entries are added) at `now`. A store
    /// that fails is reported and skipped: the others go on, and the next sweep tries again.
    pub async fn sweep(&self, tenants: &[String], now: DateTime<Utc>) -> SweepReport {
        let mut all: Vec<&str> = tenants.iter().map(String::as_str).collect();
        all.extend(self.policy.tenants.keys().map(String::as_str));
        all.sort_unstable();
        all.dedup();
        let mut report = SweepReport::default();
        for tenant in all {
            let Some(cutoff) = self.policy.cutoff(tenant, now) else {
                continue;
            };
            for store in &self.stores {
                match store.expire_tenant(tenant, cutoff).await {
                    Ok(rows) => report.expired.push(Expired {
                        tenant: tenant.to_string(),
                        store: store.holds(),
                        rows,
                    }),
                    Err(e) => report
                        .failures
                        .push(format!("{tenant} in {}: {e}", store.holds())),
                }
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use chrono::Duration;

    use super::*;

    /// Rows as (tenant, time); records each call's cutoff.
    #[derive(Default)]
    struct Rows {
        rows: Mutex<Vec<(String, DateTime<Utc>)>>,
        cutoffs: Mutex<Vec<(String, DateTime<Utc>)>>,
    }

    #[async_trait]
    impl TenantRetention for Rows {
        fn holds(&self) -> &'static str {
            "rows"
        }
        async fn expire_tenant(
            &self,
            tenant: &str,
            cutoff: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            self.cutoffs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((tenant.to_string(), cutoff));
            let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
            let before = rows.len();
            rows.retain(|(t, at)| t != tenant || *at >= cutoff);
            Ok((before - rows.len()) as u64)
        }
    }

    #[tokio::test]
    async fn each_tenant_is_swept_at_its_own_cutoff() {
        let now: DateTime<Utc> = "2026-11-29T00:00:00Z".parse().expect("time");
        let old = now - Duration::days(100);
        let store = Arc::new(Rows::default());
        *store.rows.lock().expect("lock") = vec![
            ("acme".into(), old),
            ("globex".into(), old),
            ("initech".into(), old),
        ];
        let policy = RetentionPolicy {
            default_days: None,
            tenants: BTreeMap::from([("acme".into(), 31), ("globex".into(), 365)]),
        };
        let sweep = RetentionSweep::new(policy, vec![store.clone()]);
        let report = sweep.sweep(&["initech".into(), "acme".into()], now).await;
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let expired = report.expired;
        // acme loses its 100-day-old row; globex (365 days) keeps it; initech has no policy.
        assert_eq!(
            expired
                .iter()
                .map(|e| (e.tenant.as_str(), e.rows))
                .collect::<Vec<_>>(),
            vec![("acme", 1), ("globex", 0)]
        );
        let cutoffs = store.cutoffs.lock().expect("lock").clone();
        assert_eq!(
            cutoffs,
            vec![
                ("acme".to_string(), now - Duration::days(31)),
                ("globex".to_string(), now - Duration::days(365))
            ]
        );
        assert_eq!(store.rows.lock().expect("lock").len(), 2);
    }
}
