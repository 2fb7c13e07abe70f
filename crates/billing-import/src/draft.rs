//! A mapped row before validation: the event's fields, each with the column it came from, so the
//! domain validator's field errors can be reported against the file's columns.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use costwatch_domain::validate::{MAX_LABEL_VALUE_LEN, MAX_NAME_LEN, checked_event};
use costwatch_domain::{Category, SubKind};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::row::{RowError, fit};

/// Namespace of import event ids (UUIDv5), fixed forever: changing it would re-count every
/// previously imported row on the next import.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c0f_5d1e_8a3b_4c2e_9f70_1b2d_3e4f_5a6b);

/// Placeholder for a required event name the row does not have (e.g. a credit has no resource);
/// the same word the API uses for rows lacking a grouped label.
pub(crate) const NONE: &str = "(none)";

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub value: String,
    pub column: String,
}

impl Field {
    pub fn new(value: &str, column: &str) -> Field {
        Field {
            value: fit(value, MAX_NAME_LEN),
            column: column.to_string(),
        }
    }
}

/// The identity of a row: named, normalised values of its identifying columns. Values are
/// normalised (decimals without trailing zeros, times in RFC 3339 UTC) so that the same charge
/// written by another export run, or in another file, hashes to the same event id.
#[derive(Debug, Default)]
pub(crate) struct Identity(String);

impl Identity {
    pub fn text(&mut self, column: &str, value: Option<&str>) {
        self.push(column, value.unwrap_or(""));
    }

    pub fn decimal(&mut self, column: &str, value: Option<Decimal>) {
        let v = value.map(|d| d.normalize().to_string());
        self.push(column, v.as_deref().unwrap_or(""));
    }

    pub fn time(&mut self, column: &str, value: Option<DateTime<Utc>>) {
        let v = value.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        self.push(column, v.as_deref().unwrap_or(""));
    }

    fn push(&mut self, column: &str, value: &str) {
        // Unit and record separators cannot occur in CSV text we accept as names.
        self.0.push_str(column);
        self.0.push('\u{1f}');
        self.0.push_str(value);
        self.0.push('\u{1e}');
    }

    pub fn event_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{}",
            Uuid::new_v5(&ID_NAMESPACE, self.0.as_bytes()).hyphenated()
        )
    }
}

/// Labels with the column each came from. The importer's own labels take their names; a tag with
/// the same name is kept as `tag.<name>` so neither is lost.
#[derive(Debug, Default)]
pub(crate) struct Labels(BTreeMap<String, (String, String)>);

impl Labels {
    pub fn set(&mut self, key: &str, value: Option<&str>, column: &str) {
        if let Some(v) = value {
            self.0.insert(
                key.to_string(),
                (fit(v, MAX_LABEL_VALUE_LEN), column.to_string()),
            );
        }
    }

    pub fn tag(&mut self, key: &str, value: &str, column: &str) {
        let key = if self.0.contains_key(key) {
            format!("tag.{key}")
        } else {
            key.to_string()
        };
        self.0
            .insert(key, (fit(value, MAX_LABEL_VALUE_LEN), column.to_string()));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Tags given as a JSON object (FOCUS `Tags`, CUR 2.0 `resource_tags`). Non-string values are
    /// kept as their JSON text; a null value is an empty label.
    pub fn tags_json(&mut self, raw: &str, column: &str) -> Result<(), String> {
        let parsed: Value = serde_json::from_str(raw)
            .map_err(|e| format!("must be a JSON object of tags ({e})"))?;
        let Value::Object(tags) = parsed else {
            return Err("must be a JSON object of tags".into());
        };
        for (k, v) in tags {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            self.tag(&k, &text, column);
        }
        Ok(())
    }
}

#[derive(Debug)]
pub(crate) struct Draft {
    pub id: String,
    pub tenant: Field,
    pub timestamp: DateTime<Utc>,
    pub timestamp_column: String,
    pub category: Category,
    pub category_column: String,
    pub sub_kind: Option<SubKind>,
    pub provider: Field,
    pub service: Field,
    pub resource: Field,
    pub metric: Field,
    pub unit: Field,
    pub quantity: Decimal,
    pub quantity_column: String,
    pub cost: Decimal,
    pub cost_column: String,
    pub currency: Field,
    pub labels: Labels,
}

impl Draft {
    /// The wire event, checked by the collector's own validator.
    pub fn finish(self, row: u64, line: u64, now: DateTime<Utc>) -> Result<Value, Vec<RowError>> {
        let mut labels = Map::new();
        for (k, (v, _)) in &self.labels.0 {
            labels.insert(k.clone(), Value::String(v.clone()));
        }
        let mut event = json!({
            "id": self.id,
            "tenant": self.tenant.value,
            "timestamp": self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            "category": self.category.as_str(),
            "provider": self.provider.value,
            "service": self.service.value,
            "resource": self.resource.value,
            "metric": self.metric.value,
            "quantity": self.quantity.to_string(),
            "unit": self.unit.value,
            "cost": { "amount": self.cost.to_string(), "currency": self.currency.value },
            "labels": labels,
        });
        if let (Some(k), Some(obj)) = (self.sub_kind, event.as_object_mut()) {
            obj.insert("subKind".into(), Value::String(k.as_str().into()));
        }
        checked_event(event, now).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| RowError {
                    row,
                    line,
                    column: self.column_of(&e.field),
                    reason: format!("{} {}", e.field, e.reason),
                })
                .collect()
        })
    }

    fn column_of(&self, field: &str) -> String {
        let column = match field {
            "tenant" => &self.tenant.column,
            "timestamp" => &self.timestamp_column,
            "category" | "subKind" => &self.category_column,
            "provider" => &self.provider.column,
            "service" => &self.service.column,
            "resource" => &self.resource.column,
            "metric" => &self.metric.column,
            "unit" => &self.unit.column,
            "quantity" => &self.quantity_column,
            "cost.amount" => &self.cost_column,
            "cost.currency" => &self.currency.column,
            f => match f.strip_prefix("labels.").and_then(|k| self.labels.0.get(k)) {
                Some((_, column)) => column,
                None => return String::new(),
            },
        };
        column.clone()
    }
}
