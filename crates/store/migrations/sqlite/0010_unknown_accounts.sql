-- Unknown-account items: a signal that would open an alarm, from an account number that is not
-- enrolled. Written in the same commit as the signal; later signals from the same number join
-- the open item (count, last event), so a misprogrammed panel makes one item, not a flood.
-- An item stays open until an agent resolves it: assigned to an account, enrolled, or noise.
-- Kept to SQL both backends speak (no partial index: CockroachDB and YugabyteDB accept it too).

CREATE TABLE unknown_accounts (
    id           INTEGER PRIMARY KEY,
    account      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    source       TEXT NOT NULL,
    line         TEXT,
    raw          TEXT NOT NULL,
    event        TEXT NOT NULL,
    count        BIGINT NOT NULL,
    outcome      TEXT,
    resolved_account TEXT,
    reason       TEXT,
    resolved_by  TEXT,
    resolved_at  BIGINT
);
CREATE INDEX unknown_accounts_by_account ON unknown_accounts (account, resolved_at);
CREATE INDEX unknown_accounts_open ON unknown_accounts (resolved_at, id);
