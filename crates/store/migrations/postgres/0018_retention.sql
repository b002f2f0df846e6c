-- Retention (issue 15, item 5): the sweep finds expired signals by time and an expiring
-- alarm's verbal-password checks by alarm, through an index, so each small batch it deletes
-- holds the writer for a moment only.

CREATE INDEX signals_by_time ON signals (received_at);
CREATE INDEX password_attempts_by_alarm ON password_attempts (alarm);
