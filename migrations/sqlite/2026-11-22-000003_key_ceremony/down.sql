DROP TABLE ceremony_messages;
DROP TABLE ceremony_key_holders;
DROP TABLE key_ceremonies;
