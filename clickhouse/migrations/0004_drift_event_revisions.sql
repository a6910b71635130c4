-- Drift events of partial windows and their revisions (schemas/drift-event.avsc): how many source
-- partitions the window should hold, whether some had not passed it when it was evaluated, the
-- revision (0 for a window's first evaluation, n for its n-th re-evaluation once missing
-- sketches arrived) and how many pane sketches were merged. Rows written before read as
-- complete first evaluations.
--
-- A revision has the same sorting key (model_name, model_version, window_end_ms) as the row it
-- revises, so background merges keep the newest revision of each window (the last inserted);
-- read with FINAL for one row per window, or argMax over (window_end_ms, revision). Every
-- revision stays on the drift-events topic.
--
-- One statement, so the four columns are added together: ClickHouse 18.16 has no
-- ADD COLUMN IF NOT EXISTS, so migrate() (core/migrations.ts) counts an ADD COLUMN statement
-- whose columns all exist as applied; with one statement that is all or nothing.
ALTER TABLE drift_events
  ADD COLUMN sources_expected UInt32 DEFAULT 0,
  ADD COLUMN partial UInt8 DEFAULT 0,
  ADD COLUMN revision UInt32 DEFAULT 0,
  ADD COLUMN sketch_count UInt64 DEFAULT 0;
