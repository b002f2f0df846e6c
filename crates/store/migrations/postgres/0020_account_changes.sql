-- A feed of account changes (issue 16, item 2): every write of an account (enrolment, edit,
-- import, key change, removal) adds a row in its own transaction, so the receivers follow
-- changes by reading only the rows after the last one they saw, never the whole table. Rows
-- are pruned by age (`at`, ms since the epoch). Written by the store's code, not a trigger
-- (see 0001).
CREATE TABLE account_changes (
    id      BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX account_changes_by_time ON account_changes (at);
-- What the receivers hold in memory, read once at start: only the keyed and the supervised
-- accounts. No partial indexes here (see 0001): NULLs sort together, so `IS NOT NULL` reads
-- only the others.
CREATE INDEX accounts_keyed ON accounts (dc09_key);
CREATE INDEX accounts_supervised ON accounts (supervision_ms);
