-- PostgreSQL twin of sqlite/0005 (plain SQL, as 0003).
-- Each account's most recent DC-09 frame, so that a panel resending it (it got no ACK) is
-- recognised after a restart or by another node: a frame is a retransmission only when it
-- repeats the account's most recent frame. Upserted in the commit that stores the frame's
-- signals. The fingerprint set of 0003 took a constant-sequence panel's new events for
-- resends; it is dropped (a resend in flight during the upgrade may be stored twice, never
-- lost).
DROP TABLE transmissions;
CREATE TABLE last_transmissions (
    account TEXT PRIMARY KEY,
    -- Message id, sequence and data block (decrypted; no pad, no timestamp).
    fingerprint TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX last_transmissions_by_time ON last_transmissions (received_at);
