//! Configuration: TOML plus environment, validation, and secrets that never print.

use costwatch_notifier::NotifierConfig;
use costwatch_notifier::config::ChannelKind;

const TOML: &str = r#"
[channels.ops_slack]
kind = "slack"
webhook_url = "http://127.0.0.1:9/services/T0/B0/slack-secret-path"
rate_limit = { burst = 3, per_second = 1.0 }

[channels.oncall]
kind = "pagerduty"
routing_key = "pd-routing-secret"

[channels.hook]
kind = "webhook"
url = "http://127.0.0.1:9/hook"
signing_secret = "hmac-secret"

[channels.phone]
kind = "sms"
account_sid = "AC1"
auth_token = "twilio-secret"
from = "+15005550006"
to = "+15551234567"

[channels.mail]
kind = "email"
host = "127.0.0.1"
tls = "none"
username = "alerts"
password = "smtp-secret"
from = "alerts@example.com"
to = ["finops@example.com"]
"#;

const SECRETS: [&str; 6] = [
    "slack-secret-path",
    "pd-routing-secret",
    "hmac-secret",
    "twilio-secret",
    "smtp-secret",
    "env-teams-secret",
];

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn formatting_a_config_never_shows_a_secret() {
    let config = NotifierConfig::load(
        Some(TOML),
        env(&[
            ("COSTWATCH_NOTIFIER__CHANNELS__TEAMS__KIND", "teams"),
            (
                "COSTWATCH_NOTIFIER__CHANNELS__TEAMS__WEBHOOK_URL",
                "http://127.0.0.1:9/env-teams-secret",
            ),
        ]),
    )
    .expect("valid config");
    assert_eq!(config.channels.len(), 6);
    for rendering in [format!("{config:?}"), format!("{config:#?}")] {
        for secret in SECRETS {
            assert!(
                !rendering.contains(secret),
                "{secret} leaked in {rendering}"
            );
        }
        assert!(rendering.contains("***"));
    }
    // The secrets are still there for the channels to use.
    let ChannelKind::Pagerduty(pd) = &config.channels["oncall"].kind else {
        panic!("oncall should be pagerduty");
    };
    assert_eq!(pd.routing_key.expose(), "pd-routing-secret");
}

#[test]
fn environment_overrides_toml_and_parses_numbers() {
    let config = NotifierConfig::load(
        Some(TOML),
        env(&[
            (
                "COSTWATCH_NOTIFIER__CHANNELS__ONCALL__ROUTING_KEY",
                "from-env",
            ),
            ("COSTWATCH_NOTIFIER__RETRY__MAX_ATTEMPTS", "9"),
            ("UNRELATED", "ignored"),
        ]),
    )
    .expect("valid config");
    assert_eq!(config.retry.max_attempts, 9);
    let ChannelKind::Pagerduty(pd) = &config.channels["oncall"].kind else {
        panic!("oncall should be pagerduty");
    };
    assert_eq!(pd.routing_key.expose(), "from-env");
    assert_eq!(pd.events_url, "https://events.pagerduty.com/v2/enqueue");
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let toml = r#"
[retry]
max_attempts = 0
initial_backoff_ms = 5000
max_backoff_ms = 10

[channels.slack]
kind = "slack"
webhook_url = "not a url"
rate_limit = { burst = 0, per_second = 0.0 }

[channels.mail]
kind = "email"
host = "127.0.0.1"
from = "nobody"
to = []
"#;
    let error = NotifierConfig::load(Some(toml), Vec::new()).expect_err("invalid");
    let fields: Vec<&str> = error.problems.iter().map(|p| p.field.as_str()).collect();
    for expected in [
        "retry.max_attempts",
        "retry.initial_backoff_ms",
        "channels.slack.webhook_url",
        "channels.slack.rate_limit.burst",
        "channels.slack.rate_limit.per_second",
        "channels.mail.from",
        "channels.mail.to",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    // The bad URL is a secret-bearing field: its value is not echoed.
    assert!(!error.to_string().contains("not a url"), "{error}");
}

#[test]
fn a_missing_required_field_names_it() {
    let error = NotifierConfig::load(
        Some("[channels.x]\nkind = \"webhook\"\nurl = \"http://h/\""),
        Vec::new(),
    )
    .expect_err("signing_secret missing");
    assert!(error.to_string().contains("signing_secret"), "{error}");
}
