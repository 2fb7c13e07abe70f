-- Anomaly detector state, anomalies and feedback (see crates/ports/src/anomalies.rs).
-- Documents are JSON of the port types; the columns beside them are what queries filter on.
CREATE TABLE IF NOT EXISTS anomaly_series (
    tenant          TEXT NOT NULL,
    series          TEXT NOT NULL,
    processed_until TEXT NOT NULL,
    detector        TEXT NOT NULL,
    PRIMARY KEY (tenant, series)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS anomalies (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    series       TEXT NOT NULL,
    -- RFC 3339 UTC with a fixed format, so text order is time order.
    window_start TEXT NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS anomalies_by_time ON anomalies (tenant, window_start DESC);
CREATE INDEX IF NOT EXISTS anomalies_by_series ON anomalies (tenant, series, window_start DESC);
