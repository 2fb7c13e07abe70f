//! The SDK's HTTP connector, backed by the reqwest client the other pollers use. The SDK's own
//! client (`default-https-client`) would build hyper's legacy client plus rustls on aws-lc-rs (a
//! C/cmake build); this way the crate keeps one HTTP stack: plain HTTP by default, HTTPS with
//! this crate's `tls` feature, exactly as for Azure, DigitalOcean and Google.

use std::time::Duration;

use aws_sdk_costexplorer::config::http::{HttpRequest, HttpResponse};
use aws_sdk_costexplorer::config::{HttpClient, RuntimeComponents, SharedHttpClient};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// A reqwest-backed [`HttpClient`] for the SDK.
#[derive(Debug, Clone)]
pub struct ReqwestClient {
    http: reqwest::Client,
}

impl ReqwestClient {
    pub fn new(timeout: Duration, connect_timeout: Duration) -> Result<ReqwestClient, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(ReqwestClient { http })
    }

    pub fn shared(self) -> SharedHttpClient {
        SharedHttpClient::new(self)
    }
}

impl HttpClient for ReqwestClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The timeouts are the reqwest client's (from `ClientConfig`), set once in `new`.
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for ReqwestClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        HttpConnectorFuture::new(async move { send(&http, request).await })
    }
}

async fn send(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, ConnectorError> {
    let method = reqwest::Method::from_bytes(request.method().as_bytes())
        .map_err(|e| ConnectorError::user(e.into()))?;
    // GetCostAndUsage bodies are small JSON documents, always in memory.
    let body = request
        .body()
        .bytes()
        .ok_or_else(|| ConnectorError::user("streaming request bodies are not supported".into()))?
        .to_vec();
    let mut req = http.request(method, request.uri()).body(body);
    for (name, value) in request.headers() {
        req = req.header(name, value);
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            ConnectorError::timeout(e.into())
        } else {
            ConnectorError::io(e.into())
        }
    })?;
    let status = StatusCode::try_from(resp.status().as_u16())
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    let headers = resp.headers().clone();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ConnectorError::io(e.into()))?;
    let mut out = HttpResponse::new(status, SdkBody::from(bytes));
    for (name, value) in &headers {
        if let Ok(v) = value.to_str() {
            out.headers_mut()
                .append(name.as_str().to_owned(), v.to_owned());
        }
    }
    Ok(out)
}
