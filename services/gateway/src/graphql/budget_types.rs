//! GraphQL types of budgets and alerts, and the conversion of budget input into the domain's
//! [`BudgetSpec`] (every parse error names its input field).

use std::collections::BTreeMap;

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use costwatch_alerting::{AlertingError, BudgetView};
use costwatch_domain::alerting::{self as domain, Alert};
use costwatch_domain::budget::{self as b, BudgetScope, BudgetSpec, Period};
use costwatch_domain::money::format_amount;
use costwatch_domain::{Category, Currency};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::inputs::LabelInput;
use crate::views::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BudgetPeriod {
    Monthly,
    Quarterly,
    Yearly,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThresholdBasis {
    Actual,
    Forecast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BudgetStatus {
    OnTrack,
    AtRisk,
    Exceeded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertState {
    Triggered,
    Acknowledged,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertSeverity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertKind {
    BudgetThreshold,
    BudgetForecast,
    BudgetDepletion,
    CostSpike,
    PeriodChange,
    ResourceUtilization,
    Anomaly,
}

#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetScopeView {
    pub category: Option<String>,
    pub provider: Option<String>,
    pub service: Option<String>,
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Threshold {
    /// Percent of the budget amount, e.g. "80".
    pub percent: String,
    pub basis: ThresholdBasis,
}

#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub category: String,
    pub amount: Money,
}

/// A budget with its live status in the current period.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "Budget")]
pub struct BudgetGql {
    pub id: ID,
    pub tenant: String,
    pub name: String,
    pub amount: Money,
    pub period: BudgetPeriod,
    /// The current period window `[periodStart, periodEnd)`.
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub scope: BudgetScopeView,
    pub thresholds: Vec<Threshold>,
    pub allocations: Vec<Allocation>,
    pub owner: Option<String>,
    /// Spent in the current period, exact, in the budget's currency.
    pub spent: Money,
    /// Projected spend at `periodEnd` (period-average daily rate).
    pub forecast: Money,
    /// The forecast's 80 % interval.
    pub forecast_low: Money,
    pub forecast_high: Money,
    /// `spent / amount × 100`, two places.
    pub percent_spent: String,
    pub status: BudgetStatus,
    /// When spend reaches the amount at the current rate, if before `periodEnd`.
    pub depletion_date: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<BudgetView> for BudgetGql {
    fn from(v: BudgetView) -> Self {
        let (budget, st) = (v.budget, v.status);
        let c = budget.spec.currency;
        let money = |d: Decimal| Money::new(d, c);
        BudgetGql {
            id: ID(budget.id),
            tenant: budget.tenant,
            name: budget.spec.name,
            amount: money(budget.spec.amount),
            period: match budget.spec.period {
                Period::Monthly => BudgetPeriod::Monthly,
                Period::Quarterly => BudgetPeriod::Quarterly,
                Period::Yearly => BudgetPeriod::Yearly,
                Period::Custom { .. } => BudgetPeriod::Custom,
            },
            period_start: st.window.start,
            period_end: st.window.end,
            scope: BudgetScopeView {
                category: budget.spec.scope.category.map(|c| c.as_str().to_string()),
                provider: budget.spec.scope.provider,
                service: budget.spec.scope.service,
                labels: budget
                    .spec
                    .scope
                    .labels
                    .into_iter()
                    .map(|(key, value)| Label { key, value })
                    .collect(),
            },
            thresholds: budget
                .spec
                .thresholds
                .iter()
                .map(|t| Threshold {
                    percent: format_amount(t.percent),
                    basis: match t.basis {
                        b::ThresholdBasis::Actual => ThresholdBasis::Actual,
                        b::ThresholdBasis::Forecast => ThresholdBasis::Forecast,
                    },
                })
                .collect(),
            allocations: budget
                .spec
                .allocations
                .iter()
                .map(|a| Allocation {
                    category: a.category.as_str().to_string(),
                    amount: money(a.amount),
                })
                .collect(),
            owner: budget.spec.owner,
            spent: money(st.spent),
            forecast: money(st.forecast),
            forecast_low: money(st.forecast_low),
            forecast_high: money(st.forecast_high),
            percent_spent: format_amount(st.percent_spent),
            status: match st.health {
                b::BudgetHealth::OnTrack => BudgetStatus::OnTrack,
                b::BudgetHealth::AtRisk => BudgetStatus::AtRisk,
                b::BudgetHealth::Exceeded => BudgetStatus::Exceeded,
            },
            depletion_date: st.depletion,
            created_at: budget.created_at,
            updated_at: budget.updated_at,
        }
    }
}

#[derive(Debug, Clone, Default, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetScopeInput {
    /// api, hosting, database, third_party, other.
    pub category: Option<String>,
    pub provider: Option<String>,
    pub service: Option<String>,
    pub labels: Option<Vec<LabelInput>>,
}

#[derive(Debug, Clone, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThresholdInput {
    /// Percent of the amount, a decimal string in (0, 1000].
    pub percent: String,
    pub basis: ThresholdBasis,
}

#[derive(Debug, Clone, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllocationInput {
    pub category: String,
    /// Decimal string > 0.
    pub amount: String,
}

#[derive(Debug, Clone, InputObject, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetInput {
    pub name: String,
    /// Decimal string > 0, at most 12 decimal places.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    pub period: BudgetPeriod,
    /// Required (00:00 UTC) when `period` is CUSTOM.
    pub custom_start: Option<DateTime<Utc>>,
    pub custom_end: Option<DateTime<Utc>>,
    pub scope: Option<BudgetScopeInput>,
    /// Default: 50/80/100 % of actual and 100 % of forecast.
    pub thresholds: Option<Vec<ThresholdInput>>,
    /// If given, must add up exactly to `amount`.
    pub allocations: Option<Vec<AllocationInput>>,
    pub owner: Option<String>,
}

fn decimal(field: &str, raw: &str) -> Result<Decimal, AlertingError> {
    raw.trim()
        .parse::<Decimal>()
        .map_err(|e| AlertingError::bad(field, format!("{raw:?} is not a decimal number: {e}")))
}

fn category(field: &str, raw: &str) -> Result<Category, AlertingError> {
    raw.parse::<Category>()
        .map_err(|reason| AlertingError::bad(field, format!("{raw:?}: {reason}")))
}

pub fn scope_of(field: &str, s: Option<&BudgetScopeInput>) -> Result<BudgetScope, AlertingError> {
    let Some(s) = s else {
        return Ok(BudgetScope::default());
    };
    let mut labels = BTreeMap::new();
    for l in s.labels.iter().flatten() {
        if labels.insert(l.key.clone(), l.value.clone()).is_some() {
            return Err(AlertingError::bad(
                format!("{field}.labels"),
                format!("label {:?} is given twice", l.key),
            ));
        }
    }
    let text = |v: &Option<String>| v.clone().filter(|t| !t.is_empty());
    Ok(BudgetScope {
        category: s
            .category
            .as_deref()
            .map(|c| category(&format!("{field}.category"), c))
            .transpose()?,
        provider: text(&s.provider),
        service: text(&s.service),
        labels,
    })
}

pub fn period_of(
    p: BudgetPeriod,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    prefix: &str,
) -> Result<Period, AlertingError> {
    Ok(match p {
        BudgetPeriod::Monthly => Period::Monthly,
        BudgetPeriod::Quarterly => Period::Quarterly,
        BudgetPeriod::Yearly => Period::Yearly,
        BudgetPeriod::Custom => match (start, end) {
            (Some(start), Some(end)) => Period::Custom { start, end },
            (None, _) => {
                return Err(AlertingError::bad(
                    format!("{prefix}customStart"),
                    "required when period is CUSTOM",
                ));
            }
            (_, None) => {
                return Err(AlertingError::bad(
                    format!("{prefix}customEnd"),
                    "required when period is CUSTOM",
                ));
            }
        },
    })
}

pub fn currency_of(field: &str, raw: &str) -> Result<Currency, AlertingError> {
    raw.parse::<Currency>()
        .map_err(|e| AlertingError::bad(field, e.to_string()))
}

impl BudgetInput {
    /// The domain spec (parsed, not yet validated: the budget service validates).
    pub fn spec(&self) -> Result<BudgetSpec, AlertingError> {
        let thresholds = match &self.thresholds {
            None => b::default_thresholds(),
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    Ok(b::Threshold {
                        percent: decimal(&format!("input.thresholds[{i}].percent"), &t.percent)?,
                        basis: match t.basis {
                            ThresholdBasis::Actual => b::ThresholdBasis::Actual,
                            ThresholdBasis::Forecast => b::ThresholdBasis::Forecast,
                        },
                    })
                })
                .collect::<Result<_, AlertingError>>()?,
        };
        let allocations = self
            .allocations
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, a)| {
                Ok(b::Allocation {
                    category: category(&format!("input.allocations[{i}].category"), &a.category)?,
                    amount: decimal(&format!("input.allocations[{i}].amount"), &a.amount)?,
                })
            })
            .collect::<Result<_, AlertingError>>()?;
        Ok(BudgetSpec {
            name: self.name.clone(),
            amount: decimal("input.amount", &self.amount)?,
            currency: currency_of("input.currency", &self.currency)?,
            period: period_of(self.period, self.custom_start, self.custom_end, "input.")?,
            scope: scope_of("input.scope", self.scope.as_ref())?,
            thresholds,
            allocations,
            owner: self.owner.clone().filter(|o| !o.trim().is_empty()),
        })
    }
}

#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetRecommendation {
    pub amount: Money,
    pub based_on_periods: i32,
    pub reasoning: Vec<String>,
}

#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertTransition {
    pub state: AlertState,
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub note: Option<String>,
}

/// An alert: one incident per dedupe key, with its lifecycle.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "Alert", complex)]
pub struct AlertGql {
    pub id: ID,
    pub tenant: String,
    pub dedupe_key: String,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub state: AlertState,
    pub title: String,
    pub message: String,
    pub budget_id: Option<ID>,
    pub actual: Option<Money>,
    pub threshold: Option<Money>,
    pub owner: Option<String>,
    pub triggered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<AlertTransition>,
}

pub fn state_of(s: domain::AlertState) -> AlertState {
    match s {
        domain::AlertState::Triggered => AlertState::Triggered,
        domain::AlertState::Acknowledged => AlertState::Acknowledged,
        domain::AlertState::Resolved => AlertState::Resolved,
    }
}

impl From<AlertState> for domain::AlertState {
    fn from(s: AlertState) -> Self {
        match s {
            AlertState::Triggered => domain::AlertState::Triggered,
            AlertState::Acknowledged => domain::AlertState::Acknowledged,
            AlertState::Resolved => domain::AlertState::Resolved,
        }
    }
}

impl From<Alert> for AlertGql {
    fn from(a: Alert) -> Self {
        let money = |d: Option<Decimal>| Some(Money::new(d?, a.currency?));
        AlertGql {
            id: ID(a.id.clone()),
            tenant: a.tenant.clone(),
            dedupe_key: a.dedupe_key.clone(),
            kind: match a.kind {
                domain::AlertKind::BudgetThreshold => AlertKind::BudgetThreshold,
                domain::AlertKind::BudgetForecast => AlertKind::BudgetForecast,
                domain::AlertKind::BudgetDepletion => AlertKind::BudgetDepletion,
                domain::AlertKind::CostSpike => AlertKind::CostSpike,
                domain::AlertKind::PeriodChange => AlertKind::PeriodChange,
                domain::AlertKind::ResourceUtilization => AlertKind::ResourceUtilization,
                domain::AlertKind::Anomaly => AlertKind::Anomaly,
            },
            severity: match a.severity {
                domain::Severity::Info => AlertSeverity::Info,
                domain::Severity::Warning => AlertSeverity::Warning,
                domain::Severity::Critical => AlertSeverity::Critical,
            },
            state: state_of(a.state),
            title: a.title.clone(),
            message: a.message.clone(),
            budget_id: a.budget_id.clone().map(ID),
            actual: money(a.actual),
            threshold: money(a.threshold),
            owner: a.owner.clone(),
            triggered_at: a.triggered_at,
            updated_at: a.updated_at,
            history: a
                .history
                .iter()
                .map(|t| AlertTransition {
                    state: state_of(t.state),
                    at: t.at,
                    by: t.by.clone(),
                    note: t.note.clone(),
                })
                .collect(),
        }
    }
}

/// How one alert change went out over one notifier channel.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub alert_id: ID,
    pub channel: String,
    /// The alert state the delivery is about: triggered, acknowledged, resolved.
    pub alert_state: String,
    /// pending, delivered, retrying, dead_lettered.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<costwatch_ports::DeliveryRecord> for Delivery {
    fn from(r: costwatch_ports::DeliveryRecord) -> Self {
        Delivery {
            alert_id: ID(r.alert_id),
            channel: r.channel,
            alert_state: r.alert_state,
            state: r.state,
            attempts: i32::try_from(r.attempts).unwrap_or(i32::MAX),
            last_error: r.last_error,
            at: r.at,
        }
    }
}
