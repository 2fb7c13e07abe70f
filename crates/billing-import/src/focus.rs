//! FOCUS 1.0–1.2 rows → usage events (see the crate README for the full mapping).

use costwatch_domain::validate::MAX_LABELS;
use costwatch_domain::{Category, SubKind};
use rust_decimal::Decimal;

use crate::draft::{Draft, Field, Identity, Labels, NONE};
use crate::row::{Columns, Row};

/// Mandatory in FOCUS 1.0, 1.1 and 1.2 alike. Each entry lists accepted names: FOCUS 1.3 renames
/// ProviderName to ServiceProviderName and PublisherName to HostProviderName.
const MANDATORY: &[&[&str]] = &[
    &["BilledCost"],
    &["BillingAccountId"],
    &["BillingAccountName"],
    &["BillingCurrency"],
    &["BillingPeriodEnd"],
    &["BillingPeriodStart"],
    &["ChargeCategory"],
    &["ChargeClass"],
    &["ChargeDescription"],
    &["ChargePeriodEnd"],
    &["ChargePeriodStart"],
    &["ContractedCost"],
    &["EffectiveCost"],
    &["InvoiceIssuerName"],
    &["ListCost"],
    &["PricingQuantity"],
    &["PricingUnit"],
    &["ServiceProviderName", "ProviderName"],
    &["HostProviderName", "PublisherName"],
    &["ServiceCategory"],
    &["ServiceName"],
];

const CHARGE_CATEGORIES: &[&str] = &["Usage", "Purchase", "Tax", "Credit", "Adjustment"];

pub(crate) fn missing_columns(cols: &Columns) -> Vec<(String, String)> {
    MANDATORY
        .iter()
        .filter(|names| !names.iter().any(|n| cols.has(n)))
        .map(|names| {
            let reason = if names.len() > 1 {
                format!(
                    "mandatory FOCUS column is missing (accepted names: {})",
                    names.join(", ")
                )
            } else {
                "mandatory FOCUS column is missing".to_string()
            };
            (names[0].to_string(), reason)
        })
        .collect()
}

/// Our category for a FOCUS ServiceCategory (the same allowed values in 1.0, 1.1 and 1.2), and
/// the sub-kind when the FOCUS value says it; otherwise the domain infers it from metric and unit.
pub(crate) fn category(
    service_category: &str,
    subcategory: Option<&str>,
) -> Result<(Category, Option<SubKind>), String> {
    use Category::*;
    Ok(match service_category {
        "Compute" => (Hosting, Some(SubKind::Compute)),
        "Storage" => (Hosting, Some(SubKind::Storage)),
        "Networking" if subcategory == Some("Content Delivery") => (Hosting, Some(SubKind::Cdn)),
        "Networking" => (Hosting, Some(SubKind::Network)),
        "Web" => (Hosting, None),
        "Databases" | "Analytics" => (Database, None),
        // Services consumed per call: queues, notifications, model endpoints, identity, media.
        "AI and Machine Learning"
        | "Integration"
        | "Identity"
        | "Internet of Things"
        | "Media"
        | "Mobile"
        | "Developer Tools" => (Api, None),
        "Business Applications" => (ThirdParty, None),
        "Management and Governance" | "Security" | "Migration" | "Multicloud" | "Other" => {
            (Other, None)
        }
        other => {
            return Err(format!(
                "{other:?} is not a FOCUS ServiceCategory (AI and Machine Learning, Analytics, \
                 Business Applications, Compute, Databases, Developer Tools, Multicloud, Identity, \
                 Integration, Internet of Things, Management and Governance, Media, Migration, \
                 Mobile, Networking, Security, Storage, Web, Other)"
            ));
        }
    })
}

/// The columns that identify a charge. A re-export of the same charge has the same values.
const IDENTITY_TEXT: &[&str] = &[
    "BillingAccountId",
    "SubAccountId",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ServiceName",
    "ResourceId",
    "SkuId",
    "SkuPriceId",
    "RegionId",
    "AvailabilityZone",
    "CommitmentDiscountId",
    "CapacityReservationId",
    "PricingCategory",
    "PricingUnit",
    "BillingCurrency",
    "InvoiceId",
];

pub(crate) fn map(row: &mut Row<'_>) -> Option<Draft> {
    let provider_col = row.first_present(&["ServiceProviderName", "ProviderName"]);
    let provider = row.req(provider_col);
    let service = row.req("ServiceName");
    let start = row.req_timestamp("ChargePeriodStart");
    let end = row.req_timestamp("ChargePeriodEnd");
    let period_start = row.req_timestamp("BillingPeriodStart");
    let _period_end = row.req_timestamp("BillingPeriodEnd");
    let billed = row.req_decimal("BilledCost");
    let currency = row.req_currency("BillingCurrency");
    let account = row.req("BillingAccountId");
    let quantity = row.decimal("PricingQuantity");
    // Validated (exact decimals), kept as labels with the text as written.
    for column in ["EffectiveCost", "ListCost", "ContractedCost"] {
        row.decimal(column);
    }
    let charge_category = row.req("ChargeCategory");
    if let Some(c) = charge_category
        && !CHARGE_CATEGORIES.contains(&c)
    {
        row.err(
            "ChargeCategory",
            format!("{c:?} is not one of {}", CHARGE_CATEGORIES.join(", ")),
        );
    }
    let charge_class = row.opt("ChargeClass");
    if let Some(c) = charge_class
        && c != "Correction"
    {
        row.err(
            "ChargeClass",
            format!("{c:?} is not a ChargeClass (Correction or null)"),
        );
    }
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        row.err("ChargePeriodEnd", "is before ChargePeriodStart");
    }
    let category = match row.req("ServiceCategory") {
        Some(sc) => category(sc, row.opt("ServiceSubcategory"))
            .map_err(|r| row.err("ServiceCategory", r))
            .ok(),
        None => None,
    };

    let mut labels = Labels::default();
    labels.set("billing_account", account, "BillingAccountId");
    labels.set("sub_account", row.opt("SubAccountId"), "SubAccountId");
    let region_col = row.first_present(&["RegionId", "RegionName"]);
    let region = row.opt("RegionId").or_else(|| row.opt("RegionName"));
    labels.set("region", region, region_col);
    labels.set("charge_category", charge_category, "ChargeCategory");
    labels.set("charge_class", charge_class, "ChargeClass");
    labels.set(
        "service_category",
        row.opt("ServiceCategory"),
        "ServiceCategory",
    );
    let period = period_start.map(|p| p.format("%Y-%m-%d").to_string());
    labels.set("billing_period", period.as_deref(), "BillingPeriodStart");
    labels.set("effective_cost", row.opt("EffectiveCost"), "EffectiveCost");
    labels.set("list_cost", row.opt("ListCost"), "ListCost");
    labels.set(
        "contracted_cost",
        row.opt("ContractedCost"),
        "ContractedCost",
    );
    if row.opt("ResourceId").is_some() {
        labels.set("resource_name", row.opt("ResourceName"), "ResourceName");
    }
    if let Some(tags) = row.opt("Tags") {
        match labels.tags_json(tags, "Tags") {
            Ok(()) if labels.len() > MAX_LABELS => row.err(
                "Tags",
                format!(
                    "gives {} labels with the importer's own; an event holds at most {MAX_LABELS}",
                    labels.len()
                ),
            ),
            Ok(()) => {}
            Err(r) => row.err("Tags", r),
        }
    }

    let mut identity = Identity::default();
    for column in IDENTITY_TEXT {
        identity.text(column, row.opt(column));
    }
    identity.text("ProviderName", provider);
    identity.time("ChargePeriodStart", start);
    identity.time("ChargePeriodEnd", end);
    identity.time("BillingPeriodStart", period_start);
    identity.decimal("PricingQuantity", quantity);
    identity.decimal("BilledCost", billed);
    identity.text("Tags", row.opt("Tags"));

    let resource_col = if row.opt("ResourceId").is_some() {
        "ResourceId"
    } else {
        "ResourceName"
    };
    let resource = row
        .opt("ResourceId")
        .or_else(|| row.opt("ResourceName"))
        .unwrap_or(NONE);
    let metric_col = if row.opt("ChargeDescription").is_some() {
        "ChargeDescription"
    } else {
        "ChargeCategory"
    };
    let metric = row
        .opt("ChargeDescription")
        .or(charge_category)
        .unwrap_or(NONE);
    let (category, sub_kind) = category?;
    Some(Draft {
        id: identity.event_id("focus"),
        tenant: Field::new(NONE, ""),
        timestamp: start?,
        timestamp_column: "ChargePeriodStart".into(),
        category,
        category_column: "ServiceCategory".into(),
        sub_kind,
        provider: Field::new(&provider?.to_ascii_lowercase(), provider_col),
        service: Field::new(service?, "ServiceName"),
        resource: Field::new(resource, resource_col),
        metric: Field::new(metric, metric_col),
        unit: Field::new(row.opt("PricingUnit").unwrap_or(NONE), "PricingUnit"),
        // A null PricingQuantity (taxes, some credits) measures nothing.
        quantity: quantity.unwrap_or(Decimal::ZERO),
        quantity_column: "PricingQuantity".into(),
        cost: billed?,
        cost_column: "BilledCost".into(),
        currency: Field::new(currency?, "BillingCurrency"),
        labels,
    })
}
