//! Budget spend with dated exchange rates: each charge day converts at its own fixing, the same
//! rule the cost queries use, over real SQLite stores.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use costwatch_alerting::{Fx, daily_spend};
use costwatch_domain::budget::{BudgetScope, PeriodWindow};
use costwatch_domain::fx::{DatedRate, FxRates};
use costwatch_domain::money::round_computed;
use costwatch_domain::{
    Category, Currency, Granularity, RollupKey, RollupValue, SeriesKey, SubKind,
};
use costwatch_embedded::{SqliteFxRates, SqliteStore};
use costwatch_ports::{Commit, CostStore, FxRateStore};
use rust_decimal::Decimal;

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0)
        .single()
        .expect("date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Books `amount` EUR for acme at `t`, in every granularity, as commit number `n`.
async fn book_eur(costs: &dyn CostStore, t: DateTime<Utc>, amount: &str, n: u64) {
    let series = SeriesKey {
        tenant: "acme".into(),
        category: Category::Hosting,
        sub_kind: SubKind::Compute,
        provider: "aws".into(),
        service: "ec2".into(),
        resource: "i-1".into(),
        labels: "{}".into(),
        currency: Currency::EUR,
    };
    let value = RollupValue {
        amount: dec(amount),
        billed: dec(amount),
        events: 1,
    };
    let deltas = Granularity::ALL
        .iter()
        .map(|g| {
            let key = RollupKey {
                granularity: *g,
                bucket: g.bucket_start(t),
                series: series.clone(),
            };
            (key, value)
        })
        .collect();
    let commit = Commit {
        consumer: "test".into(),
        expected_positions: BTreeMap::from([(0, n)])
            .into_iter()
            .filter(|_| n > 0)
            .collect(),
        positions: BTreeMap::from([(0, n + 1)]),
        counted: vec![("acme".into(), format!("e{n}"))],
        deltas,
        ..Commit::default()
    };
    costs.commit(commit).await.expect("commit");
}

#[tokio::test]
async fn budget_spend_converts_each_day_at_its_own_fixing() {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let costs = SqliteStore::open(&dir.join("store.sqlite")).expect("store");
    let rates = Arc::new(SqliteFxRates::open(&dir.join("fx.sqlite")).expect("fx"));
    // Friday 20th, Saturday 21st (Friday's fixing), Monday 23rd, and the 2nd (no fixing within
    // seven days: the reference table's 1.08).
    for (n, (d, a)) in [(20, "100"), (21, "50"), (23, "10"), (2, "1")]
        .iter()
        .enumerate()
    {
        book_eur(&costs, day(*d) + chrono::Duration::hours(12), a, n as u64).await;
    }
    let fixing = |d: u32, r: &str| DatedRate {
        day: day(d).date_naive(),
        currency: Currency::USD,
        per_eur: dec(r),
        source: "ecb".into(),
        fetched_at: day(28),
    };
    rates
        .put_rates(&[fixing(20, "1.0987"), fixing(23, "1.1012")])
        .await
        .expect("rates");
    let window = PeriodWindow {
        start: day(1),
        end: day(1) + chrono::Duration::days(30),
    };
    let scope = BudgetScope::default();
    let dated = Fx::with_dated(FxRates::default(), rates);
    let spend = daily_spend(&costs, &dated, "acme", &scope, window, Currency::USD)
        .await
        .expect("spend");
    assert_eq!(spend.len(), 30);
    assert_eq!(spend[1], dec("1.08"), "the 2nd: reference table");
    assert_eq!(spend[19], dec("109.87"));
    assert_eq!(spend[20], round_computed(dec("50") * dec("1.0987")));
    assert_eq!(spend[22], dec("11.012"));
    // Without dated rates every day takes the reference rate: a different, wrong total.
    let reference = Fx::from(FxRates::default());
    let flat = daily_spend(&costs, &reference, "acme", &scope, window, Currency::USD)
        .await
        .expect("spend");
    assert_eq!(
        flat.iter().copied().sum::<Decimal>(),
        dec("161") * dec("1.08")
    );
    assert_ne!(flat, spend);
}

#[tokio::test]
async fn digest_movers_convert_each_day_at_its_own_fixing() {
    use costwatch_alerting::{BudgetService, DigestService};
    use costwatch_domain::alerting::DigestKind;
    use costwatch_domain::budget::ForecastPolicy;
    use costwatch_embedded::SqliteAlertStore;
    use costwatch_ports::AlertStore;

    let dir = tempfile::tempdir().expect("tempdir").keep();
    let costs: Arc<dyn CostStore> =
        Arc::new(SqliteStore::open(&dir.join("store.sqlite")).expect("store"));
    let alerts: Arc<dyn AlertStore> =
        Arc::new(SqliteAlertStore::open(&dir.join("alerts.sqlite")).expect("alerts"));
    let rates = Arc::new(SqliteFxRates::open(&dir.join("fx.sqlite")).expect("fx"));
    for (n, (d, a)) in [(20, "100"), (23, "10")].iter().enumerate() {
        book_eur(
            costs.as_ref(),
            day(*d) + chrono::Duration::hours(12),
            a,
            n as u64,
        )
        .await;
    }
    let fixing = |d: u32, r: &str| DatedRate {
        day: day(d).date_naive(),
        currency: Currency::USD,
        per_eur: dec(r),
        source: "ecb".into(),
        fetched_at: day(28),
    };
    rates
        .put_rates(&[fixing(20, "1.0987"), fixing(23, "1.1012")])
        .await
        .expect("rates");
    let budgets = Arc::new(BudgetService::new(
        costs.clone(),
        alerts,
        FxRates::default(),
        ForecastPolicy::default(),
    ));
    let digests = DigestService::new(
        budgets,
        costs,
        Fx::with_dated(FxRates::default(), rates),
        Currency::USD,
    );
    let digest = digests
        .build("acme", DigestKind::Monthly, day(25), day(28))
        .await
        .expect("digest");
    let ec2 = digest
        .service_movers
        .iter()
        .find(|m| m.name == "aws/ec2")
        .expect("ec2 moved");
    // 100 EUR at Friday's 1.0987 plus 10 EUR at Monday's 1.1012, not 110 × 1.08 (reference).
    assert_eq!(ec2.current, dec("109.87") + dec("11.012"));
}
