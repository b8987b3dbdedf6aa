-- A ballot is identified by its tracking code, which commits to every byte of it, signature
-- included (docs/protocol/08-ballot.md §Tracking code). `ballot_hash`, a SHA-256 of the ballot's
-- JSON, said the same a second time: every cast serialised its ballot once more to compute it,
-- inside the serial group transaction, and every insert kept a second unique index
-- (docs/load.md §Fewer round trips). The tracking code's index becomes the unique one.
DROP INDEX ballots_hash;
ALTER TABLE ballots DROP COLUMN ballot_hash;
DROP INDEX ballots_tracking_code;
CREATE UNIQUE INDEX ballots_tracking_code ON ballots (campaign_id, tracking_code);
