-- The alert consumer's state and history (consumers/alert): one row per alert and delivery.
-- For each drift event that opens, updates or resolves an alert, a decision row (channel '',
-- status 'decided', the message as JSON in payload) is written before anything is sent; then one
-- row per channel with status 'delivered' (message_id: Slack ts, email Message-ID, webhook
-- delivery id; thread: the thread it was sent to) or 'failed' (error, after the retry budget or
-- on a refusal). A restart restores each model version's open alert from these rows and, before
-- sending, looks up the event's rows: a channel already delivered is never sent to again.
-- ReplacingMergeTree keyed per (alert, event, channel), newest recorded_at_ms kept: read with
-- FINAL for one row per delivery.
CREATE TABLE IF NOT EXISTS alerts (
  alert_id String,
  model_name String,
  model_version UInt32,
  event_id String,
  window_end_ms UInt64,
  revision UInt32,
  kind String,
  severity String,
  state String,
  channel String,
  status String,
  message_id String,
  thread String,
  attempts UInt32,
  error String,
  drifted_features Array(String),
  retrain_recommended UInt8,
  share_of_drifted_columns Float64,
  performance_verdict String,
  payload String,
  decided_at_ms UInt64,
  recorded_at DateTime('UTC'),
  recorded_at_ms UInt64
) ENGINE = ReplacingMergeTree(recorded_at_ms)
PARTITION BY toYYYYMM(recorded_at)
ORDER BY (model_name, model_version, alert_id, event_id, channel);
