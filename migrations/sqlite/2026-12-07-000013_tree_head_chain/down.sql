ALTER TABLE tree_heads DROP COLUMN previous_hash;
