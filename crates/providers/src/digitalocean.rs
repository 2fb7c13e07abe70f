//! DigitalOcean billing: monthly invoices, one event per invoice item.
//!
//! `GET {base}/v2/customers/my/invoices` lists invoices (`invoice_uuid`, `invoice_period`
//! "2020-01", paged by `links.pages.next`; the month in progress is `invoice_preview`, which is
//! not final and never sent). `GET {base}/v2/customers/my/invoices/{uuid}` gives the items
//! (`invoice_items`, paged the same way). Amounts are decimal strings.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use costwatch_domain::TenantId;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::event::{Draft, Events, Identity, NONE, classify, day_start, raw_decimal};
use crate::http::{ApiClient, ClientConfig, Throttle, Token};
use crate::{Fetched, PollError, Source, Window};

pub const PROVIDER: &str = "digitalocean";
pub const DEFAULT_BASE: &str = "https://api.digitalocean.com";
/// DigitalOcean's throttling header: the Unix time at which the limit resets.
pub const RESET_HEADER: &str = "ratelimit-reset";
const PER_PAGE: u32 = 100;

#[derive(Debug, Clone)]
pub struct DigitalOceanConfig {
    pub base_url: String,
    /// Name of the account in checkpoints (the token decides which account is read).
    pub account: String,
}

impl Default for DigitalOceanConfig {
    fn default() -> Self {
        DigitalOceanConfig {
            base_url: DEFAULT_BASE.into(),
            account: "my".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct InvoiceList {
    #[serde(default)]
    pub invoices: Vec<InvoiceSummary>,
    #[serde(default)]
    pub links: Links,
}

#[derive(Debug, Deserialize)]
pub struct InvoiceSummary {
    pub invoice_uuid: String,
    pub invoice_period: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub pages: Pages,
}

#[derive(Debug, Default, Deserialize)]
pub struct Pages {
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct InvoicePage {
    #[serde(default)]
    pub invoice_items: Vec<InvoiceItem>,
    #[serde(default)]
    pub links: Links,
}

// A missing `Option` field is `None` without `#[serde(default)]` (serde's derive does that).
#[derive(Debug, Deserialize)]
pub struct InvoiceItem {
    pub product: Option<String>,
    pub resource_id: Option<String>,
    pub resource_uuid: Option<String>,
    pub group_description: Option<String>,
    pub description: Option<String>,
    /// Raw so the amount is read from its text, whether a string or a number.
    pub amount: Box<RawValue>,
    pub duration: Option<Box<RawValue>>,
    pub duration_unit: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub project_name: Option<String>,
    pub category: Option<String>,
}

/// `"2020-01"` → (first day, last day) of the month.
pub fn period_days(period: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", period.trim()), "%Y-%m-%d")
        .map_err(|_| format!("invoice_period {period:?} is not YYYY-MM"))?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    let last = next
        .map(|n| n - Duration::days(1))
        .ok_or("invoice_period out of range")?;
    Ok((first, last))
}

fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|v| !v.trim().is_empty())
}

/// An invoice's items (every page, in order) → events. Pure: no I/O.
///
/// The id is derived from the item's identity (product, resource, descriptions, times, duration,
/// period), not from the invoice uuid nor the amount: a re-issued invoice repeats its items with
/// the same ids, so they are not counted twice. Identical items in one invoice are told apart by
/// their rank among the identical ones.
pub fn map_items(
    invoice_uuid: &str,
    invoice_period: &str,
    items: &[InvoiceItem],
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, Value)>, String> {
    let (first_day, last_day) = period_days(invoice_period)?;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut out = Events::new(tenant, now, items.len());
    for (n, item) in items.iter().enumerate() {
        let amount = raw_decimal(&item.amount)
            .map_err(|e| format!("item {n}: amount: {e}"))?
            .ok_or(format!("item {n}: no amount"))?;
        let duration = match &item.duration {
            Some(d) => raw_decimal(d).map_err(|e| format!("item {n}: duration: {e}"))?,
            None => None,
        };
        let resource = opt(&item.resource_uuid).or(opt(&item.resource_id));
        let mut identity = Identity::default();
        identity.text("invoice_period", Some(invoice_period.trim()));
        identity.text("product", opt(&item.product));
        identity.text("resource", resource);
        identity.text("group_description", opt(&item.group_description));
        identity.text("description", opt(&item.description));
        identity.text("start_time", opt(&item.start_time));
        identity.text("end_time", opt(&item.end_time));
        let dur = duration.map(|d| d.normalize().to_string());
        identity.text("duration", dur.as_deref());
        identity.text("duration_unit", opt(&item.duration_unit));
        identity.text("project_name", opt(&item.project_name));
        let rank = seen.entry(identity.key()).or_insert(0);
        *rank += 1;
        identity.text("rank", Some(&rank.to_string()));

        let product = opt(&item.product).unwrap_or(NONE);
        let (category, sub_kind) = classify(product);
        let timestamp = time(opt(&item.start_time)).unwrap_or_else(|| day_start(first_day));
        let mut draft = Draft {
            id: identity.event_id("digitalocean"),
            timestamp,
            category,
            sub_kind,
            provider: PROVIDER,
            service: product.to_string(),
            resource: resource
                .or(opt(&item.group_description))
                .unwrap_or(NONE)
                .to_string(),
            metric: opt(&item.description).unwrap_or(product).to_string(),
            unit: opt(&item.duration_unit).unwrap_or(NONE).to_string(),
            quantity: duration.unwrap_or(Decimal::ZERO),
            cost: amount,
            currency: "USD".into(),
            labels: Default::default(),
        };
        draft.label("invoice_uuid", Some(invoice_uuid));
        draft.label(
            "billing_period",
            Some(&first_day.format("%Y-%m-%d").to_string()),
        );
        draft.label("group_description", opt(&item.group_description));
        draft.label("project", opt(&item.project_name));
        draft.label("product_category", opt(&item.category));
        draft.label("end_time", opt(&item.end_time));
        // Monthly charges belong to the month's last day: sent once the month has closed.
        out.push(last_day, draft, || {
            format!("invoice {invoice_uuid} item {n}")
        })?;
    }
    Ok(out.into_vec())
}

/// The DigitalOcean poller for one account (token).
pub struct DigitalOceanSource {
    config: DigitalOceanConfig,
    client: ApiClient,
}

impl DigitalOceanSource {
    pub fn new(
        config: DigitalOceanConfig,
        token: Token,
        http: ClientConfig,
    ) -> Result<Self, PollError> {
        let client = ApiClient::new(
            PROVIDER,
            &config.base_url,
            token,
            Throttle::ResetAtHeader(RESET_HEADER),
            http,
        )?;
        Ok(DigitalOceanSource { config, client })
    }
}

impl Source for DigitalOceanSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn scope(&self) -> String {
        format!("customers/{}", self.config.account)
    }

    async fn fetch(
        &self,
        window: Window,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<Fetched, PollError> {
        // Every issued invoice whose month ends inside the window.
        let mut wanted = Vec::new();
        let mut url = self
            .client
            .url(&format!("v2/customers/my/invoices?per_page={PER_PAGE}"))?;
        for page_no in 1.. {
            let what = format!("invoice list page {page_no}");
            let list: InvoiceList = self.client.send_json(Method::GET, url, None, &what).await?;
            for inv in list.invoices {
                let (_, last) =
                    period_days(&inv.invoice_period).map_err(|message| PollError::Response {
                        provider: PROVIDER,
                        what: "invoice list".into(),
                        message,
                    })?;
                if last >= window.from && last <= window.to {
                    wanted.push((last, inv));
                }
            }
            match self.client.next_page(list.links.pages.next.as_deref())? {
                Some(next) => url = next,
                None => break,
            }
        }
        wanted.sort_by_key(|a| a.0);
        let mut events = Vec::new();
        let mut complete_through = None;
        for (last, inv) in wanted {
            let mut items = Vec::new();
            let mut url = self.client.url(&format!(
                "v2/customers/my/invoices/{}?per_page={PER_PAGE}",
                inv.invoice_uuid
            ))?;
            for page_no in 1.. {
                let what = format!("invoice {} page {page_no}", inv.invoice_uuid);
                let page: InvoicePage =
                    self.client.send_json(Method::GET, url, None, &what).await?;
                items.extend(page.invoice_items);
                match self.client.next_page(page.links.pages.next.as_deref())? {
                    Some(next) => url = next,
                    None => break,
                }
            }
            let mapped = map_items(&inv.invoice_uuid, &inv.invoice_period, &items, tenant, now)
                .map_err(PollError::mapping(PROVIDER))?;
            events.extend(mapped);
            complete_through = Some(last);
        }
        Ok(Fetched {
            events,
            complete_through,
        })
    }
}
