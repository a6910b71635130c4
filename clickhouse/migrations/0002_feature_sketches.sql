-- One row per (model, version, column, pane, source partition): the SketchSnapshot emitted when
-- the pane closed. Re-emitting the same snapshot (after a restart) replaces it.
CREATE TABLE IF NOT EXISTS feature_sketches (
  model_name String,
  model_version UInt32,
  column_name String,
  column_kind String,
  pane_start DateTime('UTC'),
  pane_end DateTime('UTC'),
  source_topic String,
  source_partition UInt32,
  count UInt64,
  null_count UInt64,
  nonfinite_count UInt64,
  late_count UInt64,
  min Nullable(Float64),
  max Nullable(Float64),
  mean Nullable(Float64),
  m2 Float64,
  compression Float64,
  centroid_means Array(Float64),
  centroid_counts Array(Float64),
  category_values Array(String),
  category_counts Array(UInt64),
  emitted_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(emitted_at)
PARTITION BY toYYYYMM(pane_start)
ORDER BY (model_name, model_version, column_name, pane_start, source_topic, source_partition);
