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
        let payload = serde_json::to_vec(item).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let headers = crate::with_trace(
            rdkafka::message::OwnedHeaders::new(),
            &costwatch_telemetry::propagation_fields(),
        );
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
        self.send(&event.alert.tenant.clone(), &event).await
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
}
