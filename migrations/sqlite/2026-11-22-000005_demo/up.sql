-- The five demo key-holders of a demo-mode campaign, played by the server itself (docs/server.md
-- §Demo mode): their secret keys and key shares. Only demo-mode campaigns ever get rows here (the
-- server refuses demo control for any other campaign); a real campaign's key shares never reach
-- the server.
CREATE TABLE demo_key_holders (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    secret_keys TEXT NOT NULL,
    key_share TEXT NOT NULL,
    PRIMARY KEY (campaign_id, idx)
);
