-- A ballot's id (08-ballot.md §Ballot) is drawn by the voter's device, so a modified client can
-- copy another ballot's. Two ballots with one id make the record fail uniqueness (V09) and the
-- key-holders refuse to tally: one voter could block the tally (issue 18). The id, hex, is kept
-- with its ballot row (cast or challenged) and unique per campaign; casting refuses a taken id
-- with 409 `duplicate_ballot_id` (server/src/cast/commit.rs), this index is the last word.
-- Rows made before this migration take the id from their board entry.
ALTER TABLE ballots ADD COLUMN ballot_uid TEXT;
UPDATE ballots SET ballot_uid = (
    SELECT json_extract(e.payload, '$.ballot.ballot_id') FROM board_entries e
    WHERE e.campaign_id = ballots.campaign_id AND e.idx = ballots.board_index
);
CREATE UNIQUE INDEX ballots_ballot_uid ON ballots (campaign_id, ballot_uid);
