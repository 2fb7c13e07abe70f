//! Delivery status per alert × channel, and dead letters, behind a small trait so the service can
//! keep them in SQLite while tests and embedded use stay in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::notification::{AlertState, Notification};

/// Where one alert's delivery over one channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Retrying,
    DeadLettered,
}

/// The latest status of one alert × channel. A later state change of the same alert (resolved
/// after triggered) replaces it; `alert_state` says which change it describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    pub alert_id: String,
    pub channel: String,
    pub alert_state: AlertState,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A notification that could not be delivered over a channel, kept whole so it can be inspected
/// and replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub notification: Notification,
    pub channel: String,
    pub attempts: u32,
    pub last_error: String,
    pub dead_lettered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery log could not {operation}: {reason}")]
pub struct LogError {
    pub operation: &'static str,
    pub reason: String,
}

/// Storage of delivery status and dead letters. Synchronous: every call is one small write or
/// read, and SQLite (the planned durable implementation) is synchronous too.
pub trait DeliveryLog: Send + Sync {
    /// Inserts or replaces the status of `status.alert_id` × `status.channel`.
    fn record_status(&self, status: &DeliveryStatus) -> Result<(), LogError>;
    fn status(&self, alert_id: &str, channel: &str) -> Result<Option<DeliveryStatus>, LogError>;
    fn record_dead_letter(&self, letter: &DeadLetter) -> Result<(), LogError>;
    fn dead_letters(&self) -> Result<Vec<DeadLetter>, LogError>;
    /// Whether the log takes writes now, checked before a delivery that may be retried later
    /// ([`crate::Notifier::deliver_checked`]). The default cannot tell and says yes.
    fn check_writable(&self) -> Result<(), LogError> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Entries {
    statuses: HashMap<(String, String), DeliveryStatus>,
    dead_letters: Vec<DeadLetter>,
}

/// Keeps everything in memory: for tests and for a notifier that may forget across restarts.
#[derive(Debug, Default)]
pub struct InMemoryDeliveryLog {
    entries: Mutex<Entries>,
}

impl InMemoryDeliveryLog {
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(
        &self,
        operation: &'static str,
    ) -> Result<std::sync::MutexGuard<'_, Entries>, LogError> {
        self.entries.lock().map_err(|_| LogError {
            operation,
            reason: "the in-memory log lock was poisoned by a panic".to_owned(),
        })
    }
}

impl DeliveryLog for InMemoryDeliveryLog {
    fn record_status(&self, status: &DeliveryStatus) -> Result<(), LogError> {
        let mut entries = self.entries("record a status")?;
        entries.statuses.insert(
            (status.alert_id.clone(), status.channel.clone()),
            status.clone(),
        );
        Ok(())
    }

    fn status(&self, alert_id: &str, channel: &str) -> Result<Option<DeliveryStatus>, LogError> {
        let entries = self.entries("read a status")?;
        Ok(entries
            .statuses
            .get(&(alert_id.to_owned(), channel.to_owned()))
            .cloned())
    }

    fn record_dead_letter(&self, letter: &DeadLetter) -> Result<(), LogError> {
        self.entries("record a dead letter")?
            .dead_letters
            .push(letter.clone());
        Ok(())
    }

    fn dead_letters(&self) -> Result<Vec<DeadLetter>, LogError> {
        Ok(self.entries("read dead letters")?.dead_letters.clone())
    }

    fn check_writable(&self) -> Result<(), LogError> {
        self.entries("check it is writable").map(drop)
    }
}
