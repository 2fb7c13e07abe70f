//! Fan-out topics: the cost-update stream and the alert stream. A producer publishes one JSON
//! record per item (keyed by tenant); every reader (each gateway instance) consumes the topic from
//! its end with its own consumer and fans the records out to its WebSocket subscribers.
//!
//! These are notifications, not state: a gateway that restarts does not replay old ones (totals
//! and alerts are always read from the store), so the consumer starts at the end and commits
//! nothing.

use std::time::Duration;

use async_trait::async_trait;
use costwatch_domain::alerting::AlertEvent;
use costwatch_ports::{AlertStream, BusError, CostUpdate, CostUpdates};
use futures::StreamExt;
use futures::stream::BoxStream;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use crate::KafkaError;

/// A topic every instance reads from its end, fanned out in-process.
pub struct KafkaFanout<T> {
    producer: FutureProducer,
    topic: String,
    tx: broadcast::Sender<T>,
    reader: tokio::task::JoinHandle<()>,
}

/// The cost-update stream (the aggregator publishes after each commit).
pub type KafkaCostUpdates = KafkaFanout<CostUpdate>;
/// The alert stream (the alert publisher writes every stored alert change).
pub type KafkaAlertStream = KafkaFanout<AlertEvent>;

impl<T> Drop for KafkaFanout<T> {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl<T> KafkaFanout<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + 'static,
{
    /// Connects the producer and starts reading the topic from its current end.
    pub async fn connect(brokers: &str, topic: &str) -> Result<KafkaFanout<T>, KafkaError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "1")
            .create()?;
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            // Each instance reads everything; no group offsets are used.
            .set(
                "group.id",
                format!("costwatch-fanout-{}", uuid::Uuid::new_v4()),
            )
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "5")
            .create()?;
        let partitions = crate::topic_partitions(&consumer, topic).await?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p as i32, Offset::End)?;
        }
        consumer.assign(&tpl)?;
        let (tx, _) = broadcast::channel(4096);
        let forward = tx.clone();
        let name = topic.to_string();
        let reader = tokio::spawn(async move {
            loop {
                match consumer.recv().await {
                    Ok(msg) => match msg.payload().map(serde_json::from_slice::<T>) {
                        Some(Ok(item)) => {
                            let _ = forward.send(item);
                        }
                        other => tracing::warn!(
                            topic = %name,
                            offset = msg.offset(),
                            error = ?other.map(|r| r.err().map(|e| e.to_string())),
                            "skipping an unreadable record"
                        ),
                    },
                    Err(e) => {
                        tracing::warn!(topic = %name, error = %e, "fan-out consumer error; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Ok(KafkaFanout {
            producer,
            topic: topic.to_string(),
            tx,
            reader,
        })
    }

    /// Publishes `item` keyed by `key`; returns when all in-sync replicas have it.
    pub async fn send(&self, key: &str, item: &T) -> Result<(), BusError> {
        self.send_typed(key, item, None).await
    }

    /// [`send`](Self::send) with an event-type header (`costwatch-event-type`), so consumers
    /// can route records (`budget_alert`, `resource_alert`, `anomaly_detected`) unparsed.
    pub async fn send_typed(
        &self,
        key: &str,
        item: &T,
        event_type: Option<&str>,
    ) -> Result<(), BusError> {
        let payload = serde_json::to_vec(item).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let typed =
            event_type
                .into_iter()
                .fold(rdkafka::message::OwnedHeaders::new(), |h, value| {
                    h.insert(rdkafka::message::Header {
                        key: crate::EVENT_TYPE_HEADER,
                        value: Some(value),
                    })
                });
        let headers = crate::with_trace(typed, &costwatch_telemetry::propagation_fields());
        let record = FutureRecord::to(&self.topic)
            .key(key)
            .payload(&payload)
            .headers(headers);
        self.producer
            .send(record, Duration::from_secs(10))
            .await
            .map(|_| ())
            .map_err(|(e, _)| BusError::Unavailable(e.to_string()))
    }

    /// Items read from now on (a subscriber more than 4096 behind skips the missed ones).
    pub fn stream(&self) -> BoxStream<'static, T> {
        tokio_stream::wrappers::BroadcastStream::new(self.tx.subscribe())
            .filter_map(|r| async move { r.ok() })
            .boxed()
    }
}

#[async_trait]
impl CostUpdates for KafkaFanout<CostUpdate> {
    async fn publish(&self, update: CostUpdate) -> Result<(), BusError> {
        self.send(&update.tenant.clone(), &update).await
    }

    fn subscribe(&self) -> BoxStream<'static, CostUpdate> {
        self.stream()
    }
}

#[async_trait]
impl AlertStream for KafkaFanout<AlertEvent> {
    async fn publish(&self, event: AlertEvent) -> Result<(), BusError> {
        let event_type = costwatch_domain::alerting::alert_event_type(event.alert.kind);
        self.send_typed(&event.alert.tenant.clone(), &event, Some(event_type))
            .await
    }

    fn subscribe(&self) -> BoxStream<'static, AlertEvent> {
        self.stream()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Utc;

    use super::*;
    use crate::{KafkaOptions, ensure_topic};

    /// A published update reaches a subscriber of another instance (as gateway and aggregator
    /// are separate processes), through the real broker.
    #[tokio::test]
    #[ignore = "needs Kafka on 127.0.0.1:9092: make adapters"]
    async fn cost_updates_contract_reach_subscribers_of_other_instances() {
        let brokers =
            std::env::var("COSTWATCH_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
        let topic = format!("updates-test-{}", uuid::Uuid::new_v4());
        ensure_topic(&KafkaOptions {
            brokers: brokers.clone(),
            topic: topic.clone(),
            partitions: 2,
            replication: 1,
        })
        .await
        .expect("topic");
        let gateway = KafkaCostUpdates::connect(&brokers, &topic)
            .await
            .expect("gateway");
        let aggregator = KafkaCostUpdates::connect(&brokers, &topic)
            .await
            .expect("aggregator");
        let mut stream = gateway.subscribe();
        // The reader's assignment at the end takes a moment: publish until one arrives.
        let update = CostUpdate {
            tenant: "acme".into(),
            committed_at: Utc::now(),
            events: 3,
            added: BTreeMap::from([(
                "USD".parse().expect("currency"),
                "0.00000000001".parse().expect("d"),
            )]),
            event_ids: vec!["e1".into()],
        };
        let got = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                aggregator.publish(update.clone()).await.expect("publish");
                if let Ok(Some(got)) =
                    tokio::time::timeout(Duration::from_millis(500), stream.next()).await
                {
                    return got;
                }
            }
        })
        .await
        .expect("an update within 20 s");
        assert_eq!(got, update, "exact amounts survive the topic");
    }

    /// Alert events on the alerts topic reach another instance's subscribers and carry their
    /// event type (`budget_alert`, `resource_alert`, …) in a header.
    #[tokio::test]
    #[ignore = "needs Kafka on 127.0.0.1:9092: make adapters"]
    async fn cost_updates_contract_alert_events_carry_their_type() {
        use costwatch_domain::alerting::AlertKind;
        use rdkafka::message::Headers;

        let brokers =
            std::env::var("COSTWATCH_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
        let topic = format!("alerts-test-{}", uuid::Uuid::new_v4());
        ensure_topic(&KafkaOptions {
            brokers: brokers.clone(),
            topic: topic.clone(),
            partitions: 1,
            replication: 1,
        })
        .await
        .expect("topic");
        let publisher = KafkaAlertStream::connect(&brokers, &topic)
            .await
            .expect("publisher");
        let gateway = KafkaAlertStream::connect(&brokers, &topic)
            .await
            .expect("gateway");
        let mut pushed = AlertStream::subscribe(&gateway);
        let mut alerts = costwatch_ports::alert_contract::triggered("acme", &["k1", "k2"]);
        alerts[1].kind = AlertKind::ResourceUtilization;
        for a in &alerts {
            AlertStream::publish(&publisher, AlertEvent::of(a.clone()))
                .await
                .expect("publish");
        }
        let first = tokio::time::timeout(Duration::from_secs(20), pushed.next())
            .await
            .expect("pushed within 20 s")
            .expect("stream open");
        assert_eq!(first.alert.id, alerts[0].id);

        let raw: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", format!("alerts-test-{}", uuid::Uuid::new_v4()))
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        raw.subscribe(&[&topic]).expect("subscribe");
        let mut types = Vec::new();
        while types.len() < 2 {
            let msg = tokio::time::timeout(Duration::from_secs(20), raw.recv())
                .await
                .expect("a record within 20 s")
                .expect("record");
            let event_type = msg.headers().and_then(|h| {
                h.iter()
                    .find(|h| h.key == crate::EVENT_TYPE_HEADER)
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            });
            types.push(event_type);
        }
        assert_eq!(
            types,
            vec![
                Some("budget_alert".to_string()),
                Some("resource_alert".to_string())
            ]
        );
    }
}
