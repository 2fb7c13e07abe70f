//! The OpenAPI 3.1 document of the REST surface: ingest (served by the collector), the admin cost
//! API and the health check. Hand-written; the usage-event schema is embedded from
//! `schemas/events/usage-event.v1.json`, the contract's single source.

use serde_json::{Value, json};

use crate::queries::MAX_BUCKETS;
use crate::reconciliation::MAX_RECONCILIATION_DAYS;
use crate::rest::{CURRENT_PATH, HISTORY_PATH, RECONCILIATION_PATH};

const USAGE_EVENT_SCHEMA: &str = include_str!("../../../schemas/events/usage-event.v1.json");
const USAGE_EVENT_EXAMPLE: &str =
    include_str!("../../../schemas/events/examples/hosting-billed.valid.json");
const EVENT_REF: &str = "#/components/schemas/UsageEvent";

/// The usage-event JSON Schema as an OpenAPI component: `$schema`/`$id` dropped and its `#/$defs`
/// references re-rooted under the component, so every resolver finds them.
fn usage_event_schema() -> Value {
    fn reroot(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let rerooted = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/"))
                    .map(|rest| format!("{EVENT_REF}/{rest}"));
                if let Some(r) = rerooted {
                    map.insert("$ref".into(), Value::String(r));
                }
                map.values_mut().for_each(reroot);
            }
            Value::Array(items) => items.iter_mut().for_each(reroot),
            _ => {}
        }
    }
    let mut schema: Value =
        serde_json::from_str(USAGE_EVENT_SCHEMA).unwrap_or_else(|_| json!({ "type": "object" }));
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
        map.remove("$id");
    }
    reroot(&mut schema);
    schema
}

fn param(name: &str, required: bool, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": required, "description": description, "schema": schema })
}

fn json_response(description: &str, schema_ref: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": schema_ref } } } })
}

fn bad_request() -> Value {
    json_response(
        "Invalid parameter; `field` names it.",
        "#/components/schemas/Error",
    )
}

fn unavailable() -> Value {
    json_response(
        "The cost store is unavailable; retry.",
        "#/components/schemas/Error",
    )
}

fn paths() -> Value {
    let tenant = param(
        "tenant",
        true,
        "Tenant id.",
        json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" }),
    );
    let currency = param(
        "currency",
        false,
        "ISO 4217 code to convert to (default: the server's). Must be in the configured fx table.",
        json!({ "type": "string", "pattern": "^[A-Z]{3}$" }),
    );
    let ts = |name: &str, d: &str| {
        param(
            name,
            true,
            d,
            json!({ "type": "string", "format": "date-time" }),
        )
    };
    json!({
        "/v1/events": { "post": {
            "operationId": "ingestEvents",
            "tags": ["ingest"],
            "summary": "Ingest a batch of usage events (served by the collector)",
            "description": "The batch is validated whole: if any event is invalid nothing is accepted. 202 is returned only once the events are durable. Events are idempotent per (tenant, id), so retrying a batch is safe.",
            "requestBody": { "required": true, "content": {
                "application/json": {
                    "schema": { "type": "array", "minItems": 1, "items": { "$ref": EVENT_REF } },
                    "example": [serde_json::from_str::<Value>(USAGE_EVENT_EXAMPLE).unwrap_or(Value::Null)]
                },
                "application/x-ndjson": {
                    "schema": { "type": "string", "description": "One usage event (JSON object) per line." }
                }
            }},
            "responses": {
                "202": json_response("Accepted and durable.", "#/components/schemas/IngestAccepted"),
                "400": json_response("Unparseable body or invalid events; nothing was accepted. Every error is listed.", "#/components/schemas/IngestError"),
                "413": json_response("Body too large, or too many events in the batch.", "#/components/schemas/IngestError"),
                "503": json_response("The events could not be stored durably; retry the batch.", "#/components/schemas/IngestError")
            }
        }},
        CURRENT_PATH: { "get": {
            "operationId": "currentCosts",
            "tags": ["costs"],
            "summary": "Month-to-date cost summary of a tenant",
            "description": "The same numbers as GraphQL `costSummary` over the current month (UTC) up to now.",
            "parameters": [tenant, currency],
            "responses": {
                "200": json_response("Summary.", "#/components/schemas/CostSummary"),
                "400": bad_request(),
                "503": unavailable()
            }
        }},
        HISTORY_PATH: { "get": {
            "operationId": "costHistory",
            "tags": ["costs"],
            "summary": "Cost of a tenant per time bucket",
            "description": format!("The same numbers as GraphQL `costHistory`: buckets of `granularity` from the one holding `from` up to `to`, optionally split by `groupBy`. At most {MAX_BUCKETS} buckets per query (minute: 7 days, hour: 420 days)."),
            "parameters": [
                tenant,
                ts("from", "Range start (inclusive), RFC 3339; truncated to the minute."),
                ts("to", "Range end (exclusive), RFC 3339; at least a minute after `from`, at most 1098 days after it."),
                param("granularity", true, "Bucket size.", json!({ "type": "string", "enum": ["minute", "hour", "day", "month"] })),
                param("groupBy", false, "Comma-separated dimensions: tenant, category, subKind, provider, service, resource, label (label needs labelKey).", json!({ "type": "string", "example": "category,provider" })),
                param("labelKey", false, "The label `label` groups by.", json!({ "type": "string" })),
                currency
            ],
            "responses": {
                "200": json_response("Points in bucket order.", "#/components/schemas/CostHistory"),
                "400": bad_request(),
                "503": unavailable()
            }
        }},
        RECONCILIATION_PATH: { "get": {
            "operationId": "costReconciliation",
            "tags": ["costs"],
            "summary": "Rate-card estimate against billing data per provider, service and day",
            "description": format!("The same numbers as GraphQL `costReconciliation`. Per provider × service × UTC day: what rate cards estimated, what billing data says, the difference, and the number of record (the bill once it arrived). At most {MAX_RECONCILIATION_DAYS} days."),
            "parameters": [
                tenant,
                ts("from", "Range start (inclusive), RFC 3339; truncated to the minute."),
                ts("to", "Range end (exclusive), RFC 3339."),
                param("billedOnly", false, "Only the days billing data has reached.", json!({ "type": "string", "enum": ["true", "false"] })),
                currency
            ],
            "responses": {
                "200": json_response("Lines in day, provider, service order.", "#/components/schemas/Reconciliation"),
                "400": bad_request(),
                "503": unavailable()
            }
        }},
        "/healthz": { "get": {
            "operationId": "health",
            "tags": ["ops"],
            "summary": "Liveness",
            "responses": { "200": { "description": "Up.", "content": { "application/json": { "schema": {
                "type": "object", "properties": { "status": { "const": "ok" } }, "required": ["status"]
            }}}}}
        }}
    })
}

fn schemas() -> Value {
    let money = json!({ "$ref": "#/components/schemas/Money" });
    let count = json!({ "$ref": "#/components/schemas/Count" });
    let percent = json!({ "type": ["string", "null"], "description": "Percent, decimal string with at most 2 places; null when the base is zero." });
    let range = json!({ "type": "object", "required": ["from", "to"], "properties": {
        "from": { "type": "string", "format": "date-time" }, "to": { "type": "string", "format": "date-time" } } });
    let field_error = json!({ "type": "object", "required": ["index", "field", "reason"], "properties": {
        "index": { "type": "integer", "minimum": 0, "description": "Position of the event in the batch." },
        "field": { "type": "string", "description": "JSON path inside the event, e.g. cost.amount." },
        "reason": { "type": "string" } } });
    json!({
        "UsageEvent": usage_event_schema(),
        "Money": { "type": "object", "required": ["amount", "currency"], "properties": {
            "amount": { "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "Exact decimal string (never a float), no trailing zeros.", "example": "0.00000000503" },
            "currency": { "type": "string", "pattern": "^[A-Z]{3}$", "example": "USD" } } },
        "Count": { "oneOf": [ { "type": "integer", "minimum": 0, "maximum": 9007199254740991_u64 }, { "type": "string", "pattern": "^[0-9]+$" } ],
            "description": "A count: a JSON number up to 2^53 − 1, a decimal string above, so it is never rounded." },
        "CategoryCost": { "type": "object", "required": ["category", "amount", "trend", "change", "previous"], "properties": {
            "category": { "type": "string", "enum": ["api", "hosting", "database", "third_party", "other"] },
            "amount": money, "percentage": percent,
            "trend": { "type": "string", "enum": ["UP", "DOWN", "FLAT"], "description": "Changes within ±1% of the previous amount are FLAT." },
            "change": money, "previous": money } },
        "CostSummary": { "type": "object",
            "required": ["tenant", "range", "total", "billed", "estimated", "replacedEstimate", "events", "dailyAverage", "previousPeriodTotal", "categories", "projectedMonthEnd"],
            "properties": {
                "tenant": { "type": "string" }, "range": range,
                "total": { "$ref": "#/components/schemas/Money", "description": "The number of record: per provider × service × day, the billed amount once billing data arrived, else the rate-card estimate." },
                "billed": money, "estimated": money,
                "replacedEstimate": { "$ref": "#/components/schemas/Money", "description": "Rate-card estimates billing data replaced (not in total)." },
                "events": count, "dailyAverage": money,
                "previousPeriodTotal": money, "changePercent": percent,
                "categories": { "type": "array", "items": { "$ref": "#/components/schemas/CategoryCost" } },
                "projectedMonthEnd": money } },
        "CostPoint": { "type": "object", "required": ["bucket", "keys", "amount", "events"], "properties": {
            "bucket": { "type": "string", "format": "date-time", "description": "Bucket start (UTC)." },
            "keys": { "type": "array", "items": { "type": "string" }, "description": "Values of the groupBy dimensions, in order." },
            "amount": money, "events": count } },
        "CostHistory": { "type": "object", "required": ["tenant", "granularity", "currency", "range", "groupBy", "points"], "properties": {
            "tenant": { "type": "string" },
            "granularity": { "type": "string", "enum": ["minute", "hour", "day", "month"] },
            "currency": { "type": "string" }, "range": range,
            "groupBy": { "type": "array", "items": { "type": "string" } },
            "points": { "type": "array", "items": { "$ref": "#/components/schemas/CostPoint" } } } },
        "ReconciliationLine": { "type": "object", "required": ["provider", "service", "day", "estimated", "billed", "record", "isBilled"], "properties": {
            "provider": { "type": "string" }, "service": { "type": "string" },
            "day": { "type": "string", "format": "date" },
            "estimated": money, "billed": money,
            "difference": { "oneOf": [money, { "type": "null" }], "description": "billed − estimated; null until billing data arrives." },
            "record": money, "isBilled": { "type": "boolean" } } },
        "Reconciliation": { "type": "object", "required": ["tenant", "currency", "range", "lines"], "properties": {
            "tenant": { "type": "string" }, "currency": { "type": "string" }, "range": range,
            "lines": { "type": "array", "items": { "$ref": "#/components/schemas/ReconciliationLine" } } } },
        "Error": { "type": "object", "required": ["error"], "properties": {
            "error": { "type": "string", "description": "What is wrong and why." },
            "field": { "type": "string", "description": "The parameter at fault (400 only)." } } },
        "IngestAccepted": { "type": "object", "required": ["accepted"], "properties": {
            "accepted": { "type": "integer", "minimum": 0, "description": "Events accepted (duplicates included)." } } },
        "IngestError": { "type": "object", "required": ["error"], "properties": {
            "error": { "type": "string" },
            "errors": { "type": "array", "items": field_error } } }
    })
}

fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The document served at `/api/openapi.json`.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Costwatch REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ingest of usage events and the admin cost API. Amounts are exact decimal strings. The full query API is GraphQL at /graphql (SDL: schemas/graphql/schema.graphql)."
        },
        "tags": [
            { "name": "ingest", "description": "Usage events in." },
            { "name": "costs", "description": "Cost queries (same layer as GraphQL)." },
            { "name": "budgets", "description": "Budgets with live spend and forecast." },
            { "name": "alerts", "description": "Alert incidents: list, acknowledge, resolve." },
            { "name": "ops" }
        ],
        "paths": merged(paths(), crate::openapi_budgets::paths()),
        "components": { "schemas": merged(schemas(), crate::openapi_budgets::schemas()) }
    })
}
