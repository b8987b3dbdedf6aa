CREATE TABLE ballot_ciphertexts_old (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    ciphertext_hash TEXT NOT NULL,
    ballot_id BIGINT NOT NULL REFERENCES ballots (id),
    PRIMARY KEY (campaign_id, ciphertext_hash)
);
INSERT INTO ballot_ciphertexts_old (campaign_id, ciphertext_hash, ballot_id)
    SELECT campaign_id, ciphertext_hash, ballot_id FROM ballot_ciphertexts;
DROP TABLE ballot_ciphertexts;
ALTER TABLE ballot_ciphertexts_old RENAME TO ballot_ciphertexts;
-- The column comes back empty: the ballots' JSON stays in their board entries.
ALTER TABLE ballots ADD COLUMN payload TEXT NOT NULL DEFAULT '';
