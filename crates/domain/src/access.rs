//! Who may do what, for which tenants: roles, principals and the one authorization decision.
//!
//! Pure: callers turn a verified token or API key into a [`Principal`] and ask
//! [`Principal::authorize`] before touching data. Every server surface (GraphQL, REST, gRPC,
//! subscriptions, ingest) asks the same question, so a rule is written once, here.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TenantId;

/// The roles of `docs/security.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, every tenant.
    Admin,
    /// Every tenant's costs, budgets and exports; no platform settings.
    Finance,
    /// Costs, budgets, rules, alerts and notes of the named tenants.
    TenantAdmin,
    /// Reads the named tenants' costs, budgets and alerts; changes nothing.
    TenantViewer,
    /// Sends usage events for the named tenants (collectors, API keys); reads nothing.
    Ingest,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Finance,
        Role::TenantAdmin,
        Role::TenantViewer,
        Role::Ingest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Finance => "finance",
            Role::TenantAdmin => "tenant-admin",
            Role::TenantViewer => "tenant-viewer",
            Role::Ingest => "ingest",
        }
    }

    /// Admin and finance see every tenant; the others only the tenants they are given.
    pub fn spans_all_tenants(self) -> bool {
        matches!(self, Role::Admin | Role::Finance)
    }

    fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Finance => matches!(action, ReadCosts | ManageTenant | Export | ViewSensitive),
            Role::TenantAdmin => {
                matches!(action, ReadCosts | ManageTenant | Export | ViewSensitive)
            }
            Role::TenantViewer => matches!(action, ReadCosts),
            Role::Ingest => matches!(action, Ingest),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(raw: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| {
                format!(
                    "{raw:?} is not a role; one of: admin, finance, tenant-admin, tenant-viewer, ingest"
                )
            })
    }
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Costs, budgets, alerts, anomalies, forecasts, notes: anything read-only.
    ReadCosts,
    /// Changes a tenant's budgets, rules, alerts, anomaly feedback, notes.
    ManageTenant,
    /// Exports of cost data (CSV, reconciliation, digests).
    Export,
    /// Sends usage events.
    Ingest,
    /// Platform-wide settings (exchange rates) and the audit log.
    Administer,
    /// Unmasked account ids and resource ARNs (see `masking`).
    ViewSensitive,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadCosts => "read costs",
            Action::ManageTenant => "change tenant settings",
            Action::Export => "export",
            Action::Ingest => "ingest",
            Action::Administer => "administer the platform",
            Action::ViewSensitive => "see account ids and resource ARNs",
        }
    }
}

/// The tenants a principal may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    All,
    Only(BTreeSet<TenantId>),
}

impl TenantScope {
    /// Whether this scope is every tenant (admin, finance, local use).
    pub fn contains_all(&self) -> bool {
        matches!(self, TenantScope::All)
    }

    pub fn contains(&self, tenant: &TenantId) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(set) => set.contains(tenant),
        }
    }
}

/// A verified caller: a user from a token or a machine from an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable id for the audit log (`sub` of a token, `key:<id>` of an API key).
    pub subject: String,
    pub role: Role,
    pub tenants: TenantScope,
    /// When the credential stops being valid (subscriptions end then).
    pub expires_at: Option<DateTime<Utc>>,
    /// The credential's own id (`jti` of a token, the id of an API key): what revocation names.
    pub credential_id: Option<String>,
}

/// Why a principal could not be built from claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    #[error("{0}")]
    Role(String),
    #[error("tenants: {role} needs at least one tenant")]
    NoTenants { role: Role },
    #[error("tenants[{index}]: {reason}")]
    BadTenant { index: usize, reason: String },
    #[error("sub: must not be empty")]
    NoSubject,
}

/// A refused request: what was asked, and why not (safe to show the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Denied {
    pub reason: String,
}

impl Principal {
    /// Builds a principal from the claims of a verified credential. Admin and finance span every
    /// tenant whatever `tenants` says; the other roles need a non-empty list of valid tenant ids.
    pub fn from_claims(
        subject: &str,
        role: &str,
        tenants: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Principal, PrincipalError> {
        if subject.trim().is_empty() {
            return Err(PrincipalError::NoSubject);
        }
        let role: Role = role.parse().map_err(PrincipalError::Role)?;
        let tenants = if role.spans_all_tenants() {
            TenantScope::All
        } else {
            let mut set = BTreeSet::new();
            for (index, raw) in tenants.iter().enumerate() {
                let tenant = TenantId::parse(raw)
                    .map_err(|reason| PrincipalError::BadTenant { index, reason })?;
                set.insert(tenant);
            }
            if set.is_empty() {
                return Err(PrincipalError::NoTenants { role });
            }
            TenantScope::Only(set)
        };
        Ok(Principal {
            subject: subject.to_string(),
            role,
            tenants,
            expires_at,
            credential_id: None,
        })
    }

    /// The operator of a local installation (the CLI, `--auth none`): admin of everything.
    pub fn local_admin() -> Principal {
        Principal {
            subject: "local".into(),
            role: Role::Admin,
            tenants: TenantScope::All,
            expires_at: None,
            credential_id: None,
        }
    }

    /// The one decision: may this principal do `action` for `tenant` (`None`: platform-wide)?
    pub fn authorize(&self, action: Action, tenant: Option<&TenantId>) -> Result<(), Denied> {
        if !self.role.allows(action) {
            return Err(Denied {
                reason: format!("role {} may not {}", self.role, action.as_str()),
            });
        }
        match tenant {
            Some(t) if !self.tenants.contains(t) => Err(Denied {
                reason: format!("not authorized for tenant {:?}", t.as_str()),
            }),
            // A platform-wide read (the tenant list, currencies) is open to every reader; its
            // answer is filtered to the principal's tenants by the caller.
            _ => Ok(()),
        }
    }

    /// [`Principal::authorize`] for a tenant-scoped request, with the tenant as the caller
    /// wrote it (unparsed, possibly missing). A principal confined to named tenants is refused a
    /// malformed or missing tenant; one spanning every tenant is checked on its role only, so
    /// the handler can name the bad input.
    pub fn authorize_requested(
        &self,
        action: Action,
        requested: Option<&str>,
    ) -> Result<(), Denied> {
        let tenant = requested.map(TenantId::parse);
        match tenant {
            Some(Ok(t)) => self.authorize(action, Some(&t)),
            _ if self.tenants.contains_all() => self.authorize(action, None),
            Some(Err(_)) => Err(Denied {
                reason: format!(
                    "not authorized for tenant {:?}",
                    requested.unwrap_or_default()
                ),
            }),
            None => Err(Denied {
                reason: "tenant must be given".into(),
            }),
        }
    }

    /// Keeps the tenants this principal may see, in order.
    pub fn visible_tenants<T: AsRef<str>>(&self, tenants: Vec<T>) -> Vec<T> {
        tenants
            .into_iter()
            .filter(|t| match TenantId::parse(t.as_ref()) {
                Ok(id) => self.tenants.contains(&id),
                Err(_) => false,
            })
            .collect()
    }

    /// Whether answers to this principal must be masked (`masking`).
    pub fn needs_masking(&self) -> bool {
        !self.role.allows(Action::ViewSensitive)
    }

    /// Whether the credential has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|exp| now >= exp)
    }
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
