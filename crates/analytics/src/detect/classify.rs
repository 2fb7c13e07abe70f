//! After an event is confirmed: was it a step (level shift) or a bend (trend change)?
//!
//! Both models are fitted by least squares over the recent deseasonalised values for every
//! candidate change index; the better of the two (lowest residual sum of squares over all
//! splits) names the kind and the index.
//!   step:  y = a + b·t + c·1{t ≥ k}
//!   hinge: y = a + b·t + c·max(0, t − k)

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Change {
    Step {
        at: usize,
        size: f64,
    },
    /// `slope_after` is the fitted slope after the bend, `end_value` the fitted last value.
    Hinge {
        at: usize,
        slope_after: f64,
        end_value: f64,
    },
}

/// Least squares of y on [1, t, x] (3 parameters): returns (sse, coefficients).
fn fit3(y: &[f64], x: &dyn Fn(usize) -> f64) -> Option<(f64, [f64; 3])> {
    let mut a = [[0.0f64; 4]; 3];
    for (t, v) in y.iter().enumerate() {
        let row = [1.0, t as f64, x(t)];
        for i in 0..3 {
            for j in 0..3 {
                a[i][j] += row[i] * row[j];
            }
            a[i][3] += row[i] * v;
        }
    }
    for col in 0..3 {
        let pivot = (col..3).max_by(|p, q| a[*p][col].abs().total_cmp(&a[*q][col].abs()))?;
        a.swap(col, pivot);
        let p = a[col][col];
        if p.abs() < 1e-12 {
            return None;
        }
        for row in 0..3 {
            if row != col {
                let f = a[row][col] / p;
                let pivot_row = a[col];
                for (c, v) in a[row].iter_mut().enumerate().skip(col) {
                    *v -= f * pivot_row[c];
                }
            }
        }
    }
    let coef = [a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]];
    let sse = y
        .iter()
        .enumerate()
        .map(|(t, v)| (v - coef[0] - coef[1] * t as f64 - coef[2] * x(t)).powi(2))
        .sum();
    Some((sse, coef))
}

/// Best step and best hinge over change indices in `[min_side, len − min_side)`; returns the
/// better one.
pub(crate) fn classify_change(y: &[f64], min_side: usize) -> Option<Change> {
    let n = y.len();
    if n < 2 * min_side + 1 {
        return None;
    }
    let mut best_step: Option<(f64, usize, f64)> = None;
    let mut best_hinge: Option<(f64, usize, [f64; 3])> = None;
    for k in min_side..n - min_side {
        if let Some((sse, coef)) = fit3(y, &|t| if t >= k { 1.0 } else { 0.0 })
            && best_step.is_none_or(|b| sse < b.0)
        {
            best_step = Some((sse, k, coef[2]));
        }
        if let Some((sse, coef)) = fit3(y, &|t| t.saturating_sub(k) as f64)
            && best_hinge.is_none_or(|b| sse < b.0)
        {
            best_hinge = Some((sse, k, coef));
        }
    }
    match (best_step, best_hinge) {
        (Some(s), Some(h)) if h.0 < s.0 => {
            let [a, b, c] = h.2;
            let last = (n - 1) as f64;
            Some(Change::Hinge {
                at: h.1,
                slope_after: b + c,
                end_value: a + b * last + c * (last - h.1 as f64),
            })
        }
        (Some(s), _) => Some(Change::Step { at: s.1, size: s.2 }),
        (None, Some(h)) => Some(Change::Hinge {
            at: h.1,
            slope_after: h.2[1] + h.2[2],
            end_value: h.2[0] + h.2[1] * (n - 1) as f64 + h.2[2] * (n - 1 - h.1) as f64,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_a_step_and_a_bend_is_a_hinge() {
        let step: Vec<f64> = (0..60).map(|t| if t >= 30 { 10.0 } else { 0.0 }).collect();
        assert!(matches!(
            classify_change(&step, 4),
            Some(Change::Step { at: 30, .. })
        ));
        let bend: Vec<f64> = (0..60)
            .map(|t| if t >= 30 { (t - 30) as f64 } else { 0.0 })
            .collect();
        match classify_change(&bend, 4) {
            Some(Change::Hinge {
                at, slope_after, ..
            }) => {
                assert_eq!(at, 30);
                assert!((slope_after - 1.0).abs() < 1e-9);
            }
            other => panic!("expected a hinge, got {other:?}"),
        }
    }
}
