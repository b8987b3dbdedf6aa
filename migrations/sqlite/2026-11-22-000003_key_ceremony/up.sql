-- The key ceremony of a campaign (docs/protocol/06-dkg.md, docs/server.md §Key ceremony): its
-- parameters, the key-holders bound to staff members, every signed message as relayed (public,
-- write-once), and the outcome evaluated by the server from the transcript. A reconfiguration
-- starts a new attempt; the rows of earlier attempts stay.
CREATE TABLE key_ceremonies (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    n INTEGER NOT NULL,
    t INTEGER NOT NULL,
    base_hash TEXT,
    outcome TEXT,
    failure TEXT,
    configured_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE TABLE ceremony_key_holders (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    pin TEXT NOT NULL,
    public_keys TEXT,
    registered_at BIGINT,
    PRIMARY KEY (campaign_id, attempt, idx)
);
CREATE UNIQUE INDEX ceremony_key_holders_pin ON ceremony_key_holders (campaign_id, attempt, pin);

-- kind: commitment_hash | reveal | share | complaints; recipient is 0 except for shares.
-- payload: the message's canonical JSON (complaints: the key-holder's list, possibly empty).
CREATE TABLE ceremony_messages (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    kind TEXT NOT NULL,
    sender INTEGER NOT NULL,
    recipient INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, attempt, kind, sender, recipient)
);
