ALTER TABLE commission_confirmations DROP COLUMN re_vote_policy;
