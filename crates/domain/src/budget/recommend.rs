//! A suggested budget amount from past periods, with the reasoning spelled out.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::money::{checked_sum, format_amount};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    pub amount: Decimal,
    pub based_on_periods: usize,
    pub reasoning: Vec<String>,
}

/// Headroom over the expected spend, so a normal period does not trip the 100 % threshold.
const HEADROOM_PERCENT: i64 = 10;

/// Suggests an amount from the totals of complete past periods (`history`, oldest first): the
/// larger of their mean and the linear trend's next value, plus 10 % headroom, rounded up to a
/// whole unit. `None` when there is no history to learn from.
pub fn recommend(history: &[Decimal], currency: &str) -> Option<Recommendation> {
    let n = history.len();
    if n == 0 {
        return None;
    }
    let total = checked_sum(history.iter().copied())?;
    let mean = total.checked_div(Decimal::from(n))?;
    let last = history[n - 1];
    let mut reasoning = vec![format!(
        "Average of the last {n} complete period(s): {} {currency}.",
        show(mean)
    )];
    // Least-squares slope per period over x = 0..n-1.
    let expected = if n >= 2 {
        let x_mean = Decimal::from(n - 1) / Decimal::TWO;
        let (mut sxy, mut sxx) = (Decimal::ZERO, Decimal::ZERO);
        for (i, y) in history.iter().enumerate() {
            let dx = Decimal::from(i) - x_mean;
            sxy = sxy.checked_add(dx.checked_mul(*y - mean)?)?;
            sxx += dx * dx;
        }
        let slope = sxy.checked_div(sxx)?;
        let next = last.checked_add(slope)?.max(Decimal::ZERO);
        reasoning.push(format!(
            "Trend: {} {currency} per period, so the next period is expected near {} {currency}.",
            signed(slope),
            show(next)
        ));
        mean.max(next)
    } else {
        reasoning.push("Only one complete period: no trend yet.".to_string());
        mean
    };
    let amount = (expected * Decimal::from(100 + HEADROOM_PERCENT) / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, RoundingStrategy::ToPositiveInfinity)
        .max(Decimal::ONE);
    reasoning.push(format!(
        "Suggested {} {currency}: the larger expectation plus {HEADROOM_PERCENT}% headroom, rounded up to a whole unit.",
        format_amount(amount)
    ));
    Some(Recommendation {
        amount,
        based_on_periods: n,
        reasoning,
    })
}

fn show(d: Decimal) -> String {
    format_amount(d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

fn signed(d: Decimal) -> String {
    if d >= Decimal::ZERO {
        format!("+{}", show(d))
    } else {
        show(d)
    }
}
