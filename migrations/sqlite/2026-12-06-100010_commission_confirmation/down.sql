DROP TABLE demo_members;
DROP TABLE commission_confirmations;
