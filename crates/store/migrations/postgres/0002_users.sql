-- PostgreSQL twin of sqlite/0002: no triggers, functions, extensions or partial indexes (CockroachDB and YugabyteDB accept it too).
-- People who sign in (agents, supervisors, administrators), their sessions, and the API keys
-- that let an account's IP devices and apps send signals. Secrets are never stored: passwords
-- as argon2 PHC strings, session tokens and API keys as the SHA-256 hex of the secret.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    name            TEXT PRIMARY KEY,
    role            TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash   TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_name   TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_user ON sessions (user_name);

-- No foreign key to accounts: re-importing an account replaces its row, and its keys must
-- survive that.
CREATE TABLE api_keys (
    key_hash    TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_by_account ON api_keys (account);
