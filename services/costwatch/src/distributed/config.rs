//! Distributed-mode configuration, one file for every service process (each reads the parts it
//! needs): defaults that match `make dev-stack`, then a TOML file (`deploy/dev/costwatch.toml`),
//! then `COSTWATCH_*` environment variables. Validated before connecting, every problem at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use costwatch_cql::Replication;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributedConfig {
    /// Kafka bootstrap servers, `host:port[,host:port]`.
    pub kafka_brokers: String,
    /// Topic of usage events (keyed by tenant).
    pub usage_topic: String,
    /// Topic of cost updates (aggregator → gateways, alerting).
    pub updates_topic: String,
    /// Topic of alert events (notifier process → gateways' subscriptions).
    pub alerts_topic: String,
    /// Topic of events the aggregator could not count, with the reason in headers.
    pub dead_letter_topic: String,
    /// Topic of new anomalies (anomaly-detector process → gateways' subscriptions).
    pub anomalies_topic: String,
    /// Partitions and replication factor `migrate` creates topics with.
    pub topic_partitions: i32,
    pub topic_replication: i32,
    /// CQL contact points, `host:port[,host:port]` (ScyllaDB or Cassandra).
    pub cql_nodes: String,
    pub keyspace: String,
    /// `simple:N` (SimpleStrategy, dev) or `dc1:3,dc2:3` (NetworkTopologyStrategy).
    pub cql_replication: String,
    /// The aggregator's consumer name: its positions are stored under it (one writer per name).
    pub consumer: String,
    /// Collector listeners (ingest HTTP and gRPC).
    pub collector_http: SocketAddr,
    pub collector_grpc: SocketAddr,
    /// Gateway listener (dashboard, GraphQL, REST).
    pub gateway_http: SocketAddr,
    pub rate_card: Option<PathBuf>,
    pub fx: Option<PathBuf>,
    pub default_currency: String,
    pub max_body_bytes: usize,
    pub max_batch_events: usize,
    pub web_dir: PathBuf,
    /// Notifier channels (the same TOML as `costwatch up --notifier`); none: alerts are only
    /// stored and streamed.
    pub notifier: Option<PathBuf>,
    /// The notifier process's local state (its delivery log).
    pub data_dir: PathBuf,
    /// Seconds between sweeps that evaluate every tenant even without new costs.
    pub alert_sweep_secs: u64,
    /// Link put in notifications.
    pub dashboard_url: String,
    /// Cloud billing APIs the collector polls on a schedule (checkpoints in `data_dir`); see
    /// `poll::schedule`.
    pub pollers: Vec<crate::poll::schedule::ScheduledPoll>,
    /// Authentication of the gateway and collector listeners: `oidc` (the default: tokens of
    /// your identity provider), `local` (a signing key in `data_dir`, which every gateway and
    /// collector must share) or `none` (only when every listener is on loopback).
    pub auth_mode: crate::auth::AuthMode,
    /// `oidc`: required `iss`.
    pub auth_issuer: Option<String>,
    /// `oidc`: required `aud`.
    pub auth_audience: Option<String>,
    /// `oidc`: the provider's JWKS endpoint.
    pub auth_jwks_url: Option<String>,
    /// The claims holding the Costwatch role and tenant list.
    pub auth_role_claim: String,
    pub auth_tenants_claim: String,
    /// Hide the API's self-description (GraphiQL, introspection, field suggestions); on by
    /// default, since a distributed deployment serves more than its developers.
    pub production: bool,
    /// Label keys whose values are sensitive: masked for tenant-viewers, who may not group or
    /// filter by them either.
    pub sensitive_labels: Vec<String>,
    /// Requests per minute per caller on the gateway and collector HTTP listeners (per token or
    /// API key; per address without one); 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Requests a caller may make at once before the per-minute rate applies.
    pub rate_limit_burst: u32,
    /// Seconds an HTTP request may take to answer (WebSocket sessions are not bounded).
    pub request_timeout_secs: u64,
    /// PEM certificate chain (leaf first): with `tls_key_file`, the gateway and collector
    /// listeners serve TLS (HTTPS with HSTS, gRPC over TLS). Plain when both are unset.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of that certificate (PKCS#8, RSA or EC).
    pub tls_key_file: Option<PathBuf>,
}

impl Default for DistributedConfig {
    fn default() -> Self {
        DistributedConfig {
            kafka_brokers: "127.0.0.1:9092".into(),
            usage_topic: "costwatch.usage.v1".into(),
            updates_topic: "costwatch.cost-updates.v1".into(),
            alerts_topic: "costwatch.alerts.v1".into(),
            dead_letter_topic: "costwatch.dead-letters.v1".into(),
            anomalies_topic: "costwatch.anomalies.v1".into(),
            topic_partitions: 6,
            topic_replication: 1,
            cql_nodes: "127.0.0.1:9042".into(),
            keyspace: "costwatch".into(),
            cql_replication: "simple:1".into(),
            consumer: "aggregator".into(),
            collector_http: SocketAddr::from(([127, 0, 0, 1], 8081)),
            collector_grpc: SocketAddr::from(([127, 0, 0, 1], 50051)),
            gateway_http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            rate_card: None,
            fx: None,
            default_currency: "USD".into(),
            max_body_bytes: 10 * 1024 * 1024,
            max_batch_events: 10_000,
            web_dir: PathBuf::from("web/dist"),
            notifier: None,
            data_dir: PathBuf::from(".costwatch/notifier"),
            alert_sweep_secs: 60,
            dashboard_url: "http://127.0.0.1:8080".into(),
            pollers: Vec::new(),
            auth_mode: crate::auth::AuthMode::Oidc,
            auth_issuer: None,
            auth_audience: None,
            auth_jwks_url: None,
            auth_role_claim: "role".into(),
            auth_tenants_claim: "tenants".into(),
            production: true,
            sensitive_labels: Vec::new(),
            rate_limit_per_minute: 600,
            rate_limit_burst: 120,
            request_timeout_secs: 30,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

/// Parses `simple:N` or `dc:N[,dc:N]`.
pub fn parse_replication(text: &str) -> Result<Replication, String> {
    let count = |n: &str| {
        n.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{n:?} is not a positive replica count"))
    };
    if let Some(n) = text.strip_prefix("simple:") {
        return Ok(Replication::Simple { factor: count(n)? });
    }
    let mut data_centres = BTreeMap::new();
    for part in text.split(',') {
        let (dc, n) = part
            .split_once(':')
            .ok_or_else(|| format!("{part:?} is not `dc:N` (or use `simple:N`)"))?;
        if dc.trim().is_empty() {
            return Err(format!("{part:?} has no data-centre name"));
        }
        data_centres.insert(dc.trim().to_string(), count(n)?);
    }
    Ok(Replication::NetworkTopology { data_centres })
}

impl DistributedConfig {
    pub fn figment(file: Option<&std::path::Path>) -> Figment {
        let mut f = Figment::from(Serialized::defaults(DistributedConfig::default()));
        if let Some(path) = file {
            f = f.merge(Toml::file_exact(path));
        }
        let keys: Vec<String> = match serde_json::to_value(DistributedConfig::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        f.merge(Env::prefixed("COSTWATCH_").only(&keys))
    }

    pub fn load(file: Option<&std::path::Path>) -> Result<DistributedConfig, String> {
        let cfg: DistributedConfig = Self::figment(file)
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        cfg.validate()
            .map_err(|p| format!("invalid configuration:\n  {}", p.join("\n  ")))?;
        Ok(cfg)
    }

    pub fn cql_nodes(&self) -> Vec<String> {
        self.cql_nodes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn cql_options(&self) -> Result<costwatch_cql::CqlOptions, String> {
        Ok(costwatch_cql::CqlOptions {
            nodes: self.cql_nodes(),
            keyspace: self.keyspace.clone(),
            replication: parse_replication(&self.cql_replication)
                .map_err(|e| format!("cql_replication: {e}"))?,
        })
    }

    pub fn kafka_options(&self) -> costwatch_kafka::KafkaOptions {
        costwatch_kafka::KafkaOptions {
            brokers: self.kafka_brokers.clone(),
            topic: self.usage_topic.clone(),
            partitions: self.topic_partitions,
            replication: self.topic_replication,
        }
    }

    /// The `auth_*` settings as the auth module takes them.
    pub fn auth_settings(&self) -> crate::auth::AuthSettings {
        crate::auth::AuthSettings {
            mode: self.auth_mode,
            issuer: self.auth_issuer.clone(),
            audience: self.auth_audience.clone(),
            jwks_url: self.auth_jwks_url.clone(),
            jwks_file: None,
            role_claim: self.auth_role_claim.clone(),
            tenants_claim: self.auth_tenants_claim.clone(),
            ..crate::auth::AuthSettings::default()
        }
    }

    /// Problems of the `auth_*` settings, checked by the services that serve callers (the
    /// gateway and the collector), not by `migrate` or the back-end services.
    pub fn auth_problems(&self) -> Vec<String> {
        let listeners = [
            ("collector_http", self.collector_http),
            ("collector_grpc", self.collector_grpc),
            ("gateway_http", self.gateway_http),
        ];
        // Flat keys here (`auth_issuer`), a table in `costwatch up` (`auth.issuer`).
        self.auth_settings()
            .problems(&listeners)
            .into_iter()
            .map(|p| {
                p.replace("auth.", "auth_")
                    .replace(" (or auth_jwks_file)", "")
            })
            .collect()
    }

    /// The authenticator of a serving process, refusing bad `auth_*` settings by name.
    pub fn auth_setup(&self) -> anyhow::Result<crate::auth::AuthSetup> {
        let problems = self.auth_problems();
        if !problems.is_empty() {
            anyhow::bail!("invalid configuration:\n  {}", problems.join("\n  "));
        }
        crate::auth::setup(&self.auth_settings(), &self.data_dir)
    }

    /// Rate limit, timeout and headers of the HTTP listeners.
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

    /// The `sensitive_labels` setting.
    pub fn sensitive_labels(&self) -> costwatch_domain::sensitive_labels::SensitiveLabels {
        costwatch_domain::sensitive_labels::SensitiveLabels::new(self.sensitive_labels.clone())
    }

    /// Every problem at once, each naming the setting.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.kafka_brokers.trim().is_empty() {
            problems.push("kafka_brokers: must name at least one broker".to_string());
        }
        if self.cql_nodes().is_empty() {
            problems.push("cql_nodes: must name at least one node".to_string());
        }
        if let Err(e) = costwatch_cql::check_keyspace(&self.keyspace) {
            problems.push(format!("keyspace: {e}"));
        }
        if let Err(e) = parse_replication(&self.cql_replication) {
            problems.push(format!("cql_replication: {e}"));
        }
        if self.topic_partitions < 1 {
            problems.push("topic_partitions: must be at least 1".to_string());
        }
        if self.topic_replication < 1 {
            problems.push("topic_replication: must be at least 1".to_string());
        }
        for (name, topic) in [
            ("usage_topic", &self.usage_topic),
            ("updates_topic", &self.updates_topic),
            ("alerts_topic", &self.alerts_topic),
            ("dead_letter_topic", &self.dead_letter_topic),
            ("anomalies_topic", &self.anomalies_topic),
        ] {
            let ok = !topic.is_empty()
                && topic.len() <= 249
                && topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !ok {
                problems.push(format!("{name}: {topic:?} is not a valid Kafka topic name"));
            }
        }
        if self.consumer.trim().is_empty() {
            problems.push("consumer: must not be empty".to_string());
        }
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
        if self.alert_sweep_secs == 0 {
            problems.push("alert_sweep_secs: must be at least 1".to_string());
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
        for (i, poll) in self.pollers.iter().enumerate() {
            problems.extend(poll.problems(i));
        }
        problems.extend(crate::serve::hardening_problems(
            self.rate_limit_per_minute,
            self.rate_limit_burst,
            self.request_timeout_secs,
        ));
        // Only the pair here: every role reads this file, but the certificate and key are read
        // (and, in the chart, mounted) only where they are served, by the gateway and collector.
        problems.extend(self.tls().pairing_problems());
        problems.extend(self.sensitive_labels().problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_dev_stack() {
        let c = DistributedConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.cql_nodes(), vec!["127.0.0.1:9042".to_string()]);
    }

    #[test]
    fn replication_settings_parse_or_name_the_problem() {
        assert_eq!(
            parse_replication("simple:1"),
            Ok(Replication::Simple { factor: 1 })
        );
        assert_eq!(
            parse_replication("eu:3, us:2"),
            Ok(Replication::NetworkTopology {
                data_centres: BTreeMap::from([("eu".into(), 3), ("us".into(), 2)])
            })
        );
        assert!(parse_replication("simple:0").is_err());
        assert!(parse_replication("eu").unwrap_err().contains("dc:N"));
    }

    #[test]
    fn every_problem_is_reported_with_its_setting() {
        let c = DistributedConfig {
            keyspace: "Bad-Name".into(),
            cql_replication: "x".into(),
            usage_topic: "bad topic".into(),
            ..DistributedConfig::default()
        };
        let problems = c.validate().unwrap_err();
        let named: Vec<&str> = problems
            .iter()
            .filter_map(|p| p.split(':').next())
            .collect();
        assert_eq!(named, vec!["keyspace", "cql_replication", "usage_topic"]);
    }

    #[test]
    fn tls_keys_are_checked_by_name() {
        let c = DistributedConfig {
            tls_key_file: Some(PathBuf::from("/no/such/costwatch/key.pem")),
            ..DistributedConfig::default()
        };
        let problems = c.validate().unwrap_err();
        assert_eq!(
            problems,
            vec!["tls_cert_file: required when tls_key_file is set".to_string()]
        );
        // The serving roles read the files, and name the unreadable one.
        let both = DistributedConfig {
            tls_cert_file: Some(PathBuf::from("/no/such/costwatch/cert.pem")),
            ..c
        };
        assert!(both.validate().is_ok());
        let e = both
            .tls()
            .load()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("tls_key_file: /no/such/costwatch/key.pem"),
            "{e}"
        );
    }
}
