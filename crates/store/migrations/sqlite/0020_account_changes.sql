-- A feed of account changes (issue 16, item 2): every write of an account (enrolment, edit,
-- import, key change, removal) adds a row in its own transaction, so the receivers follow
-- changes by reading only the rows after the last one they saw, never the whole table. Rows
-- are pruned by age (`at`, ms since the epoch); AUTOINCREMENT, so an id is never reused once
-- the table was emptied.
CREATE TABLE account_changes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX account_changes_by_time ON account_changes (at);
-- What the receivers hold in memory, read once at start: only the keyed and the supervised
-- accounts, a tenth of a large center, found without reading the others.
CREATE INDEX accounts_keyed ON accounts (number, dc09_key) WHERE dc09_key IS NOT NULL;
CREATE INDEX accounts_supervised ON accounts (number, supervision_ms)
    WHERE supervision_ms IS NOT NULL;
