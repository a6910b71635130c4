-- The retraining cycles (consumers/retrain): one row per cycle, written when it ends. `trigger` is
-- drift (retrain_recommended), performance (a degraded verdict) or manual (driftline retrain);
-- `state` is promoted, rejected (the challenger did not beat the champion by
-- RETRAIN_MIN_IMPROVEMENT), refused (a guardrail: cooldown, running, insufficient_labels,
-- stale_version; the guardrail in refusal), dag_triggered (RETRAIN_MODE=airflow started a DAG
-- run, dag_run_id) or failed (error). Scores are RMSE/MAE of champion and challenger on the same
-- recent holdout (NULL when nothing was scored). The cooldown is read from here: the newest
-- started_at_ms of a cycle that trained or started a DAG run.
CREATE TABLE IF NOT EXISTS retrain_runs (
  run_id String,
  model_name String,
  trigger String,
  trigger_event_id String,
  trigger_model_version UInt32,
  trigger_reason String,
  mode String,
  state String,
  refusal String,
  reason String,
  champion_version UInt32,
  challenger_version UInt32,
  champion_rmse Nullable(Float64),
  challenger_rmse Nullable(Float64),
  champion_mae Nullable(Float64),
  challenger_mae Nullable(Float64),
  improvement Nullable(Float64),
  labelled_rows UInt64,
  recent_train_rows UInt64,
  base_rows UInt64,
  holdout_rows UInt64,
  epochs UInt32,
  deployed UInt8,
  dag_run_id String,
  attempts UInt32,
  started_at DateTime('UTC'),
  started_at_ms UInt64,
  finished_at_ms UInt64,
  duration_ms UInt64,
  query_ms UInt64,
  train_ms UInt64,
  evaluate_ms UInt64,
  deploy_ms UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (model_name, started_at_ms, run_id);
