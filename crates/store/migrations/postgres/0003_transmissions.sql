-- PostgreSQL twin of sqlite/0003: no triggers, functions, extensions or partial indexes (CockroachDB and YugabyteDB accept it too).
-- Transmissions recently stored (account, sequence and data of a DC-09 message), so a panel
-- that resends after a restart is recognised and its signal is not stored twice.
CREATE TABLE transmissions (
    fingerprint TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX transmissions_by_time ON transmissions (received_at);
