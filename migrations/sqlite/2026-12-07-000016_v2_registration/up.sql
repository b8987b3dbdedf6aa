-- The registration binding and the PIN commitment of a v2 application (docs/protocol/
-- 13-revoting.md §3.3): the device sends X, pc, salt and the binding; the server checks the
-- binding for the logged-in voter's PIN and stores them with the credential. Only `pin_commitment`
-- is ever published (in the v2 credential list and a v2 replacement); the salt and the binding
-- are shown only to the commission members who check a replacement (§4.3). `binding_base_hash`
-- is the base hash the binding was checked under (a v2 package is installed only if every active
-- credential was bound under its own base hash), `binding_decision` the decision the binding
-- names ('' at application; a replacement's decision). All five are NULL for a v1 application.
-- Hex, lowercase. Pin commitments are distinct within a campaign (§4.2).
ALTER TABLE evoter_credentials ADD COLUMN pin_commitment TEXT;
ALTER TABLE evoter_credentials ADD COLUMN pin_salt TEXT;
ALTER TABLE evoter_credentials ADD COLUMN registration_binding TEXT;
ALTER TABLE evoter_credentials ADD COLUMN binding_base_hash TEXT;
ALTER TABLE evoter_credentials ADD COLUMN binding_decision TEXT;
CREATE UNIQUE INDEX evoter_credentials_pin_commitment ON evoter_credentials (campaign_id, pin_commitment);
