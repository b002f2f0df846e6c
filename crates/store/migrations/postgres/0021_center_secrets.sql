-- Secrets of the center as a whole (issue 16, item 5): today only the verbal-password
-- pepper, a random 32-byte key argon2 hashes verbal passwords with. Stored only sealed under
-- the master key (`sealed:v1:<key id>:...`), like DC-09 keys; created once, by the first
-- process that needs it, and re-sealed by `watchpost secrets rotate`.
CREATE TABLE center_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
