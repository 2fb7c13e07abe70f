//! Azure Cost Management Query API: daily actual cost of a scope, grouped by service, resource
//! group, resource and meter category.
//!
//! `POST {base}/{scope}/providers/Microsoft.CostManagement/query?api-version=2023-11-01` with
//! `{"type":"ActualCost","timeframe":"Custom","timePeriod":{from,to},"dataset":{"granularity":
//! "Daily","aggregation":{"totalCost":{"name":"Cost","function":"Sum"}},"grouping":[…]}}`. The
//! answer is a table: `properties.columns` (`[{name,type}]`) and `properties.rows` (arrays in
//! column order; `UsageDate` a number such as 20240501; a `Currency` column), and
//! `properties.nextLink`, POSTed again with the same body for the next page.

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_domain::TenantId;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::event::{Draft, Events, Identity, NONE, classify, day_start, raw_decimal, raw_text};
use crate::http::{ApiClient, ClientConfig, Throttle, Token};
use crate::{Fetched, PollError, Source, Window};

pub const PROVIDER: &str = "azure";
pub const API_VERSION: &str = "2023-11-01";
pub const DEFAULT_BASE: &str = "https://management.azure.com";
/// Cost Management's throttling headers (seconds to wait), besides `Retry-After`.
pub const RETRY_HEADERS: &[&str] = &[
    "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after",
];
pub const DEFAULT_GROUPING: &[&str] = &[
    "ServiceName",
    "ResourceGroupName",
    "ResourceId",
    "MeterCategory",
];
/// Names the cost aggregation column may have (ActualCost answers `Cost`, Usage `PreTaxCost`).
const COST_COLUMNS: &[&str] = &[
    "Cost",
    "PreTaxCost",
    "totalCost",
    "CostUSD",
    "PreTaxCostUSD",
];

#[derive(Debug, Clone)]
pub struct AzureConfig {
    /// e.g. `subscriptions/{id}`, `subscriptions/{id}/resourceGroups/{rg}`,
    /// `providers/Microsoft.Billing/billingAccounts/{id}`.
    pub scope: String,
    pub base_url: String,
    /// Dimensions to group by (defaults: [`DEFAULT_GROUPING`]).
    pub grouping: Vec<String>,
}

impl AzureConfig {
    pub fn new(scope: impl Into<String>) -> AzureConfig {
        AzureConfig {
            scope: scope.into(),
            base_url: DEFAULT_BASE.into(),
            grouping: DEFAULT_GROUPING.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The query body for `window` (days inclusive).
pub fn query_body(window: Window, grouping: &[String]) -> Value {
    let grouping: Vec<Value> = grouping
        .iter()
        .map(|g| json!({"type": "Dimension", "name": g}))
        .collect();
    json!({
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {
            "from": format!("{}T00:00:00+00:00", window.from.format("%Y-%m-%d")),
            "to": format!("{}T23:59:59+00:00", window.to.format("%Y-%m-%d")),
        },
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": grouping,
        },
    })
}

#[derive(Debug, Deserialize)]
pub struct QueryResult {
    pub properties: QueryProperties,
}

#[derive(Debug, Deserialize)]
pub struct QueryProperties {
    #[serde(rename = "nextLink", default)]
    pub next_link: Option<String>,
    pub columns: Vec<QueryColumn>,
    /// Cells kept as raw JSON so amounts are read from their text (see `event::raw_decimal`).
    #[serde(default)]
    pub rows: Vec<Vec<Box<RawValue>>>,
}

#[derive(Debug, Deserialize)]
pub struct QueryColumn {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

pub fn parse_page(body: &[u8]) -> Result<QueryResult, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// `20240501`, `"20240501"` or `"2024-05-01T00:00:00"` → the day.
fn usage_date(raw: &RawValue) -> Result<NaiveDate, String> {
    let text = raw_text(raw).ok_or("UsageDate is empty")?;
    let digits: String = text.chars().filter(char::is_ascii_digit).take(8).collect();
    NaiveDate::parse_from_str(&digits, "%Y%m%d").map_err(|_| format!("UsageDate {text:?}"))
}

/// One page of rows → `(day, event)`s. Pure: no I/O.
pub fn map_rows(
    scope: &str,
    page: &QueryProperties,
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, Value)>, String> {
    let col = |names: &[&str]| {
        page.columns
            .iter()
            .position(|c| names.iter().any(|n| c.name.eq_ignore_ascii_case(n)))
    };
    let cost_i = col(COST_COLUMNS).ok_or("no cost column (Cost or PreTaxCost) in the answer")?;
    let date_i = col(&["UsageDate"]).ok_or("no UsageDate column (granularity Daily)")?;
    let currency_i = col(&["Currency", "BillingCurrency"]).ok_or("no Currency column")?;
    let mut out = Events::new(tenant, now, page.rows.len());
    for (n, row) in page.rows.iter().enumerate() {
        let cell = |i: usize| row.get(i).ok_or_else(|| format!("row {n}: too few cells"));
        let text = |name: &str| {
            col(&[name])
                .and_then(|i| row.get(i))
                .and_then(|r| raw_text(r))
        };
        let cost = raw_decimal(cell(cost_i)?)
            .map_err(|e| format!("row {n}: cost: {e}"))?
            .unwrap_or(Decimal::ZERO);
        let day = usage_date(cell(date_i)?).map_err(|e| format!("row {n}: {e}"))?;
        let currency = raw_text(cell(currency_i)?).ok_or(format!("row {n}: no currency"))?;
        let service = text("ServiceName");
        let meter = text("MeterCategory");
        let resource_id = text("ResourceId");
        let group = text("ResourceGroupName").or_else(|| text("ResourceGroup"));

        let mut identity = Identity::default();
        identity.text("scope", Some(scope));
        identity.text("UsageDate", Some(&day.format("%Y-%m-%d").to_string()));
        // Every grouping column (whatever the configuration), in the answer's column order.
        for (i, c) in page.columns.iter().enumerate() {
            if i != cost_i && i != date_i {
                identity.text(&c.name, row.get(i).and_then(|r| raw_text(r)).as_deref());
            }
        }
        let (category, sub_kind) = classify(meter.as_deref().or(service.as_deref()).unwrap_or(""));
        let mut draft = Draft {
            id: identity.event_id("azure"),
            timestamp: day_start(day),
            category,
            sub_kind,
            provider: PROVIDER,
            service: service.clone().unwrap_or_else(|| NONE.into()),
            resource: resource_id
                .clone()
                .or_else(|| group.clone())
                .unwrap_or_else(|| NONE.into()),
            metric: meter.clone().unwrap_or_else(|| "cost".into()),
            unit: NONE.into(),
            quantity: Decimal::ZERO,
            cost,
            currency,
            labels: Default::default(),
        };
        draft.label("scope", Some(scope));
        draft.label("resource_group", group.as_deref());
        draft.label("meter_category", meter.as_deref());
        draft.label("cost_type", Some("ActualCost"));
        draft.label("granularity", Some("daily"));
        out.push(day, draft, || format!("row {n} ({day})"))?;
    }
    Ok(out.into_vec())
}

/// The Azure poller for one scope.
pub struct AzureSource {
    config: AzureConfig,
    client: ApiClient,
}

impl AzureSource {
    pub fn new(config: AzureConfig, token: Token, http: ClientConfig) -> Result<Self, PollError> {
        let client = ApiClient::new(
            PROVIDER,
            &config.base_url,
            token,
            Throttle::SecondsHeaders(RETRY_HEADERS),
            http,
        )?;
        Ok(AzureSource { config, client })
    }

    fn scope_path(&self) -> String {
        self.config.scope.trim_matches('/').to_string()
    }
}

impl Source for AzureSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn scope(&self) -> String {
        self.scope_path()
    }

    async fn fetch(
        &self,
        window: Window,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<Fetched, PollError> {
        let scope = self.scope_path();
        let body = query_body(window, &self.config.grouping);
        let mut url = self.client.url(&format!(
            "{scope}/providers/Microsoft.CostManagement/query?api-version={API_VERSION}"
        ))?;
        let mut events = Vec::new();
        for page_no in 1.. {
            let what = format!("cost query page {page_no}");
            let page: QueryResult = self
                .client
                .send_json(Method::POST, url, Some(&body), &what)
                .await?;
            let mapped = map_rows(&scope, &page.properties, tenant, now)
                .map_err(PollError::mapping(PROVIDER))?;
            events.extend(mapped);
            // nextLink is POSTed again with the same body.
            match self
                .client
                .next_page(page.properties.next_link.as_deref())?
            {
                Some(next) => url = next,
                None => break,
            }
        }
        Ok(Fetched {
            events,
            complete_through: Some(window.to),
        })
    }
}
