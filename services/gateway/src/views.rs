//! What the gateway answers with. One set of types serves both GraphQL (derived output types) and
//! REST (serde), so both APIs print the very same strings for the very same numbers.

use async_graphql::{
    Enum, InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::{DateTime, Utc};
use costwatch_domain::Currency;
use costwatch_domain::money::format_amount;
use costwatch_domain::query::{self, TimeRange};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// An exact amount of money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SimpleObject)]
pub struct Money {
    /// The amount as a decimal string (e.g. "0.00000000503"): exact, without trailing zeros, never
    /// in exponent form. Parse it with a decimal type, not a float.
    pub amount: String,
    /// ISO 4217 currency code, e.g. "USD".
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money {
            amount: format_amount(amount),
            currency: currency.to_string(),
        }
    }
}

/// A percentage as a decimal string with at most two places (display value), e.g. "12.5".
pub fn percent(p: Option<Decimal>) -> Option<String> {
    p.map(format_amount)
}

/// The largest integer every JSON parser (JavaScript's included) reads exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A non-negative 64-bit count (e.g. of usage events). GraphQL's `Int` is 32-bit, which a busy
/// tenant's monthly event count can exceed, so counts use this scalar instead (in REST too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count(pub u64);

/// A non-negative 64-bit count. Serialized as a JSON number when it is at most 2^53 − 1 (exact in
/// every JSON parser, JavaScript's included), otherwise as a decimal string, so it is never
/// rounded. Used instead of `Int`, which is 32-bit.
#[Scalar(name = "Count")]
impl ScalarType for Count {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_u64()
                .map(Count)
                .ok_or_else(|| InputValueError::custom("must be a non-negative integer")),
            Value::String(s) => s
                .parse()
                .map(Count)
                .map_err(|_| InputValueError::custom("must be a non-negative integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        if self.0 <= MAX_SAFE_INTEGER {
            Value::Number(self.0.into())
        } else {
            Value::String(self.0.to_string())
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 <= MAX_SAFE_INTEGER {
            s.serialize_u64(self.0)
        } else {
            s.serialize_str(&self.0.to_string())
        }
    }
}

/// A half-open UTC time range `[from, to)`, as the query used it (truncated to the minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, SimpleObject)]
#[graphql(name = "TimeRange")]
pub struct TimeRangeView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl From<TimeRange> for TimeRangeView {
    fn from(r: TimeRange) -> Self {
        TimeRangeView {
            from: r.from,
            to: r.to,
        }
    }
}

/// Direction of a change against the previous period; changes within ±1% of the previous amount
/// are FLAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Trend {
    Up,
    Down,
    Flat,
}

impl From<query::Trend> for Trend {
    fn from(t: query::Trend) -> Self {
        match t {
            query::Trend::Up => Trend::Up,
            query::Trend::Down => Trend::Down,
            query::Trend::Flat => Trend::Flat,
        }
    }
}

/// One category's share of a period, against the previous period of the same length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct CategoryCost {
    /// api, hosting, database, third_party or other.
    pub category: String,
    pub amount: Money,
    /// Share of the period's total, in percent (2 places); null when the total is zero.
    pub percentage: Option<String>,
    pub trend: Trend,
    /// `amount − previous`.
    pub change: Money,
    /// The category's amount in the previous period.
    pub previous: Money,
}

/// Totals of a tenant over a range, converted to one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct CostSummary {
    pub tenant: String,
    pub range: TimeRangeView,
    /// The number of record for the range: per provider × service × day, the billed amount when
    /// billing data has arrived, else the rate-card estimate.
    pub total: Money,
    /// The part of `total` that came billed from the source.
    pub billed: Money,
    /// The part of `total` still estimated from rate cards (`total − billed`).
    pub estimated: Money,
    /// Rate-card estimates that billed data replaced: visible, no longer counted in `total`.
    pub replaced_estimate: Money,
    /// Usage events counted in the range.
    pub events: Count,
    /// `total / days in range`, rounded to 12 places.
    pub daily_average: Money,
    /// Total of the period of the same length just before the range.
    pub previous_period_total: Money,
    /// Change against the previous period in percent (2 places); null when it was zero.
    pub change_percent: Option<String>,
    /// Per category, largest first.
    pub categories: Vec<CategoryCost>,
    /// Month-to-date total of the current month (UTC, as of now) extended linearly to the month's
    /// end. Independent of `range`.
    pub projected_month_end: Money,
}

/// One group of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct CostGroup {
    /// The group's value of each `groupBy` dimension, in order. Rows lacking the grouped label
    /// fall in "(none)".
    pub keys: Vec<String>,
    pub amount: Money,
    pub billed: Money,
    pub events: Count,
    /// Share of the breakdown's total, in percent (2 places); null when the total is zero.
    pub percentage: Option<String>,
}

/// One bucket of a history series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct CostPoint {
    /// Start of the bucket (UTC).
    pub bucket: DateTime<Utc>,
    /// The series' value of each `groupBy` dimension, in order.
    pub keys: Vec<String>,
    pub amount: Money,
    pub events: Count,
}

impl CostGroup {
    pub fn new(g: query::Group, currency: Currency) -> CostGroup {
        CostGroup {
            keys: g.key,
            amount: Money::new(g.amount, currency),
            billed: Money::new(g.billed, currency),
            events: Count(g.events),
            percentage: percent(g.percentage),
        }
    }
}

impl CostPoint {
    pub fn new(p: query::Point, currency: Currency) -> CostPoint {
        CostPoint {
            bucket: p.bucket,
            keys: p.key,
            amount: Money::new(p.amount, currency),
            events: Count(p.events),
        }
    }
}

impl CostSummary {
    pub fn new(
        tenant: &str,
        range: TimeRange,
        s: query::Summary,
        replaced_estimate: Decimal,
        projected: Decimal,
    ) -> CostSummary {
        let c = s.currency;
        // Both parts are exact in one currency; converted, each is rounded once (12 places).
        let estimated = s.total.checked_sub(s.billed).unwrap_or_default();
        CostSummary {
            tenant: tenant.to_string(),
            range: range.into(),
            total: Money::new(s.total, c),
            billed: Money::new(s.billed, c),
            estimated: Money::new(estimated, c),
            replaced_estimate: Money::new(replaced_estimate, c),
            events: Count(s.events),
            daily_average: Money::new(s.daily_average, c),
            previous_period_total: Money::new(s.previous_period_total, c),
            change_percent: percent(s.change_percent),
            categories: s
                .categories
                .into_iter()
                .map(|k| CategoryCost {
                    category: k.category.as_str().to_string(),
                    amount: Money::new(k.amount, c),
                    percentage: percent(k.percentage),
                    trend: k.trend.into(),
                    change: Money::new(k.change, c),
                    previous: Money::new(k.previous, c),
                })
                .collect(),
            projected_month_end: Money::new(projected, c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_numbers_while_exact_and_strings_beyond() {
        assert_eq!(Count(7).to_value(), Value::Number(7.into()));
        assert_eq!(
            Count(MAX_SAFE_INTEGER + 1).to_value(),
            Value::String("9007199254740992".into())
        );
        assert_eq!(
            serde_json::to_string(&Count(u64::MAX)).ok(),
            Some("\"18446744073709551615\"".into())
        );
        assert_eq!(serde_json::to_string(&Count(42)).ok(), Some("42".into()));
    }

    #[test]
    fn money_prints_exactly() {
        let m = Money::new("0.0000000050300".parse().unwrap_or_default(), Currency::USD);
        assert_eq!(m.amount, "0.00000000503");
        assert_eq!(m.currency, "USD");
    }
}
