//! The usage event: the one fact every collector publishes and every consumer folds.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Version of the event contract (`schemas/events/usage-event.v1.json`, `costwatch.v1.UsageEvent`).
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// A tenant id: 1–64 characters of `A-Z a-z 0-9 . _ -`. Part of every key and every query.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<TenantId, String> {
        if raw.is_empty() || raw.len() > 64 {
            return Err("must be 1 to 64 characters".into());
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err("may contain only letters, digits, '.', '_' and '-'".into());
        }
        Ok(TenantId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TenantId::parse(&s)
    }
}

impl From<TenantId> for String {
    fn from(t: TenantId) -> String {
        t.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "must be one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What kind of spend an event is.
    Category {
        Api => "api",
        Hosting => "hosting",
        Database => "database",
        ThirdParty => "third_party",
        Other => "other",
    }
);

string_enum!(
    /// The sub-kind of a category, so a breakdown can show e.g. hosting → CDN.
    SubKind {
        Requests => "requests",
        DataTransfer => "data_transfer",
        PremiumFeatures => "premium_features",
        Compute => "compute",
        Storage => "storage",
        Network => "network",
        Cdn => "cdn",
        Queries => "queries",
        BackupReplication => "backup_replication",
        General => "general",
    }
);

impl Category {
    /// The sub-kinds a category admits (`general` is always admitted).
    pub fn sub_kinds(self) -> &'static [SubKind] {
        use SubKind::*;
        match self {
            Category::Api => &[Requests, DataTransfer, PremiumFeatures, General],
            Category::Hosting => &[Compute, Storage, Network, Cdn, General],
            Category::Database => &[Storage, Queries, DataTransfer, BackupReplication, General],
            Category::ThirdParty | Category::Other => &[General],
        }
    }

    /// Infers a sub-kind from the metric and unit when the event does not name one.
    pub fn infer_sub_kind(self, metric: &str, unit: &str) -> SubKind {
        let text = format!("{} {}", metric, unit).to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
        let guess = if has(&["cdn", "edge"]) {
            SubKind::Cdn
        } else if has(&["backup", "replica", "snapshot"]) {
            SubKind::BackupReplication
        } else if has(&["transfer", "egress", "ingress", "bandwidth"]) {
            SubKind::DataTransfer
        } else if has(&["query", "queries", "read_unit", "write_unit", "operation"]) {
            SubKind::Queries
        } else if has(&["request", "call", "invocation"]) {
            SubKind::Requests
        } else if has(&["premium", "feature"]) {
            SubKind::PremiumFeatures
        } else if has(&[
            "storage",
            "gb_month",
            "gb-month",
            "byte_hour",
            "disk",
            "volume",
        ]) {
            SubKind::Storage
        } else if has(&["cpu", "vcpu", "instance", "hour", "compute", "memory"]) {
            SubKind::Compute
        } else if has(&["network", "ip", "load_balancer", "nat"]) {
            SubKind::Network
        } else {
            SubKind::General
        };
        // Data transfer on hosting is "network" in the product's vocabulary.
        match (self, guess) {
            (Category::Hosting, SubKind::DataTransfer) => SubKind::Network,
            (c, g) if c.sub_kinds().contains(&g) => g,
            _ => SubKind::General,
        }
    }
}

/// A validated usage event. Constructed by [`crate::validate::parse_event`] from the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageEvent {
    /// Idempotency key, unique per tenant.
    pub id: String,
    pub tenant: TenantId,
    pub timestamp: DateTime<Utc>,
    pub category: Category,
    pub sub_kind: SubKind,
    pub provider: String,
    pub service: String,
    pub resource: String,
    pub metric: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    pub unit: String,
    /// Present when the source already billed the usage; taken as the number of record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl UsageEvent {
    /// The dedupe identity of the event: (tenant, id).
    pub fn identity(&self) -> (&TenantId, &str) {
        (&self.tenant, &self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_restricted() {
        assert!(TenantId::parse("acme-prod_1.eu").is_ok());
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse("a b").is_err());
        assert!(TenantId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn every_inferred_sub_kind_is_admitted_by_its_category() {
        let metrics = [
            "requests",
            "egress_gb",
            "cdn_gb",
            "vcpu_hours",
            "storage_gb_month",
            "read_units",
            "backup_gb",
            "premium_seats",
            "nat_gateway",
            "widgets",
        ];
        for &c in Category::ALL {
            for m in metrics {
                let s = c.infer_sub_kind(m, "");
                assert!(c.sub_kinds().contains(&s), "{c} {m} -> {s}");
            }
        }
        assert_eq!(
            Category::Hosting.infer_sub_kind("cdn_gb", "GB"),
            SubKind::Cdn
        );
        assert_eq!(
            Category::Hosting.infer_sub_kind("egress", "GB"),
            SubKind::Network
        );
        assert_eq!(
            Category::Database.infer_sub_kind("read_units", ""),
            SubKind::Queries
        );
        assert_eq!(
            Category::Api.infer_sub_kind("requests", "count"),
            SubKind::Requests
        );
    }

    #[test]
    fn enums_round_trip_their_wire_names() {
        for &c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        for &s in SubKind::ALL {
            assert_eq!(s.as_str().parse::<SubKind>(), Ok(s));
        }
        assert!("compute".parse::<Category>().is_err());
    }
}
