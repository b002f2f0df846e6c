-- Sign-in waits are kept per source address and name, in each node's memory (issue 13,
-- item 3): failures from one address never hold up the user at another. `users unlock` and
-- `users passwd` lift every address's wait on every node by setting `waits_lifted_at` (ms):
-- a node forgets the waits it began before then. `failed_logins` now counts failures from
-- every address since the last success, and `locked_until` is the latest end of a wait one
-- of those addresses must sit out (what the attention view shows supervisors).

ALTER TABLE users ADD COLUMN waits_lifted_at BIGINT;
