DROP INDEX ballots_tracking_code;
