-- The commission members' signatures over the frozen credential list
-- (docs/protocol/10-board.md §Credential list signatures). A signature is over the digest of the
-- exact list entry; a replacement after signing changes the list, so only signatures whose
-- list_digest equals the list at the opening go onto the board.
CREATE TABLE credential_list_signatures (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    member TEXT NOT NULL,
    signature TEXT NOT NULL,
    list_digest TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, public_key)
);
