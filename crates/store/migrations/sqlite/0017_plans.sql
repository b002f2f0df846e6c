-- Plan sets (issue 14; docs/plans.md): every version of every set, never changed or removed,
-- with who loaded it and when; which set applies where (`center`, `dealer:ID`,
-- `account:NUMBER`); the scenarios a set must keep passing; and a stamp nodes poll to reload
-- their plans when any of these change.

CREATE TABLE plan_versions (
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    text        TEXT NOT NULL,
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE plan_assignments (
    scope   TEXT PRIMARY KEY,
    plan    TEXT NOT NULL
);

CREATE TABLE plan_required_scenarios (
    plan    TEXT NOT NULL,
    name    TEXT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (plan, name)
);

CREATE TABLE plans_stamp (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    stamp   BIGINT NOT NULL
);
INSERT INTO plans_stamp (id, stamp) VALUES (1, 0);
