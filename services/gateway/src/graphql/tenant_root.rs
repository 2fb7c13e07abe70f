//! `deleteTenant`: erases every row of a tenant from every store of the deployment (GDPR
//! erasure). Admins only (the access guard), confirmed by typing the tenant id again. The audit
//! log keeps the record of the erasure — the guard writes it like every mutation's.

use async_graphql::{Context, ErrorExtensions, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use costwatch_domain::TenantId;
use costwatch_ports::TenantErasure;

/// Rows removed from one store.
#[derive(SimpleObject)]
#[graphql(name = "ErasedStore")]
pub struct ErasedStoreGql {
    /// What the store holds, e.g. `cost projections`.
    pub store: String,
    pub rows: u64,
}

/// The outcome of an erasure.
#[derive(SimpleObject)]
#[graphql(name = "TenantErasure")]
pub struct TenantErasureGql {
    pub tenant: String,
    pub erased_at: DateTime<Utc>,
    /// Every store erased, in order (a store holding nothing of the tenant reports 0 rows).
    pub stores: Vec<ErasedStoreGql>,
}

fn bad(field: &'static str, reason: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("{field}: {reason}")).extend_with(|_, e| {
        e.set("code", "BAD_USER_INPUT");
        e.set("field", field);
    })
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Erases every row of `tenant` — costs, usage events, budgets, alerts, rules, anomalies,
    /// annotations, API keys of only that tenant — from every store. `confirm` must repeat the
    /// tenant id. Cannot be undone; the audit log records it. Run it again after a failure: each
    /// store's erasure is idempotent. Admins only.
    async fn delete_tenant(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        confirm: String,
    ) -> Result<TenantErasureGql> {
        let tenant = TenantId::parse(&tenant).map_err(|reason| bad("tenant", &reason))?;
        if confirm != tenant.to_string() {
            return Err(bad("confirm", "must repeat the tenant id exactly"));
        }
        let erasure = ctx.data_opt::<TenantErasure>().ok_or_else(|| {
            async_graphql::Error::new("tenant erasure is not available in this deployment")
                .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
        })?;
        let tenant = tenant.to_string();
        let erased = erasure.erase(&tenant).await.map_err(|e| {
            tracing::error!(error = %e, "tenant erasure failed");
            let done: Vec<String> = e
                .done
                .iter()
                .map(|d| format!("{} ({} rows)", d.store, d.rows))
                .collect();
            async_graphql::Error::new(format!(
                "erasing {tenant} stopped at {}; already erased: [{}]; run deleteTenant again to finish",
                e.store,
                done.join(", ")
            ))
            .extend_with(|_, x| x.set("code", "UNAVAILABLE"))
        })?;
        tracing::warn!(%tenant, stores = erased.len(), "tenant erased");
        Ok(TenantErasureGql {
            tenant,
            erased_at: Utc::now(),
            stores: erased
                .into_iter()
                .map(|e| ErasedStoreGql {
                    store: e.store.to_string(),
                    rows: e.rows,
                })
                .collect(),
        })
    }
}
