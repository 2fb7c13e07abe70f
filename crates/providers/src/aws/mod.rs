//! AWS Cost Explorer `GetCostAndUsage`: daily cost of an account (optionally of some linked
//! accounts), grouped by `SERVICE` and optionally `LINKED_ACCOUNT`, through the official SDK
//! (`aws-sdk-costexplorer`), which signs the requests (SigV4) and retries throttling.
//!
//! The wire call (JSON 1.1): `POST /` with `X-Amz-Target: AWSInsightsIndexService.GetCostAndUsage`,
//! body `{"TimePeriod":{"Start","End"},"Granularity":"DAILY","Metrics":["UnblendedCost"],
//! "GroupBy":[{"Type":"DIMENSION","Key":"SERVICE"}],"Filter"?,"NextPageToken"?}` (`End`
//! exclusive). The answer: `ResultsByTime[]` (`TimePeriod`, `Groups[]{Keys,Metrics{<metric>:
//! {Amount,Unit}}}`, `Total`, `Estimated`) and `NextPageToken`, sent again for the next page.

mod connector;
pub mod map;

use std::fmt;

use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::config::http::HttpResponse;
use aws_sdk_costexplorer::config::retry::RetryConfig;
use aws_sdk_costexplorer::config::timeout::TimeoutConfig;
use aws_sdk_costexplorer::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_costexplorer::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageError;
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition,
    GroupDefinitionType,
};
use chrono::{DateTime, Duration, Utc};
use costwatch_domain::TenantId;

use crate::http::ClientConfig;
use crate::{Fetched, PollError, Source, Window};

pub use connector::ReqwestClient;

pub const PROVIDER: &str = "aws";
/// Cost Explorer's endpoint for the `aws` partition is in us-east-1 (`ce.us-east-1.amazonaws.com`).
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_METRIC: &str = "UnblendedCost";
/// The metrics that are amounts of money (`UsageQuantity` etc. are not costs).
pub const COST_METRICS: &[&str] = &[
    "UnblendedCost",
    "BlendedCost",
    "AmortizedCost",
    "NetUnblendedCost",
    "NetAmortizedCost",
];

/// A `GroupBy` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKey {
    Service,
    LinkedAccount,
}

impl GroupKey {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKey::Service => "SERVICE",
            GroupKey::LinkedAccount => "LINKED_ACCOUNT",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// The account polled, as named in checkpoints, event ids and the `account` label (e.g. the
    /// management account's id). Changing it later re-counts the days already delivered.
    pub account: String,
    pub region: String,
    /// Overrides the endpoint the SDK resolves (tests: `http://127.0.0.1:PORT`).
    pub endpoint_url: Option<String>,
    /// Only these linked (member) accounts (a `LINKED_ACCOUNT` filter); empty: all.
    pub linked_accounts: Vec<String>,
    /// Also group by `LINKED_ACCOUNT` (one event per service and account).
    pub group_by_linked_account: bool,
    /// One of [`COST_METRICS`].
    pub metric: String,
}

impl AwsConfig {
    pub fn new(account: impl Into<String>) -> AwsConfig {
        AwsConfig {
            account: account.into(),
            region: DEFAULT_REGION.into(),
            endpoint_url: None,
            linked_accounts: Vec::new(),
            group_by_linked_account: false,
            metric: DEFAULT_METRIC.into(),
        }
    }

    fn group_by(&self) -> Vec<GroupKey> {
        let mut keys = vec![GroupKey::Service];
        if self.group_by_linked_account {
            keys.push(GroupKey::LinkedAccount);
        }
        keys
    }
}

/// Static credentials (access key id, secret, optional session token). `Debug` shows the key id
/// only.
#[derive(Clone)]
pub struct AwsCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl AwsCredentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> AwsCredentials {
        AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: session_token.filter(|t| !t.trim().is_empty()),
        }
    }

    /// Removes the secret and the session token from text (defence in depth: no SDK message is
    /// known to contain them).
    fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in std::iter::once(&self.secret_access_key).chain(&self.session_token) {
            if !secret.is_empty() {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
        out
    }
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The Cost Explorer poller for one account.
#[derive(Debug)]
pub struct AwsSource {
    config: AwsConfig,
    credentials: AwsCredentials,
    client: Client,
}

impl AwsSource {
    pub fn new(
        config: AwsConfig,
        credentials: AwsCredentials,
        http: ClientConfig,
    ) -> Result<Self, PollError> {
        let config_err = |message: String| PollError::Config {
            provider: PROVIDER,
            message,
        };
        if !COST_METRICS.contains(&config.metric.as_str()) {
            return Err(config_err(format!(
                "metric {:?}: use one of {}",
                config.metric,
                COST_METRICS.join(", ")
            )));
        }
        if config.account.trim().is_empty() {
            return Err(config_err("account is empty".into()));
        }
        if credentials.access_key_id.trim().is_empty()
            || credentials.secret_access_key.trim().is_empty()
        {
            return Err(config_err(
                "the access key id and the secret access key are required".into(),
            ));
        }
        let sdk_credentials = Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.clone(),
            None,
            "costwatch",
        );
        // The SDK's standard retry classifies LimitExceededException (and 429/5xx) as retryable;
        // attempts and back-off are the ones every poller uses. Jittered exponential back-off.
        let retry = RetryConfig::standard()
            .with_max_attempts(http.max_attempts.max(1))
            .with_initial_backoff(http.backoff)
            .with_max_backoff(http.max_wait);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(http.connect_timeout)
            .operation_attempt_timeout(http.timeout)
            .build();
        let mut sdk = aws_sdk_costexplorer::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .credentials_provider(sdk_credentials)
            .http_client(
                ReqwestClient::new(http.timeout, http.connect_timeout)
                    .map_err(config_err)?
                    .shared(),
            )
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = config
            .endpoint_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            sdk = sdk.endpoint_url(url);
        }
        Ok(AwsSource {
            client: Client::from_conf(sdk.build()),
            config,
            credentials,
        })
    }

    /// An SDK error as a [`PollError`]: the vendor's status, error code and message; never a
    /// credential.
    fn error(&self, e: &SdkError<GetCostAndUsageError, HttpResponse>, what: &str) -> PollError {
        let what = what.to_string();
        match e {
            SdkError::ServiceError(se) => {
                let err = se.err();
                let code = err.code().unwrap_or("unknown error");
                let message = err.message().unwrap_or("no error message");
                PollError::Status {
                    provider: PROVIDER,
                    what,
                    status: se.raw().status().as_u16(),
                    message: self.credentials.redact(&format!("{code}: {message}")),
                }
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => PollError::Transport {
                provider: PROVIDER,
                what,
                message: self.credentials.redact(&DisplayErrorContext(e).to_string()),
            },
            SdkError::ConstructionFailure(_) => PollError::Config {
                provider: PROVIDER,
                message: self.credentials.redact(&DisplayErrorContext(e).to_string()),
            },
            _ => PollError::Response {
                provider: PROVIDER,
                what,
                message: self.credentials.redact(&DisplayErrorContext(e).to_string()),
            },
        }
    }
}

impl Source for AwsSource {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn scope(&self) -> String {
        let account = self.config.account.trim();
        if self.config.linked_accounts.is_empty() {
            account.to_string()
        } else {
            let mut linked = self.config.linked_accounts.clone();
            linked.sort();
            format!("{account}/linked={}", linked.join(","))
        }
    }

    async fn fetch(
        &self,
        window: Window,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<Fetched, PollError> {
        // `End` is exclusive: the day after the window's last day.
        let period = DateInterval::builder()
            .start(window.from.format("%Y-%m-%d").to_string())
            .end(
                (window.to + Duration::days(1))
                    .format("%Y-%m-%d")
                    .to_string(),
            )
            .build()
            .map_err(|e| PollError::Config {
                provider: PROVIDER,
                message: e.to_string(),
            })?;
        let group_by = self.config.group_by();
        let mut request = self
            .client
            .get_cost_and_usage()
            .time_period(period)
            .granularity(Granularity::Daily)
            .metrics(&self.config.metric);
        for key in &group_by {
            request = request.group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key(key.as_str())
                    .build(),
            );
        }
        if !self.config.linked_accounts.is_empty() {
            let accounts = DimensionValues::builder()
                .key(Dimension::LinkedAccount)
                .set_values(Some(self.config.linked_accounts.clone()))
                .build();
            request = request.filter(Expression::builder().dimensions(accounts).build());
        }
        let scope = self.scope();
        let shape = map::Shape {
            scope: &scope,
            metric: &self.config.metric,
            group_by: &group_by,
        };
        let mut mapped = map::Mapped::default();
        let mut token: Option<String> = None;
        for page_no in 1.. {
            let what = format!("GetCostAndUsage page {page_no}");
            let page = request
                .clone()
                .set_next_page_token(token.take())
                .send()
                .await
                .map_err(|e| self.error(&e, &what))?;
            map::map_results(shape, page.results_by_time(), tenant, now, &mut mapped)
                .map_err(PollError::mapping(PROVIDER))?;
            match page.next_page_token().filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        let complete_through = map::complete_through(window.from, window.to, &mapped.estimated);
        if !mapped.estimated.is_empty() {
            tracing::info!(
                provider = PROVIDER,
                scope,
                estimated_days = mapped.estimated.len(),
                "estimated days are held back until AWS finalizes them"
            );
        }
        Ok(Fetched {
            events: mapped.events,
            complete_through,
        })
    }
}
