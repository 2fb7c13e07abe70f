use super::*;
use crate::money::Money;
use proptest::prelude::*;

const CARD: &str = r#"
    [[rate]]
    provider = "aws"
    service = "lambda"
    metric = "requests"
    currency = "USD"
    free_quantity = "5"
    tiers = [{ up_to = "50", unit_price = "0.0000002" }, { unit_price = "0.0000001" }]
"#;

/// The store as a fold: what the embedded and the distributed stores must both behave like.
#[derive(Default)]
struct Model {
    seen: HashSet<(String, String)>,
    meters: HashMap<MeterKey, Decimal>,
    cells: BTreeMap<RollupKey, RollupValue>,
}

impl Model {
    fn apply(&mut self, card: &RateCard, batch: &[UsageEvent]) {
        let seen: HashSet<_> = batch
            .iter()
            .map(|e| (e.tenant.as_str().to_string(), e.id.clone()))
            .filter(|id| self.seen.contains(id))
            .collect();
        let plan = plan_batch(card, batch, &seen, &self.meters);
        self.seen.extend(plan.counted);
        self.meters.extend(plan.meters);
        for (k, v) in plan.deltas {
            let cell = self.cells.entry(k).or_default();
            *cell = cell.checked_add(v).unwrap();
        }
    }

    /// Totals per (granularity, tenant, coarse bucket) — what must not depend on order.
    fn totals(&self, g: Granularity) -> BTreeMap<(String, DateTime<Utc>), (Decimal, u64)> {
        let mut out: BTreeMap<_, (Decimal, u64)> = BTreeMap::new();
        for (k, v) in &self.cells {
            if k.granularity == g {
                let e = out.entry((k.series.tenant.clone(), k.bucket)).or_default();
                e.0 += v.amount;
                e.1 += v.events;
            }
        }
        out
    }
}

fn event(i: u32, tenant: u8, minute: u32, qty: u32, billed: Option<i64>) -> UsageEvent {
    UsageEvent {
        id: format!("e{i}"),
        tenant: crate::event::TenantId::parse(&format!("t{tenant}")).unwrap(),
        timestamp: Utc
            .timestamp_opt(1_767_225_600 + i64::from(minute) * 60, 0)
            .unwrap(),
        category: Category::Api,
        sub_kind: SubKind::Requests,
        provider: "aws".into(),
        service: "lambda".into(),
        resource: format!("fn-{}", i % 3),
        metric: "requests".into(),
        quantity: Decimal::from(qty),
        unit: "count".into(),
        cost: billed.map(|c| Money::new(Decimal::new(c, 11), Currency::USD)),
        labels: BTreeMap::from([("team".to_string(), format!("team-{}", i % 2))]),
    }
}

fn events() -> impl Strategy<Value = Vec<UsageEvent>> {
    proptest::collection::vec(
        (
            0u8..3,
            0u32..(3 * 24 * 60),
            0u32..40,
            proptest::option::of(-1000i64..100_000_000),
        ),
        1..60,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (t, m, q, b))| event(i as u32, t, m, q, b))
            .collect()
    })
}

fn card() -> RateCard {
    RateCard::from_toml(CARD).unwrap()
}

fn run(batches: &[Vec<UsageEvent>]) -> Model {
    let mut m = Model::default();
    for b in batches {
        m.apply(&card(), b);
    }
    m
}

proptest! {
    /// Delivering the stream in any order, in any batches, with any events duplicated, yields the
    /// same monthly totals (graduated tiers are priced on the month's cumulative quantity) and the
    /// same event counts in every bucket.
    #[test]
    fn order_batching_and_duplicates_never_change_totals(
        evs in events(),
        perm_seed in any::<u64>(),
        dup_mask in proptest::collection::vec(any::<bool>(), 60),
        cut in 1usize..10,
    ) {
        let reference = run(std::slice::from_ref(&evs));

        let mut shuffled = evs.clone();
        let n = shuffled.len();
        let mut s = perm_seed | 1;
        for i in (1..n).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        for (i, e) in evs.iter().enumerate() {
            if dup_mask[i] { shuffled.push(e.clone()); }
        }
        let batches: Vec<Vec<UsageEvent>> = shuffled.chunks(cut).map(<[UsageEvent]>::to_vec).collect();
        let replayed = run(&batches);

        prop_assert_eq!(reference.totals(Granularity::Month), replayed.totals(Granularity::Month));
        for g in Granularity::ALL {
            let counts = |m: &Model| m.totals(g).into_iter().map(|(k, v)| (k, v.1)).collect::<Vec<_>>();
            prop_assert_eq!(counts(&reference), counts(&replayed));
        }
        prop_assert_eq!(reference.seen.len(), evs.len());
    }

    /// Every granularity carries the same grand total: the rollup levels never disagree.
    #[test]
    fn all_granularities_agree(evs in events()) {
        let m = run(&[evs]);
        let grand = |g| m.totals(g).values().map(|v| v.0).sum::<Decimal>();
        let month = grand(Granularity::Month);
        for g in Granularity::ALL {
            prop_assert_eq!(grand(g), month);
        }
    }

    /// Billed events are counted at exactly their billed amount.
    #[test]
    fn billed_amounts_are_exact(evs in events()) {
        let expected: Decimal = evs.iter().filter_map(|e| e.cost.map(|c| c.amount)).sum();
        let m = run(&[evs]);
        let billed: Decimal = m.cells.iter().filter(|(k, _)| k.granularity == Granularity::Day).map(|(_, v)| v.billed).sum();
        prop_assert_eq!(billed, expected);
    }
}

#[test]
fn buckets_are_utc_and_months_roll_over() {
    let ts: DateTime<Utc> = "2026-01-31T23:59:30Z".parse().unwrap();
    assert_eq!(
        Granularity::Minute.bucket_start(ts).to_rfc3339(),
        "2026-01-31T23:59:00+00:00"
    );
    assert_eq!(
        Granularity::Hour.bucket_start(ts).to_rfc3339(),
        "2026-01-31T23:00:00+00:00"
    );
    assert_eq!(
        Granularity::Day.bucket_start(ts).to_rfc3339(),
        "2026-01-31T00:00:00+00:00"
    );
    let month = Granularity::Month.bucket_start(ts);
    assert_eq!(month.to_rfc3339(), "2026-01-01T00:00:00+00:00");
    assert_eq!(
        Granularity::Month.next_bucket(month).to_rfc3339(),
        "2026-02-01T00:00:00+00:00"
    );
}

#[test]
fn unpriceable_events_are_rejected_not_counted() {
    let mut e = event(1, 0, 0, 3, None);
    e.metric = "unknown".into();
    let plan = plan_batch(&card(), &[e], &HashSet::new(), &HashMap::new());
    assert_eq!(plan.rejected.len(), 1);
    assert!(plan.counted.is_empty() && plan.deltas.is_empty());
}

#[test]
fn free_tier_then_graduated_prices() {
    // 5 free, then 2e-7 each: 10 requests cost 5 × 2e-7 = 0.000001
    let plan = plan_batch(
        &card(),
        &[event(1, 0, 0, 10, None)],
        &HashSet::new(),
        &HashMap::new(),
    );
    let month: Decimal = plan
        .deltas
        .iter()
        .filter(|(k, _)| k.granularity == Granularity::Month)
        .map(|(_, v)| v.amount)
        .sum();
    assert_eq!(month.normalize().to_string(), "0.000001");
}
