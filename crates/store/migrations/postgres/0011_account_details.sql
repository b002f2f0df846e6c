-- An account's details for the agent: zone names and locations, premises instructions and
-- notes, the agencies serving the premises (name, phone, alarm permit). One JSON document per
-- account (watchpost_core::details::AccountDetails), written and read with the account's row;
-- NULL for accounts enrolled before (read as no details).
ALTER TABLE accounts ADD COLUMN details TEXT;

-- What people did to an account outside its alarms: test mode put on or ended, by whom, when.
CREATE TABLE account_events (
    id          BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    what        TEXT NOT NULL
);
CREATE INDEX account_events_by_account ON account_events (account, at);
