-- An agent's phone: the SIP URI the center calls to connect the agent to a contact (README,
-- "Telephony"). NULL: the agent has none, and dials by hand.
ALTER TABLE users ADD COLUMN phone TEXT;
