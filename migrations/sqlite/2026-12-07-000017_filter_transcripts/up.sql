-- The accepted filter transcripts of a v2 campaign (docs/protocol/13-revoting.md §6.8,
-- docs/record-format.md §Filter transcript): one row per `filtered` board entry, the exact bytes
-- of the record file `filter/<style_index>.json` that the entry binds by SHA-256 and length.
-- `board_idx` is the entry's board index; `output` is what the verified transcript gives the
-- totals (counted_s and the sums of the kept rows' votes, crypto `StyleOutput`), so that the
-- totals are published without reading any transcript again. Rows are never updated or deleted;
-- a style has at most one (the first transcript that verifies counts: 13-revoting.md §6.8).
CREATE TABLE filter_transcripts (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    board_idx BIGINT NOT NULL,
    style TEXT NOT NULL,
    style_index BIGINT NOT NULL,
    run BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    output TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, board_idx)
);
CREATE UNIQUE INDEX filter_transcripts_style ON filter_transcripts (campaign_id, style);
