-- PostgreSQL twin of sqlite/0015.
-- Dealers as tenants (issue 14, item 6): the installers a wholesale center monitors for. A
-- dealer owns accounts (`accounts.dealer`; NULL: the center's own) and has users of its own,
-- in the roles `dealer_admin` and `dealer_viewer`, who must name their dealer; the center's
-- users (agent, supervisor, admin) must not.

CREATE TABLE dealers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

ALTER TABLE accounts ADD COLUMN dealer TEXT REFERENCES dealers(id);
CREATE INDEX accounts_by_dealer ON accounts (dealer, number);

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('agent', 'supervisor', 'admin', 'dealer_admin', 'dealer_viewer'));
ALTER TABLE users ADD COLUMN dealer TEXT REFERENCES dealers(id);
ALTER TABLE users ADD CONSTRAINT users_dealer_check
    CHECK ((role IN ('dealer_admin', 'dealer_viewer')) = (dealer IS NOT NULL));
