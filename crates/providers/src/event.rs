//! Building event JSON the way `costwatch-billing-import` does: a billed `cost` as a decimal
//! string, a deterministic id from the charge's identity, labels, and a check with the
//! collector's own validator so a mapped event is one `POST /v1/events` accepts.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use costwatch_domain::validate::{MAX_LABEL_VALUE_LEN, MAX_NAME_LEN, checked_event, parse_decimal};
use costwatch_domain::{Category, SubKind, TenantId};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Namespace of poller event ids (UUIDv5), fixed forever: changing it would count every charge
/// polled before a second time.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x1b4e_82c9_5f3a_4d6e_a7c0_93d2_e1f4_b508);

/// Placeholder for a name the vendor row does not have (the word billing-import uses too).
pub(crate) const NONE: &str = "(none)";

/// The text of a raw JSON value: a string's content or a number's (or bool's) own text;
/// `Ok(None)` for null or blank. Both readers below start here so a vendor cell means the same
/// thing whether it holds an amount or a name.
fn raw_str(raw: &RawValue) -> Result<Option<String>, String> {
    let text = raw.get().trim();
    if text == "null" {
        return Ok(None);
    }
    let inner = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|e| e.to_string())?
    } else {
        text.to_string()
    };
    Ok((!inner.trim().is_empty()).then_some(inner))
}

/// A decimal from a raw JSON value: a number's own text, or a string's content. The raw text is
/// used because without serde_json's `arbitrary_precision` a parsed `Number` holding a fraction
/// is an f64, which cannot hold e.g. 0.1 or 12.345678901234567 exactly.
pub(crate) fn raw_decimal(raw: &RawValue) -> Result<Option<Decimal>, String> {
    raw_str(raw)?.map(|s| parse_decimal(&s)).transpose()
}

/// A string (or the text of a number/bool) from a raw JSON value; `None` for null or "".
pub(crate) fn raw_text(raw: &RawValue) -> Option<String> {
    raw_str(raw).ok().flatten()
}

/// Text fit for an event name or label: control characters become spaces, at most `max` chars.
pub(crate) fn fit(value: &str, max: usize) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

/// Keywords (`|`-separated, matched in the lower-cased name) → category and sub-kind. The first
/// rule that matches wins, so the order matters: taxes before everything, CDN before network,
/// databases (e.g. "Cloud SQL Storage") before storage.
const RULES: &[(&str, Category, Option<SubKind>)] = &[
    ("tax", Category::Other, None),
    (
        "cdn|front door|content delivery|cloudfront",
        Category::Hosting,
        Some(SubKind::Cdn),
    ),
    (
        concat!(
            "sql|database|cosmos|redis|bigquery|spanner|bigtable|firestore|datastore|",
            "memorystore|postgres|mysql|mongodb|kafka|opensearch|",
            "dynamodb|elasticache|redshift|aurora|documentdb|neptune"
        ),
        Category::Database,
        None,
    ),
    (
        concat!(
            "storage|spaces|volume|snapshot|backup|registry|disk|glacier|block store|",
            "elastic file system"
        ),
        Category::Hosting,
        Some(SubKind::Storage),
    ),
    (
        concat!(
            "bandwidth|network|load balancer|floating ip|reserved ip|ip address|dns|vpn|",
            "nat gateway|firewall|data transfer|route 53|load balancing|direct connect"
        ),
        Category::Hosting,
        Some(SubKind::Network),
    ),
    (
        concat!(
            "virtual machine|compute|droplet|kubernetes|app service|functions|cloud run|",
            "container|app engine|app platform|batch|ec2|lambda|fargate|lightsail"
        ),
        Category::Hosting,
        Some(SubKind::Compute),
    ),
    (
        concat!(
            "api|cognitive|openai|vertex|machine learning|gen ai|gemini|service bus|",
            "event hub|pub/sub|logic apps|translation|speech|vision|bedrock|sagemaker|",
            "rekognition|textract|comprehend|transcribe|queue service|notification service"
        ),
        Category::Api,
        None,
    ),
    (
        "marketplace|third party|third-party",
        Category::ThirdParty,
        None,
    ),
];

/// Category (and sub-kind when the name says it) from a vendor's service or product name.
pub(crate) fn classify(name: &str) -> (Category, Option<SubKind>) {
    let n = name.to_ascii_lowercase();
    RULES
        .iter()
        .find(|(words, _, _)| words.split('|').any(|w| n.contains(w)))
        .map_or((Category::Other, None), |&(_, category, sub_kind)| {
            (category, sub_kind)
        })
}

/// The identity of a charge: named values. The same charge fetched again (another run, an
/// overlapping window, a re-issued invoice) hashes to the same event id.
#[derive(Debug, Default)]
pub(crate) struct Identity(String);

impl Identity {
    pub fn text(&mut self, name: &str, value: Option<&str>) {
        // Unit and record separators do not occur in the vendors' names.
        self.0.push_str(name);
        self.0.push('\u{1f}');
        self.0.push_str(value.unwrap_or(""));
        self.0.push('\u{1e}');
    }

    /// The identity text so far (to count identical charges).
    pub fn key(&self) -> String {
        self.0.clone()
    }

    pub fn event_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{}",
            Uuid::new_v5(&ID_NAMESPACE, self.0.as_bytes()).hyphenated()
        )
    }
}

/// An event before validation.
#[derive(Debug)]
pub(crate) struct Draft {
    pub id: String,
    pub timestamp: DateTime<Utc>,
    pub category: Category,
    pub sub_kind: Option<SubKind>,
    pub provider: &'static str,
    pub service: String,
    pub resource: String,
    pub metric: String,
    pub unit: String,
    pub quantity: Decimal,
    pub cost: Decimal,
    pub currency: String,
    pub labels: BTreeMap<String, String>,
}

impl Draft {
    pub fn label(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            self.labels
                .insert(key.to_string(), fit(v, MAX_LABEL_VALUE_LEN));
        }
    }

    /// The wire event, checked by the collector's own validator.
    pub fn finish(self, tenant: &TenantId, now: DateTime<Utc>) -> Result<Value, String> {
        let name = |s: &str| {
            let s = fit(s, MAX_NAME_LEN);
            if s.trim().is_empty() {
                NONE.to_string()
            } else {
                s
            }
        };
        let labels: Map<String, Value> = self
            .labels
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let mut event = json!({
            "id": self.id,
            "tenant": tenant.as_str(),
            "timestamp": self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            "category": self.category.as_str(),
            "provider": self.provider,
            "service": name(&self.service),
            "resource": name(&self.resource),
            "metric": name(&self.metric),
            "quantity": self.quantity.normalize().to_string(),
            "unit": name(&self.unit),
            "cost": { "amount": self.cost.to_string(), "currency": self.currency },
            "labels": labels,
        });
        if let (Some(k), Some(obj)) = (self.sub_kind, event.as_object_mut()) {
            obj.insert("subKind".into(), Value::String(k.as_str().into()));
        }
        checked_event(event, now).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// The events mapped from one vendor answer, in order: each draft is finished (validated) as it
/// is added, and an error names the vendor row it came from, the same way for every vendor.
pub(crate) struct Events<'a> {
    tenant: &'a TenantId,
    now: DateTime<Utc>,
    out: Vec<(NaiveDate, Value)>,
}

impl<'a> Events<'a> {
    pub fn new(tenant: &'a TenantId, now: DateTime<Utc>, capacity: usize) -> Events<'a> {
        Events {
            tenant,
            now,
            out: Vec::with_capacity(capacity),
        }
    }

    /// Adds `draft` as an event of `day` (the day that must be closed before it is sent); `row`
    /// describes the vendor row for the error (only built on error).
    pub fn push(
        &mut self,
        day: NaiveDate,
        draft: Draft,
        row: impl FnOnce() -> String,
    ) -> Result<(), String> {
        let event = draft
            .finish(self.tenant, self.now)
            .map_err(|e| format!("{}: {e}", row()))?;
        self.out.push((day, event));
        Ok(())
    }

    pub fn into_vec(self) -> Vec<(NaiveDate, Value)> {
        self.out
    }
}

/// Midnight UTC of a day.
pub(crate) fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap_or_else(|_| panic!("bad json {s}"))
    }

    #[test]
    fn decimals_come_from_the_raw_text_exactly() {
        let d = |s: &str| raw_decimal(&raw(s));
        assert_eq!(
            d("12.345678901234567891"),
            Ok(Some("12.345678901234567891".parse().unwrap_or_default()))
        );
        assert_eq!(
            d("0.1").map(|o| o.map(|x| x.to_string())),
            Ok(Some("0.1".into()))
        );
        assert_eq!(
            d("\"34.45\"").map(|o| o.map(|x| x.to_string())),
            Ok(Some("34.45".into()))
        );
        assert_eq!(
            d("1.5E-05").map(|o| o.map(|x| x.to_string())),
            Ok(Some("0.000015".into()))
        );
        assert_eq!(d("null"), Ok(None));
        assert!(d("\"abc\"").is_err());
    }

    #[test]
    fn names_classify() {
        assert_eq!(classify("Virtual Machines").0, Category::Hosting);
        assert_eq!(classify("Azure Cosmos DB").0, Category::Database);
        assert_eq!(classify("Cloud CDN").1, Some(SubKind::Cdn));
        assert_eq!(classify("Taxes").0, Category::Other);
        assert_eq!(classify("Spaces Subscription").1, Some(SubKind::Storage));
        // AWS Cost Explorer SERVICE names.
        let aws = |n: &str| classify(n);
        assert_eq!(
            aws("Amazon Elastic Compute Cloud - Compute").1,
            Some(SubKind::Compute)
        );
        assert_eq!(aws("EC2 - Other").1, Some(SubKind::Compute));
        assert_eq!(
            aws("Amazon Simple Storage Service").1,
            Some(SubKind::Storage)
        );
        assert_eq!(aws("Amazon CloudFront").1, Some(SubKind::Cdn));
        assert_eq!(aws("AWS Data Transfer").1, Some(SubKind::Network));
        assert_eq!(aws("Amazon DynamoDB").0, Category::Database);
        assert_eq!(
            aws("Amazon Relational Database Service").0,
            Category::Database
        );
        assert_eq!(aws("Amazon Bedrock").0, Category::Api);
        assert_eq!(aws("Tax").0, Category::Other);
    }
}
