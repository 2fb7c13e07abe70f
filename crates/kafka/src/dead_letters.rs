//! The dead-letter topic: events the aggregator could not count (no rate for them, say), with
//! the reason in record headers so operators can filter and replay without parsing payloads.
//!
//! Payload: the original event JSON, unchanged (a replay tool can publish it again as is).
//! Key: the tenant. Headers: [`REASON_HEADER`], [`TENANT_HEADER`], [`EVENT_ID_HEADER`],
//! [`AT_HEADER`] (RFC 3339) and the event type.

use std::time::Duration;

use async_trait::async_trait;
use costwatch_ports::{BusError, DeadLetter, DeadLetterLog};
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::KafkaError;

pub const REASON_HEADER: &str = "costwatch-dead-letter-reason";
pub const TENANT_HEADER: &str = "costwatch-tenant";
pub const EVENT_ID_HEADER: &str = "costwatch-event-id";
pub const AT_HEADER: &str = "costwatch-dead-lettered-at";

pub struct KafkaDeadLetters {
    producer: FutureProducer,
    topic: String,
}

impl KafkaDeadLetters {
    pub fn connect(brokers: &str, topic: &str) -> Result<KafkaDeadLetters, KafkaError> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .create()?;
        Ok(KafkaDeadLetters {
            producer,
            topic: topic.to_string(),
        })
    }
}

#[async_trait]
impl DeadLetterLog for KafkaDeadLetters {
    async fn publish(&self, letters: &[DeadLetter]) -> Result<(), BusError> {
        let trace = costwatch_telemetry::propagation_fields();
        let sends = letters.iter().map(|l| {
            let at = l.at.to_rfc3339();
            let headers = [
                (crate::EVENT_TYPE_HEADER, crate::EVENT_TYPE),
                (REASON_HEADER, l.reason.as_str()),
                (TENANT_HEADER, l.tenant.as_str()),
                (EVENT_ID_HEADER, l.event_id.as_str()),
                (AT_HEADER, at.as_str()),
            ]
            .into_iter()
            .fold(OwnedHeaders::new(), |h, (key, value)| {
                h.insert(Header {
                    key,
                    value: Some(value),
                })
            });
            let record = FutureRecord::to(&self.topic)
                .key(&l.tenant)
                .payload(&l.event_json)
                .headers(crate::with_trace(headers, &trace));
            self.producer.send(record, Duration::from_secs(30))
        });
        for result in futures::future::join_all(sends).await {
            result.map_err(|(e, _)| BusError::Unavailable(e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Utc;
    use rdkafka::Message;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Headers;

    use super::*;
    use crate::{KafkaOptions, ensure_topic};

    /// Letters land on the topic with their reason and identity in headers and the original
    /// event as the payload, through the real broker.
    #[tokio::test]
    #[ignore = "needs Kafka on 127.0.0.1:9092: make adapters"]
    async fn dead_letter_topic_carries_the_reason_in_headers() {
        let brokers =
            std::env::var("COSTWATCH_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
        let topic = format!("dead-letters-test-{}", uuid::Uuid::new_v4());
        ensure_topic(&KafkaOptions {
            brokers: brokers.clone(),
            topic: topic.clone(),
            partitions: 1,
            replication: 1,
        })
        .await
        .expect("topic");
        let log = KafkaDeadLetters::connect(&brokers, &topic).expect("connect");
        let letter = |id: &str, reason: &str| DeadLetter {
            tenant: "acme".into(),
            event_id: id.into(),
            event_json: format!("{{\"id\":\"{id}\"}}"),
            reason: reason.into(),
            at: Utc::now(),
        };
        log.publish(&[
            letter("e1", "no rate for aws/ec2/vcpu_hours"),
            letter("e2", "currency XXX unknown"),
        ])
        .await
        .expect("publish");

        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", format!("dlq-test-{}", uuid::Uuid::new_v4()))
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        consumer.subscribe(&[&topic]).expect("subscribe");
        let mut got = Vec::new();
        while got.len() < 2 {
            let msg = tokio::time::timeout(Duration::from_secs(20), consumer.recv())
                .await
                .expect("a record within 20 s")
                .expect("record");
            let headers: BTreeMap<String, String> = msg
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| {
                            let v = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                            (h.key.to_string(), v.into_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let payload = String::from_utf8_lossy(msg.payload().unwrap_or_default()).into_owned();
            got.push((headers, payload));
        }
        assert_eq!(got[0].0[REASON_HEADER], "no rate for aws/ec2/vcpu_hours");
        assert_eq!(got[0].0[EVENT_ID_HEADER], "e1");
        assert_eq!(got[0].0[TENANT_HEADER], "acme");
        assert!(got[0].0.contains_key(AT_HEADER));
        assert_eq!(got[0].1, "{\"id\":\"e1\"}");
        assert_eq!(got[1].0[REASON_HEADER], "currency XXX unknown");
    }
}
