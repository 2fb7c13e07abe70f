//! The GraphQL access guard: before anything executes, every root field of the document is
//! checked against the caller's [`Principal`] with the [`policy`](super::policy) table, and
//! after a mutation runs its outcome is written to the audit log.
//!
//! Checking the parsed document (not each resolver) means a field cannot forget its check, a
//! denied request executes nothing (no partial data), and fragments or aliases at the root do
//! not hide a field: they are followed.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{IntrospectionMode, ServerError, ServerResult, Value, Variables};
use costwatch_domain::access::Principal;
use costwatch_domain::audit::Outcome;
use costwatch_domain::sensitive_labels::SensitiveLabels;

use super::policy::{Root, root_field};
use super::{Auditor, RequestSource};

pub struct AccessGuard;

impl ExtensionFactory for AccessGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            mutations: Mutex::new(Vec::new()),
        })
    }
}

/// One per request: the mutations it will run, for the audit log.
struct Guard {
    mutations: Mutex<Vec<RootCall>>,
}

/// A root field of the document, with its arguments as far as the guard needs them.
#[derive(Debug, Clone)]
pub(crate) struct RootCall {
    pub operation: Option<String>,
    pub root: Root,
    pub field: String,
    /// Alias or name: the key of its answer and of its errors' paths.
    pub response_key: String,
    pub tenant: TenantArg,
    /// The `id` argument, when there is one (what a mutation acts on).
    pub id: Option<String>,
    /// Label keys the call groups or filters by (`labelKey`, `filter.labels[].key`), with the
    /// argument naming them.
    pub label_keys: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TenantArg {
    Absent,
    Given(String),
    /// A variable that is missing or not a string (validation refuses it later).
    Unresolved,
}

pub(crate) fn forbidden(message: String) -> ServerError {
    coded(message, "FORBIDDEN")
}

pub(crate) fn coded(message: String, code: &'static str) -> ServerError {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    e.extensions = Some(ext);
    e
}

/// Every root field of every operation in `doc`.
pub(crate) fn root_calls(doc: &ExecutableDocument, variables: &Variables) -> Vec<RootCall> {
    let mut calls = Vec::new();
    for (name, op) in doc.operations.iter() {
        let root = match op.node.ty {
            OperationType::Query => Root::Query,
            OperationType::Mutation => Root::Mutation,
            OperationType::Subscription => Root::Subscription,
        };
        let operation = name.map(|n| n.to_string());
        let mut seen_fragments = Vec::new();
        collect(
            doc,
            &op.node.selection_set.node,
            root,
            &operation,
            variables,
            &mut seen_fragments,
            &mut calls,
        );
    }
    calls
}

fn collect(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    root: Root,
    operation: &Option<String>,
    variables: &Variables,
    seen_fragments: &mut Vec<String>,
    out: &mut Vec<RootCall>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let f = &field.node;
                out.push(RootCall {
                    operation: operation.clone(),
                    root,
                    field: f.name.node.to_string(),
                    response_key: f.response_key().node.to_string(),
                    tenant: match f.get_argument("tenant") {
                        None => TenantArg::Absent,
                        Some(v) => match string_value(
                            v.node
                                .clone()
                                .into_const_with(|name| variables.get(&name).cloned().ok_or(())),
                        ) {
                            Some(s) => TenantArg::Given(s),
                            None => TenantArg::Unresolved,
                        },
                    },
                    id: f.get_argument("id").and_then(|v| {
                        string_value(
                            v.node
                                .clone()
                                .into_const_with(|name| variables.get(&name).cloned().ok_or(())),
                        )
                    }),
                    label_keys: label_keys(f, variables),
                });
            }
            Selection::InlineFragment(frag) => collect(
                doc,
                &frag.node.selection_set.node,
                root,
                operation,
                variables,
                seen_fragments,
                out,
            ),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.to_string();
                // A fragment cycle is refused by validation; here it must just not loop.
                if seen_fragments.contains(&name) {
                    continue;
                }
                seen_fragments.push(name.clone());
                if let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect(
                        doc,
                        &frag.node.selection_set.node,
                        root,
                        operation,
                        variables,
                        seen_fragments,
                        out,
                    );
                }
            }
        }
    }
}

/// The label keys a field groups (`labelKey`) or filters (`filter: {labels: [{key}]}`) by.
fn label_keys(
    f: &async_graphql::parser::types::Field,
    variables: &Variables,
) -> Vec<(&'static str, String)> {
    let resolve = |name: &str| {
        f.get_argument(name).and_then(|v| {
            v.node
                .clone()
                .into_const_with(|var| variables.get(&var).cloned().ok_or(()))
                .ok()
        })
    };
    let mut keys = Vec::new();
    if let Some(Value::String(k)) = resolve("labelKey") {
        keys.push(("labelKey", k));
    }
    if let Some(Value::Object(filter)) = resolve("filter")
        && let Some(Value::List(labels)) = filter.get("labels")
    {
        for label in labels {
            if let Value::Object(l) = label
                && let Some(Value::String(k)) = l.get("key")
            {
                keys.push(("filter.labels.key", k.clone()));
            }
        }
    }
    keys
}

/// The string of an argument resolved against the request's variables.
fn string_value(resolved: Result<Value, ()>) -> Option<String> {
    match resolved {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Why `principal` may not make `call`, or `None` when it may.
pub(crate) fn refusal(principal: &Principal, call: &RootCall) -> Option<String> {
    let Some(rule) = root_field(call.root, &call.field) else {
        return Some(format!("{}: no access rule; refused", call.field));
    };
    let decision = if rule.tenant_scoped {
        let requested = match &call.tenant {
            TenantArg::Given(raw) => Some(raw.as_str()),
            TenantArg::Absent | TenantArg::Unresolved => None,
        };
        principal.authorize_requested(rule.action, requested)
    } else {
        principal.authorize(rule.action, None)
    };
    decision
        .err()
        .map(|d| format!("{}: {}", call.field, d.reason))
}

fn is_introspection(call: &RootCall) -> bool {
    call.root == Root::Query && matches!(call.field.as_str(), "__schema" | "__type")
}

#[async_trait::async_trait]
impl Extension for Guard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let Some(principal) = ctx.data_opt::<Principal>() else {
            return Err(coded("authentication required".into(), "UNAUTHENTICATED"));
        };
        let calls = root_calls(&doc, variables);
        // Disabled introspection would answer `null` silently; say why instead.
        if ctx.schema_env.registry.introspection_mode == IntrospectionMode::Disabled
            && let Some(call) = calls.iter().find(|c| is_introspection(c))
        {
            return Err(coded(
                format!(
                    "{}: introspection is disabled in production mode",
                    call.field
                ),
                "INTROSPECTION_DISABLED",
            ));
        }
        let labels = ctx
            .data_opt::<Arc<SensitiveLabels>>()
            .cloned()
            .unwrap_or_default();
        for call in &calls {
            let sensitive = principal
                .needs_masking()
                .then(|| call.label_keys.iter().find(|(_, k)| labels.contains(k)))
                .flatten()
                .map(|(arg, key)| {
                    format!("{}: {arg}: {key} is a sensitive label; this role may not group or filter by it", call.field)
                });
            if let Some(reason) = refusal(principal, call).or(sensitive) {
                let tenant = match &call.tenant {
                    TenantArg::Given(t) => Some(t.clone()),
                    _ => None,
                };
                auditor(ctx)
                    .record(
                        principal,
                        tenant,
                        &call.field,
                        source(ctx),
                        Outcome::Denied {
                            reason: reason.clone(),
                        },
                    )
                    .await;
                return Err(forbidden(reason));
            }
        }
        let mutations = calls
            .into_iter()
            .filter(|c| c.root == Root::Mutation)
            .collect();
        if let Ok(mut m) = self.mutations.lock() {
            *m = mutations;
        }
        Ok(doc)
    }

    /// Pushes are masked like answers (a tenant-viewer's cost updates name resources too).
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: futures::stream::BoxStream<'s, async_graphql::Response>,
        next: async_graphql::extensions::NextSubscribe<'_>,
    ) -> futures::stream::BoxStream<'s, async_graphql::Response> {
        let stream = next.run(ctx, stream);
        if ctx
            .data_opt::<Principal>()
            .is_some_and(Principal::needs_masking)
        {
            use futures::StreamExt;
            let labels = ctx
                .data_opt::<Arc<SensitiveLabels>>()
                .cloned()
                .unwrap_or_default();
            stream
                .map(move |mut r| {
                    super::masking::mask_response(&mut r, &labels);
                    r
                })
                .boxed()
        } else {
            stream
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        let mut response = next.run(ctx, operation_name).await;
        if ctx
            .data_opt::<Principal>()
            .is_some_and(Principal::needs_masking)
        {
            let labels = ctx
                .data_opt::<Arc<SensitiveLabels>>()
                .cloned()
                .unwrap_or_default();
            super::masking::mask_response(&mut response, &labels);
        }
        let mutations = self.mutations.lock().map(|m| m.clone()).unwrap_or_default();
        let Some(principal) = ctx.data_opt::<Principal>() else {
            return response;
        };
        for call in mutations
            .iter()
            .filter(|c| operation_name.is_none() || c.operation.as_deref() == operation_name)
        {
            let error = response.errors.iter().find(|e| {
                e.path.first().is_some_and(|p| {
                    matches!(p, async_graphql::PathSegment::Field(k) if *k == call.response_key)
                }) || e.path.is_empty()
            });
            let outcome = match error {
                Some(e) => Outcome::Failed {
                    reason: e.message.clone(),
                },
                None => Outcome::Allowed,
            };
            let tenant = match &call.tenant {
                TenantArg::Given(t) => Some(t.clone()),
                _ => None,
            };
            let target = match &call.id {
                Some(id) => format!("{}:{id}", call.field),
                None => call.field.clone(),
            };
            auditor(ctx)
                .record_target(
                    principal,
                    tenant,
                    &call.field,
                    &target,
                    source(ctx),
                    outcome,
                )
                .await;
        }
        response
    }
}

fn auditor<'a>(ctx: &ExtensionContext<'a>) -> Auditor {
    ctx.data_opt::<Auditor>().cloned().unwrap_or_default()
}

fn source(ctx: &ExtensionContext<'_>) -> String {
    ctx.data_opt::<RequestSource>()
        .map(|s| s.0.clone())
        .unwrap_or_else(|| "in-process".into())
}
