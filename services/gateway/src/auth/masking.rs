//! Applies the domain's masking rule (`costwatch_domain::masking`) to whole answers for callers
//! without `ViewSensitive`: every string of the `data` tree, with the name of the field holding
//! it, so no resolver has to remember to mask.

use async_graphql::{Response, Value as ConstValue};
use costwatch_domain::masking::mask_value;
use costwatch_domain::sensitive_labels::{MASKED, SensitiveLabels};

/// Masks `response.data` in place: identifiers, and the values of sensitive labels.
pub fn mask_response(response: &mut Response, labels: &SensitiveLabels) {
    mask(&mut response.data, None, labels);
}

fn masked_string(field: Option<&str>, s: &str, labels: &SensitiveLabels) -> Option<String> {
    let identifiers = mask_value(field, s);
    match labels.mask_refs(&identifiers) {
        std::borrow::Cow::Owned(both) => Some(both),
        std::borrow::Cow::Borrowed(_) => match identifiers {
            std::borrow::Cow::Owned(only) => Some(only),
            std::borrow::Cow::Borrowed(_) => None,
        },
    }
}

fn mask(value: &mut ConstValue, field: Option<&str>, labels: &SensitiveLabels) {
    match value {
        ConstValue::String(s) => {
            if let Some(masked) = masked_string(field, s, labels) {
                *s = masked;
            }
        }
        ConstValue::List(items) => items.iter_mut().for_each(|v| mask(v, field, labels)),
        ConstValue::Object(map) => {
            for (name, v) in map.iter_mut() {
                mask(v, Some(name.as_str()), labels);
            }
            // A `Label { key value }` of a sensitive key.
            let sensitive =
                matches!(map.get("key"), Some(ConstValue::String(k)) if labels.contains(k));
            if sensitive && let Some(v @ ConstValue::String(_)) = map.get_mut("value") {
                *v = ConstValue::String(MASKED.into());
            }
        }
        _ => {}
    }
}

/// Masks a JSON document (a REST answer) the same way: every string, with its field's name.
pub fn mask_json(value: &mut serde_json::Value, labels: &SensitiveLabels) {
    mask_json_field(value, None, labels);
}

fn mask_json_field(value: &mut serde_json::Value, field: Option<&str>, labels: &SensitiveLabels) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(masked) = masked_string(field, s, labels) {
                *s = masked;
            }
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .for_each(|v| mask_json_field(v, field, labels)),
        serde_json::Value::Object(map) => {
            for (name, v) in map.iter_mut() {
                mask_json_field(v, Some(name.as_str()), labels);
            }
            let sensitive = map
                .get("key")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|k| labels.contains(k));
            if sensitive && let Some(v @ serde_json::Value::String(_)) = map.get_mut("value") {
                *v = serde_json::Value::String(MASKED.into());
            }
        }
        _ => {}
    }
}

/// The largest REST answer masked in memory; a larger one is refused rather than sent unmasked.
const MAX_MASKED_BODY: usize = 64 << 20;

/// A REST answer with its JSON body masked. A body that is not JSON is refused (500) rather
/// than passed through: an unmasked answer must never reach a caller who may not see it.
pub async fn mask_rest_response(
    resp: axum::response::Response,
    labels: &SensitiveLabels,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = resp.into_parts();
    let refuse = |why: &str| {
        tracing::error!(why, "a REST answer could not be masked; refused");
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(
                serde_json::json!({"error": "the answer could not be masked", "code": "INTERNAL"}),
            ),
        )
            .into_response()
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_MASKED_BODY).await else {
        return refuse("body too large or unreadable");
    };
    if bytes.is_empty() {
        return axum::response::Response::from_parts(parts, axum::body::Body::empty());
    }
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return refuse("body is not JSON");
    };
    mask_json(&mut json, labels);
    let Ok(masked) = serde_json::to_vec(&json) else {
        return refuse("masked body could not be written");
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(masked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_anywhere_in_the_tree_are_masked_with_their_field_name() {
        let data = ConstValue::from_json(serde_json::json!({
            "costBreakdown": [
                { "keys": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def"], "amount": "123456789012" },
            ],
            "accountId": "123456789012",
        }))
        .expect("value");
        let mut response = Response::new(data);
        mask_response(&mut response, &SensitiveLabels::default());
        let json = response.data.into_json().expect("json");
        assert_eq!(
            json["costBreakdown"][0]["keys"][0],
            "arn:aws:ec2:us-east-1:********9012:instance/*********4def"
        );
        assert_eq!(json["costBreakdown"][0]["amount"], "123456789012");
        assert_eq!(json["accountId"], "********9012");
    }

    #[test]
    fn sensitive_label_values_are_masked_in_labels_and_references() {
        let labels = SensitiveLabels::new(["owner"]);
        let data = ConstValue::from_json(serde_json::json!({
            "budget": { "scope": { "labels": [
                { "key": "owner", "value": "alice@example.com" },
                { "key": "team", "value": "checkout" },
            ] } },
            "anomaly": { "labelCauses": [{ "key": "label:owner=alice@example.com" }] },
        }))
        .expect("value");
        let mut response = Response::new(data);
        mask_response(&mut response, &labels);
        let json = response.data.into_json().expect("json");
        assert_eq!(json["budget"]["scope"]["labels"][0]["value"], "****");
        assert_eq!(json["budget"]["scope"]["labels"][1]["value"], "checkout");
        assert_eq!(json["anomaly"]["labelCauses"][0]["key"], "label:owner=****");
        assert!(!json.to_string().contains("alice"), "{json}");

        let mut rest = serde_json::json!({ "labels": [{ "key": "owner", "value": "bob" }] });
        mask_json(&mut rest, &labels);
        assert_eq!(rest["labels"][0]["value"], "****");
    }

    #[tokio::test]
    async fn rest_answers_are_masked_and_non_json_is_refused() {
        use axum::response::IntoResponse;
        let answer = axum::Json(serde_json::json!({
            "rows": [{ "resource": "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def", "accountId": "123456789012" }]
        }))
        .into_response();
        let masked = mask_rest_response(answer, &SensitiveLabels::default()).await;
        assert_eq!(masked.status(), 200);
        let bytes = axum::body::to_bytes(masked.into_body(), 1 << 20)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("123456789012"), "{text}");
        assert!(text.contains("********9012"), "{text}");

        let csv = (
            [("content-type", "text/csv")],
            "resource\narn:aws:ec2:us-east-1:123456789012:instance/i-1\n",
        )
            .into_response();
        let refused = mask_rest_response(csv, &SensitiveLabels::default()).await;
        assert_eq!(refused.status(), 500);
        let bytes = axum::body::to_bytes(refused.into_body(), 1 << 20)
            .await
            .expect("body");
        assert!(!String::from_utf8_lossy(&bytes).contains("123456789012"));
    }
}
