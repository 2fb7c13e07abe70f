//! The usage-log reader: ONE consumer assigned to every partition the aggregator reads, with a
//! buffer per partition. Reading partition `p` serves its buffer first; while waiting for `p`,
//! records of other partitions are buffered, and the wait ends early as soon as another
//! partition has data — so a consumer cycling over partitions never sits on an idle one while
//! another has work (the latency of one event is not multiplied by the partition count).
//!
//! Positions stay owned by the caller (stored with its state): a read that does not continue
//! where the buffer for its partition stands re-seeks that partition (after a restart or a fence).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use costwatch_domain::UsageEvent;
use costwatch_ports::{BusError, LogRecord};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

pub(crate) struct Reader {
    pub consumer: StreamConsumer,
    pub topic: String,
    /// Next offset the consumer will deliver, per assigned partition.
    fetched_to: BTreeMap<u32, u64>,
    buffers: HashMap<u32, VecDeque<LogRecord>>,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl Reader {
    pub fn new(consumer: StreamConsumer, topic: String) -> Reader {
        Reader {
            consumer,
            topic,
            fetched_to: BTreeMap::new(),
            buffers: HashMap::new(),
        }
    }

    /// Where a read of `partition` would continue without seeking.
    fn continues_at(&self, partition: u32) -> Option<u64> {
        match self.buffers.get(&partition).and_then(VecDeque::front) {
            Some(first) => Some(first.offset),
            None => self.fetched_to.get(&partition).copied(),
        }
    }

    /// (Re)assigns every known partition: `partition` at `from`, the others where they stand.
    fn seek(&mut self, partition: u32, from: u64) -> Result<(), BusError> {
        self.buffers.remove(&partition);
        self.fetched_to.insert(partition, from);
        let mut tpl = TopicPartitionList::new();
        for (p, next) in &self.fetched_to {
            let offset = i64::try_from(*next).map_err(unavailable)?;
            tpl.add_partition_offset(&self.topic, *p as i32, Offset::Offset(offset))
                .map_err(unavailable)?;
        }
        self.consumer.assign(&tpl).map_err(unavailable)
    }

    fn take(&mut self, partition: u32, max: usize) -> Vec<LogRecord> {
        let Some(buffer) = self.buffers.get_mut(&partition) else {
            return Vec::new();
        };
        let n = buffer.len().min(max);
        buffer.drain(..n).collect()
    }

    fn others_have_data(&self, partition: u32) -> bool {
        self.buffers
            .iter()
            .any(|(p, b)| *p != partition && !b.is_empty())
    }

    pub async fn read(
        &mut self,
        partition: u32,
        from: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<LogRecord>, BusError> {
        if self.continues_at(partition) != Some(from) {
            self.seek(partition, from)?;
        }
        let mut records = self.take(partition, max);
        // Nothing here but work elsewhere: return at once so the caller moves on.
        let wait = if records.is_empty() && self.others_have_data(partition) {
            Duration::ZERO
        } else {
            wait
        };
        let deadline = tokio::time::Instant::now() + wait;
        // Wait up to `wait` for the first record, then take what is already there.
        let gap = Duration::from_millis(5);
        while records.len() < max {
            let until = if records.is_empty() {
                deadline
            } else {
                tokio::time::Instant::now() + gap
            };
            let Ok(next) = tokio::time::timeout_at(until, self.consumer.recv()).await else {
                break;
            };
            let msg = next.map_err(unavailable)?;
            let p = u32::try_from(msg.partition()).map_err(unavailable)?;
            let offset = u64::try_from(msg.offset()).map_err(unavailable)?;
            let event = msg
                .payload()
                .ok_or_else(|| "empty payload".to_string())
                .and_then(|b| serde_json::from_slice::<UsageEvent>(b).map_err(|e| e.to_string()))
                .map_err(|reason| BusError::Corrupt {
                    partition: p,
                    offset,
                    reason,
                })?;
            self.fetched_to.insert(p, offset + 1);
            let trace_parent = msg.headers().and_then(|h| {
                h.iter()
                    .find(|h| h.key == costwatch_telemetry::TRACEPARENT)
                    .and_then(|h| h.value)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .map(String::from)
            });
            let record = LogRecord {
                partition: p,
                offset,
                event,
                trace_parent,
            };
            if p == partition {
                records.push(record);
            } else {
                self.buffers.entry(p).or_default().push_back(record);
                if records.is_empty() {
                    // Another partition has work; don't keep the caller waiting here.
                    break;
                }
            }
        }
        Ok(records)
    }
}
