//! The outbox protocol: allocating seqs, writing one change (entry, then the fencing LWT) and
//! deciding whether a pending entry's change landed (see the parent module docs).

use super::*;

/// One row of `alert_outbox`.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) seq: i64,
    pub(super) alert_id: String,
    pub(super) tenant: String,
    pub(super) version: i64,
    pub(super) event: String,
}

pub(super) enum Verdict {
    Publish,
    Wait,
    Discard,
}

/// The outbox partition of a seq.
pub(super) fn bucket_of(seq: i64) -> i32 {
    // In 0..BUCKETS, so the cast is lossless.
    ((seq >> NODE_BITS).rem_euclid(BUCKETS)) as i32
}

/// Whether version `n` of an alert came from the outbox entry `seq`, given the stored row.
pub(super) fn landed(row: &Option<(i64, BTreeMap<i64, i64>)>, n: i64, seq: i64) -> Option<Verdict> {
    let (version, changes) = row.as_ref()?;
    if *version < n {
        return None;
    }
    Some(match changes.get(&n) {
        Some(s) if *s == seq => Verdict::Publish,
        Some(_) => Verdict::Discard,
        None => {
            tracing::warn!(
                seq,
                version = n,
                stored = version,
                "outbox entry older than the alert's change window; dropped"
            );
            Verdict::Discard
        }
    })
}

impl CqlAlertStore {
    /// A new seq, greater than `floor` and than every seq this instance allocated before.
    pub(super) fn next_seq(&self, floor: i64) -> i64 {
        let want = Utc::now().timestamp_micros().max((floor >> NODE_BITS) + 1);
        let previous = self
            .last_micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(want.max(last + 1))
            })
            .unwrap_or_else(|last| last);
        let micros = want.max(previous + 1);
        (micros << NODE_BITS) | self.node
    }

    /// The stored `version` and `changes` of an alert.
    pub(super) async fn alert_version(
        &self,
        tenant: &str,
        id: &str,
        serial: bool,
    ) -> Result<Option<(i64, BTreeMap<i64, i64>)>, StoreError> {
        let statement = if serial {
            &self.st.select_alert_version_serial
        } else {
            &self.st.select_alert_version
        };
        let res = self
            .session
            .execute_unpaged(statement, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        type Raw = (Option<i64>, Option<BTreeMap<i64, i64>>);
        Ok(res
            .maybe_first_row::<Raw>()
            .map_err(unavailable)?
            .and_then(|(v, changes)| Some((v?, changes.unwrap_or_default()))))
    }

    pub(super) async fn write_outbox(
        &self,
        seq: i64,
        event: &AlertEvent,
    ) -> Result<(), StoreError> {
        let a = &event.alert;
        self.session
            .execute_unpaged(
                &self.st.insert_outbox,
                (
                    bucket_of(seq),
                    seq,
                    &event.event_id,
                    &a.tenant,
                    &a.id,
                    version_i64(a.version)?,
                    to_json(event)?,
                ),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn delete_outbox(&self, seq: i64) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(&self.st.delete_outbox, (bucket_of(seq), seq))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// One change: steps 1-5 of the module docs. `Ok(false)` when it lost a race.
    pub(super) async fn apply_one(&self, alert: &Alert) -> Result<bool, StoreError> {
        let n = version_i64(alert.version)?;
        if n < 1 {
            return Ok(false);
        }
        let stored = self.alert_version(&alert.tenant, &alert.id, false).await?;
        let mut changes = match stored {
            None if n == 1 => BTreeMap::new(),
            Some((v, changes)) if n > 1 && v == n - 1 => changes,
            _ => return Ok(false),
        };
        let seq = self.next_seq(changes.values().copied().max().unwrap_or(0));
        changes.insert(n, seq);
        let keep_from = n.saturating_sub(version_i64(CHANGE_WINDOW)?);
        changes.retain(|v, _| *v > keep_from);

        let started = Instant::now();
        if n == 1 {
            self.session
                .execute_unpaged(
                    &self.st.insert_source,
                    (&alert.tenant, &alert.source, &alert.id),
                )
                .await
                .map_err(unavailable)?;
        }
        self.write_outbox(seq, &AlertEvent::of(alert.clone()))
            .await?;
        if started.elapsed() > WRITER_DEADLINE {
            // Publishers may already treat the entry as an orphan: do not race them.
            tracing::warn!(alert = %alert.id, version = n, "alert change too slow to store; skipped");
            self.delete_outbox(seq).await?;
            return Ok(false);
        }
        let doc = to_json(alert)?;
        let updated_at = CqlTimestamp(alert.updated_at.timestamp_millis());
        let state = state_str(alert.state);
        let result = if n == 1 {
            self.session
                .execute_unpaged(
                    &self.st.insert_alert,
                    (
                        &alert.tenant,
                        &alert.id,
                        &alert.source,
                        state,
                        updated_at,
                        n,
                        &doc,
                        &changes,
                    ),
                )
                .await
        } else {
            self.session
                .execute_unpaged(
                    &self.st.update_alert,
                    (
                        &alert.source,
                        state,
                        updated_at,
                        n,
                        &doc,
                        &changes,
                        &alert.tenant,
                        &alert.id,
                        n - 1,
                    ),
                )
                .await
        };
        // An error leaves the outcome unknown: the entry stays for `unpublished` to decide.
        let result = result.map_err(unavailable)?;
        if applied(result)? {
            Ok(true)
        } else {
            self.delete_outbox(seq).await?;
            Ok(false)
        }
    }

    /// Every row of the outbox, oldest first.
    pub(super) async fn outbox_entries(&self) -> Result<Vec<Entry>, StoreError> {
        let parts: Vec<Vec<Entry>> = futures::stream::iter(0..BUCKETS)
            .map(|bucket| async move {
                // In 0..BUCKETS.
                let bucket = bucket as i32;
                let mut rows = self
                    .session
                    .execute_iter(self.st.select_outbox.clone(), (bucket,))
                    .await
                    .map_err(unavailable)?
                    .rows_stream::<(i64, String, String, i64, String)>()
                    .map_err(unavailable)?;
                let mut out = Vec::new();
                while let Some(row) = rows.next().await {
                    let (seq, alert_id, tenant, version, event) = row.map_err(unavailable)?;
                    out.push(Entry {
                        seq,
                        alert_id,
                        tenant,
                        version,
                        event,
                    });
                }
                Ok::<_, StoreError>(out)
            })
            .buffer_unordered(BUCKETS as usize)
            .try_collect()
            .await?;
        let mut all: Vec<Entry> = parts.into_iter().flatten().collect();
        all.sort_by_key(|e| e.seq);
        Ok(all)
    }

    /// Decides an outbox entry (see "Publishing" in the module docs); discards what it must.
    pub(super) async fn verdict(&self, e: &Entry) -> Result<Verdict, StoreError> {
        let row = self.alert_version(&e.tenant, &e.alert_id, false).await?;
        let verdict = match landed(&row, e.version, e.seq) {
            Some(v) => v,
            None => {
                let first_seen = self
                    .orphans
                    .lock()
                    .map(|mut o| *o.entry(e.seq).or_insert_with(Instant::now))
                    .unwrap_or_else(|_| Instant::now());
                if first_seen.elapsed() < self.orphan_grace {
                    return Ok(Verdict::Wait);
                }
                let row = self.alert_version(&e.tenant, &e.alert_id, true).await?;
                match landed(&row, e.version, e.seq) {
                    Some(v) => v,
                    None => {
                        tracing::info!(
                            seq = e.seq,
                            alert = %e.alert_id,
                            version = e.version,
                            "outbox entry of an alert change that never landed; dropped"
                        );
                        Verdict::Discard
                    }
                }
            }
        };
        if let Verdict::Discard = verdict {
            self.delete_outbox(e.seq).await?;
        }
        if let Ok(mut o) = self.orphans.lock() {
            o.remove(&e.seq);
        }
        Ok(verdict)
    }
}
