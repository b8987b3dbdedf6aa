DROP TABLE election_packages;
