//! Tenant erasure (the GDPR "right to erasure" for a whole customer): every store that holds
//! rows of a tenant removes all of them. The audit log is the one exception — it keeps the record
//! of the erasure itself (who erased which tenant, when), which is what an auditor asks for.

use std::sync::Arc;

use async_trait::async_trait;

use crate::StoreError;

/// A store holding rows keyed by tenant.
#[async_trait]
pub trait TenantData: Send + Sync {
    /// What the store holds, in the erasure report ("cost projections", "budgets and alerts").
    fn holds(&self) -> &'static str;

    /// Removes every row of `tenant` and returns how many went. Idempotent: a second call
    /// removes nothing and succeeds, so an interrupted erasure is finished by running it again.
    async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError>;
}

/// Rows removed from one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub store: &'static str,
    pub rows: u64,
}

/// An erasure stopped by a failing store; `done` lists the stores already erased.
#[derive(Debug, thiserror::Error)]
#[error(
    "erasing tenant {tenant:?} from {store} failed (run the erasure again to finish it): {source}"
)]
pub struct ErasureError {
    pub tenant: String,
    pub store: &'static str,
    pub done: Vec<Erased>,
    #[source]
    pub source: StoreError,
}

/// Every store of a deployment that holds tenant rows, erased in order.
#[derive(Clone, Default)]
pub struct TenantErasure {
    stores: Vec<Arc<dyn TenantData>>,
}

impl TenantErasure {
    pub fn new(stores: Vec<Arc<dyn TenantData>>) -> TenantErasure {
        TenantErasure { stores }
    }

    /// The stores erased, in order.
    pub fn stores(&self) -> Vec<&'static str> {
        self.stores.iter().map(|s| s.holds()).collect()
    }

    /// Erases `tenant` from every store. Stops at the first failure (the rest are untouched, so
    /// the error says exactly what is left); every store's erasure is idempotent.
    pub async fn erase(&self, tenant: &str) -> Result<Vec<Erased>, ErasureError> {
        let mut done = Vec::with_capacity(self.stores.len());
        for store in &self.stores {
            match store.erase_tenant(tenant).await {
                Ok(rows) => done.push(Erased {
                    store: store.holds(),
                    rows,
                }),
                Err(source) => {
                    return Err(ErasureError {
                        tenant: tenant.to_string(),
                        store: store.holds(),
                        done,
                        source,
                    });
                }
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    struct Counted {
        name: &'static str,
        rows: Mutex<Vec<String>>,
        failing: bool,
    }

    #[async_trait]
    impl TenantData for Counted {
        fn holds(&self) -> &'static str {
            self.name
        }
        async fn erase_tenant(&self, tenant: &str) -> Result<u64, StoreError> {
            if self.failing {
                return Err(StoreError::Unavailable("down".into()));
            }
            let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
            let before = rows.len();
            rows.retain(|t| t != tenant);
            Ok((before - rows.len()) as u64)
        }
    }

    fn store(name: &'static str, tenants: &[&str], failing: bool) -> Arc<Counted> {
        Arc::new(Counted {
            name,
            rows: Mutex::new(tenants.iter().map(|t| t.to_string()).collect()),
            failing,
        })
    }

    #[tokio::test]
    async fn erases_every_store_and_reports_rows() {
        let (a, b) = (
            store("a", &["acme", "acme", "globex"], false),
            store("b", &["acme"], false),
        );
        let erasure = TenantErasure::new(vec![a.clone(), b.clone()]);
        let report = erasure.erase("acme").await.expect("erase");
        assert_eq!(
            report,
            vec![
                Erased {
                    store: "a",
                    rows: 2
                },
                Erased {
                    store: "b",
                    rows: 1
                }
            ]
        );
        assert_eq!(*a.rows.lock().expect("lock"), vec!["globex".to_string()]);
        // Idempotent: nothing left, nothing removed, no error.
        let again = erasure.erase("acme").await.expect("erase again");
        assert!(again.iter().all(|e| e.rows == 0), "{again:?}");
    }

    #[tokio::test]
    async fn a_failing_store_is_named_with_what_was_done() {
        let erasure = TenantErasure::new(vec![
            store("a", &["acme"], false),
            store("b", &["acme"], true),
            store("c", &["acme"], false),
        ]);
        let err = erasure.erase("acme").await.expect_err("b fails");
        assert_eq!(err.store, "b");
        assert_eq!(
            err.done,
            vec![Erased {
                store: "a",
                rows: 1
            }]
        );
        assert!(err.to_string().contains("run the erasure again"), "{err}");
    }
}
