-- PostgreSQL twin of sqlite/0001: no triggers, functions, extensions or partial indexes (CockroachDB and YugabyteDB accept it too).
-- Accounts, their contacts and zones; received signals; alarms and their append-only logs.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE accounts (
    number          TEXT PRIMARY KEY,
    premises        TEXT NOT NULL,
    address         TEXT NOT NULL,
    country         TEXT NOT NULL,
    region          TEXT NOT NULL,
    monitoring      TEXT NOT NULL,
    enrolled_at     BIGINT NOT NULL,
    password_hash   TEXT NOT NULL,
    responder       TEXT NOT NULL,
    test_until      BIGINT,
    dc09_key        TEXT,
    supervision_ms  BIGINT
);

CREATE TABLE contacts (
    account     TEXT NOT NULL REFERENCES accounts(number) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    phone       TEXT NOT NULL,
    PRIMARY KEY (account, position)
);

CREATE TABLE zones (
    account     TEXT NOT NULL REFERENCES accounts(number) ON DELETE CASCADE,
    zone        BIGINT NOT NULL,
    device      TEXT NOT NULL,
    PRIMARY KEY (account, zone)
);

CREATE TABLE signals (
    id          BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    source      TEXT NOT NULL,
    event       TEXT NOT NULL,
    raw         TEXT NOT NULL
);
CREATE INDEX signals_by_account ON signals (account, received_at);

-- The application hands out alarm ids (in blocks, from the counter of 0004), so no sequence.
CREATE TABLE alarms (
    id          BIGINT PRIMARY KEY,
    account     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    opened_at   BIGINT NOT NULL,
    closed_at   BIGINT,
    disposition TEXT
);
CREATE INDEX alarms_open ON alarms (closed_at, priority, opened_at);
CREATE INDEX alarms_by_account ON alarms (account, opened_at);

CREATE TABLE alarm_events (
    alarm_id    BIGINT NOT NULL REFERENCES alarms(id),
    seq         INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (alarm_id, seq)
);
