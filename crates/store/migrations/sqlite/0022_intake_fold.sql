-- Intake writes only at the ends of its tables (issue 16). Each signal dirtied a page of the
-- per-account signal index and each frame a row of `last_transmissions` (and its time index),
-- pages scattered over every account heard: two 4 KiB pages of write-ahead log per signal,
-- and a checkpoint several times a second at 20,000 signals/s. Now a round appends its signals
-- and its frames (`recent_frames`) only, and the round writer folds what is looked up by
-- account into `signal_accounts` and `last_transmissions` about once a second, sorted by
-- account: each account's page is written once a fold. Readers join the part not yet folded
-- (signals above `intake_fold.signals_through`, every row of `recent_frames`).
CREATE TABLE signal_accounts (
    account     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    id          INTEGER NOT NULL,
    PRIMARY KEY (account, received_at, id)
) WITHOUT ROWID;
INSERT INTO signal_accounts (account, received_at, id)
    SELECT account, received_at, id FROM signals ORDER BY account, received_at, id;
DROP INDEX signals_by_account;

-- The highest signal id folded into `signal_accounts`. Signal ids only grow: SQLite gives a
-- new row the largest id plus one, and retention never deletes the newest signal.
CREATE TABLE intake_fold (signals_through INTEGER NOT NULL);
INSERT INTO intake_fold (signals_through) SELECT COALESCE(MAX(id), 0) FROM signals;

-- Frames committed since the last fold, oldest first; a fold keeps each account's latest in
-- `last_transmissions` and empties this table.
CREATE TABLE recent_frames (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Whatever deletes a signal (retention) deletes its entry by account with it.
CREATE TRIGGER signals_unfold AFTER DELETE ON signals BEGIN
    DELETE FROM signal_accounts
    WHERE account = old.account AND received_at = old.received_at AND id = old.id;
END;
