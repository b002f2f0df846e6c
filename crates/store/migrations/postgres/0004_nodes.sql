-- PostgreSQL twin of sqlite/0004; plain tables, indexes and a BIGSERIAL, which CockroachDB and YugabyteDB accept too.
-- Several nodes on one database. Each node says it is alive (nodes); the accounts are split
-- into 64 partitions, each driven by the node holding its lease until it expires; every lease
-- taken gets a new fencing token, written with each log entry, and a write made under a token
-- that is no longer current is refused. The inbox carries signals and agent commands from the
-- node that received them to the node that drives their partition. Alarm ids are handed out in
-- blocks from a counter. When panels were last heard is shared for supervision.

ALTER TABLE alarm_events ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;

CREATE TABLE nodes (
    name        TEXT PRIMARY KEY,
    seen_at     BIGINT NOT NULL
);

CREATE TABLE leases (
    part        BIGINT PRIMARY KEY,
    node        TEXT NOT NULL,
    token       BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
INSERT INTO leases (part, node, token, expires_at) VALUES
    (0, '', 0, 0),
    (1, '', 0, 0),
    (2, '', 0, 0),
    (3, '', 0, 0),
    (4, '', 0, 0),
    (5, '', 0, 0),
    (6, '', 0, 0),
    (7, '', 0, 0),
    (8, '', 0, 0),
    (9, '', 0, 0),
    (10, '', 0, 0),
    (11, '', 0, 0),
    (12, '', 0, 0),
    (13, '', 0, 0),
    (14, '', 0, 0),
    (15, '', 0, 0),
    (16, '', 0, 0),
    (17, '', 0, 0),
    (18, '', 0, 0),
    (19, '', 0, 0),
    (20, '', 0, 0),
    (21, '', 0, 0),
    (22, '', 0, 0),
    (23, '', 0, 0),
    (24, '', 0, 0),
    (25, '', 0, 0),
    (26, '', 0, 0),
    (27, '', 0, 0),
    (28, '', 0, 0),
    (29, '', 0, 0),
    (30, '', 0, 0),
    (31, '', 0, 0),
    (32, '', 0, 0),
    (33, '', 0, 0),
    (34, '', 0, 0),
    (35, '', 0, 0),
    (36, '', 0, 0),
    (37, '', 0, 0),
    (38, '', 0, 0),
    (39, '', 0, 0),
    (40, '', 0, 0),
    (41, '', 0, 0),
    (42, '', 0, 0),
    (43, '', 0, 0),
    (44, '', 0, 0),
    (45, '', 0, 0),
    (46, '', 0, 0),
    (47, '', 0, 0),
    (48, '', 0, 0),
    (49, '', 0, 0),
    (50, '', 0, 0),
    (51, '', 0, 0),
    (52, '', 0, 0),
    (53, '', 0, 0),
    (54, '', 0, 0),
    (55, '', 0, 0),
    (56, '', 0, 0),
    (57, '', 0, 0),
    (58, '', 0, 0),
    (59, '', 0, 0),
    (60, '', 0, 0),
    (61, '', 0, 0),
    (62, '', 0, 0),
    (63, '', 0, 0);

CREATE TABLE counters (
    name        TEXT PRIMARY KEY,
    value       BIGINT NOT NULL
);
INSERT INTO counters (name, value) SELECT 'alarm_id', COALESCE(MAX(id), 0) FROM alarms;

CREATE TABLE inbox (
    id          BIGSERIAL PRIMARY KEY,
    part        BIGINT NOT NULL,
    posted_at   BIGINT NOT NULL,
    body        TEXT NOT NULL,
    outcome     TEXT
);
CREATE INDEX inbox_by_part ON inbox (part, id);

CREATE TABLE panels_heard (
    account     TEXT PRIMARY KEY,
    heard_at    BIGINT NOT NULL
);
CREATE INDEX panels_heard_by_time ON panels_heard (heard_at);
