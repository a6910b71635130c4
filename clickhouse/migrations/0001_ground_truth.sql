-- Actual values for earlier predictions, joined by event_id. ReplacingMergeTree on
-- (model_name, event_id): a message stored twice (a restart re-reading uncommitted offsets)
-- collapses into one row; read with FINAL for exact counts before background merges run.
CREATE TABLE IF NOT EXISTS ground_truth (
  event_id String,
  model_name String,
  actual Float64,
  event_time DateTime('UTC'),
  event_time_ms UInt64,
  kafka_partition UInt32,
  kafka_offset UInt64,
  ingested_at DateTime('UTC')
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (model_name, event_id);
