//! Per-channel routing: `min_severity` and `tenants`, from the configuration.

use std::sync::Arc;

use costwatch_notifier::{
    AlertState, DeliveryOutcome, InMemoryDeliveryLog, Notification, Notifier, NotifierConfig,
    Severity,
};

use crate::notification;
use crate::receiver::Receiver;

fn with(severity: Severity, tenant: &str) -> Notification {
    Notification {
        severity,
        tenant: tenant.to_owned(),
        ..notification(AlertState::Triggered)
    }
}

#[tokio::test]
async fn channels_take_only_what_their_filter_matches() {
    let everything = Receiver::ok().await;
    let critical_only = Receiver::ok().await;
    let globex_only = Receiver::ok().await;
    let toml = format!(
        "[channels.everything]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"s\"\n\
         [channels.pager]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"s\"\nmin_severity = \"critical\"\n\
         [channels.globex]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"s\"\nmin_severity = \"warning\"\ntenants = [\"globex\"]\n",
        everything.url("/"),
        critical_only.url("/"),
        globex_only.url("/"),
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid config");
    let notifier =
        Notifier::from_config(&config, Arc::new(InMemoryDeliveryLog::new())).expect("builds");

    // A warning for acme: not the critical-only pager, not the globex channel.
    let reports = notifier.deliver(&with(Severity::Warning, "acme")).await;
    let channels: Vec<&str> = reports.iter().map(|r| r.channel.as_str()).collect();
    assert_eq!(channels, ["everything"]);
    assert_eq!(
        reports[0].outcome,
        DeliveryOutcome::Delivered { attempts: 1 }
    );
    assert_eq!(critical_only.requests().len(), 0);
    assert_eq!(globex_only.requests().len(), 0);

    // An info for globex: below the globex channel's warning floor.
    let mut info = with(Severity::Info, "globex");
    info.alert_id = "alert-info".to_owned();
    let reports = notifier.deliver(&info).await;
    let channels: Vec<&str> = reports.iter().map(|r| r.channel.as_str()).collect();
    assert_eq!(channels, ["everything"]);
    assert_eq!(globex_only.requests().len(), 0);

    // A warning for globex reaches the globex channel.
    let mut globex = with(Severity::Warning, "globex");
    globex.alert_id = "alert-globex".to_owned();
    notifier.deliver(&globex).await;
    assert_eq!(globex_only.requests().len(), 1);
    assert_eq!(critical_only.requests().len(), 0);

    // A critical for acme reaches the pager.
    let mut critical = with(Severity::Critical, "acme");
    critical.alert_id = "alert-critical".to_owned();
    let mut reports = notifier.deliver(&critical).await;
    reports.sort_by(|a, b| a.channel.cmp(&b.channel));
    let channels: Vec<&str> = reports.iter().map(|r| r.channel.as_str()).collect();
    assert_eq!(channels, ["everything", "pager"]);
    assert_eq!(critical_only.requests().len(), 1);
    assert_eq!(globex_only.requests().len(), 1);
    assert_eq!(everything.requests().len(), 4);
}

#[test]
fn invalid_filters_are_reported_with_their_field() {
    let toml = r#"
[channels.hook]
kind = "webhook"
url = "http://127.0.0.1:9/"
signing_secret = "s"
min_severity = "loud"
tenants = ["acme", " "]
"#;
    let error = NotifierConfig::load(Some(toml), Vec::new()).expect_err("invalid");
    let fields: Vec<&str> = error.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["channels.hook.min_severity", "channels.hook.tenants[1]"]
    );
}

#[test]
fn filters_default_to_everything_and_read_from_the_environment() {
    let toml = "[channels.hook]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nsigning_secret = \"s\"\n";
    let config = NotifierConfig::load(Some(toml), Vec::new()).expect("valid");
    let route = config.channels["hook"].route();
    assert_eq!(route.min_severity, Severity::Info);
    assert!(route.tenants.is_empty());

    let config = NotifierConfig::load(
        Some(toml),
        vec![(
            "COSTWATCH_NOTIFIER__CHANNELS__HOOK__MIN_SEVERITY".to_owned(),
            "critical".to_owned(),
        )],
    )
    .expect("valid");
    assert_eq!(
        config.channels["hook"].route().min_severity,
        Severity::Critical
    );
}
