-- Revocable access (issue 13, items 3 and 5): a user can be disabled without being deleted
-- (their record and the alarms they handled stay), and every change of who may do what is
-- written to an audit trail: who (`cli:root`, `admin:amy`, `login`), what, to whom, when.
-- `users.failed_logins` now counts sign-in attempts since the last success, counted before
-- the password is checked, and `users.locked_until` is when the next attempt may be made
-- (progressive delays, never a lock nobody can lift).

ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

-- When an API key was last used (ms; NULL: never since this column came), written at most
-- once an hour per key so that signals do not each cost a write.
ALTER TABLE api_keys ADD COLUMN last_used BIGINT;

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at);
