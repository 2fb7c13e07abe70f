//! Masking of sensitive identifiers for callers without the right to see them
//! (`Action::ViewSensitive`: tenant-viewers). Pure: the gateway applies it to every string of an
//! answer, so a new field that carries an ARN is masked without being listed anywhere.
//!
//! Rules, applied to whole strings and to ARNs embedded in them (`resource=arn:…`):
//! - an ARN `arn:<partition>:<service>:<region>:<account>:<resource>` keeps its partition,
//!   service, region and the last 4 characters of the account and of the resource; the rest
//!   becomes `*` (so a viewer can still tell resources apart, not name them);
//! - an AWS account id (exactly 12 digits) in a field named like an account (`account`,
//!   `accountId`, …) keeps its last 4 digits.

use std::borrow::Cow;

const KEEP: usize = 4;

/// `value` with every ARN in it masked.
pub fn mask_arns(value: &str) -> Cow<'_, str> {
    if !value.contains("arn:") {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("arn:") {
        // Only at a token boundary: `warn:` is not an ARN.
        let boundary = start == 0
            || !rest[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        // An ARN runs to the next whitespace, comma or quote.
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '"' | '\'' | ';'))
            .unwrap_or(candidate.len());
        let arn = &candidate[..end];
        match boundary.then(|| mask_one_arn(arn)).flatten() {
            Some(masked) => out.push_str(&masked),
            None => out.push_str(arn),
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn mask_one_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
        return None;
    }
    Some(format!(
        "arn:{}:{}:{}:{}:{}",
        parts[1],
        parts[2],
        parts[3],
        keep_tail(parts[4]),
        mask_resource(parts[5]),
    ))
}

/// Keeps a resource's type prefix (`instance/`, `db:`) and the last characters of its id.
fn mask_resource(resource: &str) -> String {
    let split = resource.rfind(['/', ':']).map(|i| i + 1).unwrap_or(0);
    let (kind, id) = resource.split_at(split);
    format!("{kind}{}", keep_tail(id))
}

/// `*` for every character but the last [`KEEP`] (all of them for short values).
pub fn keep_tail(value: &str) -> String {
    let n = value.chars().count();
    if n <= KEEP {
        return "*".repeat(n);
    }
    let tail: String = value.chars().skip(n - KEEP).collect();
    format!("{}{tail}", "*".repeat(n - KEEP))
}

/// Whether a field of this name holds an account id.
pub fn is_account_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "account" || lower.ends_with("accountid") || lower.ends_with("account_id")
}

/// Masks one string of an answer, `field` being the name of the field holding it.
pub fn mask_value<'a>(field: Option<&str>, value: &'a str) -> Cow<'a, str> {
    if field.is_some_and(is_account_field)
        && value.len() == 12
        && value.bytes().all(|b| b.is_ascii_digit())
    {
        return Cow::Owned(keep_tail(value));
    }
    mask_arns(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn arns_keep_their_kind_and_last_characters() {
        assert_eq!(
            mask_arns("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def"),
            "arn:aws:ec2:us-east-1:********9012:instance/*********4def"
        );
        assert_eq!(
            mask_arns("resource=arn:aws:rds:eu-west-1:210987654321:db:prod-orders"),
            "resource=arn:aws:rds:eu-west-1:********4321:db:*******ders"
        );
        // S3 ARNs have no region or account.
        assert_eq!(
            mask_arns("arn:aws:s3:::my-bucket"),
            "arn:aws:s3:::*****cket"
        );
    }

    #[test]
    fn text_without_arns_is_untouched() {
        for s in ["i-0abc", "warn: not an arn:", "costs", "", "arn:short"] {
            assert_eq!(mask_arns(s), s, "{s}");
        }
        assert!(matches!(mask_arns("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn account_ids_are_masked_only_in_account_fields() {
        assert_eq!(
            mask_value(Some("accountId"), "123456789012"),
            "********9012"
        );
        assert_eq!(
            mask_value(Some("billing_account_id"), "123456789012"),
            "********9012"
        );
        // An amount that happens to have 12 digits is money, not an account.
        assert_eq!(mask_value(Some("amount"), "123456789012"), "123456789012");
        assert_eq!(mask_value(Some("accountId"), "12345"), "12345");
    }

    proptest! {
        /// The account digits never survive except the last four, wherever the ARN sits.
        #[test]
        fn no_account_leaks(prefix in "([a-z]{0,8}[ =])?", account in "[0-9]{12}", id in "[a-z0-9-]{1,20}") {
            let text = format!("{prefix}arn:aws:ec2:us-east-1:{account}:instance/{id}");
            let masked = mask_arns(&text);
            prop_assert!(!masked.contains(&account[..8]), "{masked}");
            prop_assert!(masked.contains(&account[8..]));
            prop_assert_eq!(masked.len(), text.len());
        }
    }
}
