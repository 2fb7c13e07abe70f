//! The subscription root: live cost updates, scoped to one tenant.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use costwatch_ports::{CostUpdate, CostUpdates};
use futures::{Stream, StreamExt, future};

use crate::queries::parse_tenant;
use crate::views::{Count, Money};

/// What an aggregator commit added to a tenant's totals. When it arrives, queries already include
/// it.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct CostUpdateEvent {
    pub tenant: String,
    pub committed_at: DateTime<Utc>,
    /// Events counted by the commit for this tenant.
    pub events: Count,
    /// Amount added, per currency of the counted events (not converted), exact.
    pub added: Vec<Money>,
    /// Ids of the counted events (bounded), so a client can confirm its own writes.
    pub event_ids: Vec<String>,
}

impl From<CostUpdate> for CostUpdateEvent {
    fn from(u: CostUpdate) -> Self {
        CostUpdateEvent {
            tenant: u.tenant,
            committed_at: u.committed_at,
            events: Count(u.events),
            added: u.added.into_iter().map(|(c, a)| Money::new(a, c)).collect(),
            event_ids: u.event_ids,
        }
    }
}

/// Keeps only the updates of `tenant`.
pub fn for_tenant(
    updates: impl Stream<Item = CostUpdate> + Send + 'static,
    tenant: String,
) -> impl Stream<Item = CostUpdateEvent> + Send + 'static {
    updates
        .filter(move |u| future::ready(u.tenant == tenant))
        .map(CostUpdateEvent::from)
}

#[derive(Default)]
pub struct CostSubscription;

#[Subscription]
impl CostSubscription {
    /// Pushes an event after every aggregator commit that changed this tenant's totals. Only the
    /// tenant's own updates are sent.
    async fn cost_updates(
        &self,
        ctx: &Context<'_>,
        tenant: String,
    ) -> Result<impl Stream<Item = CostUpdateEvent> + use<>> {
        let tenant = parse_tenant(&tenant).map_err(|e| e.extend())?;
        let updates = ctx.data::<Arc<dyn CostUpdates>>()?;
        Ok(for_tenant(updates.subscribe(), tenant.as_str().to_string()))
    }
}
