//! The OAuth client-credentials grant against a local token endpoint shaped like Microsoft
//! Entra ID's (`POST /{tenant}/oauth2/v2.0/token`, form-encoded, JSON answer or error).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use costwatch_providers::PollError;
use costwatch_providers::http::ClientConfig;
use costwatch_providers::oauth::{AZURE_SCOPE, ClientCredentials, Secret, fetch_token};
use reqwest::Url;
use serde_json::json;

const SECRET: &str = "s3cr3t~with+special&chars=";

async fn endpoint() -> String {
    let app = Router::new().route(
        "/contoso-tenant/oauth2/v2.0/token",
        post(|headers: axum::http::HeaderMap, body: String| async move {
            let form: BTreeMap<String, String> = Url::parse(&format!("http://x/?{body}"))
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default();
            let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
            if ct != Some("application/x-www-form-urlencoded") {
                return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "form expected").into_response();
            }
            let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
                && form.get("client_id").map(String::as_str) == Some("app-123")
                && form.get("scope").map(String::as_str) == Some(AZURE_SCOPE);
            if !ok {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": "invalid_request"})),
                )
                    .into_response();
            }
            if form.get("client_secret").map(String::as_str) != Some(SECRET) {
                let body = json!({"error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided."});
                return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
            }
            let r: Response = Json(json!({"token_type": "Bearer", "expires_in": 3599,
                "ext_expires_in": 3599, "access_token": "eyJ0eXAi.local.token"}))
            .into_response();
            r
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn config() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn a_service_principal_gets_a_bearer_token() {
    let login = endpoint().await;
    let creds = ClientCredentials::azure(&login, "contoso-tenant", "app-123", Secret::new(SECRET));
    let token = fetch_token("azure", &creds, &config())
        .await
        .expect("token");
    // The token is opaque: Debug never shows it, but it is the one the endpoint issued.
    assert_eq!(format!("{token:?}"), "[redacted]");
    assert!(!format!("{creds:?}").contains(SECRET), "{creds:?}");
}

#[tokio::test]
async fn a_wrong_secret_is_an_error_naming_the_reason_not_the_secret() {
    let login = endpoint().await;
    let wrong = format!("{SECRET}x");
    let creds = ClientCredentials::azure(&login, "contoso-tenant", "app-123", Secret::new(&wrong));
    let err = fetch_token("azure", &creds, &config())
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        matches!(err, PollError::Status { status: 401, .. }),
        "{text}"
    );
    assert!(text.contains("invalid_client: AADSTS7000215"), "{text}");
    assert!(!text.contains(&wrong), "{text}");
    let creds = ClientCredentials::azure(&login, "other-tenant", "app-123", Secret::new(SECRET));
    let err = fetch_token("azure", &creds, &config())
        .await
        .expect_err("404");
    assert!(
        matches!(err, PollError::Status { status: 404, .. }),
        "{err}"
    );
}
