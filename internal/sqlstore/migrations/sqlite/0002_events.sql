-- Idempotency keys, the audit log and the webhook outbox, SQLite flavour.
-- Same tables, columns and indexes as the PostgreSQL file; times are TEXT in
-- switchboard.TimeFormat, booleans INTEGER 0/1, bytes BLOB.

-- One main account's webhook endpoint (sub-accounts leave both NULL).
-- webhook_events is a JSON array of event names; NULL reads as ["*"].
ALTER TABLE accounts ADD COLUMN webhook_url TEXT;
ALTER TABLE accounts ADD COLUMN webhook_events TEXT;

-- Claimed Idempotency-Keys (CONTRACT §0.9), private to their principal.
-- status 0 means the first request is still executing. body holds the
-- stored response, encrypted with the server key when encrypted = 1.
CREATE TABLE idempotency_keys (
    principal   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    body        BLOB,
    encrypted   INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    PRIMARY KEY (principal, key)
) STRICT;

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- The global, hash-chained audit log (CONTRACT §10.1). Append-only: rows
-- are never updated, and deleted only by a dev reset. ids are assigned by
-- the store (1, 2, …) under the write lock; hash = SHA-256(prev_hash ‖
-- canonical JSON of the row without hash). Text fields that the API shows
-- as null are stored as ''. changes is JSON text (NULL when empty).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    occurred_at TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    actor_role  TEXT    NOT NULL,
    tenant_id   TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    status_code INTEGER NOT NULL,
    source_ip   TEXT    NOT NULL,
    changes     TEXT,
    reason      TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
) STRICT;

-- A tenant's records, newest first.
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);

-- The webhook outbox and delivery log (CONTRACT §10.2). attempts is a JSON
-- array of {at, status_code, error, duration_ms}. A worker that claims a
-- pending row sets lease_until; others skip it until the lease ends.
CREATE TABLE webhook_deliveries (
    id              TEXT    PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES accounts (id),
    event_id        TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        TEXT    NOT NULL,
    next_attempt_at TEXT,
    lease_until     TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
) STRICT;

-- Due scanning by the workers.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
-- A tenant's delivery log, newest first.
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at DESC, id DESC);
-- Purging old logs.
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
