//! Email over SMTP with lettre: one multipart/alternative message (plain text and HTML) to every
//! configured recipient.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Channel;
use crate::config::{EmailConfig, SmtpTls};
use crate::error::{ConfigError, SendError};
use crate::notification::Notification;

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl EmailChannel {
    pub fn new(name: &str, config: &EmailConfig) -> Result<Self, ConfigError> {
        let field = |f: &str| format!("channels.{name}.{f}");
        let parse = |f: String, address: &str| {
            address
                .parse::<Mailbox>()
                .map_err(|e| ConfigError::single(f, format!("must be an email address: {e}")))
        };
        let from = parse(field("from"), &config.from)?;
        let to = config
            .to
            .iter()
            .enumerate()
            .map(|(i, a)| parse(field(&format!("to[{i}]")), a))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(ConfigError::single(
                field("to"),
                "must list at least one recipient",
            ));
        }
        let mut builder = match config.tls {
            // Plain SMTP, for a local relay or test server only (config default is starttls).
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpTls::Starttls => starttls_builder(&config.host)
                .map_err(|reason| ConfigError::single(field("tls"), reason))?,
        };
        builder = builder.port(config.port).timeout(Some(SMTP_TIMEOUT));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(EmailChannel {
            transport: builder.build(),
            from,
            to,
        })
    }

    fn message(&self, notification: &Notification) -> Result<Message, SendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(notification.headline());
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                plain_text(notification),
                html(notification),
            ))
            .map_err(|e| SendError::permanent(format!("message: could not be built: {e}")))
    }
}

#[cfg(feature = "tls")]
fn starttls_builder(
    host: &str,
) -> Result<lettre::transport::smtp::AsyncSmtpTransportBuilder, String> {
    AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
        .map_err(|e| format!("starttls setup failed: {e}"))
}

#[cfg(not(feature = "tls"))]
fn starttls_builder(
    _host: &str,
) -> Result<lettre::transport::smtp::AsyncSmtpTransportBuilder, String> {
    Err("starttls needs the notifier built with the `tls` feature".to_owned())
}

#[async_trait]
impl Channel for EmailChannel {
    async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let message = self.message(notification)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx replies (unknown mailbox, relay denied) will not change on retry.
            Err(e) if e.is_permanent() => Err(SendError::permanent(format!("smtp: {e}"))),
            Err(e) => Err(SendError::retryable(format!("smtp: {e}"))),
        }
    }
}

pub fn plain_text(notification: &Notification) -> String {
    let mut text = format!(
        "{}\n\n{}\n\nTenant: {}\nOccurred at: {}\n",
        notification.headline(),
        notification.summary,
        notification.tenant,
        notification.occurred_at.to_rfc3339()
    );
    for field in &notification.fields {
        text.push_str(&format!("{}: {}\n", field.name, field.value));
    }
    if let Some(link) = &notification.link {
        text.push_str(&format!("\n{link}\n"));
    }
    text
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn html(notification: &Notification) -> String {
    let mut rows = format!(
        "<tr><th align=\"left\">Tenant</th><td>{}</td></tr><tr><th align=\"left\">Occurred at</th><td>{}</td></tr>",
        escape_html(&notification.tenant),
        notification.occurred_at.to_rfc3339()
    );
    for field in &notification.fields {
        rows.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape_html(&field.name),
            escape_html(&field.value)
        ));
    }
    let link = notification
        .link
        .as_ref()
        .map(|l| {
            format!(
                "<p><a href=\"{0}\">Open in Costwatch</a></p>",
                escape_html(l)
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html><html><body><h2>{}</h2><p>{}</p><table>{rows}</table>{link}</body></html>",
        escape_html(&notification.headline()),
        escape_html(&notification.summary)
    )
}
