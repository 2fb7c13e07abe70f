//! SMS through Twilio's Messages API (or any provider that speaks it): a form-encoded POST to
//! `/2010-04-01/Accounts/{sid}/Messages.json` with HTTP basic auth (account SID, auth token).

use async_trait::async_trait;

use super::Channel;
use crate::config::SmsConfig;
use crate::error::SendError;
use crate::notification::{Notification, truncate_chars};

/// Twilio refuses bodies over 1600 characters.
const BODY_MAX: usize = 1_600;

pub struct SmsChannel {
    http: reqwest::Client,
    config: SmsConfig,
}

impl SmsChannel {
    pub fn new(http: reqwest::Client, config: SmsConfig) -> Self {
        SmsChannel { http, config }
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.api_base.trim_end_matches('/'),
            self.config.account_sid
        )
    }
}

/// The text message: headline, summary, link. SMS has no formatting, so fields are left out.
pub fn body(notification: &Notification) -> String {
    let mut text = format!("{}\n{}", notification.headline(), notification.summary);
    if let Some(link) = &notification.link {
        text.push('\n');
        text.push_str(link);
    }
    truncate_chars(&text, BODY_MAX)
}

#[async_trait]
impl Channel for SmsChannel {
    async fn send(&self, notification: &Notification) -> Result<(), SendError> {
        let form = [
            ("To", self.config.to.as_str()),
            ("From", self.config.from.as_str()),
            ("Body", &body(notification)),
        ];
        let request = self
            .http
            .post(self.messages_url())
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose()),
            )
            .form(&form);
        crate::http::send(request).await
    }
}
