DROP TABLE filter_transcripts;
