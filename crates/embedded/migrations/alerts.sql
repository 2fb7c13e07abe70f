-- Budgets, alerts and the alert outbox (see crates/ports/src/alerts.rs).
-- Documents are JSON of the domain types; the columns beside them are what queries filter on.
CREATE TABLE IF NOT EXISTS budgets (
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS alerts (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    source     TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_by_source ON alerts (tenant, source);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (tenant, updated_at DESC);

CREATE TABLE IF NOT EXISTS alert_outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    event     TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alert_outbox_pending ON alert_outbox (published, seq);

-- Resource utilization rules (crates/domain/src/alerting/resource_rules.rs).
CREATE TABLE IF NOT EXISTS resource_rules (
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Digests sent, one row per tenant × kind × window start, so a restart does not resend.
CREATE TABLE IF NOT EXISTS sent_digests (
    tenant       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    window_start TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, window_start)
) WITHOUT ROWID;
