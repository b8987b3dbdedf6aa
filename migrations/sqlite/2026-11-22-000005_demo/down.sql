DROP TABLE demo_key_holders;
