//! `costwatch up` configuration: defaults that work for `make run`, then an optional TOML file,
//! then `COSTWATCH_*` environment variables, then command-line flags. Validated before any port
//! is bound, with every problem reported at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    /// HTTP listener: dashboard, GraphQL, REST, event ingest, health.
    pub http: SocketAddr,
    /// gRPC listener: IngestService, health, reflection.
    pub grpc: SocketAddr,
    /// Where the embedded bus and store keep their SQLite files.
    pub data_dir: PathBuf,
    /// Generate demo data (backfill and live).
    pub demo: bool,
    /// Days of demo history to backfill.
    pub demo_days: i64,
    /// Rate card TOML; the built-in `deploy/rate-card.toml` when unset.
    pub rate_card: Option<PathBuf>,
    /// FX table TOML (`[usd_per_unit]`); built-in reference rates when unset.
    pub fx: Option<PathBuf>,
    /// Currency answers default to.
    pub default_currency: String,
    /// Largest ingest request body, bytes.
    pub max_body_bytes: usize,
    /// Most events per ingest request.
    pub max_batch_events: usize,
    /// Built dashboard to serve at `/` (issue: web); a built-in page when missing.
    pub web_dir: PathBuf,
    /// Notifier TOML (channels, retries, routing; secrets from `COSTWATCH_NOTIFIER__*`). Alerts
    /// are still evaluated, stored and pushed to subscriptions without it; nothing is paged.
    pub notifier: Option<PathBuf>,
    /// Seconds between sweeps that evaluate every tenant's alerts even without new costs
    /// (period rollovers).
    pub alert_sweep_secs: u64,
    /// Run the anomaly detector (hourly cost series; results in `anomalies.sqlite`, GraphQL
    /// `anomalies`/`anomalyDetected`, `Anomaly` alerts).
    pub anomalies: bool,
    /// Folder watched for billing files to import: `<import_dir>/<tenant>/<file>`, FOCUS or CUR
    /// (CSV, gzip or Parquet); imported files move to `<tenant>/done/`, rejected ones to
    /// `<tenant>/failed/` with a `<name>.errors.txt`. Off when unset.
    pub import_dir: Option<PathBuf>,
    /// Seconds between scans of `import_dir`.
    pub import_scan_secs: u64,
    /// Cloud billing APIs polled on a schedule (`[[pollers]]`: vendor, tenant, config,
    /// token_file, every_secs, from); see `poll::schedule`.
    pub pollers: Vec<crate::poll::schedule::ScheduledPoll>,
    /// Who may call (`[auth]`: mode local | oidc | none; see `crate::auth`).
    pub auth: crate::auth::AuthSettings,
    /// Hide the API's self-description (GraphiQL, introspection, field suggestions): for a
    /// platform reachable by more than its developers.
    pub production: bool,
    /// Label keys whose values are sensitive (`["owner", "email"]`): masked for tenant-viewers,
    /// who may not group or filter by them either.
    pub sensitive_labels: Vec<String>,
    /// Days of cost history kept for every tenant without an entry in `retention_tenants`
    /// (at least 31); 0 keeps everything.
    pub retention_days: u32,
    /// Days kept per tenant (`[retention_tenants] acme = 400`), overriding `retention_days`.
    pub retention_tenants: std::collections::BTreeMap<String, u32>,
    /// Seconds between retention sweeps.
    pub retention_sweep_secs: u64,
    /// Requests per minute per caller (per token or API key; per address without one) on the
    /// HTTP listener; 0 turns the limit off. `/healthz` is never limited.
    pub rate_limit_per_minute: u32,
    /// Requests a caller may make at once before the per-minute rate applies.
    pub rate_limit_burst: u32,
    /// Seconds an HTTP request may take to answer (WebSocket sessions are not bounded).
    pub request_timeout_secs: u64,
    /// PEM certificate chain (leaf first): with `tls_key_file`, both listeners serve TLS (HTTPS
    /// with HSTS, gRPC over TLS). Plain when both are unset.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of that certificate (PKCS#8, RSA or EC).
    pub tls_key_file: Option<PathBuf>,
}

impl Default for UpConfig {
    fn default() -> Self {
        UpConfig {
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            grpc: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("./data"),
            demo: false,
            demo_days: 90,
            rate_card: None,
            fx: None,
            default_currency: "USD".into(),
            max_body_bytes: 10 * 1024 * 1024,
            max_batch_events: 10_000,
            web_dir: PathBuf::from("web/dist"),
            notifier: None,
            alert_sweep_secs: 60,
            anomalies: true,
            import_dir: None,
            import_scan_secs: 30,
            pollers: Vec::new(),
            auth: crate::auth::AuthSettings::default(),
            production: false,
            sensitive_labels: Vec::new(),
            retention_days: 0,
            retention_tenants: std::collections::BTreeMap::new(),
            retention_sweep_secs: 3600,
            rate_limit_per_minute: 600,
            rate_limit_burst: 120,
            request_timeout_secs: 30,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

impl UpConfig {
    /// The `retention_*` settings as a policy.
    pub fn retention(&self) -> costwatch_domain::retention::RetentionPolicy {
        costwatch_domain::retention::RetentionPolicy {
            default_days: (self.retention_days > 0).then_some(self.retention_days),
            tenants: self.retention_tenants.clone(),
        }
    }

    /// What the gateway describes of itself.
    pub fn api_mode(&self) -> costwatch_gateway::ApiMode {
        if self.production {
            costwatch_gateway::ApiMode::Production
        } else {
            costwatch_gateway::ApiMode::Development
        }
    }

    /// Layers defaults, the file (if any) and `COSTWATCH_*` env vars. Flags are merged by the caller.
    pub fn figment(file: Option<&std::path::Path>) -> Figment {
        let mut f = Figment::from(Serialized::defaults(UpConfig::default()));
        if let Some(path) = file {
            f = f.merge(Toml::file_exact(path));
        }
        // Only the settings' own names: other COSTWATCH_* variables (COSTWATCH_LOG, a script's
        // COSTWATCH_BIN) are not settings and must not make the config invalid.
        let keys = UpConfig::setting_names();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        f.merge(Env::prefixed("COSTWATCH_").only(&keys))
    }

    /// The names of every setting (the keys of the TOML file and, upper-cased, of the env vars).
    pub fn setting_names() -> Vec<String> {
        match serde_json::to_value(UpConfig::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Every problem at once, each naming the setting.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self
            .default_currency
            .parse::<costwatch_domain::Currency>()
            .is_err()
        {
            problems.push(format!(
                "default_currency: {:?} is not an ISO 4217 code",
                self.default_currency
            ));
        }
        if self.max_body_bytes < 1024 {
            problems.push("max_body_bytes: must be at least 1024".into());
        }
        if self.max_batch_events == 0 {
            problems.push("max_batch_events: must be at least 1".into());
        }
        if !(0..=3 * 366).contains(&self.demo_days) {
            problems.push("demo_days: must be between 0 and 1098".into());
        }
        if !(1..=3600).contains(&self.alert_sweep_secs) {
            problems.push("alert_sweep_secs: must be between 1 and 3600".into());
        }
        if self.import_scan_secs == 0 {
            problems.push("import_scan_secs: must be at least 1".into());
        }
        problems.extend(crate::serve::hardening_problems(
            self.rate_limit_per_minute,
            self.rate_limit_burst,
            self.request_timeout_secs,
        ));
        problems.extend(self.tls().problems());
        problems.extend(self.retention().problems());
        problems.extend(
            costwatch_domain::sensitive_labels::SensitiveLabels::new(self.sensitive_labels.clone())
                .problems(),
        );
        if !(1..=86_400).contains(&self.retention_sweep_secs) {
            problems.push("retention_sweep_secs: must be between 1 and 86400".into());
        }
        if let Some(dir) = &self.import_dir
            && !dir.is_dir()
        {
            problems.push(format!("import_dir: {} is not a directory", dir.display()));
        }
        problems.extend(
            self.auth
                .problems(&[("http", self.http), ("grpc", self.grpc)]),
        );
        for (i, poll) in self.pollers.iter().enumerate() {
            problems.extend(poll.problems(i));
        }
        for (name, path) in [
            ("rate_card", &self.rate_card),
            ("fx", &self.fx),
            ("notifier", &self.notifier),
        ] {
            if let Some(p) = path
                && !p.is_file()
            {
                problems.push(format!("{name}: {} is not a readable file", p.display()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Rate limit, timeout and headers of the HTTP listener.
    pub fn hardening(&self) -> costwatch_gateway::hardening::HardeningConfig {
        crate::serve::hardening(
            self.rate_limit_per_minute,
            self.rate_limit_burst,
            self.request_timeout_secs,
            self.tls().enabled(),
        )
    }

    /// The `tls_*` settings.
    pub fn tls(&self) -> crate::tls::TlsSettings {
        crate::tls::TlsSettings {
            cert_file: self.tls_cert_file.clone(),
            key_file: self.tls_key_file.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_make_run() {
        let c = UpConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.http.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn every_problem_is_reported() {
        let c = UpConfig {
            default_currency: "dollars".into(),
            max_batch_events: 0,
            ..UpConfig::default()
        };
        let problems = c.validate().unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("default_currency"));
    }

    #[test]
    fn import_keys_are_checked() {
        let c = UpConfig {
            import_dir: Some(PathBuf::from("/no/such/costwatch/import/dir")),
            import_scan_secs: 0,
            ..UpConfig::default()
        };
        let problems = c.validate().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("import_scan_secs"));
        assert!(problems[1].starts_with("import_dir"));
    }

    #[test]
    fn hardening_keys_are_checked_by_name() {
        let c = UpConfig {
            rate_limit_burst: 0,
            request_timeout_secs: 0,
            ..UpConfig::default()
        };
        let problems = c.validate().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("rate_limit_burst"));
        assert!(problems[1].starts_with("request_timeout_secs"));
        // 0 per minute turns the limit off, whatever the burst.
        let off = UpConfig {
            rate_limit_per_minute: 0,
            rate_limit_burst: 0,
            ..UpConfig::default()
        };
        assert!(off.validate().is_ok());
        assert!(off.hardening().rate_limits.is_none());
    }

    #[test]
    fn tls_keys_are_checked_by_name() {
        let c = UpConfig {
            tls_cert_file: Some(PathBuf::from("/no/such/costwatch/cert.pem")),
            ..UpConfig::default()
        };
        let problems = c.validate().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0],
            "tls_key_file: required when tls_cert_file is set"
        );
        assert!(problems[1].starts_with("tls_cert_file"));
        assert!(!UpConfig::default().hardening().tls);
        assert!(UpConfig::setting_names().contains(&"tls_cert_file".to_string()));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn files_and_env_layer_over_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "demo = true\nhttp = \"127.0.0.1:9000\"")?;
            jail.set_env("COSTWATCH_DEMO_DAYS", "7");
            jail.set_env("COSTWATCH_BIN", "/not/a/setting");
            let c: UpConfig = UpConfig::figment(Some(std::path::Path::new("c.toml"))).extract()?;
            assert!(c.demo);
            assert_eq!(c.demo_days, 7);
            assert_eq!(c.http.port(), 9000);
            Ok(())
        });
    }
}
