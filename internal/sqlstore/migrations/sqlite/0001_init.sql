-- Initial schema, SQLite flavour. Types differ from the PostgreSQL file:
-- times are TEXT in switchboard.TimeFormat (fixed width, UTC, sortable),
-- booleans are INTEGER 0/1, bytes are BLOB. Tables are STRICT so that a
-- value of the wrong type is rejected instead of silently stored.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Named counters drawn with UPDATE … RETURNING inside the caller's
-- transaction; a rolled-back draw is undone with the rest.
CREATE TABLE sequences (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

-- Main and sub-accounts share one id sequence; the first id drawn is 100001.
INSERT INTO sequences (name, value) VALUES ('account', 100000);

-- One table for main accounts (parent_id NULL) and sub-accounts. Deleted
-- sub-accounts keep their row (deleted_at set) so that the UNIQUE auth_id
-- is never handed out again.
CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY,
    api_id                TEXT    NOT NULL UNIQUE,
    auth_id               TEXT    NOT NULL UNIQUE,
    parent_id             INTEGER REFERENCES accounts (id),
    name                  TEXT    NOT NULL,
    email                 TEXT,
    phone                 TEXT,
    description           TEXT,
    permissions           TEXT,
    rate_limit            INTEGER NOT NULL,
    enabled               INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    email_verified        INTEGER NOT NULL CHECK (email_verified IN (0, 1)),
    kyc_mode              TEXT    NOT NULL,
    business_type         TEXT,
    kyc_calls_blocked     INTEGER NOT NULL CHECK (kyc_calls_blocked IN (0, 1)),
    currency              TEXT    NOT NULL,
    max_sub_accounts      INTEGER NOT NULL,
    low_balance_threshold INTEGER NOT NULL,
    pricing               TEXT    NOT NULL,
    password_hash         TEXT    NOT NULL,
    webhook_secret_enc    BLOB,
    version               INTEGER NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    last_used             TEXT,
    deleted_at            TEXT,
    CHECK (parent_id <> id)
) STRICT;

-- Emails arrive normalized (trimmed, lower-cased); unique among live rows.
CREATE UNIQUE INDEX accounts_email_live ON accounts (email) WHERE deleted_at IS NULL;
-- Sub-account lists and counts of one parent, newest first.
CREATE INDEX accounts_parent_created ON accounts (parent_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
-- Main-account list, newest first.
CREATE INDEX accounts_main_created ON accounts (created_at DESC, id DESC) WHERE parent_id IS NULL;

-- Keyed hashes of auth tokens: the current one (expires_at NULL) and at most
-- one previous one during a rotation grace.
CREATE TABLE auth_tokens (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    hash       BLOB    NOT NULL,
    expires_at TEXT,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (account_id, hash)
) STRICT;

CREATE UNIQUE INDEX auth_tokens_current ON auth_tokens (account_id) WHERE expires_at IS NULL;

-- Refresh-token ids that were exchanged once; a second use is refused.
CREATE TABLE used_refresh_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX used_refresh_tokens_expires ON used_refresh_tokens (expires_at);
