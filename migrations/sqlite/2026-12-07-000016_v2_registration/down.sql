DROP INDEX evoter_credentials_pin_commitment;
ALTER TABLE evoter_credentials DROP COLUMN binding_decision;
ALTER TABLE evoter_credentials DROP COLUMN binding_base_hash;
ALTER TABLE evoter_credentials DROP COLUMN registration_binding;
ALTER TABLE evoter_credentials DROP COLUMN pin_salt;
ALTER TABLE evoter_credentials DROP COLUMN pin_commitment;
