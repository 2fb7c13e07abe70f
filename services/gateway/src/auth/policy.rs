//! The access policy of every root field and REST route: which [`Action`] it is, and whether
//! it acts for the tenant named by its `tenant` argument or platform-wide.
//!
//! Fail closed: a root field missing from [`root_field`] is refused for everyone, and a test
//! checks this table against the SDL so a new field cannot ship without a rule.

use axum::http::Method;
use costwatch_domain::access::Action;

/// How a root field or route is authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    /// Acts for the tenant of its `tenant` argument (every principal is checked against it).
    /// `false`: platform-wide; a tenant-scoped answer is filtered by the resolver.
    pub tenant_scoped: bool,
}

const fn tenant(action: Action) -> Option<Rule> {
    Some(Rule {
        action,
        tenant_scoped: true,
    })
}

const fn platform(action: Action) -> Option<Rule> {
    Some(Rule {
        action,
        tenant_scoped: false,
    })
}

/// The kind of GraphQL operation a root field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Query,
    Mutation,
    Subscription,
}

/// The rule of a root field; `None` means unknown, which is refused.
pub fn root_field(root: Root, field: &str) -> Option<Rule> {
    use Action::*;
    match (root, field) {
        // Introspection is governed by the production-mode switch and the query limits.
        (_, "__typename") | (Root::Query, "__schema" | "__type") => platform(ReadCosts),
        (Root::Query, "currencies" | "tenants" | "exchangeRates") => platform(ReadCosts),
        (
            Root::Query,
            "costSummary"
            | "costBreakdown"
            | "costHistory"
            | "costReconciliation"
            | "budgets"
            | "budget"
            | "budgetRecommendation"
            | "notificationDeadLetters"
            | "alerts"
            | "resourceRules"
            | "anomalies"
            | "anomaly"
            | "costDigest"
            | "forecast"
            | "annotations",
        ) => tenant(ReadCosts),
        (
            Root::Mutation,
            "createBudget" | "updateBudget" | "deleteBudget" | "acknowledgeAlert" | "resolveAlert"
            | "createResourceRule" | "updateResourceRule" | "deleteResourceRule" | "markAnomaly"
            | "addAnnotation" | "deleteAnnotation",
        ) => tenant(ManageTenant),
        (Root::Mutation, "putExchangeRates" | "importEcbRates") => platform(Administer),
        (Root::Mutation, "deleteTenant") => tenant(Administer),
        (Root::Query, "auditLog" | "auditHead") => platform(Administer),
        (
            Root::Subscription,
            "costUpdates" | "alerts" | "budgetAlerts" | "resourceAlerts" | "anomalyDetected",
        ) => tenant(ReadCosts),
        _ => None,
    }
}

/// The rule of a REST request under `/api/`; `None` means unknown, which is refused. Every
/// tenant-scoped route takes the tenant as the `tenant` query parameter.
pub fn rest_route(method: &Method, path: &str) -> Option<Rule> {
    use Action::*;
    let read = *method == Method::GET || *method == Method::HEAD;
    if path == crate::OPENAPI_PATH {
        return None; // served before authentication; never reaches the guard
    }
    let scoped = |action| {
        Some(Rule {
            action,
            tenant_scoped: true,
        })
    };
    if path.starts_with(crate::rest_budgets::BUDGETS_PATH)
        || path.starts_with(crate::rest_budgets::ALERTS_PATH)
    {
        return scoped(if read { ReadCosts } else { ManageTenant });
    }
    if path == crate::rest::RECONCILIATION_PATH && read {
        return scoped(Export);
    }
    if (path == crate::rest::CURRENT_PATH || path == crate::rest::HISTORY_PATH) && read {
        return scoped(ReadCosts);
    }
    if path.starts_with(crate::rest_fx::RATES_PATH) || path.starts_with(crate::rest_fx::ECB_PATH) {
        return Some(Rule {
            action: if read { ReadCosts } else { Administer },
            tenant_scoped: false,
        });
    }
    None
}
