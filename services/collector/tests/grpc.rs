//! `costwatch.v1.IngestService` over a real gRPC connection, backed by an in-memory usage log.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use costwatch_collector::grpc::IngestGrpc;
use costwatch_collector::{IngestLimits, Ingestor};
use costwatch_domain::{RateCard, SubKind, UsageEvent};
use costwatch_ports::{BusError, LogRecord, UsageLog};
use costwatch_proto::prost_types::Timestamp;
use costwatch_proto::v1::ingest_service_client::IngestServiceClient;
use costwatch_proto::v1::{self as pb, FieldViolations, IngestRequest};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic::transport::Channel;

/// A usage log in memory: enough for a transport test (the real adapters have contract tests).
#[derive(Default)]
struct MemoryLog {
    events: Mutex<Vec<UsageEvent>>,
    failing: AtomicBool,
}

impl MemoryLog {
    fn events(&self) -> Vec<UsageEvent> {
        self.events.lock().expect("lock").clone()
    }
}

#[async_trait]
impl UsageLog for MemoryLog {
    async fn publish(&self, events: &[UsageEvent]) -> Result<(), BusError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(BusError::Unavailable("disk on fire".into()));
        }
        self.events.lock().expect("lock").extend_from_slice(events);
        Ok(())
    }

    async fn read(
        &self,
        partition: u32,
        from: u64,
        max: usize,
        _wait: Duration,
    ) -> Result<Vec<LogRecord>, BusError> {
        if partition != 0 {
            return Err(BusError::NoSuchPartition(partition));
        }
        let events = self.events.lock().expect("lock");
        Ok(events
            .iter()
            .enumerate()
            .skip(usize::try_from(from).unwrap_or(usize::MAX))
            .take(max)
            .map(|(offset, event)| LogRecord {
                trace_parent: None,
                partition,
                offset: offset as u64,
                event: event.clone(),
            })
            .collect())
    }

    fn partitions(&self) -> u32 {
        1
    }
}

const CARD: &str = r#"
    [[rate]]
    provider = "internal"
    service = "api-gateway"
    metric = "requests"
    unit = "request"
    currency = "USD"
    tiers = [{ unit_price = "0.0000035" }]
"#;

struct Server {
    client: IngestServiceClient<Channel>,
    log: Arc<MemoryLog>,
}

async fn serve(limits: IngestLimits) -> Server {
    let log = Arc::new(MemoryLog::default());
    let card = Arc::new(RateCard::from_toml(CARD).expect("rate card"));
    let ingestor = Arc::new(Ingestor::new(log.clone(), card, limits));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(IngestGrpc::new(ingestor).into_server())
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let client = IngestServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect");
    Server { client, log }
}

/// 2023-11-14T22:13:20Z, safely in the past.
const T0: i64 = 1_700_000_000;

/// A billed hosting event.
fn billed(id: &str, amount: &str) -> pb::UsageEvent {
    pb::UsageEvent {
        id: id.into(),
        tenant: "acme".into(),
        timestamp: Some(Timestamp {
            seconds: T0,
            nanos: 0,
        }),
        category: "hosting".into(),
        sub_kind: String::new(),
        provider: "aws".into(),
        service: "ec2".into(),
        resource: "i-0a1b2c3d".into(),
        metric: "vcpu_hours".into(),
        quantity: "0.0000012".into(),
        unit: "hour".into(),
        cost: Some(pb::Money {
            amount: amount.into(),
            currency: "USD".into(),
        }),
        labels: BTreeMap::new(),
    }
}

/// An unbilled api event, priced by the rate card.
fn rated(id: &str, quantity: &str) -> pb::UsageEvent {
    pb::UsageEvent {
        category: "api".into(),
        provider: "internal".into(),
        service: "api-gateway".into(),
        resource: "route:/v2/orders".into(),
        metric: "requests".into(),
        quantity: quantity.into(),
        unit: "request".into(),
        cost: None,
        ..billed(id, "0")
    }
}

fn violations(status: &tonic::Status) -> FieldViolations {
    costwatch_proto::field_violations(status)
        .unwrap_or_else(|| panic!("no field violations in {status:?}"))
}

fn fields(v: &FieldViolations) -> Vec<(u32, &str)> {
    v.violations
        .iter()
        .map(|v| (v.index, v.field.as_str()))
        .collect()
}

#[tokio::test]
async fn a_valid_batch_is_accepted_with_exact_decimals() {
    let mut s = serve(IngestLimits::default()).await;
    let mut labelled = billed("c", "12.5");
    labelled.category = "database".into();
    labelled.sub_kind = "backup_replication".into();
    labelled.metric = "backup_gb_hours".into();
    labelled.timestamp = Some(Timestamp {
        seconds: T0,
        nanos: 250_000_001,
    });
    labelled.labels = BTreeMap::from([
        ("team".into(), "payments".into()),
        ("env".into(), String::new()),
    ]);
    let batch = vec![billed("a", "0.00000000503"), rated("b", "1.5e3"), labelled];

    let reply = s
        .client
        .ingest(IngestRequest { events: batch })
        .await
        .expect("ingest")
        .into_inner();
    assert_eq!(reply.accepted, 3);

    let log = s.log.events();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].id, "a");
    assert_eq!(log[0].tenant.as_str(), "acme");
    assert_eq!(
        log[0].cost.expect("billed").amount.to_string(),
        "0.00000000503"
    );
    assert_eq!(log[0].quantity.to_string(), "0.0000012");
    assert_eq!(
        log[0].sub_kind,
        SubKind::Compute,
        "inferred when sub_kind is empty"
    );
    assert_eq!(log[0].timestamp.timestamp(), T0);
    assert_eq!(log[1].cost, None);
    assert_eq!(log[1].quantity.to_string(), "1500");
    assert_eq!(log[1].sub_kind, SubKind::Requests);
    assert_eq!(log[2].sub_kind, SubKind::BackupReplication);
    assert_eq!(log[2].cost.expect("billed").amount.to_string(), "12.5");
    assert_eq!(
        log[2].timestamp.timestamp_subsec_nanos(),
        250_000_001,
        "nanoseconds survive"
    );
    assert_eq!(
        log[2].labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(log[2].labels.get("env").map(String::as_str), Some(""));
}

#[tokio::test]
async fn one_bad_event_refuses_the_whole_batch_naming_index_and_field() {
    let mut s = serve(IngestLimits::default()).await;
    s.client
        .ingest(IngestRequest {
            events: vec![billed("first", "1")],
        })
        .await
        .expect("ingest");

    let mut bad = billed("y", "not-money");
    bad.tenant = "acme corp".into();
    let err = s
        .client
        .ingest(IngestRequest {
            events: vec![billed("x", "1"), bad, billed("z", "2")],
        })
        .await
        .expect_err("invalid");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("nothing was accepted"),
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("events[1].cost.amount"),
        "{}",
        err.message()
    );
    let v = violations(&err);
    assert_eq!(v.total, 2);
    let mut got = fields(&v);
    got.sort_unstable();
    assert_eq!(got, vec![(1, "cost.amount"), (1, "tenant")]);
    assert!(v.violations.iter().all(|v| !v.reason.is_empty()));

    let log = s.log.events();
    assert_eq!(log.len(), 1, "nothing of the refused batch is in the log");
    assert_eq!(log[0].id, "first");
}

#[tokio::test]
async fn missing_and_out_of_range_timestamps_are_field_errors() {
    let mut s = serve(IngestLimits::default()).await;
    let mut missing = billed("a", "1");
    missing.timestamp = None;
    let mut negative_nanos = billed("b", "1");
    negative_nanos.timestamp = Some(Timestamp {
        seconds: T0,
        nanos: -1,
    });
    let mut year_10000 = billed("c", "1");
    year_10000.timestamp = Some(Timestamp {
        seconds: 253_402_300_800,
        nanos: 0,
    });
    let mut future = billed("d", "1");
    future.timestamp = Some(Timestamp {
        seconds: chrono::Utc::now().timestamp() + 3 * 86_400,
        nanos: 0,
    });

    let err = s
        .client
        .ingest(IngestRequest {
            events: vec![missing, negative_nanos, year_10000, future],
        })
        .await
        .expect_err("invalid");
    assert_eq!(err.code(), Code::InvalidArgument);
    let v = violations(&err);
    assert_eq!(
        fields(&v),
        vec![
            (0, "timestamp"),
            (1, "timestamp"),
            (2, "timestamp"),
            (3, "timestamp")
        ]
    );
    assert_eq!(v.violations[0].reason, "is required");
    assert!(
        v.violations[1].reason.contains("google.protobuf.Timestamp"),
        "{:?}",
        v.violations[1]
    );
    assert!(
        v.violations[2].reason.contains("google.protobuf.Timestamp"),
        "{:?}",
        v.violations[2]
    );
    assert!(
        v.violations[3].reason.contains("future"),
        "{:?}",
        v.violations[3]
    );
    assert!(s.log.events().is_empty());
}

#[tokio::test]
async fn empty_strings_are_missing_fields_and_unpriceable_events_are_refused() {
    let mut s = serve(IngestLimits::default()).await;
    let mut blank = billed("a", "1");
    blank.unit = String::new();
    blank.cost = Some(pb::Money {
        amount: "1".into(),
        currency: String::new(),
    });
    let mut no_rate = rated("b", "1");
    no_rate.service = "other-gateway".into();

    let err = s
        .client
        .ingest(IngestRequest {
            events: vec![blank],
        })
        .await
        .expect_err("invalid");
    let v = violations(&err);
    assert_eq!(fields(&v), vec![(0, "unit"), (0, "cost.currency")]);
    assert_eq!(v.violations[0].reason, "is required");

    let err = s
        .client
        .ingest(IngestRequest {
            events: vec![billed("ok", "1"), no_rate],
        })
        .await
        .expect_err("unpriceable");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(fields(&violations(&err)), vec![(1, "cost")]);
    assert!(s.log.events().is_empty());
}

#[tokio::test]
async fn batch_limits_map_to_their_status_codes() {
    let limits = IngestLimits {
        max_body_bytes: 4096,
        max_batch_events: 3,
    };
    let mut s = serve(limits).await;

    let err = s
        .client
        .ingest(IngestRequest { events: vec![] })
        .await
        .expect_err("empty");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("empty"), "{}", err.message());

    let four = (0..4).map(|i| billed(&format!("e{i}"), "1")).collect();
    let err = s
        .client
        .ingest(IngestRequest { events: four })
        .await
        .expect_err("too many");
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("at most 3"), "{}", err.message());

    let err = s
        .client
        .ingest(IngestRequest {
            events: vec![billed(&"x".repeat(8000), "1")],
        })
        .await
        .expect_err("big");
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");

    assert!(s.log.events().is_empty());
}

#[tokio::test]
async fn a_log_failure_is_unavailable() {
    let mut s = serve(IngestLimits::default()).await;
    s.log.failing.store(true, Ordering::SeqCst);
    let err = s
        .client
        .ingest(IngestRequest {
            events: vec![billed("a", "1")],
        })
        .await
        .expect_err("bus down");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        !err.message().contains("disk on fire"),
        "internal errors stay internal: {}",
        err.message()
    );
    s.log.failing.store(false, Ordering::SeqCst);
    let ok = s
        .client
        .ingest(IngestRequest {
            events: vec![billed("a", "1")],
        })
        .await
        .expect("retry");
    assert_eq!(ok.into_inner().accepted, 1);
}

#[tokio::test]
async fn thousands_of_errors_still_fit_in_the_trailers() {
    let mut s = serve(IngestLimits::default()).await;
    let events: Vec<pb::UsageEvent> = (0..3000)
        .map(|i| {
            let mut e = billed(&format!("e{i}"), "not-money");
            e.labels = BTreeMap::from([("x".repeat(120), "y".repeat(300))]);
            e
        })
        .collect();
    // The default client accepts 16 KiB of headers; an unbounded status would break the call.
    let err = s
        .client
        .ingest(IngestRequest { events })
        .await
        .expect_err("invalid");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("more (see the status details)"),
        "{}",
        err.message()
    );
    let v = violations(&err);
    assert_eq!(v.total, 6000);
    assert!(!v.violations.is_empty() && v.violations.len() < 6000);
    assert_eq!(
        (v.violations[0].index, v.violations[0].field.as_str()),
        (0, "cost.amount")
    );
    assert!(s.log.events().is_empty());
}
