//! gRPC `costwatch.v1.BudgetService` (`proto/costwatch/v1/budgets.proto`): budgets with live
//! status and their alerts, over the same [`BudgetService`] and [`Evaluator`] as GraphQL and REST,
//! so all three validate and compute identically.
//!
//! Amounts travel as exact decimal strings in both directions (never doubles). Protobuf cannot
//! tell an unset string from an empty one, so empty strings are absent fields.
//!
//! Errors: [`AlertingError::BadInput`] → `INVALID_ARGUMENT`, named by the field's path in the
//! request in proto field names (`budget.amount`, `budget.allocations`, `budget.custom_start`),
//! with a `costwatch.v1.FieldViolations` in the status details (see [`costwatch_proto::status`]);
//! `NotFound` → `NOT_FOUND`; `Conflict` → `ABORTED`; `Store` → `UNAVAILABLE` (details logged, not
//! sent); `Compute` → `INTERNAL`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use costwatch_alerting::{AlertingError, BudgetService, BudgetView, Evaluator, parse_tenant};
use costwatch_domain::access::{Action, Principal};
use costwatch_domain::alerting::{self as domain, Alert};
use costwatch_domain::audit::Outcome;
use costwatch_domain::budget::{self as b, BudgetScope, BudgetSpec, Period};
use costwatch_domain::money::format_amount;
use costwatch_domain::{Category, Currency};
use costwatch_proto::prost_types::Timestamp;
use costwatch_proto::v1 as pb;
use costwatch_proto::v1::budget_service_server::{BudgetService as BudgetRpc, BudgetServiceServer};
use rust_decimal::Decimal;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

/// Longest field path or reason kept in an `INVALID_ARGUMENT` status, in characters (the status
/// travels in trailers, which clients bound).
const MAX_ERROR_TEXT: usize = 256;
/// Longest echo of a refused input value inside a reason, in characters.
const MAX_ECHO: usize = 64;
/// `ListAlerts` page size when the request says 0, and the largest accepted.
const DEFAULT_ALERT_LIMIT: usize = 100;
const MAX_ALERT_LIMIT: usize = 1000;

/// `google.protobuf.Timestamp` range: 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999999Z.
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;

/// The `BudgetService` implementation.
pub struct BudgetGrpc {
    budgets: Arc<BudgetService>,
    evaluator: Arc<Evaluator>,
    /// Woken after a change raised or changed alerts, so they are published at once (without it
    /// the publisher finds them at its next poll).
    publisher_wake: Option<Arc<Notify>>,
    /// Who may call; every method is authorized for the request's tenant.
    auth: crate::auth::GatewayAuth,
}

impl BudgetGrpc {
    pub fn new(budgets: Arc<BudgetService>, evaluator: Arc<Evaluator>) -> Self {
        BudgetGrpc {
            budgets,
            evaluator,
            publisher_wake: None,
            auth: crate::auth::GatewayAuth::disabled(),
        }
    }

    /// Authenticates callers with `auth` (the `authorization` metadata, `Bearer <token>`).
    pub fn with_auth(mut self, auth: crate::auth::GatewayAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Authenticates the caller and authorizes `action` for `tenant`; refusals are audited.
    async fn admit<T>(
        &self,
        request: &Request<T>,
        method: &str,
        action: Action,
        tenant: &str,
    ) -> Result<Principal, Status> {
        let source = request
            .remote_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "unknown".into());
        let header = request
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let principal = match self.auth.principal(header).await {
            Ok(p) => p,
            Err(e) => {
                self.auth
                    .audit
                    .refused_credential(method, method, source, &e)
                    .await;
                return Err(Status::unauthenticated(e.to_string()));
            }
        };
        let decision = principal.authorize_requested(action, Some(tenant));
        if let Err(denied) = decision {
            self.auth
                .audit
                .record(
                    &principal,
                    Some(tenant.to_string()),
                    method,
                    source,
                    Outcome::Denied {
                        reason: denied.reason.clone(),
                    },
                )
                .await;
            return Err(Status::permission_denied(denied.reason));
        }
        if action == Action::ManageTenant {
            self.auth
                .audit
                .record(
                    &principal,
                    Some(tenant.to_string()),
                    method,
                    source,
                    Outcome::Allowed,
                )
                .await;
        }
        Ok(principal)
    }

    /// Wakes the outbox publisher (`Publisher::waker`) after every change to alerts.
    pub fn with_publisher_wake(mut self, wake: Arc<Notify>) -> Self {
        self.publisher_wake = Some(wake);
        self
    }

    pub fn into_server(self) -> BudgetServiceServer<Self> {
        BudgetServiceServer::new(self)
    }

    fn wake_publisher(&self) {
        if let Some(w) = &self.publisher_wake {
            w.notify_one();
        }
    }

    /// Re-evaluates the tenant right after a budget change, so a budget created already past a
    /// threshold alerts now rather than at the next sweep. A failure is logged; the sweep retries.
    async fn evaluate_now(&self, tenant: &str) {
        crate::evaluate_now(&self.evaluator, self.publisher_wake.as_deref(), tenant).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A refused input value, quoted and bounded, for a reason.
fn echo(raw: &str) -> String {
    format!("{:?}", shorten(raw, MAX_ECHO))
}

/// `INVALID_ARGUMENT` naming `field`, with the violation in the status details.
fn invalid(field: &str, reason: &str) -> Status {
    let field = shorten(field, MAX_ERROR_TEXT);
    let reason = shorten(reason, MAX_ERROR_TEXT);
    let violations = pb::FieldViolations {
        violations: vec![pb::FieldViolation {
            index: 0,
            field: field.clone(),
            reason: reason.clone(),
        }],
        total: 1,
    };
    costwatch_proto::invalid_argument(
        format!("invalid {field}: {reason}"),
        format!("invalid {field}"),
        &violations,
    )
}

fn status_of(e: AlertingError) -> Status {
    match e {
        AlertingError::BadInput { field, reason } => invalid(&field, &reason),
        e @ AlertingError::NotFound { .. } => Status::not_found(e.to_string()),
        e @ AlertingError::Conflict { .. } => Status::aborted(e.to_string()),
        AlertingError::Store(inner) => {
            tracing::error!(error = %inner, "alert store failed");
            Status::unavailable("budgets and alerts are temporarily unavailable; retry shortly")
        }
        AlertingError::Compute(reason) => {
            tracing::warn!(%reason, "budget status could not be computed");
            Status::internal(reason)
        }
    }
}

/// `customStart` → `custom_start`: the domain names input fields in GraphQL (camelCase) names.
fn snake_case(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The budget service validates a spec under the GraphQL prefix `input`; over gRPC the spec is
/// the request's `budget` field, named in proto field names.
fn as_budget_field(e: AlertingError) -> AlertingError {
    match e {
        AlertingError::BadInput { field, reason } => {
            let field = match field.strip_prefix("input") {
                Some(rest) if rest.is_empty() || rest.starts_with(['.', '[']) => {
                    format!("budget{rest}")
                }
                _ => field,
            };
            AlertingError::BadInput {
                field: snake_case(&field),
                reason,
            }
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Requests → domain

fn bad(field: impl Into<String>, reason: impl Into<String>) -> AlertingError {
    AlertingError::bad(field, reason)
}

fn required<'a>(field: &str, raw: &'a str) -> Result<&'a str, AlertingError> {
    if raw.is_empty() {
        Err(bad(field, "is required"))
    } else {
        Ok(raw)
    }
}

fn optional(raw: String) -> Option<String> {
    Some(raw).filter(|s| !s.trim().is_empty())
}

fn decimal(field: &str, raw: &str) -> Result<Decimal, AlertingError> {
    required(field, raw)?
        .trim()
        .parse::<Decimal>()
        .map_err(|e| bad(field, format!("{} is not a decimal number: {e}", echo(raw))))
}

fn category(field: &str, raw: &str) -> Result<Category, AlertingError> {
    raw.parse::<Category>()
        .map_err(|reason| bad(field, format!("{}: {reason}", echo(raw))))
}

fn currency(field: &str, raw: &str) -> Result<Currency, AlertingError> {
    required(field, raw)?
        .parse::<Currency>()
        .map_err(|e| bad(field, shorten(&e.to_string(), MAX_ERROR_TEXT)))
}

fn time_of(field: &str, ts: &Timestamp) -> Result<DateTime<Utc>, AlertingError> {
    u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .filter(|_| (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&ts.seconds))
        .and_then(|nanos| DateTime::<Utc>::from_timestamp(ts.seconds, nanos))
        .ok_or_else(|| {
            bad(
                field,
                "must be a google.protobuf.Timestamp between 0001-01-01T00:00:00Z and \
                 9999-12-31T23:59:59Z with 0 <= nanos < 1000000000",
            )
        })
}

const PERIODS: &str = "MONTHLY, QUARTERLY, YEARLY or CUSTOM";

fn period_kind(field: &str, raw: i32) -> Result<pb::BudgetPeriod, AlertingError> {
    match pb::BudgetPeriod::try_from(raw) {
        Ok(pb::BudgetPeriod::Unspecified) => Err(bad(field, format!("is required: {PERIODS}"))),
        Ok(p) => Ok(p),
        Err(_) => Err(bad(
            field,
            format!("unknown BudgetPeriod value {raw}; expected {PERIODS}"),
        )),
    }
}

fn period_of(
    prefix: &str,
    raw: i32,
    start: Option<&Timestamp>,
    end: Option<&Timestamp>,
) -> Result<Period, AlertingError> {
    Ok(match period_kind(&format!("{prefix}.period"), raw)? {
        pb::BudgetPeriod::Monthly => Period::Monthly,
        pb::BudgetPeriod::Quarterly => Period::Quarterly,
        pb::BudgetPeriod::Yearly => Period::Yearly,
        pb::BudgetPeriod::Custom | pb::BudgetPeriod::Unspecified => {
            let edge = |name: &str, ts: Option<&Timestamp>| {
                let field = format!("{prefix}.{name}");
                let ts = ts.ok_or_else(|| bad(&field, "is required when period is CUSTOM"))?;
                time_of(&field, ts)
            };
            Period::Custom {
                start: edge("custom_start", start)?,
                end: edge("custom_end", end)?,
            }
        }
    })
}

fn basis_of(field: &str, raw: i32) -> Result<b::ThresholdBasis, AlertingError> {
    match pb::ThresholdBasis::try_from(raw) {
        Ok(pb::ThresholdBasis::Actual) => Ok(b::ThresholdBasis::Actual),
        Ok(pb::ThresholdBasis::Forecast) => Ok(b::ThresholdBasis::Forecast),
        Ok(pb::ThresholdBasis::Unspecified) => Err(bad(field, "is required: ACTUAL or FORECAST")),
        Err(_) => Err(bad(
            field,
            format!("unknown ThresholdBasis value {raw}; expected ACTUAL or FORECAST"),
        )),
    }
}

fn scope_of(prefix: &str, scope: Option<pb::BudgetScope>) -> Result<BudgetScope, AlertingError> {
    let Some(s) = scope else {
        return Ok(BudgetScope::default());
    };
    Ok(BudgetScope {
        category: Some(s.category)
            .filter(|c| !c.is_empty())
            .map(|c| category(&format!("{prefix}.category"), &c))
            .transpose()?,
        provider: Some(s.provider).filter(|p| !p.is_empty()),
        service: Some(s.service).filter(|p| !p.is_empty()),
        labels: s.labels,
    })
}

/// The domain spec of the request's `budget` (parsed, not yet validated: the budget service
/// validates, and [`as_budget_field`] renames its field paths).
fn spec_of(input: Option<pb::BudgetInput>) -> Result<BudgetSpec, AlertingError> {
    let input = input.ok_or_else(|| bad("budget", "is required"))?;
    let amount = decimal("budget.amount", &input.amount)?;
    let currency = currency("budget.currency", &input.currency)?;
    let period = period_of(
        "budget",
        input.period,
        input.custom_start.as_ref(),
        input.custom_end.as_ref(),
    )?;
    let scope = scope_of("budget.scope", input.scope)?;
    let thresholds = if input.thresholds.is_empty() {
        b::default_thresholds()
    } else {
        input
            .thresholds
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(b::Threshold {
                    percent: decimal(&format!("budget.thresholds[{i}].percent"), &t.percent)?,
                    basis: basis_of(&format!("budget.thresholds[{i}].basis"), t.basis)?,
                })
            })
            .collect::<Result<_, AlertingError>>()?
    };
    let allocations = input
        .allocations
        .iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(b::Allocation {
                category: category(&format!("budget.allocations[{i}].category"), &a.category)?,
                amount: decimal(&format!("budget.allocations[{i}].amount"), &a.amount)?,
            })
        })
        .collect::<Result<_, AlertingError>>()?;
    Ok(BudgetSpec {
        name: input.name,
        amount,
        currency,
        period,
        scope,
        thresholds,
        allocations,
        owner: optional(input.owner),
    })
}

// ---------------------------------------------------------------------------------------------
// Domain → responses

fn money(amount: Decimal, currency: Currency) -> pb::Money {
    pb::Money {
        amount: format_amount(amount),
        currency: currency.to_string(),
    }
}

fn timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: t.timestamp(),
        // chrono represents a leap second as nanos >= 1e9; protobuf does not.
        nanos: i32::try_from(t.timestamp_subsec_nanos().min(999_999_999)).unwrap_or(0),
    }
}

fn budget_of(view: BudgetView) -> pb::Budget {
    let (budget, st) = (view.budget, view.status);
    let spec = budget.spec;
    let c = spec.currency;
    let (period, custom_start, custom_end) = match spec.period {
        Period::Monthly => (pb::BudgetPeriod::Monthly, None, None),
        Period::Quarterly => (pb::BudgetPeriod::Quarterly, None, None),
        Period::Yearly => (pb::BudgetPeriod::Yearly, None, None),
        Period::Custom { start, end } => (
            pb::BudgetPeriod::Custom,
            Some(timestamp(start)),
            Some(timestamp(end)),
        ),
    };
    pb::Budget {
        id: budget.id,
        tenant: budget.tenant,
        name: spec.name,
        amount: Some(money(spec.amount, c)),
        period: period as i32,
        custom_start,
        custom_end,
        scope: Some(pb::BudgetScope {
            category: spec
                .scope
                .category
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            provider: spec.scope.provider.unwrap_or_default(),
            service: spec.scope.service.unwrap_or_default(),
            labels: spec.scope.labels,
        }),
        thresholds: spec
            .thresholds
            .iter()
            .map(|t| pb::Threshold {
                percent: format_amount(t.percent),
                basis: match t.basis {
                    b::ThresholdBasis::Actual => pb::ThresholdBasis::Actual,
                    b::ThresholdBasis::Forecast => pb::ThresholdBasis::Forecast,
                } as i32,
            })
            .collect(),
        allocations: spec
            .allocations
            .iter()
            .map(|a| pb::Allocation {
                category: a.category.as_str().to_string(),
                amount: Some(money(a.amount, c)),
            })
            .collect(),
        owner: spec.owner.unwrap_or_default(),
        period_start: Some(timestamp(st.window.start)),
        period_end: Some(timestamp(st.window.end)),
        spent: Some(money(st.spent, c)),
        forecast: Some(money(st.forecast, c)),
        forecast_low: Some(money(st.forecast_low, c)),
        forecast_high: Some(money(st.forecast_high, c)),
        percent_spent: format_amount(st.percent_spent),
        status: match st.health {
            b::BudgetHealth::OnTrack => pb::BudgetStatus::OnTrack,
            b::BudgetHealth::AtRisk => pb::BudgetStatus::AtRisk,
            b::BudgetHealth::Exceeded => pb::BudgetStatus::Exceeded,
        } as i32,
        depletion_date: st.depletion.map(timestamp),
        created_at: Some(timestamp(budget.created_at)),
        updated_at: Some(timestamp(budget.updated_at)),
    }
}

fn alert_state(s: domain::AlertState) -> pb::AlertState {
    match s {
        domain::AlertState::Triggered => pb::AlertState::Triggered,
        domain::AlertState::Acknowledged => pb::AlertState::Acknowledged,
        domain::AlertState::Resolved => pb::AlertState::Resolved,
    }
}

fn alert_of(a: Alert) -> pb::Alert {
    let with_currency = |d: Option<Decimal>| Some(money(d?, a.currency?));
    pb::Alert {
        actual: with_currency(a.actual),
        threshold: with_currency(a.threshold),
        id: a.id,
        tenant: a.tenant,
        dedupe_key: a.dedupe_key,
        kind: match a.kind {
            domain::AlertKind::BudgetThreshold => pb::AlertKind::BudgetThreshold,
            domain::AlertKind::BudgetForecast => pb::AlertKind::BudgetForecast,
            domain::AlertKind::BudgetDepletion => pb::AlertKind::BudgetDepletion,
            domain::AlertKind::CostSpike => pb::AlertKind::CostSpike,
            domain::AlertKind::PeriodChange => pb::AlertKind::PeriodChange,
            domain::AlertKind::ResourceUtilization => pb::AlertKind::ResourceUtilization,
            domain::AlertKind::Anomaly => pb::AlertKind::Anomaly,
        } as i32,
        severity: match a.severity {
            domain::Severity::Info => pb::AlertSeverity::Info,
            domain::Severity::Warning => pb::AlertSeverity::Warning,
            domain::Severity::Critical => pb::AlertSeverity::Critical,
        } as i32,
        state: alert_state(a.state) as i32,
        title: a.title,
        message: a.message,
        budget_id: a.budget_id.unwrap_or_default(),
        owner: a.owner.unwrap_or_default(),
        triggered_at: Some(timestamp(a.triggered_at)),
        updated_at: Some(timestamp(a.updated_at)),
        history: a
            .history
            .into_iter()
            .map(|t| pb::AlertTransition {
                state: alert_state(t.state) as i32,
                at: Some(timestamp(t.at)),
                by: t.by.unwrap_or_default(),
                note: t.note.unwrap_or_default(),
            })
            .collect(),
    }
}

fn state_filter(raw: i32) -> Result<Option<domain::AlertState>, AlertingError> {
    match pb::AlertState::try_from(raw) {
        Ok(pb::AlertState::Unspecified) => Ok(None),
        Ok(pb::AlertState::Triggered) => Ok(Some(domain::AlertState::Triggered)),
        Ok(pb::AlertState::Acknowledged) => Ok(Some(domain::AlertState::Acknowledged)),
        Ok(pb::AlertState::Resolved) => Ok(Some(domain::AlertState::Resolved)),
        Err(_) => Err(bad(
            "state",
            format!(
                "unknown AlertState value {raw}; expected UNSPECIFIED (any), TRIGGERED, \
                 ACKNOWLEDGED or RESOLVED"
            ),
        )),
    }
}

fn limit_of(raw: u32) -> Result<usize, AlertingError> {
    match usize::try_from(raw) {
        Ok(0) => Ok(DEFAULT_ALERT_LIMIT),
        Ok(n) if n <= MAX_ALERT_LIMIT => Ok(n),
        _ => Err(bad(
            "limit",
            format!("must be between 1 and {MAX_ALERT_LIMIT} (0 means {DEFAULT_ALERT_LIMIT})"),
        )),
    }
}

#[tonic::async_trait]
impl BudgetRpc for BudgetGrpc {
    async fn list_budgets(
        &self,
        request: Request<pb::ListBudgetsRequest>,
    ) -> Result<Response<pb::ListBudgetsResponse>, Status> {
        self.admit(
            &request,
            "list_budgets",
            Action::ReadCosts,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let views = self
            .budgets
            .list(&req.tenant, Utc::now())
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListBudgetsResponse {
            budgets: views.into_iter().map(budget_of).collect(),
        }))
    }

    async fn get_budget(
        &self,
        request: Request<pb::GetBudgetRequest>,
    ) -> Result<Response<pb::GetBudgetResponse>, Status> {
        self.admit(
            &request,
            "get_budget",
            Action::ReadCosts,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let id = required("id", &req.id).map_err(status_of)?;
        let view = self
            .budgets
            .get(&tenant, id, Utc::now())
            .await
            .map_err(status_of)?
            .ok_or_else(|| {
                status_of(AlertingError::NotFound {
                    what: "budget",
                    id: id.to_string(),
                })
            })?;
        Ok(Response::new(pb::GetBudgetResponse {
            budget: Some(budget_of(view)),
        }))
    }

    async fn create_budget(
        &self,
        request: Request<pb::CreateBudgetRequest>,
    ) -> Result<Response<pb::CreateBudgetResponse>, Status> {
        self.admit(
            &request,
            "create_budget",
            Action::ManageTenant,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let spec = spec_of(req.budget).map_err(status_of)?;
        let view = self
            .budgets
            .create(&tenant, spec, Utc::now())
            .await
            .map_err(|e| status_of(as_budget_field(e)))?;
        self.evaluate_now(&tenant).await;
        Ok(Response::new(pb::CreateBudgetResponse {
            budget: Some(budget_of(view)),
        }))
    }

    async fn update_budget(
        &self,
        request: Request<pb::UpdateBudgetRequest>,
    ) -> Result<Response<pb::UpdateBudgetResponse>, Status> {
        self.admit(
            &request,
            "update_budget",
            Action::ManageTenant,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let id = required("id", &req.id).map_err(status_of)?;
        let spec = spec_of(req.budget).map_err(status_of)?;
        let view = self
            .budgets
            .update(&tenant, id, spec, Utc::now())
            .await
            .map_err(|e| status_of(as_budget_field(e)))?;
        self.evaluate_now(&tenant).await;
        Ok(Response::new(pb::UpdateBudgetResponse {
            budget: Some(budget_of(view)),
        }))
    }

    async fn delete_budget(
        &self,
        request: Request<pb::DeleteBudgetRequest>,
    ) -> Result<Response<pb::DeleteBudgetResponse>, Status> {
        self.admit(
            &request,
            "delete_budget",
            Action::ManageTenant,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let id = required("id", &req.id).map_err(status_of)?;
        if !self.budgets.delete(&tenant, id).await.map_err(status_of)? {
            return Err(status_of(AlertingError::NotFound {
                what: "budget",
                id: id.to_string(),
            }));
        }
        // Resolves the deleted budget's open alerts ("budget deleted").
        self.evaluate_now(&tenant).await;
        Ok(Response::new(pb::DeleteBudgetResponse {}))
    }

    async fn recommend_budget(
        &self,
        request: Request<pb::RecommendBudgetRequest>,
    ) -> Result<Response<pb::RecommendBudgetResponse>, Status> {
        self.admit(
            &request,
            "recommend_budget",
            Action::ReadCosts,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let result = async {
            let tenant = parse_tenant(&req.tenant)?;
            let period = match period_kind("period", req.period)? {
                pb::BudgetPeriod::Monthly => Period::Monthly,
                pb::BudgetPeriod::Quarterly => Period::Quarterly,
                pb::BudgetPeriod::Yearly => Period::Yearly,
                pb::BudgetPeriod::Custom | pb::BudgetPeriod::Unspecified => {
                    return Err(bad(
                        "period",
                        "CUSTOM has no past periods to learn from; use MONTHLY, QUARTERLY or YEARLY",
                    ));
                }
            };
            let currency = currency("currency", &req.currency)?;
            let scope = scope_of("scope", req.scope)?;
            let r = self
                .budgets
                .recommend(&tenant, period, currency, &scope, Utc::now())
                .await?
                .ok_or_else(|| AlertingError::NotFound {
                    what: "spend history for",
                    id: "this scope".into(),
                })?;
            Ok(pb::RecommendBudgetResponse {
                amount: Some(money(r.amount, currency)),
                based_on_periods: u32::try_from(r.based_on_periods).unwrap_or(u32::MAX),
                reasoning: r.reasoning,
            })
        }
        .await;
        result.map(Response::new).map_err(status_of)
    }

    async fn list_alerts(
        &self,
        request: Request<pb::ListAlertsRequest>,
    ) -> Result<Response<pb::ListAlertsResponse>, Status> {
        self.admit(
            &request,
            "list_alerts",
            Action::ReadCosts,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let state = state_filter(req.state).map_err(status_of)?;
        let limit = limit_of(req.limit).map_err(status_of)?;
        let alerts = self
            .budgets
            .alert_store()
            .alerts(&tenant, state, limit)
            .await
            .map_err(|e| status_of(e.into()))?;
        Ok(Response::new(pb::ListAlertsResponse {
            alerts: alerts.into_iter().map(alert_of).collect(),
        }))
    }

    async fn acknowledge_alert(
        &self,
        request: Request<pb::AcknowledgeAlertRequest>,
    ) -> Result<Response<pb::AcknowledgeAlertResponse>, Status> {
        self.admit(
            &request,
            "acknowledge_alert",
            Action::ManageTenant,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let id = required("id", &req.id).map_err(status_of)?;
        let alert = self
            .evaluator
            .acknowledge(
                &tenant,
                id,
                optional(req.by),
                optional(req.note),
                Utc::now(),
            )
            .await
            .map_err(status_of)?;
        self.wake_publisher();
        Ok(Response::new(pb::AcknowledgeAlertResponse {
            alert: Some(alert_of(alert)),
        }))
    }

    async fn resolve_alert(
        &self,
        request: Request<pb::ResolveAlertRequest>,
    ) -> Result<Response<pb::ResolveAlertResponse>, Status> {
        self.admit(
            &request,
            "resolve_alert",
            Action::ManageTenant,
            &request.get_ref().tenant,
        )
        .await?;
        let req = request.into_inner();
        let tenant = parse_tenant(&req.tenant).map_err(status_of)?;
        let id = required("id", &req.id).map_err(status_of)?;
        let alert = self
            .evaluator
            .resolve(
                &tenant,
                id,
                optional(req.by),
                optional(req.note),
                Utc::now(),
            )
            .await
            .map_err(status_of)?;
        self.wake_publisher();
        Ok(Response::new(pb::ResolveAlertResponse {
            alert: Some(alert_of(alert)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{Duration, TimeZone};
    use costwatch_alerting::EvaluatorOptions;
    use costwatch_domain::alerting::{AlertKind, Condition, Severity, reconcile};
    use costwatch_domain::budget::ForecastPolicy;
    use costwatch_domain::fx::FxRates;
    use costwatch_embedded::{SqliteAlertStore, SqliteStore};
    use costwatch_ports::{AlertStore, CostStore};
    use tonic::Code;

    use super::*;

    struct World {
        grpc: BudgetGrpc,
        alerts: Arc<dyn AlertStore>,
        _dir: tempfile::TempDir,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let costs: Arc<dyn CostStore> =
            Arc::new(SqliteStore::open(&dir.path().join("store.sqlite")).expect("store"));
        let alerts: Arc<dyn AlertStore> =
            Arc::new(SqliteAlertStore::open(&dir.path().join("alerts.sqlite")).expect("alerts"));
        let budgets = Arc::new(BudgetService::new(
            costs.clone(),
            alerts.clone(),
            FxRates::default(),
            ForecastPolicy::default(),
        ));
        let evaluator = Arc::new(Evaluator::new(
            budgets.clone(),
            costs,
            FxRates::default(),
            EvaluatorOptions::default(),
        ));
        World {
            grpc: BudgetGrpc::new(budgets, evaluator).with_publisher_wake(Arc::new(Notify::new())),
            alerts,
            _dir: dir,
        }
    }

    fn input(amount: &str) -> pb::BudgetInput {
        pb::BudgetInput {
            name: "  Platform  ".into(),
            amount: amount.into(),
            currency: "USD".into(),
            period: pb::BudgetPeriod::Monthly as i32,
            scope: Some(pb::BudgetScope {
                provider: "aws".into(),
                labels: BTreeMap::from([("team".to_string(), "core".to_string())]),
                ..Default::default()
            }),
            thresholds: vec![
                pb::Threshold {
                    percent: "80.5".into(),
                    basis: pb::ThresholdBasis::Actual as i32,
                },
                pb::Threshold {
                    percent: "100".into(),
                    basis: pb::ThresholdBasis::Forecast as i32,
                },
            ],
            owner: "finops@example.com".into(),
            ..Default::default()
        }
    }

    fn allocation(category: &str, amount: &str) -> pb::AllocationInput {
        pb::AllocationInput {
            category: category.into(),
            amount: amount.into(),
        }
    }

    fn usd(amount: &str) -> Option<pb::Money> {
        Some(pb::Money {
            amount: amount.into(),
            currency: "USD".into(),
        })
    }

    async fn create(
        grpc: &BudgetGrpc,
        tenant: &str,
        budget: pb::BudgetInput,
    ) -> Result<pb::Budget, Status> {
        let r = grpc
            .create_budget(Request::new(pb::CreateBudgetRequest {
                tenant: tenant.into(),
                budget: Some(budget),
            }))
            .await?;
        Ok(r.into_inner().budget.expect("budget"))
    }

    async fn get(grpc: &BudgetGrpc, tenant: &str, id: &str) -> Result<pb::Budget, Status> {
        let r = grpc
            .get_budget(Request::new(pb::GetBudgetRequest {
                tenant: tenant.into(),
                id: id.into(),
            }))
            .await?;
        Ok(r.into_inner().budget.expect("budget"))
    }

    async fn list(grpc: &BudgetGrpc, tenant: &str) -> Vec<pb::Budget> {
        grpc.list_budgets(Request::new(pb::ListBudgetsRequest {
            tenant: tenant.into(),
        }))
        .await
        .expect("list")
        .into_inner()
        .budgets
    }

    async fn delete(grpc: &BudgetGrpc, tenant: &str, id: &str) -> Result<(), Status> {
        grpc.delete_budget(Request::new(pb::DeleteBudgetRequest {
            tenant: tenant.into(),
            id: id.into(),
        }))
        .await
        .map(|_| ())
    }

    /// The status is INVALID_ARGUMENT naming `field`, in the message and the details.
    fn assert_invalid(status: &Status, field: &str) {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().starts_with(&format!("invalid {field}: ")),
            "{field} not named in {:?}",
            status.message()
        );
        let details = costwatch_proto::field_violations(status).expect("field violations");
        assert_eq!(details.total, 1);
        assert_eq!(details.violations[0].field, field);
        assert!(!details.violations[0].reason.is_empty());
    }

    #[tokio::test]
    async fn grpc_budget_round_trip_keeps_exact_amounts() {
        let w = world();
        // 26 significant digits: a double would lose most of the fraction.
        let mut budget = input("12345678901234.123456789012");
        budget.allocations = vec![
            allocation("hosting", "12345678901234.000000000001"),
            allocation("database", "0.123456789011"),
        ];
        let created = create(&w.grpc, "acme", budget).await.expect("create");
        assert!(!created.id.is_empty());
        assert_eq!(created.tenant, "acme");
        assert_eq!(created.name, "Platform");
        assert_eq!(created.amount, usd("12345678901234.123456789012"));
        assert_eq!(created.period, pb::BudgetPeriod::Monthly as i32);
        assert_eq!((created.custom_start, created.custom_end), (None, None));
        let scope = created.scope.clone().expect("scope");
        assert_eq!(
            (scope.category.as_str(), scope.provider.as_str()),
            ("", "aws")
        );
        assert_eq!(scope.labels.get("team").map(String::as_str), Some("core"));
        assert_eq!(
            created.thresholds,
            vec![
                pb::Threshold {
                    percent: "80.5".into(),
                    basis: pb::ThresholdBasis::Actual as i32
                },
                pb::Threshold {
                    percent: "100".into(),
                    basis: pb::ThresholdBasis::Forecast as i32
                },
            ]
        );
        assert_eq!(
            created.allocations,
            vec![
                pb::Allocation {
                    category: "hosting".into(),
                    amount: usd("12345678901234.000000000001"),
                },
                pb::Allocation {
                    category: "database".into(),
                    amount: usd("0.123456789011"),
                },
            ]
        );
        assert_eq!(created.owner, "finops@example.com");
        // Live status: nothing spent yet.
        assert_eq!(created.spent, usd("0"));
        assert_eq!(created.forecast, usd("0"));
        assert_eq!(created.forecast_low, usd("0"));
        assert_eq!(created.forecast_high, usd("0"));
        assert_eq!(created.percent_spent, "0");
        assert_eq!(created.status, pb::BudgetStatus::OnTrack as i32);
        assert_eq!(created.depletion_date, None);
        let (start, end) = (
            created.period_start.expect("start"),
            created.period_end.expect("end"),
        );
        assert!(start.seconds < end.seconds && start.seconds % 86_400 == 0);
        assert!(created.created_at.is_some() && created.created_at == created.updated_at);

        let fetched = get(&w.grpc, "acme", &created.id).await.expect("get");
        assert_eq!(fetched, created);
        assert_eq!(list(&w.grpc, "acme").await, vec![created.clone()]);

        // Update: replaces the whole input; empty thresholds mean the defaults.
        let custom_start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let custom_end = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        let updated = w
            .grpc
            .update_budget(Request::new(pb::UpdateBudgetRequest {
                tenant: "acme".into(),
                id: created.id.clone(),
                budget: Some(pb::BudgetInput {
                    name: "Q1 platform".into(),
                    amount: "0.000000000001".into(),
                    currency: "EUR".into(),
                    period: pb::BudgetPeriod::Custom as i32,
                    custom_start: Some(timestamp(custom_start)),
                    custom_end: Some(timestamp(custom_end)),
                    ..Default::default()
                }),
            }))
            .await
            .expect("update")
            .into_inner()
            .budget
            .expect("budget");
        assert_eq!(updated.id, created.id);
        assert_eq!(updated.name, "Q1 platform");
        assert_eq!(
            updated.amount,
            Some(pb::Money {
                amount: "0.000000000001".into(),
                currency: "EUR".into()
            })
        );
        assert_eq!(updated.period, pb::BudgetPeriod::Custom as i32);
        assert_eq!(updated.custom_start, Some(timestamp(custom_start)));
        assert_eq!(updated.custom_end, Some(timestamp(custom_end)));
        assert_eq!(updated.period_start, Some(timestamp(custom_start)));
        assert_eq!(updated.period_end, Some(timestamp(custom_end)));
        assert_eq!(updated.thresholds.len(), b::default_thresholds().len());
        assert!(updated.allocations.is_empty());
        assert_eq!(updated.owner, "");
        assert_eq!(updated.scope, Some(pb::BudgetScope::default()));
        assert_eq!(updated.created_at, created.created_at);
        assert_eq!(
            get(&w.grpc, "acme", &created.id).await.expect("get"),
            updated
        );

        delete(&w.grpc, "acme", &created.id).await.expect("delete");
        assert!(list(&w.grpc, "acme").await.is_empty());
        let gone = get(&w.grpc, "acme", &created.id)
            .await
            .expect_err("deleted");
        assert_eq!(gone.code(), Code::NotFound);
        let again = delete(&w.grpc, "acme", &created.id)
            .await
            .expect_err("deleted twice");
        assert_eq!(again.code(), Code::NotFound);
    }

    #[tokio::test]
    async fn grpc_bad_input_names_the_proto_field() {
        let w = world();
        let refused =
            |budget| async { create(&w.grpc, "acme", budget).await.expect_err("refused") };

        assert_invalid(&refused(input("12.3.4")).await, "budget.amount");
        assert_invalid(&refused(input("")).await, "budget.amount");
        assert_invalid(&refused(input("-5")).await, "budget.amount");

        let mut b = input("100");
        b.allocations = vec![allocation("hosting", "60"), allocation("api", "39.99")];
        let status = refused(b).await;
        assert_invalid(&status, "budget.allocations");
        assert!(status.message().contains("99.99"), "{}", status.message());

        let mut b = input("100");
        b.allocations = vec![allocation("hosting", "1O0")];
        assert_invalid(&refused(b).await, "budget.allocations[0].amount");

        let mut b = input("100");
        b.allocations = vec![allocation("compute", "100")];
        assert_invalid(&refused(b).await, "budget.allocations[0].category");

        let mut b = input("100");
        b.thresholds[1].percent = "a lot".into();
        assert_invalid(&refused(b).await, "budget.thresholds[1].percent");

        let mut b = input("100");
        b.thresholds[0].basis = 7;
        assert_invalid(&refused(b).await, "budget.thresholds[0].basis");

        let mut b = input("100");
        b.currency = "usd".into();
        assert_invalid(&refused(b).await, "budget.currency");

        let mut b = input("100");
        b.period = pb::BudgetPeriod::Unspecified as i32;
        assert_invalid(&refused(b).await, "budget.period");

        let mut b = input("100");
        b.period = 42;
        assert_invalid(&refused(b).await, "budget.period");

        let mut b = input("100");
        b.period = pb::BudgetPeriod::Custom as i32;
        assert_invalid(&refused(b).await, "budget.custom_start");

        // The domain's own rules, renamed from its GraphQL paths (`input.customStart`).
        let mut b = input("100");
        b.period = pb::BudgetPeriod::Custom as i32;
        b.custom_start = Some(Timestamp {
            seconds: 1_767_225_600 + 3600,
            nanos: 0,
        });
        b.custom_end = Some(Timestamp {
            seconds: 1_767_225_600 + 86_400 * 30,
            nanos: 0,
        });
        assert_invalid(&refused(b).await, "budget.custom_start");

        let mut b = input("100");
        b.name = " ".into();
        assert_invalid(&refused(b).await, "budget.name");

        let mut b = input("100");
        b.scope = Some(pb::BudgetScope {
            category: "rockets".into(),
            ..Default::default()
        });
        assert_invalid(&refused(b).await, "budget.scope.category");

        let status = w
            .grpc
            .create_budget(Request::new(pb::CreateBudgetRequest {
                tenant: "acme".into(),
                budget: None,
            }))
            .await
            .expect_err("no budget");
        assert_invalid(&status, "budget");

        let status = create(&w.grpc, "ac me", input("100"))
            .await
            .expect_err("bad tenant");
        assert_invalid(&status, "tenant");

        // A huge refused value is echoed only in part.
        let status = refused(input(&"9".repeat(100_000))).await;
        assert_invalid(&status, "budget.amount");
        assert!(status.message().len() < 600, "{}", status.message().len());

        // Nothing was stored.
        assert!(list(&w.grpc, "acme").await.is_empty());
    }

    #[tokio::test]
    async fn grpc_unknown_ids_and_other_tenants_are_not_found() {
        let w = world();
        let a = create(&w.grpc, "acme", input("100")).await.expect("create");

        let missing = get(&w.grpc, "acme", "no-such-budget")
            .await
            .expect_err("unknown");
        assert_eq!(missing.code(), Code::NotFound);
        assert!(missing.message().contains("no-such-budget"));
        let status = w
            .grpc
            .update_budget(Request::new(pb::UpdateBudgetRequest {
                tenant: "acme".into(),
                id: "no-such-budget".into(),
                budget: Some(input("100")),
            }))
            .await
            .expect_err("unknown");
        assert_eq!(status.code(), Code::NotFound);
        let status = delete(&w.grpc, "acme", "no-such-budget")
            .await
            .expect_err("unknown");
        assert_eq!(status.code(), Code::NotFound);
        assert_invalid(&get(&w.grpc, "acme", "").await.expect_err("empty"), "id");

        // Tenant B sees nothing of tenant A's budget, and cannot change or delete it.
        let status = get(&w.grpc, "globex", &a.id).await.expect_err("isolated");
        assert_eq!(status.code(), Code::NotFound);
        assert!(list(&w.grpc, "globex").await.is_empty());
        let status = w
            .grpc
            .update_budget(Request::new(pb::UpdateBudgetRequest {
                tenant: "globex".into(),
                id: a.id.clone(),
                budget: Some(input("1")),
            }))
            .await
            .expect_err("isolated");
        assert_eq!(status.code(), Code::NotFound);
        let status = delete(&w.grpc, "globex", &a.id)
            .await
            .expect_err("isolated");
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(get(&w.grpc, "acme", &a.id).await.expect("still there"), a);
    }

    #[tokio::test]
    async fn grpc_alerts_are_listed_acknowledged_and_resolved() {
        let w = world();
        let now = Utc::now();
        let condition = Condition {
            dedupe_key: "budget:b1:actual:80".into(),
            group: "budget:b1:actual".into(),
            epoch: "2026-03-01".into(),
            kind: AlertKind::BudgetThreshold,
            severity: Severity::Warning,
            title: "80% of Platform spent".into(),
            message: "Spent 80.000000000001 USD of 100 USD".into(),
            budget_id: Some("b1".into()),
            actual: Some("80.000000000001".parse().unwrap()),
            threshold: Some("80".parse().unwrap()),
            currency: Some(Currency::USD),
            owner: None,
        };
        let raised = reconcile(
            "acme",
            "budget:b1",
            &[],
            vec![condition],
            Some("2026-03-01"),
            now,
            Duration::hours(1),
        );
        let stored = w.alerts.apply_alert_changes(raised).await.expect("store");
        let id = stored[0].id.clone();

        let listed = |tenant: &str, state: pb::AlertState, limit: u32| {
            w.grpc.list_alerts(Request::new(pb::ListAlertsRequest {
                tenant: tenant.into(),
                state: state as i32,
                limit,
            }))
        };
        let alerts = listed("acme", pb::AlertState::Triggered, 0)
            .await
            .expect("list")
            .into_inner()
            .alerts;
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.id, id);
        assert_eq!(a.kind, pb::AlertKind::BudgetThreshold as i32);
        assert_eq!(a.severity, pb::AlertSeverity::Warning as i32);
        assert_eq!(a.state, pb::AlertState::Triggered as i32);
        assert_eq!(a.actual, usd("80.000000000001"));
        assert_eq!(a.threshold, usd("80"));
        assert_eq!(a.budget_id, "b1");
        assert_eq!(a.history.len(), 1);
        let none = listed("globex", pb::AlertState::Unspecified, 10)
            .await
            .expect("list");
        assert!(none.into_inner().alerts.is_empty());
        assert_invalid(
            &listed("acme", pb::AlertState::Unspecified, 1001)
                .await
                .expect_err("limit"),
            "limit",
        );
        let bad_state = w
            .grpc
            .list_alerts(Request::new(pb::ListAlertsRequest {
                tenant: "acme".into(),
                state: 9,
                limit: 0,
            }))
            .await
            .expect_err("state");
        assert_invalid(&bad_state, "state");

        let ack = |tenant: &str| {
            w.grpc
                .acknowledge_alert(Request::new(pb::AcknowledgeAlertRequest {
                    tenant: tenant.into(),
                    id: id.clone(),
                    by: "ana".into(),
                    note: "looking".into(),
                }))
        };
        assert_eq!(
            ack("globex").await.expect_err("isolated").code(),
            Code::NotFound
        );
        let acked = ack("acme").await.expect("ack").into_inner().alert.unwrap();
        assert_eq!(acked.state, pb::AlertState::Acknowledged as i32);
        let last = acked.history.last().expect("history");
        assert_eq!((last.by.as_str(), last.note.as_str()), ("ana", "looking"));
        assert_invalid(&ack("acme").await.expect_err("twice"), "id");

        let resolved = w
            .grpc
            .resolve_alert(Request::new(pb::ResolveAlertRequest {
                tenant: "acme".into(),
                id: id.clone(),
                ..Default::default()
            }))
            .await
            .expect("resolve")
            .into_inner()
            .alert
            .unwrap();
        assert_eq!(resolved.state, pb::AlertState::Resolved as i32);
        assert_eq!(resolved.history.len(), 3);
        assert_eq!(resolved.history[2].by, "");
        let status = w
            .grpc
            .resolve_alert(Request::new(pb::ResolveAlertRequest {
                tenant: "acme".into(),
                id: "no-such-alert".into(),
                ..Default::default()
            }))
            .await
            .expect_err("unknown");
        assert_eq!(status.code(), Code::NotFound);
    }

    #[tokio::test]
    async fn grpc_recommendation_validates_and_needs_history() {
        let w = world();
        let ask = |period: pb::BudgetPeriod, currency: &str| {
            w.grpc
                .recommend_budget(Request::new(pb::RecommendBudgetRequest {
                    tenant: "acme".into(),
                    period: period as i32,
                    currency: currency.into(),
                    scope: None,
                }))
        };
        assert_invalid(
            &ask(pb::BudgetPeriod::Custom, "USD")
                .await
                .expect_err("custom"),
            "period",
        );
        assert_invalid(
            &ask(pb::BudgetPeriod::Monthly, "").await.expect_err("none"),
            "currency",
        );
        assert_invalid(
            &ask(pb::BudgetPeriod::Monthly, "XYZ")
                .await
                .expect_err("no rate"),
            "currency",
        );
        let status = ask(pb::BudgetPeriod::Monthly, "USD")
            .await
            .expect_err("no history");
        assert_eq!(status.code(), Code::NotFound);
    }

    #[test]
    fn grpc_errors_map_to_status_codes() {
        let not_found = status_of(AlertingError::NotFound {
            what: "budget",
            id: "x".into(),
        });
        assert_eq!(not_found.code(), Code::NotFound);
        let conflict = status_of(AlertingError::Conflict {
            what: "alert",
            id: "x".into(),
        });
        assert_eq!(conflict.code(), Code::Aborted);
        let store = status_of(AlertingError::Store(
            costwatch_ports::StoreError::Unavailable("disk /var/secret full".into()),
        ));
        assert_eq!(store.code(), Code::Unavailable);
        assert!(!store.message().contains("secret"));
        let compute = status_of(AlertingError::Compute("no rate for XYZ".into()));
        assert_eq!(compute.code(), Code::Internal);

        let renamed = as_budget_field(AlertingError::bad("input.customEnd", "r"));
        assert!(
            matches!(renamed, AlertingError::BadInput { field, .. } if field == "budget.custom_end")
        );
        let kept = as_budget_field(AlertingError::bad("tenant", "r"));
        assert!(matches!(kept, AlertingError::BadInput { field, .. } if field == "tenant"));
    }
}
