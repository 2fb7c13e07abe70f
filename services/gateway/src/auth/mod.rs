//! Authentication and authorization at the gateway's edges.
//!
//! - HTTP (`/graphql` POST, `/api/…`): [`authenticate`] turns the `Authorization: Bearer`
//!   header into a [`Principal`] (or answers 401) and [`rest_guard`] applies the route policy.
//! - GraphQL: the [`guard::AccessGuard`] extension checks every root field before execution.
//! - WebSocket: [`ws`] authenticates `connection_init` (close 4403 / 4408) and ends the
//!   connection when the token expires or is revoked.
//!
//! Every refusal and every mutation is written to the audit log ([`Auditor`]).

pub mod guard;
pub mod masking;
pub mod policy;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use costwatch_domain::access::Principal;
use costwatch_domain::audit::{AuditDraft, Outcome};
use costwatch_domain::sensitive_labels::SensitiveLabels;
use costwatch_ports::{AuditStore, AuthError, Authenticator};
use serde_json::json;

/// What the gateway authenticates with and audits to.
#[derive(Clone)]
pub struct GatewayAuth {
    pub authenticator: Arc<dyn Authenticator>,
    pub audit: Auditor,
    /// Label keys whose values callers without `ViewSensitive` may not see.
    pub sensitive_labels: Arc<SensitiveLabels>,
}

impl GatewayAuth {
    /// Auth off (`--auth none`, tests of other concerns): every caller is the local admin.
    pub fn disabled() -> GatewayAuth {
        GatewayAuth {
            authenticator: Arc::new(costwatch_ports::NoAuth),
            audit: Auditor::default(),
            sensitive_labels: Arc::default(),
        }
    }

    /// The principal for a request's `Authorization` header value (if any).
    pub async fn principal(&self, header: Option<&str>) -> Result<Principal, AuthError> {
        costwatch_ports::auth::principal_for(self.authenticator.as_ref(), header).await
    }
}

pub use costwatch_ports::auth::bearer;

/// Writes audit records; a deployment without an audit store writes nothing.
#[derive(Clone, Default)]
pub struct Auditor(pub Option<Arc<dyn AuditStore>>);

impl Auditor {
    pub async fn record(
        &self,
        principal: &Principal,
        tenant: Option<String>,
        action: &str,
        source: String,
        outcome: Outcome,
    ) {
        self.record_target(principal, tenant, action, action, source, outcome)
            .await;
    }

    pub async fn record_target(
        &self,
        principal: &Principal,
        tenant: Option<String>,
        action: &str,
        target: &str,
        source: String,
        outcome: Outcome,
    ) {
        self.append(AuditDraft {
            at: chrono::Utc::now(),
            actor: principal.subject.clone(),
            tenant,
            action: action.to_string(),
            target: target.to_string(),
            source,
            outcome,
        })
        .await;
    }

    /// A credential that did not authenticate: there is no principal, the actor is
    /// `anonymous`.
    pub async fn refused_credential(
        &self,
        action: &str,
        target: &str,
        source: String,
        error: &AuthError,
    ) {
        self.append(AuditDraft {
            at: chrono::Utc::now(),
            actor: "anonymous".into(),
            tenant: None,
            action: action.to_string(),
            target: target.to_string(),
            source,
            outcome: Outcome::Denied {
                reason: error.to_string(),
            },
        })
        .await;
    }

    /// Appends a record. A failing audit store is logged loudly, never shown to the caller.
    pub async fn append(&self, draft: AuditDraft) {
        if let Some(store) = &self.0
            && let Err(e) = store.append(draft).await
        {
            tracing::error!(error = %e, "audit record could not be written");
        }
    }
}

/// Where a request came from, for the audit log (the peer address).
#[derive(Debug, Clone)]
pub struct RequestSource(pub String);

fn request_source(req: &Request) -> RequestSource {
    RequestSource(
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.to_string())
            .unwrap_or_else(|| "unknown".into()),
    )
}

/// 401 in the GraphQL error shape (the dashboard and REST clients read `errors[0].message`).
pub fn unauthenticated(error: &AuthError) -> Response {
    let status = match error {
        AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    };
    let code = match error {
        AuthError::Unavailable(_) => "UNAVAILABLE",
        _ => "UNAUTHENTICATED",
    };
    let mut resp = (
        status,
        axum::Json(json!({
            "errors": [{ "message": error.to_string(), "extensions": { "code": code } }]
        })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"costwatch\""),
        );
    }
    resp
}

/// Middleware: authenticates the request and stores its [`Principal`] and [`RequestSource`]
/// in the request extensions, or answers 401 (and audits the refusal).
pub async fn authenticate(
    State(auth): State<GatewayAuth>,
    mut req: Request,
    next: Next,
) -> Response {
    let source = request_source(&req);
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    match auth.principal(header).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            req.extensions_mut().insert(source);
            next.run(req).await
        }
        Err(e) => {
            auth.audit
                .refused_credential("authenticate", req.uri().path(), source.0, &e)
                .await;
            unauthenticated(&e)
        }
    }
}

/// Middleware after [`authenticate`] on `/api/…`: applies [`policy::rest_route`] with the
/// `tenant` query parameter; refusals answer 403 `{error}` and are audited. Writes that pass
/// are audited once they have been answered.
pub async fn rest_guard(State(auth): State<GatewayAuth>, req: Request, next: Next) -> Response {
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        return unauthenticated(&AuthError::Missing);
    };
    let source = request_source(&req);
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let tenant_raw = tenant_param(req.uri());
    let sensitive_group = principal
        .needs_masking()
        .then(|| query_param(req.uri(), "labelKey"))
        .flatten()
        .filter(|key| auth.sensitive_labels.contains(key));
    let refusal = match policy::rest_route(&method, &path) {
        None => Some(format!("{method} {path}: no access rule; refused")),
        Some(rule) if rule.tenant_scoped => principal
            .authorize_requested(rule.action, tenant_raw.as_deref())
            .err()
            .map(|d| d.reason),
        Some(rule) => principal
            .authorize(rule.action, None)
            .err()
            .map(|d| d.reason),
    }
    .or_else(|| {
        sensitive_group.map(|key| {
            format!("labelKey: {key} is a sensitive label; this role may not group by it")
        })
    });
    let action = format!("{method} {path}");
    if let Some(reason) = refusal {
        auth.audit
            .record(
                &principal,
                tenant_raw,
                &action,
                source.0,
                Outcome::Denied {
                    reason: reason.clone(),
                },
            )
            .await;
        return forbidden_rest(&reason);
    }
    let write = !(method == axum::http::Method::GET || method == axum::http::Method::HEAD);
    let export = path == crate::rest::RECONCILIATION_PATH;
    let resp = next.run(req).await;
    // Masked like GraphQL answers: a tenant-viewer gets no resource ARNs or account ids.
    let resp = if principal.needs_masking() {
        masking::mask_rest_response(resp, &auth.sensitive_labels).await
    } else {
        resp
    };
    if write || export {
        let outcome = if resp.status().is_success() {
            Outcome::Allowed
        } else {
            Outcome::Failed {
                reason: format!("answered {}", resp.status().as_u16()),
            }
        };
        let action = if export { "export".to_string() } else { action };
        auth.audit
            .record_target(&principal, tenant_raw, &action, &path, source.0, outcome)
            .await;
    }
    resp
}

fn forbidden_rest(reason: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({ "error": reason, "code": "FORBIDDEN" })),
    )
        .into_response()
}

/// The `tenant` query parameter (decoded), if present — read with the same extractor the
/// handlers use, so the guard and the handler cannot disagree on which tenant was asked for.
fn tenant_param(uri: &axum::http::Uri) -> Option<String> {
    query_param(uri, "tenant")
}

fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    axum::extract::Query::<crate::rest::Params>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.get(name).cloned())
}
