-- Accounts by a contact's phone: the account search for a call to the center that matched
-- no open alarm (README, "Telephony").
CREATE INDEX contacts_by_phone ON contacts (phone);
