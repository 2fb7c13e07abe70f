//! Test doubles for the query layer: a Vec-backed `CostStore` and a replaying `CostUpdates`.
//! Unit-test fakes only — the real adapters live in `costwatch-embedded`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use costwatch_domain::fx::FxRates;
use costwatch_domain::pricing::MeterKey;
use costwatch_domain::{
    Category, Currency, Granularity, RollupRow, RollupValue, SeriesKey, SubKind,
};
use costwatch_gateway::GatewayState;
use costwatch_ports::{Commit, CostStore, CostUpdate, CostUpdates, DeadLetter, StoreError};
use futures::stream::{self, BoxStream, StreamExt};
use rust_decimal::Decimal;
use serde_json::Value;
use tower::ServiceExt;

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("decimal {s}: {e}"))
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("timestamp {s}: {e}"))
}

/// One usage fact to fold into the fake's rollups.
#[derive(Clone)]
pub struct Fact {
    pub tenant: &'static str,
    pub at: DateTime<Utc>,
    pub category: Category,
    pub provider: &'static str,
    pub service: &'static str,
    pub labels: &'static str,
    pub currency: Currency,
    pub amount: Decimal,
    pub billed: bool,
}

pub fn fact(tenant: &'static str, ts: &str, amount: &str) -> Fact {
    Fact {
        tenant,
        at: at(ts),
        category: Category::Hosting,
        provider: "aws",
        service: "svc",
        labels: "{}",
        currency: Currency::USD,
        amount: d(amount),
        billed: true,
    }
}

#[derive(Default)]
struct Inner {
    rows: Vec<(Granularity, RollupRow)>,
    calls: Vec<(String, Granularity, DateTime<Utc>, DateTime<Utc>)>,
    failing: bool,
    leaky: bool,
}

/// Rollups as a list: every fact is a row at each granularity, as the aggregator writes them.
#[derive(Default, Clone)]
pub struct FakeStore(Arc<Mutex<Inner>>);

impl FakeStore {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, f: Fact) {
        let series = SeriesKey {
            tenant: f.tenant.into(),
            category: f.category,
            sub_kind: SubKind::General,
            provider: f.provider.into(),
            service: f.service.into(),
            resource: "res".into(),
            labels: f.labels.into(),
            currency: f.currency,
        };
        let value = RollupValue {
            amount: f.amount,
            billed: if f.billed { f.amount } else { Decimal::ZERO },
            events: 1,
        };
        let mut inner = self.inner();
        for g in Granularity::ALL {
            inner.rows.push((
                g,
                RollupRow {
                    bucket: g.bucket_start(f.at),
                    series: series.clone(),
                    value,
                },
            ));
        }
    }

    /// Every read fails from now on.
    pub fn fail(&self) {
        self.inner().failing = true;
    }

    /// Simulates an adapter bug: reads ignore the tenant.
    pub fn leak_tenants(&self) {
        self.inner().leaky = true;
    }

    pub fn calls(&self) -> Vec<(String, Granularity, DateTime<Utc>, DateTime<Utc>)> {
        self.inner().calls.clone()
    }
}

#[async_trait]
impl CostStore for FakeStore {
    async fn positions(&self, _consumer: &str) -> Result<BTreeMap<u32, u64>, StoreError> {
        Ok(BTreeMap::new())
    }

    async fn seen(
        &self,
        _ids: &[(String, String)],
    ) -> Result<HashSet<(String, String)>, StoreError> {
        Ok(HashSet::new())
    }

    async fn meters(&self, _keys: &[MeterKey]) -> Result<HashMap<MeterKey, Decimal>, StoreError> {
        Ok(HashMap::new())
    }

    async fn commit(&self, _commit: Commit) -> Result<(), StoreError> {
        Err(StoreError::Unavailable(
            "the fake store is read-only".into(),
        ))
    }

    async fn rollups(
        &self,
        tenant: &str,
        granularity: Granularity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        let mut inner = self.inner();
        if inner.failing {
            return Err(StoreError::Unavailable(
                "disk on fire at /var/lib/secret.sqlite".into(),
            ));
        }
        inner
            .calls
            .push((tenant.to_string(), granularity, from, to));
        Ok(inner
            .rows
            .iter()
            .filter(|(g, r)| {
                *g == granularity
                    && r.bucket >= from
                    && r.bucket < to
                    && (inner.leaky || r.series.tenant == tenant)
            })
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let inner = self.inner();
        if inner.failing {
            return Err(StoreError::Unavailable("disk on fire".into()));
        }
        let set: std::collections::BTreeSet<String> = inner
            .rows
            .iter()
            .map(|(_, r)| r.series.tenant.clone())
            .collect();
        Ok(set.into_iter().collect())
    }

    async fn dead_letters(
        &self,
        _tenant: &str,
        _limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(Vec::new())
    }
}

/// Replays the updates it was given to every subscriber, then ends the stream.
#[derive(Default, Clone)]
pub struct FakeUpdates(Arc<Mutex<Vec<CostUpdate>>>);

#[async_trait]
impl CostUpdates for FakeUpdates {
    async fn publish(&self, update: CostUpdate) -> Result<(), costwatch_ports::BusError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(update);
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, CostUpdate> {
        stream::iter(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()).boxed()
    }
}

pub fn state(store: &FakeStore, updates: &FakeUpdates) -> GatewayState {
    GatewayState {
        alerting: None,
        store: Arc::new(store.clone()),
        updates: Arc::new(updates.clone()),
        fx: FxRates::default(),
        fx_rates: None,
        annotations: None,
        auth: costwatch_gateway::auth::GatewayAuth::disabled(),
        default_currency: Currency::USD,
        erasure: None,
        mode: costwatch_gateway::ApiMode::Development,
    }
}

/// Sends one request through the router; returns the status and the body as JSON (or as a JSON
/// string when it is not JSON).
pub async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

pub async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    call(
        app,
        Request::get(uri).body(Body::empty()).unwrap_or_default(),
    )
    .await
}

pub async fn graphql(app: &Router, query: &str, variables: Value) -> Value {
    let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
    let req = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_default();
    let (status, v) = call(app, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// The `extensions` of the first GraphQL error.
pub fn first_error(v: &Value) -> (&str, &str, &str) {
    let e = &v["errors"][0];
    (
        e["message"].as_str().unwrap_or(""),
        e["extensions"]["code"].as_str().unwrap_or(""),
        e["extensions"]["field"].as_str().unwrap_or(""),
    )
}
