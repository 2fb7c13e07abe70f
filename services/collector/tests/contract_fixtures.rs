//! The event contract's golden examples and JSON Schema (`schemas/events/`) agree with the
//! validator the collector runs (`costwatch_domain::validate::parse_event`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use costwatch_domain::validate::{
    MAX_ID_LEN, MAX_LABEL_KEY_LEN, MAX_LABEL_VALUE_LEN, MAX_LABELS, MAX_NAME_LEN, parse_event,
};
use costwatch_domain::{Category, RateCard, SubKind, UsageEvent};
use serde_json::{Value, json};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn now() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().expect("now")
}

fn schema() -> Value {
    read_json(&events_dir().join("usage-event.v1.json"))
}

/// Every `examples/*.valid.json`, by file name.
fn valid_examples() -> Vec<(String, Value)> {
    let dir = events_dir().join("examples");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".valid.json"))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                read_json(&p),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn example(name: &str) -> UsageEvent {
    let (_, value) = valid_examples()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} missing"));
    parse_event(0, &value, now()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn valid_examples_parse_and_round_trip_losslessly() {
    let examples = valid_examples();
    assert!(
        examples.len() >= 3,
        "expected the golden examples, found {examples:?}"
    );
    let properties = keys(&schema()["properties"]);
    for (name, value) in examples {
        let event =
            parse_event(0, &value, now()).unwrap_or_else(|e| panic!("{name} is refused: {e:?}"));
        let serialised = serde_json::to_value(&event).expect("serialise");
        assert!(
            keys(&serialised).is_subset(&properties),
            "{name}: serialised form leaves the schema: {serialised}"
        );
        let reparsed =
            parse_event(0, &serialised, now()).unwrap_or_else(|e| panic!("{name} re-parse: {e:?}"));
        assert_eq!(reparsed, event, "{name}: validator round trip");
        let deserialised: UsageEvent =
            serde_json::from_value(serialised.clone()).expect("deserialise");
        assert_eq!(deserialised, event, "{name}: serde round trip");
        // Decimals keep their exact text, scale included.
        assert_eq!(
            serde_json::to_value(&reparsed).expect("serialise"),
            serialised,
            "{name}"
        );
    }
}

#[test]
fn golden_examples_keep_their_exact_values() {
    let hosting = example("hosting-billed.valid.json");
    let cost = hosting.cost.expect("billed");
    assert_eq!(cost.amount.to_string(), "0.00000000503");
    assert_eq!(cost.currency.as_str(), "USD");
    assert_eq!(hosting.quantity.to_string(), "0.0000012");
    assert_eq!(hosting.sub_kind, SubKind::Compute);

    let api = example("api-rate-priced.valid.json");
    assert_eq!(api.cost, None);
    assert_eq!(api.sub_kind, SubKind::Requests, "inferred from the metric");
    assert_eq!(
        api.timestamp,
        "2026-05-31T13:05:00.250Z"
            .parse::<DateTime<Utc>>()
            .expect("ts")
    );

    let db = example("database-labels.valid.json");
    assert_eq!(db.quantity.to_string(), "150");
    assert_eq!(
        db.cost.expect("billed").amount.to_string(),
        "0.04210000000",
        "billed scale is kept"
    );
    assert_eq!(
        db.timestamp,
        "2026-05-30T21:59:59.999999999Z"
            .parse::<DateTime<Utc>>()
            .expect("ts")
    );
    assert_eq!(db.labels.len(), 3);
    assert_eq!(db.labels["cost-center"], "cc-1042");
}

#[test]
fn the_rate_priced_example_is_priceable_by_the_default_rate_card() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/rate-card.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let card = RateCard::from_toml(&text).expect("default rate card");
    let api = example("api-rate-priced.valid.json");
    assert_eq!(card.check(&api), Ok(()));
}

#[test]
fn invalid_examples_name_exactly_the_expected_fields() {
    let file = read_json(&events_dir().join("examples/invalid.json"));
    let now: DateTime<Utc> = file["now"].as_str().expect("now").parse().expect("now");
    let cases = file["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().expect("name");
        let errors = parse_event(i, &case["event"], now).expect_err(name);
        let mut got: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let mut want: Vec<&str> = case["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|f| f.as_str().expect("field"))
            .collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{name}: {errors:?}");
        assert!(
            errors.iter().all(|e| e.index == i && !e.reason.is_empty()),
            "{name}: {errors:?}"
        );
    }
}

/// The field list the validator itself reports for an unknown field at `path`.
fn known_fields_reported_for(event: &Value, unknown_field: &str) -> BTreeSet<String> {
    let errors = parse_event(0, event, now()).expect_err("unknown field");
    let reason = &errors
        .iter()
        .find(|e| e.field == unknown_field)
        .unwrap_or_else(|| panic!("no error for {unknown_field}: {errors:?}"))
        .reason;
    let list = reason
        .split("known fields are ")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected reason {reason:?}"));
    list.split(", ").map(str::to_string).collect()
}

#[test]
fn schema_fields_match_the_validator() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);

    // `properties` is exactly the validator's known fields.
    let known = known_fields_reported_for(&json!({ "zz_probe": 1 }), "zz_probe");
    assert_eq!(keys(&schema["properties"]), known);

    // `required` is exactly what the validator reports as required when nothing is sent.
    let required: BTreeSet<String> = parse_event(0, &json!({}), now())
        .expect_err("empty event")
        .into_iter()
        .filter(|e| e.reason == "is required")
        .map(|e| e.field)
        .collect();
    assert_eq!(strings(&schema["required"]), required);
    assert!(required.is_subset(&known));

    // cost: {amount, currency}, both required, nothing else.
    let cost = &schema["properties"]["cost"];
    let probe = json!({ "cost": { "zz_probe": 1 } });
    let cost_known = known_fields_reported_for(&probe, "cost.zz_probe");
    assert_eq!(keys(&cost["properties"]), cost_known);
    assert_eq!(cost["additionalProperties"], false);
    let cost_required: BTreeSet<String> = parse_event(0, &json!({ "cost": {} }), now())
        .expect_err("empty cost")
        .into_iter()
        .filter_map(|e| e.field.strip_prefix("cost.").map(str::to_string))
        .collect();
    assert_eq!(strings(&cost["required"]), cost_required);
    assert_eq!(cost["properties"]["currency"]["pattern"], "^[A-Z]{3}$");
}

#[test]
fn schema_enums_and_limits_match_the_domain() {
    let schema = schema();
    let props = &schema["properties"];

    let categories: BTreeSet<String> = Category::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(strings(&props["category"]["enum"]), categories);
    let sub_kinds: BTreeSet<String> = SubKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    assert_eq!(strings(&props["subKind"]["enum"]), sub_kinds);
    assert!(
        props["subKind"]["enum"]
            .as_array()
            .expect("enum")
            .contains(&Value::Null),
        "null means inferred"
    );

    // One if/then per category restricting subKind to that category's sub-kinds.
    let rules = schema["allOf"].as_array().expect("allOf");
    for &category in Category::ALL {
        let rule = rules
            .iter()
            .find(|r| r["if"]["properties"]["category"]["const"] == category.as_str())
            .unwrap_or_else(|| panic!("no subKind rule for {category}"));
        let allowed: BTreeSet<String> = category
            .sub_kinds()
            .iter()
            .map(|k| k.as_str().to_string())
            .collect();
        assert_eq!(
            strings(&rule["then"]["properties"]["subKind"]["enum"]),
            allowed,
            "{category}"
        );
    }

    let max_len = |field: &str| {
        props[field]["maxLength"]
            .as_u64()
            .unwrap_or_else(|| panic!("{field} maxLength"))
    };
    assert_eq!(max_len("id") as usize, MAX_ID_LEN);
    for field in ["provider", "service", "resource", "metric", "unit"] {
        assert_eq!(max_len(field) as usize, MAX_NAME_LEN, "{field}");
        assert_eq!(props[field]["$ref"], "#/$defs/text", "{field}");
    }
    assert_eq!(max_len("tenant"), 64);

    let labels = &props["labels"];
    assert_eq!(labels["maxProperties"].as_u64(), Some(MAX_LABELS as u64));
    assert_eq!(
        labels["propertyNames"]["maxLength"].as_u64(),
        Some(MAX_LABEL_KEY_LEN as u64)
    );
    assert_eq!(labels["additionalProperties"]["type"], "string");
    assert_eq!(
        labels["additionalProperties"]["maxLength"].as_u64(),
        Some(MAX_LABEL_VALUE_LEN as u64)
    );

    // quantity: a decimal string or a non-negative number.
    let quantity_types: BTreeSet<String> = props["quantity"]["oneOf"]
        .as_array()
        .expect("oneOf")
        .iter()
        .filter_map(|s| s["type"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        quantity_types,
        ["number", "string"].into_iter().map(String::from).collect()
    );
}
