-- One row per DriftEvent: one evaluation of a model version's sliding window. ReplacingMergeTree
-- on (model_name, model_version, window_end_ms): an evaluation emitted again after a crash (same
-- event_id, same content) collapses into one row; read with FINAL, or argMax, for exact answers
-- before background merges run. The drift consumer restores its state after a restart from the
-- newest row of each model version (state, consecutive_drift, window_end_ms, source_partitions).
-- Per-column results are parallel arrays (index i describes column_names[i]; a null statistic or
-- p-value is NULL) plus the whole column records as JSON in columns_json.
CREATE TABLE IF NOT EXISTS drift_events (
  event_id String,
  model_name String,
  model_version UInt32,
  window_start DateTime('UTC'),
  window_end DateTime('UTC'),
  window_start_ms UInt64,
  window_end_ms UInt64,
  pane_ms UInt64,
  window_panes UInt32,
  pane_count UInt32,
  row_count UInt64,
  source_partitions Array(String),
  completion String,
  state String,
  previous_state Nullable(String),
  transition UInt8,
  consecutive_drift UInt32,
  retrain_after UInt32,
  retrain_recommended UInt8,
  drift_share Float64,
  share_of_drifted_columns Float64,
  evaluated_count UInt32,
  drifted_count UInt32,
  drifted_columns Array(String),
  drifted_features Array(String),
  prediction_drifted UInt8,
  column_names Array(String),
  column_methods Array(String),
  column_verdicts Array(String),
  column_statistics Array(Nullable(Float64)),
  column_thresholds Array(Float64),
  column_p_values Array(Nullable(Float64)),
  columns_json String,
  labelled_count UInt64,
  rmse Nullable(Float64),
  mae Nullable(Float64),
  holdout_rmse Float64,
  holdout_mae Float64,
  performance_tolerance Float64,
  performance_verdict String,
  report_path Nullable(String),
  evaluated_at DateTime('UTC')
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_end)
ORDER BY (model_name, model_version, window_end_ms);
