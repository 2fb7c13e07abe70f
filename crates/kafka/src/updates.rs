//! The cost-update stream on a Kafka topic: the aggregator publishes one JSON record per tenant
//! and commit (keyed by tenant); every gateway instance reads the topic from its end with its own
//! consumer and fans the records out to its WebSocket subscribers.
//!
//! Updates are notifications, not state: a gateway that restarts does not replay old ones (totals
//! are always read from the store), so the consumer starts at the end and commits nothing.

use std::time::Duration;

use async_trait::async_trait;
use costwatch_ports::{BusError, CostUpdate, CostUpdates};
use futures::StreamExt;
use futures::stream::BoxStream;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::broadcast;

use crate::KafkaError;

pub struct KafkaCostUpdates {
    producer: FutureProducer,
    topic: String,
    tx: broadcast::Sender<CostUpdate>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for KafkaCostUpdates {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl KafkaCostUpdates {
    /// Connects the producer and starts reading the topic from its current end.
    pub async fn connect(brokers: &str, topic: &str) -> Result<KafkaCostUpdates, KafkaError> {
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
                format!("costwatch-updates-{}", uuid::Uuid::new_v4()),
            )
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "5")
            .create()?;
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let partitions = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map(|t| t.partitions().len())
            .filter(|&n| n > 0)
            .ok_or_else(|| KafkaError::NoPartitions(topic.to_string()))?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p as i32, Offset::End)?;
        }
        consumer.assign(&tpl)?;
        let (tx, _) = broadcast::channel(4096);
        let forward = tx.clone();
        let reader = tokio::spawn(async move {
            loop {
                match consumer.recv().await {
                    Ok(msg) => {
                        let parsed = msg.payload().map(serde_json::from_slice::<CostUpdate>);
                        match parsed {
                            Some(Ok(update)) => {
                                let _ = forward.send(update);
                            }
                            other => tracing::warn!(
                                offset = msg.offset(),
                                error = ?other.map(|r| r.err().map(|e| e.to_string())),
                                "skipping an unreadable cost update"
                            ),
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cost-update consumer error; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Ok(KafkaCostUpdates {
            producer,
            topic: topic.to_string(),
            tx,
            reader,
        })
    }
}

#[async_trait]
impl CostUpdates for KafkaCostUpdates {
    async fn publish(&self, update: CostUpdate) -> Result<(), BusError> {
        let payload =
            serde_json::to_vec(&update).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let record = FutureRecord::to(&self.topic)
            .key(&update.tenant)
            .payload(&payload);
        self.producer
            .send(record, Duration::from_secs(10))
            .await
            .map(|_| ())
            .map_err(|(e, _)| BusError::Unavailable(e.to_string()))
    }

    fn subscribe(&self) -> BoxStream<'static, CostUpdate> {
        tokio_stream::wrappers::BroadcastStream::new(self.tx.subscribe())
            .filter_map(|r| async move { r.ok() })
            .boxed()
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
