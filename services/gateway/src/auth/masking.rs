//! Applies the domain's masking rule (`costwatch_domain::masking`) to whole answers for callers
//! without `ViewSensitive`: every string of the `data` tree, with the name of the field holding
//! it, so no resolver has to remember to mask.

use async_graphql::{Response, Value as ConstValue};
use costwatch_domain::masking::mask_value;

/// Masks `response.data` in place.
pub fn mask_response(response: &mut Response) {
    mask(&mut response.data, None);
}

fn mask(value: &mut ConstValue, field: Option<&str>) {
    match value {
        ConstValue::String(s) => {
            if let std::borrow::Cow::Owned(masked) = mask_value(field, s) {
                *s = masked;
            }
        }
        ConstValue::List(items) => items.iter_mut().for_each(|v| mask(v, field)),
        ConstValue::Object(map) => {
            for (name, v) in map.iter_mut() {
                mask(v, Some(name.as_str()));
            }
        }
        _ => {}
    }
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
        mask_response(&mut response);
        let json = response.data.into_json().expect("json");
        assert_eq!(
            json["costBreakdown"][0]["keys"][0],
            "arn:aws:ec2:us-east-1:********9012:instance/*********4def"
        );
        assert_eq!(json["costBreakdown"][0]["amount"], "123456789012");
        assert_eq!(json["accountId"], "********9012");
    }
}
