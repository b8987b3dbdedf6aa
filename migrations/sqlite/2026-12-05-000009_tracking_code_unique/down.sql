DROP INDEX ballots_tracking_code;
CREATE INDEX ballots_tracking_code ON ballots (campaign_id, tracking_code);
-- The column comes back holding the tracking code (unique per ballot, as the hash was).
ALTER TABLE ballots ADD COLUMN ballot_hash TEXT NOT NULL DEFAULT '';
UPDATE ballots SET ballot_hash = tracking_code;
CREATE UNIQUE INDEX ballots_hash ON ballots (campaign_id, ballot_hash);
