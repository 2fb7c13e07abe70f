//! Labels marked sensitive (`sensitive_labels = ["owner", "email"]`): their values are masked
//! for callers without `Action::ViewSensitive`, and such callers may not group or filter by
//! them (a group key or a filter that matches would reveal the value just the same).

use std::borrow::Cow;
use std::collections::BTreeSet;

/// What a masked label value shows.
pub const MASKED: &str = "****";

/// The label keys whose values are sensitive. Keys compare case-sensitively, as labels do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SensitiveLabels(BTreeSet<String>);

impl SensitiveLabels {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> SensitiveLabels {
        SensitiveLabels(keys.into_iter().map(Into::into).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains(key)
    }

    /// Problems of the setting, each naming it.
    pub fn problems(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|k| k.is_empty() || k.chars().any(|c| c.is_whitespace() || c == '='))
            .map(|k| format!("sensitive_labels: {k:?} is not a label key"))
            .collect()
    }

    /// `value` with the value of every `label:<key>=<value>` reference to a sensitive key
    /// masked (root causes name labels this way). A reference runs to the end of the string or
    /// to the next `,`, `;` or whitespace.
    pub fn mask_refs<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if self.0.is_empty() || !value.contains("label:") {
            return Cow::Borrowed(value);
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        let mut changed = false;
        while let Some(start) = rest.find("label:") {
            let after = &rest[start + "label:".len()..];
            out.push_str(&rest[..start + "label:".len()]);
            let end = after
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';'))
                .unwrap_or(after.len());
            let reference = &after[..end];
            match reference.split_once('=') {
                Some((key, v)) if self.contains(key) && v != MASKED => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(MASKED);
                    changed = true;
                }
                _ => out.push_str(reference),
            }
            rest = &after[end..];
        }
        out.push_str(rest);
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn owner() -> SensitiveLabels {
        SensitiveLabels::new(["owner", "email"])
    }

    #[test]
    fn references_to_sensitive_keys_are_masked_others_kept() {
        let s = owner();
        assert_eq!(s.mask_refs("label:owner=alice"), "label:owner=****");
        assert_eq!(s.mask_refs("label:team=checkout"), "label:team=checkout");
        assert_eq!(
            s.mask_refs("label:email=a@b.c, label:team=x; label:owner=bob"),
            "label:email=****, label:team=x; label:owner=****"
        );
        assert!(matches!(s.mask_refs("resource=i-1"), Cow::Borrowed(_)));
        assert_eq!(
            SensitiveLabels::default().mask_refs("label:owner=alice"),
            "label:owner=alice"
        );
        // A key that merely starts like a sensitive one is not sensitive.
        assert_eq!(s.mask_refs("label:owners=x"), "label:owners=x");
    }

    #[test]
    fn bad_keys_are_named() {
        let p = SensitiveLabels::new(["owner", "", "a b", "k=v"]).problems();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().all(|m| m.starts_with("sensitive_labels:")));
    }

    proptest! {
        /// No sensitive value survives masking, wherever the reference sits in the text.
        #[test]
        fn no_sensitive_value_leaks(
            prefix in "[a-z ,;]{0,8}",
            value in "[A-Za-z0-9@.]{1,12}",
            suffix in "([,; ][a-z]{0,6})?",
        ) {
            let text = format!("{prefix}label:owner={value}{suffix}");
            let masked = owner().mask_refs(&text).into_owned();
            prop_assert!(masked.contains("label:owner=****"), "{}", masked);
            let leaked = format!("owner={value}");
            prop_assert!(!masked.contains(&leaked), "{}", masked);
        }
    }
}
