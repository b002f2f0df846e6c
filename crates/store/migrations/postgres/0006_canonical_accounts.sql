-- Account numbers in their canonical form, upper case (README, "Account numbers"): receivers
-- and enrolment now fold case, so rows written before under a lower-case number are moved to
-- it. An account is copied to its new number, its contacts and zones follow, then the old row
-- goes (the foreign keys allow no rename in place). Where both spellings were enrolled, the
-- upper-case account is the one kept in use and the other row is left as it was, for an
-- administrator to remove. Alarm logs keep the number they were written with; replay reads it
-- in canonical form. The same statements as sqlite/0006.

CREATE TABLE account_renames (
    old     TEXT PRIMARY KEY,
    new     TEXT NOT NULL UNIQUE
);
INSERT INTO account_renames (old, new)
    SELECT MIN(number), UPPER(number) FROM accounts
    WHERE number <> UPPER(number) AND UPPER(number) NOT IN (SELECT number FROM accounts)
    GROUP BY UPPER(number);

INSERT INTO accounts (number, premises, address, country, region, monitoring, enrolled_at,
                      password_hash, responder, test_until, dc09_key, supervision_ms)
    SELECT r.new, a.premises, a.address, a.country, a.region, a.monitoring, a.enrolled_at,
           a.password_hash, a.responder, a.test_until, a.dc09_key, a.supervision_ms
    FROM accounts a JOIN account_renames r ON r.old = a.number;
UPDATE contacts SET account = (SELECT new FROM account_renames WHERE old = contacts.account)
    WHERE account IN (SELECT old FROM account_renames);
UPDATE zones SET account = (SELECT new FROM account_renames WHERE old = zones.account)
    WHERE account IN (SELECT old FROM account_renames);
DELETE FROM accounts WHERE number IN (SELECT old FROM account_renames);
DROP TABLE account_renames;

UPDATE signals SET account = UPPER(account) WHERE account <> UPPER(account);
UPDATE alarms SET account = UPPER(account) WHERE account <> UPPER(account);
UPDATE api_keys SET account = UPPER(account) WHERE account <> UPPER(account);

-- One row per account: the latest time any spelling of it was heard.
DELETE FROM panels_heard WHERE EXISTS (
    SELECT 1 FROM panels_heard other
    WHERE UPPER(other.account) = UPPER(panels_heard.account)
      AND (other.heard_at > panels_heard.heard_at
           OR (other.heard_at = panels_heard.heard_at AND other.account < panels_heard.account)));
UPDATE panels_heard SET account = UPPER(account) WHERE account <> UPPER(account);
