//! The SQLite delivery log under a real notifier: a restart does not page twice.

use std::sync::Arc;

use costwatch_notifier::{
    AlertState, DeliveryLog, DeliveryOutcome, DeliveryState, Notifier, NotifierConfig,
    SqliteDeliveryLog,
};

use crate::notification;
use crate::receiver::{Receiver, status};

fn notifier(url: &str, log: Arc<SqliteDeliveryLog>) -> Notifier {
    let toml = format!(
        "[retry]\nmax_attempts = 2\ninitial_backoff_ms = 1\nmax_backoff_ms = 5\n\
         [channels.hook]\nkind = \"webhook\"\nurl = \"{url}\"\nsigning_secret = \"s\"\n"
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid config");
    Notifier::from_config(&config, log).expect("builds")
}

#[tokio::test]
async fn a_restarted_notifier_does_not_resend_a_delivered_state() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notifier.sqlite");
    let triggered = notification(AlertState::Triggered);
    {
        let log = Arc::new(SqliteDeliveryLog::open(&path).expect("open"));
        let first = notifier(&receiver.url("/hook"), log);
        let reports = first.deliver(&triggered).await;
        assert_eq!(
            reports[0].outcome,
            DeliveryOutcome::Delivered { attempts: 1 }
        );
    } // "crash": notifier and connection gone

    let log = Arc::new(SqliteDeliveryLog::open(&path).expect("reopen"));
    let restarted = notifier(&receiver.url("/hook"), log.clone());
    let replay = restarted.deliver(&triggered).await;
    assert_eq!(replay[0].outcome, DeliveryOutcome::AlreadyDelivered);
    assert_eq!(receiver.requests().len(), 1);

    // The next state of the same alert still goes out.
    let resolved = restarted.deliver(&notification(AlertState::Resolved)).await;
    assert_eq!(
        resolved[0].outcome,
        DeliveryOutcome::Delivered { attempts: 1 }
    );
    assert_eq!(receiver.requests().len(), 2);
    let status = log
        .status("alert-42", "hook")
        .expect("readable")
        .expect("kept");
    assert_eq!(status.state, DeliveryState::Delivered);
    assert_eq!(status.alert_state, AlertState::Resolved);
}

#[tokio::test]
async fn dead_letters_of_a_notifier_are_on_disk() {
    let receiver = Receiver::start(Vec::new(), status(400)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notifier.sqlite");
    {
        let log = Arc::new(SqliteDeliveryLog::open(&path).expect("open"));
        let reports = notifier(&receiver.url("/hook"), log)
            .deliver(&notification(AlertState::Triggered))
            .await;
        assert!(matches!(
            reports[0].outcome,
            DeliveryOutcome::DeadLettered { attempts: 1, .. }
        ));
    }
    let log = SqliteDeliveryLog::open(&path).expect("reopen");
    let letters = log.dead_letters().expect("readable");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].notification, notification(AlertState::Triggered));
    assert_eq!(letters[0].channel, "hook");
    assert_eq!(
        log.status("alert-42", "hook")
            .expect("readable")
            .expect("kept")
            .state,
        DeliveryState::DeadLettered
    );
}
