//! Google Cloud billing from the Cloud Billing export to BigQuery (standard usage cost table).
//!
//! `POST {base}/bigquery/v2/projects/{project}/queries` (jobs.query) runs a daily roll-up of the
//! export table; `jobComplete`, `schema.fields`, `rows: [{f:[{v}]}]`, `jobReference.jobId` and
//! `pageToken` come back; further pages (or a job not complete yet) are read with
//! `GET …/projects/{project}/queries/{jobId}?pageToken=…` (jobs.getQueryResults). Sums are
//! computed as NUMERIC and returned as strings, so amounts are exact decimals.
//!
//! Authentication is a bearer access token from the configuration (e.g.
//! `gcloud auth print-access-token`); the service-account JWT flow is not implemented.

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

pub const PROVIDER: &str = "gcp";
pub const DEFAULT_BASE: &str = "https://bigquery.googleapis.com";
/// How many times a job that is not complete yet is asked again.
const MAX_INCOMPLETE_POLLS: u32 = 60;
const MAX_RESULTS: u32 = 10_000;

#[derive(Debug, Clone)]
pub struct GcpConfig {
    /// Project that runs (and pays for) the query.
    pub project: String,
    /// The export table, `project.dataset.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX`.
    pub table: String,
    /// Dataset location (e.g. `US`, `EU`), when not the default.
    pub location: Option<String>,
    pub base_url: String,
}

impl GcpConfig {
    pub fn new(project: impl Into<String>, table: impl Into<String>) -> GcpConfig {
        GcpConfig {
            project: project.into(),
            table: table.into(),
            location: None,
            base_url: DEFAULT_BASE.into(),
        }
    }
}

/// The daily roll-up over the export table; `@from_day`/`@to_day` are DATE parameters.
pub fn query_sql(table: &str) -> Result<String, String> {
    let ok = !table.is_empty()
        && table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        return Err(format!(
            "table {table:?} must be project.dataset.table (letters, digits, '_', '-', '.')"
        ));
    }
    Ok(format!(
        "SELECT
  FORMAT_DATE('%Y-%m-%d', DATE(usage_start_time)) AS usage_day,
  service.id AS service_id,
  service.description AS service,
  sku.id AS sku_id,
  sku.description AS sku,
  project.id AS project_id,
  currency,
  CAST(SUM(CAST(cost AS NUMERIC)) AS STRING) AS cost,
  CAST(SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS STRING) AS credits,
  CAST(SUM(CAST(usage.amount_in_pricing_units AS NUMERIC)) AS STRING) AS usage_amount,
  ANY_VALUE(usage.pricing_unit) AS usage_unit
FROM `{table}`
WHERE usage_start_time >= TIMESTAMP(@from_day)
  AND usage_start_time < TIMESTAMP(DATE_ADD(@to_day, INTERVAL 1 DAY))
GROUP BY usage_day, service_id, service, sku_id, sku, project_id, currency
ORDER BY usage_day, service_id, sku_id, project_id, currency"
    ))
}

/// The jobs.query request for `window` (days inclusive).
pub fn query_request(config: &GcpConfig, window: Window) -> Result<Value, String> {
    let date = |name: &str, d: NaiveDate| {
        json!({
            "name": name,
            "parameterType": {"type": "DATE"},
            "parameterValue": {"value": d.format("%Y-%m-%d").to_string()},
        })
    };
    let mut body = json!({
        "query": query_sql(&config.table)?,
        "useLegacySql": false,
        "parameterMode": "NAMED",
        "queryParameters": [date("from_day", window.from), date("to_day", window.to)],
        "maxResults": MAX_RESULTS,
        "timeoutMs": 60_000,
    });
    if let (Some(loc), Some(obj)) = (&config.location, body.as_object_mut()) {
        obj.insert("location".into(), loc.clone().into());
    }
    Ok(body)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    #[serde(default)]
    pub job_complete: bool,
    #[serde(default)]
    pub job_reference: Option<JobReference>,
    #[serde(default)]
    pub schema: Option<Schema>,
    #[serde(default)]
    pub rows: Vec<Row>,
    #[serde(default)]
    pub page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReference {
    pub job_id: String,
    #[serde(default)]
    pub location: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Schema {
    pub fields: Vec<Field>,
}

#[derive(Debug, Deserialize)]
pub struct Field {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Row {
    pub f: Vec<Cell>,
}

#[derive(Debug, Deserialize)]
pub struct Cell {
    /// Raw: BigQuery sends every scalar as a string (or null); kept as text either way.
    pub v: Box<RawValue>,
}

/// One page of rows → `(day, event)`s (a cost event per row, and a credit event when the row
/// has credits). Pure: no I/O.
pub fn map_rows(
    fields: &[Field],
    rows: &[Row],
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, Value)>, String> {
    let index = |name: &str| fields.iter().position(|f| f.name == name);
    let need = |name: &str| index(name).ok_or(format!("the answer has no {name} column"));
    let (day_i, currency_i) = (need("usage_day")?, need("currency")?);
    need("cost")?;
    let mut out = Events::new(tenant, now, rows.len());
    for (n, row) in rows.iter().enumerate() {
        let cell = |i: Option<usize>| i.and_then(|i| row.f.get(i)).map(|c| &*c.v);
        let text = |name: &str| cell(index(name)).and_then(raw_text);
        let dec = |name: &str| -> Result<Option<Decimal>, String> {
            match cell(index(name)) {
                Some(v) => raw_decimal(v).map_err(|e| format!("row {n}: {name}: {e}")),
                None => Ok(None),
            }
        };
        let day_text = cell(Some(day_i))
            .and_then(raw_text)
            .ok_or(format!("row {n}: no day"))?;
        let day = NaiveDate::parse_from_str(&day_text, "%Y-%m-%d")
            .map_err(|_| format!("row {n}: usage_day {day_text:?}"))?;
        let cost = dec("cost")?.unwrap_or(Decimal::ZERO);
        let credits = dec("credits")?.unwrap_or(Decimal::ZERO);
        let currency = cell(Some(currency_i))
            .and_then(raw_text)
            .ok_or(format!("row {n}: no currency"))?;
        let service = text("service");
        let sku = text("sku");
        let project = text("project_id");

        let mut identity = Identity::default();
        identity.text("usage_day", Some(&day_text));
        for name in ["service_id", "sku_id", "project_id", "currency"] {
            identity.text(name, text(name).as_deref());
        }
        let (category, sub_kind) = classify(service.as_deref().unwrap_or(""));
        let draft = |kind: &str, amount: Decimal, quantity: Decimal, unit: Option<String>| {
            let mut id = Identity::default();
            id.text("base", Some(&identity.key()));
            id.text("kind", Some(kind));
            let mut d = Draft {
                id: id.event_id("gcp"),
                timestamp: day_start(day),
                category,
                sub_kind,
                provider: PROVIDER,
                service: service.clone().unwrap_or_else(|| NONE.into()),
                resource: project.clone().unwrap_or_else(|| NONE.into()),
                metric: sku.clone().unwrap_or_else(|| kind.into()),
                unit: unit.unwrap_or_else(|| NONE.into()),
                quantity,
                cost: amount,
                currency: currency.clone(),
                labels: Default::default(),
            };
            d.label("project", project.as_deref());
            d.label("service_id", text("service_id").as_deref());
            d.label("sku_id", text("sku_id").as_deref());
            d.label("charge_category", Some(kind));
            d.label("granularity", Some("daily"));
            d
        };
        let usage = dec("usage_amount")?.unwrap_or(Decimal::ZERO);
        let usage_draft = draft("usage", cost, usage, text("usage_unit"));
        out.push(day, usage_draft, || format!("row {n} ({day})"))?;
        if !credits.is_zero() {
            let credit_draft = draft("credit", credits, Decimal::ZERO, None);
            out.push(day, credit_draft, || format!("row {n} ({day}) credits"))?;
        }
    }
    Ok(out.into_vec())
}

/// The BigQuery billing-export poller for one export table.
pub struct GcpSource {
    config: GcpConfig,
    client: ApiClient,
}

impl GcpSource {
    pub fn new(config: GcpConfig, token: Token, http: ClientConfig) -> Result<Self, PollError> {
        query_sql(&config.table).map_err(|message| PollError::Config {
            provider: PROVIDER,
            message,
        })?;
        let client = ApiClient::new(
            PROVIDER,
            &config.base_url,
            token,
            Throttle::SecondsHeaders(&[]),
            http,
        )?;
        Ok(GcpSource { config, client })
    }

    fn results_url(
        &self,
        job: &JobReference,
        page_token: Option<&str>,
    ) -> Result<reqwest::Url, PollError> {
        let mut url = self.client.url(&format!(
            "bigquery/v2/projects/{}/queries/{}",
            self.config.project, job.job_id
        ))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("maxResults", &MAX_RESULTS.to_string());
            q.append_pair("timeoutMs", "60000");
            if let Some(loc) = job.location.as_deref().or(self.config.location.as_deref()) {
                q.append_pair("location", loc);
            }
            if let Some(t) = page_token {
                q.append_pair("pageToken", t);
            }
        }
        Ok(url)
    }
}

impl Source for GcpSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn scope(&self) -> String {
        self.config.table.clone()
    }

    async fn fetch(
        &self,
        window: Window,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<Fetched, PollError> {
        let config_err = |message| PollError::Config {
            provider: PROVIDER,
            message,
        };
        let body = query_request(&self.config, window).map_err(config_err)?;
        let url = self.client.url(&format!(
            "bigquery/v2/projects/{}/queries",
            self.config.project
        ))?;
        let what = "jobs.query".to_string();
        let mut resp: QueryResponse = self
            .client
            .send_json(Method::POST, url, Some(&body), &what)
            .await?;
        let mut events = Vec::new();
        let mut fields: Option<Vec<Field>> = None;
        let mut incomplete_polls = 0;
        loop {
            if !resp.job_complete {
                incomplete_polls += 1;
                if incomplete_polls > MAX_INCOMPLETE_POLLS {
                    return Err(PollError::Response {
                        provider: PROVIDER,
                        what,
                        message: "the query job did not complete".into(),
                    });
                }
            } else {
                if let Some(schema) = resp.schema.take() {
                    fields = Some(schema.fields);
                }
                if !resp.rows.is_empty() {
                    let f = fields.as_deref().ok_or_else(|| PollError::Response {
                        provider: PROVIDER,
                        what: what.clone(),
                        message: "rows without a schema".into(),
                    })?;
                    let mapped = map_rows(f, &resp.rows, tenant, now)
                        .map_err(PollError::mapping(PROVIDER))?;
                    events.extend(mapped);
                }
                if resp.page_token.as_deref().is_none_or(str::is_empty) {
                    break;
                }
            }
            let job = resp
                .job_reference
                .take()
                .ok_or_else(|| PollError::Response {
                    provider: PROVIDER,
                    what: what.clone(),
                    message: "more results but no jobReference".into(),
                })?;
            let token = if resp.job_complete {
                resp.page_token.take()
            } else {
                None
            };
            let url = self.results_url(&job, token.as_deref())?;
            let next_what = format!("jobs.getQueryResults {}", job.job_id);
            resp = self
                .client
                .send_json(Method::GET, url, None, &next_what)
                .await?;
            if resp.job_reference.is_none() {
                resp.job_reference = Some(job);
            }
        }
        Ok(Fetched {
            events,
            complete_through: Some(window.to),
        })
    }
}
