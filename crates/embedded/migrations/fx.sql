-- Dated exchange rates (units of currency per 1 EUR), shared reference data: no tenant column.
CREATE TABLE IF NOT EXISTS fx_rates (
    day        TEXT NOT NULL,  -- YYYY-MM-DD
    currency   TEXT NOT NULL,
    per_eur    TEXT NOT NULL,  -- exact decimal text
    source     TEXT NOT NULL,
    fetched_at TEXT NOT NULL,  -- RFC 3339, microseconds, UTC
    PRIMARY KEY (day, currency)
) WITHOUT ROWID;
