//! Resource utilization rules and the sent-digest claims of the alert store.
//!
//! Rules are plain documents (no outbox: changing a rule raises nothing by itself; the next
//! evaluation does). A digest is claimed with `INSERT .. IF NOT EXISTS`, a lightweight
//! transaction, so of two notifier instances (or one restarted mid-send) exactly one sends it.

use chrono::{DateTime, Utc};
use costwatch_domain::alerting::ResourceRule;

use super::statements::{conditional, idempotent};
use super::*;

pub(super) struct RuleStatements {
    insert_rule: PreparedStatement,
    select_rule: PreparedStatement,
    select_rules: PreparedStatement,
    delete_rule: PreparedStatement,
    claim_digest: PreparedStatement,
    select_digest: PreparedStatement,
}

impl RuleStatements {
    pub(super) async fn prepare(session: &Session, ks: &str) -> Result<RuleStatements, CqlError> {
        Ok(RuleStatements {
            insert_rule: idempotent(
                session,
                format!(
                    "INSERT INTO {ks}.resource_rules (tenant, id, name, doc) VALUES (?, ?, ?, ?)"
                ),
            )
            .await?,
            select_rule: idempotent(
                session,
                format!("SELECT doc FROM {ks}.resource_rules WHERE tenant = ? AND id = ?"),
            )
            .await?,
            select_rules: idempotent(
                session,
                format!("SELECT doc FROM {ks}.resource_rules WHERE tenant = ?"),
            )
            .await?,
            delete_rule: idempotent(
                session,
                format!("DELETE FROM {ks}.resource_rules WHERE tenant = ? AND id = ?"),
            )
            .await?,
            claim_digest: conditional(
                session,
                format!(
                    "INSERT INTO {ks}.sent_digests (tenant, kind, window_start, sent_at) \
                     VALUES (?, ?, ?, ?) IF NOT EXISTS"
                ),
            )
            .await?,
            select_digest: idempotent(
                session,
                format!(
                    "SELECT sent_at FROM {ks}.sent_digests \
                     WHERE tenant = ? AND kind = ? AND window_start = ?"
                ),
            )
            .await?,
        })
    }
}

fn timestamp(t: DateTime<Utc>) -> CqlTimestamp {
    CqlTimestamp(t.timestamp_millis())
}

impl CqlAlertStore {
    pub(super) async fn put_rule(&self, rule: &ResourceRule) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(
                &self.st.rules.insert_rule,
                (&rule.tenant, &rule.id, &rule.spec.name, to_json(rule)?),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn rule(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ResourceRule>, StoreError> {
        let res = self
            .session
            .execute_unpaged(&self.st.rules.select_rule, (tenant, id))
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        match res
            .maybe_first_row::<(Option<String>,)>()
            .map_err(unavailable)?
        {
            Some((Some(doc),)) => Ok(Some(from_json("resource_rules", &doc)?)),
            _ => Ok(None),
        }
    }

    pub(super) async fn rules(&self, tenant: &str) -> Result<Vec<ResourceRule>, StoreError> {
        let mut rows = self
            .session
            .execute_iter(self.st.rules.select_rules.clone(), (tenant,))
            .await
            .map_err(unavailable)?
            .rows_stream::<(Option<String>,)>()
            .map_err(unavailable)?;
        let mut out: Vec<ResourceRule> = Vec::new();
        while let Some(row) = rows.next().await {
            if let (Some(doc),) = row.map_err(unavailable)? {
                out.push(from_json("resource_rules", &doc)?);
            }
        }
        out.sort_by(|a, b| (&a.spec.name, &a.id).cmp(&(&b.spec.name, &b.id)));
        Ok(out)
    }

    pub(super) async fn delete_rule(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        // Read, then delete: two racing deletes may both report `true`, which is harmless.
        let existed = self.rule(tenant, id).await?.is_some();
        if existed {
            self.session
                .execute_unpaged(&self.st.rules.delete_rule, (tenant, id))
                .await
                .map_err(unavailable)?;
        }
        Ok(existed)
    }

    pub(super) async fn claim_digest(
        &self,
        tenant: &str,
        kind: &str,
        window_start: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .session
            .execute_unpaged(
                &self.st.rules.claim_digest,
                (tenant, kind, timestamp(window_start), timestamp(Utc::now())),
            )
            .await
            .map_err(unavailable)?;
        applied(result)
    }

    pub(super) async fn digest_claimed(
        &self,
        tenant: &str,
        kind: &str,
        window_start: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = self
            .session
            .execute_unpaged(
                &self.st.rules.select_digest,
                (tenant, kind, timestamp(window_start)),
            )
            .await
            .map_err(unavailable)?
            .into_rows_result()
            .map_err(unavailable)?;
        Ok(res.rows_num() > 0)
    }
}
