//! Digests through the notifier: the domain [`Digest`] mapped to a [`DigestMessage`] (amounts as
//! exact decimal strings, ready to render), and the sink the digest scheduler sends through.
//!
//! Only channels with `digests = true` get them, and never PagerDuty or SMS: a digest is reading
//! material, not a page. Delivery reuses the delivery log keyed by the digest id, so a digest
//! re-sent after a crash is skipped on channels that already have it.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use costwatch_alerting::DigestSink;
use costwatch_domain::alerting::{
    AlertState as DomainState, Digest, Mover, MoverDimension, Severity as DomainSeverity,
};
use costwatch_domain::money::format_amount;
use serde::Serialize;

use crate::engine::{DeliveryOutcome, Notifier};
use crate::notification::{AlertState, Notification, Severity};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestTotal {
    pub currency: String,
    pub current: String,
    pub previous: String,
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestMover {
    /// `service` or `resource`.
    pub dimension: String,
    pub name: String,
    pub current: String,
    pub previous: String,
    /// Signed, e.g. `+150.15` or `-80`.
    pub change: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestBudget {
    pub name: String,
    pub spent: String,
    pub amount: String,
    pub forecast: String,
    pub percent_spent: String,
    pub currency: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestAlert {
    pub title: String,
    pub severity: String,
    pub state: String,
    pub triggered_at: DateTime<Utc>,
}

/// A digest as every channel renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestMessage {
    pub digest_id: String,
    pub tenant: String,
    /// `weekly` or `monthly`.
    pub kind: String,
    pub title: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub totals: Vec<DigestTotal>,
    pub service_movers: Vec<DigestMover>,
    pub resource_movers: Vec<DigestMover>,
    pub top_mover: Option<DigestMover>,
    pub budgets_at_risk: Vec<DigestBudget>,
    pub open_critical: u32,
    pub open_warning: u32,
    pub open_info: u32,
    pub top_alerts: Vec<DigestAlert>,
    pub link: Option<String>,
}

fn signed(d: rust_decimal::Decimal) -> String {
    if d.is_sign_positive() && !d.is_zero() {
        format!("+{}", format_amount(d))
    } else {
        format_amount(d)
    }
}

fn mover(m: &Mover, currency: &str) -> DigestMover {
    DigestMover {
        dimension: match m.dimension {
            MoverDimension::Service => "service",
            MoverDimension::Resource => "resource",
        }
        .into(),
        name: m.name.clone(),
        current: format_amount(m.current),
        previous: format_amount(m.previous),
        change: signed(m.change),
        currency: currency.into(),
    }
}

impl DigestMessage {
    pub fn of(d: &Digest, dashboard_url: Option<&str>) -> DigestMessage {
        let rc = d.report_currency.to_string();
        // The window is half-open; people read "Nov 16 – Nov 22", the last day included.
        let last_day = d.window.end - Duration::days(1);
        let kind = d.kind.as_str();
        let title = format!(
            "{}{} cost digest for {}: {} – {}",
            kind[..1].to_uppercase(),
            &kind[1..],
            d.tenant,
            d.window.start.format("%Y-%m-%d"),
            last_day.format("%Y-%m-%d"),
        );
        DigestMessage {
            digest_id: d.id(),
            tenant: d.tenant.clone(),
            kind: kind.into(),
            title,
            window_start: d.window.start,
            window_end: d.window.end,
            totals: d
                .totals
                .iter()
                .map(|t| DigestTotal {
                    currency: t.currency.to_string(),
                    current: format_amount(t.current),
                    previous: format_amount(t.previous),
                    change: signed(t.change),
                })
                .collect(),
            service_movers: d.service_movers.iter().map(|m| mover(m, &rc)).collect(),
            resource_movers: d.resource_movers.iter().map(|m| mover(m, &rc)).collect(),
            top_mover: d.top_mover().map(|m| mover(m, &rc)),
            budgets_at_risk: d
                .budgets_at_risk
                .iter()
                .map(|b| DigestBudget {
                    name: b.name.clone(),
                    spent: format_amount(b.spent),
                    amount: format_amount(b.amount),
                    forecast: format_amount(b.forecast.round_dp(2)),
                    percent_spent: format_amount(b.percent_spent),
                    currency: b.currency.to_string(),
                    reason: b.reason.clone(),
                })
                .collect(),
            open_critical: d.open_alerts.critical,
            open_warning: d.open_alerts.warning,
            open_info: d.open_alerts.info,
            top_alerts: d
                .open_alerts
                .top
                .iter()
                .map(|a| DigestAlert {
                    title: a.title.clone(),
                    severity: match a.severity {
                        DomainSeverity::Critical => "critical",
                        DomainSeverity::Warning => "warning",
                        DomainSeverity::Info => "info",
                    }
                    .into(),
                    state: match a.state {
                        DomainState::Triggered => "triggered",
                        DomainState::Acknowledged => "acknowledged",
                        DomainState::Resolved => "resolved",
                    }
                    .into(),
                    triggered_at: a.triggered_at,
                })
                .collect(),
            link: dashboard_url.map(|base| format!("{}/", base.trim_end_matches('/'))),
        }
    }

    /// Plain-text sections shared by the text renderings (email text, Teams, Slack fallback).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            self.title.clone(),
            String::new(),
            "Spend vs previous period:".into(),
        ];
        if self.totals.is_empty() {
            out.push("  no spend in either period".into());
        }
        for t in &self.totals {
            out.push(format!(
                "  {} {} (previous {}, change {})",
                t.current, t.currency, t.previous, t.change
            ));
        }
        for (label, list) in [
            ("Top services by change:", &self.service_movers),
            ("Top resources by change:", &self.resource_movers),
        ] {
            if !list.is_empty() {
                out.push(label.into());
                out.extend(list.iter().map(|m| {
                    format!(
                        "  {} {} {} (now {})",
                        m.name, m.change, m.currency, m.current
                    )
                }));
            }
        }
        if !self.budgets_at_risk.is_empty() {
            out.push("Budgets at risk:".into());
            out.extend(self.budgets_at_risk.iter().map(|b| {
                format!(
                    "  {}: {} of {} {} spent ({}%), forecast {}; {}",
                    b.name, b.spent, b.amount, b.currency, b.percent_spent, b.forecast, b.reason
                )
            }));
        }
        out.push(format!(
            "Open alerts: {} critical, {} warning, {} info",
            self.open_critical, self.open_warning, self.open_info
        ));
        out.extend(self.top_alerts.iter().map(|a| {
            format!(
                "  [{}] {} ({})",
                a.severity.to_uppercase(),
                a.title,
                a.state
            )
        }));
        if let Some(link) = &self.link {
            out.push(String::new());
            out.push(link.clone());
        }
        out
    }

    /// The delivery-log key and dead-letter record of this digest: delivery status and dead
    /// letters are kept per alert id × channel, and a digest id is unique per tenant × window.
    pub fn log_key(&self) -> Notification {
        Notification {
            alert_id: self.digest_id.clone(),
            tenant: self.tenant.clone(),
            dedupe_key: self.digest_id.clone(),
            severity: Severity::Info,
            state: AlertState::Triggered,
            title: self.title.clone(),
            summary: self.lines().join("\n"),
            fields: Vec::new(),
            link: self.link.clone(),
            occurred_at: self.window_end,
        }
    }
}

/// Sends digests through a [`Notifier`]'s opted-in channels.
pub struct NotifierDigestSink {
    notifier: Arc<Notifier>,
    dashboard_url: Option<String>,
}

impl NotifierDigestSink {
    pub fn new(notifier: Arc<Notifier>, dashboard_url: Option<String>) -> Self {
        NotifierDigestSink {
            notifier,
            dashboard_url,
        }
    }
}

#[async_trait]
impl DigestSink for NotifierDigestSink {
    /// `Err` only when the delivery log does not take writes (nothing was sent, so the scheduler
    /// may retry). A dead-lettered channel is the notifier's to report, like for alerts; the
    /// digest is then recorded as sent rather than retried forever.
    async fn send_digest(&self, digest: &Digest) -> Result<(), String> {
        let message = DigestMessage::of(digest, self.dashboard_url.as_deref());
        let reports = self
            .notifier
            .deliver_digest_checked(&message)
            .await
            .map_err(|e| e.to_string())?;
        for r in &reports {
            if let DeliveryOutcome::DeadLettered { last_error, .. } = &r.outcome {
                tracing::error!(channel = %r.channel, digest = %message.digest_id, error = %last_error, "digest dead-lettered");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::HeaderMap;
    use chrono::TimeZone;
    use costwatch_domain::Currency;
    use costwatch_domain::alerting::{
        AlertBrief, AlertKind, CurrencyTotal, DigestKind, OpenAlerts,
    };
    use costwatch_domain::budget::PeriodWindow;

    use super::*;
    use crate::channels::{email, slack, teams};
    use crate::{InMemoryDeliveryLog, NotifierConfig, verify_signature};

    type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

    /// A local receiver on 127.0.0.1:0 recording every request (answers 200).
    async fn receiver() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let app = Router::new()
            .fallback(|State(s): State<Seen>, h: HeaderMap, b: Bytes| async move {
                s.lock().expect("lock").push((h, b));
                "ok"
            })
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
        (format!("http://{addr}/hook"), seen)
    }

    fn t(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0)
            .single()
            .expect("date")
    }

    fn dec(s: &str) -> rust_decimal::Decimal {
        s.parse().expect("decimal")
    }

    fn digest() -> Digest {
        let m = |dimension, name: &str, cur: &str, prev: &str| Mover {
            dimension,
            name: name.into(),
            current: dec(cur),
            previous: dec(prev),
            change: dec(cur) - dec(prev),
        };
        Digest {
            tenant: "acme".into(),
            kind: DigestKind::Weekly,
            window: PeriodWindow {
                start: t(16),
                end: t(23),
            },
            previous: PeriodWindow {
                start: t(9),
                end: t(16),
            },
            totals: vec![CurrencyTotal {
                currency: Currency::USD,
                current: dec("267.250000000001"),
                previous: dec("191.1"),
                change: dec("76.150000000001"),
            }],
            report_currency: Currency::USD,
            service_movers: vec![m(MoverDimension::Service, "aws/ec2", "251.75", "181.1")],
            resource_movers: vec![
                m(MoverDimension::Resource, "aws/ec2/i-1", "250.25", "100.1"),
                m(MoverDimension::Resource, "aws/ec2/i-2", "0", "80"),
            ],
            budgets_at_risk: vec![],
            open_alerts: OpenAlerts {
                critical: 1,
                warning: 0,
                info: 0,
                top: vec![AlertBrief {
                    id: "a1".into(),
                    title: "Cost spike in tenant".into(),
                    kind: AlertKind::CostSpike,
                    severity: DomainSeverity::Critical,
                    state: DomainState::Triggered,
                    triggered_at: t(17),
                }],
            },
        }
    }

    #[test]
    fn email_and_slack_renderings_carry_the_top_mover() {
        let d = DigestMessage::of(&digest(), Some("http://127.0.0.1:8080"));
        assert_eq!(
            d.title,
            "Weekly cost digest for acme: 2026-11-16 – 2026-11-22"
        );
        let top = d.top_mover.clone().expect("top mover");
        assert_eq!(
            (top.name.as_str(), top.change.as_str()),
            ("aws/ec2/i-1", "+150.15")
        );
        let text = email::digest_plain_text(&d);
        assert!(text.contains("aws/ec2/i-1 +150.15 USD"), "{text}");
        assert!(text.contains("267.250000000001 USD (previous 191.1, change +76.150000000001)"));
        assert!(text.contains("Open alerts: 1 critical, 0 warning, 0 info"));
        let html = email::digest_html(&d);
        assert!(
            html.contains("<td>aws/ec2/i-1</td><td>+150.15</td>"),
            "{html}"
        );
        let blocks = slack::digest_payload(&d).to_string();
        assert!(blocks.contains("`aws/ec2/i-1` +150.15 USD"), "{blocks}");
        assert!(blocks.contains("aws/ec2/i-2` -80 USD"));
        let card = teams::digest_payload(&d).to_string();
        assert!(
            card.contains("aws/ec2/i-1 +150.15 USD (now 250.25)"),
            "{card}"
        );
    }

    #[tokio::test]
    async fn opted_in_channels_get_the_digest_once_and_others_none() {
        let (digest_url, digest_seen) = receiver().await;
        let (alerts_url, alerts_seen) = receiver().await;
        let (slack_url, slack_seen) = receiver().await;
        let toml = format!(
            "[channels.finance]\nkind = \"webhook\"\nurl = \"{digest_url}\"\nsigning_secret = \"s3cret\"\ndigests = true\n\
             [channels.ops]\nkind = \"webhook\"\nurl = \"{alerts_url}\"\nsigning_secret = \"s\"\n\
             [channels.team]\nkind = \"slack\"\nwebhook_url = \"{slack_url}\"\ndigests = true\ntenants = [\"globex\"]\n"
        );
        let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("config");
        let notifier = Arc::new(
            Notifier::from_config(&config, Arc::new(InMemoryDeliveryLog::new())).expect("builds"),
        );
        let sink = NotifierDigestSink::new(notifier.clone(), None);
        sink.send_digest(&digest()).await.expect("sent");
        // A repeat (crash before the sent-digest record) is dropped by the delivery log.
        sink.send_digest(&digest()).await.expect("sent");
        let seen = digest_seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 1, "exactly one digest request");
        let (headers, body) = &seen[0];
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        verify_signature(
            b"s3cret",
            header("x-costwatch-timestamp"),
            header("x-costwatch-signature"),
            body,
            Utc::now(),
            std::time::Duration::from_secs(300),
        )
        .expect("signed like alerts");
        let json: serde_json::Value = serde_json::from_slice(body).expect("json");
        assert_eq!(json["type"], "costwatch.digest");
        assert_eq!(json["digest_id"], "digest:acme:weekly:2026-11-16");
        assert_eq!(json["top_mover"]["name"], "aws/ec2/i-1");
        assert_eq!(json["totals"][0]["current"], "267.250000000001");
        assert!(alerts_seen.lock().expect("lock").is_empty(), "not opted in");
        assert!(
            slack_seen.lock().expect("lock").is_empty(),
            "serves globex only"
        );
    }

    #[test]
    fn pagerduty_and_sms_cannot_opt_in() {
        let toml = "[channels.pager]\nkind = \"pagerduty\"\nrouting_key = \"k\"\ndigests = true\n";
        let err = NotifierConfig::load(Some(toml), Vec::new()).expect_err("rejected");
        assert!(err.to_string().contains("channels.pager.digests"), "{err}");
    }
}
