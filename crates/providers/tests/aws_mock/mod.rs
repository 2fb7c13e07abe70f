//! The local Cost Explorer of `tests/aws.rs`: JSON 1.1 as the API reference documents it, the
//! SigV4 signature checked independently of the SDK with the known secret, and a log capture.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{Duration, NaiveDate};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{day, serve_mock};

/// AWS's documented example keys.
pub const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const SESSION: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue";
pub const ACCOUNT: &str = "123456789012";

/// (day of May 2024, service, amount): amounts as Cost Explorer sends them, strings.
pub const ROWS: &[(u32, &str, &str)] = &[
    (1, "Amazon Elastic Compute Cloud - Compute", "0.00000012345"),
    (1, "Amazon Simple Storage Service", "1234.5678901234"),
    (2, "Amazon CloudFront", "0.1"),
    (2, "AWS Data Transfer", "3"),
    (3, "Amazon DynamoDB", "7.2"),
    (4, "Amazon Elastic Compute Cloud - Compute", "3.3"),
    (5, "Amazon Elastic Compute Cloud - Compute", "1.1"),
];
/// Groups per page: days are split across pages, as AWS does.
const PAGE: usize = 3;

pub fn may(d: u32) -> NaiveDate {
    day(2024, 5, d)
}

pub struct Mock {
    pub calls: AtomicUsize,
    pub throttle_first: bool,
    /// Days AWS still reports as `Estimated: true`.
    pub estimated: Mutex<BTreeSet<NaiveDate>>,
    pub bodies: Mutex<Vec<Value>>,
    pub authorizations: Mutex<Vec<String>>,
}

impl Mock {
    pub fn new(throttle_first: bool) -> Mock {
        Mock {
            calls: AtomicUsize::new(0),
            throttle_first,
            estimated: Mutex::new([may(4), may(5)].into()),
            bodies: Mutex::default(),
            authorizations: Mutex::default(),
        }
    }
}

pub fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"__type": kind, "message": message}).to_string();
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amzn-requestid", "0c2f1a5e-0000-4000-8000-000000000000"),
    ];
    (status, headers, body).into_response()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// SigV4 check of a `POST /` (empty query) with the test secret: `Ok` or why not.
fn verify_sigv4(headers: &HeaderMap, body: &str) -> Result<(), &'static str> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or("no Authorization")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let part = |k: &str| {
        rest.split(", ")
            .find_map(|p| p.strip_prefix(k))
            .ok_or("malformed Authorization")
    };
    let credential = part("Credential=")?;
    let signed = part("SignedHeaders=")?;
    let signature = part("Signature=")?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[0] != KEY_ID || scope[2..] != ["us-east-1", "ce", "aws4_request"] {
        return Err("unknown credential scope");
    }
    let amz_date = header("x-amz-date").ok_or("no X-Amz-Date")?;
    let mut canonical = String::from("POST\n/\n\n");
    for name in signed.split(';') {
        canonical.push_str(&format!("{name}:{}\n", header(name).unwrap_or("").trim()));
    }
    let body_hash = hex::encode(Sha256::digest(body.as_bytes()));
    canonical.push_str(&format!("\n{signed}\n{body_hash}"));
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}/us-east-1/ce/aws4_request\n{}",
        scope[1],
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{SECRET}").as_bytes(), scope[1]);
    for part in ["us-east-1", "ce", "aws4_request"] {
        key = hmac(&key, part);
    }
    if hex::encode(hmac(&key, &to_sign)) == signature {
        Ok(())
    } else {
        Err("signature mismatch")
    }
}

async fn cost_explorer(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let n = mock.calls.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("x-amz-target") != Some("AWSInsightsIndexService.GetCostAndUsage")
        || header("content-type") != Some("application/x-amz-json-1.1")
    {
        return aws_error(StatusCode::BAD_REQUEST, "UnknownOperationException", "");
    }
    mock.authorizations
        .lock()
        .expect("lock")
        .push(header("authorization").unwrap_or("").to_string());
    if header("x-amz-security-token") != Some(SESSION) {
        let m = "The security token included in the request is invalid.";
        return aws_error(StatusCode::FORBIDDEN, "UnrecognizedClientException", m);
    }
    if verify_sigv4(&headers, &body).is_err() {
        let m = "The request signature we calculated does not match the signature you provided.";
        return aws_error(StatusCode::FORBIDDEN, "InvalidSignatureException", m);
    }
    if mock.throttle_first && n == 0 {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "LimitExceededException",
            "Rate exceeded",
        );
    }
    let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    mock.bodies.lock().expect("lock").push(req.clone());
    let date = |k: &str| {
        req["TimePeriod"][k]
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let (Some(start), Some(end)) = (date("Start"), date("End")) else {
        return aws_error(StatusCode::BAD_REQUEST, "ValidationException", "TimePeriod");
    };
    let rows: Vec<_> = ROWS
        .iter()
        .filter(|(d, _, _)| (start..end).contains(&may(*d)))
        .collect();
    let offset: usize = req["NextPageToken"]
        .as_str()
        .and_then(|t| t.strip_prefix("AAEAAU-page-"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let estimated = mock.estimated.lock().expect("lock").clone();
    // Every day of the period has a result (empty `Groups` when nothing was spent).
    let mut results = Vec::new();
    let mut d = start;
    while d < end {
        let groups: Vec<Value> = rows
            .iter()
            .enumerate()
            .skip(offset)
            .take(PAGE)
            .filter(|(_, r)| may(r.0) == d)
            .map(|(_, (_, service, amount))| {
                json!({"Keys": [service],
                       "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}})
            })
            .collect();
        let on_page = rows.iter().skip(offset).take(PAGE).any(|r| may(r.0) == d);
        let no_rows = !rows.iter().any(|r| may(r.0) == d);
        if on_page || (no_rows && offset == 0) {
            results.push(json!({
                "TimePeriod": {"Start": d.to_string(), "End": (d + Duration::days(1)).to_string()},
                "Total": {}, "Groups": groups, "Estimated": estimated.contains(&d)
            }));
        }
        d += Duration::days(1);
    }
    let mut answer = json!({
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": results, "DimensionValueAttributes": []
    });
    if offset + PAGE < rows.len() {
        answer["NextPageToken"] = json!(format!("AAEAAU-page-{}", offset + PAGE));
    }
    let headers = [("content-type", "application/x-amz-json-1.1")];
    (headers, answer.to_string()).into_response()
}

pub async fn aws_server(throttle_first: bool) -> (String, Arc<Mock>) {
    serve_mock(
        Mock::new(throttle_first),
        Router::new().route("/", post(cost_explorer)),
    )
    .await
}

/// Collects everything logged (every level) while a test runs on this thread.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
