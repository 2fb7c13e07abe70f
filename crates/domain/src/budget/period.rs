//! Budget periods and the window `[start, end)` a period covers at a given instant.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Calendar periods are UTC-aligned (month, quarter, year); a custom period is one fixed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Period {
    Monthly,
    Quarterly,
    Yearly,
    Custom {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

/// One occurrence of a period: `start <= t < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl PeriodWindow {
    pub fn length(&self) -> Duration {
        self.end - self.start
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Time elapsed at `now`, clamped to the window.
    pub fn elapsed(&self, now: DateTime<Utc>) -> Duration {
        (now.clamp(self.start, self.end)) - self.start
    }
}

fn month_start(year: i32, month0: u32) -> DateTime<Utc> {
    // month0 may run past 11 when stepping forward; normalise into the next years.
    let y = year + (month0 / 12) as i32;
    let m = month0 % 12 + 1;
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Period {
    /// The window holding `at`. A custom period has one window whatever `at` is.
    pub fn window(&self, at: DateTime<Utc>) -> PeriodWindow {
        let (y, m0) = (at.year(), at.month0());
        let (start, end) = match *self {
            Period::Monthly => (month_start(y, m0), month_start(y, m0 + 1)),
            Period::Quarterly => {
                let q0 = m0 - m0 % 3;
                (month_start(y, q0), month_start(y, q0 + 3))
            }
            Period::Yearly => (month_start(y, 0), month_start(y, 12)),
            Period::Custom { start, end } => (start, end),
        };
        PeriodWindow { start, end }
    }

    /// The window just before the one holding `at` (for a custom period: the same length,
    /// ending at its start).
    pub fn previous_window(&self, at: DateTime<Utc>) -> PeriodWindow {
        self.window_before(self.window(at))
    }

    /// The window ending where `w` starts: the calendar period before it, or for a custom
    /// period a window of `w`'s length (so stepping back repeatedly walks back in equal steps).
    pub fn window_before(&self, w: PeriodWindow) -> PeriodWindow {
        match self {
            Period::Custom { .. } => PeriodWindow {
                start: w.start - w.length(),
                end: w.start,
            },
            _ => self.window(w.start - Duration::seconds(1)),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Period::Monthly => "monthly",
            Period::Quarterly => "quarterly",
            Period::Yearly => "yearly",
            Period::Custom { .. } => "custom",
        }
    }
}
