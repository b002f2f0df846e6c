-- Enhanced call verification's other numbers (issue 14, item 5): a contact's second number
-- and the premises' own phone, both optional (NULL for accounts enrolled before). Indexed
-- like the first numbers: a call to the center from one of them finds the account.
ALTER TABLE contacts ADD COLUMN phone2 TEXT;
ALTER TABLE accounts ADD COLUMN premises_phone TEXT;
CREATE INDEX contacts_by_phone2 ON contacts (phone2);
CREATE INDEX accounts_by_premises_phone ON accounts (premises_phone);
