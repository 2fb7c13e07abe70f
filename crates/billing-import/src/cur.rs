//! AWS CUR 2.0 rows → usage events. Legacy CUR (`lineItem/UsageStartDate`,
//! `resourceTags/user:team`) is read through the same mapping: its column names are normalised
//! to the CUR 2.0 snake_case names (`line_item_usage_start_date`), and its per-tag columns
//! become tags, as CUR 2.0's `resource_tags` map column does.

use costwatch_domain::validate::MAX_LABELS;
use costwatch_domain::{Category, SubKind};
use rust_decimal::Decimal;

use crate::draft::{Draft, Field, Identity, Labels, NONE};
use crate::row::{Columns, Row};

const MANDATORY: &[&str] = &[
    "bill_payer_account_id",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "line_item_currency_code",
];

/// Legacy CUR per-tag columns, kept under this prefix after normalisation.
const LEGACY_TAG_PREFIX: &str = "resource_tags/";

/// `lineItem/UsageStartDate` → `line_item_usage_start_date`; CUR 2.0 names are unchanged.
pub(crate) fn normalise_column(name: &str) -> String {
    match name.split_once('/') {
        Some((group, tag)) if group.eq_ignore_ascii_case("resourceTags") => {
            format!("{LEGACY_TAG_PREFIX}{tag}")
        }
        Some((group, attribute)) => format!("{}_{}", snake(group), snake(attribute)),
        None => name.to_string(),
    }
}

fn snake(camel: &str) -> String {
    let chars: Vec<char> = camel.chars().collect();
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if prev_lower || (prev_upper && next_lower) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn missing_columns(cols: &Columns) -> Vec<(String, String)> {
    MANDATORY
        .iter()
        .filter(|c| !cols.has(c))
        .map(|c| {
            (
                c.to_string(),
                "mandatory CUR column is missing (legacy lineItem/... names are accepted too)"
                    .to_string(),
            )
        })
        .collect()
}

/// Our category for an AWS product code; the sub-kind when the product family says it.
pub(crate) fn category(product_code: &str, family: Option<&str>) -> (Category, Option<SubKind>) {
    use Category::*;
    let family = family.unwrap_or("");
    let hosting_kind = if product_code == "AmazonCloudFront" {
        Some(SubKind::Cdn)
    } else if family.contains("Data Transfer") || family.contains("Load Balancer") {
        Some(SubKind::Network)
    } else if family.starts_with("Storage") {
        Some(SubKind::Storage)
    } else if family.contains("Compute") {
        Some(SubKind::Compute)
    } else {
        None
    };
    match product_code {
        "AmazonEC2"
        | "AWSLambda"
        | "AmazonECS"
        | "AmazonEKS"
        | "AmazonLightsail"
        | "AWSElasticBeanstalk"
        | "AWSAppRunner"
        | "AmazonS3"
        | "AmazonEFS"
        | "AmazonFSx"
        | "AWSBackup"
        | "AmazonS3GlacierDeepArchive"
        | "AmazonGlacier"
        | "AmazonCloudFront"
        | "AmazonVPC"
        | "AWSELB"
        | "AWSDataTransfer"
        | "AmazonRoute53"
        | "AWSGlobalAccelerator" => (Hosting, hosting_kind),
        "AmazonRDS"
        | "AmazonDynamoDB"
        | "AmazonElastiCache"
        | "AmazonRedshift"
        | "AmazonDocDB"
        | "AmazonNeptune"
        | "AmazonMCS"
        | "AmazonTimestream"
        | "AmazonMemoryDB"
        | "AmazonAthena"
        | "AWSGlue"
        | "AmazonES"
        | "AmazonOpenSearchService" => (Database, database_kind(family)),
        "AmazonApiGateway" | "AWSQueueService" | "AmazonSNS" | "AmazonSES" | "AmazonBedrock"
        | "AmazonSageMaker" | "AmazonRekognition" | "comprehend" | "AmazonPolly" | "translate"
        | "transcribe" | "AmazonTextract" | "AWSEvents" | "AmazonStates" | "AWSIoT"
        | "AmazonKinesis" | "AmazonCognito" | "awskms" | "AWSSecretsManager" => (Api, None),
        _ => (Other, None),
    }
}

/// Database sub-kinds by product family (DynamoDB, RDS and friends name them plainly).
fn database_kind(family: &str) -> Option<SubKind> {
    if family.contains("Throughput") || family.contains("I/O") || family.contains("Query") {
        Some(SubKind::Queries)
    } else if family.contains("Backup") || family.contains("Snapshot") {
        Some(SubKind::BackupReplication)
    } else if family.contains("Storage") {
        Some(SubKind::Storage)
    } else if family.contains("Data Transfer") {
        Some(SubKind::DataTransfer)
    } else {
        None
    }
}

const IDENTITY_TEXT: &[&str] = &[
    "bill_payer_account_id",
    "bill_bill_type",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_availability_zone",
    "line_item_line_item_description",
    "line_item_tax_type",
    "line_item_currency_code",
    "pricing_rate_id",
    "product_sku",
    "savings_plan_savings_plan_arn",
    "reservation_subscription_id",
    "resource_tags",
];

pub(crate) fn map(row: &mut Row<'_>) -> Option<Draft> {
    let start = row.req_timestamp("line_item_usage_start_date");
    let end = row.req_timestamp("line_item_usage_end_date");
    let period_start = row.timestamp("bill_billing_period_start_date");
    let payer = row.req("bill_payer_account_id");
    let account = row.req("line_item_usage_account_id");
    let item_type = row.req("line_item_line_item_type");
    let product = row.req("line_item_product_code");
    let quantity = row.decimal("line_item_usage_amount");
    let cost = row.req_decimal("line_item_unblended_cost");
    let currency = row.req_currency("line_item_currency_code");
    for column in [
        "line_item_blended_cost",
        "line_item_net_unblended_cost",
        "pricing_public_on_demand_cost",
    ] {
        row.decimal(column);
    }
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        row.err(
            "line_item_usage_end_date",
            "is before line_item_usage_start_date",
        );
    }

    let mut labels = Labels::default();
    labels.set("billing_account", payer, "bill_payer_account_id");
    labels.set("sub_account", account, "line_item_usage_account_id");
    let region_col = row.first_present(&["product_region_code", "product_region"]);
    let region = row
        .opt("product_region_code")
        .or_else(|| row.opt("product_region"));
    labels.set("region", region, region_col);
    labels.set("charge_category", item_type, "line_item_line_item_type");
    let period = period_start.map(|p| p.format("%Y-%m-%d").to_string());
    labels.set(
        "billing_period",
        period.as_deref(),
        "bill_billing_period_start_date",
    );
    for (label, column) in [
        ("blended_cost", "line_item_blended_cost"),
        ("net_unblended_cost", "line_item_net_unblended_cost"),
        ("list_cost", "pricing_public_on_demand_cost"),
    ] {
        labels.set(label, row.opt(column), column);
    }
    let mut tags_ok = true;
    if let Some(tags) = row.opt("resource_tags")
        && let Err(r) = labels.tags_json(tags, "resource_tags")
    {
        row.err("resource_tags", r);
        tags_ok = false;
    }
    let mut legacy_tags = String::new();
    for (i, name) in row.cols.names.iter().enumerate() {
        if let Some(key) = name.strip_prefix(LEGACY_TAG_PREFIX)
            && let Some(value) = row.record.get(i).map(str::trim).filter(|v| !v.is_empty())
        {
            labels.tag(key, value, name);
            legacy_tags.push_str(&format!("{key}={value};"));
        }
    }
    if tags_ok && labels.len() > MAX_LABELS {
        row.err(
            "resource_tags",
            format!(
                "gives {} labels with the importer's own; an event holds at most {MAX_LABELS}",
                labels.len()
            ),
        );
    }

    let mut identity = Identity::default();
    for column in IDENTITY_TEXT {
        identity.text(column, row.opt(column));
    }
    identity.text("legacy_tags", Some(&legacy_tags));
    identity.time("line_item_usage_start_date", start);
    identity.time("line_item_usage_end_date", end);
    identity.time("bill_billing_period_start_date", period_start);
    identity.decimal("line_item_usage_amount", quantity);
    identity.decimal("line_item_unblended_cost", cost);

    let marketplace = row
        .opt("bill_billing_entity")
        .is_some_and(|e| e.eq_ignore_ascii_case("AWS Marketplace"));
    let (category, sub_kind) = match product {
        Some(_) if marketplace => (Category::ThirdParty, None),
        Some(p) => category(p, row.opt("product_product_family")),
        None => (Category::Other, None),
    };
    let resource_present = row.opt("line_item_resource_id");
    let metric_col = if row.opt("line_item_usage_type").is_some() {
        "line_item_usage_type"
    } else {
        "line_item_line_item_type"
    };
    let metric = row
        .opt("line_item_usage_type")
        .or(item_type)
        .unwrap_or(NONE);
    let unit_col = row.first_present(&["pricing_unit", "product_pricing_unit"]);
    let unit = row
        .opt("pricing_unit")
        .or_else(|| row.opt("product_pricing_unit"))
        .unwrap_or(NONE);
    Some(Draft {
        id: identity.event_id("cur"),
        tenant: Field::new(NONE, ""),
        timestamp: start?,
        timestamp_column: "line_item_usage_start_date".into(),
        category,
        category_column: "line_item_product_code".into(),
        sub_kind,
        provider: Field::new("aws", "bill_billing_entity"),
        service: Field::new(product?, "line_item_product_code"),
        resource: Field::new(resource_present.unwrap_or(NONE), "line_item_resource_id"),
        metric: Field::new(metric, metric_col),
        unit: Field::new(unit, unit_col),
        quantity: quantity.unwrap_or(Decimal::ZERO),
        quantity_column: "line_item_usage_amount".into(),
        cost: cost?,
        cost_column: "line_item_unblended_cost".into(),
        currency: Field::new(currency?, "line_item_currency_code"),
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_normalise_to_cur2_names() {
        for (legacy, cur2) in [
            ("lineItem/UsageStartDate", "line_item_usage_start_date"),
            ("lineItem/LineItemType", "line_item_line_item_type"),
            ("bill/PayerAccountId", "bill_payer_account_id"),
            (
                "bill/BillingPeriodStartDate",
                "bill_billing_period_start_date",
            ),
            (
                "pricing/publicOnDemandCost",
                "pricing_public_on_demand_cost",
            ),
            ("product/regionCode", "product_region_code"),
            ("product/servicecode", "product_servicecode"),
            ("identity/LineItemId", "identity_line_item_id"),
            ("line_item_usage_amount", "line_item_usage_amount"),
            ("resourceTags/user:team", "resource_tags/user:team"),
        ] {
            assert_eq!(normalise_column(legacy), cur2, "{legacy}");
        }
    }
}
