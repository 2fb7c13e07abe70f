//! Delivery status and dead letters for the APIs, read from the notifier's log.

use crate::alert_sink::NotifierSink;

fn unavailable(e: crate::LogError) -> costwatch_ports::StoreError {
    costwatch_ports::StoreError::Unavailable(e.to_string())
}

fn json_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// The APIs show delivery status and dead letters from the notifier's log.
impl costwatch_ports::DeliveryView for NotifierSink {
    fn deliveries(
        &self,
        alert_id: &str,
    ) -> Result<Vec<costwatch_ports::DeliveryRecord>, costwatch_ports::StoreError> {
        let statuses = self
            .notifier
            .delivery_status(alert_id)
            .map_err(unavailable)?;
        Ok(statuses
            .into_iter()
            .map(|s| costwatch_ports::DeliveryRecord {
                alert_id: s.alert_id,
                channel: s.channel,
                alert_state: s.alert_state.as_str().to_string(),
                state: json_str(&s.state),
                attempts: s.attempts,
                last_error: s.last_error,
                at: s.updated_at,
            })
            .collect())
    }

    fn dead_letters(
        &self,
        tenant: &str,
        limit: usize,
    ) -> Result<Vec<costwatch_ports::DeliveryRecord>, costwatch_ports::StoreError> {
        let letters = self.notifier.dead_letters().map_err(unavailable)?;
        Ok(letters
            .into_iter()
            .rev()
            .filter(|l| l.notification.tenant == tenant)
            .take(limit)
            .map(|l| costwatch_ports::DeliveryRecord {
                alert_id: l.notification.alert_id,
                channel: l.channel,
                alert_state: l.notification.state.as_str().to_string(),
                state: "dead_lettered".to_string(),
                attempts: l.attempts,
                last_error: Some(l.last_error),
                at: l.dead_lettered_at,
            })
            .collect())
    }
}
