DROP INDEX ballots_ballot_uid;
ALTER TABLE ballots DROP COLUMN ballot_uid;
