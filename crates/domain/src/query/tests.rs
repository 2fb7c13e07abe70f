use super::*;
use crate::fx::FxRates;
use crate::rollup::RollupValue;
use proptest::prelude::*;

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn row(
    bucket: &str,
    cat: Category,
    provider: &str,
    amount: &str,
    currency: Currency,
    labels: &str,
) -> RollupRow {
    RollupRow {
        bucket: ts(bucket),
        series: SeriesKey {
            tenant: "acme".into(),
            category: cat,
            sub_kind: SubKind::General,
            provider: provider.into(),
            service: "svc".into(),
            resource: "r".into(),
            labels: labels.into(),
            currency,
        },
        value: RollupValue {
            amount: amount.parse().unwrap(),
            billed: Decimal::ZERO,
            events: 1,
        },
    }
}

#[test]
fn cover_uses_coarse_buckets_inside_and_fine_ones_at_the_edges() {
    let r = TimeRange::new(ts("2026-01-30T22:58:00Z"), ts("2026-03-02T01:03:00Z")).unwrap();
    let spans = cover(r);
    let gs: Vec<_> = spans.iter().map(|s| s.granularity).collect();
    use Granularity::*;
    assert_eq!(gs, vec![Minute, Hour, Day, Month, Day, Hour, Minute]);
    assert_eq!(spans[3].from, ts("2026-02-01T00:00:00Z"));
    assert_eq!(spans[3].to, ts("2026-03-01T00:00:00Z"));
}

proptest! {
    /// The spans tile the range: contiguous, aligned, no gap and no overlap.
    #[test]
    fn cover_tiles_the_range(start in 0i64..(400 * 24 * 60), len in 1i64..(200 * 24 * 60)) {
        let base = ts("2025-12-01T00:00:00Z");
        let from = base + Duration::minutes(start);
        let r = TimeRange::new(from, from + Duration::minutes(len)).unwrap();
        let spans = cover(r);
        prop_assert_eq!(spans.first().unwrap().from, r.from);
        prop_assert_eq!(spans.last().unwrap().to, r.to);
        for w in spans.windows(2) {
            prop_assert_eq!(w[0].to, w[1].from);
        }
        for s in &spans {
            prop_assert!(s.granularity.is_aligned(s.from) && s.granularity.is_aligned(s.to));
        }
        prop_assert!(spans.len() <= 7);
    }
}

#[test]
fn ranges_are_checked() {
    assert!(TimeRange::new(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:00:30Z")).is_err());
    assert!(TimeRange::new(ts("2026-01-02T00:00:00Z"), ts("2026-01-01T00:00:00Z")).is_err());
    assert!(TimeRange::new(ts("2020-01-01T00:00:00Z"), ts("2026-01-01T00:00:00Z")).is_err());
}

#[test]
fn breakdown_converts_once_per_currency_and_sorts() {
    let fx = FxRates::default();
    let rows = vec![
        row(
            "2026-01-01T00:00:00Z",
            Category::Api,
            "aws",
            "1.5",
            Currency::USD,
            "{}",
        ),
        row(
            "2026-01-02T00:00:00Z",
            Category::Api,
            "aws",
            "2.5",
            Currency::USD,
            "{}",
        ),
        row(
            "2026-01-01T00:00:00Z",
            Category::Database,
            "gcp",
            "10",
            Currency::EUR,
            r#"{"team":"core"}"#,
        ),
    ];
    let g = breakdown(&rows, &[Dimension::Provider], &fx, Currency::USD).unwrap();
    assert_eq!(g[0].key, vec!["gcp"]);
    assert_eq!(g[0].amount, Decimal::new(108, 1));
    assert_eq!(g[1].amount, Decimal::from(4));
    assert_eq!(g[1].events, 2);
    let by_label = breakdown(
        &rows,
        &[Dimension::Label("team".into())],
        &fx,
        Currency::USD,
    )
    .unwrap();
    let keys: Vec<_> = by_label.iter().map(|g| g.key[0].as_str()).collect();
    assert_eq!(keys, vec!["core", NO_LABEL]);
}

#[test]
fn summary_compares_with_the_previous_period() {
    let fx = FxRates::default();
    let range = TimeRange::new(ts("2026-01-03T00:00:00Z"), ts("2026-01-05T00:00:00Z")).unwrap();
    let cur = vec![
        row(
            "2026-01-03T00:00:00Z",
            Category::Api,
            "aws",
            "30",
            Currency::USD,
            "{}",
        ),
        row(
            "2026-01-04T00:00:00Z",
            Category::Hosting,
            "aws",
            "10",
            Currency::USD,
            "{}",
        ),
    ];
    let prev = vec![row(
        "2026-01-01T00:00:00Z",
        Category::Api,
        "aws",
        "20",
        Currency::USD,
        "{}",
    )];
    let s = summary(range, &cur, &prev, &fx, Currency::USD).unwrap();
    assert_eq!(s.total, Decimal::from(40));
    assert_eq!(s.daily_average, Decimal::from(20));
    assert_eq!(s.previous_period_total, Decimal::from(20));
    assert_eq!(s.change_percent, Some(Decimal::from(100)));
    assert_eq!(s.categories[0].category, Category::Api);
    assert_eq!(s.categories[0].trend, Trend::Up);
    assert_eq!(s.categories[0].percentage, Some(Decimal::from(75)));
    assert_eq!(s.categories[1].trend, Trend::Up);
    assert_eq!(range.previous().from, ts("2026-01-01T00:00:00Z"));
}

#[test]
fn filters_match_every_listed_dimension() {
    let r = row(
        "2026-01-01T00:00:00Z",
        Category::Api,
        "aws",
        "1",
        Currency::USD,
        r#"{"team":"core"}"#,
    );
    assert!(Filter::default().matches(&r.series));
    let f = Filter {
        providers: vec!["aws".into()],
        labels: BTreeMap::from([("team".into(), "core".into())]),
        ..Default::default()
    };
    assert!(f.matches(&r.series));
    let f = Filter {
        categories: vec![Category::Database],
        ..Default::default()
    };
    assert!(!f.matches(&r.series));
}

#[test]
fn month_end_projection_is_linear_in_the_month_to_date() {
    // 10 days into a 31-day month with 100 spent → 310.
    let p = project_month_end(Decimal::from(100), ts("2026-01-11T00:00:00Z"));
    assert_eq!(p, Decimal::from(310));
}

#[test]
fn overflowing_totals_are_errors_not_panics() {
    let fx = FxRates::default();
    let mut a = row(
        "2026-01-01T00:00:00Z",
        Category::Api,
        "aws",
        "1",
        Currency::USD,
        "{}",
    );
    a.value.amount = Decimal::MAX;
    let rows = vec![a.clone(), a];
    assert_eq!(
        breakdown(&rows, &[Dimension::Provider], &fx, Currency::USD),
        Err(FxError::Overflow)
    );
    let range = TimeRange::new(ts("2026-01-01T00:00:00Z"), ts("2026-01-02T00:00:00Z")).unwrap();
    assert_eq!(
        summary(range, &rows, &[], &fx, Currency::USD),
        Err(FxError::Overflow)
    );
    assert_eq!(trend(Decimal::MAX, Decimal::MIN), Trend::Up);
}
