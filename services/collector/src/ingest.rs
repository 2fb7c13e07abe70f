//! Transport-independent ingestion: one batch in, all of it durable or none of it.

use costwatch_domain::TenantId;
use costwatch_domain::access::Action;
use costwatch_domain::audit::{AuditDraft, Outcome};
use costwatch_ports::{AuditStore, Authenticator};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use costwatch_domain::RateCard;
use costwatch_domain::validate::{FieldError, parse_batch};
use costwatch_ports::{BusError, UsageLog};
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Most events in one batch.
    pub max_batch_events: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_body_bytes: 10 * 1024 * 1024,
            max_batch_events: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the batch has {} invalid field(s); nothing was accepted", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("the batch has {events} events; at most {max} are accepted per request")]
    TooManyEvents { events: usize, max: usize },
    #[error("the batch is empty")]
    Empty,
    #[error("events could not be stored durably: {0}")]
    Bus(#[from] BusError),
    #[error("{0}")]
    Unauthenticated(costwatch_ports::AuthError),
    #[error(
        "the batch has events for tenants this credential may not ingest for; nothing was accepted"
    )]
    Forbidden(Vec<FieldError>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IngestReceipt {
    /// Events made durable by this request (duplicates of earlier ids included: they are
    /// acknowledged, and the aggregator does not count them again).
    pub accepted: usize,
}

pub struct Ingestor {
    log: Arc<dyn UsageLog>,
    card: Arc<RateCard>,
    limits: IngestLimits,
    /// Checks the credentials of HTTP and gRPC callers; in-process importers call
    /// [`Ingestor::ingest`] directly.
    authenticator: Arc<dyn Authenticator>,
    /// Where refused network callers are recorded (none: not recorded).
    audit: Option<Arc<dyn AuditStore>>,
}

impl Ingestor {
    /// An ingestor with auth off (every network caller is the local admin) until
    /// [`Ingestor::with_authenticator`] says otherwise.
    pub fn new(log: Arc<dyn UsageLog>, card: Arc<RateCard>, limits: IngestLimits) -> Self {
        Ingestor {
            log,
            card,
            limits,
            authenticator: Arc::new(costwatch_ports::NoAuth),
            audit: None,
        }
    }

    /// Records every refused network caller (bad credential, or a tenant it may not ingest
    /// for) in the audit log, like the gateway's refusals.
    pub fn with_audit(mut self, audit: Arc<dyn AuditStore>) -> Self {
        self.audit = Some(audit);
        self
    }

    async fn audit_refusal(
        &self,
        actor: &str,
        tenant: Option<String>,
        source: &str,
        reason: String,
        events: usize,
    ) {
        let Some(audit) = &self.audit else {
            return;
        };
        let draft = AuditDraft {
            at: Utc::now(),
            actor: actor.to_string(),
            tenant,
            action: "ingest".into(),
            target: format!("{events} events"),
            source: source.to_string(),
            outcome: Outcome::Denied { reason },
        };
        if let Err(e) = audit.append(draft).await {
            tracing::error!(error = %e, "audit record of a refused ingest could not be written");
        }
    }

    pub fn with_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = authenticator;
        self
    }

    /// [`Ingestor::ingest`] for a network caller presenting `authorization` (the header value)
    /// from `source` (its address): it must be allowed to ingest for the tenant of every event,
    /// or nothing is accepted. Refusals are audited.
    pub async fn ingest_as(
        &self,
        authorization: Option<&str>,
        source: &str,
        values: &[Value],
        now: DateTime<Utc>,
    ) -> Result<IngestReceipt, IngestError> {
        let principal =
            match costwatch_ports::auth::principal_for(self.authenticator.as_ref(), authorization)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    self.audit_refusal("anonymous", None, source, e.to_string(), values.len())
                        .await;
                    return Err(IngestError::Unauthenticated(e));
                }
            };
        // A missing or malformed tenant is left to validation, which names it.
        let refused: Vec<FieldError> = values
            .iter()
            .enumerate()
            .filter_map(|(index, v)| {
                let tenant = TenantId::parse(v.get("tenant")?.as_str()?).ok();
                let denied = principal.authorize(Action::Ingest, tenant.as_ref()).err()?;
                Some(FieldError {
                    index,
                    field: "tenant".into(),
                    reason: denied.reason,
                })
            })
            .collect();
        if let Some(first) = refused.first() {
            let tenant = values[first.index]
                .get("tenant")
                .and_then(Value::as_str)
                .map(str::to_string);
            let reason = format!("{} event(s) refused: {}", refused.len(), first.reason);
            self.audit_refusal(&principal.subject, tenant, source, reason, values.len())
                .await;
            return Err(IngestError::Forbidden(refused));
        }
        self.ingest(values, now).await
    }

    pub fn limits(&self) -> IngestLimits {
        self.limits
    }

    /// Validates the whole batch (fields, then that every unbilled event has a rate), then
    /// publishes it. Returns only once the events are durable.
    pub async fn ingest(
        &self,
        values: &[Value],
        now: DateTime<Utc>,
    ) -> Result<IngestReceipt, IngestError> {
        if values.is_empty() {
            return Err(IngestError::Empty);
        }
        if values.len() > self.limits.max_batch_events {
            return Err(IngestError::TooManyEvents {
                events: values.len(),
                max: self.limits.max_batch_events,
            });
        }
        let events = parse_batch(values, now).map_err(IngestError::Invalid)?;
        let unpriceable: Vec<FieldError> = events
            .iter()
            .enumerate()
            .filter_map(|(index, e)| {
                self.card.check(e).err().map(|err| FieldError {
                    index,
                    field: "cost".into(),
                    reason: err.to_string(),
                })
            })
            .collect();
        if !unpriceable.is_empty() {
            return Err(IngestError::Invalid(unpriceable));
        }
        self.log.publish(&events).await?;
        tracing::debug!(events = events.len(), "batch published");
        Ok(IngestReceipt {
            accepted: events.len(),
        })
    }
}
