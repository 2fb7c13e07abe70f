//! The usage log on Apache Kafka (rdkafka / librdkafka).
//!
//! - Producer: idempotent, `acks=all`, small `linger.ms`; events are keyed by tenant, so one
//!   tenant's events land in one partition, in order. `publish` returns when every event is
//!   acknowledged by all in-sync replicas (durable).
//! - Reader: no consumer-group offsets at all. Positions are owned by the aggregator and stored
//!   with its state (docs/adr/001-effectively-once.md), so `read` assigns the partition at the
//!   requested offset and fetches from there.
//! - Payload: the v1 JSON event; headers carry the event type and schema version.

use std::time::Duration;

use async_trait::async_trait;
use costwatch_domain::UsageEvent;
use costwatch_ports::{BusError, LogRecord, UsageLog};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::Mutex;

mod dead_letters;
mod reader;
mod updates;

pub use dead_letters::KafkaDeadLetters;
use reader::Reader;
pub use updates::{KafkaAlertStream, KafkaCostUpdates, KafkaFanout};

/// Header naming the payload's type and version.
pub const EVENT_TYPE_HEADER: &str = "costwatch-event-type";
pub const EVENT_TYPE: &str = "usage.v1";

#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// `host:port[,host:port]`.
    pub brokers: String,
    pub topic: String,
    /// Used when `ensure_topic` creates the topic.
    pub partitions: i32,
    pub replication: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("kafka client setup failed: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
    #[error("creating topic {topic}: {reason}")]
    Topic { topic: String, reason: String },
    #[error(
        "topic {0} has no partitions (does it exist? run `costwatch migrate --target distributed`)"
    )]
    NoPartitions(String),
}

/// Creates the topic if it does not exist (what `costwatch migrate` does in distributed mode).
pub async fn ensure_topic(o: &KafkaOptions) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &o.brokers)
        .create()?;
    let topic = NewTopic::new(
        &o.topic,
        o.partitions,
        TopicReplication::Fixed(o.replication),
    )
    .set(
        "min.insync.replicas",
        if o.replication > 1 { "2" } else { "1" },
    );
    let results = admin
        .create_topics(
            [&topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::Topic {
                    topic,
                    reason: code.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// How long `connect` waits for a topic's partitions to show up in the cluster metadata.
const METADATA_WAIT: Duration = Duration::from_secs(20);

/// The topic's partition count, once every partition has a leader.
///
/// Why a wait: right after `ensure_topic` (or on a broker that is still electing leaders), the
/// metadata can list the topic with no partitions, or partitions without a leader, for a moment.
pub(crate) async fn topic_partitions<C: Consumer>(
    consumer: &C,
    topic: &str,
) -> Result<u32, KafkaError> {
    let deadline = tokio::time::Instant::now() + METADATA_WAIT;
    loop {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(5))?;
        let ready = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .filter(|t| t.error().is_none())
            .map(|t| t.partitions())
            .filter(|p| !p.is_empty() && p.iter().all(|p| p.leader() >= 0))
            .map(|p| p.len() as u32);
        match ready {
            Some(n) => return Ok(n),
            None if tokio::time::Instant::now() >= deadline => {
                return Err(KafkaError::NoPartitions(topic.to_string()));
            }
            None => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub struct KafkaUsageLog {
    producer: FutureProducer,
    reader: Mutex<Reader>,
    topic: String,
    partitions: u32,
}

impl KafkaUsageLog {
    pub async fn connect(o: &KafkaOptions) -> Result<KafkaUsageLog, KafkaError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &o.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set("compression.type", "lz4")
            .set("message.timeout.ms", "30000")
            .create()?;
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &o.brokers)
            // Required by librdkafka even though no group offsets are used or committed.
            .set("group.id", "costwatch-usage-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "10")
            .set("auto.offset.reset", "earliest")
            .create()?;
        let partitions = topic_partitions(&consumer, &o.topic).await?;
        Ok(KafkaUsageLog {
            producer,
            reader: Mutex::new(Reader::new(consumer, o.topic.clone())),
            topic: o.topic.clone(),
            partitions,
        })
    }
}

/// `headers` plus the trace-context fields (`costwatch_telemetry::propagation_fields`).
pub(crate) fn with_trace(headers: OwnedHeaders, trace: &[(String, String)]) -> OwnedHeaders {
    trace.iter().fold(headers, |headers, (k, v)| {
        headers.insert(Header {
            key: k.as_str(),
            value: Some(v.as_str()),
        })
    })
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

#[async_trait]
impl UsageLog for KafkaUsageLog {
    async fn publish(&self, events: &[UsageEvent]) -> Result<(), BusError> {
        let payloads: Vec<(String, String)> = events
            .iter()
            .map(|e| Ok((e.tenant.to_string(), serde_json::to_string(e)?)))
            .collect::<Result<_, serde_json::Error>>()
            .map_err(unavailable)?;
        // The publishing request's trace context rides along, so the aggregator's batch span
        // can link back to it.
        let trace = costwatch_telemetry::propagation_fields();
        let sends = payloads.iter().map(|(key, payload)| {
            let headers = with_trace(
                OwnedHeaders::new().insert(Header {
                    key: EVENT_TYPE_HEADER,
                    value: Some(EVENT_TYPE),
                }),
                &trace,
            );
            let record = FutureRecord::to(&self.topic)
                .key(key)
                .payload(payload)
                .headers(headers);
            self.producer.send(record, Duration::from_secs(30))
        });
        // Polled together: every record is enqueued at once, then all deliveries are awaited.
        for result in futures::future::join_all(sends).await {
            result.map_err(|(e, _)| unavailable(e))?;
        }
        Ok(())
    }

    async fn read(
        &self,
        partition: u32,
        from: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, BusError> {
        if partition >= self.partitions {
            return Err(BusError::NoSuchPartition(partition));
        }
        self.reader
            .lock()
            .await
            .read(partition, from, max, wait)
            .await
    }

    fn partitions(&self) -> u32 {
        self.partitions
    }
}

#[cfg(test)]
mod tests {
    use tracing::Instrument;

    use super::*;

    fn brokers() -> String {
        std::env::var("COSTWATCH_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
    }

    /// A fresh topic per test: isolated and empty.
    async fn fresh() -> KafkaUsageLog {
        let o = KafkaOptions {
            brokers: brokers(),
            topic: format!("usage-test-{}", uuid::Uuid::new_v4()),
            partitions: 3,
            replication: 1,
        };
        ensure_topic(&o).await.expect("create topic");
        KafkaUsageLog::connect(&o).await.expect("connect")
    }

    costwatch_ports::usage_log_contract!(
        fresh(),
        ignore = "needs Kafka on 127.0.0.1:9092: make dev-stack"
    );

    /// The publishing span's trace context comes back with every record, so the aggregator can
    /// link its batch span to the request that sent the events.
    #[tokio::test]
    #[ignore = "needs Kafka on 127.0.0.1:9092: make dev-stack"]
    async fn trace_context_crosses_the_usage_topic() {
        let _guard = tracing::subscriber::set_default(costwatch_telemetry::otel_subscriber());
        let log = fresh().await;
        let traced = costwatch_ports::contract::sample_event("acme", "traced");
        let untraced = costwatch_ports::contract::sample_event("acme", "untraced");
        let span = tracing::info_span!("ingest_test");
        let trace_id = costwatch_telemetry::trace_id_of(&span);
        assert_ne!(
            trace_id,
            "0".repeat(32),
            "the test subscriber gives spans trace ids"
        );
        log.publish(std::slice::from_ref(&traced))
            .instrument(span)
            .await
            .expect("publish in a span");
        log.publish(&[untraced])
            .await
            .expect("publish outside spans");

        // One tenant's events share a partition; the others stay empty.
        let mut records = Vec::new();
        for partition in 0..log.partitions() {
            records.extend(
                log.read(partition, 0, 10, Duration::from_secs(2))
                    .await
                    .expect("read"),
            );
            if records.len() == 2 {
                break;
            }
        }
        assert_eq!(records.len(), 2, "{records:?}");
        let parent = records[0]
            .trace_parent
            .as_deref()
            .expect("a traceparent header");
        assert!(parent.starts_with(&format!("00-{trace_id}-")), "{parent}");
        assert_eq!(records[1].trace_parent, None);
    }
}
