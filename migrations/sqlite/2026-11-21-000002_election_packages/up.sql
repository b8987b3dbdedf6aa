-- The public outcome of a campaign's key ceremony, as the election package (record::ElectionPackage
-- JSON: crypto manifest, threshold, key-holders, joint key, both context hashes, board key).
-- Installed during the key ceremony; the board and the cast endpoint read it.
CREATE TABLE election_packages (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    package TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
