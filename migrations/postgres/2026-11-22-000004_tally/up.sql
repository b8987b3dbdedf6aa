-- After voting: ballots issued, the published totals and results, decryption shares, commission
-- members' keys, the electronic protocol and its signatures (docs/server.md §Tally, protocol and
-- record).

-- A voter who authenticated and opened an e-ballot (protocol line 2), once per campaign.
CREATE TABLE ballots_issued (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    pin TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, pin)
);

-- Written at closing: the encrypted totals recomputed from the board and those summed from the
-- shards of encrypted_totals; status 'published' when they are equal, 'mismatch' (never
-- published, alert raised) when not. results: the decrypted ContestResult JSON once combined.
CREATE TABLE tallies (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    board_totals TEXT NOT NULL,
    shard_totals TEXT NOT NULL,
    closed_at BIGINT NOT NULL,
    results TEXT,
    tallied_at BIGINT
);

-- Every decryption share received, in order, valid or not (the record keeps them all).
CREATE TABLE decryption_shares (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    key_holder BIGINT NOT NULL,
    payload TEXT NOT NULL,
    valid BOOLEAN NOT NULL,
    reason TEXT,
    submitted_by TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

-- Commission members' Ed25519 public keys, registered by the CEC administrator.
CREATE TABLE commission_members (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    precinct TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    PRIMARY KEY (campaign_id, public_key)
);

-- The saved protocol (one per campaign's electronic precinct); revision counts re-entries.
CREATE TABLE protocols (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,
    revision BIGINT NOT NULL,
    decision TEXT,
    saved_at BIGINT NOT NULL,
    saved_by TEXT NOT NULL
);

-- Members' signatures over a protocol digest (verified on arrival).
CREATE TABLE protocol_signatures (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    public_key TEXT NOT NULL,
    member TEXT NOT NULL,
    signature TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, digest, public_key)
);

