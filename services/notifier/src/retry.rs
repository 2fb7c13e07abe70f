//! When to try again: exponential backoff with jitter, bounded, and the receiver's Retry-After.

use std::time::Duration;

use rand::Rng;

/// How many times a channel is tried and how long to wait between tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (the first send included) before the notification is dead-lettered.
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further failure.
    pub initial_backoff: Duration,
    /// No computed wait exceeds this.
    pub max_backoff: Duration,
    /// A receiver's Retry-After is honoured up to this, so a hostile or broken receiver cannot
    /// park a page for hours.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The exponential ceiling after failed attempt number `attempt` (1-based), before jitter:
    /// `initial × 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The wait before the next attempt. "Equal jitter": half the ceiling plus a random part of
    /// the other half, so retries of many alerts spread out but never collapse to zero wait.
    /// A receiver's Retry-After replaces it (capped at `max_retry_after`).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let ceiling = self.backoff_ceiling(attempt);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = rand::rng().random_range(0..=spread);
        half + Duration::from_nanos(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1_000),
            max_retry_after: Duration::from_millis(2_000),
        }
    }

    #[test]
    fn ceiling_doubles_then_stops_at_the_maximum() {
        let p = policy();
        let ceilings: Vec<u128> = (1..=6).map(|a| p.backoff_ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_millis(1_000));
    }

    #[test]
    fn jittered_delay_stays_between_half_and_the_ceiling() {
        let p = policy();
        for attempt in 1..=8 {
            let ceiling = p.backoff_ceiling(attempt);
            for _ in 0..200 {
                let d = p.delay(attempt, None);
                assert!(
                    d >= ceiling / 2 && d <= ceiling,
                    "{d:?} outside [{:?}, {ceiling:?}]",
                    ceiling / 2
                );
            }
        }
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = policy();
        assert_eq!(
            p.delay(1, Some(Duration::from_millis(1_500))),
            Duration::from_millis(1_500)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3_600))),
            Duration::from_millis(2_000)
        );
    }
}
