ALTER TABLE ballot_ciphertexts ADD CONSTRAINT ballot_ciphertexts_ballot_id_fkey FOREIGN KEY (ballot_id) REFERENCES ballots (id);
ALTER TABLE ballot_ciphertexts ADD CONSTRAINT ballot_ciphertexts_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE;
ALTER TABLE board_entries RESET (toast_tuple_target);
-- The column comes back empty: the ballots' JSON stays in their board entries.
ALTER TABLE ballots ADD COLUMN payload TEXT NOT NULL DEFAULT '';
