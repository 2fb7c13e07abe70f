//! Email through a real (local, minimal) SMTP server.

use std::sync::Arc;

use costwatch_notifier::{
    AlertState, DeliveryOutcome, InMemoryDeliveryLog, Notifier, NotifierConfig, SendError,
};

use crate::notification;
use crate::smtp::SmtpServer;

fn email_notifier(port: u16) -> Notifier {
    let toml = format!(
        "[retry]\nmax_attempts = 2\ninitial_backoff_ms = 1\nmax_backoff_ms = 2\n\n\
         [channels.mail]\nkind = \"email\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
         from = \"Costwatch <alerts@costwatch.test>\"\nto = [\"finops@acme.test\", \"oncall@acme.test\"]"
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid config");
    Notifier::from_config(&config, Arc::new(InMemoryDeliveryLog::new())).expect("builds")
}

#[tokio::test]
async fn email_is_multipart_text_and_html_to_every_recipient() {
    let server = SmtpServer::start("250 OK").await;
    let reports = email_notifier(server.port)
        .deliver(&notification(AlertState::Triggered))
        .await;
    assert_eq!(
        reports[0].outcome,
        DeliveryOutcome::Delivered { attempts: 1 },
        "{reports:?}"
    );

    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "<alerts@costwatch.test>");
    assert_eq!(
        mail.recipients,
        ["<finops@acme.test>", "<oncall@acme.test>"]
    );
    let data = &mail.data;
    assert!(
        data.contains("Subject: [CRITICAL] Budget exceeded (triggered)"),
        "{data}"
    );
    assert!(
        data.contains("To: finops@acme.test, oncall@acme.test"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: multipart/alternative"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/html; charset=utf-8"),
        "{data}"
    );
    assert!(data.contains("1250.00000000503 USD"), "{data}");
    let (plain, html) = data
        .split_once("Content-Type: text/html")
        .expect("html part after the plain part");
    assert!(plain.contains("monthly budget <cloud>"), "{plain}");
    // The HTML part is quoted-printable: undo soft line breaks and `=3D` before looking at it.
    let html = html.replace("=\n", "").replace("=3D", "=");
    assert!(
        html.contains("<h2>[CRITICAL] Budget exceeded (triggered)</h2>"),
        "{html}"
    );
    // User text is escaped in the HTML part.
    assert!(html.contains("&lt;cloud&gt;"), "{html}");
    assert!(
        html.contains("<a href=\"http://127.0.0.1:8080/alerts/alert-42\">"),
        "{html}"
    );
}

#[tokio::test]
async fn a_refused_recipient_is_permanent() {
    let server = SmtpServer::start("550 no such user").await;
    let reports = email_notifier(server.port)
        .deliver(&notification(AlertState::Triggered))
        .await;
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
}
