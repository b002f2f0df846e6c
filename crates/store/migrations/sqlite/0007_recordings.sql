-- Call recordings kept with their alarm (issue 11, item 8): the audio of each call, both
-- sides, is one WAV file in the center's recordings folder, named <alarm>/<call>.wav; this
-- table lists them. A row is written only after its file is durable, and the retention sweep
-- removes the file before the row, so a row may outlive its file (served as 404, removed by
-- the next sweep) but a listed file is never lost track of. Kept to SQL that PostgreSQL also
-- speaks (postgres/0007 is the same).
CREATE TABLE recordings (
    alarm       BIGINT NOT NULL,
    call_id     BIGINT NOT NULL,
    -- When the call's audio starts, ms since the epoch.
    started_at  BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    -- Relative to the recordings folder: <alarm>/<call>.wav.
    file        TEXT NOT NULL,
    PRIMARY KEY (alarm, call_id)
);
CREATE INDEX recordings_by_time ON recordings (started_at);
