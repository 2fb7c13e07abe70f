use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::budget::{
    Budget, BudgetScope, BudgetSpec, ForecastPolicy, Period, Threshold, ThresholdBasis,
    default_thresholds, status,
};
use crate::money::Currency;

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0)
        .single()
        .expect("valid date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn budget(amount: &str, thresholds: Vec<Threshold>) -> Budget {
    Budget {
        id: "b1".into(),
        tenant: "acme".into(),
        spec: BudgetSpec {
            name: "Platform".into(),
            amount: dec(amount),
            currency: Currency::USD,
            period: Period::Monthly,
            scope: BudgetScope::default(),
            thresholds,
            allocations: vec![],
            owner: Some("finops".into()),
        },
        created_at: at(1, 0),
        updated_at: at(1, 0),
    }
}

fn actual(p: i64) -> Threshold {
    Threshold {
        percent: Decimal::from(p),
        basis: ThresholdBasis::Actual,
    }
}

/// Evaluates `b` at `now` with `daily` spend and applies the changes to `alerts`; returns what
/// changed.
fn step(b: &Budget, alerts: &mut Vec<Alert>, daily: &[Decimal], now: DateTime<Utc>) -> Vec<Alert> {
    step_with(b, alerts, daily, now, ForecastPolicy::default())
}

/// Forecast conditions (forecast thresholds, depletion) off, so a test sees only the actual ones.
fn step_actual_only(
    b: &Budget,
    alerts: &mut Vec<Alert>,
    daily: &[Decimal],
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let never = ForecastPolicy {
        min_elapsed: Duration::days(100_000),
    };
    step_with(b, alerts, daily, now, never)
}

fn step_with(
    b: &Budget,
    alerts: &mut Vec<Alert>,
    daily: &[Decimal],
    now: DateTime<Utc>,
    policy: ForecastPolicy,
) -> Vec<Alert> {
    let w = b.spec.period.window(now);
    let st = status(&b.spec, w, daily, now, policy);
    let conds = budget_conditions(b, &st);
    let epoch = w.start.format("%Y-%m-%d").to_string();
    let changed = reconcile(
        "acme",
        "budget:b1",
        alerts,
        conds,
        Some(&epoch),
        now,
        Duration::hours(1),
    );
    for c in &changed {
        match alerts.iter_mut().find(|a| a.id == c.id) {
            Some(a) => *a = c.clone(),
            None => alerts.push(c.clone()),
        }
    }
    changed
}

#[test]
fn crossing_80_percent_raises_exactly_one_alert_however_often_evaluated() {
    let b = budget("100", vec![actual(50), actual(80), actual(100)]);
    let mut alerts = Vec::new();
    // 79.99 spent: only the 50 % alert.
    let c = step_actual_only(&b, &mut alerts, &[dec("79.99")], at(2, 0));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].dedupe_key, "budget:b1:actual:2026-11-01:50");
    // 80 exactly: the 80 % alert triggers and supersedes the 50 % one.
    let c = step_actual_only(&b, &mut alerts, &[dec("80")], at(2, 1));
    let triggered: Vec<_> = c
        .iter()
        .filter(|a| a.state == AlertState::Triggered)
        .collect();
    assert_eq!(triggered.len(), 1);
    assert_eq!(triggered[0].dedupe_key, "budget:b1:actual:2026-11-01:80");
    assert_eq!(triggered[0].severity, Severity::Warning);
    let superseded = c
        .iter()
        .find(|a| a.state == AlertState::Resolved)
        .expect("50% resolved");
    assert!(
        superseded
            .history
            .last()
            .and_then(|t| t.note.clone())
            .unwrap_or_default()
            .contains("superseded")
    );
    // Re-delivery / restart: the same situation evaluated again changes nothing.
    for h in 2..6 {
        assert!(step_actual_only(&b, &mut alerts, &[dec("80")], at(2, h)).is_empty());
    }
    // A fresh evaluator that loads the stored alerts agrees.
    let mut reloaded = alerts.clone();
    assert!(step_actual_only(&b, &mut reloaded, &[dec("85")], at(2, 7)).is_empty());
}

#[test]
fn jump_past_several_thresholds_raises_only_the_highest() {
    let b = budget("100", vec![actual(50), actual(80), actual(100)]);
    let mut alerts = Vec::new();
    let c = step_actual_only(&b, &mut alerts, &[dec("120")], at(2, 0));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, AlertKind::BudgetThreshold);
    assert_eq!(c[0].severity, Severity::Critical);
    assert_eq!(c[0].threshold, Some(dec("100")));
}

#[test]
fn period_rollover_resolves_and_the_new_period_starts_clean() {
    let b = budget("100", vec![actual(80)]);
    let mut alerts = Vec::new();
    step_actual_only(&b, &mut alerts, &[dec("90")], at(20, 0));
    let dec1 = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 5, 0)
        .single()
        .expect("date");
    let c = step_actual_only(&b, &mut alerts, &[], dec1);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].state, AlertState::Resolved);
    assert!(c[0].auto_resolved);
    assert_eq!(
        c[0].history.last().and_then(|t| t.note.as_deref()),
        Some("period ended")
    );
    // Crossing again in December is a new alert with a new key.
    let c = step_actual_only(&b, &mut alerts, &[dec("85")], dec1 + Duration::days(2));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].dedupe_key, "budget:b1:actual:2026-12-01:80");
    assert_ne!(c[0].id, alerts[0].id);
}

#[test]
fn forecast_breach_is_raised_before_the_actual_one() {
    let b = budget("300", default_thresholds());
    let mut alerts = Vec::new();
    let mut first_forecast = None;
    let mut first_actual = None;
    // 12/day: the month would end at 360.
    for day in 1..=30u32 {
        let daily = vec![dec("12"); day as usize];
        let now = at(day, 23);
        for a in step(&b, &mut alerts, &daily, now) {
            if a.state != AlertState::Triggered {
                continue;
            }
            match (a.kind, a.threshold) {
                (AlertKind::BudgetForecast, _) if first_forecast.is_none() => {
                    first_forecast = Some(day)
                }
                (AlertKind::BudgetThreshold, Some(t)) if t == dec("300") => {
                    first_actual = Some(day)
                }
                _ => {}
            }
        }
    }
    let (f, a) = (
        first_forecast.expect("forecast alert"),
        first_actual.expect("actual alert"),
    );
    assert!(f < a, "forecast on day {f}, actual on day {a}");
    assert_eq!(
        f, 2,
        "after the first full day, 12/day already projects 360"
    );
    assert_eq!(a, 25);
}

#[test]
fn depletion_warning_only_without_forecast_thresholds() {
    let b = budget("300", vec![actual(100)]);
    let mut alerts = Vec::new();
    let c = step(&b, &mut alerts, &[dec("15"); 10], at(11, 0));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, AlertKind::BudgetDepletion);
    assert!(c[0].message.contains("2026-11-21"), "{}", c[0].message);
}

#[test]
fn credit_clears_the_condition_and_cooldown_gates_the_reopen() {
    let b = budget("100", vec![actual(80)]);
    let mut alerts = Vec::new();
    step_actual_only(&b, &mut alerts, &[dec("85")], at(2, 0));
    // A credit brings spend below: auto-resolved.
    let c = step_actual_only(&b, &mut alerts, &[dec("85"), dec("-10")], at(3, 0));
    assert_eq!(c[0].state, AlertState::Resolved);
    assert_eq!(
        c[0].history.last().and_then(|t| t.note.as_deref()),
        Some("condition cleared")
    );
    // Back above 80 within the hour cooldown: stays resolved; after it: reopens (same id).
    assert!(
        step_actual_only(
            &b,
            &mut alerts,
            &[dec("85"), dec("-10"), dec("6")],
            at(3, 0) + Duration::minutes(30)
        )
        .is_empty()
    );
    let c = step_actual_only(
        &b,
        &mut alerts,
        &[dec("85"), dec("-10"), dec("6")],
        at(3, 2),
    );
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].state, AlertState::Triggered);
    assert_eq!(c[0].id, alerts[0].id);
}

#[test]
fn people_acknowledge_and_resolve_and_a_manual_resolve_sticks() {
    let b = budget("100", vec![actual(80)]);
    let mut alerts = Vec::new();
    step_actual_only(&b, &mut alerts, &[dec("85")], at(2, 0));
    let acked = acknowledge(&alerts[0], Some("ana".into()), None, at(2, 1)).expect("ack");
    assert_eq!(acked.state, AlertState::Acknowledged);
    assert_eq!(acked.version, alerts[0].version + 1);
    assert!(matches!(
        acknowledge(&acked, None, None, at(2, 2)),
        Err(LifecycleError::AlreadyAcknowledged { .. })
    ));
    let resolved = resolve(
        &acked,
        Some("ana".into()),
        Some("expected migration".into()),
        at(2, 3),
    )
    .expect("resolve");
    assert!(matches!(
        resolve(&resolved, None, None, at(2, 4)),
        Err(LifecycleError::AlreadyResolved { .. })
    ));
    alerts[0] = resolved;
    // The condition still holds, long after any cooldown: a person's decision is kept.
    assert!(step_actual_only(&b, &mut alerts, &[dec("90")], at(9, 0)).is_empty());
    let events: Vec<String> = alerts
        .iter()
        .map(|a| AlertEvent::of(a.clone()).event_id)
        .collect();
    assert_eq!(events, vec![format!("{}:3", alerts[0].id)]);
}

#[test]
fn alert_ids_are_stable_and_tenant_scoped() {
    assert_eq!(alert_id("acme", "k"), alert_id("acme", "k"));
    assert_ne!(alert_id("acme", "k"), alert_id("globex", "k"));
    assert_ne!(alert_id("acme", "k"), alert_id("acme", "k2"));
}

#[test]
fn spikes_need_a_baseline_and_a_factor() {
    let rule = SpikeRule {
        scope: "tenant".into(),
        factor: dec("3"),
        min_amount: dec("1"),
        baseline: 4,
    };
    let w = |vals: &[&str]| -> Vec<(DateTime<Utc>, Decimal)> {
        vals.iter()
            .enumerate()
            .map(|(i, v)| (at(1, i as u32), dec(v)))
            .collect()
    };
    assert!(
        spike_condition(&rule, &w(&["2", "2", "2", "6"]), Currency::USD).is_none(),
        "short baseline"
    );
    assert!(spike_condition(&rule, &w(&["2", "2", "3", "2", "5.99"]), Currency::USD).is_none());
    let c = spike_condition(&rule, &w(&["2", "2", "3", "2", "6"]), Currency::USD).expect("spike");
    assert_eq!(c.kind, AlertKind::CostSpike);
    assert_eq!(c.severity, Severity::Warning);
    assert_eq!(c.dedupe_key, "spike:tenant:2026-11-01T04:00");
    let c = spike_condition(&rule, &w(&["2", "2", "3", "2", "12"]), Currency::USD).expect("spike");
    assert_eq!(c.severity, Severity::Critical);
    assert!(
        spike_condition(&rule, &w(&["0", "0", "3", "0", "60"]), Currency::USD).is_none(),
        "no baseline"
    );
    let tiny = SpikeRule {
        min_amount: dec("100"),
        ..rule
    };
    assert!(spike_condition(&tiny, &w(&["2", "2", "3", "2", "60"]), Currency::USD).is_none());
}

#[test]
fn period_change_needs_both_percent_and_absolute() {
    let rule = ChangeRule {
        scope: "tenant".into(),
        percent: dec("50"),
        min_absolute: dec("100"),
    };
    let c = |cur: &str, prev: &str| {
        change_condition(&rule, dec(cur), dec(prev), "2026-11-01", Currency::USD)
    };
    assert!(c("149", "100").is_none(), "+49 %");
    assert!(c("160", "100").is_none(), "+60 % but only +60");
    assert!(c("50", "0").is_none(), "no previous spend to compare with");
    let up = c("1500", "1000").expect("+50 % and +500");
    assert_eq!(up.kind, AlertKind::PeriodChange);
    assert_eq!(up.severity, Severity::Warning);
    assert_eq!(up.dedupe_key, "change:tenant:2026-11-01");
    assert!(up.message.contains("+500 USD (+50%)"), "{}", up.message);
    assert_eq!(
        c("2100", "1000").expect("+110 %").severity,
        Severity::Critical
    );
}
