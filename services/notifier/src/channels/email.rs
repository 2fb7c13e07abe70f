//! Email over SMTP with lettre: one multipart/alternative message (plain text and HTML) to every
//! configured recipient.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Channel;
use crate::config::{EmailConfig, SmtpTls};
use crate::digest::DigestMessage;
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

    async fn send_digest(&self, digest: &DigestMessage) -> Result<(), SendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(digest.title.clone());
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                digest_plain_text(digest),
                digest_html(digest),
            ))
            .map_err(|e| SendError::permanent(format!("message: could not be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::permanent(format!("smtp: {e}"))),
            Err(e) => Err(SendError::retryable(format!("smtp: {e}"))),
        }
    }

    fn takes_digests(&self) -> bool {
        true
    }
}

pub fn digest_plain_text(digest: &DigestMessage) -> String {
    let mut text = digest.lines().join("\n");
    text.push('\n');
    text
}

fn html_rows(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let head: String = header
        .iter()
        .map(|h| format!("<th align=\"left\">{h}</th>"))
        .collect();
    let body: String = rows
        .into_iter()
        .map(|r| {
            let cells: String = r
                .iter()
                .map(|c| format!("<td>{}</td>", escape_html(c)))
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!("<table><tr>{head}</tr>{body}</table>")
}

pub fn digest_html(d: &DigestMessage) -> String {
    let mut out = format!(
        "<!doctype html><html><body><h2>{}</h2>",
        escape_html(&d.title)
    );
    out.push_str("<h3>Spend vs previous period</h3>");
    out.push_str(&html_rows(
        &["Currency", "This period", "Previous", "Change"],
        d.totals
            .iter()
            .map(|t| {
                vec![
                    t.currency.clone(),
                    t.current.clone(),
                    t.previous.clone(),
                    t.change.clone(),
                ]
            })
            .collect(),
    ));
    for (label, list) in [
        ("Top services by change", &d.service_movers),
        ("Top resources by change", &d.resource_movers),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!("<h3>{label}</h3>"));
        out.push_str(&html_rows(
            &["Name", "Change", "Now", "Previous", "Currency"],
            list.iter()
                .map(|m| {
                    vec![
                        m.name.clone(),
                        m.change.clone(),
                        m.current.clone(),
                        m.previous.clone(),
                        m.currency.clone(),
                    ]
                })
                .collect(),
        ));
    }
    if !d.budgets_at_risk.is_empty() {
        out.push_str("<h3>Budgets at risk</h3>");
        out.push_str(&html_rows(
            &["Budget", "Spent", "Amount", "Forecast", "Why"],
            d.budgets_at_risk
                .iter()
                .map(|b| {
                    vec![
                        b.name.clone(),
                        format!("{} {}", b.spent, b.currency),
                        b.amount.clone(),
                        b.forecast.clone(),
                        b.reason.clone(),
                    ]
                })
                .collect(),
        ));
    }
    out.push_str(&format!(
        "<h3>Open alerts</h3><p>{} critical, {} warning, {} info</p>",
        d.open_critical, d.open_warning, d.open_info
    ));
    out.push_str(&html_rows(
        &["Severity", "Alert", "State"],
        d.top_alerts
            .iter()
            .map(|a| vec![a.severity.clone(), a.title.clone(), a.state.clone()])
            .collect(),
    ));
    if let Some(l) = &d.link {
        out.push_str(&format!(
            "<p><a href=\"{0}\">Open in Costwatch</a></p>",
            escape_html(l)
        ));
    }
    out.push_str("</body></html>");
    out
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
