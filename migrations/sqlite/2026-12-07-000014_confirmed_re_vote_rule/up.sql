-- Dual control of the re-vote rule (review docs/reviews/18-parameters-and-head-chain-round1.md
-- M5): the second administrator confirms the campaign's re-vote rule with the commission
-- section; the package is built only while the campaign still has the rule confirmed. A
-- confirmation made before this column (none in an election) confirms no rule: '' matches none.
ALTER TABLE commission_confirmations ADD COLUMN re_vote_policy TEXT NOT NULL DEFAULT '';
