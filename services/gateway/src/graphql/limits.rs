//! Query depth and complexity limits.
//!
//! `SchemaBuilder::limit_depth` would also apply to introspection, and the introspection query of
//! GraphiQL nests `ofType` about 13 levels deep, so the schema's own docs would stop loading. This
//! extension applies the ordinary limits to every document that is not pure introspection, and
//! to pure introspection a deeper limit plus a rule that bounds its fan-out: along any path, at
//! most one of `fields`, `inputFields`, `interfaces`, `possibleTypes` (the standard introspection
//! query needs exactly one).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};

use crate::auth::guard::coded as error;

pub const MAX_DEPTH: usize = 10;
pub const MAX_COMPLEXITY: usize = 1000;
pub const MAX_INTROSPECTION_DEPTH: usize = 16;
pub const MAX_INTROSPECTION_COMPLEXITY: usize = 1000;
/// Introspection fields that list types (each listed type can list types again).
const TYPE_LISTS: [&str; 4] = ["fields", "inputFields", "interfaces", "possibleTypes"];

/// Most aliased fields in one document: a few dozen serve any dashboard; thousands are an
/// amplification attack (the same expensive field computed once per alias).
pub const MAX_ALIASES: usize = 50;
/// Most directives in one document (`@include`/`@skip` are the only ones served).
pub const MAX_DIRECTIVES: usize = 50;
/// Most fragment definitions in one document.
pub const MAX_FRAGMENTS: usize = 50;

pub struct QueryLimits;

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Limits {
            introspection: AtomicBool::new(false),
        })
    }
}

/// One per request.
struct Limits {
    introspection: AtomicBool,
}

#[async_trait::async_trait]
impl Extension for Limits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        check_size(&doc)?;
        let mut walk = Walk {
            doc: &doc,
            memo: HashMap::new(),
        };
        let introspection = doc
            .operations
            .iter()
            .all(|(_, op)| walk.only_introspection(&op.node.selection_set.node));
        if introspection {
            let nesting = doc
                .operations
                .iter()
                .map(|(_, op)| walk.type_list_nesting(&op.node.selection_set.node))
                .max();
            if nesting.unwrap_or(0) > 1 {
                return Err(error(
                    "introspection may nest fields, inputFields, interfaces or possibleTypes at most once".into(),
                    "QUERY_TOO_COMPLEX",
                ));
            }
        }
        self.introspection.store(introspection, Ordering::Relaxed);
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let (depth, complexity) = if self.introspection.load(Ordering::Relaxed) {
            (MAX_INTROSPECTION_DEPTH, MAX_INTROSPECTION_COMPLEXITY)
        } else {
            (MAX_DEPTH, MAX_COMPLEXITY)
        };
        if result.depth > depth {
            let msg = format!(
                "query is nested too deep: depth {} exceeds the limit of {depth}",
                result.depth
            );
            return Err(vec![error(msg, "QUERY_TOO_DEEP")]);
        }
        if result.complexity > complexity {
            let msg = format!(
                "query is too complex: complexity {} exceeds the limit of {complexity}",
                result.complexity
            );
            return Err(vec![error(msg, "QUERY_TOO_COMPLEX")]);
        }
        Ok(result)
    }
}

/// Aliases and directives as written in the document (each definition once, spreads not
/// expanded: this bounds the text; depth and complexity bound what it expands to).
#[derive(Default)]
struct Counts {
    aliases: usize,
    directives: usize,
}

impl Counts {
    fn selections(&mut self, set: &SelectionSet) {
        for s in &set.items {
            match &s.node {
                Selection::Field(f) => {
                    self.aliases += usize::from(f.node.alias.is_some());
                    self.directives += f.node.directives.len();
                    self.selections(&f.node.selection_set.node);
                }
                Selection::InlineFragment(i) => {
                    self.directives += i.node.directives.len();
                    self.selections(&i.node.selection_set.node);
                }
                Selection::FragmentSpread(f) => self.directives += f.node.directives.len(),
            }
        }
    }
}

/// Refuses oversized documents before validation or execution.
fn check_size(doc: &ExecutableDocument) -> ServerResult<()> {
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err(error(
            format!(
                "query defines {} fragments; the limit is {MAX_FRAGMENTS}",
                doc.fragments.len()
            ),
            "QUERY_TOO_COMPLEX",
        ));
    }
    let mut counts = Counts::default();
    for (_, op) in doc.operations.iter() {
        counts.directives += op.node.directives.len();
        counts.selections(&op.node.selection_set.node);
    }
    for fragment in doc.fragments.values() {
        counts.directives += fragment.node.directives.len();
        counts.selections(&fragment.node.selection_set.node);
    }
    if counts.aliases > MAX_ALIASES {
        return Err(error(
            format!(
                "query uses {} aliases; the limit is {MAX_ALIASES}",
                counts.aliases
            ),
            "QUERY_TOO_COMPLEX",
        ));
    }
    if counts.directives > MAX_DIRECTIVES {
        return Err(error(
            format!(
                "query uses {} directives; the limit is {MAX_DIRECTIVES}",
                counts.directives
            ),
            "QUERY_TOO_COMPLEX",
        ));
    }
    Ok(())
}

/// Walks selections through fragments, each fragment once (memoised, so repeated spreads cost
/// nothing and cycles, which validation rejects later, end the walk).
struct Walk<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<(bool, String), usize>,
}

impl Walk<'_> {
    /// Whether every top-level field is an introspection field (`__schema`, `__type`, `__typename`).
    fn only_introspection(&mut self, set: &SelectionSet) -> bool {
        set.items.iter().all(|s| match &s.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            Selection::InlineFragment(i) => self.only_introspection(&i.node.selection_set.node),
            Selection::FragmentSpread(s) => {
                self.fragment(true, s.node.fragment_name.node.as_str()) == 1
            }
        })
    }

    /// The largest number of type-listing fields along any path.
    fn type_list_nesting(&mut self, set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => {
                    usize::from(TYPE_LISTS.contains(&f.node.name.node.as_str()))
                        + self.type_list_nesting(&f.node.selection_set.node)
                }
                Selection::InlineFragment(i) => self.type_list_nesting(&i.node.selection_set.node),
                Selection::FragmentSpread(s) => {
                    self.fragment(false, s.node.fragment_name.node.as_str())
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// `only_introspection` (as 0/1) or `type_list_nesting` of a fragment.
    fn fragment(&mut self, top_level: bool, name: &str) -> usize {
        let key = (top_level, name.to_string());
        if let Some(&v) = self.memo.get(&key) {
            return v;
        }
        // While a fragment is being walked, a spread of it (a cycle) counts as neutral.
        self.memo.insert(key.clone(), usize::from(top_level));
        let Some(fragment) = self.doc.fragments.get(name) else {
            return usize::from(top_level);
        };
        let set = &fragment.node.selection_set.node;
        let v = if top_level {
            usize::from(self.only_introspection(set))
        } else {
            self.type_list_nesting(set)
        };
        self.memo.insert(key, v);
        v
    }
}
