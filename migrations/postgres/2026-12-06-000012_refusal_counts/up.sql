-- Unauthenticated refusals are counted, not written one by one (docs/server.md §Refusals): the
-- first refusal of a kind in a window writes one audit entry and one alert, the others add to
-- `count` here. A crowd (or one script) hammering a public endpoint thus costs one row update per
-- refusal, not an audit entry and an alert each.
CREATE TABLE refusal_counts (
    kind TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    alert_id BIGINT NOT NULL,
    PRIMARY KEY (kind, window_start)
);
CREATE INDEX refusal_counts_alert ON refusal_counts (alert_id);
-- When the alert was delivered to the configured webhook (`[alerts] webhook_url`); NULL: not yet.
ALTER TABLE alerts ADD COLUMN pushed_at BIGINT;
CREATE INDEX alerts_unpushed ON alerts (id) WHERE pushed_at IS NULL;
