-- The accepted filter transcripts of a v2 campaign (docs/protocol/13-revoting.md §6.8,
-- docs/record-format.md §Filter transcript): one row per `filtered` board entry, the exact bytes
-- of the record file `filter/<style_index>.json` that the entry binds by SHA-256 and length.
-- `board_idx` is the entry's board index; `counted` is the transcript's counted_s (for the
-- protocol's lines). Rows are never updated or deleted: a later entry of the same style keeps
-- the earlier one (record-format.md: `filter/<i>.<board index>.json`).
CREATE TABLE filter_transcripts (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    board_idx BIGINT NOT NULL,
    style TEXT NOT NULL,
    style_index BIGINT NOT NULL,
    run BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    counted BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, board_idx)
);
CREATE UNIQUE INDEX filter_transcripts_style ON filter_transcripts (campaign_id, style);
