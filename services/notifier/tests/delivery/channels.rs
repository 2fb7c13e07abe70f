//! Each channel's payload, as its local receiver sees it.

use std::sync::Arc;

use base64::Engine;
use costwatch_notifier::channels::webhook::{
    DEFAULT_TOLERANCE, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use costwatch_notifier::{
    AlertState, DeliveryOutcome, InMemoryDeliveryLog, Notifier, NotifierConfig, SignatureError,
    verify_signature,
};
use serde_json::Value;

use crate::notification;
use crate::receiver::Receiver;

/// A notifier with one channel named `test`, configured from TOML like the service does.
pub fn notifier_for(channel_toml: &str) -> Notifier {
    let toml = format!(
        "[retry]\nmax_attempts = 3\ninitial_backoff_ms = 1\nmax_backoff_ms = 5\n\n[channels.test]\n{channel_toml}"
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid config");
    Notifier::from_config(&config, Arc::new(InMemoryDeliveryLog::new())).expect("channels build")
}

async fn deliver_once(notifier: &Notifier, state: AlertState) {
    let reports = notifier.deliver(&notification(state)).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].outcome,
        DeliveryOutcome::Delivered { attempts: 1 },
        "{reports:?}"
    );
}

#[tokio::test]
async fn slack_receives_block_kit() {
    let receiver = Receiver::ok().await;
    let url = receiver.url("/services/T000/B000/XXXX");
    let notifier = notifier_for(&format!("kind = \"slack\"\nwebhook_url = \"{url}\""));
    deliver_once(&notifier, AlertState::Triggered).await;

    let request = receiver.only_request();
    assert_eq!(request.path, "/services/T000/B000/XXXX");
    assert_eq!(request.header("content-type"), "application/json");
    let body = request.json();
    assert_eq!(body["text"], "[CRITICAL] Budget exceeded (triggered)");
    let blocks = body["blocks"].as_array().expect("blocks array");
    let types: Vec<&str> = blocks
        .iter()
        .map(|b| b["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        ["header", "section", "section", "context", "actions"]
    );
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .expect("text")
            .ends_with("Budget exceeded")
    );
    // mrkdwn control characters from user text are escaped.
    assert!(
        blocks[1]["text"]["text"]
            .as_str()
            .expect("text")
            .ends_with("&lt;cloud&gt;")
    );
    assert_eq!(
        blocks[2]["fields"][1]["text"],
        "*Spent*\n1250.00000000503 USD"
    );
    assert_eq!(
        blocks[4]["elements"][0]["url"],
        "http://127.0.0.1:8080/alerts/alert-42"
    );
}

#[tokio::test]
async fn teams_receives_an_adaptive_card() {
    let receiver = Receiver::ok().await;
    let url = receiver.url("/webhookb2/abc");
    let notifier = notifier_for(&format!("kind = \"teams\"\nwebhook_url = \"{url}\""));
    deliver_once(&notifier, AlertState::Triggered).await;

    let body = receiver.only_request().json();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(card["body"][0]["text"], "Budget exceeded");
    let facts = card["body"][2]["facts"].as_array().expect("facts");
    assert!(
        facts
            .iter()
            .any(|f| f["title"] == "Budget" && f["value"] == "1200 USD")
    );
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
}

#[tokio::test]
async fn pagerduty_triggers_then_resolves_the_same_incident() {
    let receiver = Receiver::ok().await;
    let url = receiver.url("/v2/enqueue");
    let notifier = notifier_for(&format!(
        "kind = \"pagerduty\"\nevents_url = \"{url}\"\nrouting_key = \"R0UT1NG\"\nsource = \"costwatch-test\""
    ));
    deliver_once(&notifier, AlertState::Triggered).await;
    deliver_once(&notifier, AlertState::Resolved).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let trigger = requests[0].json();
    assert_eq!(requests[0].path, "/v2/enqueue");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], "R0UT1NG");
    assert_eq!(trigger["dedup_key"], "budget/acme/monthly-cloud");
    assert_eq!(trigger["payload"]["summary"], "Budget exceeded");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "costwatch-test");
    assert_eq!(trigger["payload"]["custom_details"]["Budget"], "1200 USD");
    let resolve = requests[1].json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
    assert_eq!(resolve["routing_key"], "R0UT1NG");
    assert_eq!(resolve.get("payload"), None);
}

#[tokio::test]
async fn webhook_is_signed_and_verifiable() {
    let receiver = Receiver::ok().await;
    let url = receiver.url("/hooks/costwatch");
    let notifier = notifier_for(&format!(
        "kind = \"webhook\"\nurl = \"{url}\"\nsigning_secret = \"whsec_local\""
    ));
    deliver_once(&notifier, AlertState::Acknowledged).await;

    let request = receiver.only_request();
    let timestamp = request.header(TIMESTAMP_HEADER).to_owned();
    let signature = request.header(SIGNATURE_HEADER).to_owned();
    let now = chrono::Utc::now();
    assert_eq!(
        verify_signature(
            b"whsec_local",
            &timestamp,
            &signature,
            &request.body,
            now,
            DEFAULT_TOLERANCE
        ),
        Ok(())
    );
    assert_eq!(
        verify_signature(
            b"wrong",
            &timestamp,
            &signature,
            &request.body,
            now,
            DEFAULT_TOLERANCE
        ),
        Err(SignatureError::Mismatch)
    );
    let mut tampered = request.body.to_vec();
    tampered.push(b' ');
    assert_eq!(
        verify_signature(
            b"whsec_local",
            &timestamp,
            &signature,
            &tampered,
            now,
            DEFAULT_TOLERANCE
        ),
        Err(SignatureError::Mismatch)
    );
    let body = request.json();
    assert_eq!(body["type"], "costwatch.alert");
    assert_eq!(body["version"], 1);
    assert_eq!(body["state"], "acknowledged");
    assert_eq!(body["alert_id"], "alert-42");
    assert_eq!(body["fields"][1]["value"], "1250.00000000503 USD");
}

#[tokio::test]
async fn sms_posts_twilio_form_fields_with_basic_auth() {
    let receiver = Receiver::ok().await;
    let notifier = notifier_for(&format!(
        "kind = \"sms\"\napi_base = \"{}\"\naccount_sid = \"AC123\"\nauth_token = \"tok3n\"\nfrom = \"+15005550006\"\nto = \"+15551234567\"",
        receiver.base
    ));
    deliver_once(&notifier, AlertState::Triggered).await;

    let request = receiver.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/2010-04-01/Accounts/AC123/Messages.json");
    assert_eq!(
        request.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let credentials = request
        .header("authorization")
        .strip_prefix("Basic ")
        .expect("basic auth");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .expect("base64");
    assert_eq!(decoded, b"AC123:tok3n");
    let body = std::str::from_utf8(&request.body).expect("utf-8 form");
    let form: Vec<(String, String)> = reqwest::Url::parse(&format!("http://form/?{body}"))
        .expect("form parses")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("form field {name} missing"))
    };
    assert_eq!(field("To"), "+15551234567");
    assert_eq!(field("From"), "+15005550006");
    assert!(field("Body").starts_with("[CRITICAL] Budget exceeded (triggered)\n"));
}

#[test]
fn payload_builders_are_plain_functions() {
    let n = notification(AlertState::Acknowledged);
    let event: Value = costwatch_notifier::channels::pagerduty::event(&n, "k", "s");
    assert_eq!(event["event_action"], "acknowledge");
    assert_eq!(event.get("payload"), None);
}
