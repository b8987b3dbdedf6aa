-- The second administrator's confirmation of the commission section (docs/protocol/
-- 14-commission.md §Dual control): the hash of the section derived from the registered members,
-- who confirmed it and when. The package is built only while the section still has this hash.
CREATE TABLE commission_confirmations (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    commission_hash TEXT NOT NULL,
    confirmed_by TEXT NOT NULL,
    confirmed_at BIGINT NOT NULL
);

-- The demo commission members of a demo-mode campaign, played by the server itself (docs/server.md
-- §Demo mode), like demo_key_holders: their Ed25519 secret keys, so that the demo can sign the
-- credential list and the protocol as the pinned members. Only demo-mode campaigns get rows here.
CREATE TABLE demo_members (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    signing_key TEXT NOT NULL,
    PRIMARY KEY (campaign_id, idx)
);
