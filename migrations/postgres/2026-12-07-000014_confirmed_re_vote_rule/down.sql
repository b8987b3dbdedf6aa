ALTER TABLE campaigns DROP COLUMN created_by;
ALTER TABLE commission_confirmations DROP COLUMN re_vote_policy;
