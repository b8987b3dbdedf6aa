DROP INDEX alerts_unpushed;
ALTER TABLE alerts DROP COLUMN pushed_at;
DROP TABLE refusal_counts;
