//! Chart annotations in GraphQL: `annotations`, `addAnnotation`, `deleteAnnotation`, over the
//! annotation store. Days are `YYYY-MM-DD` strings (as in `exchangeRates`), so a bad day is a
//! `BAD_USER_INPUT` naming its argument rather than a scalar parse error.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Months, SubsecRound, Utc};
use costwatch_domain::TenantId;
use costwatch_domain::annotation::{Annotation, AnnotationDraft, AnnotationError, parse_day};
use costwatch_ports::{AnnotationStore, StoreError};

/// The annotation store, where the deployment has one.
pub type Annotations = Arc<dyn AnnotationStore>;

/// The longest range one `annotations` query reads: a chart shows at most this much, and it
/// bounds the partitions a CQL store reads.
const MAX_RANGE_MONTHS: u32 = 36;
/// Ids are UUIDs; anything much longer is not one of ours.
const MAX_ID_CHARS: usize = 64;

/// A note on one day of a tenant's cost trends chart.
#[derive(SimpleObject)]
#[graphql(name = "Annotation")]
pub struct AnnotationGql {
    pub id: ID,
    pub tenant: String,
    /// YYYY-MM-DD.
    pub day: String,
    pub note: String,
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Annotation> for AnnotationGql {
    fn from(a: Annotation) -> Self {
        AnnotationGql {
            id: ID(a.id),
            tenant: a.tenant,
            day: a.day.to_string(),
            note: a.note,
            author: a.author,
            created_at: a.created_at,
        }
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> async_graphql::Error {
    let reason = reason.into();
    async_graphql::Error::new(format!("{field}: {reason}")).extend_with(|_, e| {
        e.set("code", "BAD_USER_INPUT");
        e.set("field", field);
    })
}

fn invalid(e: AnnotationError) -> async_graphql::Error {
    let AnnotationError::Invalid { field, reason } = e;
    bad(field, reason)
}

fn unavailable(e: StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "annotation store failed");
    async_graphql::Error::new("annotations are temporarily unavailable; retry shortly")
        .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
}

fn store<'a>(ctx: &Context<'a>) -> Result<&'a Annotations> {
    ctx.data_opt::<Annotations>().ok_or_else(|| {
        async_graphql::Error::new("annotations are not stored in this deployment")
            .extend_with(|_, e| e.set("code", "UNAVAILABLE"))
    })
}

fn tenant_of(raw: &str) -> Result<TenantId> {
    TenantId::parse(raw).map_err(|reason| bad("tenant", reason))
}

#[derive(Default)]
pub struct AnnotationQuery;

#[Object]
impl AnnotationQuery {
    /// A tenant's annotations with `from <= day <= to` (YYYY-MM-DD, at most three years apart),
    /// ordered by day, then creation time.
    async fn annotations(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        from: String,
        to: String,
    ) -> Result<Vec<AnnotationGql>> {
        let tenant = tenant_of(&tenant)?;
        let from = parse_day("from", &from).map_err(invalid)?;
        let to = parse_day("to", &to).map_err(invalid)?;
        if to < from {
            return Err(bad("to", "must not be before from"));
        }
        if from
            .checked_add_months(Months::new(MAX_RANGE_MONTHS))
            .is_some_and(|limit| to > limit)
        {
            return Err(bad("to", "must be at most 3 years after from"));
        }
        let found = store(ctx)?
            .list(tenant.as_str(), from, to)
            .await
            .map_err(unavailable)?;
        Ok(found.into_iter().map(AnnotationGql::from).collect())
    }
}

#[derive(Default)]
pub struct AnnotationMutation;

#[Object]
impl AnnotationMutation {
    /// Adds a note (1..=500 characters, one line) on `day` (YYYY-MM-DD) of the tenant's chart.
    async fn add_annotation(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        day: String,
        note: String,
        author: Option<String>,
    ) -> Result<AnnotationGql> {
        let tenant = tenant_of(&tenant)?;
        let annotation = AnnotationDraft { day, note, author }
            // Milliseconds: what the CQL store keeps, so the answer equals a later listing.
            .validate(
                &tenant,
                uuid::Uuid::new_v4().to_string(),
                Utc::now().trunc_subsecs(3),
            )
            .map_err(invalid)?;
        store(ctx)?.put(&annotation).await.map_err(unavailable)?;
        Ok(annotation.into())
    }

    /// Deletes the tenant's annotation `id`; `false` when the tenant has none with that id.
    async fn delete_annotation(&self, ctx: &Context<'_>, tenant: String, id: ID) -> Result<bool> {
        let tenant = tenant_of(&tenant)?;
        if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
            return Err(bad("id", format!("must be 1 to {MAX_ID_CHARS} characters")));
        }
        store(ctx)?
            .delete(tenant.as_str(), &id)
            .await
            .map_err(unavailable)
    }
}
