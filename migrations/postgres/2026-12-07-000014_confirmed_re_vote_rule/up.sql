-- Dual control of the re-vote rule (review docs/reviews/18-parameters-and-head-chain-round1.md
-- M5): the second administrator confirms the campaign's re-vote rule with the commission
-- section; the package is built only while the campaign still has the rule confirmed. A
-- confirmation made before this column (none in an election) confirms no rule: '' matches none.
ALTER TABLE commission_confirmations ADD COLUMN re_vote_policy TEXT NOT NULL DEFAULT '';

-- Who created the campaign, and so chose its re-vote rule: that person may not be the one who
-- confirms the rule (review docs/reviews/18-stop27-round1.md M2). '' for campaigns made before.
ALTER TABLE campaigns ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
