-- The server's designated-verifier secret y of a v2 campaign (docs/protocol/13-revoting.md §3.4):
-- drawn when the election package is made (its public key Y_S is the package's
-- `parameters.ballot_v2.cast_verifier_key`), replaced with the package, never served while the
-- campaign is open, and published only after `closed` (board entry `cast_verifier_revealed`).
-- `secret` is the 32-byte scalar, lowercase hex. No row for a v1 campaign.
CREATE TABLE cast_verifier_secrets (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
