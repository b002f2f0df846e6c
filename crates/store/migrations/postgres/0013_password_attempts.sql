-- Verbal-password checks, per account, across alarms, nodes and restarts (issue 13, item 8).
-- A row is written before the password is compared (`matched` NULL while comparing), so
-- parallel checks cannot exceed the limit; a row whose `matched` is not true is a miss.
-- Kept as the record of every check: an agent's action each, so the table grows slowly.

CREATE TABLE password_attempts (
    id        BIGSERIAL PRIMARY KEY,
    account   TEXT NOT NULL,
    alarm     BIGINT NOT NULL,
    call_id   BIGINT NOT NULL,
    agent     TEXT NOT NULL,
    at        BIGINT NOT NULL,
    matched   BOOLEAN
);
CREATE INDEX password_attempts_by_account ON password_attempts (account, at);
CREATE INDEX password_attempts_by_time ON password_attempts (at);
