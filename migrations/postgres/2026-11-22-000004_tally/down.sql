DROP TABLE protocol_signatures;
DROP TABLE protocols;
DROP TABLE commission_members;
DROP TABLE decryption_shares;
DROP TABLE tallies;
DROP TABLE ballots_issued;
