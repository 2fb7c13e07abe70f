-- The embedded projection store. Amounts are exact decimal strings (never REAL).
CREATE TABLE IF NOT EXISTS consumer_positions (
    consumer    TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (consumer, partition)
) WITHOUT ROWID;

-- Idempotency: (tenant, event id) of every counted event.
CREATE TABLE IF NOT EXISTS counted_events (
    tenant   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (tenant, event_id)
) WITHOUT ROWID;

-- Cumulative monthly quantity per tenant and rate, for graduated tiers.
CREATE TABLE IF NOT EXISTS meters (
    tenant   TEXT NOT NULL,
    provider TEXT NOT NULL,
    service  TEXT NOT NULL,
    metric   TEXT NOT NULL,
    month    TEXT NOT NULL,
    quantity TEXT NOT NULL,
    PRIMARY KEY (tenant, provider, service, metric, month)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rollups (
    tenant      TEXT NOT NULL,
    granularity TEXT NOT NULL,
    bucket      INTEGER NOT NULL,   -- unix seconds, UTC bucket start
    category    TEXT NOT NULL,
    sub_kind    TEXT NOT NULL,
    provider    TEXT NOT NULL,
    service     TEXT NOT NULL,
    resource    TEXT NOT NULL,
    labels      TEXT NOT NULL,      -- canonical JSON, keys sorted
    currency    TEXT NOT NULL,
    amount      TEXT NOT NULL,
    billed      TEXT NOT NULL,
    events      INTEGER NOT NULL,
    PRIMARY KEY (tenant, granularity, bucket, category, sub_kind, provider, service, resource, labels, currency)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS dead_letters (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    event_json TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_tenant ON dead_letters (tenant, seq);

CREATE TABLE IF NOT EXISTS tenants (
    tenant TEXT PRIMARY KEY
) WITHOUT ROWID;
