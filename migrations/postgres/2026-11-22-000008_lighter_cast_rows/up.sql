-- A ballot's JSON is kept once, in its board entry (board_entries.payload, found by
-- ballots.board_index): `ballots.payload` repeated it, and writing ≈ 4.5 KB twice per cast was
-- the largest part of a group's rows (docs/load.md §One insert per group, each ballot stored once).
ALTER TABLE ballots DROP COLUMN payload;
-- A board entry (a one-contest ballot's is ≈ 4.5 KB) stays in the table's own page,
-- uncompressed: above the default 2 KB PostgreSQL first tries to compress it (ciphertexts and
-- proofs do not compress) and then moves it to the TOAST table, two extra writes per entry.
-- Entries larger than a page are still moved there.
ALTER TABLE board_entries SET (toast_tuple_target = 8160);
-- ballot_ciphertexts is an index of the ballots' ciphertexts for the replay check, written only
-- in the transaction that inserts the ballot row it names: its foreign keys checked every
-- ciphertext (five per one-contest ballot) against campaigns and ballots with a locking lookup
-- each, more than the row itself cost. Erasing a campaign's test data deletes its rows explicitly
-- (server/src/routes/campaigns.rs `erase_test_data`).
ALTER TABLE ballot_ciphertexts DROP CONSTRAINT ballot_ciphertexts_campaign_id_fkey;
ALTER TABLE ballot_ciphertexts DROP CONSTRAINT ballot_ciphertexts_ballot_id_fkey;
