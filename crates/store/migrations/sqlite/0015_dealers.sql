-- Dealers as tenants (issue 14, item 6): the installers a wholesale center monitors for. A
-- dealer owns accounts (`accounts.dealer`; NULL: the center's own) and has users of its own,
-- in the roles `dealer_admin` and `dealer_viewer`, who must name their dealer; the center's
-- users (agent, supervisor, admin) must not. Kept to SQL that PostgreSQL also speaks, except
-- the rebuild of `users` below, which SQLite needs to change a CHECK (postgres/0015 alters it).

CREATE TABLE dealers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

ALTER TABLE accounts ADD COLUMN dealer TEXT REFERENCES dealers(id);
CREATE INDEX accounts_by_dealer ON accounts (dealer, number);

-- SQLite cannot change a CHECK in place: `users` is copied to a new table. Dropping the old
-- one deletes its sessions (ON DELETE CASCADE), so they are kept aside and put back: nobody
-- is signed out by the upgrade.
CREATE TABLE sessions_kept AS SELECT * FROM sessions;

CREATE TABLE users_new (
    name            TEXT PRIMARY KEY,
    role            TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin',
                                                  'dealer_admin', 'dealer_viewer')),
    password_hash   TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    phone           TEXT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    waits_lifted_at BIGINT,
    dealer          TEXT REFERENCES dealers(id),
    CHECK ((role IN ('dealer_admin', 'dealer_viewer')) = (dealer IS NOT NULL))
);
INSERT INTO users_new (name, role, password_hash, failed_logins, locked_until, created_at,
                       phone, disabled, waits_lifted_at)
    SELECT name, role, password_hash, failed_logins, locked_until, created_at, phone,
           disabled, waits_lifted_at
    FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

INSERT INTO sessions SELECT * FROM sessions_kept;
DROP TABLE sessions_kept;
