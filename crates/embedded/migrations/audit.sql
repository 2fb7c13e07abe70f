-- The append-only, hash-chained audit log (docs/security.md). The adapter only INSERTs and
-- SELECTs; the triggers refuse UPDATE and DELETE from any other writer too (a tamperer with file
-- access can drop them, which is what the hash chain is for).
CREATE TABLE IF NOT EXISTS audit_log (
    seq       INTEGER PRIMARY KEY,  -- 1, 2, 3, … without gaps
    at        TEXT NOT NULL,        -- RFC 3339, nanoseconds, UTC
    actor     TEXT NOT NULL,
    tenant    TEXT,                 -- NULL: not tenant-specific (login, platform action)
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    source    TEXT NOT NULL,
    outcome   TEXT NOT NULL,        -- allowed | denied | failed
    reason    TEXT,                 -- NULL exactly when outcome = 'allowed'
    prev_hash TEXT NOT NULL,        -- 64 lowercase hex digits
    hash      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_tenant ON audit_log (tenant, seq);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
