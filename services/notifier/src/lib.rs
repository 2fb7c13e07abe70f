//! The notifier (not built yet).
//!
//! It will consume the alerts topic and page on-call teams (Slack, email, PagerDuty, webhooks)
//! with retries and dead-lettering. Tracked by the budgets-and-alerts issue; `costwatch notifier`
//! refuses to start until then.
