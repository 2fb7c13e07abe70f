//! OAuth 2.0 client-credentials grant (RFC 6749 §4.4): a service principal's id and secret are
//! exchanged for a short-lived bearer token. Azure Cost Management is called this way with a
//! Microsoft Entra ID app registration (`POST {login}/{tenant}/oauth2/v2.0/token`, scope
//! `https://management.azure.com/.default`); any other RFC 6749 token endpoint works the same.
//!
//! A token lives about an hour; a poll takes seconds and the scheduler prepares each poll anew,
//! so one token is fetched per poll rather than cached and refreshed. The secret is never logged
//! nor put into an error: errors carry the endpoint's `error`/`error_description` only.

use reqwest::Url;
use serde::Deserialize;

use crate::PollError;
use crate::http::{ClientConfig, Token};

/// Microsoft Entra ID's login host (sovereign clouds use their own; it is configurable).
pub const AZURE_LOGIN: &str = "https://login.microsoftonline.com";
/// The scope that grants Azure Resource Manager (Cost Management included).
pub const AZURE_SCOPE: &str = "https://management.azure.com/.default";

pub use crate::http::Secret;

/// What the grant needs.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: String,
}

impl ClientCredentials {
    /// An Azure service principal of directory `tenant_id`, on `login` (default [`AZURE_LOGIN`]).
    pub fn azure(login: &str, tenant_id: &str, client_id: &str, secret: Secret) -> Self {
        ClientCredentials {
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                login.trim_end_matches('/'),
                tenant_id
            ),
            client_id: client_id.to_string(),
            client_secret: secret,
            scope: AZURE_SCOPE.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Runs the grant once and returns the access token.
pub async fn fetch_token(
    provider: &'static str,
    creds: &ClientCredentials,
    config: &ClientConfig,
) -> Result<Token, PollError> {
    let what = "the OAuth token endpoint".to_string();
    let url = Url::parse(&creds.token_url).map_err(|e| PollError::Config {
        provider,
        message: format!("token URL {:?}: {e}", creds.token_url),
    })?;
    // `application/x-www-form-urlencoded` as RFC 6749 requires; encoded by the URL parser so
    // no extra form dependency is needed.
    let form = Url::parse_with_params(
        "http://form.invalid/",
        [
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose()),
            ("scope", creds.scope.as_str()),
        ],
    )
    .map(|u| u.query().unwrap_or_default().to_string())
    .map_err(|e| PollError::Config {
        provider,
        message: format!("token request: {e}"),
    })?;
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .build()
        .map_err(|e| PollError::Config {
            provider,
            message: format!("HTTP client: {e}"),
        })?;
    let resp = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| PollError::Transport {
            provider,
            what: what.clone(),
            message: e.without_url().to_string(),
        })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| PollError::Transport {
        provider,
        what: what.clone(),
        message: format!("reading the body: {e}"),
    })?;
    if !status.is_success() {
        let err: ErrorAnswer = serde_json::from_slice(&body).unwrap_or_default();
        let message = match (err.error.as_str(), err.error_description.as_str()) {
            ("", _) => "no error message".to_string(),
            (code, "") => code.to_string(),
            (code, text) => format!("{code}: {text}"),
        };
        return Err(PollError::Status {
            provider,
            what,
            status: status.as_u16(),
            message: message.replace(creds.client_secret.expose(), "[redacted]"),
        });
    }
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| PollError::Response {
        provider,
        what: what.clone(),
        message: e.to_string(),
    })?;
    match answer.token_type.as_deref() {
        None => {}
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(other) => {
            return Err(PollError::Response {
                provider,
                what,
                message: format!("token_type {other:?}, expected Bearer"),
            });
        }
    }
    Ok(Token::new(answer.access_token))
}
