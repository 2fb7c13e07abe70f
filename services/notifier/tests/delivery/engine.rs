//! Retries, dead letters, error classification, Retry-After and status, against real receivers.

use std::sync::Arc;
use std::time::Duration;

use costwatch_notifier::{
    AlertState, DeliveryLog, DeliveryOutcome, DeliveryState, InMemoryDeliveryLog, Notifier,
    NotifierConfig, SendError,
};

use crate::notification;
use crate::receiver::{OK, Receiver, Reply, status};

const MAX_ATTEMPTS: u32 = 4;

/// A webhook channel named `hook` to `url`, with millisecond backoff, and its log.
fn webhook_notifier(url: &str, initial_backoff_ms: u64) -> (Notifier, Arc<InMemoryDeliveryLog>) {
    let toml = format!(
        "[retry]\nmax_attempts = {MAX_ATTEMPTS}\ninitial_backoff_ms = {initial_backoff_ms}\n\
         max_backoff_ms = {}\n\n[channels.hook]\nkind = \"webhook\"\nurl = \"{url}\"\nsigning_secret = \"s\"",
        initial_backoff_ms.max(20)
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid config");
    let log = Arc::new(InMemoryDeliveryLog::new());
    let notifier = Notifier::from_config(&config, log.clone()).expect("builds");
    (notifier, log)
}

#[tokio::test]
async fn two_503s_are_retried_then_delivered() {
    let receiver = Receiver::start(vec![status(503), status(503)], OK).await;
    let (notifier, log) = webhook_notifier(&receiver.url("/hook"), 1);
    let reports = notifier.deliver(&notification(AlertState::Triggered)).await;

    assert_eq!(
        reports[0].outcome,
        DeliveryOutcome::Delivered { attempts: 3 }
    );
    assert_eq!(receiver.requests().len(), 3);
    let status = log
        .status("alert-42", "hook")
        .expect("log readable")
        .expect("status kept");
    assert_eq!(status.state, DeliveryState::Delivered);
    assert_eq!(status.attempts, 3);
    assert_eq!(status.alert_state, AlertState::Triggered);
    assert!(log.dead_letters().expect("readable").is_empty());
}

#[tokio::test]
async fn a_receiver_that_always_fails_gets_max_attempts_then_a_dead_letter() {
    let receiver = Receiver::start(Vec::new(), status(500)).await;
    let (notifier, log) = webhook_notifier(&receiver.url("/hook"), 1);
    let reports = notifier.deliver(&notification(AlertState::Triggered)).await;

    let DeliveryOutcome::DeadLettered {
        attempts,
        last_error,
    } = &reports[0].outcome
    else {
        panic!("expected a dead letter, got {reports:?}");
    };
    assert_eq!(*attempts, MAX_ATTEMPTS);
    assert!(last_error.is_retryable());
    assert_eq!(receiver.requests().len(), MAX_ATTEMPTS as usize);
    let letters = log.dead_letters().expect("readable");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].channel, "hook");
    assert_eq!(letters[0].attempts, MAX_ATTEMPTS);
    assert!(
        letters[0].last_error.contains("500"),
        "{}",
        letters[0].last_error
    );
    assert_eq!(letters[0].notification, notification(AlertState::Triggered));
    let status = log
        .status("alert-42", "hook")
        .expect("readable")
        .expect("kept");
    assert_eq!(status.state, DeliveryState::DeadLettered);
    assert_eq!(status.attempts, MAX_ATTEMPTS);
    assert!(status.last_error.is_some());
}

#[tokio::test]
async fn a_400_is_permanent_and_not_retried() {
    let receiver = Receiver::start(Vec::new(), status(400)).await;
    let (notifier, log) = webhook_notifier(&receiver.url("/hook"), 1);
    let reports = notifier.deliver(&notification(AlertState::Triggered)).await;

    let DeliveryOutcome::DeadLettered {
        attempts,
        last_error,
    } = &reports[0].outcome
    else {
        panic!("expected a dead letter, got {reports:?}");
    };
    assert_eq!(*attempts, 1);
    assert!(
        matches!(last_error, SendError::Permanent { .. }),
        "{last_error:?}"
    );
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(log.dead_letters().expect("readable").len(), 1);
}

#[tokio::test]
async fn throttling_and_timeouts_are_retried_but_other_4xx_are_not() {
    for (code, retried) in [
        (408u16, true),
        (429, true),
        (502, true),
        (401, false),
        (404, false),
        (422, false),
    ] {
        let receiver = Receiver::start(vec![status(code)], OK).await;
        let (notifier, _log) = webhook_notifier(&receiver.url("/hook"), 1);
        let outcome = notifier.deliver(&notification(AlertState::Triggered)).await[0]
            .outcome
            .clone();
        let expected_requests = if retried { 2 } else { 1 };
        assert_eq!(
            receiver.requests().len(),
            expected_requests,
            "status {code}: {outcome:?}"
        );
        assert_eq!(
            matches!(outcome, DeliveryOutcome::Delivered { .. }),
            retried,
            "status {code}"
        );
    }
}

#[tokio::test]
async fn retry_after_replaces_the_backoff() {
    // Backoff of a minute: only the receiver's `Retry-After: 0` lets the retry happen within the
    // guard below. (The guard turns "Retry-After ignored" into a failure instead of a hang.)
    let throttled = Reply {
        status: 429,
        retry_after: Some("0"),
    };
    let receiver = Receiver::start(vec![throttled], OK).await;
    let (notifier, _log) = webhook_notifier(&receiver.url("/hook"), 60_000);
    let reports = tokio::time::timeout(
        Duration::from_secs(20),
        notifier.deliver(&notification(AlertState::Triggered)),
    )
    .await
    .expect("Retry-After: 0 must override a 30-60 s backoff");
    assert_eq!(
        reports[0].outcome,
        DeliveryOutcome::Delivered { attempts: 2 }
    );
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_as_a_connection_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener); // nothing listens there now: connection refused
    let (notifier, _log) = webhook_notifier(&format!("http://{address}/hook"), 1);
    let reports = notifier.deliver(&notification(AlertState::Triggered)).await;
    let DeliveryOutcome::DeadLettered {
        attempts,
        last_error,
    } = &reports[0].outcome
    else {
        panic!("expected a dead letter, got {reports:?}");
    };
    assert_eq!(*attempts, MAX_ATTEMPTS);
    assert!(
        last_error.to_string().contains("could not connect"),
        "{last_error}"
    );
}

#[tokio::test]
async fn a_replayed_notification_is_not_sent_twice_but_the_next_state_is() {
    let receiver = Receiver::ok().await;
    let (notifier, log) = webhook_notifier(&receiver.url("/hook"), 1);
    let triggered = notification(AlertState::Triggered);
    notifier.deliver(&triggered).await;
    let replay = notifier.deliver(&triggered).await;
    assert_eq!(replay[0].outcome, DeliveryOutcome::AlreadyDelivered);
    assert_eq!(receiver.requests().len(), 1);

    let resolved = notifier.deliver(&notification(AlertState::Resolved)).await;
    assert_eq!(
        resolved[0].outcome,
        DeliveryOutcome::Delivered { attempts: 1 }
    );
    assert_eq!(receiver.requests().len(), 2);
    let status = log
        .status("alert-42", "hook")
        .expect("readable")
        .expect("kept");
    assert_eq!(status.alert_state, AlertState::Resolved);
}

#[tokio::test]
async fn channels_are_independent() {
    let healthy = Receiver::ok().await;
    let broken = Receiver::start(Vec::new(), status(400)).await;
    let toml = format!(
        "[channels.good]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"s\"\n\
         [channels.bad]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"s\"",
        healthy.url("/"),
        broken.url("/")
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid");
    let notifier =
        Notifier::from_config(&config, Arc::new(InMemoryDeliveryLog::new())).expect("builds");
    let mut reports = notifier.deliver(&notification(AlertState::Triggered)).await;
    reports.sort_by(|a, b| a.channel.cmp(&b.channel));
    assert_eq!(reports[0].channel, "bad");
    assert!(matches!(
        reports[0].outcome,
        DeliveryOutcome::DeadLettered { attempts: 1, .. }
    ));
    assert_eq!(reports[1].channel, "good");
    assert_eq!(
        reports[1].outcome,
        DeliveryOutcome::Delivered { attempts: 1 }
    );
}
