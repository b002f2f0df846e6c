-- Webhooks to the center's and dealers' own systems (issue 14, item 7). An endpoint wants some
-- event types (`events`: ",alarm.opened,call.outcome," with commas around each) of every
-- account (`dealer` NULL: the center's own) or of one dealer's accounts. Its secret is sealed
-- with the master key like a DC-09 key. An event is written in the same transaction as the
-- log entries it reports, with one pending row for each endpoint that wants it; a pending row
-- leaves when its endpoint answered 2xx, and an event leaves with its last pending row.
-- `webhook_attempts` is each endpoint's delivery log, trimmed to its newest rows.
-- `webhook_lease` names the one node that delivers until `expires_at`.

CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    dealer      TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    account     TEXT NOT NULL,
    dealer      TEXT,
    alarm       BIGINT,
    created_at  BIGINT NOT NULL,
    body        TEXT NOT NULL
);

CREATE TABLE webhook_pending (
    seq         INTEGER PRIMARY KEY,
    endpoint    TEXT NOT NULL,
    event       TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_pending_by_endpoint ON webhook_pending (endpoint, seq);
CREATE INDEX webhook_pending_by_event ON webhook_pending (event);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    endpoint    TEXT NOT NULL,
    event       TEXT NOT NULL,
    type        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    attempt     BIGINT NOT NULL,
    status      BIGINT,
    error       TEXT,
    delivered   BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint, id);

CREATE TABLE webhook_lease (
    id          BIGINT PRIMARY KEY,
    node        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
INSERT INTO webhook_lease (id, node, expires_at) VALUES (0, '', 0);
