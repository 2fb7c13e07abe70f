//! Authentication settings of `costwatch up` and the distributed gateway/collector, and
//! `costwatch token` (mints local tokens for scripts and tests).
//!
//! Modes: `local` (the default: a signing key generated in the data dir; `up` prints a
//! dashboard link that logs the admin in), `oidc` (tokens of an identity provider: issuer,
//! audience and its JWKS), `none` (no authentication, every caller is admin — refused unless
//! the HTTP and gRPC listeners are on loopback, and announced loudly).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use costwatch_domain::access::Role;
use costwatch_ports::Authenticator;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Local,
    Oidc,
    None,
}

/// `[auth]` of the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub mode: AuthMode,
    /// `oidc`: the `iss` tokens must carry.
    pub issuer: Option<String>,
    /// `oidc`: the `aud` tokens must carry.
    pub audience: Option<String>,
    /// `oidc`: where the provider publishes its keys (fetched again on an unknown `kid`).
    pub jwks_url: Option<String>,
    /// `oidc`: a JWKS file instead of `jwks_url` (air-gapped installations).
    pub jwks_file: Option<PathBuf>,
    /// The claim holding the role (providers often use a namespaced custom claim).
    pub role_claim: String,
    /// The claim holding the tenant list.
    pub tenants_claim: String,
    /// `local`: hours the printed dashboard link stays valid.
    pub login_ttl_hours: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            mode: AuthMode::Local,
            issuer: None,
            audience: None,
            jwks_url: None,
            jwks_file: None,
            role_claim: "role".into(),
            tenants_claim: "tenants".into(),
            login_ttl_hours: 12,
        }
    }
}

impl AuthSettings {
    /// Auth off (tests of other concerns, `--auth none`).
    pub fn disabled() -> AuthSettings {
        AuthSettings {
            mode: AuthMode::None,
            ..AuthSettings::default()
        }
    }

    /// Every problem, each naming its `auth.` key; `listeners` are the addresses served.
    pub fn problems(&self, listeners: &[(&str, SocketAddr)]) -> Vec<String> {
        let mut problems = Vec::new();
        match self.mode {
            AuthMode::None => {
                for (name, addr) in listeners {
                    if !addr.ip().is_loopback() {
                        problems.push(format!(
                            "auth.mode: \"none\" is only allowed when every listener is on loopback, but {name} is {addr}"
                        ));
                    }
                }
            }
            AuthMode::Oidc => {
                if self.issuer.as_deref().is_none_or(str::is_empty) {
                    problems.push("auth.issuer: required when auth.mode is \"oidc\"".into());
                }
                if self.audience.as_deref().is_none_or(str::is_empty) {
                    problems.push("auth.audience: required when auth.mode is \"oidc\"".into());
                }
                match (&self.jwks_url, &self.jwks_file) {
                    (None, None) => problems.push(
                        "auth.jwks_url: required when auth.mode is \"oidc\" (or auth.jwks_file)"
                            .into(),
                    ),
                    (Some(_), Some(_)) => problems.push(
                        "auth.jwks_file: give auth.jwks_url or auth.jwks_file, not both".into(),
                    ),
                    (Some(url), None)
                        if !url.starts_with("https://")
                            && !url.starts_with("http://127.")
                            && !url.starts_with("http://localhost") =>
                    {
                        problems.push(format!(
                            "auth.jwks_url: {url:?} must be https (plain http only on loopback)"
                        ));
                    }
                    (None, Some(f)) if !f.is_file() => problems.push(format!(
                        "auth.jwks_file: {} is not a readable file",
                        f.display()
                    )),
                    _ => {}
                }
            }
            AuthMode::Local => {}
        }
        if self.role_claim.is_empty() {
            problems.push("auth.role_claim: must not be empty".into());
        }
        if self.tenants_claim.is_empty() {
            problems.push("auth.tenants_claim: must not be empty".into());
        }
        if !(1..=24 * 30).contains(&self.login_ttl_hours) {
            problems.push("auth.login_ttl_hours: must be between 1 and 720".into());
        }
        problems
    }
}

/// What a started service authenticates with, and the admin link for `up` in local mode.
pub struct AuthSetup {
    pub authenticator: Arc<dyn Authenticator>,
    /// `local` mode: a fresh admin token for the printed dashboard link.
    pub login_token: Option<String>,
}

/// Where local mode keeps revoked token ids.
pub fn revocation_file(data_dir: &Path) -> PathBuf {
    data_dir.join("auth").join("revoked.txt")
}

/// Where `costwatch up` and `costwatch api-key` keep API keys (hashes only).
pub fn api_keys_file(data_dir: &Path) -> PathBuf {
    data_dir.join("api_keys.sqlite")
}

/// `costwatch up` in `local` and `oidc` mode: API keys (`cwk_…`) from
/// `<data-dir>/api_keys.sqlite` are accepted next to tokens. Not with auth off (everyone is
/// admin anyway), and not in distributed mode, where no shared key store exists yet.
pub fn with_api_keys(
    settings: &AuthSettings,
    data_dir: &Path,
    tokens: Arc<dyn Authenticator>,
) -> anyhow::Result<Arc<dyn Authenticator>> {
    if settings.mode == AuthMode::None {
        return Ok(tokens);
    }
    let store = costwatch_embedded::SqliteApiKeys::open(&api_keys_file(data_dir))
        .context("auth: API key store")?;
    let keys = costwatch_auth::ApiKeyAuthenticator::new(Arc::new(store));
    Ok(Arc::new(costwatch_auth::Chain::new(Arc::new(keys), tokens)))
}

pub fn setup(settings: &AuthSettings, data_dir: &Path) -> anyhow::Result<AuthSetup> {
    match settings.mode {
        AuthMode::None => {
            tracing::warn!(
                "AUTHENTICATION IS OFF (auth.mode = \"none\"): every caller on this machine is admin of every tenant"
            );
            eprintln!(
                "costwatch: WARNING: authentication is OFF (--auth none): anyone who can reach the loopback listeners is admin"
            );
            Ok(AuthSetup {
                authenticator: Arc::new(costwatch_ports::NoAuth),
                login_token: None,
            })
        }
        AuthMode::Local => {
            let signer = costwatch_auth::LocalSigner::load_or_create(data_dir)
                .context("auth: local signing key")?;
            let token = signer
                .mint(&costwatch_auth::MintRequest {
                    subject: "admin".into(),
                    role: Role::Admin,
                    tenants: Vec::new(),
                    ttl: chrono::Duration::hours(i64::from(settings.login_ttl_hours)),
                })
                .context("auth: minting the admin login token")?;
            let verifier = signer
                .verifier()
                .with_revocation_file(revocation_file(data_dir));
            Ok(AuthSetup {
                authenticator: Arc::new(verifier),
                login_token: Some(token),
            })
        }
        AuthMode::Oidc => {
            let keys = match (&settings.jwks_url, &settings.jwks_file) {
                (Some(url), _) => costwatch_auth::KeySource::Url(url.clone()),
                (None, Some(file)) => {
                    let text = std::fs::read_to_string(file)
                        .with_context(|| format!("auth.jwks_file: reading {}", file.display()))?;
                    let set = serde_json::from_str(&text).with_context(|| {
                        format!("auth.jwks_file: {} is not a JWK Set", file.display())
                    })?;
                    costwatch_auth::KeySource::Static(set)
                }
                (None, None) => anyhow::bail!("auth.jwks_url: required when auth.mode is \"oidc\""),
            };
            let verifier = costwatch_auth::Verifier::new(costwatch_auth::VerifierConfig {
                issuer: settings.issuer.clone().unwrap_or_default(),
                audience: settings.audience.clone().unwrap_or_default(),
                keys,
                role_claim: settings.role_claim.clone(),
                tenants_claim: settings.tenants_claim.clone(),
                leeway_secs: 30,
            })
            .context("auth")?;
            Ok(AuthSetup {
                authenticator: Arc::new(verifier),
                login_token: None,
            })
        }
    }
}

/// `costwatch token`: mints a token signed by the local key of `--data-dir`.
#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// Tenant the token may act for (repeat for several; ignored for admin and finance).
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
    /// admin, finance, tenant-admin, tenant-viewer or ingest.
    #[arg(long, required_unless_present = "revoke")]
    pub role: Option<String>,
    /// Who the token names in the audit log.
    #[arg(long, default_value = "cli")]
    pub subject: String,
    /// Hours until it expires.
    #[arg(long, default_value_t = 12)]
    pub ttl_hours: u32,
    /// Data directory holding the local signing key (created if missing).
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// Revoke a token by its id (`jti`) instead of minting one.
    #[arg(long, conflicts_with_all = ["tenants", "subject"])]
    pub revoke: Option<String>,
}

pub fn token_command(args: TokenArgs) -> std::process::ExitCode {
    use std::process::ExitCode;
    if let Some(jti) = &args.revoke {
        return match costwatch_auth::revoke(&revocation_file(&args.data_dir), jti) {
            Ok(()) => {
                println!("revoked {jti}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("costwatch token: {e}");
                ExitCode::from(74)
            }
        };
    }
    let role: Role = match args.role.as_deref().unwrap_or_default().parse() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("costwatch token: --role: {e}");
            return ExitCode::from(64);
        }
    };
    if !(1..=24 * 365).contains(&args.ttl_hours) {
        eprintln!("costwatch token: --ttl-hours: must be between 1 and 8760");
        return ExitCode::from(64);
    }
    let signer = match costwatch_auth::LocalSigner::load_or_create(&args.data_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("costwatch token: {e}");
            return ExitCode::from(74);
        }
    };
    match signer.mint(&costwatch_auth::MintRequest {
        subject: args.subject,
        role,
        tenants: args.tenants,
        ttl: chrono::Duration::hours(i64::from(args.ttl_hours)),
    }) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("costwatch token: {e}");
            ExitCode::from(64)
        }
    }
}
