-- The embedded usage-event log: one partition, offsets are rowids (monotonic, never reused).
CREATE TABLE IF NOT EXISTS usage_log (
    offset  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant  TEXT NOT NULL,
    payload TEXT NOT NULL          -- the UsageEvent as JSON (the v1 wire contract)
);
