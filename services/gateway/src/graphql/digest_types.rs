//! The `costDigest` preview: the weekly or monthly digest a tenant's channels get, for any
//! window, as GraphQL types (amounts as exact decimal strings, like every `Money`).

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use costwatch_domain::alerting::{self as domain, Digest, DigestKind as Kind, MoverDimension};
use costwatch_domain::money::format_amount;

use super::budget_root::{alerting, gql_error};
use super::budget_types::{AlertSeverity, AlertState, state_of};
use crate::views::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DigestKind {
    /// Monday 00:00 to Monday 00:00, UTC.
    Weekly,
    /// The calendar month, UTC.
    Monthly,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct DigestTotal {
    pub current: Money,
    pub previous: Money,
    /// Signed decimal string.
    pub change: String,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct DigestMover {
    /// `SERVICE` (`provider/service`) or `RESOURCE` (`provider/service/resource`).
    pub dimension: String,
    pub name: String,
    pub current: Money,
    pub previous: Money,
    pub change: String,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct DigestBudget {
    pub id: String,
    pub name: String,
    pub amount: Money,
    pub spent: Money,
    pub forecast: Money,
    pub percent_spent: String,
    pub reason: String,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct DigestAlert {
    pub id: String,
    pub title: String,
    pub severity: AlertSeverity,
    pub state: AlertState,
    pub triggered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CostDigest {
    pub id: String,
    pub tenant: String,
    pub kind: DigestKind,
    /// `[windowStart, windowEnd)`.
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub previous_start: DateTime<Utc>,
    /// Exact, one per currency.
    pub totals: Vec<DigestTotal>,
    /// Up to 5 each, largest absolute change first, in the report currency.
    pub service_movers: Vec<DigestMover>,
    pub resource_movers: Vec<DigestMover>,
    pub budgets_at_risk: Vec<DigestBudget>,
    pub open_critical: i32,
    pub open_warning: i32,
    pub open_info: i32,
    /// The 5 most severe open alerts.
    pub top_alerts: Vec<DigestAlert>,
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<Digest> for CostDigest {
    fn from(d: Digest) -> Self {
        let rc = d.report_currency;
        let mover = |m: &domain::Mover| DigestMover {
            dimension: match m.dimension {
                MoverDimension::Service => "SERVICE",
                MoverDimension::Resource => "RESOURCE",
            }
            .into(),
            name: m.name.clone(),
            current: Money::new(m.current, rc),
            previous: Money::new(m.previous, rc),
            change: format_amount(m.change),
        };
        CostDigest {
            id: d.id(),
            tenant: d.tenant.clone(),
            kind: match d.kind {
                Kind::Weekly => DigestKind::Weekly,
                Kind::Monthly => DigestKind::Monthly,
            },
            window_start: d.window.start,
            window_end: d.window.end,
            previous_start: d.previous.start,
            totals: d
                .totals
                .iter()
                .map(|t| DigestTotal {
                    current: Money::new(t.current, t.currency),
                    previous: Money::new(t.previous, t.currency),
                    change: format_amount(t.change),
                })
                .collect(),
            service_movers: d.service_movers.iter().map(mover).collect(),
            resource_movers: d.resource_movers.iter().map(mover).collect(),
            budgets_at_risk: d
                .budgets_at_risk
                .iter()
                .map(|b| DigestBudget {
                    id: b.id.clone(),
                    name: b.name.clone(),
                    amount: Money::new(b.amount, b.currency),
                    spent: Money::new(b.spent, b.currency),
                    forecast: Money::new(b.forecast, b.currency),
                    percent_spent: format_amount(b.percent_spent),
                    reason: b.reason.clone(),
                })
                .collect(),
            open_critical: count(d.open_alerts.critical),
            open_warning: count(d.open_alerts.warning),
            open_info: count(d.open_alerts.info),
            top_alerts: d
                .open_alerts
                .top
                .iter()
                .map(|a| DigestAlert {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    severity: match a.severity {
                        domain::Severity::Info => AlertSeverity::Info,
                        domain::Severity::Warning => AlertSeverity::Warning,
                        domain::Severity::Critical => AlertSeverity::Critical,
                    },
                    state: state_of(a.state),
                    triggered_at: a.triggered_at,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct DigestQuery;

#[Object]
impl DigestQuery {
    /// Preview of the digest of the `kind` window holding `at` (default: now, so the window in
    /// progress) against the window before; the one channels get is sent when a window closes.
    async fn cost_digest(
        &self,
        ctx: &Context<'_>,
        tenant: String,
        kind: DigestKind,
        at: Option<DateTime<Utc>>,
    ) -> Result<CostDigest> {
        let a = alerting(ctx)?;
        let now = Utc::now();
        let kind = match kind {
            DigestKind::Weekly => Kind::Weekly,
            DigestKind::Monthly => Kind::Monthly,
        };
        let digest = a
            .evaluator
            .digests()
            .build(&tenant, kind, at.unwrap_or(now), now)
            .await
            .map_err(gql_error)?;
        Ok(digest.into())
    }
}
