-- Sessions ended before their expiry (logout): a session token whose `jti` is here is refused
-- with 401 by every server sharing the database (docs/server.md §Sessions). A row is needed only
-- until the token would have expired anyway (`expires_at`); logouts delete the stale ones.
CREATE TABLE session_revocations (
    jti TEXT PRIMARY KEY NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX session_revocations_expires ON session_revocations (expires_at);
