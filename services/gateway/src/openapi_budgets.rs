//! OpenAPI paths and schemas of the budget and alert endpoints (`rest_budgets.rs`). Their JSON
//! shapes are the GraphQL types `Budget`, `BudgetInput` and `Alert` (same field names).

use serde_json::{Value, json};

use crate::rest_budgets::{ALERTS_PATH, BUDGETS_PATH};

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn errors() -> Value {
    json!({
        "400": ok("Invalid input; `field` names it (e.g. input.amount).", r("Error")),
        "404": ok("No such budget or alert for this tenant.", r("Error")),
        "503": ok("Store unavailable, or budgets not enabled in this deployment.", r("Error"))
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    base
}

fn tenant_param() -> Value {
    json!({ "name": "tenant", "in": "query", "required": true, "schema": { "type": "string" } })
}

pub fn paths() -> Value {
    let body = |schema: Value| json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    json!({
        BUDGETS_PATH: {
            "get": { "operationId": "listBudgets", "tags": ["budgets"], "summary": "A tenant's budgets with live status",
                "parameters": [tenant_param()],
                "responses": with(errors(), json!({ "200": ok("Budgets by name.", json!({ "type": "object",
                    "properties": { "budgets": { "type": "array", "items": r("Budget") } } })) })) },
            "post": { "operationId": "createBudget", "tags": ["budgets"], "summary": "Create a budget",
                "requestBody": body(r("BudgetRequest")),
                "responses": with(errors(), json!({ "201": ok("Created, with status.", r("Budget")) })) }
        },
        format!("{BUDGETS_PATH}/{{id}}"): {
            "put": { "operationId": "updateBudget", "tags": ["budgets"], "summary": "Replace a budget's settings",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "requestBody": body(r("BudgetRequest")),
                "responses": with(errors(), json!({ "200": ok("Updated.", r("Budget")) })) },
            "delete": { "operationId": "deleteBudget", "tags": ["budgets"], "summary": "Delete a budget (its open alerts resolve)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, tenant_param()],
                "responses": with(errors(), json!({ "204": { "description": "Deleted." } })) }
        },
        ALERTS_PATH: {
            "get": { "operationId": "listAlerts", "tags": ["alerts"], "summary": "A tenant's alerts, most recently changed first",
                "parameters": [tenant_param(),
                    { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["TRIGGERED", "ACKNOWLEDGED", "RESOLVED"] } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } }],
                "responses": with(errors(), json!({ "200": ok("Alerts.", json!({ "type": "object",
                    "properties": { "alerts": { "type": "array", "items": r("Alert") } } })) })) },
            "post": { "operationId": "changeAlert", "tags": ["alerts"], "summary": "Acknowledge or resolve an alert",
                "requestBody": body(json!({ "type": "object", "required": ["tenant", "id", "action"], "additionalProperties": false,
                    "properties": { "tenant": { "type": "string" }, "id": { "type": "string" },
                        "action": { "type": "string", "enum": ["acknowledge", "resolve"] },
                        "by": { "type": "string" }, "note": { "type": "string" } } })),
                "responses": with(errors(), json!({ "200": ok("The alert after the change.", r("Alert")), "409": ok("Changed meanwhile; reload.", r("Error")) })) }
        }
    })
}

pub fn schemas() -> Value {
    let graphql = "Same fields as the GraphQL type of this name (schemas/graphql/schema.graphql).";
    json!({
        "BudgetRequest": { "type": "object", "required": ["tenant", "input"], "additionalProperties": false,
            "properties": { "tenant": { "type": "string" }, "input": r("BudgetInput") } },
        "BudgetInput": { "type": "object", "description": graphql, "required": ["name", "amount", "currency", "period"],
            "properties": {
                "name": { "type": "string" }, "amount": { "type": "string", "description": "Decimal string > 0." },
                "currency": { "type": "string" },
                "period": { "type": "string", "enum": ["MONTHLY", "QUARTERLY", "YEARLY", "CUSTOM"] },
                "customStart": { "type": "string", "format": "date-time" }, "customEnd": { "type": "string", "format": "date-time" },
                "scope": { "type": "object" }, "thresholds": { "type": "array" }, "allocations": { "type": "array" },
                "owner": { "type": "string" } } },
        "Budget": { "type": "object", "description": graphql, "required": ["id", "tenant", "name", "amount", "spent", "forecast", "status"],
            "properties": { "id": { "type": "string" }, "tenant": { "type": "string" }, "name": { "type": "string" },
                "amount": r("Money"), "spent": r("Money"), "forecast": r("Money"),
                "status": { "type": "string", "enum": ["ON_TRACK", "AT_RISK", "EXCEEDED"] } } },
        "Alert": { "type": "object", "description": graphql, "required": ["id", "tenant", "dedupeKey", "kind", "severity", "state"],
            "properties": { "id": { "type": "string" }, "tenant": { "type": "string" }, "dedupeKey": { "type": "string" },
                "kind": { "type": "string" }, "severity": { "type": "string", "enum": ["INFO", "WARNING", "CRITICAL"] },
                "state": { "type": "string", "enum": ["TRIGGERED", "ACKNOWLEDGED", "RESOLVED"] } } }
    })
}
