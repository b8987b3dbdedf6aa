-- Tree heads form a chain (docs/protocol/10-board.md §Tree heads): each signed head carries the
-- link to the head signed before it (SHA-256 of its signed message; 64 zeros for the first).
-- No election has run on dobush-record/1, whose heads had no link: a head stored before this
-- migration has '' and is refused when read.
ALTER TABLE tree_heads ADD COLUMN previous_hash TEXT NOT NULL DEFAULT '';
