//! The aggregator over the embedded adapters: duplicates, re-delivery and competing instances
//! never change totals. (The kill -9 test of the whole process lives in services/costwatch/tests.)

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use costwatch_aggregator::{Aggregator, Options};
use costwatch_domain::{Granularity, RateCard};
use costwatch_embedded::{BroadcastUpdates, SqliteLog, SqliteStore};
use costwatch_ports::contract::sample_event;
use costwatch_ports::{CostStore, UsageLog};
use rust_decimal::Decimal;

const CARD: &str = r#"
[[rate]]
provider = "aws"
service = "dynamodb"
metric = "read_units"
currency = "USD"
free_quantity = "10"
tiers = [{ up_to = "100", unit_price = "0.00000025" }, { unit_price = "0.0000002" }]
"#;

struct Rig {
    log: Arc<SqliteLog>,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    Rig {
        log: Arc::new(SqliteLog::open(&dir.path().join("bus.sqlite")).expect("log")),
        store: Arc::new(SqliteStore::open(&dir.path().join("store.sqlite")).expect("store")),
        _dir: dir,
    }
}

fn aggregator(r: &Rig, batch_size: usize) -> Aggregator {
    Aggregator::new(
        r.log.clone(),
        r.store.clone(),
        Arc::new(BroadcastUpdates::default()),
        Arc::new(RateCard::from_toml(CARD).expect("card")),
        Options {
            batch_size,
            poll_wait: std::time::Duration::from_millis(10),
            ..Options::default()
        },
    )
}

async fn month_total(store: &SqliteStore, tenant: &str) -> (Decimal, u64) {
    let from = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("time");
    let to = Utc
        .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
        .single()
        .expect("time");
    let rows = store
        .rollups(tenant, Granularity::Month, from, to)
        .await
        .expect("rollups");
    (
        rows.iter().map(|r| r.value.amount).sum(),
        rows.iter().map(|r| r.value.events).sum(),
    )
}

async fn drain(a: &Aggregator) {
    while a.step().await.expect("step").records > 0 {}
}

#[tokio::test]
async fn duplicates_in_the_log_are_counted_once() {
    let r = rig();
    let events: Vec<_> = (0..50)
        .map(|i| sample_event("acme", &format!("e{i}")))
        .collect();
    r.log.publish(&events).await.expect("publish");
    r.log.publish(&events[10..30]).await.expect("resend"); // a client retry
    let a = aggregator(&r, 7);
    drain(&a).await;
    // 50 events × 12.5 units = 625 units. Tier bounds count after the free quantity:
    // 10 free, the next 100 at 0.00000025 (0.000025), 515 at 0.0000002 (0.000103).
    let expected: Decimal = "0.000128".parse().expect("decimal");
    assert_eq!(month_total(&r.store, "acme").await, (expected, 50));
}

#[tokio::test]
async fn a_restarted_aggregator_resumes_without_recounting() {
    let r = rig();
    let events: Vec<_> = (0..40)
        .map(|i| sample_event("acme", &format!("e{i}")))
        .collect();
    r.log.publish(&events[..20]).await.expect("publish");
    drain(&aggregator(&r, 8)).await;
    // "Crash": a new instance on the same store; more events arrive, some re-sent.
    r.log.publish(&events[15..]).await.expect("publish");
    drain(&aggregator(&r, 8)).await;
    let (amount, n) = month_total(&r.store, "acme").await;
    assert_eq!(n, 40);
    // 500 units: 10 free, 100 × 0.00000025, 390 × 0.0000002.
    assert_eq!(amount, "0.000103".parse::<Decimal>().expect("decimal"));
}

#[tokio::test]
async fn competing_instances_are_fenced_and_totals_stay_exact() {
    let r = rig();
    let events: Vec<_> = (0..300)
        .map(|i| sample_event("acme", &format!("e{i}")))
        .collect();
    r.log.publish(&events).await.expect("publish");
    let (a, b) = (aggregator(&r, 5), aggregator(&r, 5));
    let run = |agg: Aggregator| {
        tokio::spawn(async move {
            loop {
                match agg.step().await {
                    Ok(o) if o.records == 0 => break,
                    Ok(_)
                    | Err(costwatch_aggregator::Error::Store(
                        costwatch_ports::StoreError::Fenced { .. },
                    )) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        })
    };
    let (ha, hb) = (run(a), run(b));
    ha.await.expect("a");
    hb.await.expect("b");
    let (_, n) = month_total(&r.store, "acme").await;
    assert_eq!(n, 300);
}

#[tokio::test]
async fn unpriceable_events_are_dead_lettered_with_the_reason() {
    let r = rig();
    let mut e = sample_event("acme", "odd");
    e.metric = "write_units".into();
    r.log.publish(&[e]).await.expect("publish");
    drain(&aggregator(&r, 10)).await;
    let dl = r
        .store
        .dead_letters("acme", 10)
        .await
        .expect("dead letters");
    assert_eq!(dl.len(), 1);
    assert!(
        dl[0].reason.contains("aws/dynamodb/write_units"),
        "{}",
        dl[0].reason
    );
    assert_eq!(month_total(&r.store, "acme").await.1, 0);
}

/// Keeps what the aggregator announces (the dead-letter topic's port, recorded in memory).
#[derive(Default)]
struct Announced(std::sync::Mutex<Vec<costwatch_ports::DeadLetter>>);

#[async_trait::async_trait]
impl costwatch_ports::DeadLetterLog for Announced {
    async fn publish(
        &self,
        letters: &[costwatch_ports::DeadLetter],
    ) -> Result<(), costwatch_ports::BusError> {
        self.0.lock().expect("lock").extend_from_slice(letters);
        Ok(())
    }
}

#[tokio::test]
async fn dead_letters_are_announced_with_their_reason_and_counted_nowhere() {
    let r = rig();
    let mut odd = sample_event("acme", "odd");
    odd.metric = "write_units".into();
    let fine = sample_event("acme", "fine");
    r.log.publish(&[odd, fine]).await.expect("publish");
    let announced = Arc::new(Announced::default());
    drain(&aggregator(&r, 10).with_dead_letter_log(announced.clone())).await;
    let letters = announced.0.lock().expect("lock").clone();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].event_id, "odd");
    assert_eq!(letters[0].tenant, "acme");
    assert!(letters[0].reason.contains("aws/dynamodb/write_units"));
    assert!(letters[0].event_json.contains("\"odd\""));
    assert_eq!(
        month_total(&r.store, "acme").await.1,
        1,
        "the priceable one counts"
    );
}
