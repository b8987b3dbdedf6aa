-- A ballot's JSON is kept once, in its board entry (board_entries.payload, found by
-- ballots.board_index): `ballots.payload` repeated it (docs/load.md).
ALTER TABLE ballots DROP COLUMN payload;
-- ballot_ciphertexts loses its foreign keys, as on PostgreSQL (see there): SQLite rebuilds the
-- table to drop them.
CREATE TABLE ballot_ciphertexts_new (
    campaign_id TEXT NOT NULL,
    ciphertext_hash TEXT NOT NULL,
    ballot_id BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, ciphertext_hash)
);
INSERT INTO ballot_ciphertexts_new (campaign_id, ciphertext_hash, ballot_id)
    SELECT campaign_id, ciphertext_hash, ballot_id FROM ballot_ciphertexts;
DROP TABLE ballot_ciphertexts;
ALTER TABLE ballot_ciphertexts_new RENAME TO ballot_ciphertexts;
