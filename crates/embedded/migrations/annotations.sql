-- Chart annotations (SqliteAnnotations, crates/embedded/src/annotations.rs): a note on a day of
-- a tenant's cost trends chart. The tenant leads every key, so no query crosses tenants.
CREATE TABLE IF NOT EXISTS annotations (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    day        TEXT NOT NULL,  -- YYYY-MM-DD: text order is day order
    note       TEXT NOT NULL,
    author     TEXT,
    created_at TEXT NOT NULL,  -- RFC 3339, microseconds, UTC: text order is time order
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS annotations_by_day ON annotations (tenant, day, created_at, id);
