-- The duplicate check of every cast looks a ballot up by tracking code (server/src/routes/ballots.rs
-- `record`, inside the locked cast transaction): without this index each cast read every ballot of
-- its campaign (docs/load.md).
CREATE INDEX ballots_tracking_code ON ballots (campaign_id, tracking_code);
