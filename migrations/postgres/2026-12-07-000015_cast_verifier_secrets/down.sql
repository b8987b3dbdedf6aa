DROP TABLE cast_verifier_secrets;
