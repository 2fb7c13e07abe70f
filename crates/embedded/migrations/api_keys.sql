-- API keys for machines (docs/security.md). Only SHA-256 of each secret is stored; the key text
-- is shown once by `costwatch api-key create` and never written anywhere.
CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,   -- 12 lowercase hex characters, public
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,      -- never 'admin'
    tenants      TEXT NOT NULL,      -- JSON array of tenant ids; [] for finance
    created_at   TEXT NOT NULL,      -- RFC 3339, nanoseconds, UTC
    last_used_at TEXT,
    revoked_at   TEXT,
    secret_hash  TEXT NOT NULL       -- SHA-256(secret), 64 lowercase hex digits
);
