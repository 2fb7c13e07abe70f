//! From a poll job (vendor, tenant, settings file, credentials) to a source ready to poll: used
//! by `costwatch poll` and by the pollers scheduled in the collector (`schedule`).
//!
//! Settings come from the vendor's section of the TOML file (`[aws]`, `[azure]`,
//! `[digitalocean]`, `[gcp]`), overridden by `COSTWATCH_<VENDOR>_<SETTING>` environment variables
//! (e.g. `COSTWATCH_AZURE_SCOPE`). Credentials come from the environment
//! (`COSTWATCH_AZURE_TOKEN`, `COSTWATCH_DIGITALOCEAN_TOKEN`, `COSTWATCH_GCP_TOKEN`, or a
//! `token_file`; `COSTWATCH_AWS_ACCESS_KEY_ID`, `COSTWATCH_AWS_SECRET_ACCESS_KEY` and optionally
//! `COSTWATCH_AWS_SESSION_TOKEN`) and are never printed.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::ValueEnum;
use costwatch_domain::TenantId;
use costwatch_providers::aws::{self, AwsConfig, AwsCredentials, AwsSource};
use costwatch_providers::azure::{self, AzureConfig, AzureSource};
use costwatch_providers::digitalocean::{self, DigitalOceanConfig, DigitalOceanSource};
use costwatch_providers::gcp::{self, GcpConfig, GcpSource};
use costwatch_providers::http::{ClientConfig, Token};
use costwatch_providers::oauth::{AZURE_LOGIN, ClientCredentials, Secret, fetch_token};
use costwatch_providers::{
    CheckpointStore, PollError, PollOptions, PollReport, Sink, Source, poll,
};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

/// One poll to run: which API, for which tenant, configured how.
#[derive(Debug, Clone)]
pub struct PollJob {
    pub vendor: Vendor,
    pub tenant: TenantId,
    /// TOML file with the vendor's section; environment variables override it.
    pub config: Option<PathBuf>,
    /// First day when there is no checkpoint (see `PollOptions::backfill_from`).
    pub from: Option<NaiveDate>,
    /// Events per delivery.
    pub batch_size: usize,
    /// File holding the bearer token, used when `COSTWATCH_<VENDOR>_TOKEN` is not set.
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// AWS Cost Explorer GetCostAndUsage (daily cost by service of an account)
    Aws,
    /// Azure Cost Management Query API (daily actual cost of a scope)
    Azure,
    /// DigitalOcean invoices (one event per invoice item)
    Digitalocean,
    /// Google Cloud billing export in BigQuery (daily roll-up)
    Gcp,
}

impl Vendor {
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Aws => "aws",
            Vendor::Azure => "azure",
            Vendor::Digitalocean => "digitalocean",
            Vendor::Gcp => "gcp",
        }
    }

    fn env_prefix(self) -> &'static str {
        match self {
            Vendor::Aws => "COSTWATCH_AWS_",
            Vendor::Azure => "COSTWATCH_AZURE_",
            Vendor::Digitalocean => "COSTWATCH_DIGITALOCEAN_",
            Vendor::Gcp => "COSTWATCH_GCP_",
        }
    }

    /// Environment variables (after the prefix) that are not settings: credentials, read only
    /// by `token`/`aws_credentials`, and AWS account ids, read as raw text by `aws_ids` (figment
    /// would parse `012345678901` as a number and drop the leading zero).
    fn env_ignored(self) -> &'static [&'static str] {
        match self {
            Vendor::Aws => &[
                "access_key_id",
                "secret_access_key",
                "session_token",
                "account",
                "linked_accounts",
            ],
            Vendor::Azure => &["token", "client_secret"],
            _ => &["token"],
        }
    }
}

/// `[aws]`: `account` (required: the name checkpoints and event ids use, e.g. the management
/// account's id), `region`, `endpoint_url`, `linked_accounts`, `group_by_linked_account`,
/// `metric` (default `UnblendedCost`), `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwsSettings {
    account: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    linked_accounts: Option<Vec<String>>,
    #[serde(default)]
    group_by_linked_account: bool,
    metric: Option<String>,
    #[serde(default)]
    settle_days: u32,
}

/// `[azure]`: `scope` (required), `base_url`, `grouping`, `settle_days`; for a service principal
/// (OAuth client credentials) `tenant_id` and `client_id` (the secret only from
/// `COSTWATCH_AZURE_CLIENT_SECRET`) and optionally `login_url` (sovereign clouds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AzureSettings {
    scope: String,
    tenant_id: Option<String>,
    client_id: Option<String>,
    login_url: Option<String>,
    base_url: Option<String>,
    grouping: Option<Vec<String>>,
    #[serde(default)]
    settle_days: u32,
}

/// `[digitalocean]`: `account` (checkpoint name, default `my`), `base_url`, `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DigitalOceanSettings {
    account: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    settle_days: u32,
}

/// `[gcp]`: `project` and `table` (required), `location`, `base_url`, `settle_days`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GcpSettings {
    project: String,
    table: String,
    location: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    settle_days: u32,
}

fn settings<T: for<'de> Deserialize<'de>>(job: &PollJob) -> Result<T, String> {
    let vendor = job.vendor.name();
    let mut figment = Figment::new();
    if let Some(path) = &job.config {
        if !path.is_file() {
            return Err(format!("config {}: no such file", path.display()));
        }
        figment = figment.merge(Toml::file(path));
    }
    figment
        .focus(vendor)
        .merge(Env::prefixed(job.vendor.env_prefix()).ignore(job.vendor.env_ignored()))
        .extract::<T>()
        .map_err(|e| format!("[{vendor}] settings: {e}"))
}

/// The bearer token: `COSTWATCH_<VENDOR>_TOKEN`, else the job's token file (e.g. a mounted
/// Kubernetes secret), trimmed. Never printed.
fn token(job: &PollJob) -> Result<Token, String> {
    let var = format!("{}TOKEN", job.vendor.env_prefix());
    if let Ok(t) = std::env::var(&var)
        && !t.trim().is_empty()
    {
        return Ok(Token::new(t.trim()));
    }
    match &job.token_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Ok(Token::new(t.trim())),
            Ok(_) => Err(format!("token_file {}: is empty", path.display())),
            Err(e) => Err(format!("token_file {}: {e}", path.display())),
        },
        None => Err(format!(
            "set the access token in the environment variable {var}"
        )),
    }
}

/// A required secret from the environment, trimmed.
fn env_secret(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => Err(format!("set the environment variable {var}")),
    }
}

fn aws_credentials() -> Result<AwsCredentials, String> {
    let session = std::env::var("COSTWATCH_AWS_SESSION_TOKEN").ok();
    Ok(AwsCredentials::new(
        env_secret("COSTWATCH_AWS_ACCESS_KEY_ID")?,
        env_secret("COSTWATCH_AWS_SECRET_ACCESS_KEY")?,
        session.map(|t| t.trim().to_string()),
    ))
}

/// `COSTWATCH_AWS_ACCOUNT` and `COSTWATCH_AWS_LINKED_ACCOUNTS` (comma-separated) as raw text,
/// over the TOML file's `account` and `linked_accounts`.
fn aws_ids(s: &mut AwsSettings) {
    if let Ok(a) = std::env::var("COSTWATCH_AWS_ACCOUNT") {
        s.account = Some(a.trim().to_string());
    }
    if let Ok(list) = std::env::var("COSTWATCH_AWS_LINKED_ACCOUNTS") {
        let ids = list.split(',').map(str::trim).filter(|a| !a.is_empty());
        s.linked_accounts = Some(ids.map(str::to_string).collect());
    }
}

/// A source ready to poll, with its options.
pub enum Prepared {
    Aws(AwsSource, PollOptions),
    Azure(AzureSource, PollOptions),
    DigitalOcean(DigitalOceanSource, PollOptions),
    Gcp(GcpSource, PollOptions),
}

/// A job checked without any network call: ready, or an Azure source that still needs its
/// service principal's token.
pub enum Plan {
    Ready(Prepared),
    AzureToken {
        config: AzureConfig,
        creds: ClientCredentials,
        opts: PollOptions,
        http: ClientConfig,
    },
}

/// Builds the job's source from its settings and credentials, fetching an OAuth token where the
/// vendor needs one; the error names what to fix.
pub async fn prepare(job: &PollJob) -> Result<Prepared, String> {
    match plan(job)? {
        Plan::Ready(p) => Ok(p),
        Plan::AzureToken {
            config,
            creds,
            opts,
            http,
        } => {
            let token = fetch_token("azure", &creds, &http)
                .await
                .map_err(|e| e.to_string())?;
            let source = AzureSource::new(config, token, http).map_err(|e| e.to_string())?;
            Ok(Prepared::Azure(source, opts))
        }
    }
}

/// Checks the job's settings and that its credentials are present, without calling anyone.
pub fn plan(job: &PollJob) -> Result<Plan, String> {
    let mut opts = PollOptions::new(job.tenant.clone());
    opts.backfill_from = job.from;
    opts.batch_size = job.batch_size;
    let http = ClientConfig::default();
    let err = |e: PollError| e.to_string();
    // A closure: AWS has no bearer token (its credentials are read by `prepare_aws`).
    let token = || token(job);
    Ok(Plan::Ready(match job.vendor {
        Vendor::Aws => prepare_aws(job, opts, http)?,
        Vendor::Azure => {
            let s: AzureSettings = settings(job)?;
            let mut config = AzureConfig::new(s.scope);
            config.base_url = s.base_url.unwrap_or_else(|| azure::DEFAULT_BASE.into());
            if let Some(g) = s.grouping {
                config.grouping = g;
            }
            opts.settle_days = s.settle_days;
            // A service principal when one is configured; else a bearer token as given.
            match (s.tenant_id, s.client_id) {
                (Some(tenant_id), Some(client_id)) => {
                    let secret = env_secret("COSTWATCH_AZURE_CLIENT_SECRET")?;
                    let login = s.login_url.unwrap_or_else(|| AZURE_LOGIN.into());
                    let creds = ClientCredentials::azure(
                        &login,
                        &tenant_id,
                        &client_id,
                        Secret::new(secret),
                    );
                    return Ok(Plan::AzureToken {
                        config,
                        creds,
                        opts,
                        http,
                    });
                }
                (None, None) => {}
                _ => {
                    return Err(
                        "[azure] settings: a service principal needs both tenant_id \
                                and client_id"
                            .into(),
                    );
                }
            }
            Prepared::Azure(AzureSource::new(config, token()?, http).map_err(err)?, opts)
        }
        Vendor::Digitalocean => {
            let s: DigitalOceanSettings = settings(job)?;
            let config = DigitalOceanConfig {
                base_url: s
                    .base_url
                    .unwrap_or_else(|| digitalocean::DEFAULT_BASE.into()),
                account: s.account.unwrap_or_else(|| "my".into()),
            };
            opts.settle_days = s.settle_days;
            Prepared::DigitalOcean(
                DigitalOceanSource::new(config, token()?, http).map_err(err)?,
                opts,
            )
        }
        Vendor::Gcp => {
            let s: GcpSettings = settings(job)?;
            let mut config = GcpConfig::new(s.project, s.table);
            config.location = s.location;
            config.base_url = s.base_url.unwrap_or_else(|| gcp::DEFAULT_BASE.into());
            opts.settle_days = s.settle_days;
            Prepared::Gcp(GcpSource::new(config, token()?, http).map_err(err)?, opts)
        }
    }))
}

fn prepare_aws(
    job: &PollJob,
    mut opts: PollOptions,
    http: ClientConfig,
) -> Result<Prepared, String> {
    let mut s: AwsSettings = settings(job)?;
    aws_ids(&mut s);
    let account = s.account.filter(|a| !a.trim().is_empty()).ok_or(
        "[aws] settings: set `account` (or COSTWATCH_AWS_ACCOUNT), e.g. the management \
         account's id",
    )?;
    let mut config = AwsConfig::new(account);
    config.region = s.region.unwrap_or_else(|| aws::DEFAULT_REGION.into());
    config.endpoint_url = s.endpoint_url;
    config.linked_accounts = s.linked_accounts.unwrap_or_default();
    config.group_by_linked_account = s.group_by_linked_account;
    config.metric = s.metric.unwrap_or_else(|| aws::DEFAULT_METRIC.into());
    opts.settle_days = s.settle_days;
    let source = AwsSource::new(config, aws_credentials()?, http).map_err(|e| e.to_string())?;
    Ok(Prepared::Aws(source, opts))
}

/// What one poll did, for the log or the terminal.
pub struct Polled {
    pub provider: &'static str,
    pub scope: String,
    pub report: PollReport,
}

impl Polled {
    pub fn summary(&self) -> String {
        let checkpoint = self
            .report
            .checkpoint
            .map_or("none".to_string(), |d| d.to_string());
        match self.report.window {
            None => format!(
                "{} {}: up to date (checkpoint {checkpoint})",
                self.provider, self.scope
            ),
            Some(w) => format!(
                "{} {}: polled {}..={}: {} events sent, {} for days not closed yet (sent once \
                 closed); checkpoint {checkpoint}",
                self.provider, self.scope, w.from, w.to, self.report.sent, self.report.deferred
            ),
        }
    }
}

impl Prepared {
    /// Polls once into `sink`, checkpointing in `store`.
    pub async fn run<K: Sink, C: CheckpointStore>(
        &self,
        sink: &K,
        store: &C,
    ) -> Result<Polled, PollError> {
        async fn one<S: Source, K: Sink, C: CheckpointStore>(
            source: &S,
            opts: &PollOptions,
            sink: &K,
            store: &C,
        ) -> Result<Polled, PollError> {
            let report = poll(source, sink, store, opts).await?;
            Ok(Polled {
                provider: source.provider(),
                scope: source.scope(),
                report,
            })
        }
        match self {
            Prepared::Aws(s, o) => one(s, o, sink, store).await,
            Prepared::Azure(s, o) => one(s, o, sink, store).await,
            Prepared::DigitalOcean(s, o) => one(s, o, sink, store).await,
            Prepared::Gcp(s, o) => one(s, o, sink, store).await,
        }
    }
}
