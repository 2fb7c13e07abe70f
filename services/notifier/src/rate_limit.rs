//! Per-channel token bucket: a storm of alerts is sent at the rate the receiver accepts (Slack
//! allows about one message per second per webhook) instead of being throttled with 429s.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Bucket size and refill speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sends allowed at once after a quiet period.
    pub burst: u32,
    /// Sustained sends per second.
    pub per_second: f64,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
}

/// A token bucket. Uses tokio's clock so tests with a paused clock are deterministic.
#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    state: Mutex<BucketState>,
}

impl TokenBucket {
    pub fn new(limit: RateLimit) -> Self {
        TokenBucket {
            limit,
            state: Mutex::new(BucketState {
                tokens: f64::from(limit.burst),
                refilled_at: Instant::now(),
            }),
        }
    }

    /// Takes a token if one is available at `now`; otherwise says how long until one is.
    pub fn try_take_at(&self, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another sender panicked mid-update of two numbers; the
        // numbers are still usable.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = now
            .saturating_duration_since(state.refilled_at)
            .as_secs_f64();
        state.tokens =
            (state.tokens + elapsed * self.limit.per_second).min(f64::from(self.limit.burst));
        state.refilled_at = now;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - state.tokens;
            Err(Duration::from_secs_f64(missing / self.limit.per_second))
        }
    }

    /// Waits until a token is available, then takes it.
    pub async fn acquire(&self) {
        loop {
            match self.try_take_at(Instant::now()) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_refill_at_the_configured_rate() {
        let bucket = TokenBucket::new(RateLimit {
            burst: 2,
            per_second: 10.0,
        });
        let start = Instant::now();
        assert!(bucket.try_take_at(start).is_ok());
        assert!(bucket.try_take_at(start).is_ok());
        let wait = bucket
            .try_take_at(start)
            .expect_err("bucket should be empty");
        assert_eq!(wait, Duration::from_millis(100));
        assert!(
            bucket
                .try_take_at(start + Duration::from_millis(50))
                .is_err()
        );
        assert!(
            bucket
                .try_take_at(start + Duration::from_millis(100))
                .is_ok()
        );
        // A long pause refills only up to the burst size.
        let later = start + Duration::from_secs(60);
        assert!(bucket.try_take_at(later).is_ok());
        assert!(bucket.try_take_at(later).is_ok());
        assert!(bucket.try_take_at(later).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_for_the_next_token() {
        let bucket = TokenBucket::new(RateLimit {
            burst: 1,
            per_second: 4.0,
        });
        let start = Instant::now();
        bucket.acquire().await;
        bucket.acquire().await;
        // The paused clock advances exactly by the sleeps taken.
        assert_eq!(Instant::now() - start, Duration::from_millis(250));
    }
}
