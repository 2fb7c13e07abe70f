//! Parsing wire events into [`UsageEvent`]s, reporting every problem with the field and the reason.
//!
//! "Parse, don't validate": the only way to get a `UsageEvent` from untrusted input is through here.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::{Category, SubKind, TenantId, UsageEvent};
use crate::money::{Currency, Money};

/// One problem with one field of one event in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Position of the event in the batch (0-based).
    pub index: usize,
    /// JSON path of the field inside the event, e.g. `cost.amount` or `labels.team`.
    pub field: String,
    pub reason: String,
}

/// Limits on one event.
pub const MAX_ID_LEN: usize = 128;
pub const MAX_NAME_LEN: usize = 256;
pub const MAX_LABELS: usize = 50;
pub const MAX_LABEL_KEY_LEN: usize = 128;
pub const MAX_LABEL_VALUE_LEN: usize = 256;
/// Events timestamped further than this in the future are refused (clock skew allowance).
pub const MAX_FUTURE_SKEW_HOURS: i64 = 24;

const KNOWN_FIELDS: &[&str] = &[
    "id",
    "tenant",
    "timestamp",
    "category",
    "subKind",
    "provider",
    "service",
    "resource",
    "metric",
    "quantity",
    "unit",
    "cost",
    "labels",
];

struct Fields<'a> {
    index: usize,
    obj: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn err(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(FieldError {
            index: self.index,
            field: field.to_string(),
            reason: reason.into(),
        });
    }

    /// A required string of 1..=max characters.
    fn string(&mut self, field: &str, max: usize) -> Option<String> {
        match self.obj.get(field) {
            None | Some(Value::Null) => {
                self.err(field, "is required");
                None
            }
            Some(Value::String(s)) => check_text(s, max).map_err(|r| self.err(field, r)).ok(),
            Some(_) => {
                self.err(field, "must be a string");
                None
            }
        }
    }

    fn parsed<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.string(field, MAX_NAME_LEN)?;
        parse(&raw).map_err(|r| self.err(field, r)).ok()
    }
}

fn check_text(s: &str, max: usize) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("must not be empty".into())
    } else if s.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(s.to_string())
    }
}

/// Parses a decimal given as a JSON string (exact) or a JSON number (its shortest decimal form).
fn decimal(value: &Value) -> Result<Decimal, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("must be a decimal number or a decimal string".into()),
    };
    parse_decimal(&text)
}

/// Parses a plain or exponent-form decimal string exactly.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("must be a decimal number or a decimal string".into());
    }
    let parsed = if t.contains(['e', 'E']) {
        Decimal::from_scientific(t)
    } else {
        t.parse::<Decimal>()
    };
    parsed.map_err(|_| format!("{t:?} is not a decimal number (at most 28 significant digits)"))
}

/// Validates an event built by an importer or poller and writes the sub-kind the domain inferred
/// back into it, so the event on the wire says it. Returns the event ready to send.
pub fn checked_event(mut event: Value, now: DateTime<Utc>) -> Result<Value, Vec<FieldError>> {
    let parsed = parse_event(0, &event, now)?;
    if let Some(obj) = event.as_object_mut() {
        obj.insert("subKind".into(), parsed.sub_kind.as_str().into());
    }
    Ok(event)
}

/// Parses one event of a batch. `now` bounds how far in the future a timestamp may be.
pub fn parse_event(
    index: usize,
    value: &Value,
    now: DateTime<Utc>,
) -> Result<UsageEvent, Vec<FieldError>> {
    let Some(obj) = value.as_object() else {
        return Err(vec![FieldError {
            index,
            field: String::new(),
            reason: "an event must be a JSON object".into(),
        }]);
    };
    let mut f = Fields {
        index,
        obj,
        errors: Vec::new(),
    };
    for key in obj.keys() {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            f.err(
                key,
                format!(
                    "unknown field; known fields are {}",
                    KNOWN_FIELDS.join(", ")
                ),
            );
        }
    }
    let id = f.string("id", MAX_ID_LEN);
    let tenant = f.parsed("tenant", TenantId::parse);
    let timestamp = f.parsed("timestamp", |s| {
        let ts = DateTime::parse_from_rfc3339(s)
            .map_err(|e| {
                format!("must be an RFC 3339 timestamp such as 2026-01-31T13:45:00Z ({e})")
            })?
            .with_timezone(&Utc);
        if ts > now + Duration::hours(MAX_FUTURE_SKEW_HOURS) {
            return Err(format!(
                "is more than {MAX_FUTURE_SKEW_HOURS}h in the future"
            ));
        }
        Ok(ts)
    });
    let category = f.parsed("category", |s| s.parse::<Category>());
    let provider = f.string("provider", MAX_NAME_LEN);
    let service = f.string("service", MAX_NAME_LEN);
    let resource = f.string("resource", MAX_NAME_LEN);
    let metric = f.string("metric", MAX_NAME_LEN);
    let unit = f.string("unit", MAX_NAME_LEN);
    let quantity = match obj.get("quantity") {
        None | Some(Value::Null) => {
            f.err("quantity", "is required");
            None
        }
        Some(v) => match decimal(v) {
            Ok(q) => Some(q),
            Err(r) => {
                f.err("quantity", r);
                None
            }
        },
    };
    let sub_kind = match (obj.get("subKind"), category) {
        (None | Some(Value::Null), Some(c)) => Some(c.infer_sub_kind(
            metric.as_deref().unwrap_or(""),
            unit.as_deref().unwrap_or(""),
        )),
        (None | Some(Value::Null), None) => None,
        (Some(Value::String(s)), c) => match (s.parse::<SubKind>(), c) {
            (Err(r), _) => {
                f.err("subKind", r);
                None
            }
            (Ok(k), Some(c)) if !c.sub_kinds().contains(&k) => {
                let allowed: Vec<_> = c.sub_kinds().iter().map(|k| k.as_str()).collect();
                f.err(
                    "subKind",
                    format!("is not a sub-kind of {c}; allowed: {}", allowed.join(", ")),
                );
                None
            }
            (Ok(k), _) => Some(k),
        },
        (Some(_), _) => {
            f.err("subKind", "must be a string");
            None
        }
    };
    let cost = parse_cost(&mut f);
    // A billed event may carry a negative quantity: billing exports refund or correct usage that
    // way (with a negative cost). An unbilled event drives the tenant's monthly pricing meter,
    // which must never run backwards, so its quantity stays non-negative.
    let quantity = match (quantity, &cost) {
        (Some(q), Some(Some(_))) => Some(q),
        (Some(q), _) if q.is_sign_negative() && !q.is_zero() => {
            f.err(
                "quantity",
                "must not be negative unless the event carries a cost (a billed refund or \
                 correction); send a negative cost.amount for credits",
            );
            None
        }
        (q, _) => q,
    };
    let labels = parse_labels(&mut f);

    if !f.errors.is_empty() {
        return Err(f.errors);
    }
    match (
        id, tenant, timestamp, category, sub_kind, provider, service, resource, metric, quantity,
        unit, cost, labels,
    ) {
        (
            Some(id),
            Some(tenant),
            Some(timestamp),
            Some(category),
            Some(sub_kind),
            Some(provider),
            Some(service),
            Some(resource),
            Some(metric),
            Some(quantity),
            Some(unit),
            Some(cost),
            Some(labels),
        ) => Ok(UsageEvent {
            id,
            tenant,
            timestamp,
            category,
            sub_kind,
            provider,
            service,
            resource,
            metric,
            quantity,
            unit,
            cost,
            labels,
        }),
        // Every `None` above pushed an error, so this arm is unreachable in practice; keep it total.
        _ => Err(vec![FieldError {
            index,
            field: String::new(),
            reason: "invalid event".into(),
        }]),
    }
}

/// `Some(None)`: no cost; `Some(Some(..))`: a valid cost; `None`: errors were recorded.
fn parse_cost(f: &mut Fields<'_>) -> Option<Option<Money>> {
    let cost = match f.obj.get("cost") {
        None | Some(Value::Null) => return Some(None),
        Some(Value::Object(c)) => c,
        Some(_) => {
            f.err("cost", "must be an object {amount, currency}");
            return None;
        }
    };
    let amount = match cost.get("amount") {
        Some(Value::String(s)) => parse_decimal(s).map_err(|r| f.err("cost.amount", r)).ok(),
        Some(Value::Number(_)) => {
            f.err(
                "cost.amount",
                "must be a decimal string such as \"0.00000000503\" (numbers lose precision)",
            );
            None
        }
        _ => {
            f.err("cost.amount", "is required (a decimal string)");
            None
        }
    };
    let currency = match cost.get("currency") {
        Some(Value::String(s)) => s
            .parse::<Currency>()
            .map_err(|e| f.err("cost.currency", e.to_string()))
            .ok(),
        _ => {
            f.err(
                "cost.currency",
                "is required (an ISO 4217 code such as USD)",
            );
            None
        }
    };
    for key in cost.keys() {
        if key != "amount" && key != "currency" {
            f.err(
                &format!("cost.{key}"),
                "unknown field; known fields are amount, currency",
            );
        }
    }
    Some(Some(Money::new(amount?, currency?)))
}

fn parse_labels(f: &mut Fields<'_>) -> Option<BTreeMap<String, String>> {
    let labels = match f.obj.get("labels") {
        None | Some(Value::Null) => return Some(BTreeMap::new()),
        Some(Value::Object(l)) => l,
        Some(_) => {
            f.err("labels", "must be an object of string values");
            return None;
        }
    };
    if labels.len() > MAX_LABELS {
        f.err("labels", format!("at most {MAX_LABELS} labels per event"));
        return None;
    }
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (k, v) in labels {
        let field = format!("labels.{k}");
        if let Err(r) = check_text(k, MAX_LABEL_KEY_LEN) {
            f.err(&field, format!("label key {r}"));
            ok = false;
            continue;
        }
        match v {
            Value::String(s) if s.chars().count() <= MAX_LABEL_VALUE_LEN => {
                out.insert(k.clone(), s.clone());
            }
            Value::String(_) => {
                f.err(
                    &field,
                    format!("must be at most {MAX_LABEL_VALUE_LEN} characters"),
                );
                ok = false;
            }
            _ => {
                f.err(&field, "must be a string");
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Parses a whole batch; the batch is accepted only if every event is valid.
pub fn parse_batch(
    values: &[Value],
    now: DateTime<Utc>,
) -> Result<Vec<UsageEvent>, Vec<FieldError>> {
    let mut events = Vec::with_capacity(values.len());
    let mut errors = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match parse_event(i, v, now) {
            Ok(e) => events.push(e),
            Err(mut es) => errors.append(&mut es),
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    fn valid() -> Value {
        json!({
            "id": "e-1", "tenant": "acme", "timestamp": "2026-05-31T12:00:00Z", "category": "hosting",
            "provider": "aws", "service": "ec2", "resource": "i-123", "metric": "vcpu_hours",
            "quantity": "2.5", "unit": "hour", "labels": {"team": "core"},
            "cost": {"amount": "0.00000000503", "currency": "USD"}
        })
    }

    #[test]
    fn a_valid_event_parses_exactly() {
        let e = parse_event(0, &valid(), now()).unwrap();
        assert_eq!(e.sub_kind, SubKind::Compute);
        assert_eq!(e.cost.unwrap().amount.to_string(), "0.00000000503");
        assert_eq!(e.quantity.to_string(), "2.5");
        assert_eq!(e.labels["team"], "core");
    }

    #[test]
    fn numbers_are_accepted_for_quantity_in_shortest_form() {
        let mut v = valid();
        v["quantity"] = json!(0.1);
        assert_eq!(
            parse_event(0, &v, now()).unwrap().quantity.to_string(),
            "0.1"
        );
    }

    #[test]
    fn every_error_names_its_field() {
        let v = json!({
            "id": "", "tenant": "a b", "timestamp": "yesterday", "category": "compute",
            "provider": 3, "service": "s", "resource": "r", "metric": "m", "quantity": "-1",
            "unit": "u", "cost": {"amount": 1.5, "currency": "usd"}, "labels": {"k": 1}, "extra": true
        });
        let errs = parse_event(7, &v, now()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "id",
            "tenant",
            "timestamp",
            "category",
            "provider",
            "quantity",
            "cost.amount",
            "cost.currency",
            "labels.k",
            "extra",
        ] {
            assert!(fields.contains(&f), "missing error for {f}: {errs:?}");
        }
        assert!(errs.iter().all(|e| e.index == 7 && !e.reason.is_empty()));
    }

    #[test]
    fn missing_fields_are_reported_as_required() {
        let errs = parse_event(0, &json!({}), now()).unwrap_err();
        assert_eq!(errs.len(), 10, "{errs:?}"); // every required field except subKind
        assert!(errs.iter().all(|e| e.reason == "is required"));
    }

    #[test]
    fn sub_kind_must_belong_to_the_category() {
        let mut v = valid();
        v["subKind"] = json!("queries");
        let errs = parse_event(0, &v, now()).unwrap_err();
        assert_eq!(errs[0].field, "subKind");
        v["subKind"] = json!("cdn");
        assert_eq!(parse_event(0, &v, now()).unwrap().sub_kind, SubKind::Cdn);
    }

    #[test]
    fn far_future_timestamps_are_refused() {
        let mut v = valid();
        v["timestamp"] = json!("2026-06-03T00:00:00Z");
        assert_eq!(parse_event(0, &v, now()).unwrap_err()[0].field, "timestamp");
    }

    #[test]
    fn a_batch_is_all_or_nothing() {
        let batch = vec![valid(), json!({"id": "x"}), valid()];
        let errs = parse_batch(&batch, now()).unwrap_err();
        assert!(errs.iter().all(|e| e.index == 1));
        assert_eq!(parse_batch(&[valid(), valid()], now()).unwrap().len(), 2);
    }

    #[test]
    fn negative_quantities_are_admitted_only_on_billed_events() {
        let mut refund = valid();
        refund["quantity"] = json!("-0.001389");
        refund["cost"] = json!({"amount": "-0.01288992", "currency": "USD"});
        let e = parse_event(0, &refund, now()).unwrap();
        assert_eq!(e.quantity.to_string(), "-0.001389");

        let mut unbilled = refund.clone();
        unbilled.as_object_mut().unwrap().remove("cost");
        let errs = parse_event(0, &unbilled, now()).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "quantity");

        // An invalid cost does not make the event billed.
        let mut bad_cost = refund;
        bad_cost["cost"]["currency"] = json!("usd");
        let fields: Vec<_> = parse_event(0, &bad_cost, now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(fields.contains(&"quantity".to_string()), "{fields:?}");
    }

    #[test]
    fn exponent_decimals_parse_exactly() {
        assert_eq!(
            parse_decimal("5.03e-9").unwrap().to_string(),
            "0.00000000503"
        );
        assert!(parse_decimal("abc").is_err());
    }
}
